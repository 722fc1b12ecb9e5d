"""Student handouts of the notebooks: no solutions, no test scaffolding; and hiding the solutions.

    python -m course.handouts [OUT_DIR]         # default: handouts/ (ignored by git)
    python -m course.handouts --tag-solutions [NOTEBOOK ...]   # in place, outputs untouched

Writes two copies of every notebook, `OUT_DIR/predict/` (all outputs cleared, for a class that
predicts before it runs) and `OUT_DIR/read/` (outputs kept, for reading). In both, each worked
solution (a code cell) becomes a comment-only cell that says what to write, each answer written in
markdown becomes an empty "your answer" cell, notes "For the teacher" (which answer the class's
prediction questions) are left out, and the nbval markers of the test suite are gone. Each ends
with a credit line read from CITATION.cff (title, authors, version, the two licences).
The handouts import `helpers` and load the bundled model like the course notebooks, so they run
wherever the course is installed.

A solution is a cell tagged `solution`; in a notebook with no such tag, every cell after the
markdown line `### Solutions` (the end of each notebook). `--tag-solutions` adds that tag, and the
metadata with which JupyterLab 4 shows a cell collapsed until clicked (`jupyter.source_hidden`,
`jupyter.outputs_hidden` and its classic twin `collapsed`), to the solution cells in place, and
makes each one's first line (all a collapsed cell shows) neutral,
`# Solution to exercise 2 (open the cell to see it)`; what the old line said is kept after it.
For teachers; not used by the lessons (notebooks/TEACHING.md says when to use which handout).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import time
from pathlib import Path

import nbformat

from course._cli import check_notebooks, check_out_folder

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "handouts"  # in .gitignore, so `git pull` keeps working
SOLUTION_TAG = "solution"
SOLUTIONS_HEADING = re.compile(r"^###\s+Solutions\s*$", re.M)
EXERCISE = re.compile(r"^#\s*(?:Solution to )?exercise\s+(\d+)", re.M | re.I)
CHECK = re.compile(r"^#\s*(?:Solution to )?check yourself\s+(\d+\.\d+)", re.M | re.I)
#: What a collapsed solution cell shows (its first line): which exercise, never the answer.
NEUTRAL = "Solution to {what} (open the cell to see it)"
NEUTRAL_LINE = re.compile(
    r"^(?:# |\*)Solution to (exercise \d+(?:, continued)?|check yourself \d+\.\d+)"
    r" \(open the cell to see it\)\*?$"
)
#: An old first line that names the exercise: what follows the colon is kept as a comment.
_OLD_HEAD = re.compile(r"^#\s*(?:Exercise\s+\d+(?:, continued)?|Check yourself\s+\d+\.\d+):?\s*")
NBVAL_MARKER = re.compile(r"^\s*#\s*NBVAL_[A-Z_]+\s*$")
NBVAL_TAGS = {"nbval-ignore-output", "nbval-skip", "nbval-check-output", "raises-exception"}
TEACHER_NOTE = re.compile(r"\A\s*#+\s*For the teacher")  # the answers to the class's questions
NEXT = re.compile(r"^\*\*Next:?\*\*", re.M)  # "**Next:** notebook 02 ..." is no answer: kept
VARIANTS = {"predict": False, "read": True}  # folder: outputs kept?
CITATION = ROOT / "CITATION.cff"
#: What each licence of CITATION.cff covers, and where its terms are (LICENSE-CONTENT.md)
LICENCE_PARTS = {
    "CC-BY-4.0": ("text and figures", "CC BY 4.0, https://creativecommons.org/licenses/by/4.0/"),
    "MIT": ("code", "MIT, the course's LICENSE file"),
}
CREDIT_ID = "credit"


def _cff_field(text: str, key: str) -> list[str]:
    """A top-level field of CITATION.cff: [its scalar] or its list items (`- x`, `- name: x`);
    [] when absent. Enough for the fields read here, without a YAML package."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith(f"{key}:"):
            continue
        value = line.split(":", 1)[1].strip()
        if value:
            return [value.strip('"')]
        items = []
        for item in lines[i + 1 :]:
            if item.strip() and not item.startswith((" ", "#")):
                break
            m = re.match(r"^  - (?:name: )?(.+)$", item)
            if m:
                items.append(m.group(1).strip().strip('"'))
        return items
    return []


