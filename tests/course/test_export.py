"""`python -m course.export`: one notebook as one HTML file that loads nothing from outside,
shows each figure's stored PNG with its description, and folds every solution behind a click."""

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course import export, handouts, site
from helpers.plots import figure_alt
from tests._html import outside_references, recording_page

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
#: 00: the smallest; 02: the decoding widget, with its static copy.
SAMPLES = [NOTEBOOKS / "00_setup_and_tour.ipynb", NOTEBOOKS / "02_decoding_widget.ipynb"]


@pytest.fixture(scope="module")
def pages():
    return {path.stem: export.export(path) for path in SAMPLES}


def figures(nb):
    outs = [o for c in nb.cells for o in c.get("outputs", [])]
    return [o["data"][site.PLOTLY_MIME] for o in outs if site.PLOTLY_MIME in o.get("data", {})]


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_the_page_loads_nothing_from_outside(pages, path):
    page, _ = pages[path.stem]
    assert outside_references(page) == []  # one file: nothing beside it either


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_figures_are_the_stored_pngs_with_their_description(pages, path):
    page, count = pages[path.stem]
    nb = nbformat.read(path, as_version=4)
    stored = figures(nb)
    assert count == len(stored) > 0
    alts = [html.unescape(a) for a in re.findall(r'<img alt="([^"]*)" src="data:image/png', page)]
    assert alts == [figure_alt(f) for f in stored]
    assert "No description has been provided" not in page
    assert "Plotly.newPlot" not in page  # a static page: no script needed to see a figure


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_solutions_are_folded_and_the_title_is_the_heading(pages, path):
    page, _ = pages[path.stem]
    nb = nbformat.read(path, as_version=4)
    cells = [nb.cells[i] for i in handouts.solution_indices(nb)]
    folded = re.findall(
        r'<details class="solution"><summary>(.*?)</summary>(.*?)</details>', page, re.S
    )
    assert len(folded) == len(cells) > 0
    for (summary, inside), cell in zip(folded, cells, strict=True):
        assert summary.startswith("Solution to ")
        assert f'id="cell-id={cell.id}"' in inside
    assert "<details open" not in page  # closed until clicked
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert html.unescape(title) == site.notebook_title(nb, "") != ""


@pytest.mark.parametrize(
    "argv, says",
    [
        (["{tmp}/nope.ipynb"], "no such notebook file"),
        (["{tmp}/file"], "is not a notebook (a .ipynb file)"),
        ([str(SAMPLES[0]), "--out", "{tmp}/file"], "is a file, not a folder"),
        ([str(SAMPLES[0]), "--out", str(NOTEBOOKS / "html")], "inside the course's notebooks/"),
        ([], "the following arguments are required: notebooks"),
    ],
)
def test_a_bad_command_line_ends_with_one_line_and_status_2(tmp_path, capsys, argv, says):
    (tmp_path / "file").write_text("not a notebook")
    with pytest.raises(SystemExit) as stop:
        export.main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert says in err.splitlines()[-1] and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing written
    assert not (NOTEBOOKS / "html").exists()


def network_namespace_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.commands  # the command itself, in a fresh interpreter (~10 s): run by .ci/run
@pytest.mark.skipif(not network_namespace_available(), reason="needs `unshare -n` (root)")
def test_the_command_runs_with_the_network_off(tmp_path):
    """Inside a network namespace with only loopback: the export needs no network, and writes
    the same page as the function."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "course.export", str(SAMPLES[0])]
        + ["--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert "nothing loaded from outside" in run.stdout
    page = (tmp_path / f"{SAMPLES[0].stem}.html").read_text(encoding="utf-8")
    assert page == export.export(SAMPLES[0])[0]


@pytest.mark.browser  # headless Chromium: run by .ci/run with the other browser tests
def test_a_browser_opening_the_page_requests_nothing_outside_it(tmp_path, pages):
    """Chromium opens the exported page from file://; every request it makes is to the file
    itself or a data: URL, every figure's image is drawn, and the solutions stay folded."""
    target = tmp_path / "02.html"
    target.write_text(pages["02_decoding_widget"][0], encoding="utf-8")
    with recording_page() as (page, requests):
        page.goto(target.as_uri(), wait_until="networkidle")
        drawn = page.eval_on_selector_all(
            "img[src^='data:image/png']", "imgs => imgs.map(i => i.naturalWidth > 0)"
        )
        opened = page.eval_on_selector_all("details.solution", "ds => ds.filter(d => d.open)")
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert drawn and all(drawn)
    assert opened == []
