"""The offline course site: every page, every figure and table, nothing loaded from outside."""

import html
import re
from pathlib import Path

import nbformat
import pytest

from course import handouts, site
from helpers.plots import figure_alt
from tests._html import outside_references, plain, recording_page

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


def test_no_page_of_either_edition_loads_anything_from_outside_the_site(built):
    out, _ = built
    pages = sorted(out.glob("*.html")) + sorted((out / "zh").glob("*.html"))
    assert len(pages) >= 2 * len(NOTEBOOKS) + 2  # both editions, lessons and indexes
    for page in pages:
        found = outside_references(page.read_text(encoding="utf-8"), page.parent, root=out)
        assert found == [], (page.relative_to(out), found)


def solution_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [nb.cells[i] for i in handouts.solution_indices(nb)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_solutions_are_behind_a_click(built, path):
    out, _ = built
    page = (out / f"{path.stem}.html").read_text()
    cells = solution_cells(path)
    hidden = re.findall(
        r'<details class="solution"><summary>(.*?)</summary>(.*?)</details>', page, re.S
    )
    assert len(hidden) == len(cells)
    for (summary, inside), cell in zip(hidden, cells, strict=True):
        assert re.fullmatch(
            r"Solution to (exercise \d+(, continued)?|check yourself \d\d\.\d)", summary
        )
        assert f'id="cell-id={cell.id}"' in inside  # the whole cell, input and outputs
    outside = re.sub(r'<details class="solution">.*?</details>', "", page, flags=re.S)
    assert "celltag_solution" not in outside


def test_pages_read_like_a_book(built):
    out, _ = built
    titles = []
    for i, path in enumerate(NOTEBOOKS):
        page = (out / f"{path.stem}.html").read_text()
        nb = nbformat.read(path, as_version=4)
        heading = re.search(r"^# (.+)$", nb.cells[0].source, re.M).group(1).replace("`", "")
        title = html.unescape(re.search(r"<title>(.*?)</title>", page).group(1))
        assert title == heading and title != "Notebook"
        titles.append(title)
        links = dict(re.findall(r'<a rel="(prev|next)" href="([^"]+)"', page))
        if i > 0:
            assert links.pop("prev") == f"{NOTEBOOKS[i - 1].stem}.html"
        if i + 1 < len(NOTEBOOKS):
            assert links.pop("next") == f"{NOTEBOOKS[i + 1].stem}.html"
        assert not links  # none before the first page, none after the last
        assert 'href="index.html"' in page
        # the table of contents: a link to every ## heading of the notebook
        toc = re.search(r'<nav class="course-toc".*?</nav>', page, re.S).group(0)
        sections = [
            m
            for c in nb.cells
            if c.cell_type == "markdown"
            for m in re.findall(r"^## (.+)$", c.source, re.M)
        ]
        anchors = re.findall(r'<a href="#([^"]+)">', toc)
        assert len(anchors) == len(sections) > 0
        for anchor in anchors:
            assert f'id="{anchor}"' in page
    assert len(set(titles)) == len(titles)


def test_the_index_renders_the_lesson_table(built):
    out, _ = built
    index = (out / "index.html").read_text()
    assert "`" not in index  # no raw markdown left
    rows = re.findall(r"<tr>(.*?)</tr>", index, re.S)
    assert len(rows) == len(NOTEBOOKS) + 1  # the header and one row per notebook
    assert "<code>" in index
    for path in NOTEBOOKS:
        assert f'<a href="{path.stem}.html"><code>{path.stem}</code></a>' in index
    # the search box filters the table in the page: no script or request from outside
    assert 'id="lesson-filter"' in index and outside_references(index, out) == []


@pytest.mark.browser  # headless Chromium (run by .ci/run with the other browser tests)
def test_a_browser_reads_the_site_with_nothing_from_outside(built):
    """Chromium opens the index from file://, filters the lessons, follows a lesson's link and
    its "next" link, and opens a solution; every request stays inside the site's folder."""
    out, _ = built
    with recording_page() as (page, requests):
        page.goto((out / "index.html").as_uri(), wait_until="networkidle")
        page.fill("#lesson-filter", "speculative")
        shown = page.eval_on_selector_all(
            "tbody tr", "rows => rows.filter(r => r.style.display !== 'none').length"
        )
        page.click("text=06_speculative_decoding")
        page.click("a[rel=next] >> nth=0")
        page.wait_for_load_state("networkidle")
        title = page.title()
        summary = page.locator("details.solution > summary").first
        summary.click()
        opened = page.eval_on_selector("details.solution", "d => d.open")
    rows = re.findall(r"<tr>(.*?)</tr>", (out / "index.html").read_text(), re.S)[1:]
    assert shown == sum("speculative" in plain(r).lower() for r in rows) < len(rows)
    assert title == site.notebook_title(nbformat.read(NOTEBOOKS[7], as_version=4), "")
    assert opened
    outside = [u for u in requests if not u.startswith(("data:", out.as_uri()))]
    assert outside == []


def test_the_teachers_edition_has_the_plans_page(built):
    out, _ = built
    index = (out / "index.html").read_text()
    assert f'href="{site.PLANS_PAGE}"' in index
    page = (out / site.PLANS_PAGE).read_text()
    assert outside_references(page, out) == []
    for sheet in sorted((ROOT / "notebooks" / "run_sheets").glob("*.md")):
        title = re.search(r"^# (.+)$", sheet.read_text(), re.M)[1]
        assert html.escape(title, quote=False) in page
    assert page.count('<section class="run-sheet">') == len(
        list((ROOT / "notebooks" / "run_sheets").glob("*.md"))
    )


STUDENT_PAGES = [p for p in NOTEBOOKS if p.name[:2] in ("02", "07")]  # 02 has the teacher's script


@pytest.fixture(scope="module")
def student_built(tmp_path_factory):
    out = tmp_path_factory.mktemp("student-site")
    (out / site.PLANS_PAGE).write_text("left from a teacher's build")
    return out, site.build(out, student=True, notebooks=STUDENT_PAGES)


@pytest.mark.parametrize("path", STUDENT_PAGES, ids=[p.stem for p in STUDENT_PAGES])
def test_the_students_edition_has_no_solutions_and_no_teachers_script(student_built, path):
    out, counts = student_built
    page = (out / f"{path.stem}.html").read_text()
    text = plain(page)
    assert '<details class="solution">' not in page and "Solution to" not in text
    from tests.course.test_handouts import solution_lines

    nb = nbformat.read(path, as_version=4)
    # lines of worked solutions the lesson does not also have (long enough not to be a
    # coincidence in an output: 02's text holds `for _ in range(2)`)
    hidden = {ln for ln in solution_lines(nb) if len(ln) > 24}
    assert hidden and not [ln for ln in hidden if ln in text]
    for cell in nb.cells:
        if handouts.TEACHER_NOTE.match(cell.source):
            assert f'id="cell-id={cell.id}"' not in page
            assert cell.source.splitlines()[2][:40] not in text
    for k in handouts.exercises(nb):
        assert f"# Exercise {k}: " in text
    assert counts[path.stem] == len(outputs(path, site.PLOTLY_MIME))  # every figure still there
    assert outside_references(page, out) == []


@pytest.mark.parametrize("path", STUDENT_PAGES, ids=[p.stem for p in STUDENT_PAGES])
def test_the_chinese_students_edition_says_its_placeholders_in_chinese(student_built, path):
    """zh/NN.html of the students' edition: the Chinese reading handout, its empty cells and
    headings in Chinese (course.handouts.WORDS["zh"]), none of the English handout's words."""
    out, counts = student_built
    page = (out / "zh" / f"{path.stem}.html").read_text(encoding="utf-8")
    text = plain(page)
    nb = nbformat.read(ROOT / "notebooks" / "zh" / path.name, as_version=4)
    assert '<details class="solution">' not in page and "参考答案" not in text
    from tests.course.test_handouts import solution_lines

    hidden = {ln for ln in solution_lines(nb) if len(ln) > 24}
    assert hidden and not [ln for ln in hidden if ln in text]
    exercises = handouts.exercises(nb)
    assert exercises and all(f"# 练习 {k}：" in text for k in exercises)
    words = handouts.WORDS["zh"]
    assert words["write_here"] in text and "你的答案" in text
    assert words["credit"].split("《")[0] in text  # the credit line, in Chinese
    for english in ("Exercise ", "Write your code", "Your answer", "Text and figures", 'From "'):
        assert english not in text, english
    if any(c.cell_type == "markdown" for c in (nb.cells[i] for i in handouts.solution_indices(nb))):
        assert words["answer"].strip("*") in text
    assert counts[f"zh/{path.stem}"] == counts[path.stem]  # every figure still there
    assert not site._EXTERNAL.search(page)
    assert "学生版" in (out / "zh" / "index.html").read_text(encoding="utf-8")


def test_the_students_edition_has_no_teachers_pages(student_built):
    out, _ = student_built
    assert not (out / site.PLANS_PAGE).exists()  # removed, though a teacher's build left one
    index = (out / "index.html").read_text()
    assert site.PLANS_PAGE not in index and "students' edition" in index


def test_the_student_flag_is_checked():
    with pytest.raises(TypeError, match="student must be True or False, got 'yes'"):
        site.build(ROOT / "site-never-written", student="yes")
    assert not (ROOT / "site-never-written").exists()


ZH = sorted((ROOT / "notebooks" / "zh").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", ZH, ids=[p.stem for p in ZH])
def test_the_chinese_edition_has_every_translated_page_linked_to_its_twin(built, path):
    """Both editions in one site: zh/NN.html from notebooks/zh/, in Chinese (lang zh-CN, its
    title the Chinese heading), each page and index linking to the same page in the other."""
    out, counts = built
    zh = (out / "zh" / f"{path.stem}.html").read_text(encoding="utf-8")
    en = (out / f"{path.stem}.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in zh and '<html lang="en">' in en
    title = site.notebook_title(nbformat.read(path, as_version=4), path.stem)
    assert re.search(r"[\u4e00-\u9fff]", title) and f"<title>{html.escape(title)}" in zh
    assert f'href="../{path.stem}.html">English</a>' in zh
    assert f'href="zh/{path.stem}.html">中文</a>' in en
    assert '<script src="../plotly.min.js">' in zh  # the one copy of plotly.js, offline
    assert counts[f"zh/{path.stem}"] == counts[path.stem]  # the same figures
    assert ">目录</a>" in zh and "本页内容" in zh
    for summary in re.findall(r'<details class="solution"><summary>(.*?)</summary>', zh):
        assert "参考答案" in summary  # folded solutions, named in Chinese
    assert 'href="zh/index.html">中文</a>' in (out / "index.html").read_text(encoding="utf-8")
    index = (out / "zh" / "index.html").read_text(encoding="utf-8")
    assert f'href="{path.stem}.html"' in index and 'href="../index.html">English</a>' in index


def test_the_site_refuses_an_unknown_language():
    with pytest.raises(ValueError, match="langs"):
        site.build(ROOT / "site-never-written", langs=("fr",))
