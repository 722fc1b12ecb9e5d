"""The Chinese edition stays in step with the English (course/translate.py): every markdown cell
of a translated notebook has a Chinese text reviewed against the English as it is now, with the
same numbers and code; the zh notebook is exactly what ``build`` writes, so its code cells, ids
and outputs are the English ones. Fast: nothing is executed."""

import json
from pathlib import Path

import nbformat
import pytest

from course import translate

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = sorted(translate.translated())


def test_at_least_the_first_three_notebooks_are_translated():
    assert {"00", "01", "02"} <= set(TRANSLATED)


@pytest.mark.parametrize("nn", TRANSLATED)
def test_every_markdown_cell_has_a_reviewed_translation(nn):
    english = translate.english_notebooks()[nn]
    found = [p for p in translate.problems(english) if p.kind in ("missing", "stale", "orphan")]
    assert not found, f"{english.stem}:\n" + "\n".join(map(str, found))


@pytest.mark.parametrize("nn", TRANSLATED)
def test_each_translation_keeps_the_numbers_and_the_code_and_renders_its_bold(nn):
    english = translate.english_notebooks()[nn]
    found = [p for p in translate.problems(english) if p.kind in ("numbers", "code", "markup")]
    assert not found, f"{english.stem}:\n" + "\n".join(map(str, found))


@pytest.mark.parametrize("nn", TRANSLATED)
def test_the_zh_notebook_is_what_build_writes(nn):
    english = translate.english_notebooks()[nn]
    target = translate.zh_notebook_path(english)
    assert target.is_file(), f"run `python -m course.translate build {nn}`"
    assert translate.same_notebook(target.read_text("utf-8"), translate.render(english)), (
        f"{target.name} is not what `python -m course.translate build {nn}` writes: edit "
        f"{translate.translation_path(english).name}, never the notebook, then build"
    )


@pytest.mark.parametrize("nn", TRANSLATED)
def test_the_zh_notebook_has_the_english_cells_and_outputs(nn):
    """Said on its own, whatever build does: the same cells in the same order, code cells
    identical, outputs copied (or, once executed, of the same types)."""
    english = translate.english_notebooks()[nn]
    en = nbformat.read(english, as_version=4)
    zh = nbformat.read(translate.zh_notebook_path(english), as_version=4)
    assert [(c.id, c.cell_type) for c in zh.cells] == [(c.id, c.cell_type) for c in en.cells]
    copied = zh.metadata[translate.METADATA_KEY]["outputs"] == "copied"
    first = next(c.id for c in en.cells if c.cell_type == "code")
    for a, b in zip(en.cells, zh.cells, strict=True):
        assert a.metadata == b.metadata, f"cell {a.id}: metadata (tags, collapsed) differ"
        if a.cell_type == "code":
            # the one declared difference: lang="zh" in the first cell's setup_notebook call
            source = translate.zh_code(a.source) if a.id == first else a.source
            assert source == b.source, f"cell {a.id}: the zh code differs from the English"
            if copied:
                assert a.outputs == b.outputs, f"cell {a.id}: outputs differ"
        else:
            assert b.source != a.source or not a.source.strip(), f"cell {a.id} is in English"


def test_zh_notebooks_are_collected_only_when_the_command_names_them():
    """The README's command (no arguments: testpaths) leaves them out, to stay within its budget;
    `python -m pytest notebooks/zh` (a step of .ci/run) runs and compares them (tests/README.md)."""
    import importlib.util
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    readme = SimpleNamespace(rootpath=ROOT, args=[str(ROOT / "tests"), str(ROOT / "notebooks")])
    named = SimpleNamespace(rootpath=ROOT, args=[str(ROOT / "notebooks" / "zh")])
    for nn in TRANSLATED:
        path = translate.zh_notebook_path(translate.english_notebooks()[nn])
        assert conftest.pytest_ignore_collect(path, readme) is True
        assert conftest.pytest_ignore_collect(path, named) is None


# --- the rules themselves, on a small notebook in a temporary course ---------------------------


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course with one English notebook of three markdown cells and a code cell."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name, value in [("ROOT", tmp_path), ("NOTEBOOKS", notebooks), ("ZH", notebooks / "zh")]:
        monkeypatch.setattr(translate, name, value)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 05 · Title\n\nA batch of 4,096 tokens.", id="intro"),
        nbformat.v4.new_code_cell("x = 1\nx", id="code1"),
        nbformat.v4.new_markdown_cell("Call `generate(num_beams=3)` twice.", id="beams"),
        nbformat.v4.new_markdown_cell("GPT-2 reads UTF-8.", id="names"),
    ]
    nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "1"})]
    english = notebooks / "05_demo.ipynb"
    nbformat.write(nb, english)
    return english


