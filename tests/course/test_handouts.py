"""Student handouts hide every solution and all test scaffolding, and still run top to bottom.

The run itself (every outputs-cleared handout of both editions executed in a fresh kernel) is
marked `handouts` and left out of `python -m pytest`; .ci/run runs it as a separate step:
`python -m pytest -m handouts tests/course/test_handouts.py`.

The Chinese handouts (handouts/zh/, from notebooks/zh/) are checked at the end of this file: the
same cells as the English ones, and every word the handout adds in Chinese.
"""

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course import handouts
from tests._html import english_words as _english_words

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ZH = sorted((ROOT / "notebooks" / "zh").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("handouts")
    handouts.build(out)
    return out


def read(path):
    return nbformat.read(path, as_version=4)


def solution_lines(nb):
    """Lines of worked solutions a student must not see: neither comments, nor short lines, nor
    lines the lesson itself also contains (`with torch.no_grad():`)."""

    def lines(cells):
        return {ln.strip() for c in cells for ln in c.source.splitlines()}

    indices = set(handouts.solution_indices(nb))
    lesson = lines(c for i, c in enumerate(nb.cells) if i not in indices)
    return {
        ln
        for ln in lines(nb.cells[i] for i in indices) - lesson
        if len(ln) > 12 and not ln.startswith("#") and not handouts.NEXT.match(ln)
    }


def test_every_notebook_has_solutions_to_hide():
    for path in NOTEBOOKS:
        nb = read(path)
        assert handouts.solution_indices(nb), f"{path.name}: no solution cells found"
        assert solution_lines(nb)


@pytest.mark.parametrize("variant", list(handouts.VARIANTS))
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_solution_or_scaffolding_survives(built, variant, path):
    original = read(path)
    student = read(built / variant / path.name)
    nbformat.validate(student)
    text = "\n".join(c.source for c in student.cells)
    leaked = solution_lines(original) & {ln.strip() for ln in text.splitlines()}
    assert not leaked, f"solution lines in the handout: {sorted(leaked)[:3]}"
    assert "NBVAL" not in text
    assert "fmt: " + "skip" not in text  # the notebooks are left out of ruff format: they need none
    assert "For the teacher" not in text
    for cell in student.cells:
        tags = cell.metadata.get("tags", [])
        assert not [t for t in tags if t.startswith("nbval") or t == "solution"]
        assert "jupyter" not in cell.metadata and "collapsed" not in cell.metadata
    # one empty cell per exercise, saying which one
    n_exercises = max(
        int(m)
        for m in handouts.EXERCISE.findall(
            "\n".join(original.cells[i].source for i in handouts.solution_indices(original))
        )
    )
    quotes = handouts.exercises(original)
    assert sorted(quotes, key=int) == [str(k) for k in range(1, n_exercises + 1)]
    for k in range(1, n_exercises + 1):
        assert f"# Exercise {k}: " in text
    assert "The exercise above" not in text  # every empty cell names its exercise


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_outputs_cleared_in_one_variant_and_kept_but_for_solutions_in_the_other(built, path):
    original = read(path)
    cleared = read(built / "predict" / path.name)
    kept = read(built / "read" / path.name)
    code = [c for c in cleared.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "widgets" not in cleared.metadata
    start = handouts.solutions_start(original)
    lesson = [c for c in original.cells[:start] if c.cell_type == "code"]
    kept_code = [c for c in kept.cells if c.cell_type == "code"]
    assert [c.outputs for c in kept_code[: len(lesson)]] == [c.outputs for c in lesson]
    assert all(not c.outputs for c in kept_code[len(lesson) :]), "a solution's output survived"


def test_tag_solutions_collapses_them_and_leaves_outputs_alone(tmp_path):
    for path in NOTEBOOKS:
        nb = read(path)
        copy_path = tmp_path / path.name
        nbformat.write(nb, copy_path)
        assert handouts.main(["--tag-solutions", str(copy_path)]) == 0
        tagged = read(copy_path)
        nbformat.validate(tagged)
        assert len(tagged.cells) == len(nb.cells)
        indices = handouts.solution_indices(nb)
        for i, (before, after) in enumerate(zip(nb.cells, tagged.cells, strict=True)):
            assert after.source == before.source and after.get("outputs") == before.get("outputs")
            if i in indices:
                assert "solution" in after.metadata["tags"]
                assert after.metadata["jupyter"]["source_hidden"] is True
                if after.cell_type == "code":
                    assert after.metadata["jupyter"]["outputs_hidden"] is True
                    assert after.metadata["collapsed"] is True
            else:
                assert after.metadata == before.metadata
        # the tag now decides, and gives the same handout as the heading did
        assert handouts.solution_indices(tagged) == indices
        for keep in (False, True):
            assert handouts.handout(tagged, keep) == handouts.handout(nb, keep)
        again = copy.deepcopy(tagged)
        handouts.tag_solutions(again)
        assert again == tagged, "tagging twice changes nothing"


def test_default_out_dir_is_ignored_by_git():
    assert handouts.DEFAULT_OUT.parent == ROOT
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    probe = handouts.DEFAULT_OUT / "00_setup_and_tour.ipynb"
    run = subprocess.run(["git", "check-ignore", "-q", str(probe)], cwd=ROOT)
    assert run.returncode == 0, "handouts/ must be in .gitignore, so that `git pull` works"


def _command(*args):
    return subprocess.run(
        [sys.executable, "-m", "course.handouts", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_writes_both_variants_and_the_projector_copy_in_both_languages(tmp_path):
    run = _command(tmp_path / "h")  # no --lang: both editions
    assert run.returncode == 0, run.stderr
    names = [p.name for p in NOTEBOOKS]
    assert [p.name for p in ZH] == names  # a Chinese handout for every notebook
    for variant in [*handouts.VARIANTS, handouts.PROJECTOR]:
        assert sorted(p.name for p in (tmp_path / "h" / variant).iterdir()) == names
        assert sorted(p.name for p in (tmp_path / "h" / "zh" / variant).iterdir()) == names
    assert f"{tmp_path / 'h' / 'zh'}/ (zh)" in run.stdout


def test_the_lang_option_writes_one_edition(tmp_path):
    assert _command(tmp_path / "en", "--lang", "en").returncode == 0
    assert (tmp_path / "en" / "read").is_dir() and not (tmp_path / "en" / "zh").exists()
    assert _command(tmp_path / "zh", "--lang", "zh").returncode == 0
    assert sorted(p.name for p in (tmp_path / "zh").iterdir()) == ["zh"]
    assert len(list((tmp_path / "zh" / "zh" / "predict").glob("*.ipynb"))) == len(NOTEBOOKS)
    wrong = _command(tmp_path / "fr", "--lang", "fr")
    assert wrong.returncode == 2 and "invalid choice: 'fr'" in wrong.stderr
    assert "--lang {en,zh,both}" in _command("--help").stdout
    zh_tag = _command("--tag-solutions", "--lang", "zh")
    assert zh_tag.returncode == 2 and "the Chinese notebooks are generated" in zh_tag.stderr
    with pytest.raises(ValueError, match=r"lang='fr' is not one of \('en', 'zh'\)"):
        handouts.build(tmp_path / "never", langs=("fr",))
    with pytest.raises(ValueError, match=r"langs='zh': give a tuple"):
        handouts.build(tmp_path / "never", langs="zh")
    assert not (tmp_path / "never").exists()


@pytest.mark.handouts
@pytest.mark.parametrize("sub", ["", "zh"], ids=["en", "zh"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_handout_runs_top_to_bottom(built, path, sub):
    """The outputs-cleared handout, exercise cells left empty, in a fresh kernel of this Python,
    told to stay offline (the bundled model loads from the course's own files)."""
    from nbclient import NotebookClient

    folder = built / sub / "predict"
    student = read(folder / path.name)
    offline = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    NotebookClient(
        student,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    ).execute(env=offline)
    errors = [
        o
        for c in student.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert not errors
    assert all(c.execution_count for c in student.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_collapsed_solution_shows_a_neutral_first_line(path):
    """JupyterLab shows a collapsed cell's first line: it names the exercise, never the answer,
    in one form everywhere (`python -m course.handouts --tag-solutions` writes it)."""
    nb = read(path)
    for i in handouts.solution_indices(nb):
        cell = nb.cells[i]
        lines = [ln for ln in cell.source.splitlines() if not handouts.NBVAL_MARKER.match(ln)]
        assert handouts.NEUTRAL_LINE.match(lines[0]), f"{path.name} cell {cell.id}: {lines[0]!r}"
        assert cell.metadata["jupyter"]["source_hidden"] is True


def test_tag_solutions_gives_the_neutral_line_and_keeps_what_the_old_one_said():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("### Solutions"),
        nbformat.v4.new_code_cell("# Exercise 1: the answer is 42\nx = 42"),
        nbformat.v4.new_code_cell("print(x)"),
        nbformat.v4.new_markdown_cell("Because 6 x 7 = 42."),
        nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\n# Exercise 2\ny = 1"),
        nbformat.v4.new_code_cell("# Check yourself 00.1\ncheck('00.1', 3)"),
    ]
    assert handouts.tag_solutions(nb) == 5
    sources = [c.source for c in nb.cells[1:]]
    assert sources == [
        "# Solution to exercise 1 (open the cell to see it)\n# the answer is 42\nx = 42",
        "# Solution to exercise 1, continued (open the cell to see it)\nprint(x)",
        "*Solution to exercise 1, continued (open the cell to see it)*\n\nBecause 6 x 7 = 42.",
        "# NBVAL_IGNORE_OUTPUT\n# Solution to exercise 2 (open the cell to see it)\ny = 1",
        "# Solution to check yourself 00.1 (open the cell to see it)\ncheck('00.1', 3)",
    ]
    handouts.tag_solutions(nb)  # twice: nothing more changes
    assert [c.source for c in nb.cells[1:]] == sources
    student = handouts.handout(nb, keep_outputs=False)
    text = "\n".join(c.source for c in student.cells)
    assert text.count("# Exercise 1: write your code here") == 1
    assert "# Exercise 2: write your code here" in text and "42" not in text


@pytest.mark.parametrize("variant", list(handouts.VARIANTS))
def test_every_handout_ends_with_the_credit_from_citation_cff(built, variant):
    """CC BY asks for credit: the title, authors, version and both licences, as CITATION.cff
    (read here with the test suite's reader, not the handouts') states them."""
    from tests.test_citation import load_cff

    cff = load_cff(handouts.CITATION.read_text(encoding="utf-8"))
    for path in NOTEBOOKS:
        last = read(built / variant / path.name).cells[-1]
        assert last.cell_type == "markdown" and last.id == handouts.CREDIT_ID, path.name
        text = last.source
        assert f'"{cff["title"]}", version {cff["version"]}' in text
        assert all(a["name"] in text for a in cff["authors"])
        assert "Text and figures: CC BY 4.0" in text and "code: MIT" in text
        assert sorted(cff["license"]) == sorted(handouts.LICENCE_PARTS)
        assert ("Source: " in text) == ("repository-code" in cff)


def test_the_credit_gives_the_repository_address_only_when_citation_cff_has_one(tmp_path):
    cff = handouts.CITATION.read_text(encoding="utf-8")
    assert "repository-code" not in cff  # the course names no address yet: none is made up
    with_address = tmp_path / "CITATION.cff"
    with_address.write_text(cff + 'repository-code: "https://example.org/course"\n')
    assert handouts.credit_line(with_address).endswith(" Source: https://example.org/course")
    one_licence = tmp_path / "one.cff"
    one_licence.write_text(cff.replace("  - CC-BY-4.0\n", ""))
    assert "CC BY" not in handouts.credit_line(one_licence)
    unknown = tmp_path / "unknown.cff"
    unknown.write_text(cff.replace("  - CC-BY-4.0", "  - GPL-3.0-only"))
    with pytest.raises(ValueError, match=r"licence \['GPL-3.0-only'\] is not one of"):
        handouts.credit_line(unknown)
    empty = tmp_path / "empty.cff"
    empty.write_text("cff-version: 1.2.0\n")
    with pytest.raises(ValueError, match="lacks a title, authors, version or license"):
        handouts.credit_line(empty)


# --- made for prediction, and the teacher's projector copy ---------------------------------------

STOPS = handouts.guide_stops()


def test_the_guide_has_the_stops_the_predict_handouts_ask():
    assert len(STOPS) >= 25
    assert all(q and not q.startswith('"') for q in STOPS.values())
    assert {r[:2] for r in STOPS} == {p.name[:2] for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_predict_asks_each_stops_question_right_before_its_cell(built, path):
    nn = path.name[:2]
    student = read(built / "predict" / path.name)
    ids = [c.id for c in student.cells]
    mine = {r.split("#")[1]: q for r, q in STOPS.items() if r.startswith(f"{nn}#")}
    assert mine, f"notebook {nn} has no prediction stop in the guide"
    for stop, question in mine.items():
        before = student.cells[ids.index(stop) - 1]
        assert before.cell_type == "markdown" and before.source == f"**Predict:** {question}"
    asked = [c for c in student.cells if c.source.startswith("**Predict:** ")]
    assert len(asked) == len(mine)
    read_copy = read(built / "read" / path.name)
    assert not [c for c in read_copy.cells if c.source.startswith("**Predict:** ")]


def _passages(nn):
    nbs = read(next(p for p in NOTEBOOKS if p.name.startswith(nn)))
    by_id = {c.id: c for c in nbs.cells}
    for ref, moves in handouts.GIVEAWAYS.items():
        if ref.startswith(f"{nn}#"):
            for cell_id, passage, *_ in moves:
                text = handouts.find_passage(by_id[cell_id].source, passage, ref)
                yield ref.split("#")[1], cell_id, " ".join(text.split())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_prose_that_gives_an_answer_away_moves_after_the_cell_that_answers(built, path):
    """Each passage of GIVEAWAYS is gone from before its stop and stands right after the stop's
    cell (07: its whole first section's answer, after the last of its three stops); the read
    copy keeps the prose where it was."""
    nn = path.name[:2]
    student = read(built / "predict" / path.name)
    ids = [c.id for c in student.cells]
    flat = [" ".join(c.source.split()) for c in student.cells]
    original = read(path)
    order = [c.id for c in original.cells]
    for stop, cell_id, text in _passages(nn):
        assert f"{nn}#{stop}" in STOPS, f"GIVEAWAYS names {nn}#{stop}, no stop of the guide"
        assert order.index(cell_id) < order.index(stop), "the passage stood before the stop"
        where = [i for i, f in enumerate(flat) if text in f]
        assert where == [ids.index(stop) + 1], f"{nn}#{stop}: {text[:50]!r} at cells {where}"
        assert student.cells[where[0]].source.startswith(handouts.MOVED_NOTE)
        kept = " ".join(c.source for c in read(built / "read" / path.name).cells)
        assert text in " ".join(kept.split())


def test_notebook_07s_answer_waits_until_its_three_stops_are_predicted(built):
    path = next(p for p in NOTEBOOKS if p.name.startswith("07"))
    student = read(built / "predict" / path.name)
    ids = [c.id for c in student.cells]
    stops = sorted(ids.index(r.split("#")[1]) for r in STOPS if r.startswith("07#"))
    assert len(stops) == 3
    answer = [i for i, c in enumerate(student.cells) if "1. **The model predicts each" in c.source]
    assert answer == [stops[-1] + 1]
    for sentence in ["4. **Everything else makes", "None of them removes the chain."]:
        assert sentence in student.cells[answer[0]].source
    section1 = student.cells[ids.index("aae11712")].source
    assert section1.startswith("## 1. The answer") and "## 2. Training" in section1
    assert "predict first" in section1 and "**The model predicts" not in section1


def test_a_passage_the_notebook_no_longer_has_fails_the_build():
    nb = read(next(p for p in NOTEBOOKS if p.name.startswith("04")))
    for cell in nb.cells:
        if cell.id == "7239d7ec":
            cell.source = cell.source.replace("do not move at all", "stay put")
    with pytest.raises(
        ValueError, match=r"04#0687da11, cell 7239d7ec: the passage .* exactly once"
    ):
        handouts.handout(nb, False, number="04", stops=STOPS)


def test_exercise_placeholders_quote_their_exercise(built):
    for path in NOTEBOOKS:
        quotes = handouts.exercises(read(path))
        student = read(built / "predict" / path.name)
        for k, text in quotes.items():
            (cell,) = [c for c in student.cells if c.source.startswith(f"# Exercise {k}: ")]
            comment = " ".join(ln.removeprefix("# ") for ln in cell.source.splitlines())
            assert text.replace("**", "") in comment, f"{path.name} exercise {k}"
            assert comment.endswith("Write your code here, then run the cell.")
            assert all(len(ln) <= 100 for ln in cell.source.splitlines())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_projector_copy_keeps_everything_but_the_test_markers(built, path):
    original = read(path)
    copy_ = read(built / handouts.PROJECTOR / path.name)
    nbformat.validate(copy_)
    assert [c.id for c in copy_.cells] == [c.id for c in original.cells]
    for before, after in zip(original.cells, copy_.cells, strict=True):
        assert after.get("outputs") == before.get("outputs")
        kept = [ln for ln in before.source.splitlines() if not handouts.NBVAL_MARKER.match(ln)]
        want = "\n".join(kept) if before.cell_type == "code" else before.source
        assert after.source == want
        assert not [t for t in after.metadata.get("tags", []) if t in handouts.NBVAL_TAGS]
    text = "\n".join(c.source for c in copy_.cells)
    assert "NBVAL" not in text and "fmt: " + "skip" not in text
    assert len(handouts.solution_indices(copy_)) == len(handouts.solution_indices(original))
    if any("NBVAL" in c.source for c in original.cells):  # there was something to strip
        assert copy_ != original


def test_the_projector_copy_keeps_the_teachers_script():
    nb = read(next(p for p in NOTEBOOKS if p.name.startswith("02")))
    script = [c for c in nb.cells if handouts.TEACHER_NOTE.match(c.source)]
    assert script and all(c in handouts.projector_copy(nb).cells for c in script)


# --- the Chinese handouts (handouts/zh/, from notebooks/zh/) -------------------------------------

STOPS_ZH = handouts.guide_stops(lang="zh")
#: English words allowed in what a Chinese handout adds: the licences' names and CITATION.cff's
#: title and authors (names, as CITATION.cff gives them); everything else it adds is Chinese.
NAMES = ["CC BY", "MIT", "LICENSE"]


def _zh(path):
    return ROOT / "notebooks" / "zh" / path.name


def _cff_names():
    from tests.test_citation import load_cff

    cff = load_cff(handouts.CITATION.read_text(encoding="utf-8"))
    return [cff["title"], *(a["name"] for a in cff["authors"])]


def english_words(text: str) -> list[str]:
    """Latin-letter words (two letters or more) of `text` outside inline code, URLs and NAMES."""
    return _english_words(text, NAMES, quoted=False, shortest=2)


def _inserted(before: str, after: str) -> str:
    """What `after` has that `before` lacks (a cell of the notebook the handout changed)."""
    import difflib

    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return " ".join(after[j1:j2] for op, _, _, j1, j2 in matcher.get_opcodes() if op != "equal")


def frame(student, original, lang="zh") -> list[str]:
    """Every piece of text the handout wrote itself, with what it quotes from the notebook (an
    exercise, the guide's question, a moved passage, CITATION.cff's names) taken out."""
    by_id = {c.id: c for c in original.cells}
    solutions = {original.cells[i].id for i in handouts.solution_indices(original)}
    quotes = handouts.exercises(original)
    stops = handouts.guide_stops(lang=lang)
    moved = {}
    for ref, moves in handouts.PASSAGES[lang].items():
        for cell_id, passage, *_ in moves:
            if cell_id in by_id:
                text = handouts.find_passage(by_id[cell_id].source, passage, ref)
                moved.setdefault(ref.split("#")[1], []).append(handouts._tidy(text.strip()))
    pieces = []
    for cell in student.cells:
        text = cell.source
        if cell.id == handouts.CREDIT_ID:
            for name in _cff_names():
                text = text.replace(name, " ")
        elif cell.id.endswith("-predict"):
            ref = next(r for r in stops if r.split("#")[1] == cell.id.removesuffix("-predict"))
            text = text.replace(stops[ref], " ")
        elif cell.id.endswith("-answer"):
            for passage in moved[cell.id.removesuffix("-answer")]:
                text = text.replace(passage, " ")
        elif cell.id.endswith("-next"):
            text = ""  # the notebook's own "Next:" paragraph, kept
        elif cell.id in solutions and cell.cell_type == "code":
            flat = "".join(ln.removeprefix("# ") for ln in text.splitlines())
            flat = re.sub(r"\s+", "", flat)
            for quote in quotes.values():
                flat = flat.replace(re.sub(r"\s+", "", quote.replace("**", "")), " ")
            text = flat
        elif cell.id in solutions:
            pass  # a placeholder for an answer in words: all of it the handout's
        else:
            kept = "\n".join(
                ln
                for ln in by_id[cell.id].source.splitlines()
                if not handouts.NBVAL_MARKER.match(ln)
            )
            text = _inserted(kept if cell.cell_type == "code" else by_id[cell.id].source, text)
        if text.strip():
            pieces.append(text)
    return pieces


def test_the_chinese_words_table_has_every_english_entry_and_no_english_word():
    en, zh = handouts.WORDS["en"], handouts.WORDS["zh"]
    assert set(en) == set(zh)
    for key, value in zh.items():
        if key == "licences":
            assert set(value) == set(en["licences"])
            for what, where in value.values():
                assert not english_words(what + where), (key, what, where)
        else:
            bare = re.sub(r"\{\w+\}", " ", value)
            assert not english_words(bare), (key, value)
            assert re.findall(r"\{\w+\}", value) == re.findall(r"\{\w+\}", en[key]), key


@pytest.mark.parametrize("variant", list(handouts.VARIANTS))
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_chinese_handout_adds_no_english_word(built, variant, path):
    """Every prompt, placeholder, heading, note and the credit line of a Chinese handout is in
    Chinese; the check finds the English words of the same frame in an English-worded copy."""
    original = read(_zh(path))
    student = read(built / "zh" / variant / path.name)
    pieces = frame(student, original)
    assert pieces, "the handout added nothing to check"
    assert all(re.search(r"[\u4e00-\u9fff]", p) for p in pieces), pieces
    assert not [(p[:60], english_words(p)) for p in pieces if english_words(p)]
    # the same Chinese notebook with the handout's words in English: the check sees them
    english = handouts.handout(original, variant == "read")
    found = {w for p in frame(english, original) for w in english_words(p)}
    assert {"Your", "answers", "From", "version", "figures"} <= found
    assert ("Exercise" in found) == bool(handouts.exercises(original))


@pytest.mark.parametrize("variant", [*handouts.VARIANTS, handouts.PROJECTOR])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_chinese_handout_has_the_english_ones_cells_and_hides_the_same(built, variant, path):
    """The same cells in the same order as the English handout (ids and kinds), the same code
    but for the setup line's lang="zh", each solution hidden behind the same kind of placeholder,
    and no worked solution, test marker or teacher's note left."""
    en = read(built / variant / path.name)
    zh = read(built / "zh" / variant / path.name)
    nbformat.validate(zh)
    assert [(c.id, c.cell_type) for c in zh.cells] == [(c.id, c.cell_type) for c in en.cells]
    differ = [
        (a.source, b.source)
        for a, b in zip(en.cells, zh.cells, strict=True)
        if a.cell_type == "code" and a.source != b.source
    ]
    setup = [(a, b) for a, b in differ if "setup_notebook(" in a]
    assert len(setup) == 1 and setup[0][1] == setup[0][0].replace(")", ', lang="zh")', 1)
    rest = [(a, b) for a, b in differ if "setup_notebook(" not in a]
    if variant == handouts.PROJECTOR:
        assert not rest
        return
    # the rest that differ are the placeholders, which quote their exercise in each language
    assert all(a.startswith("# Exercise ") and b.startswith("# 练习 ") for a, b in rest)
    original = read(_zh(path))
    text = "\n".join(c.source for c in zh.cells)
    leaked = solution_lines(original) & {ln.strip() for ln in text.splitlines()}
    assert not leaked, f"solution lines in the handout: {sorted(leaked)[:3]}"
    assert "NBVAL" not in text and "给教师" not in text and "参考答案" not in text
    assert "### 你的答案" in text and "### Your answers" not in text
    for k in handouts.exercises(original):
        assert f"# 练习 {k}：" in text
    for cell in zh.cells:
        assert not [t for t in cell.metadata.get("tags", []) if t.startswith("nbval")]
        assert "solution" not in cell.metadata.get("tags", [])
        assert "jupyter" not in cell.metadata and "collapsed" not in cell.metadata
        if variant == "predict" and cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None
    assert "course_translation" not in zh.metadata  # "generated, do not edit": not for students
    if variant == "read":  # the lesson's outputs kept, as in the zh notebook
        lesson = {c.id: c for c in original.cells if c.cell_type == "code"}
        solutions = {original.cells[i].id for i in handouts.solution_indices(original)}
        for cell in zh.cells:
            if cell.id in lesson and cell.id not in solutions:
                assert cell.outputs == lesson[cell.id].outputs


def test_the_chinese_guide_has_the_english_ones_stops():
    assert set(STOPS_ZH) == set(STOPS)
    assert all(re.search(r"[\u4e00-\u9fff]", q) for q in STOPS_ZH.values())
    assert [(r, [m[0] for m in moves]) for r, moves in handouts.GIVEAWAYS_ZH.items()] == [
        (r, [m[0] for m in moves]) for r, moves in handouts.GIVEAWAYS.items()
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_chinese_predict_asks_the_chinese_questions_and_moves_the_chinese_giveaways(built, path):
    nn = path.name[:2]
    student = read(built / "zh" / "predict" / path.name)
    ids = [c.id for c in student.cells]
    mine = {r.split("#")[1]: q for r, q in STOPS_ZH.items() if r.startswith(f"{nn}#")}
    for stop, question in mine.items():
        assert student.cells[ids.index(stop) - 1].source == f"**先预测：** {question}"
    assert len([c for c in student.cells if c.source.startswith("**先预测：** ")]) == len(mine)
    assert not [c for c in student.cells if "Predict" in c.source and c.cell_type == "markdown"]
    original = read(_zh(path))
    by_id = {c.id: c for c in original.cells}
    flat = [" ".join(c.source.split()) for c in student.cells]
    kept = " ".join(
        " ".join(c.source.split()) for c in read(built / "zh" / "read" / path.name).cells
    )
    for ref, moves in handouts.GIVEAWAYS_ZH.items():
        if not ref.startswith(f"{nn}#"):
            continue
        stop = ref.split("#")[1]
        for cell_id, passage, *_ in moves:
            text = " ".join(handouts.find_passage(by_id[cell_id].source, passage, ref).split())
            where = [i for i, f in enumerate(flat) if text in f]
            assert where == [ids.index(stop) + 1], f"{ref}: {text[:30]!r} at cells {where}"
            assert student.cells[where[0]].source.startswith(handouts.WORDS["zh"]["moved"])
            assert text in kept
    if nn == "07":  # its whole first section's answer after the last of its three stops
        section1 = student.cells[ids.index("aae11712")].source
        assert "请先预测" in section1 and "**模型根据前面的词元" not in section1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_chinese_exercise_placeholders_quote_their_exercise_in_lines_that_fit(built, path):
    quotes = handouts.exercises(read(_zh(path)))
    assert quotes.keys() == handouts.exercises(read(path)).keys()
    student = read(built / "zh" / "predict" / path.name)
    for k, text in quotes.items():
        (cell,) = [c for c in student.cells if c.source.startswith(f"# 练习 {k}：")]
        lines = cell.source.splitlines()
        comment = "".join(ln.removeprefix("# ") for ln in lines)
        squeeze = re.compile(r"\s+")
        assert squeeze.sub("", text.replace("**", "")) in squeeze.sub("", comment)
        assert lines[-1] == "# " + handouts.WORDS["zh"]["write_here"]
        assert all(handouts.display_width(ln) <= 100 for ln in lines), path.name


def test_wrap_wide_breaks_between_chinese_characters_never_inside_code():
    text = '对提示 `"KING:\\nMy"`、`"To be, or not"` 分别强制第一个词元为前 5 名中的每一个。' * 3
    lines = handouts.wrap_wide(text, 40)
    assert len(lines) > 3 and all(handouts.display_width(ln) <= 42 for ln in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert not [ln for ln in lines if ln[0] in "，。、"]
    assert handouts.display_width("练习 1") == 6
    assert handouts.wrap_wide("", 10) == []


@pytest.mark.parametrize("sub", ["", "zh"], ids=["en", "zh"])
def test_no_handout_loads_anything_from_outside(built, sub):
    """A handout is a notebook file: no script, image or stylesheet in it points off the machine
    (the licence's address in the credit is a link to click, not a load)."""
    from course.site import _EXTERNAL

    for variant in [*handouts.VARIANTS, handouts.PROJECTOR]:
        for path in NOTEBOOKS:
            text = (built / sub / variant / path.name).read_text(encoding="utf-8")
            assert not _EXTERNAL.search(text), f"{sub}/{variant}/{path.name}"


def test_the_chinese_credit_line():
    line = handouts.credit_line(lang="zh")
    title, *authors = _cff_names()
    assert line.startswith(f"出自《{title}》，版本 ") and all(a in line for a in authors)
    # the address in <...>, so the link a renderer makes stops where the address does
    assert "<https://creativecommons.org/licenses/by/4.0/>；代码" in line
    assert "文字和图：CC BY 4.0" in line and "代码：MIT" in line and line.endswith("。")
    with pytest.raises(ValueError, match=r"lang='fr' is not one of"):
        handouts.credit_line(lang="fr")
