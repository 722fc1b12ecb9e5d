"""Every notebook opens in Google Colab: a link to open it there, and a first code cell that sets
Colab up for the course (for students who study alone, or whose laptop cannot install torch).

    python -m course.colab                    # every notebook in notebooks/ (and notebooks/zh/)
    python -m course.colab notebooks/02_decoding_widget.ipynb

Each notebook gets two cells with fixed ids, inserted the first time and updated in place after:
- `colab-badge` (markdown, the notebook's first cell): an "Open in Colab" link to this
  notebook in the course's repository. A plain link, not Colab's badge image: the offline site
  and the exports load nothing from outside.
- `colab-setup` (code, just before the notebook's first code cell): `COLAB_CELL`. It does
  nothing outside Colab. In Colab it fetches the course (git clone), installs
  requirements-colab.txt (the course's pins without torch, JupyterLab and ipykernel, so Colab's
  own torch, front end and kernel stay) and the course's helpers without their dependencies,
  then works from the course's notebooks/ folder. Plotly's renderer is left to Colab
  (helpers.setup_notebook does not set one there).

The repository's address is read from one place: `repository-code` in CITATION.cff. While the
course has no public address the command refuses to write and says so.
For maintainers; not used by the lessons.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from course._cli import check_notebooks

ROOT = Path(__file__).resolve().parent.parent
CITATION = ROOT / "CITATION.cff"
BADGE_ID = "colab-badge"
SETUP_ID = "colab-setup"
CELL_IDS = (BADGE_ID, SETUP_ID)
COLAB_DIR = "/content/course"
GITHUB = re.compile(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?")
COLAB_CELL = """\
# In Google Colab only (elsewhere this cell does nothing): fetch the course, install what it
# needs beside Colab's own torch, and work from its notebooks/ folder.
import sys
if "google.colab" in sys.modules:
    import os, subprocess
    COURSE = "{colab_dir}"
    if not os.path.isdir(COURSE):
        subprocess.run(["git", "clone", "--depth=1", "{repository}", COURSE], check=True)
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["-r", f"{{COURSE}}/requirements-colab.txt"], check=True)
    subprocess.run(pip + ["--no-deps", "-e", COURSE], check=True)  # torch stays Colab's
    sys.path.insert(0, COURSE)
    os.chdir(f"{{COURSE}}/notebooks/{subfolder}")
    if "numpy" in sys.modules and sys.modules["numpy"].__version__ != "{numpy}":
        print("numpy was updated: Runtime -> Restart session, then run this cell again")
"""


def repository_address(citation: Path = CITATION) -> str | None:
    """`repository-code` of CITATION.cff, or None while the course names no address."""
    if not Path(citation).is_file():
        return None
    m = re.search(r"^repository-code:\s*[\"']?([^\"'\s#]+)", Path(citation).read_text(), re.M)
    return m.group(1) if m else None


def pinned(name: str, requirements: Path = ROOT / "requirements.txt") -> str:
    m = re.search(rf"^{re.escape(name)}==(\S+)", Path(requirements).read_text(), re.M)
    if not m:
        raise ValueError(f"{requirements} pins no {name}")
    return m.group(1)


def colab_url(repository: str, notebook: str, branch: str = "main") -> str:
    m = GITHUB.fullmatch(repository)
    if not m:
        raise ValueError(
            f"repository-code {repository!r} is not a GitHub address "
            "(https://github.com/OWNER/NAME): Colab opens notebooks from GitHub"
        )
    owner, name = m.groups()
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/{notebook}"


def badge_source(url: str) -> str:
    return (
        f"[Open in Colab]({url}) · runs this notebook in Google Colab, nothing to install: "
        "run its first code cell first (it sets Colab up for the course; elsewhere it does "
        "nothing)."
    )


def setup_source(repository: str, subfolder: str = "") -> str:
    return COLAB_CELL.format(
        colab_dir=COLAB_DIR,
        repository=repository,
        subfolder=subfolder,
        numpy=pinned("numpy"),
    )


def add_colab_cells(nb, repository: str, notebook: str, branch: str = "main") -> bool:
    """Insert or update the two cells of `nb` (`notebook`: its path in the repository, posix).
    Returns whether anything changed."""
    subfolder = str(Path(notebook).parent.relative_to("notebooks")).replace(".", "")
    wanted = {
        BADGE_ID: badge_source(colab_url(repository, notebook, branch)),
        SETUP_ID: setup_source(repository, subfolder),
    }
    changed = False
    by_id = {cell.get("id"): cell for cell in nb.cells}
    for cell_id, source in wanted.items():
        cell = by_id.get(cell_id)
        if cell is not None:
            if cell.source != source:
                cell.source, changed = source, True
            continue
        changed = True
        if cell_id == BADGE_ID:
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(source, id=BADGE_ID))
        else:
            new = nbformat.v4.new_code_cell(source, id=SETUP_ID)
            first_code = next(
                (i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells)
            )
            nb.cells.insert(first_code, new)
    return changed


def without_colab_cells(nb):
    """The notebook as the lesson is, without the two Colab cells (for the notebook checks)."""
    nb = nbformat.from_dict(nb)
    nb.cells = [c for c in nb.cells if c.get("id") not in CELL_IDS]
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course.colab",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson")
    parser.add_argument("--branch", default="main", help="the branch Colab opens (default: main)")
    parser.add_argument(
        "--citation", type=Path, default=CITATION, help="where the address is read from"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)  # tests
    args = parser.parse_args(argv)
    root = args.root.resolve()
    paths = args.notebooks or sorted(
        [*root.glob("notebooks/[0-9][0-9]_*.ipynb"), *root.glob("notebooks/zh/[0-9][0-9]_*.ipynb")]
    )
    check_notebooks(parser, paths)
    if not re.fullmatch(r"[\w./-]+", args.branch):
        parser.error(f"--branch {args.branch!r}: a branch name such as main")
    repository = repository_address(args.citation)
    if repository is None:
        parser.error(
            f"{args.citation} names no repository-code: the course has no public address yet. "
            "Add the line `repository-code: https://github.com/OWNER/NAME` to CITATION.cff, "
            "then run this again (the Colab cell clones from there and the link opens there)"
        )
    try:
        colab_url(repository, "notebooks/x.ipynb")
    except ValueError as err:
        parser.error(str(err))
    for path in paths:
        path = Path(path).resolve()
        try:
            relative = path.relative_to(root / "notebooks")
        except ValueError:
            parser.error(f"{path} is not inside the course's notebooks/ folder")
        nb = nbformat.read(path, as_version=4)
        changed = add_colab_cells(nb, repository, f"notebooks/{relative.as_posix()}", args.branch)
        if changed:
            nbformat.write(nb, path)
        print(f"{'updated' if changed else 'unchanged'}: {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