def fill(english, texts):
    path = translate.translation_path(english)
    text = path.read_text("utf-8")
    for cell_id, zh in texts.items():
        marker = next(line for line in text.splitlines() if f"cell: {cell_id} " in line)
        text = text.replace(marker + "\n", marker + "\n" + zh + "\n", 1)
    path.write_text(text, "utf-8")


GOOD = {
    "intro": "# 05 · 标题\n\n一批 4096 个词元。",
    "beams": "调用两次 `generate(num_beams=3)`。",
    "names": "GPT-2 读取 UTF-8 编码。",
}


def kinds(english):
    return sorted((p.kind, p.cell_id) for p in translate.problems(english))


def test_start_fill_build_and_a_clean_status(course, capsys):
    assert translate.main(["start", "05"]) == 0
    assert kinds(course) == [
        ("missing", "beams"),
        ("missing", "intro"),
        ("missing", "names"),
        ("unbuilt", "05_demo.ipynb"),
    ]
    fill(course, GOOD)
    assert translate.main(["build"]) == 0
    assert translate.main(["status", "05"]) == 0
    assert "3/3 markdown cells translated, 0 stale" in capsys.readouterr().out
    zh = nbformat.read(translate.zh_notebook_path(course), as_version=4)
    assert [c.source for c in zh.cells] == [GOOD["intro"], "x = 1\nx", GOOD["beams"], GOOD["names"]]
    assert zh.cells[1].outputs[0]["data"] == {"text/plain": "1"}
    assert translate.main(["build", "--check"]) == 0


def test_a_changed_english_cell_makes_its_translation_stale_until_stamped(course, capsys):
    translate.start(course)
    fill(course, GOOD)
    translate.build(course)
    nb = nbformat.read(course, as_version=4)
    nb.cells[2].source = "Call `generate(num_beams=3)` three times."
    nbformat.write(nb, course)
    assert ("stale", "beams") in kinds(course)
    assert translate.main(["status", "--english"]) == 1
    out = capsys.readouterr().out
    assert "stale    beams" in out and "| Call `generate(num_beams=3)` three times." in out
    assert translate.main(["stamp", "05", "beams"]) == 0
    assert "marked as reviewed: beams" in capsys.readouterr().out
    assert kinds(course) == []  # the markdown changed, the built notebook still reads the same


def test_the_built_notebook_must_be_what_build_writes(course, capsys):
    translate.start(course)
    fill(course, GOOD)
    target = translate.build(course)
    nb = json.loads(target.read_text("utf-8"))
    nb["cells"][1]["source"] = "x = 2\nx"  # a code cell edited in the zh notebook
    target.write_text(json.dumps(nb), "utf-8")
    assert ("unbuilt", "05_demo.ipynb") in kinds(course)
    assert translate.main(["build", "--check"]) == 1
    assert "NOT current" in capsys.readouterr().out
    translate.build(course)
    nb = nbformat.read(target, as_version=4)
    nb.cells[0].source = "# 05 · 改过的标题"  # a markdown cell edited in the notebook, not the text
    nbformat.write(nb, target)
    assert ("unbuilt", "05_demo.ipynb") in kinds(course)


def test_executed_outputs_may_differ_but_nothing_else(course):
    translate.start(course)
    fill(course, GOOD)
    executed = nbformat.reads(translate.render(course, outputs="executed"), as_version=4)
    executed.cells[1].outputs[0]["data"] = {"text/plain": "一"}
    assert translate.same_notebook(nbformat.writes(executed), translate.render(course))
    executed.cells[1].source = "x = 2"
    assert not translate.same_notebook(nbformat.writes(executed), translate.render(course))


