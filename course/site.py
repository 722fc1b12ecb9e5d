"""The offline course site: ``python -m course.site [OUT] [--student]`` (default ``site/``).

``--student`` builds the students' edition: each page is the notebook's reading handout
(``course.handouts``: outputs kept, worked solutions replaced by empty cells that quote their
exercise, the teacher's script left out; in the Chinese pages, the handout's words in Chinese),
and the teacher's pages (the single-class plans) are not in it. The teacher's edition (the
default) adds ``plans.html``, the run sheets of ``notebooks/run_sheets/`` (``python -m
course.plans`` writes them).

Builds an index page with the lesson table of the README and one HTML page per notebook, from
the stored notebooks (nothing is executed). Opens from ``file://`` with the network off:

- every plotly figure is drawn by the plotly.js that ships inside the installed ``plotly``
  package (copied once into the site), with its stored PNG as the fallback where scripts do not
  run;
- live widgets, which need a running kernel, are replaced by their static copy (or a note);
- nbconvert's references to CDNs (require.js, MathJax, the widget manager) are left out, and the
  build fails if any page still names a URL outside the site.

It reads like a book: each page is titled by its notebook's first heading and has previous/next
links and a table of contents (the notebook's ``##`` headings); the index renders the README's
lesson table (nbconvert's markdown renderer) with a filter box (an inline script); each worked
solution is folded behind a click (``<details>``, "Solution to exercise 2").
``python -m course.export`` shares the page-building steps (``notebook_html``, ``check_offline``)
for single-file pages with static figures.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
from pathlib import Path

import nbformat

from course import handouts
from course._cli import check_out_folder
from helpers.messages import notebook_lang
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


def _figure_html(figure: dict, png: str | None, n: int, lang: str = "en") -> str:
    """A div that plotly.js draws into, and the PNG for browsers without scripts."""
    alt = html.escape(figure_alt(figure, lang))
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


def _static_figure_html(figure: dict, png: str | None, lang: str = "en") -> str:
    """The stored PNG with the figure's alt text (no script): for a page that runs none."""
    alt = html.escape(figure_alt(figure, lang))
    if png:
        return f'<img alt="{alt}" src="data:image/png;base64,{png}" style="max-width:100%">'
    return f"<p><em>Figure: {alt} (no stored image)</em></p>"


def prepare(nb, interactive: bool = True) -> tuple[object, int]:
    """Replace figure and widget outputs by static HTML; return the notebook and figure count.

    interactive: each figure drawn by plotly.js (the page must load ``plotly.min.js``), its PNG
    the fallback; otherwise the stored PNG alone, with the figure's alt text."""
    figures, lang = 0, notebook_lang(nb)  # the alt text's language: the notebook's
    nb.metadata.pop("widgets", None)  # stored widget state: nbconvert would load a CDN manager
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PLOTLY_MIME in data:
                figures += 1
                figure, png = data[PLOTLY_MIME], data.get("image/png")
                figure_html = (
                    _figure_html(figure, png, figures, lang)
                    if interactive
                    else _static_figure_html(figure, png, lang)
                )
                out["data"] = {"text/html": figure_html}
            elif WIDGET_MIME in data and "text/html" in data:  # the widget's own static copy
                out["data"] = {"text/html": data["text/html"]}
            elif WIDGET_MIME in data:
                out["data"] = {
                    "text/html": "<p><em>A live widget is here when the notebook runs in "
                    "JupyterLab; the static copy below shows the same state.</em></p>"
                }
    return nb, figures


def solution_summaries(nb) -> dict[str, str]:
    """Each solution cell's id and what it solves ("Solution to exercise 2")."""
    summaries, last = {}, None
    for i in handouts.solution_indices(nb):
        cell = nb.cells[i]
        what = handouts.solution_summary(cell.source, last)
        m = re.match(r"exercise (\d+)", what)
        last = m.group(1) if m else last
        summaries[cell.id] = f"Solution to {what}"
    return summaries


#: Folded solutions lined up with the cells' text; the site's navigation in the page's font.
_STYLE = (
    "<style>details.solution>summary{margin:.4em 0 .4em 5.5em;cursor:pointer;"
    "font-family:var(--jp-ui-font-family,sans-serif);color:#0072B2}"
    ".course-nav,.course-toc{font-family:var(--jp-ui-font-family,sans-serif);font-size:95%}"
    ".course-toc ul{list-style:none;padding-left:1.5em}</style>"
)
#: A figure drawn while its solution was folded is resized when the solution opens.
_RESIZE_ON_OPEN = (
    "<script>document.querySelectorAll('details').forEach(function (d) {"
    " d.addEventListener('toggle', function () { window.dispatchEvent(new Event('resize')); });"
    " });</script>"
)
_CELL_START = re.compile(r'<div[^>]*\bid="cell-id=')


