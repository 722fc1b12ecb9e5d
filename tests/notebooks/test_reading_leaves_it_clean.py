"""Reading the course in JupyterLab leaves every notebook byte for byte as it was, and every
figure fits the output area.

JupyterLab's plotly extension draws a figure when the mouse enters its stored PNG and writes a
new PNG into the output: without the course's pre-save hook (course/clean_save.py, loaded by
``--config=jupyter_server_config.py`` as in the README) autosave then rewrites the notebook.
This test starts JupyterLab the README's way, from the repository's root, on copies of the
notebooks with figures, hovers every figure, waits past a 2-second autosave, saves with Ctrl+S,
and compares the files' bytes. It also measures every figure's right edge against its output
area at the two projector setups (1280x800, 1024x768), file browser open and closed.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import test_browser
from test_browser import ARTIFACTS, CHROMIUM_ARGS, ROOT

browser_path = test_browser.browser_path  # the fixture: Chromium, or a skip (a failure in CI)

pytestmark = pytest.mark.browser

PLOTLY = "application/vnd.plotly.v1+json"
NOTEBOOKS = sorted(
    nb for nb in (ROOT / "notebooks").glob("0*.ipynb") if PLOTLY in nb.read_text(encoding="utf-8")
)
SETUPS = (((1280, 800), False), ((1280, 800), True), ((1024, 768), False), ((1024, 768), True))


def collapsed_first_lines(notebook: Path) -> list[str]:
    """The first line of every cell the notebook stores collapsed (its source hidden)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    hidden = [c for c in cells if c["metadata"].get("jupyter", {}).get("source_hidden")]
    return sorted("".join(c["source"]).split("\n")[0] for c in hidden)


@pytest.fixture(scope="module")
def lab_from_root(tmp_path_factory, browser_path):
    """JupyterLab started like the README's command, on a temp folder of notebook copies."""
    tmp = tmp_path_factory.mktemp("lab-clean")
    work = tmp / "work"
    work.mkdir()
    for nb in NOTEBOOKS:
        shutil.copy(nb, work / nb.name)
    extra = ("--config=jupyter_server_config.py",)  # as the README's command passes it
    autosave = {  # every 2 s: the test waits past one autosave
        "@jupyterlab/docmanager-extension/plugin": {"autosave": True, "autosaveInterval": 2}
    }
    with test_browser.running_jupyterlab(tmp, work, cwd=ROOT, extra=extra, settings=autosave) as (
        base,
        token,
    ):
        yield base, token, work


#: every figure's right edge minus its output area's right edge (> 0: cut off), as drawn now
OVERHANG = """() => [...document.querySelectorAll('.jp-RenderedPlotly')].map(r => {
    const area = r.closest('.jp-OutputArea-output') || r;
    const shown = [...r.querySelectorAll('img.plot-img, .plot-container')]
        .filter(e => e.offsetWidth > 0);
    const right = Math.max(...shown.map(e => e.getBoundingClientRect().right));
    return right - area.getBoundingClientRect().right;
})"""


def overhangs(page) -> list[float]:
    return page.evaluate(OVERHANG)


def set_up(page, size, browser_open):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.evaluate(
        "open => open ? window.jupyterapp.shell.activateById('filebrowser')"
        " : window.jupyterapp.shell.collapseLeft()",
        browser_open,
    )
    page.wait_for_timeout(700)  # the layout settles


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_reading_leaves_the_notebook_unchanged(lab_from_root, browser_path, notebook):
    from playwright.sync_api import sync_playwright

    base, token, work = lab_from_root
    before = notebook.read_bytes()
    written = (work / notebook.name).stat().st_mtime_ns
    ARTIFACTS.mkdir(exist_ok=True)
    report = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            # a workspace of its own: the notebooks opened by earlier tests stay closed
            page.goto(f"{base}/lab/workspaces/{notebook.stem}/tree/{notebook.name}?token={token}")
            page.wait_for_function(
                "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                " && window.jupyterapp.shell.currentWidget.sessionContext",
                timeout=60_000,
            )
            page.evaluate("""async () => {
                const nb = window.jupyterapp.shell.currentWidget;
                await nb.context.ready;
                await nb.sessionContext.ready;
            }""")
            # a collapsed solution shows its first line in JupyterLab: it never states the answer
            shown = page.locator(".jp-InputPlaceholder .jp-PlaceholderText").all_inner_texts()
            assert sorted(shown) == collapsed_first_lines(notebook), "collapsed cells drawn"
            assert all(re.match(r"(# |\*)Solution to ", line) for line in shown), shown
            figures = page.locator(".jp-RenderedPlotly")
            n = figures.count()
            assert n >= 1
            for size, browser_open in SETUPS:  # the stored PNGs, before any hover
                set_up(page, size, browser_open)
                report[f"png {size[0]}x{size[1]} browser {browser_open}"] = overhangs(page)
            set_up(page, (1280, 800), False)
            for i in range(n):  # the reader moves the mouse over every figure
                figure = figures.nth(i)
                figure.scroll_into_view_if_needed()
                figure.hover()
                figure.locator(".plot-container").wait_for(state="visible", timeout=30_000)
            page.wait_for_timeout(1500)  # Plotly.toImage, then the new PNG is set
            for size, browser_open in SETUPS:  # the live graphs
                set_up(page, size, browser_open)
                report[f"live {size[0]}x{size[1]} browser {browser_open}"] = overhangs(page)
            page.screenshot(path=str(ARTIFACTS / f"{notebook.stem}_read.png"))
            page.wait_for_timeout(5000)  # past the 2-second autosave
            page.keyboard.press("Control+s")
            page.evaluate("""async () => {
                await window.jupyterapp.commands.execute('docmanager:save');
            }""")
            page.wait_for_timeout(1000)
        finally:
            browser.close()
    (ARTIFACTS / f"{notebook.stem}_overhang.json").write_text(json.dumps(report, indent=1))
    assert (work / notebook.name).stat().st_mtime_ns != written, "the notebook was never saved"
    after = (work / notebook.name).read_bytes()
    old, new = json.loads(before), json.loads(after)
    changed = [a.get("id") for a, b in zip(old["cells"], new["cells"], strict=False) if a != b] + [
        key for key in ("metadata", "nbformat_minor") if old[key] != new[key]
    ]
    if after != before:
        shutil.copy(work / notebook.name, ARTIFACTS / f"{notebook.stem}_after_reading.ipynb")
    assert after == before, f"{notebook.name} changed on disk after it was only read: {changed}"
    for where, values in report.items():
        assert max(values) <= 1, f"{notebook.name}: a figure overhangs its output area ({where})"