def test_build_execute_runs_the_zh_notebook_through_store_outputs(course, tmp_path, monkeypatch):
    """The wiring only: a stand-in for tests/store_outputs.py writes outputs as a kernel would."""
    fake = tmp_path / "store.py"
    fake.write_text(
        "import sys, nbformat\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "nb.cells[1].outputs = [nbformat.v4.new_output('stream', name='stdout', text='一\\n')]\n"
        "nb.metadata['language_info'] = {'name': 'python', 'version': '3.99'}\n"
        "nbformat.write(nb, sys.argv[1])\n"
    )
    monkeypatch.setattr(translate, "STORE_OUTPUTS", fake)
    translate.start(course)
    fill(course, GOOD)
    assert translate.main(["build", "--execute", "05"]) == 0
    zh = nbformat.read(translate.zh_notebook_path(course), as_version=4)
    assert zh.metadata[translate.METADATA_KEY]["outputs"] == "executed"
    assert zh.cells[1].outputs[0]["text"] == "一\n"
    assert kinds(course) == []  # executed outputs differ from the English, and may
    fake.write_text("raise SystemExit(3)\n")
    with pytest.raises(SystemExit, match="executing 05_demo.ipynb failed"):
        translate.main(["build", "--execute", "05"])


def test_a_plain_build_keeps_executed_outputs_and_refuses_once_the_code_changed(
    course, tmp_path, monkeypatch
):
    """A translation edited after ``build --execute``: a plain build rewrites the text and keeps
    the Chinese outputs (it used to write the English ones back); a changed code cell makes
    them stale, and the plain build says to execute."""
    fake = tmp_path / "store.py"
    fake.write_text(
        "import sys, nbformat\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "nb.cells[1].outputs = [nbformat.v4.new_output('stream', name='stdout', text='一\\n')]\n"
        "nbformat.write(nb, sys.argv[1])\n"
    )
    monkeypatch.setattr(translate, "STORE_OUTPUTS", fake)
    translate.start(course)
    fill(course, GOOD)
    target = translate.build(course, execute=True)
    executed = target.read_text("utf-8")
    translate.build(course)  # nothing changed: nothing written
    assert target.read_text("utf-8") == executed
    path = translate.translation_path(course)
    path.write_text(path.read_text("utf-8").replace("读取 UTF-8 编码", "读的是 UTF-8"), "utf-8")
    translate.build(course)
    zh = nbformat.read(target, as_version=4)
    assert zh.cells[3].source == "GPT-2 读的是 UTF-8。" and zh.cells[1].outputs[0]["text"] == "一\n"
    assert zh.metadata[translate.METADATA_KEY]["outputs"] == "executed"
    assert kinds(course) == []
    nb = nbformat.read(course, as_version=4)
    nb.cells[1].source = "x = 2\nx"
    nbformat.write(nb, course)
    with pytest.raises(SystemExit, match=r"changed since .* build 05 --execute"):
        translate.build(course)
    assert nbformat.read(target, as_version=4).cells[1].source == "x = 1\nx"  # left as it was


@pytest.mark.parametrize(
    "cell_id, zh, kind",
    [
        ("intro", "# 05 · 标题\n\n一批 4097 个词元。", "numbers"),
        ("intro", "# 05 · 标题\n\n一批词元。", "numbers"),
        ("intro", "# 05 · 标题\n\n第 1 批，4,096 个词元。", "numbers"),
        ("beams", "调用两次 `generate(num_beams=2)`。", "numbers"),
        ("beams", "调用两次 generate(num_beams=3)。", "code"),
        ("beams", "调用两次 `generate(num_beams = 3)`。", "code"),
    ],
)
def test_a_translation_that_changes_a_number_or_code_fails(course, cell_id, zh, kind):
    translate.start(course)
    fill(course, {**GOOD, cell_id: zh})
    assert (kind, cell_id) in kinds(course)


def test_numbers_are_read_as_a_reader_reads_them():
    assert translate.numbers("约20分钟，4,096 个，0.5 倍，第 3 节") == translate.numbers(
        "about 20 minutes, 4096 pieces, 0.5x, section 3"
    )
    assert not translate.numbers("GPT-2, UTF-8, float32, GPT2LMHeadModel")


def test_a_number_named_on_the_marker_may_differ(course):
    translate.start(course)
    fill(course, {**GOOD, "intro": "# 05 · 标题\n\n第 1 批，4096 个词元。"})
    path = translate.translation_path(course)
    text = path.read_text("utf-8")
    marker = next(line for line in text.splitlines() if "cell: intro " in line)
    path.write_text(text.replace(marker, marker.replace(" -->", " allow: 1 -->")), "utf-8")
    assert ("numbers", "intro") not in kinds(course)


