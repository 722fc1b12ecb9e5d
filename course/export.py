"""Notebooks as HTML files that work offline: ``python -m course.export NOTEBOOK... [--out DIR]``.

nbconvert's own HTML export (``jupyter nbconvert --to html``) loads require.js, MathJax and a
widget manager from CDNs, and shows each figure's PNG as "No description has been provided for
this image". This command wraps the same exporter (the lab template) and writes, for each
notebook, ``DIR/NAME.html`` (default ``export/``, not committed), a single file to open or send:

- nothing is loaded from outside the file (the command fails if a URL is left; the checks and
  the clean-up are those of the course site, ``course/site.py``);
- each figure is its stored PNG with the figure's description as alt text (no script needed);
- live widgets are replaced by their static copy;
- every worked solution is folded behind a click (``<details>``): "Solution to exercise 2".

Nothing is executed: the page shows the stored outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from course import site
from course._cli import check_notebooks, check_out_folder

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "export"  # in .gitignore


def export(path: Path) -> tuple[str, int]:
    """The offline HTML of one stored notebook and its number of figures."""
    nb = nbformat.read(path, as_version=4)
    page, figures = site.notebook_html(nb, site.notebook_title(nb, path.stem), interactive=False)
    site.check_offline(page, path.name)
    return page, figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course.export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("notebooks", nargs="+", type=Path, help="the .ipynb files to export")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="folder to write to (default: export/)"
    )
    args = parser.parse_args(argv)
    paths = check_notebooks(parser, args.notebooks)
    out = check_out_folder(parser, args.out, "HTML pages")
    out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        page, figures = export(path)
        target = out / f"{path.stem}.html"
        target.write_text(page, encoding="utf-8")
        print(f"{target}: {figures} figures, {len(page) // 1024} KiB, nothing loaded from outside")
    return 0


if __name__ == "__main__":
    sys.exit(main())
