"""Pages for the tests: the text of the widget's HTML, what a page would load from outside, and
a headless Chromium page that records every request it makes."""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
from pathlib import Path

import pytest

from course.site import _EXTERNAL

#: names of the CDNs nbconvert's templates load from (mermaid, MathJax, require.js, widgets)
CDN = re.compile(
    r"cdnjs|unpkg|jsdelivr|//cdn\.|@jupyter-widgets/html-manager|require\.js|MathJax\.js"
)


def plain(fragment: str) -> str:
    """The text of an HTML fragment (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def outside_references(page: str, folder: Path | None = None, root: Path | None = None) -> list:
    """What ``page`` would load from outside, [] when nothing: a reference to another host (a
    ``src``, a stylesheet link, a script's URL), a CDN's name, and every ``src`` that is neither a
    data: URL nor a file that, read from the page's ``folder``, lies inside ``root`` (default:
    ``folder``). ``folder`` None: one self-contained file, where only data: URLs may stay."""
    found = [m.group(0) for m in _EXTERNAL.finditer(page)]
    found += [m.group(0) for m in CDN.finditer(page)]
    for ref in re.findall(r"""\bsrc\s*=\s*["']([^"']+)["']""", page):
        if ref.startswith("data:"):
            continue
        target = (folder / ref).resolve() if folder is not None else None
        top = (root or folder).resolve() if folder is not None else None
        if target is None or not (target.is_relative_to(top) and target.is_file()):
            found.append(ref)
    return found


def chromium_path() -> str | None:
    """Debian's Chromium (never ``playwright install``), or None."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def skip_or_fail(reason: str):
    """Locally a missing browser skips the test; in CI (CI=true) it is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run in CI)")
    pytest.skip(reason)


def chromium_or_skip() -> str:
    """Chromium's path, where Chromium and Playwright are both installed; else a skip (a
    failure in CI)."""
    path = chromium_path()
    if path is None:
        skip_or_fail("Chromium not found at /usr/bin/chromium: apt-get install -y chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_or_fail("the playwright Python package is not installed (pip install playwright)")
    return path


@contextlib.contextmanager
def recording_page(**options):
    """A headless Chromium page (``options``: ``new_page``'s) and the list of every URL it
    requests, filled as it browses; skips without Chromium or Playwright (fails in CI)."""
    path = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(**options)
            page.on("request", lambda r: requests.append(r.url))
            yield page, requests
        finally:
            browser.close()


def english_words(text: str, kept=(), quoted: bool = True, shortest: int = 3) -> list[str]:
    """The English words left in a text meant to be Chinese: runs of ``shortest`` or more Latin
    letters outside markup, inline code and web addresses, once the names in ``kept`` (the
    same in both editions) are taken out. ``quoted``: also leave out text in single quotes (a
    figure's quoted tokens)."""
    words = re.sub(r"<[^>]+>|`[^`]*`|https?://[A-Za-z0-9./_~%:-]+", " ", text)
    if quoted:
        words = re.sub(r"'[^']*'", " ", words)
    for name in sorted(kept, key=len, reverse=True):  # "softmax" before "max"
        words = words.replace(name, " ")
    return re.findall(f"[A-Za-z]{{{shortest},}}", words)