def hide_solutions(body: str, summaries: dict[str, str]) -> str:
    """Wrap each solution cell (input and outputs) of nbconvert's page in ``<details>``.

    nbconvert writes the cells one after the other, each ``<div id="cell-id=ID" ...>``, inside
    ``<main>``: a cell ends where the next one (or ``</main>``) starts."""
    for cell_id, summary in summaries.items():
        m = re.search(rf'<div[^>]*\bid="cell-id={re.escape(html.escape(cell_id))}"', body)
        if m is None:
            raise RuntimeError(f"solution cell {cell_id} is not on the page")
        start = m.start()
        nxt = _CELL_START.search(body, m.end())
        end = nxt.start() if nxt else body.index("</main>", start)
        body = (
            body[:start]
            + f'<details class="solution"><summary>{html.escape(summary)}</summary>\n'
            + body[start:end]
            + "</details>\n"
            + body[end:]
        )
    return body


def strip_external(body: str) -> str:
    """nbconvert's page without what it loads from CDNs (require.js, MathJax, mermaid)."""
    return _MERMAID.sub("", _CDN_TAG.sub("", body))


def check_offline(text: str, name: str) -> None:
    """Fail if a page would load anything from outside its folder."""
    m = _EXTERNAL.search(text)
    if m:
        raise RuntimeError(f"{name} still loads something from outside the site: {m.group(0)}")


