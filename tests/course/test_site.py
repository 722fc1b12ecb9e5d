"""The offline course site: every page, every figure and table, nothing loaded from outside."""

import html
import re
from pathlib import Path

import nbformat
import pytest

from course import site
from helpers.plots import figure_alt

pytestmark = pytest.mark.commands  # builds the whole site: run by .ci/run (tests/README.md)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    return out, site.build(out)


def outputs(path, mime):
    nb = nbformat.read(path, as_version=4)
    found = [o for c in nb.cells for o in c.get("outputs", [])]
    return [o["data"][mime] for o in found if mime in o.get("data", {})]


def test_index_links_every_notebook(built):
    out, _ = built
    index = (out / "index.html").read_text()
    for path in NOTEBOOKS:
        assert f'href="{path.stem}.html"' in index
        assert (out / f"{path.stem}.html").is_file()
    assert (out / "plotly.min.js").stat().st_size > 1_000_000  # the copy from the plotly package


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_figure_and_table_is_on_the_page(built, path):
    out, counts = built
    page = (out / f"{path.stem}.html").read_text()
    figures = outputs(path, site.PLOTLY_MIME)
    assert counts[path.stem] == len(figures)
    assert len(re.findall(r"Plotly\.newPlot\('figure-\d+'", page)) == len(figures)
    pngs = sum(1 for o in outputs(path, "image/png"))
    assert page.count('<noscript><img alt="') >= min(pngs, len(figures))
    # each figure's title and what it shows, for a screen reader
    labels = [html.unescape(a) for a in re.findall(r'<noscript><img alt="([^"]*)"', page)]
    assert labels == [figure_alt(figure) for figure in figures]
    tables = [h for h in outputs(path, "text/html") if "<table" in h]
    assert page.count("<table") >= len(tables)
    for table in tables:  # each stored table's first data cell is on the page
        first = re.search(r"<td>(.*?)</td>", table)
        assert first is None or first.group(1) in page


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_page_loads_anything_from_outside_the_site(built, path):
    out, _ = built
    page = (out / f"{path.stem}.html").read_text()
    assert not site._EXTERNAL.search(page)
    for ref in re.findall(r"""\bsrc\s*=\s*["']([^"']+)["']""", page):
        assert ref.startswith("data:") or (out / ref).is_file(), ref
