"""Notebook 02 in a real browser: JupyterLab + headless Chromium, offline, Step clicked by hand.

Starts JupyterLab on a free localhost port with a token and throw-away config/settings/runtime
folders, opens a copy of notebooks/02_decoding_widget.ipynb (the repository file is never
touched), runs all cells, clicks Step in the live widget and checks that a new token appears,
that plotly drew its figures without the network, and that nothing was fetched from anywhere
but the local server. Saves screenshots under tests/artifacts/ (gitignored).

Uses Debian's Chromium (/usr/bin/chromium) through Playwright's Python API; never
``playwright install``. Without Chromium it skips, unless CI=true, where it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests._html import chromium_or_skip

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02_decoding_widget.ipynb"
NOTEBOOK_ZH = ROOT / "notebooks" / "zh" / "02_decoding_widget.ipynb"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser_path():
    return chromium_or_skip()


def requests_leaving(page, base: str) -> list[str]:
    """The list, filled as ``page`` browses, of every request it makes outside the local
    server at ``base`` (a CDN, JupyterLab's news feed...)."""
    outside: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((base, "data:", "blob:")) else outside.append(r.url),
    )
    return outside


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: JupyterLab settings every test server uses: no news or update checks (no network), and every
#: cell stays in the DOM, so what a test looks for is there to find
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


@contextlib.contextmanager
def running_jupyterlab(
    tmp: Path, work: Path, *, cwd: Path, extra: tuple = (), settings: dict | None = None
):
    """A JupyterLab server serving ``work`` on a free local port, started from ``cwd`` with
    ``extra`` options and ``settings`` on top of LAB_SETTINGS, its config, settings, workspace
    and runtime folders under ``tmp``; yields (base URL, token) once it answers, and stops it on
    any exit."""
    for plugin, values in {**LAB_SETTINGS, **(settings or {})}.items():
        file = tmp / "settings" / f"{plugin}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        # the kernel imports helpers/ from this checkout even where it is not pip-installed
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        # the browser, the server and the kernel share the CPU: one torch thread avoids
        # oversubscription (the notebooks' outputs are the same with any thread count)
        OMP_NUM_THREADS="1",
    )
    port, token = free_port(), secrets.token_hex(16)
    log = open(tmp / "jupyterlab.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            *extra,
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--port={port}",
            "--port_retries=0",
            f"--IdentityProvider.token={token}",
            "--allow-root",
            "--LabApp.expose_app_in_browser=True",
            f"--ServerApp.root_dir={work}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=cwd,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"JupyterLab did not start:\n{(tmp / 'jupyterlab.log').read_text()}")
            time.sleep(0.3)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser_path):
    """A JupyterLab server on a free port, serving a temp folder with a copy of notebook 02 and
    of its Chinese edition (zh/)."""
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "work"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    (work / "zh").mkdir()
    shutil.copy(NOTEBOOK_ZH, work / "zh" / NOTEBOOK_ZH.name)
    with running_jupyterlab(tmp, work, cwd=work) as (base, token):
        yield base, token


ALL_CELLS_RUN = """() => {
    const nb = window.jupyterapp.shell.currentWidget;
    const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
    const cells = nb.content.widgets.filter(c => c.model.type === 'code');
    return kernel && kernel.status === 'idle' && cells.every(c => c.model.executionCount);
}"""


def readable(locator, where: str) -> None:
    """``locator`` is on screen with text of a real width, and nothing in it sticks out sideways
    (its own scroll width, and every descendant's right edge against the locator's)."""
    box = locator.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 10, (where, box)
    assert locator.inner_text().strip(), (where, "no text")
    overflow = locator.evaluate("""e => {
        const right = e.getBoundingClientRect().right;
        let worst = e.scrollWidth - e.clientWidth;
        for (const d of e.querySelectorAll('*')) {
            worst = Math.max(worst, d.getBoundingClientRect().right - right);
        }
        return worst;
    }""")
    assert overflow <= 1, (where, f"sticks out {overflow} px")
    viewport = locator.page.viewport_size
    assert box["x"] + box["width"] <= viewport["width"], (where, box)


