"""What every command of the course checks at its door: one line and exit status 2, no traceback."""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Folders a command must never write into: the lessons (pytest would collect what lands there)
#: and the shipped models (only ``course.build --overwrite`` replaces those).
PROTECTED = {"notebooks": ROOT / "notebooks", "tests": ROOT / "tests"}


def check_out_folder(parser: argparse.ArgumentParser, out: Path, what: str) -> Path:
    """``out`` as a folder to write ``what`` into: not a file, no file among its parents, not
    inside the course's notebooks/ or tests/ (where the test suite would pick the files up)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        parser.error(f"{out} is a file, not a folder: give a folder to write the {what} to")
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            parser.error(f"{out}: {parent} is a file, so no folder can be made inside it")
    resolved = out.resolve()
    for name, folder in PROTECTED.items():
        if resolved == folder or folder in resolved.parents:
            parser.error(
                f"{out} is inside the course's {name}/ folder: write the {what} somewhere else "
                "(the test suite runs what lies there as part of the course)"
            )
    return out


def check_notebooks(parser: argparse.ArgumentParser, paths: list[Path]) -> list[Path]:
    """Each path an existing ``.ipynb`` file."""
    for path in paths:
        if not Path(path).is_file():
            parser.error(f"{path}: no such notebook file")
        if Path(path).suffix != ".ipynb":
            parser.error(f"{path} is not a notebook (a .ipynb file)")
    return paths