def credit_line(citation: Path = CITATION) -> str:
    """The credit every handout carries (CC BY asks for it), from CITATION.cff: title, authors,
    version, what each licence covers, and the repository's address when CITATION.cff has one."""
    text = Path(citation).read_text(encoding="utf-8")
    title, authors, version = (_cff_field(text, k) for k in ("title", "authors", "version"))
    licences = _cff_field(text, "license")
    if not (title and authors and version and licences):
        raise ValueError(f"{citation} lacks a title, authors, version or license")
    unknown = sorted(set(licences) - set(LICENCE_PARTS))
    if unknown:
        raise ValueError(f"{citation}: licence {unknown} is not one of {sorted(LICENCE_PARTS)}")
    terms = "; ".join(
        f"{LICENCE_PARTS[x][0]}: {LICENCE_PARTS[x][1]}" for x in LICENCE_PARTS if x in licences
    )
    line = f'From "{title[0]}", version {version[0]}, by {" and ".join(authors)}. '
    line += f"{terms[0].upper()}{terms[1:]}."
    address = _cff_field(text, "repository-code")
    return line + (f" Source: {address[0]}" if address else "")


def credit_cell(citation: Path = CITATION):
    cell = nbformat.v4.new_markdown_cell(f"---\n*{credit_line(citation)}*")
    cell.id = CREDIT_ID
    return cell


def solutions_start(nb) -> int | None:
    """Index of the first cell after the markdown cell with the `### Solutions` heading."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and SOLUTIONS_HEADING.search(cell.source):
            return i + 1
    return None


def solution_indices(nb) -> list[int]:
    """Cells that hold worked solutions: tagged `solution`, or else after `### Solutions`."""
    tagged = [i for i, c in enumerate(nb.cells) if SOLUTION_TAG in c.metadata.get("tags", [])]
    if tagged:
        return tagged
    start = solutions_start(nb)
    return [] if start is None else list(range(start, len(nb.cells)))


def solution_summary(source: str, last_exercise: str | None) -> str:
    """What a solution cell solves, for its neutral first line: "exercise 2", "exercise 2,
    continued" (a cell that names no exercise after one that did) or "check yourself 00.1"."""
    head = next((ln for ln in source.splitlines() if not NBVAL_MARKER.match(ln)), "")
    m = NEUTRAL_LINE.match(head.strip())
    if m:
        return m.group(1)
    m = CHECK.match(head)
    if m:
        return f"check yourself {m.group(1)}"
    m = EXERCISE.match(head)
    if m:
        return f"exercise {m.group(1)}" + (", continued" if "continued" in head else "")
    return f"exercise {last_exercise}, continued" if last_exercise else "the exercise above"


def neutral_first_line(cell, what: str) -> None:
    """Make the cell's first line (after nbval markers) the neutral one; what the old first line
    said beyond the exercise's number is kept on the next line."""
    lines = cell.source.splitlines()
    markers = []
    while lines and NBVAL_MARKER.match(lines[0]):
        markers.append(lines.pop(0))
    if cell.cell_type == "code":
        neutral = "# " + NEUTRAL.format(what=what)
        if lines and NEUTRAL_LINE.match(lines[0].strip()):
            lines.pop(0)
        elif lines and _OLD_HEAD.match(lines[0]):
            rest = _OLD_HEAD.sub("", lines.pop(0)).strip()
            if rest:
                lines.insert(0, f"# {rest}")
        lines = [neutral, *lines]
    else:  # markdown: an emphasised paragraph of its own (a `#` would make it a heading)
        neutral = "*" + NEUTRAL.format(what=what) + "*"
        if lines and NEUTRAL_LINE.match(lines[0].strip()):
            lines = lines[2:] if len(lines) > 1 and not lines[1].strip() else lines[1:]
        lines = [neutral, "", *lines]
    cell.source = "\n".join(markers + lines)


def tag_solutions(nb) -> int:
    """Tag the solution cells, give each the neutral first line that a collapsed cell shows, and
    collapse them in JupyterLab; outputs untouched. Returns the count."""
    indices = solution_indices(nb)
    last_exercise = None
    for i in indices:
        cell = nb.cells[i]
        what = solution_summary(cell.source, last_exercise)
        m = re.match(r"exercise (\d+)", what)
        last_exercise = m.group(1) if m else last_exercise
        neutral_first_line(cell, what)
        tags = cell.metadata.setdefault("tags", [])
        if SOLUTION_TAG not in tags:
            tags.append(SOLUTION_TAG)
        hidden = cell.metadata.setdefault("jupyter", {})
        hidden["source_hidden"] = True
        if cell.cell_type == "code":  # JupyterLab 4 keeps `collapsed` == `outputs_hidden`
            hidden["outputs_hidden"] = True
            cell.metadata["collapsed"] = True
    return len(indices)


