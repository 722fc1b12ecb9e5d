"""The offline course site: ``python -m course.site [OUT]`` (default ``site/``, not committed).

Builds an index page with the lesson table of the README and one HTML page per notebook, from
the stored notebooks (nothing is executed). Opens from ``file://`` with the network off:

- every plotly figure is drawn by the plotly.js that ships inside the installed ``plotly``
  package (copied once into the site), with its stored PNG as the fallback where scripts do not
  run;
- live widgets, which need a running kernel, are replaced by their static copy (or a note);
- nbconvert's references to CDNs (require.js, MathJax, the widget manager) are left out, and the
  build fails if any page still names a URL outside the site.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
from pathlib import Path

import nbformat

from course._cli import check_out_folder
from helpers.plots import figure_alt

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = ROOT / "notebooks"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: Anything a page would load from outside the site: a src attribute, a stylesheet link, or a
#: script that builds such a URL (links a reader may click, <a href>, are fine).
_EXTERNAL = re.compile(
    r"""\bsrc\s*=\s*["'](?:https?:)?//|<link[^>]*\bhref\s*=\s*["'](?:https?:)?//|"""
    r"""(?:Src|Url)\s*=\s*["']https?://|import\(\s*["']https?://""",
    re.I,
)
#: nbconvert's loader for mermaid diagrams (from a CDN; the course draws none).
_MERMAID = re.compile(r"<script type=\"module\">(?:(?!</script>).)*mermaid.*?</script>", re.S)
_CDN_TAG = re.compile(
    r"""<script[^>]*\bsrc\s*=\s*["'](?:https?:)?//[^>]*>\s*</script>|"""
    r"""<link[^>]*\bhref\s*=\s*["'](?:https?:)?//[^>]*>""",
    re.I,
)


def _figure_html(figure: dict, png: str | None, n: int) -> str:
    """A div that plotly.js draws into, and the PNG for browsers without scripts."""
    alt = html.escape(figure_alt(figure))
    fallback = (
        f'<noscript><img alt="{alt}" src="data:image/png;base64,{png}"></noscript>' if png else ""
    )
    spec = json.dumps({"data": figure.get("data", []), "layout": figure.get("layout", {})})
    spec = spec.replace("</", "<\\/")  # a "</script>" inside a string must not end the script
    return (
        f'<div class="course-figure" id="figure-{n}"></div>{fallback}'
        f"<script>(function () {{ var s = {spec};"
        f" Plotly.newPlot('figure-{n}', s.data, s.layout, {{responsive: true}}); }})();</script>"
    )


def prepare(nb) -> tuple[object, int]:
    """Replace figure and widget outputs by static HTML; return the notebook and figure count."""
    figures = 0
    nb.metadata.pop("widgets", None)  # stored widget state: nbconvert would load a CDN manager
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PLOTLY_MIME in data:
                figures += 1
                figure_html = _figure_html(data[PLOTLY_MIME], data.get("image/png"), figures)
                out["data"] = {"text/html": figure_html}
            elif WIDGET_MIME in data and "text/html" in data:  # the widget's own static copy
                out["data"] = {"text/html": data["text/html"]}
            elif WIDGET_MIME in data:
                out["data"] = {
                    "text/html": "<p><em>A live widget is here when the notebook runs in "
                    "JupyterLab; the static copy below shows the same state.</em></p>"
                }
    return nb, figures


def notebook_page(path: Path) -> tuple[str, int]:
    """The HTML page of one stored notebook, with no URL outside the site."""
    from nbconvert import HTMLExporter

    nb, figures = prepare(nbformat.read(path, as_version=4))
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb)
    body = _MERMAID.sub("", _CDN_TAG.sub("", body))
    body = body.replace("</head>", '<script src="plotly.min.js"></script>\n</head>', 1)
    return body, figures


def lesson_table() -> str:
    """The README's lesson table, as HTML rows that link to the pages."""
    rows = []
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*`(\d\d_[a-z_]+)`\s*\|(.*)\|\s*$", line)
        if m:
            cells = "".join(f"<td>{html.escape(c.strip())}</td>" for c in m.group(2).split("|"))
            rows.append(f'<tr><td><a href="{m.group(1)}.html">{m.group(1)}</a></td>{cells}</tr>')
    return "\n".join(rows)


def build(out: str | Path = ROOT / "site") -> dict[str, int]:
    """Write the site to ``out``; return the number of figures on each page."""
    import plotly

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", out)
    counts = {}
    for path in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")):
        page, counts[path.stem] = notebook_page(path)
        (out / f"{path.stem}.html").write_text(page, encoding="utf-8")
    index = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>One token at a time</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "td{padding:.3em .6em;vertical-align:top;border-bottom:1px solid #ddd}</style></head>"
        "<body><h1>One token at a time: how a GPT generates, and why it trains on everything"
        " at once</h1><p>The course's notebooks with their stored outputs. To run them, open"
        " them in JupyterLab (see the README).</p><table><tr><th>notebook</th>"
        "<th>what it shows</th><th>minutes in class</th><th>minutes alone</th></tr>"
        + lesson_table()
        + "</table></body></html>"
    )
    (out / "index.html").write_text(index, encoding="utf-8")
    for page in out.glob("*.html"):
        if _EXTERNAL.search(page.read_text(encoding="utf-8")):
            raise RuntimeError(f"{page.name} still loads something from outside the site")
    return counts


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m course.site",
        description="Build the offline course site from the notebooks.",
    )
    p.add_argument("out", nargs="?", default=str(ROOT / "site"), help="folder (default: site/)")
    out = check_out_folder(p, Path(p.parse_args(argv).out), "site")
    counts = build(out)
    print(f"built {len(counts)} pages and index.html, {sum(counts.values())} figures")


if __name__ == "__main__":
    main()
