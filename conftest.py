"""Repository-wide pytest set-up, loaded from whichever folder of the repository pytest starts.

- Notebook outputs are compared to the precision they are printed with
  (``tests/nbval_precision.py``; the rule is in tests/README.md).
- ``python -m pytest`` with no arguments runs the whole suite from any folder of the repository
  (pytest alone would collect only the current folder), and the sanitizer file named in
  pyproject.toml is found from there too.
- Only the lessons are collected as notebooks: handouts written into the course are not, and
  the Chinese edition (notebooks/zh/) only when the command line names it.
"""

import re
from pathlib import Path

import pytest

pytest_plugins = ["tests.nbval_precision"]


def pytest_configure(config):
    root = config.rootpath
    if config.args_source == pytest.Config.ArgsSource.INVOCATION_DIR and Path.cwd() != root:
        config.args = [str(root / p) for p in config.getini("testpaths")]
        print(f"pytest: running the whole suite of {root.name}/ (started in a subfolder)")
    for option in ("nbval_sanitize_with", "sanitize_with"):  # nbval 0.11's name, and the old one
        sanitize = getattr(config.option, option, None)
        if sanitize and not Path(sanitize).is_file() and (root / sanitize).is_file():
            setattr(config.option, option, str(root / sanitize))


def pytest_ignore_collect(collection_path, config):
    """Only the lessons (notebooks/NN_name.ipynb) are notebooks to test: handouts or copies
    written inside the course folder (``python -m course.handouts notebooks``, a student's own
    notebook) are not lessons and have no outputs to compare."""
    if collection_path.suffix != ".ipynb":
        return None
    try:
        inside = collection_path.relative_to(config.rootpath)
    except ValueError:  # a notebook outside the course (a test's temporary one): pytest decides
        return None
    lesson = inside.parent == Path("notebooks") and re.match(r"\d\d_", inside.name)
    chinese = inside.parent == Path("notebooks/zh") and re.match(r"\d\d_", inside.name)
    if chinese:  # the Chinese edition: when asked for (`python -m pytest notebooks/zh`, .ci/run)
        return None if _named(config, config.rootpath / "notebooks" / "zh") else True
    return None if lesson else True


def _named(config, folder: Path) -> bool:
    """Whether the command line names ``folder`` or something inside it."""
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == folder or folder in path.parents:
            return True
    return False