def test_step_in_jupyterlab(lab, browser_path):
    from playwright.sync_api import expect, sync_playwright

    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            outside = requests_leaving(page, base)
            open_and_run_all(page, base, token, NOTEBOOK.name)

            # tracebacks and stderr both render as this MIME type; the notebook has neither
            errors = page.locator("[data-mime-type='application/vnd.jupyter.stderr']")
            assert errors.count() == 0, errors.first.inner_text()
            printed = page.locator("[data-mime-type='application/vnd.jupyter.stdout']")
            assert printed.count() >= 10  # the selector finds outputs: its 0 above means none
            stepper = page.locator(".dw-stepper")
            expect(stepper).to_have_count(1, timeout=30_000)
            steps = stepper.locator(".dw-steps")
            expect(steps).to_have_text("0")
            assert stepper.locator(".dw-gen").count() == 0
            expect(stepper.locator("button.dw-cand")).to_have_count(8)

            stepper.locator("button.dw-step").click()
            expect(steps).to_have_text("1", timeout=30_000)
            new_token = stepper.locator(".dw-gen")
            expect(new_token).to_have_count(1)
            assert "p = " in new_token.get_attribute("title")
            expect(stepper.locator(".dw-status")).to_contain_text("greedy picked")

            # the static renderings: plotly drew the figures with the bundled extension
            plots = page.locator(".js-plotly-plot")
            expect(plots.first).to_be_attached(timeout=30_000)
            assert plots.count() >= 2
            assert page.locator(".dw-static").count() >= 2

            # a projector: 1024x768 with the side bar closed or the file browser open, and
            # 1280x800 with it open; the whole stepper (every candidate row) fits on screen once its
            # top is scrolled to the top of the notebook, and nothing sticks out sideways
            # greedy, then sampling (two bars per candidate: the tallest rows)
            for size, left_open, mode in (
                ((1024, 768), False, "greedy"),
                ((1280, 800), True, "greedy"),
                ((1024, 768), True, "greedy"),  # the narrowest: a projector, file browser open
                ((1024, 768), False, "sample"),
            ):
                if mode == "sample":
                    stepper.get_by_role("button", name="sample", exact=True).click()
                    expect(stepper.locator(".dw-status")).to_contain_text("sample", timeout=30_000)
                page.set_viewport_size({"width": size[0], "height": size[1]})
                page.evaluate(
                    "open => open ? window.jupyterapp.shell.activateById('filebrowser')"
                    " : window.jupyterapp.shell.collapseLeft()",
                    left_open,
                )
                page.wait_for_timeout(500)  # the layout settles
                stepper.evaluate("e => e.scrollIntoView({block: 'start'})")
                box = stepper.bounding_box()
                last_row = stepper.locator("button.dw-cand").last.bounding_box()
                sideways = stepper.evaluate("e => e.scrollWidth - e.clientWidth")
                shown = "open" if left_open else "closed"
                where = f"{mode} at {size[0]}x{size[1]}, file browser {shown}"
                name = f"02_stepper_{mode}_{size[0]}x{size[1]}" + (
                    "_filebrowser" if left_open else ""
                )
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
                # the notebook's visible area ends above JupyterLab's status bar
                bottom = page.evaluate(
                    "() => window.jupyterapp.shell.currentWidget"
                    ".content.node.getBoundingClientRect().bottom"
                )
                assert 0.8 * size[1] < bottom <= size[1], (where, bottom)
                assert last_row["y"] + last_row["height"] <= bottom, (where, box, last_row)
                assert box["y"] + box["height"] <= bottom, (where, box, bottom)
                assert box["x"] + box["width"] <= size[0] and sideways <= 0, (where, box, sideways)

            # every pane and every mode, stepped by hand at the narrowest size (1024x768, file
            # browser open): each pane is drawn, has readable text, and sticks out nowhere
            status = stepper.locator(".dw-status").first  # the filters pane has a status line too
            for label in ("attention", "KV cache", "filters"):
                stepper.get_by_role("button", name=label, exact=True).click()
            for mode, panes, says in (
                ("sample", (".dw-attention", ".dw-cache", ".dw-filters"), "sampled"),
                ("beam", (".dw-attention", ".dw-cache", ".dw-beams"), "beam step 2"),
                ("speculative", (".dw-attention", ".dw-cache", ".dw-rounds"), "round 2"),
            ):
                if mode != "sample":
                    stepper.get_by_role("button", name=mode, exact=True).click()
                    expect(status).to_contain_text(f"{mode} mode")
                for _ in range(2):
                    stepper.locator("button.dw-step").click()
                    page.wait_for_timeout(300)
                expect(status).to_contain_text(says, timeout=30_000)
                for pane in panes:
                    drawn = stepper.locator(pane)
                    expect(drawn).to_have_count(1)
                    drawn.scroll_into_view_if_needed()
                    readable(drawn, f"{pane} in {mode} mode at 1024x768, file browser open")
                stepper.evaluate("e => e.scrollIntoView({block: 'start'})")
                page.screenshot(path=str(ARTIFACTS / f"02_stepper_{mode}_panes_1024x768.png"))
            assert stepper.evaluate("e => e.scrollWidth - e.clientWidth") <= 0
            page.set_viewport_size({"width": 1366, "height": 900})

            sampling_figure = plots.nth(plots.count() - 1)  # the scripted sampling step
            sampling_figure.scroll_into_view_if_needed()
            sampling_figure.screenshot(path=str(ARTIFACTS / "02_decoding_widget_figure.png"))
            stepper.scroll_into_view_if_needed()
            stepper.screenshot(path=str(ARTIFACTS / "02_decoding_widget_stepper.png"))
            page.screenshot(path=str(ARTIFACTS / "02_decoding_widget_page.png"))

            # the static copy: its token column has a real width (JupyterLab's fixed table
            # layout once squeezed it to 0 px) and it says that it is a snapshot
            static = page.locator(".dw-static").first
            token_cell = static.locator(".dw-cands td").first
            token_cell.scroll_into_view_if_needed()
            assert token_cell.bounding_box()["width"] > 20
            expect(page.locator(".dw-snapshot").first).to_contain_text("Snapshot")

            # saved, closed, reopened with no kernel: the widget's model is gone (JupyterLab
            # saves no widget state by default), so the snapshot shows in its place, and not
            # the widget renderer's "Error displaying widget: model not found" above it
            page.evaluate("""async () => {
                const nb = window.jupyterapp.shell.currentWidget;
                await nb.context.save();
                await nb.sessionContext.shutdown();
            }""")
            page.reload()
            page.wait_for_function(
                "() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=60_000
            )
            fallback = page.locator(".dw-fallback")
            expect(fallback).to_have_count(1, timeout=30_000)
            fallback.scroll_into_view_if_needed()
            expect(fallback).to_be_visible()
            expect(fallback).to_contain_text("The live widget is not drawn here")
            broken = page.locator(".jupyter-widgets", has_text="Error displaying widget")
            expect(broken).to_have_count(1)  # the renderer wrote its line ...
            expect(broken).to_be_hidden()  # ... and the snapshot's style hides it
            page.screenshot(path=str(ARTIFACTS / "02_decoding_widget_reopened.png"))
        finally:
            browser.close()
    assert not outside, f"the page fetched from outside the local server: {outside[:5]}"


