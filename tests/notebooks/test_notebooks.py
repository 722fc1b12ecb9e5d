"""Structure every lesson notebook keeps (nbval itself executes and compares them)."""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from helpers.plots import figure_alt

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def is_compared(cell):
    """Whether nbval compares this cell's output, decided by nbval's own marker parser."""
    from nbval.plugin import find_comment_markers

    markers = dict(find_comment_markers(cell.source))
    tags = cell.get("metadata", {}).get("tags", [])
    ignored_by_tag = any(
        t in ("nbval-ignore-output", "nbval-skip", "raises-exception") for t in tags
    )
    return markers.get("check", True) and "skip" not in markers and not ignored_by_tag


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no lesson"


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def nb(request):
    """The lesson as written: without the two cells `python -m course.colab` adds (a link to
    Colab, and a first code cell that does nothing outside Colab)."""
    from course.colab import without_colab_cells

    return without_colab_cells(nbformat.read(request.param, as_version=4))


def test_three_quarters_of_code_cells_are_compared(nb):
    cells = code_cells(nb)
    compared = [c for c in cells if is_compared(c)]
    assert len(compared) >= 0.75 * len(cells), f"{len(compared)} of {len(cells)} compared"


def test_no_skipped_cells_or_lax_markers(nb):
    for cell in code_cells(nb):
        assert "NBVAL_SKIP" not in cell.source
        assert "NBVAL_CHECK_OUTPUT" not in cell.source  # only meaningful in lax mode


def test_first_code_cell_sets_up_the_notebook(nb):
    assert "setup_notebook(" in code_cells(nb)[0].source


def test_outputs_are_stored_and_clean(nb):
    cells = code_cells(nb)
    assert all(c.get("execution_count") for c in cells), "store outputs from a full run"
    for cell in cells:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", cell.source[:80]
            text = str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", ""))
            assert not re.search(r"/(work|root|home|Users|tmp)/", text), "absolute path in output"
            assert out.get("name") != "stderr", f"stderr output in: {cell.source[:80]}"


def test_no_execution_timestamps_stored(nb):
    stamped = [c for c in nb.cells if "execution" in c.get("metadata", {})]
    assert not stamped, "store outputs with tests/store_outputs.py (it drops the timestamps)"


def test_opens_with_goals_and_ends_with_summary_and_exercises(nb):
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    head = "\n".join(md[:2]).lower()
    assert "goal" in head and "prerequisite" in head
    tail = "\n".join(md).lower()
    assert "## summary" in tail and "## exercises" in tail
    assert "solution" in tail


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"`{path.stem}`" in readme, f"{path.name} missing from README's table"


def test_every_figure_has_a_png_beside_it(nb):
    """GitHub's preview, nbviewer and nbconvert show only the PNG (tests/store_outputs.py)."""
    for cell in code_cells(nb):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "application/vnd.plotly.v1+json" in data:
                assert "image/png" in data, f"a figure without its PNG in: {cell.source[:80]}"
                # its alt text: the figure's title and what it shows (tests/store_outputs.py)
                alt = out.get("metadata", {}).get("image/png", {}).get("alt", "")
                assert alt == figure_alt(data["application/vnd.plotly.v1+json"]), cell.source[:80]
                assert not alt.startswith("Figure."), (
                    f"a figure without a title: {cell.source[:80]}"
                )


def test_solutions_are_tagged_and_hidden_until_asked_for(nb):
    """Cells after '### Solutions' are tagged `solution` and collapsed in JupyterLab."""
    start = next(i for i, c in enumerate(nb.cells) if "### Solutions" in c.source)
    solutions = [c for c in nb.cells[start + 1 :] if c.cell_type == "code"]
    assert solutions, "no worked solution after '### Solutions'"
    for cell in solutions:
        assert "solution" in cell.metadata.get("tags", []), cell.source[:60]
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, cell.source[:60]


DECIMAL = re.compile(r"(?<![\w.:])\d+\.\d{2,}(?![\d])")  # 0.58, 4.2933: a measured value


