"""Every cell of every lesson can be run twice in a row (a student's favourite accident).

Each code cell (the worked solutions aside) is executed, then at once again, in one kernel; no
cell may fail, neither the repeat nor the cells after it. The notebooks take about twice their
usual time, so this is marked `rerun` and run by .ci/run (tests/README.md, "What runs where").
"""

import copy
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

pytestmark = pytest.mark.rerun


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_cell_runs_twice_in_a_row(path):
    nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type == "code" and "solution" not in cell.metadata.get("tags", []):
            again = copy.deepcopy(cell)
            again.id = f"{cell.id}-again"
            cells.append(again)
    nb.cells = cells
    NotebookClient(
        nb, timeout=600, allow_errors=True, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [
        f"{c.id}: {o['ename']}: {o['evalue'][:200]}"
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, errors