def notebook_title(nb, default: str) -> str:
    """The text of the notebook's first heading (markdown stripped), or ``default``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#{1,6}\s+(.+?)\s*#*$", cell.source, re.M)
            if m:
                return html.unescape(re.sub(r"<[^>]+>", "", _markdown(m.group(1)))).strip()
    return default


def _markdown(text: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(text)


def _in_chinese(summary: str) -> str:
    """ "Solution to exercise 2, continued" as the Chinese edition says it."""
    m = re.match(r"Solution to (exercise|check yourself) ([\d.]+)(, continued)?$", summary)
    if m is None:
        return "参考答案"
    what = "练习" if m[1] == "exercise" else "自测"
    return f"{what} {m[2]} 的参考答案" + ("（续）" if m[3] else "")


def notebook_html(nb, title: str, interactive: bool = True, lang="en") -> tuple[str, int]:
    """nbconvert's lab page of one notebook: no CDN, figures prepared, solutions behind a click.
    Shared by the site and by ``python -m course.export``."""
    from nbconvert import HTMLExporter

    summaries = solution_summaries(nb)
    if lang == "zh":
        summaries = {k: _in_chinese(v) for k, v in summaries.items()}
    nb, figures = prepare(nb, interactive)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(
        nb, resources={"metadata": {"name": title}}
    )
    body = body.replace("</head>", _STYLE + "\n</head>", 1)
    return hide_solutions(strip_external(body), summaries), figures


#: The site's own words in each edition; ``switch`` links a page to its twin in the other.
LABELS = {
    "en": {"contents": "Contents", "toc": "On this page", "switch": "中文", "lang": "en"},
    "zh": {"contents": "目录", "toc": "本页内容", "switch": "English", "lang": "zh-CN"},
}
#: Where each edition's notebooks are, and its folder in the site.
EDITIONS = {"en": (NOTEBOOKS_DIR, ""), "zh": (NOTEBOOKS_DIR / "zh", "zh/")}


def _twin(stem: str, lang: str, out_name: str = "") -> str:
    """The link to the same page in the other edition (relative to this page)."""
    other = "zh" if lang == "en" else "en"
    href = (
        f"zh/{out_name or stem + '.html'}" if lang == "en" else f"../{out_name or stem + '.html'}"
    )
    return (
        f'<a class="language" hreflang="{LABELS[other]["lang"]}" href="{href}">'
        f"{LABELS[lang]['switch']}</a>"
    )


def _navigation(
    stem: str, pages: list[tuple[str, str]], toc: list[tuple[str, str]], lang: str = "en"
) -> str:
    """Previous / index / next links, the other edition's page, and the page's table of
    contents (its ## headings)."""
    words = LABELS[lang]
    stems = [s for s, _ in pages]
    i = stems.index(stem)
    links = []
    if i > 0:
        links.append(
            f'<a rel="prev" href="{stems[i - 1]}.html">&larr; {html.escape(pages[i - 1][1])}</a>'
        )
    links.append(f'<a href="index.html">{words["contents"]}</a>')
    if i + 1 < len(pages):
        links.append(
            f'<a rel="next" href="{stems[i + 1]}.html">{html.escape(pages[i + 1][1])} &rarr;</a>'
        )
    if (EDITIONS["zh" if lang == "en" else "en"][0] / f"{stem}.ipynb").exists():
        links.append(_twin(stem, lang))
    items = "".join(f'<li><a href="#{anchor}">{text}</a></li>' for anchor, text in toc)
    contents = (
        f'<details open class="toc"><summary>{words["toc"]}</summary><ul>{items}</ul></details>'
    )
    return (
        '<nav class="course-nav" style="display:flex;gap:2em;justify-content:space-between;'
        f'padding:.5em 1em;border-bottom:1px solid #ddd">{" ".join(links)}</nav>'
        + (f'<nav class="course-toc" style="padding:0 1em">{contents}</nav>' if toc else "")
    )


def _toc(body: str) -> list[tuple[str, str]]:
    """(anchor, HTML text) of each ## heading that nbconvert wrote."""
    return [
        (anchor, re.sub(r"<a class=\"anchor-link\".*?</a>", "", text))
        for anchor, text in re.findall(r'<h2 id="([^"]+)">(.*?)</h2>', body, re.S)
    ]


def notebook_page(
    path: Path, pages: list[tuple[str, str]] | None = None, student: bool = False, lang="en"
) -> tuple[str, int]:
    """The HTML page of one stored notebook, with no URL outside the site; for students, the
    page of its reading handout (no solutions, no teacher's script). ``lang``: the edition
    ("en", or "zh" for a Chinese notebook of notebooks/zh/, whose page sits in the site's zh/)."""
    if lang not in LABELS:
        raise ValueError(f"lang={lang!r} is not one of {tuple(LABELS)}")
    nb = nbformat.read(path, as_version=4)
    title = notebook_title(nb, path.stem)
    if student:
        nb = handouts.handout(nb, keep_outputs=True, lang=lang)  # its words in the page's language
    body, figures = notebook_html(nb, title, lang=lang)
    up = "" if lang == "en" else "../"  # one plotly.js for both editions
    body = body.replace("</head>", f'<script src="{up}plotly.min.js"></script>\n</head>', 1)
    body = re.sub(r"<html[^>]*>", f'<html lang="{LABELS[lang]["lang"]}">', body, count=1)
    nav = _navigation(path.stem, pages or [(path.stem, title)], _toc(body), lang)
    body = re.sub(r"<main>", lambda m: "<main>\n" + nav, body, count=1)
    body = body.replace(
        "</main>", nav.split("</nav>")[0] + "</nav>\n" + _RESIZE_ON_OPEN + "\n</main>", 1
    )
    return body, figures


def lesson_table(lang: str = "en") -> str:
    """The README's lesson table (README.zh.md's for "zh") rendered as HTML, each notebook a
    link to its page."""
    readme, header = ("README.md", "notebook") if lang == "en" else ("README.zh.md", "笔记本")
    lines = []
    for line in (ROOT / readme).read_text(encoding="utf-8").splitlines():
        if re.match(rf"\|\s*{header}\s*\|", line) or (lines and line.startswith("|")):
            lines.append(re.sub(r"^\|\s*`(\d\d_[a-z_]+)`\s*\|", r"| [`\1`](\1.html) |", line))
        elif lines:
            break
    return _markdown("\n".join(lines))


_SEARCH = (
    '<p><label>Find a lesson: <input id="lesson-filter" type="search" '
    'placeholder="e.g. top-p, cache"></label></p>'
    "<script>document.getElementById('lesson-filter').addEventListener('input', function () {"
    " var q = this.value.toLowerCase();"
    " document.querySelectorAll('tbody tr').forEach(function (row) {"
    " row.style.display = row.textContent.toLowerCase().includes(q) ? '' : 'none'; }); });"
    "</script>"
)


PLANS_PAGE = "plans.html"


def plans_page() -> str:
    """The teacher's page: every run sheet of notebooks/run_sheets/, one after the other."""
    sheets = sorted((NOTEBOOKS_DIR / "run_sheets").glob("*.md"))
    body = "".join(
        f'<section class="run-sheet">{_markdown(p.read_text(encoding="utf-8"))}</section>'
        for p in sheets
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Single-class plans</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "section.run-sheet{break-after:page;border-bottom:1px solid #ddd}</style></head><body>"
        '<p><a href="index.html">Contents</a></p>' + body + "</body></html>"
    )


_INDEX_WORDS = {
    "en": (
        "One token at a time",
        "One token at a time: how a GPT generates, and why it trains on everything at once",
        "The course's notebooks with their stored outputs. To run them, open them in JupyterLab"
        " (see the README).",
    ),
    "zh": (
        "一次一个词元",
        "一次一个词元：GPT 怎样生成文本，又为什么能一次学完整段文本",
        "课程笔记本及其存储的输出。要运行它们，请在 JupyterLab 中打开（见 README.zh.md）。",
    ),
}


def _index(lang: str, edition: str, twin: bool) -> str:
    """The index page of one edition: the lesson table, a filter box, the other edition's link."""
    short, heading, intro = _INDEX_WORDS[lang]
    switch = f"<p>{_twin('index', lang)}</p>" if twin else ""
    search = _SEARCH if lang == "en" else _SEARCH.replace("Find a lesson:", "查找课程：")
    return (
        f"<!DOCTYPE html><html lang=\"{LABELS[lang]['lang']}\"><head><meta charset='utf-8'>"
        f"<title>{short}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "td{padding:.3em .6em;vertical-align:top;border-bottom:1px solid #ddd}</style></head>"
        f"<body>{switch}<h1>{heading}</h1><p>{intro}</p>"
        + edition
        + search
        + lesson_table(lang)
        + "</body></html>"
    )


def build(
    out: str | Path = ROOT / "site",
    student: bool = False,
    notebooks: list[Path] | None = None,
    langs: tuple[str, ...] = ("en", "zh"),
) -> dict[str, int]:
    """Write the site to ``out`` (the students' edition with ``student``); return the number of
    figures on each page. ``notebooks``: the pages to build (default: every lesson), given as
    the English notebooks; ``langs``: the editions (the Chinese one in ``out/zh/``, from
    notebooks/zh/, for each page it has), each page linked to its twin in the other."""
    import plotly

    if not isinstance(student, bool):
        raise TypeError(f"student must be True or False, got {student!r}")
    unknown = [lang for lang in langs if lang not in LABELS]
    if unknown or not langs:
        raise ValueError(f"langs={langs!r}: give one or more of {tuple(LABELS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", out)
    stems = [p.stem for p in notebooks or sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))]
    counts = {}
    for lang in langs:
        folder, sub = EDITIONS[lang]
        paths = [folder / f"{s}.ipynb" for s in stems if (folder / f"{s}.ipynb").exists()]
        if not paths:
            continue
        (out / sub).mkdir(parents=True, exist_ok=True)
        pages = [(p.stem, notebook_title(nbformat.read(p, as_version=4), p.stem)) for p in paths]
        for path in paths:
            page, counts[sub + path.stem] = notebook_page(path, pages, student, lang)
            (out / sub / f"{path.stem}.html").write_text(page, encoding="utf-8")
        edition = _edition_note(lang, student, out / sub)
        twin = len(langs) > 1
        (out / sub / "index.html").write_text(_index(lang, edition, twin), encoding="utf-8")
    for page in out.rglob("*.html"):
        check_offline(page.read_text(encoding="utf-8"), str(page.relative_to(out)))
    return counts