def test_an_entry_for_a_cell_the_english_lost_is_an_orphan(course):
    translate.start(course)
    fill(course, GOOD)
    path = translate.translation_path(course)
    path.write_text(path.read_text("utf-8") + "\n<!-- cell: gone sha: 0123456789ab -->\n旧文\n")
    assert ("orphan", "gone") in kinds(course)


def test_an_untranslated_cell_keeps_its_english_in_the_build(course, capsys):
    translate.start(course)
    fill(course, {"intro": GOOD["intro"]})
    assert translate.main(["build", "05"]) == 0
    assert "(2 cells still in English)" in capsys.readouterr().out
    zh = nbformat.read(translate.zh_notebook_path(course), as_version=4)
    assert zh.cells[2].source == "Call `generate(num_beams=3)` twice."


@pytest.mark.parametrize(
    "argv, says",
    [
        (["build", "99"], "'99' is not a notebook of the course"),
        (["build", "5"], "'5' is not a notebook of the course"),
        (["build", "05_other"], "notebook 05 is 05_demo"),
        (["build", "05"], "notebook 05 has no translation yet"),
        (["status"], None),  # no translation at all: status lists what is not started
        (["stamp", "05", "intro"], "notebook 05 has no translation yet"),
        (["start", "banana"], "'banana' is not a notebook of the course"),
    ],
)
def test_a_bad_command_line_ends_with_one_line_and_status_2(course, capsys, argv, says):
    if says is None:
        assert translate.main(argv) == 0
        assert "05_demo: not started (0/3 markdown cells)" in capsys.readouterr().out
        return
    with pytest.raises(SystemExit) as stop:
        translate.main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert says in err.splitlines()[-1] and "Traceback" not in err
    assert not translate.ZH.exists() or not any(translate.ZH.iterdir())  # nothing written


@pytest.mark.parametrize(
    "argv, says",
    [
        (["stamp", "05", "code1"], "has no markdown cell 'code1'"),
        (["stamp", "05", "nope"], "has no markdown cell 'nope'"),
        (["start", "05"], "05_demo.zh.md exists already"),
        (["build", "--check", "--execute"], "--check writes nothing"),
    ],
)
def test_bad_commands_on_a_started_translation(course, capsys, argv, says):
    translate.start(course)
    with pytest.raises(SystemExit) as stop:
        translate.main(argv)
    assert stop.value.code == 2
    assert says in capsys.readouterr().err.splitlines()[-1]