def strip_test_scaffolding(cell) -> None:
    """Drop nbval's marker lines and tags."""
    if cell.cell_type == "code":
        lines = [ln for ln in cell.source.splitlines() if not NBVAL_MARKER.match(ln)]
        cell.source = "\n".join(lines)
    tags = [t for t in cell.metadata.get("tags", []) if t not in NBVAL_TAGS]
    if tags:
        cell.metadata["tags"] = tags
    else:
        cell.metadata.pop("tags", None)


def exercise_placeholder(number: str | None, cell_id: str):
    text = f"Exercise {number}" if number else "The exercise above"
    cell = nbformat.v4.new_code_cell(f"# {text}: write your code here, then run the cell.\n")
    cell.id = cell_id
    return cell


def answer_placeholder(source: str, cell_id: str) -> list:
    """An empty cell for an answer in words; a `**Next:**` paragraph is kept after it."""
    cell = nbformat.v4.new_markdown_cell("*Your answer in words (double-click to write):*\n\n")
    cell.id = cell_id
    cells = [cell]
    m = NEXT.search(source)
    if m:
        cells.append(nbformat.v4.new_markdown_cell(source[m.start() :]))
        cells[-1].id = f"{cell_id}-next"[:64]
    return cells


def handout(nb, keep_outputs: bool, citation: Path = CITATION):
    """A student copy of one notebook (the original is not changed), ending with the credit."""
    nb = copy.deepcopy(nb)
    solutions = set(solution_indices(nb))
    cells, last_exercise = [], None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and TEACHER_NOTE.match(cell.source):
            continue  # notes for the teacher give away what the students are asked to predict
        if i not in solutions:
            cells.append(cell)
            continue
        if cell.cell_type == "markdown":
            cells += answer_placeholder(cell.source, cell.id)
            continue
        m = EXERCISE.search(cell.source)
        number = m.group(1) if m else None
        continued = number is None or number == last_exercise
        if continued and last_exercise is not None and cells[-1].cell_type == "code":
            continue  # the rest of the same exercise's solution: one empty cell is enough
        last_exercise = number
        cells.append(exercise_placeholder(number, cell.id))
    for cell in cells:
        cell.metadata.pop("jupyter", None)
        cell.metadata.pop("collapsed", None)
        if cell.metadata.get("tags") and SOLUTION_TAG in cell.metadata["tags"]:
            cell.metadata["tags"].remove(SOLUTION_TAG)
        strip_test_scaffolding(cell)
        if cell.cell_type == "code" and not keep_outputs:
            cell.outputs, cell.execution_count = [], None
    for cell in cells:  # the Solutions heading now announces the student's own answers
        if cell.cell_type == "markdown":
            cell.source = SOLUTIONS_HEADING.sub("### Your answers", cell.source)
    nb.cells = [*cells, credit_cell(citation)]
    if not keep_outputs:
        nb.metadata.pop("widgets", None)  # saved widget state is an output too
    return nb


def build(out_dir: Path = DEFAULT_OUT, notebooks: list[Path] | None = None) -> list[Path]:
    """Write both variants of every notebook under out_dir; returns the files written."""
    notebooks = notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    written = []
    for folder, keep in VARIANTS.items():
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
        for path in notebooks:
            target = out_dir / folder / path.name
            nbformat.write(handout(nbformat.read(path, as_version=4), keep), target)
            written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course.handouts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="OUT_DIR (default handouts/); with --tag-solutions: notebooks",
    )
    parser.add_argument(
        "--tag-solutions",
        action="store_true",
        help="tag and collapse the solution cells of the notebooks in place",
    )
    args = parser.parse_args(argv)
    if args.tag_solutions:
        for path in check_notebooks(parser, args.paths) or sorted(
            NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")
        ):
            nb = nbformat.read(path, as_version=4)
            n = tag_solutions(nb)
            nbformat.write(nb, path)
            print(f"{path.name}: {n} solution cells tagged and collapsed")
        return 0
    if len(args.paths) > 1:
        parser.error("give one OUT_DIR")
    out = check_out_folder(parser, args.paths[0] if args.paths else DEFAULT_OUT, "handouts")
    t0 = time.perf_counter()
    written = build(out)
    print(
        f"{len(written)} handouts written to {out}/ ({', '.join(VARIANTS)}) in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