def _edition_note(lang: str, student: bool, folder: Path) -> str:
    """What this edition holds; the teacher's (English) one writes the plans page too."""
    if student:
        (folder / PLANS_PAGE).unlink(missing_ok=True)
        if lang == "zh":
            return "<p>学生版：笔记本及其存储的输出；每道练习都留了一个空单元格供你作答。</p>"
        return (
            "<p>The students' edition: the notebooks with their stored outputs; each exercise has"
            " an empty cell to write your answer in.</p>"
        )
    if lang == "zh":
        return (
            '<p>教师版：参考答案折叠在点击之后；单节课教案见<a href="../plans.html">英文版的'
            "单节课计划</a>（45 和 90 分钟）。</p>"
        )
    (folder / PLANS_PAGE).write_text(plans_page(), encoding="utf-8")
    return (
        f'<p>For the teacher: <a href="{PLANS_PAGE}">single-class plans</a> (45 and 90'
        " minutes, with run sheets). Worked solutions are folded behind a click.</p>"
    )


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m course.site",
        description="Build the offline course site from the notebooks.",
    )
    p.add_argument("out", nargs="?", default=str(ROOT / "site"), help="folder (default: site/)")
    p.add_argument(
        "--student",
        action="store_true",
        help="the students' edition: no worked solutions, no teacher's script or plans",
    )
    args = p.parse_args(argv)
    out = check_out_folder(p, Path(args.out), "site")
    counts = build(out, student=args.student)
    edition = "students'" if args.student else "teacher's"
    zh = sum(1 for k in counts if k.startswith("zh/"))
    print(
        f"built the {edition} edition: {len(counts) - zh} English and {zh} Chinese pages, each"
        f" edition with its index.html, {sum(counts.values())} figures"
    )


if __name__ == "__main__":
    main()