def test_a_malformed_marker_is_named_with_its_line(course, capsys):
    translate.start(course)
    path = translate.translation_path(course)
    path.write_text(path.read_text("utf-8") + "\n<!-- cell: x sha: 12 -->\n", "utf-8")
    with pytest.raises(SystemExit) as stop:
        translate.main(["status", "05"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "05_demo.zh.md:" in err and "a marker reads" in err and "Traceback" not in err
    path.write_text(path.read_text("utf-8").replace("sha: 12 -->", "sha: 0123456789ab -->"))
    path.write_text(path.read_text("utf-8") + "<!-- cell: x sha: 0123456789ab -->\n", "utf-8")
    with pytest.raises(ValueError, match="cell x is translated twice"):
        translate.load(course)


@pytest.mark.parametrize(
    "text, broken",
    [
        ("**为什么要一个一个地写？**在回答之前", True),  # after ？ the closing ** needs a space
        ("**为什么要一个一个地写**？在回答之前", False),
        ("**学习目标。** 学完本笔记本", False),
        ("请在运行代码*之前*先预测，位置 *t* 上", False),
        ("模型预测的是**“词元”**而不是词", True),  # the opening ** before “ needs a space
        ("- 列表\n- **词元**：`a*b`", False),
    ],
)
def test_bold_next_to_chinese_punctuation_is_caught(text, broken):
    assert bool(translate.emphasis_breaks(text)) is broken


# --- the teacher's guide, translated by section -----------------------------------------------

GUIDE = translate.guide()


def test_every_guide_section_has_a_reviewed_translation():
    found = [p for p in translate.problems(GUIDE) if p.kind in ("missing", "stale", "orphan")]
    assert not found, "TEACHING.zh.md:\n" + "\n".join(map(str, found))


def test_each_guide_section_keeps_numbers_code_citations_tables_and_figures():
    kinds = ("numbers", "code", "markup", "figures", "table")
    found = [p for p in translate.problems(GUIDE) if p.kind in kinds]
    assert not found, "TEACHING.zh.md:\n" + "\n".join(map(str, found))


def test_the_zh_guide_is_what_build_writes():
    target = translate.zh_notebook_path(GUIDE)
    assert target.is_file(), "run `python -m course.translate build`"
    assert target.read_text("utf-8") == translate.render(GUIDE), (
        "notebooks/zh/TEACHING.md is not what `python -m course.translate build` writes: edit "
        "TEACHING.zh.md, never the generated file, then build"
    )
    assert target.read_text("utf-8").startswith(translate.GENERATED_GUIDE)


def test_the_recounted_figures_are_found_where_bench_reading_puts_them():
    """The hash leaves out exactly what tests/notebooks/test_teaching.py holds to
    benchmarks/bench_reading.py: every row of the minutes table and each notebook's two minutes.
    Reformatting them so that the patterns miss would make every re-count a stale section."""
    texts = translate.english_texts(GUIDE)
    lessons = set(translate.english_notebooks())
    assert set(translate.figures(texts["how-the-minutes-were-measured"])) == lessons | {"total"}
    for nn in lessons:
        (key,) = [k for k in texts if k.startswith(f"{nn}-")]
        assert set(translate.figures(texts[key])) == {"in class", "alone"}, key
    others = [k for k in texts if k != "how-the-minutes-were-measured" and k[:2] not in lessons]
    assert not any(translate.figures(texts[k]) for k in others), "figures outside their places"


GUIDE_EN = """# Teacher's guide

Cells are cited as `NN#id`.

## How the minutes were measured

| notebook | words | in class (min) | alone (min) |
|---|---|---|---|
| 05 demo | 120 | 20 | 39 |
| **all** | 120 | **20** | **39** |

## 05 · Demo

**Goals.** Read 4,096 tokens. **In class** 20 min (about 12 with the cuts), **alone** 39 min.

| cell | question | answer |
|---|---|---|
| 05#beams | "How many beams?" | 3: `generate(num_beams=3)`, as 05#intro says |

```text
# a comment in a fenced block, not a heading
```
"""
GUIDE_ZH = {
    "teachers-guide": "# 教师指南\n\n单元格的引用格式是 `NN#id`。",
    "how-the-minutes-were-measured": (
        "## 时长是怎么估算的\n\n| 笔记本 | 词数 | 课堂（分钟） | 自学（分钟） |\n"
        "|---|---|---|---|\n"
        "| 05 示例 | 120 | 20 | 39 |\n| **合计** | 120 | **20** | **39** |"
    ),
    "05-demo": (
        "## 05 · 示例\n\n**目标。** 读 4096 个词元。**课堂** 20 分钟（删减后约 12 分钟），"
        "**自学** 39 分钟。\n\n| 单元格 | 问题 | 答案 |\n|---|---|---|\n"
        "| 05#beams | “几条束？” | 3：`generate(num_beams=3)`，见 05#intro |\n\n"
        "```text\n# a comment in a fenced block, not a heading\n```"
    ),
}


@pytest.fixture
def guide(course):
    """The small course with a teacher's guide of three sections, its translation started."""
    path = translate.guide()
    path.write_text(GUIDE_EN, "utf-8")
    translate.start(path)
    return path


def fill_guide(texts):
    path = translate.translation_path(translate.guide())
    text = path.read_text("utf-8")
    for key, zh in texts.items():
        marker = next(line for line in text.splitlines() if f"section: {key} " in line)
        text = text.replace(marker + "\n", marker + "\n" + zh + "\n", 1)
    path.write_text(text, "utf-8")


def test_the_guide_is_cut_at_its_headings_not_at_comments_in_code(guide):
    assert list(translate.english_texts(guide)) == list(GUIDE_ZH)
    assert (
        translate.slug("00 · Setup and a tour of the model") == "00-setup-and-a-tour-of-the-model"
    )
    assert translate.slug("Teacher's guide") == "teachers-guide"
    assert list(translate.sections("## A\n\nx\n\n## A\n\ny")) == ["a", "a-2"]


def test_guide_start_fill_build_and_a_clean_status(guide, capsys):
    assert ("missing", "05-demo") in kinds(guide)
    fill_guide(GUIDE_ZH)
    assert translate.main(["build"]) == 0
    assert "notebooks/zh/TEACHING.md: written" in capsys.readouterr().out
    assert kinds(guide) == []
    assert translate.main(["status", "TEACHING"]) == 0
    assert "TEACHING: 3/3 sections translated, 0 stale" in capsys.readouterr().out
    built = translate.zh_notebook_path(guide).read_text("utf-8")
    assert built == translate.GENERATED_GUIDE + "\n\n".join(GUIDE_ZH.values()) + "\n"
    assert translate.main(["build", "--check", "TEACHING"]) == 0


def test_a_missing_guide_section_fails_and_keeps_its_english(guide, capsys):
    fill_guide({k: v for k, v in GUIDE_ZH.items() if k != "05-demo"})
    translate.build(guide)
    assert kinds(guide) == [("missing", "05-demo")]
    assert "## 05 · Demo" in translate.zh_notebook_path(guide).read_text("utf-8")
    assert translate.main(["status", "--english"]) == 1
    out = capsys.readouterr().out
    assert "TEACHING: 2/3 sections translated, 0 stale" in out and "| ## 05 · Demo" in out


def test_a_changed_english_section_is_stale_until_stamped(guide, capsys):
    fill_guide(GUIDE_ZH)
    translate.build(guide)
    guide.write_text(GUIDE_EN.replace("about 12 with", "about 13 with"), "utf-8")
    assert ("stale", "05-demo") in kinds(guide)  # and its numbers: 12 is now 13
    assert translate.main(["status"]) == 1
    assert "stamp TEACHING 05-demo" in capsys.readouterr().out
    path = translate.translation_path(guide)  # the translator revises the text...
    path.write_text(path.read_text("utf-8").replace("约 12 分钟", "约 13 分钟"), "utf-8")
    assert translate.main(["stamp", "TEACHING", "05-demo"]) == 0  # ...and stamps it
    assert "marked as reviewed: 05-demo" in capsys.readouterr().out
    translate.build(guide)
    assert kinds(guide) == []


def test_recounted_minutes_are_not_stale_and_build_copies_them(guide, capsys):
    """benchmarks/bench_reading.py re-counts the minutes table and each notebook's minutes: no
    prose changed, so nothing is stale; the figures differ until `build` copies them."""
    fill_guide(GUIDE_ZH)
    translate.build(guide)
    recounted = (
        GUIDE_EN.replace("| 120 | 20 | 39 |", "| 125 | 21 | 40 |")
        .replace("| 120 | **20** | **39** |", "| 125 | **21** | **40** |")
        .replace("**In class** 20 min", "**In class** 21 min")
        .replace("**alone** 39 min", "**alone** 40 min")
    )
    guide.write_text(recounted, "utf-8")
    assert kinds(guide) == [
        ("figures", "05-demo"),
        ("figures", "how-the-minutes-were-measured"),
    ]
    assert translate.main(["build", "TEACHING"]) == 0
    assert "re-counted figures copied" in capsys.readouterr().out
    assert kinds(guide) == []
    text = translate.translation_path(guide).read_text("utf-8")
    assert "| 05 示例 | 125 | 21 | 40 |" in text and "| **合计** | 125 | **21** | **40** |" in text
    assert "**课堂** 21 分钟（删减后约 12 分钟），**自学** 40 分钟" in text


def test_a_recounted_notebook_time_line_is_not_stale_and_build_copies_it(course, capsys):
    """A notebook's own "**Time:**" line is re-counted like the guide's minutes
    (tests/notebooks/test_teaching.py): its figures leave the cell's hash, `build` copies them."""
    nb = nbformat.read(course, as_version=4)
    nb.cells[0].source += " **Time:** about 20 minutes in class, 39 alone."
    nbformat.write(nb, course)
    translate.start(course)
    fill(course, GOOD | {"intro": GOOD["intro"] + "**时长：** 课堂上约 20 分钟，自学约 39 分钟。"})
    translate.build(course)
    assert kinds(course) == []
    nb.cells[0].source = nb.cells[0].source.replace(
        "20 minutes in class, 39", "21 minutes in class, 40"
    )
    nbformat.write(nb, course)
    assert kinds(course) == [("figures", "intro")]
    assert translate.main(["build", "05"]) == 0
    assert "re-counted figures copied: ['intro']" in capsys.readouterr().out
    assert kinds(course) == []
    assert "课堂上约 21 分钟，自学约 40 分钟" in translate.translation_path(course).read_text(
        "utf-8"
    )
    nb.cells[0].source = nb.cells[0].source.replace("4,096", "4,097")  # prose: stale as before
    nbformat.write(nb, course)
    assert ("stale", "intro") in kinds(course)


def test_every_notebook_time_line_is_found_where_bench_reading_puts_it():
    """Reformatting the line so that the pattern misses would make every re-count a stale cell."""
    for nn in TRANSLATED:
        english = translate.english_notebooks()[nn]
        found = [
            k for k, text in translate.english_texts(english).items() if translate.figures(text)
        ]
        assert len(found) == 1, f"{english.stem}: the time line is in {found}"
        assert set(translate.figures(translate.entries_of(english)[found[0]].text)) == {
            "in class",
            "alone",
        }


@pytest.mark.parametrize(
    "old, new, kind",
    [
        ("读 4096 个词元", "读 4097 个词元", "numbers"),
        ("读 4096 个词元", "读词元", "numbers"),
        ("，见 05#intro", "", "code"),  # a citation dropped
        ("见 05#intro", "见 05#intr0", "code"),
        ("见 05#intro", "见05#intro", None),  # a citation right after a Chinese character
        ("`generate(num_beams=3)`", "generate(num_beams=3)", "code"),
        ("| 3：`generate", "3：`generate", "table"),  # two cells merged
        ("**课堂** 20 分钟", "课堂约 20 分钟", "figures"),  # its label lost (and 20 is prose)
        ("| 05 示例 | 120 | 20 | 39 |", "| 05 示例 | 120 | 21 | 39 |", "figures"),
        ("**目标。** 读", "**目标。**读", "markup"),
    ],
)
def test_a_guide_translation_that_changes_a_number_code_citation_or_table_fails(
    guide, old, new, kind
):
    changed = {k: v.replace(old, new) for k, v in GUIDE_ZH.items()}
    assert changed != GUIDE_ZH, old
    fill_guide(changed)
    found = [k for k, _ in kinds(guide) if k != "unbuilt"]
    assert kind in found if kind else found == [], found


def test_a_guide_entry_for_a_section_the_english_lost_is_an_orphan(guide):
    fill_guide(GUIDE_ZH)
    path = translate.translation_path(guide)
    path.write_text(path.read_text("utf-8") + "\n<!-- section: gone sha: 0123456789ab -->\n旧文\n")
    translate.build(guide)
    assert kinds(guide) == [("orphan", "gone")]


def test_the_generated_guide_must_be_what_build_writes(guide, capsys):
    fill_guide(GUIDE_ZH)
    target = translate.build(guide)
    target.write_text(target.read_text("utf-8").replace("示例", "例子"), "utf-8")
    assert ("unbuilt", "TEACHING.md") in kinds(guide)
    assert translate.main(["build", "--check"]) == 1
    assert "notebooks/zh/TEACHING.md: NOT current" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, says",
    [
        (["stamp", "TEACHING", "nope"], "TEACHING has no section 'nope'"),
        (["start", "TEACHING"], "TEACHING.zh.md exists already"),
    ],
)
def test_bad_commands_on_the_guide(guide, capsys, argv, says):
    with pytest.raises(SystemExit) as stop:
        translate.main(argv)
    assert stop.value.code == 2
    assert says in capsys.readouterr().err.splitlines()[-1]


def test_a_cell_marker_in_the_guide_is_named_with_its_line(guide, capsys):
    path = translate.translation_path(guide)
    path.write_text(path.read_text("utf-8") + "\n<!-- section: x sha: 12 -->\n", "utf-8")
    with pytest.raises(SystemExit) as stop:
        translate.main(["status", "TEACHING"])
    assert stop.value.code == 2
    assert "TEACHING.zh.md:" in capsys.readouterr().err


def test_the_first_code_cell_gets_lang_zh_and_nothing_else_changes():
    english = "from helpers import setup_notebook\ngen = setup_notebook(seed=0)\nprint(1)"
    zh = translate.zh_code(english)
    assert zh == english.replace("setup_notebook(seed=0)", 'setup_notebook(seed=0, lang="zh")')
    with pytest.raises(ValueError, match="must call setup_notebook"):
        translate.zh_code("x = 1")