def open_and_run_all(page, base: str, token: str, path: str) -> None:
    """Open the notebook at ``path`` (relative to the served folder) alone and run every cell.

    ``reset``: a fresh workspace, so that JupyterLab does not restore the notebooks an earlier
    test left open (one of them, not this one, would be the current widget)."""
    page.goto(f"{base}/lab/tree/{path}?reset&token={token}")
    page.wait_for_function(
        "path => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.context.path === path",
        arg=path,
        timeout=60_000,
    )
    assert page.evaluate("() => [...window.jupyterapp.shell.widgets('main')].length") == 1
    # Run All before the kernel is ready opens a kernel-selection dialog: wait first
    page.evaluate("""async () => {
        const nb = window.jupyterapp.shell.currentWidget;
        await nb.context.ready;
        await nb.sessionContext.ready;
        await window.jupyterapp.commands.execute('notebook:run-all-cells');
    }""")
    page.wait_for_function(ALL_CELLS_RUN, timeout=90_000, polling=250)


def test_the_chinese_stepper_in_jupyterlab(lab, browser_path):
    """The Chinese edition's stepper, clicked by hand at 1024x768: Chinese buttons, status
    and mode names, a step in greedy and in beam mode with every pane open, all readable."""
    from playwright.sync_api import expect, sync_playwright

    base, token = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 768})
            outside = requests_leaving(page, base)
            open_and_run_all(page, base, token, f"zh/{NOTEBOOK_ZH.name}")
            errors = page.locator("[data-mime-type='application/vnd.jupyter.stderr']")
            assert errors.count() == 0, errors.first.inner_text()
            stepper = page.locator(".dw-stepper")
            expect(stepper).to_have_count(1, timeout=30_000)
            status = stepper.locator(".dw-status").first
            expect(status).to_contain_text("按“单步”", timeout=30_000)
            for label in ("注意力", "KV 缓存", "过滤器"):
                stepper.get_by_role("button", name=label, exact=True).click()
            step = stepper.get_by_role("button", name="单步", exact=True)
            step.click()
            expect(status).to_contain_text("第 1 步：贪心选了", timeout=30_000)
            stepper.get_by_role("button", name="束搜索", exact=True).click()
            expect(status).to_contain_text("束搜索模式", timeout=30_000)
            step.click()
            expect(status).to_contain_text("束搜索第 1 步：最好的束是", timeout=30_000)
            expect(stepper.locator(".dw-beams")).to_contain_text("束")
            for pane in (".dw-attention", ".dw-cache", ".dw-beams"):
                drawn = stepper.locator(pane)
                drawn.scroll_into_view_if_needed()
                readable(drawn, f"{pane} of the Chinese stepper in beam mode at 1024x768")
            assert stepper.evaluate("e => e.scrollWidth - e.clientWidth") <= 0
            stepper.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(ARTIFACTS / "02_stepper_zh_beam_1024x768.png"))
        finally:
            browser.close()
    assert not outside, f"the page fetched from outside the local server: {outside[:5]}"