def stored_numbers(nb) -> set[str]:
    """Every decimal number in a notebook's code and stored outputs, also rounded to fewer
    decimals (the prose may say 0.58 for a printed 0.5777)."""
    parts = []
    for c in code_cells(nb):
        parts.append(c.source)
        for out in c.get("outputs", []):
            parts.append(str(out.get("text", "")))
            for mime in ("text/plain", "text/html", "text/markdown"):
                parts.append(str(out.get("data", {}).get(mime, "")))
    numbers = set()
    for s in re.findall(r"\d+\.\d+", "\n".join(parts)):
        numbers |= {f"{float(s):.{d}f}" for d in range(2, len(s.split(".")[1]) + 1)}
    return numbers


def test_measured_numbers_in_the_prose_are_in_the_outputs(nb):
    """A number with two or more decimals in the text must be printed by a cell (or be in the
    code), so re-storing the outputs (another model, another torch) cannot leave the prose stale."""
    stored = stored_numbers(nb)
    stale = [
        f"{m.group()} in {' '.join(c.source[max(0, m.start() - 50) : m.end()].split())!r}"
        for c in nb.cells
        if c.cell_type == "markdown"
        for m in DECIMAL.finditer(c.source)
        if m.group() not in stored
    ]
    assert not stale, f"numbers in the text that no cell prints: {stale}"


def _undone_on_any_exit(tree) -> set[int]:
    """ids of every AST node in a ``finally:`` block or in a context manager's ``__exit__``."""
    inside = set()
    for node in ast.walk(tree):
        blocks = node.finalbody if isinstance(node, ast.Try) else []
        if isinstance(node, ast.FunctionDef) and node.name == "__exit__":
            blocks = node.body
        for stmt in blocks:
            inside |= {id(n) for n in ast.walk(stmt)}
    return inside


def temporary_changes_left_open(source: str) -> list[str]:
    """What a cell changes for a while and would leave changed if interrupted: a hook whose
    ``.remove()`` is not in a ``finally:`` (or an ``__exit__``), a setter called again (to undo
    it) outside one."""
    tree = ast.parse(source)
    safe = _undone_on_any_exit(tree)
    calls = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Call)),
        key=lambda n: (n.lineno, n.col_offset),
    )

    def name(call):
        return getattr(call.func, "attr", getattr(call.func, "id", ""))

    problems = []
    for node in ast.walk(tree):  # h = m.register_forward_hook(...): h.remove() undone safely
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and name(node.value).startswith("register_forward")
        ):
            handle = ast.unparse(node.targets[0])
            removes = [
                c
                for c in calls
                if name(c) == "remove"
                and isinstance(c.func, ast.Attribute)
                and ast.unparse(c.func.value) == handle
            ]
            if not removes or not all(id(c) in safe for c in removes):
                problems.append(f"{handle}.remove() not in a finally: block")
    for setter in ("set_attn_implementation", "set_num_threads"):
        undo = [c for c in calls if name(c) == setter][1:]  # the first sets, later ones undo
        problems += [f"{setter} undone outside a finally: block" for c in undo if id(c) not in safe]
    return problems


def test_temporary_changes_are_undone_on_any_exit(nb):
    """An interrupted cell (Kernel -> Interrupt) must not leave a hook on the model, another
    attention implementation or another thread count behind: undo them in a `finally:`, or use
    a `with` block (helpers.models.attention_implementation, helpers.timing.torch_threads)."""
    left = {c.id: p for c in code_cells(nb) if (p := temporary_changes_left_open(c.source))}
    assert not left, left


@pytest.mark.parametrize(
    "source, problems",
    [
        ("h = m.register_forward_hook(f)\nm(x)\nh.remove()", 1),
        ("h = m.register_forward_hook(f)\ntry:\n    m(x)\nfinally:\n    h.remove()", 0),
        ("torch.set_num_threads(4)\nrun()\ntorch.set_num_threads(1)", 1),
        ("torch.set_num_threads(1)", 0),  # a notebook's one setting, for good
        (
            "class C:\n    def __enter__(self):\n        self.h = m.register_forward_hook(f)\n"
            "    def __exit__(self, *e):\n        self.h.remove()",
            0,
        ),  # a context manager
        (
            "m.set_attn_implementation('eager')\ntry:\n    run()\nfinally:\n"
            "    m.set_attn_implementation('sdpa')",
            0,
        ),
    ],
)
def test_the_scan_finds_changes_left_open(source, problems):
    assert len(temporary_changes_left_open(source)) == problems
