"""Minutes per notebook, in class and alone, from what there is to read (notebooks/TEACHING.md).

    python benchmarks/bench_reading.py

Counts, per notebook, the words of markdown and the lines of code (blank and comment-only lines
left out) of the lesson and of the worked solutions, then turns them into minutes with the rates
below. The run time of the cells is added from `benchmarks/bench_memory.py` (wall seconds), given
here as RUN_SECONDS. These are estimates from counts and stated rates, not classroom observations:
correct the rates when you have timed a class.
"""

import re
from pathlib import Path

import nbformat

from course.handouts import solutions_start

ROOT = Path(__file__).resolve().parent.parent

# Rates. Silent reading of expository prose runs ~240 words/min for adults (Brysbaert 2019,
# non-fiction); a learner reading technical prose with formulas is slower: 150. A teacher
# explaining aloud: 130 words/min (a usual lecture pace). Code: a learner reads and runs a line
# in 6 s (10 lines/min); a teacher walks through a shown line in 3 s. Exercises: writing the
# worked solution's code takes a learner about 1 minute per line, thinking included.
READ_WPM, SPEAK_WPM = 150, 130
READ_CODE_S, SHOW_CODE_S = 6, 3
WRITE_CODE_S = 60
PREDICTION_STOP_S = 120  # a question, guesses on the board, the cell run, the answer discussed
PREDICTION_STOPS = {"00": 2, "01": 3, "02": 3, "03": 3, "04": 3, "05": 3, "06": 3, "07": 2, "08": 3}
# wall seconds to run each notebook top to bottom (bench_memory.py, idle 2-core course machine)
RUN_SECONDS = {
    "00": 7,
    "01": 11,
    "02": 7,
    "03": 15,
    "04": 15,
    "05": 12,
    "06": 12,
    "07": 6,
    "08": 11,
}


def words(text: str) -> int:
    text = re.sub(r"```.*?```", " ", text, flags=re.S)  # fenced code counts as code, not prose
    return len(re.findall(r"[\w\u4e00-\u9fff]+", text))


def code_lines(text: str) -> int:
    return sum(1 for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#"))


def counts(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    start = solutions_start(nb) or len(nb.cells)
    lesson, solutions = nb.cells[:start], nb.cells[start:]
    return {
        "lesson_words": sum(words(c.source) for c in lesson if c.cell_type == "markdown"),
        "lesson_code": sum(code_lines(c.source) for c in lesson if c.cell_type == "code"),
        "solution_code": sum(code_lines(c.source) for c in solutions if c.cell_type == "code"),
        "exercises": len(re.findall(r"^\d+\.", lesson[-1].source.split("## Exercises")[-1], re.M)),
    }


def minutes(nn: str, c: dict) -> dict:
    run = RUN_SECONDS[nn]
    alone = (
        c["lesson_words"] / READ_WPM * 60
        + c["lesson_code"] * READ_CODE_S
        + run
        + c["solution_code"] * WRITE_CODE_S
    ) / 60
    in_class = (
        c["lesson_words"] / SPEAK_WPM * 60
        + c["lesson_code"] * SHOW_CODE_S
        + run
        + PREDICTION_STOPS[nn] * PREDICTION_STOP_S
    ) / 60
    return {"in_class": in_class, "alone": alone}


def main():
    print("notebook | words | code lines | solution lines | exercises | class min | alone min")
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        c = counts(path)
        m = minutes(path.name[:2], c)
        print(
            f"{path.stem} | {c['lesson_words']} | {c['lesson_code']} | {c['solution_code']} | "
            f"{c['exercises']} | {m['in_class']:.0f} | {m['alone']:.0f}"
        )


if __name__ == "__main__":
    main()


def sections(path: Path) -> list[tuple[str, str, float]]:
    """(first cell id, heading, class minutes without stops or run time) per `## ` section."""
    nb = nbformat.read(path, as_version=4)
    out = []
    for cell in nb.cells[: solutions_start(nb) or len(nb.cells)]:
        heads = [ln for ln in cell.source.splitlines() if ln.startswith("## ")]
        if cell.cell_type == "markdown" and heads:
            out.append([cell.id, heads[0][3:], 0.0])
        if not out:
            continue
        if cell.cell_type == "markdown":
            out[-1][2] += words(cell.source) / SPEAK_WPM
        else:
            out[-1][2] += code_lines(cell.source) * SHOW_CODE_S / 60
    return [tuple(s) for s in out]


if __name__ == "__main__":
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        print(path.stem, "; ".join(f"{h[:28]} [{i}] {m:.0f}" for i, h, m in sections(path)))
