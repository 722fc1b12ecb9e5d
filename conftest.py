"""Repository-wide pytest set-up, loaded from whichever folder of the repository pytest starts.

- Notebook outputs are compared to the precision they are printed with
  (``tests/nbval_precision.py``; the rule is in tests/README.md).
- ``python -m pytest`` with no arguments runs the whole suite from any folder of the repository
  (pytest alone would collect only the current folder), and the sanitizer file named in
  pyproject.toml is found from there too.
"""

from pathlib import Path

import pytest

pytest_plugins = ["tests.nbval_precision"]


def pytest_configure(config):
    root = config.rootpath
    if config.args_source == pytest.Config.ArgsSource.INVOCATION_DIR and Path.cwd() != root:
        config.args = [str(root / p) for p in config.getini("testpaths")]
        print(f"pytest: running the whole suite of {root.name}/ (started in a subfolder)")
    sanitize = getattr(config.option, "sanitize_with", None)
    if sanitize and not Path(sanitize).is_file() and (root / sanitize).is_file():
        config.option.sanitize_with = str(root / sanitize)
