"""The teacher's guide cites cells that exist and covers every notebook, every answer it gives is
what the cited cell shows, and README shows its times."""

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

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


# --- every answer a teacher reads aloud, checked against the cell it cites ----------------------
# The places: the prediction stops' answers, the misconception paragraphs and the quiz keys. In
# each, a number (integer, decimal, count in words) or a quoted token string is an answer, and an
# answer comes from a cell: it must be among the stored outputs of a cell the same answer cites (a
# stop's answer also cites its row's cell; a cited markdown cell counts with its text). A number
# that is not an output needs one of three reasons, each checked by the test, never an allow-list:
# - it is given: the question (or the misconception's quoted claim) states it;
# - it is computed: it stands in an equation the test evaluates (`1/7 = 0.1429`), or it is a
#   constant of a formula (`k + 1`, `T − 1`);
# - it points into the course: `notebook 01`, `sections 3-5`, `exercise 2` (the notebook must
#   exist, the section must be one of that notebook's numbered headings).
# Names that contain digits (GPT-2, float32, UTF-8, H100, 124M) are not numbers. A number followed
# by a unit the cell's outputs also name (`9 words`, `0.5 FLOP per byte`) must stand in the same
# output line or table column as that unit, so a table's row number cannot answer for it. A
# stop's question sets up its cell ("13 tokens in"): its numbers are checked the same way.

NUMBER_WORDS = dict(
    zip(
        "two three four five six seven eight nine ten eleven twelve".split(),
        range(2, 13),
        strict=True,
    )
)
NUMBER = re.compile(
    r"(?<![\w.·\\/])(?<![A-Za-z]-)(\d+(?:\.\d+)?(?:/\d+)?)(?!(?!x\b)[\w/]|\.\d)"
    rf"|\b({'|'.join(NUMBER_WORDS)})\b",
    flags=re.I,
)
REFERENCE = re.compile(
    r"\b(notebooks?|sections?|exercises?|quiz(?:zes)?)\s+(\d+(?:(?:,\s*|\s+and\s+|\s*-\s*)\d+)*)",
    flags=re.I,
)
SIDE = r"(?:ln\s+)?\d+(?:\.\d+)?"
EQUATION = re.compile(
    rf"{SIDE}(?:\s*[×*/+−-]\s*{SIDE})*(?:\s*=\s*{SIDE}(?:\s*[×*/+−-]\s*{SIDE})*)+"
)
FORMULA = re.compile(r"(?<=[A-Za-z*])\s*[+−-]\s*\d+\b|\b\d+\s*[+−×/-]\s*(?=\*?[A-Za-z])")
QUOTED = re.compile(r"`([^`]+)`")
CODE = re.compile(r"[()\[\]=_]|\w\.\w")  # `generate(num_beams=1)`, `[1, 13, V]`: code, not a token


def guide_answers(text: str) -> list[tuple[str, str, str, list[str]]]:
    """(where, given, answer, cited cells) for every answer a teacher reads aloud: each stop's
    answer (its row's cell cited too), each misconception, each item of each quiz key."""
    out = []
    for nn in NOTEBOOKS:
        section = text.split(f"\n## {nn} · ")[1].split("\n## ")[0]
        for cell, question, answer in re.findall(
            rf"^\| ({nn}#\w+) \| (.+) \| (.+) \|$", section, flags=re.M
        ):
            out.append((f"stop {cell}", question, answer, [cell]))
        misconceptions = section.split("**Misconceptions.**")[1].split("**If short of time.**")[0]
        for part in re.split(r'\s(?=")', " " + misconceptions.strip())[1:]:
            claim = re.match(r'"[^"]*"(?: \([^)]*\))?:', part, flags=re.S)
            assert claim, f"notebook {nn}: a misconception is not a quoted claim: {part[:60]!r}"
            out.append((f"misconception {nn}", claim.group(), part[claim.end() :], []))
    quizzes = text.split("## Concept quizzes")[1].split("\n## ")[0]
    for quiz in re.split(r"(?=^\*\*Quiz )", quizzes, flags=re.M)[1:]:
        name = re.match(r"\*\*(Quiz \d)", quiz)[1]
        questions = dict(re.findall(r"^(\d)\. (.+?)(?=^\d\. |\n\n)", quiz, flags=re.M | re.S))
        key = quiz.split("*Key.*")[1]
        items = re.findall(r"(?:^|\s)(\d): (.+?)(?=\s\d: |\Z)", key, flags=re.S)
        assert [n for n, _ in items] == sorted(questions), f"{name}: a key per question"
        out += [(f"{name} key {n}", questions[n], answer, []) for n, answer in items]
    return [
        (where, given, answer, cells + [f"{nn}#{cid}" for nn, cid in CITATION.findall(answer)])
        for where, given, answer, cells in out
    ]


