"""The teacher's guide cites cells that exist and covers every notebook; README shows its times."""

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "notebooks" / "TEACHING.md"
NOTEBOOKS = {p.name[:2]: p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}
CITATION = re.compile(r"\b(\d\d)#([A-Za-z0-9_-]+)")


def cell_ids(nn):
    return {c.id for c in nbformat.read(NOTEBOOKS[nn], as_version=4).cells}


def test_every_cited_cell_exists():
    citations = CITATION.findall(GUIDE.read_text())
    assert len(citations) > 50
    missing = [
        f"{nn}#{cid}" for nn, cid in citations if nn not in NOTEBOOKS or cid not in cell_ids(nn)
    ]
    assert not missing, f"TEACHING.md cites cells that do not exist: {missing}"


def test_every_notebook_has_its_section_with_prediction_stops():
    text = GUIDE.read_text()
    for nn in NOTEBOOKS:
        section = text.split(f"\n## {nn} · ")[1].split("\n## ")[0]
        for part in [
            "**Goals.**",
            "**In class**",
            "**alone**",
            "**Misconceptions.**",
            "**If short of time.**",
            "**Hazards.**",
        ]:
            assert part in section, f"notebook {nn}: no {part}"
        stops = re.findall(rf"^\| {nn}#\w+ \| .+ \| .+ \|$", section, flags=re.M)
        assert len(stops) >= 2, f"notebook {nn}: fewer than 2 prediction stops"


def test_sessions_and_quizzes_with_answer_keys():
    text = GUIDE.read_text()
    assert "### Two sessions of 90 minutes" in text and "### Four sessions of 45 minutes" in text
    quizzes = re.findall(r"^\*\*Quiz \d", text, flags=re.M)
    # one per 45-minute session: four, and the optional fifth (notebook 08)
    assert len(quizzes) == 5 and text.count("*Key.*") == 5
    assert "How the minutes were measured" in text and "bench_reading.py" in text


def test_readme_table_shows_both_times():
    readme = (ROOT / "README.md").read_text()
    assert "| notebook | what it shows | in class (min) | alone (min) |" in readme
    for path in NOTEBOOKS.values():
        (row,) = [ln for ln in readme.splitlines() if ln.startswith(f"| `{path.stem}` |")]
        assert re.search(r"\| \d+ \| \d+ \|$", row), row


def test_numbers_in_the_answers_come_from_the_cited_notebook():
    """An answer's measured number (two or more decimals) is in the cited notebook's stored
    outputs, so a re-stored notebook cannot leave the guide's answers stale."""
    from tests.notebooks.test_notebooks import DECIMAL, stored_numbers

    rows = re.findall(r"^\| (\d\d)#\S+ \| .+ \| (.+) \|$", GUIDE.read_text(), flags=re.M)
    assert len(rows) > 20
    stale = []
    for nn, answer in rows:
        stored = stored_numbers(nbformat.read(NOTEBOOKS[nn], as_version=4))
        stale += [
            f"{nn}: {m.group()} in {answer[:80]!r}"
            for m in DECIMAL.finditer(answer)
            if m.group() not in stored
        ]
    assert not stale, f"answers whose numbers no cell of the notebook prints: {stale}"


def _bench_reading():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_reading", ROOT / "benchmarks" / "bench_reading.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_minutes_tables_are_what_bench_reading_counts():
    """README's and TEACHING.md's minutes and counts are bench_reading.py's output: an edited
    notebook (or a new run time) cannot leave them stale."""
    bench = _bench_reading()
    guide, readme = GUIDE.read_text(), (ROOT / "README.md").read_text()
    total = [0] * 5
    for nn, path in NOTEBOOKS.items():
        c = bench.counts(path)
        m = bench.minutes(nn, c)
        want = [c["lesson_words"], c["lesson_code"], c["solution_code"]]
        want += [int(f"{m['in_class']:.0f}"), int(f"{m['alone']:.0f}")]
        total = [a + b for a, b in zip(total, want, strict=True)]
        (row,) = re.findall(rf"^\| {nn} [^|]+((?:\| \d+ )+)\|$", guide, flags=re.M)
        assert [int(x) for x in re.findall(r"\d+", row)] == want, f"TEACHING.md table, {nn}"
        section = guide.split(f"\n## {nn} · ")[1].split("\n## ")[0]
        said = re.search(
            r"\*\*In class\*\*\s+(\d+)\s+min.*?\*\*alone\*\*\s+(\d+)\s+min", section, flags=re.S
        )
        assert [int(said[1]), int(said[2])] == want[3:], f"TEACHING.md section {nn}"
        (readme_row,) = [ln for ln in readme.splitlines() if ln.startswith(f"| `{path.stem}` |")]
        assert readme_row.endswith(f"| {want[3]} | {want[4]} |"), readme_row
    words, code, solutions, in_class, alone = total
    assert f"| **all** | {words} | {code} | {solutions} | **{in_class}** | **{alone}** |" in guide


def test_each_notebook_states_its_measured_minutes():
    """A notebook's own "**Time:**" line is bench_reading.py's figure (it said "about 25 minutes"
    where the counts give 47-66 in class), so editing a notebook cannot leave it stale."""
    bench = _bench_reading()
    for nn, path in NOTEBOOKS.items():
        m = bench.minutes(nn, bench.counts(path))
        intro = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells[:3])
        said = re.findall(r"\*\*Time:\*\* about (\d+) minutes in class, (\d+) alone", intro)
        assert said == [(f"{m['in_class']:.0f}", f"{m['alone']:.0f}")], f"{path.name}: {said}"