class _Table(HTMLParser):
    """A DataFrame's HTML as records "row label | column header: value" (the label left out when
    it is a bare row number), so that a value is read with its column's unit."""

    def __init__(self):
        super().__init__()
        self.head, self.body, self.row, self.cell, self.in_head = [], [], None, None, False

    def handle_starttag(self, tag, attrs):
        if tag == "thead":
            self.in_head = True
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "thead":
            self.in_head = False
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join(self.cell.split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            (self.head if self.in_head else self.body).append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data

    def cells(self) -> list[str]:
        return [x for row in self.head + self.body for x in row]

    def records(self) -> list[str]:
        out = []
        for row in self.body:
            header = [" ".join(h[i] for h in self.head if i < len(h)) for i in range(len(row))]
            label = "" if re.fullmatch(r"\d+", row[0]) else f"{row[0]} | "
            out += [f"{label}{header[i]}: {value}" for i, value in enumerate(row) if i]
        return out


def shown(nb, cell_id: str) -> tuple[list[str], list[str]]:
    """What a cell shows a reader: (records, token candidates). Records are output lines and
    table cells (a markdown cell: its lines); candidates, the strings a token may be shown as:
    quoted strings and table cells. A cell whose output nbval does not compare shows nothing
    the guide may quote: its numbers differ from run to run."""
    cell = next(c for c in nb.cells if c.id == cell_id)
    if cell.cell_type == "markdown":
        return cell.source.splitlines(), []
    if "NBVAL_IGNORE_OUTPUT" in cell.source:  # a timing: its numbers change with every run
        return [], []
    records, candidates = [], []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "text/html" in data and "<table" in data["text/html"]:
            table = _Table()
            table.feed(data["text/html"])
            records += table.records()
            candidates += table.cells()
            continue
        text = str(out.get("text", "")) + str(data.get("text/plain", ""))
        records += text.splitlines()
        candidates += re.findall(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"", text)
    candidates = [c if isinstance(c, str) else "".join(c) for c in candidates]
    return records, candidates


def _value(s: str) -> float:
    s = s.lower()
    if s in NUMBER_WORDS:
        return NUMBER_WORDS[s]
    a, _, b = s.partition("/")
    return float(a) / float(b) if b else float(a)


def _decimals(s: str) -> int:
    return len(s.split(".")[1]) if "." in s and "/" not in s else 0


def _numbers_in(record: str) -> list[str]:
    return [m[1] or m[2] for m in NUMBER.finditer(record.replace("·", " "))]


def _same_number(said: str, printed: str) -> bool:
    """`said` is `printed` as the guide may write it: the same integer (a printed 128.0 is 128),
    or the printed decimal rounded to the decimals said (0.5 for 0.50, 3.65 for 3.6522)."""
    if "/" in said or "/" in printed:
        return said == printed
    d = _decimals(said)
    if _decimals(printed) < d:
        return False
    return f"{_value(printed):.{d}f}" == f"{_value(said):.{d}f}"


def _equations_hold(answer: str) -> tuple[set[float], list[str]]:
    """The numbers of the equations in `answer` that hold (`1100 = 40 × 8 + 40 × 39 / 2`,
    `ln 4096 = 8.32`: equal to the decimals written), and the equations that do not."""
    numbers, wrong = set(), []
    for m in EQUATION.finditer(answer):
        sides = [s.strip() for s in m.group().split("=")]
        values = [
            eval(  # only digits, operators and ln: EQUATION matched nothing else
                re.sub(r"ln\s+([\d.]+)", r"log(\1)", s.replace("×", "*").replace("−", "-")),
                {"log": math.log, "__builtins__": {}},
            )
            for s in sides
        ]
        d = min([_decimals(s) for s in sides if re.fullmatch(r"[\d.]+", s)] or [6])
        if all(f"{v:.{d}f}" == f"{values[0]:.{d}f}" for v in values):
            numbers |= {_value(n) for n in _numbers_in(m.group())}
        else:
            wrong.append(m.group())
    return numbers, wrong


def _unit(answer: str, end: int) -> str:
    m = re.match(r"[ -]([A-Za-z]{3,})(?![\w-])", answer[end:])
    return m[1].lower().removesuffix("s") if m else ""


def wrong_answers(text: str) -> list[str]:
    """Every number and quoted token of the guide's answers that its cited cells do not show,
    and every pointer into the course that leads nowhere."""
    notebooks = {nn: nbformat.read(p, as_version=4) for nn, p in NOTEBOOKS.items()}
    problems = []
    for where, given, answer, cells in guide_answers(text):
        nn_here = where.split()[1][:2] if where.startswith(("stop", "misconception")) else None
        records, candidates = [], []
        for cell in cells:
            nn, cid = cell.split("#")
            r, c = shown(notebooks[nn], cid)
            records, candidates = records + r, candidates + c
        shown_text = " ".join(records).lower()

        # quoted tokens: shown by a cited cell, with · for a space as the notebooks print them
        for token in QUOTED.findall(answer):
            if CODE.search(token):
                continue
            if not cells:
                problems.append(f"{where}: `{token}` cites no cell that shows it")
            elif not any(c.replace("·", " ") == token.replace("·", " ") for c in candidates):
                problems.append(f"{where}: `{token}` is not a token {', '.join(cells)} shows")

        # numbers: outside quotes, citations and names
        plain = CITATION.sub(lambda m: " " * len(m.group()), answer)
        plain = QUOTED.sub(lambda m: " " * len(m.group()), plain)
        pointers = set()
        for m in REFERENCE.finditer(plain):
            pointers |= set(range(m.start(), m.end()))
            kind, targets = m[1].lower(), [int(x) for x in re.findall(r"\d+", m[2])]
            if m[2].count("-") == 1 and "," not in m[2]:
                targets = list(range(targets[0], targets[1] + 1))
            if kind.startswith("notebook"):
                problems += [
                    f"{where}: notebook {t:02d} does not exist"
                    for t in targets
                    if f"{t:02d}" not in NOTEBOOKS
                ]
            elif kind.startswith("section") and nn_here:
                headings = {
                    int(h)
                    for c in notebooks[nn_here].cells
                    if c.cell_type == "markdown"
                    for h in re.findall(r"^## (\d+)\.", c.source, flags=re.M)
                }
                problems += [
                    f"{where}: notebook {nn_here} has no section {t}"
                    for t in targets
                    if t not in headings
                ]
        computed, broken = _equations_hold(plain)
        problems += [f"{where}: {eq!r} does not hold" for eq in broken]
        symbolic = {i for m in FORMULA.finditer(plain) for i in range(m.start(), m.end())}
        givens = {_value(n) for n in _numbers_in(QUOTED.sub(" ", given))}
        to_check = [
            (m, plain)
            for m in NUMBER.finditer(plain)
            if m.start() not in pointers | symbolic
            and _value(m[1] or m[2]) not in computed | givens
        ]
        if where.startswith("stop"):  # its question sets up the cell (13 tokens, step 4)
            question = QUOTED.sub(lambda m: " " * len(m.group()), given)
            to_check += [(m, question) for m in NUMBER.finditer(question)]
        for m, source in to_check:
            said, unit = m[1] or m[2], _unit(source, m.end())
            with_unit = unit and re.search(rf"\b{re.escape(unit)}", shown_text)
            look_in = [r for r in records if unit in r.lower()] if with_unit else records
            if not any(_same_number(said, n) for r in look_in for n in _numbers_in(r)):
                unit_note = f" (with its unit {unit!r})" if with_unit else ""
                cited = ", ".join(cells) or "no cell"
                problems.append(f"{where}: {said}{unit_note} is not shown by {cited}")
    return problems


def test_every_answer_is_what_its_cited_cell_shows():
    """Numbers and token strings of the stops, misconceptions and quiz keys are the stored outputs
    of the cells they cite: a re-stored notebook or a slip cannot leave a wrong answer in class."""
    answers = guide_answers(GUIDE.read_text())
    assert len(answers) > 60 and sum(w.startswith("stop") for w, *_ in answers) >= 25
    problems = wrong_answers(GUIDE.read_text())
    assert not problems, "TEACHING.md answers that their cells do not show:\n" + "\n".join(problems)


# The guide's wrong answers found when this test was written: each must fail it.
OLD_ERRORS = [
    ("12 tokens, 9 words", "12 tokens, 8 words", "8 (with its unit 'word')"),
    (
        "The tokens before it stay; every later step's probabilities change, and here 4 of its 5 "
        "tokens too: `,` for `?` gives ` is this, my lord?\\n\\n` against "
        "` is this?\\n\\nROMEO:\\n`.",
        "The first two stay; every later step's probabilities change, even where its token does "
        "not: here `!` for `?` gives ` is this!\\n\\nROMEO:\\n` against "
        "` is this?\\n\\nROMEO:\\n`.",
        "`!` is not a token 02#41bb56d5 shows",
    ),
    (
        '"A 256-token prompt fills the window. Press Step twice: what happens?" | The first press '
        "works: 256 tokens are read whole and predict token 257. The second is refused: a "
        "257-token text no longer fits the 256-token window (undo or reset) |",
        '"A 255-token prompt, press Step twice: what happens?" | One token fits (256 of 256); the '
        "second press is refused: the context window is full |",
        "255 (with its unit 'token') is not shown by 02#4002ae9e",
    ),
    ("from 3.65 to 9.11", "from 3.63 to 8.66", "8.66 is not shown by 03#b4513e92"),
    (
        "for one multiply-add per token, 2 FLOPs: in float32 that is 2 / 4 = 0.5 FLOP per byte, "
        "0.50 in\n05#09582a20's table; in 16 bits 2 / 2 = 1 (07#1e604ee1).",
        "for about one multiply-add per token: ≈ 1 FLOP per byte (05#09582a20).",
        "1 (with its unit 'flop') is not shown by 05#09582a20",
    ),
]


@pytest.mark.parametrize("right, wrong, said", OLD_ERRORS, ids=[w for _, w, _ in OLD_ERRORS])
def test_an_old_wrong_answer_fails(right, wrong, said):
    text = GUIDE.read_text()
    assert text.count(right) == 1, right
    problems = wrong_answers(text.replace(right, wrong))
    assert any(said in p for p in problems), problems


def test_every_stop_is_a_cell_whose_output_answers_it():
    """ "Ask before running the cell; the answer is the cell's output": a stop cites a code cell
    with stored outputs (07's stops cited the markdown above the cell)."""
    notebooks = {nn: nbformat.read(p, as_version=4) for nn, p in NOTEBOOKS.items()}
    stops = re.findall(r"^\| (\d\d)#(\w+) \| .+ \| .+ \|$", GUIDE.read_text(), flags=re.M)
    assert len(stops) >= 25
    not_answering = [
        f"{nn}#{cid}"
        for nn, cid in stops
        for cell in notebooks[nn].cells
        if cell.id == cid and (cell.cell_type != "code" or not cell.get("outputs"))
    ]
    assert not not_answering, f"stops at cells without outputs: {not_answering}"
