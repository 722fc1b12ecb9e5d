"""The Chinese edition, kept in step with the English: ``python -m course.translate COMMAND``.

The one source of truth for a Chinese notebook is a markdown file beside it,
``notebooks/zh/NN_name.zh.md``: the Chinese text of every markdown cell of the English notebook,
each after a marker line that names the cell and the English text it translates::

    <!-- cell: 83fbd5e2 sha: 1f0c2a9b7d3e -->
    # 00 · 环境准备与模型初探
    ...

``sha`` is the first 12 hex digits of the SHA-256 of the English cell's source when its
translation was last reviewed. When the English cell changes, its hash no longer matches: the
translation is *stale* until a translator has revised it and run ``stamp``. The notebook
``notebooks/zh/NN_name.ipynb`` is generated, never edited by hand: the English notebook with its
markdown replaced by the Chinese, the same code cells (but one: the first code cell's
``setup_notebook(seed=0)`` gets ``lang="zh"``, so the helpers' messages are Chinese), cell ids and
metadata, and the English stored outputs, copied (``build --execute`` runs the notebook instead
with tests/store_outputs.py, so that its outputs are the Chinese ones). A plain ``build`` of a
notebook that was executed keeps its Chinese outputs while the code is the same, and stops with a
message to run ``build NN --execute`` once the code has changed.

A translation keeps what a reader would type or look up: the multiset of numbers and of inline
code spans of each Chinese cell equals the English cell's. A number that has to differ is named
on its marker (``<!-- cell: ID sha: HASH allow: 3, 12 -->``); none does so far.

    python -m course.translate status [NN ...]     stale, missing and unbuilt cells (exit 1 if any)
    python -m course.translate build [NN ...]      write notebooks/zh/NN_name.ipynb [--execute]
    python -m course.translate build --check       exit 1 if a zh notebook is not what build writes
    python -m course.translate stamp NN ID [ID ...]  mark these cells' translations as reviewed
    python -m course.translate start NN            a new translation file, one empty text per cell
    python -m course.translate status NN --english   also print the English of what is to do

NN is a notebook's number (``00``), its name or its path; no NN means every notebook that has a
translation, and the teacher's guide. tests/course/test_translate.py runs the same checks;
tests/README.md says why the text lives in markdown files.

The teacher's guide, notebooks/TEACHING.md, is kept in step the same way, by section: NN is then
``TEACHING``, ``notebooks/zh/TEACHING.zh.md`` holds the Chinese of each ``#``/``##``/``###``
section under ``<!-- section: SLUG sha: HASH -->`` (SLUG: the heading's words, lower case, joined
by hyphens), and ``build`` writes ``notebooks/zh/TEACHING.md``. Two differences: cell citations
(``02#5011059c``) count as code; and the figures benchmarks/bench_reading.py re-counts (the
minutes table's rows, each notebook's ``**In class** N min``/``**alone** N min``) are left out
of the hash, since a re-count changes no prose: ``build`` copies them into the Chinese instead.
A notebook's own time line (``**Time:** about N minutes in class, M alone``, in Chinese
``**时长：** 课堂上约 N 分钟，自学约 M 分钟``) is re-counted by the same script: kept the same
way.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ZH = NOTEBOOKS / "zh"
STORE_OUTPUTS = ROOT / "tests" / "store_outputs.py"  # executes a notebook, stores its outputs
METADATA_KEY = "course_translation"

MARKER = re.compile(
    r"^<!-- (?P<kind>cell|section): (?P<id>[A-Za-z0-9_-]+) sha: (?P<sha>[0-9a-f]{12})"
    r"(?: allow: (?P<allow>[0-9.,\s]+?))? -->$"
)
HEADER = """<!--
{name}.ipynb 的中文译文。英文笔记本的每个 markdown 单元格对应一段，以一行标记开头：
  cell 是英文单元格的 id；sha 是所译英文原文的哈希（SHA-256 的前 12 位）。
英文单元格改动后哈希对不上，这段译文就算过时：改好译文后运行
  python -m course.translate stamp {nn} 单元格id
notebooks/zh/{name}.ipynb 由 python -m course.translate build 生成，不要直接编辑。
数字和行内代码（`...`）须与英文原文一一对应。一段写成一行：段内换行会在汉字之间多出空格。
-->
"""
# Numbers as a reader sees them: 4,096 and 4096 are one number; digits glued to a Latin letter or
# underscore in front (float32, GPT2LMHeadModel) or after a letter and a hyphen (GPT-2, UTF-8)
# are part of a name. CJK characters are word characters to Python, so "约20分钟" must still
# count 20: hence the explicit ASCII classes.
NUMBER = re.compile(r"(?<![A-Za-z0-9_.,])(?<![A-Za-z]-)\d+(?:,\d{3})*(?:\.\d+)?")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE_SPAN = re.compile(r"`([^`\n]+)`")


EMPHASIS = re.compile(r"\*+")


def _space(ch: str) -> bool:
    return ch.isspace()


def _punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def emphasis_breaks(text: str) -> list[str]:
    """The ``*``/``**`` marks a CommonMark renderer (JupyterLab, GitHub) would print as stars.

    A closing ``**`` must be right-flanking: after a punctuation mark it must be followed by a
    space or punctuation. English puts a space there; Chinese does not, so ``**问题？**在`` stays
    literal. The usual fix is to keep the full-width punctuation outside the bold: ``**问题**？在``.
    """
    plain = CODE_SPAN.sub("x", FENCE.sub("", text))
    runs: dict[int, list[tuple[bool, bool, str]]] = {}
    for m in EMPHASIS.finditer(plain):
        before = plain[m.start() - 1] if m.start() else " "
        after = plain[m.end()] if m.end() < len(plain) else " "
        if before == "\n" and after == " " or m.start() == 0 and after == " ":
            continue  # a list bullet
        left = not _space(after) and (not _punct(after) or _space(before) or _punct(before))
        right = not _space(before) and (not _punct(before) or _space(after) or _punct(after))
        context = plain[max(0, m.start() - 8) : m.end() + 8].replace("\n", " ")
        runs.setdefault(len(m.group()), []).append((left, right, context))
    broken = []
    for group in runs.values():
        for i, (left, right, context) in enumerate(group):
            if (i % 2 == 0 and not left) or (i % 2 == 1 and not right):
                broken.append(context)
    return broken


def source_hash(text: str) -> str:
    """The hash a marker records: 12 hex digits of the SHA-256 of an English cell's source."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def numbers(text: str) -> Counter:
    """The numbers of a text, as a multiset (thousands separators dropped)."""
    return Counter(m.replace(",", "") for m in NUMBER.findall(text))


def code_spans(text: str) -> Counter:
    """Fenced code blocks and inline code spans of a markdown text, as a multiset."""
    fences = FENCE.findall(text)
    return Counter(fences) + Counter(CODE_SPAN.findall(FENCE.sub("", text)))


@dataclass
class Entry:
    """One cell's translation: the Chinese text and what it was reviewed against."""

    cell_id: str
    sha: str
    text: str
    line: int
    allow: frozenset = field(default_factory=frozenset)


def parse(text: str, where: str = "translation", kind: str = "cell") -> dict[str, Entry]:
    """The entries of a ``.zh.md`` file, by cell id (``kind="section"``: by the guide's section
    slug); a malformed marker or a repeated id raises."""
    entries: dict[str, Entry] = {}
    current = None
    body: list[str] = []

    def close():
        if current is not None:
            current.text = "\n".join(body).strip("\n")
            entries[current.cell_id] = current

    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"<!-- {kind}:"):
            m = MARKER.match(line)
            if not m or m["kind"] != kind:
                raise ValueError(
                    f"{where}:{number}: a marker reads '<!-- {kind}: ID sha: 12 hex digits -->' "
                    f"(optionally 'allow: 3, 12' before '-->'), not {line!r}"
                )
            close()
            if m["id"] in entries:
                raise ValueError(f"{where}:{number}: {kind} {m['id']} is translated twice")
            allow = frozenset(a.replace(",", "") for a in re.split(r",\s*|\s+", m["allow"] or ""))
            current = Entry(m["id"], m["sha"], "", number, allow - {""})
            body = []
        elif current is not None:
            body.append(line)
    close()
    return entries


def english_notebooks() -> dict[str, Path]:
    """Every English lesson, by its number."""
    return {p.name[:2]: p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))}


def translation_path(english: Path) -> Path:
    return ZH / f"{english.stem}.zh.md"


def zh_notebook_path(english: Path) -> Path:
    return ZH / english.name


def translated() -> dict[str, Path]:
    """The English lessons that have a translation file."""
    return {nn: p for nn, p in english_notebooks().items() if translation_path(p).is_file()}


def load(english: Path) -> tuple[nbformat.NotebookNode, dict[str, Entry]]:
    nb = nbformat.read(english, as_version=4)
    path = translation_path(english)
    where = path.relative_to(ROOT).as_posix()
    return nb, parse(path.read_text(encoding="utf-8"), where)


@dataclass
class Problem:
    kind: str  # missing, stale, orphan, numbers, code, markup, unbuilt
    cell_id: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind:8} {self.cell_id}: {self.detail}"


# --- the teacher's guide, translated by section ---------------------------------------------

GUIDE_STEM = "TEACHING"
GUIDE_HEADER = """<!--
notebooks/TEACHING.md（教师指南）的中文译文。英文指南的每个 #、##、### 小节
对应一段，以一行标记开头：section 是小节标题的 slug；sha 是所译英文原文的
哈希（SHA-256 的前 12 位）。英文小节改动后哈希对不上，这段译文就算过时：
改好译文后运行
  python -m course.translate stamp TEACHING 小节slug
课时表各行和各笔记本 **课堂**/**自学** 后的分钟数由
benchmarks/bench_reading.py 重算，不计入哈希：重算后运行 build 即可，
它会把新数字抄进本文件。
notebooks/zh/TEACHING.md 由 python -m course.translate build 生成，不要直接编辑。
数字、行内代码（`...`）和单元格引用（如 02#5011059c）须与英文原文一一对应，
表格的行数和列数也一样。一段写成一行：段内换行会在汉字之间多出空格。
-->
"""
GENERATED_GUIDE = (
    "<!-- 由 python -m course.translate build 生成，不要直接编辑：译文在 TEACHING.zh.md，"
    "英文原文是 ../TEACHING.md。 -->\n\n"
)
HEADING = re.compile(r"^#{1,3} (.+)$")
CITATION = re.compile(
    r"(?<![A-Za-z0-9_#])\d\d#[A-Za-z0-9_-]+"
)  # ASCII look-behind: 见02#… cites too
# The figures benchmarks/bench_reading.py re-counts (tests/notebooks/test_teaching.py holds the
# English guide to them): a row of the minutes table (a notebook, `| NN name |`, or the bold total,
# then at least three whole numbers) and a notebook's minutes after **In class** and **alone**,
# which the Chinese labels **课堂** and **自学**.
FIGURE_ROW = re.compile(
    r"^(?P<head>\| (?:(?P<nn>\d\d) [^|]*?|\*\*[^*|]+\*\*) )(?P<cells>(?:\| \**\d+\** ){3,})\|$",
    re.M,
)
FIGURE_TIME = re.compile(r"\*\*(In class|alone|课堂|自学)\*\*(\s*)(\d+)")
# A notebook's own time line, re-counted by the same script (its first cells; test_teaching.py).
NOTEBOOK_TIME = re.compile(
    r"(?P<head>\*\*Time:\*\* about |\*\*时长：\*\* 课堂上约 )(?P<in_class>\d+)"
    r"(?P<mid> minutes in class, | 分钟，自学约 )(?P<alone>\d+)"
)
TIME_KEYS = {"In class": "in class", "课堂": "in class", "alone": "alone", "自学": "alone"}


def guide() -> Path:
    return NOTEBOOKS / f"{GUIDE_STEM}.md"


def is_guide(english: Path) -> bool:
    return english.suffix == ".md"


def slug(heading: str) -> str:
    """A heading's words, lower case, joined by hyphens: ``00 · Setup and a tour`` is
    ``00-setup-and-a-tour``, ``Teacher's guide`` is ``teachers-guide``."""
    return "-".join(re.findall(r"[a-z0-9]+", heading.lower().replace("'", "")))


def sections(text: str) -> dict[str, str]:
    """A markdown text by section, in order: slug -> the text from its ``#``, ``##`` or ``###``
    heading to the next one (a ``#`` line inside fenced code is code). A repeated slug gets
    ``-2``, ``-3``; text before the first heading is the section ``top``."""
    found: dict[str, str] = {}
    key, lines, fenced = "top", [], False

    def close():
        if "\n".join(lines).strip():
            found[key] = "\n".join(lines).strip("\n")

    for line in text.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
        m = None if fenced else HEADING.match(line)
        if m:
            close()
            key, n = slug(m[1]), 2
            while key in found:
                key, n = f"{slug(m[1])}-{n}", n + 1
            lines = []
        lines.append(line)
    close()
    return found


def figures(text: str) -> dict[str, str]:
    """The re-counted figures of a guide section, by what they count: ``{"03": "3650 465 43 58
    114", "total": "...", "in class": "58", "alone": "114"}``."""
    rows = FIGURE_ROW.finditer(text)
    found = {m["nn"] or "total": " ".join(re.findall(r"\d+", m["cells"])) for m in rows}
    found |= {TIME_KEYS[m[1]]: m[3] for m in FIGURE_TIME.finditer(text)}
    for m in NOTEBOOK_TIME.finditer(text):
        found |= {"in class": m["in_class"], "alone": m["alone"]}
    return found


def _replace_figures(text: str, value) -> str:
    """``text`` with every figure replaced by ``value(key, index, old)``."""

    def row(m):
        key, index = m["nn"] or "total", iter(range(len(m["cells"])))
        cells = re.sub(r"\d+", lambda d: value(key, next(index), d[0]), m["cells"])
        return f"{m['head']}{cells}|"

    def time(m):
        return f"**{m[1]}**{m[2]}{value(TIME_KEYS[m[1]], 0, m[3])}"

    def line(m):
        in_class, alone = value("in class", 0, m["in_class"]), value("alone", 0, m["alone"])
        return f"{m['head']}{in_class}{m['mid']}{alone}"

    return NOTEBOOK_TIME.sub(line, FIGURE_TIME.sub(time, FIGURE_ROW.sub(row, text)))


def without_figures(text: str) -> str:
    """What a guide section's (or a notebook cell's) hash covers: its text with the re-counted
    figures as ``#``."""
    return _replace_figures(text, lambda key, i, old: "#")


def with_figures(text: str, english: str) -> str:
    """A Chinese section with the figures of its English section as they are now."""
    new = {key: value.split() for key, value in figures(english).items()}
    return _replace_figures(
        text, lambda key, i, old: new[key][i] if i < len(new.get(key, [])) else old
    )


def section_hash(text: str) -> str:
    """The hash a marker records for a guide section or a notebook cell: the re-counted figures
    left out."""
    return source_hash(without_figures(text))


def _guide_prose(text: str) -> str:
    """A guide text as its numbers are counted: without citations and re-counted figures."""
    return CITATION.sub(" ", without_figures(text))


def _guide_code(text: str) -> Counter:
    """Code spans, fenced blocks and cell citations (``02#5011059c``), as a multiset."""
    plain = CODE_SPAN.sub(" ", FENCE.sub("", text))
    return code_spans(text) + Counter(CITATION.findall(plain))


def table_shapes(text: str) -> list[int]:
    """The cells of each table line, in order: a translation keeps the English rows and columns."""
    lines = CODE_SPAN.sub("x", FENCE.sub("", text)).splitlines()
    return [line.count("|") - 1 for line in lines if line.startswith("|")]


def english_texts(english: Path) -> dict[str, str]:
    """What there is to translate, by id: a notebook's markdown cells, or the guide's sections."""
    if is_guide(english):
        return sections(english.read_text(encoding="utf-8"))
    nb = nbformat.read(english, as_version=4)
    return {c.id: c.source for c in nb.cells if c.cell_type == "markdown"}


def entries_of(english: Path) -> dict[str, Entry]:
    if not is_guide(english):
        return load(english)[1]
    path = translation_path(english)
    where = path.relative_to(ROOT).as_posix()
    return parse(path.read_text(encoding="utf-8"), where, kind="section")


def render_guide(english: Path) -> str:
    """notebooks/zh/TEACHING.md: the header, then each section's Chinese (an untranslated section
    keeps its English) in the English order."""
    entries = entries_of(english)
    parts = [
        entries[key].text if key in entries and entries[key].text.strip() else source
        for key, source in english_texts(english).items()
    ]
    return GENERATED_GUIDE + "\n\n".join(parts) + "\n"


def copy_figures(english: Path) -> list[str]:
    """Write the English's re-counted figures into the translation (TEACHING.zh.md, or a
    notebook's time line; counts, not prose: nothing to review); returns the sections or cells
    whose figures changed."""
    path, sources = translation_path(english), english_texts(english)
    parts = re.split(r"(?m)^(<!-- (?:section|cell): .*-->)$", path.read_text(encoding="utf-8"))
    changed = []
    for i in range(1, len(parts), 2):
        key = MARKER.match(parts[i])["id"] if MARKER.match(parts[i]) else None
        if key in sources:
            new = with_figures(parts[i + 1], sources[key])
            if new != parts[i + 1]:
                parts[i + 1] = new
                changed.append(key)
    if changed:
        path.write_text("".join(parts), encoding="utf-8")
    return changed


def guide_checks(source: str, entry: Entry, guide: bool = True) -> list[Problem]:
    """What a guide section keeps besides numbers and code: its re-counted figures (copied by
    ``build``) and the shape of its tables (``guide=False``, a notebook cell: the figures)."""
    found = []
    en, zh = figures(source), figures(entry.text)
    if en.keys() != zh.keys():
        found.append(
            Problem(
                "figures",
                entry.cell_id,
                f"the minutes the English re-counts are {sorted(en)}, the Chinese has "
                f"{sorted(zh)}: keep each table row's notebook number and write a notebook's "
                "minutes as **课堂** N 分钟, **自学** N 分钟 (in a notebook: "
                "**时长：** 课堂上约 N 分钟，自学约 M 分钟)",
            )
        )
    elif en != zh:
        differ = sorted(k for k in en if en[k] != zh[k])
        found.append(
            Problem(
                "figures",
                entry.cell_id,
                f"re-counted since: {differ}: `python -m course.translate build` copies them",
            )
        )
    if guide and table_shapes(source) != table_shapes(entry.text):
        found.append(
            Problem(
                "table",
                entry.cell_id,
                f"table cells per line {table_shapes(entry.text)}, the English has "
                f"{table_shapes(source)}",
            )
        )
    return found


def check_entry(source: str, entry: Entry, guide: bool = False) -> list[Problem]:
    """What a reviewed translation must keep of its English cell: numbers and code, one for one.
    ``guide``: a section of the teacher's guide (its figures and citations count apart)."""
    problems = []
    if entry.sha != section_hash(source):
        problems.append(
            Problem(
                "stale",
                entry.cell_id,
                f"the English {'section' if guide else 'cell'} changed since this translation "
                "was reviewed: revise it, then `python -m course.translate stamp "
                f"{GUIDE_STEM if guide else 'NN'} {entry.cell_id}`",
            )
        )
    prose = _guide_prose if guide else without_figures
    en, zh = numbers(prose(source)), numbers(prose(entry.text))
    extra = {n: c for n, c in (zh - en).items() if n not in entry.allow}
    lost = {n: c for n, c in (en - zh).items() if n not in entry.allow}
    if extra or lost:
        problems.append(
            Problem(
                "numbers",
                entry.cell_id,
                f"the Chinese text has numbers the English does not ({sorted(extra) or 'none'}) "
                f"and lacks some it has ({sorted(lost) or 'none'})",
            )
        )
    broken = emphasis_breaks(entry.text)
    if broken:
        problems.append(
            Problem(
                "markup",
                entry.cell_id,
                f"these * marks would show as stars (put the full-width punctuation outside the "
                f"bold, or a space after it): {broken}",
            )
        )
    code = _guide_code if guide else code_spans
    en_code, zh_code = code(source), code(entry.text)
    if en_code != zh_code:
        problems.append(
            Problem(
                "code",
                entry.cell_id,
                f"code spans differ: only in the Chinese {sorted(zh_code - en_code)}, "
                f"only in the English {sorted(en_code - zh_code)}",
            )
        )
    return problems


def problems(english: Path) -> list[Problem]:
    """Everything that keeps one notebook's (or the guide's) translation from being in step with
    the English."""
    guide = is_guide(english)
    texts, entries = english_texts(english), entries_of(english)
    found = []
    for cell_id, source in texts.items():
        if cell_id not in entries or not entries[cell_id].text.strip():
            found.append(Problem("missing", cell_id, "not translated yet"))
        else:
            found += check_entry(source, entries[cell_id], guide)
            found += guide_checks(source, entries[cell_id], guide)
    for cell_id in entries.keys() - texts.keys():
        found.append(
            Problem(
                "orphan",
                cell_id,
                f"line {entries[cell_id].line}: "
                + (
                    "the English guide has no section of this slug (removed or renamed): "
                    "move its text to the new section's entry, then delete this one"
                    if guide
                    else "the English notebook has no markdown cell of this id (removed, or "
                    "now a code cell): delete this entry"
                ),
            )
        )
    target = zh_notebook_path(english)
    if not target.is_file():
        found.append(
            Problem("unbuilt", target.name, "not built: `python -m course.translate build`")
        )
    elif not same_notebook(target.read_text(encoding="utf-8"), render(english)):
        found.append(
            Problem(
                "unbuilt", target.name, "not what build writes: `python -m course.translate build`"
            )
        )
    return found


#: The one difference between the English and the Chinese code: the first code cell's
#: ``setup_notebook(...)`` call gets ``lang="zh"``, so that what the helpers print and draw
#: (``check()``'s feedback, the stepper) is Chinese (helpers.messages).
SETUP_CALL = "setup_notebook(seed=0)"
SETUP_CALL_ZH = 'setup_notebook(seed=0, lang="zh")'


def zh_code(source: str) -> str:
    """A first code cell's source as the Chinese notebook has it: ``lang="zh"`` added to its
    ``setup_notebook`` call (the English must hold exactly one ``SETUP_CALL``)."""
    if source.count(SETUP_CALL) != 1:
        raise ValueError(f"the first code cell must call {SETUP_CALL} once, to add lang='zh'")
    return source.replace(SETUP_CALL, SETUP_CALL_ZH)


def render(english: Path, outputs: str = "copied") -> str:
    """The Chinese notebook's file text: the English notebook with its markdown cells replaced by
    their translations (an untranslated cell keeps its English), outputs copied. For the guide:
    notebooks/zh/TEACHING.md (render_guide)."""
    if is_guide(english):
        return render_guide(english)
    nb, entries = load(english)
    zh = copy.deepcopy(nb)
    first = next((c for c in zh.cells if c.cell_type == "code"), None)
    if first is not None and SETUP_CALL in first.source:
        first.source = zh_code(first.source)
    for cell in zh.cells:
        if cell.cell_type == "markdown" and cell.id in entries and entries[cell.id].text.strip():
            cell.source = entries[cell.id].text
    zh.metadata[METADATA_KEY] = {
        "language": "zh-CN",
        "english": f"../{english.name}",
        "text": translation_path(english).name,
        "outputs": outputs,
        "generated_by": "python -m course.translate build (do not edit this file: edit the text)",
    }
    text = nbformat.writes(zh)
    return text if text.endswith("\n") else text + "\n"


def _without_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.get(METADATA_KEY, {}).pop("outputs", None)
    nb.metadata.pop("widgets", None)  # widget state is saved with the outputs that show it
    nb.metadata.pop("language_info", None)  # written by the kernel that ran it (its Python version)
    return nb


def same_notebook(stored: str, rendered: str) -> bool:
    """``stored`` is what build writes: byte for byte when its outputs were copied; when they
    were executed (``build --execute``), the same cells, sources, ids and metadata."""
    if stored == rendered:
        return True
    if not stored.lstrip().startswith("{"):  # the guide, a markdown file: byte for byte
        return False
    nb = nbformat.reads(stored, as_version=4)
    if nb.metadata.get(METADATA_KEY, {}).get("outputs") != "executed":
        return False
    return _without_outputs(nb) == _without_outputs(nbformat.reads(rendered, as_version=4))


def build(english: Path, execute: bool = False) -> Path:
    """Copy the re-counted figures into the translation, then write the zh notebook (for the
    guide, notebooks/zh/TEACHING.md: nothing to execute)."""
    target = zh_notebook_path(english)
    copy_figures(english)
    if is_guide(english):
        target.write_text(render_guide(english), encoding="utf-8")
    elif execute:
        target.write_text(render(english, outputs="executed"), encoding="utf-8")
        run = subprocess.run([sys.executable, str(STORE_OUTPUTS), str(target)])
        if run.returncode != 0:
            raise SystemExit(f"translate: executing {target.name} failed (exit {run.returncode})")
    else:
        rendered = render(english)
        stored = target.read_text(encoding="utf-8") if target.exists() else ""
        if stored and not same_notebook(stored, rendered):
            rendered = _keeping_executed_outputs(rendered, stored, english)
        if not stored or not same_notebook(stored, rendered):
            target.write_text(rendered, encoding="utf-8")
    return target


def _keeping_executed_outputs(rendered: str, stored: str, english: Path) -> str:
    """``rendered`` (the English outputs) with the outputs ``stored`` had, where ``stored`` was
    executed (``build --execute``: its figures and messages are the Chinese ones) and its code
    is the same: a plain build after a translation changed keeps them, instead of writing
    the English figures back. Where the code changed, those outputs are stale: SystemExit."""
    old = nbformat.reads(stored, as_version=4)
    if old.metadata.get(METADATA_KEY, {}).get("outputs") != "executed":
        return rendered
    new = nbformat.reads(rendered, as_version=4)

    def code(nb):
        return [(c.id, c.source) for c in nb.cells if c.cell_type == "code"]

    if code(new) != code(old):
        nn = english.name[:2]
        raise SystemExit(
            f"translate: the code of {english.name} changed since notebooks/zh/"
            f"{english.name} was executed: run `python -m course.translate build {nn} --execute`"
        )
    ran = {c.id: c for c in old.cells if c.cell_type == "code"}
    for cell in new.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = ran[cell.id].outputs, ran[cell.id].execution_count
    for key in ("widgets", "language_info"):  # what the run wrote beside its outputs
        if key in old.metadata:
            new.metadata[key] = old.metadata[key]
    new.metadata[METADATA_KEY]["outputs"] = "executed"
    text = nbformat.writes(new)
    return text if text.endswith("\n") else text + "\n"


def stamp(english: Path, cell_ids: list[str]) -> list[str]:
    """Record that the translations of ``cell_ids`` (or guide sections) were reviewed against the
    English as it is now (their markers get the current hash); returns those whose hash changed."""
    entries, sources = entries_of(english), english_texts(english)
    hashed = section_hash
    path = translation_path(english)
    lines = path.read_text(encoding="utf-8").split("\n")
    changed = []
    for cell_id in cell_ids:
        entry = entries[cell_id]
        new = hashed(sources[cell_id])
        if new != entry.sha:
            line = lines[entry.line - 1]
            lines[entry.line - 1] = line.replace(f" sha: {entry.sha}", f" sha: {new}", 1)
            changed.append(cell_id)
    path.write_text("\n".join(lines), encoding="utf-8")
    return changed


def start(english: Path) -> Path:
    """A new translation file: the header, and one marker per markdown cell with an empty text
    (an empty text counts as not translated: status lists it, build keeps the English). For the
    guide, one marker per section."""
    if is_guide(english):
        parts = [GUIDE_HEADER] + [
            f"<!-- section: {key} sha: {section_hash(text)} -->\n\n"
            for key, text in english_texts(english).items()
        ]
    else:
        parts = [HEADER.format(name=english.stem, nn=english.name[:2])] + [
            f"<!-- cell: {key} sha: {section_hash(text)} -->\n\n"
            for key, text in english_texts(english).items()
        ]
    path = translation_path(english)
    ZH.mkdir(exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _pick(parser: argparse.ArgumentParser, names: list[str], need_text: bool) -> list[Path]:
    """The English notebooks named on the command line (number, name or path), each checked."""
    lessons = english_notebooks()
    if not names:
        picked = [lessons[nn] for nn in translated()]
        picked += [guide()] if translation_path(guide()).is_file() else []
        if not picked:
            parser.error("no notebook has a translation yet (notebooks/zh/NN_name.zh.md)")
        return picked
    picked = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb").removesuffix(".zh.md").removesuffix(".md")
        if stem == GUIDE_STEM and guide().is_file():
            if need_text and not translation_path(guide()).is_file():
                parser.error(
                    f"the guide has no translation yet: `python -m course.translate start "
                    f"{GUIDE_STEM}` writes {translation_path(guide()).relative_to(ROOT).as_posix()}"
                )
            picked.append(guide())
            continue
        nn = stem[:2]
        if not re.fullmatch(r"\d\d(_\w+)?", stem) or nn not in lessons:
            parser.error(
                f"{name!r} is not a notebook of the course: give its number ({min(lessons)} to "
                f"{max(lessons)}), its name or its path (or {GUIDE_STEM}: the teacher's guide)"
            )
        if stem != nn and stem != lessons[nn].stem:
            parser.error(f"{name!r}: notebook {nn} is {lessons[nn].stem}")
        if need_text and not translation_path(lessons[nn]).is_file():
            parser.error(
                f"notebook {nn} has no translation yet: `python -m course.translate start {nn}` "
                f"writes {translation_path(lessons[nn]).relative_to(ROOT).as_posix()} to fill in"
            )
        picked.append(lessons[nn])
    return picked


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course.translate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="build|status|stamp|start"
    )
    p_build = commands.add_parser(
        "build", help="write notebooks/zh/NN_name.ipynb and notebooks/zh/TEACHING.md"
    )
    p_build.add_argument("notebooks", nargs="*", help="numbers, names or paths (default: all)")
    p_build.add_argument(
        "--execute", action="store_true", help="run the notebook (tests/store_outputs.py)"
    )
    p_build.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a notebook is not current"
    )
    p_status = commands.add_parser("status", help="stale, missing and unbuilt cells")
    p_status.add_argument("notebooks", nargs="*", help="numbers, names or paths (default: all)")
    p_status.add_argument(
        "--english", action="store_true", help="print the English of missing and stale cells"
    )
    p_start = commands.add_parser("start", help="a new translation file for a notebook")
    p_start.add_argument("notebook", help="number, name or path")
    p_stamp = commands.add_parser("stamp", help="mark cells' translations as reviewed")
    p_stamp.add_argument("notebook", help="number, name or path")
    p_stamp.add_argument("cells", nargs="+", metavar="ID", help="cell ids (the guide: slugs)")
    args = parser.parse_args(argv)
    try:
        return _run(
            args, {"build": p_build, "status": p_status, "stamp": p_stamp, "start": p_start}
        )
    except ValueError as bad:  # a malformed translation file: one line, no traceback
        parser.exit(2, f"{parser.prog}: error: {bad}\n")


def _run(args, parsers) -> int:
    parser = parsers[args.command]
    if args.command == "start":
        (english,) = _pick(parser, [args.notebook], need_text=False)
        if translation_path(english).exists():
            parser.error(f"{translation_path(english).name} exists already: edit it")
        path = start(english)
        print(f"{path.relative_to(ROOT).as_posix()}: written, every text still to translate")
        return 0
    if args.command == "stamp":
        (english,) = _pick(parser, [args.notebook], need_text=True)
        entries, markdown = entries_of(english), english_texts(english)
        what = "section" if is_guide(english) else "markdown cell"
        for cell_id in args.cells:
            if cell_id not in markdown:
                parser.error(f"{english.stem} has no {what} {cell_id!r}")
            if cell_id not in entries:
                parser.error(f"{cell_id} has no translation in {translation_path(english).name}")
        changed = stamp(english, args.cells)
        print(
            f"{english.stem}: marked as reviewed: {', '.join(changed) or 'nothing (all current)'}"
        )
        return 0
    if args.command == "build":
        if args.check and args.execute:
            parser.error("--check writes nothing, so it cannot --execute")
        stale = 0
        for english in _pick(parser, args.notebooks, need_text=True):
            if args.check:
                target = zh_notebook_path(english)
                ok = target.is_file() and same_notebook(target.read_text("utf-8"), render(english))
                print(
                    f"{target.relative_to(ROOT).as_posix()}: {'current' if ok else 'NOT current'}"
                )
                stale += not ok
                continue
            copied = copy_figures(english)
            if copied:
                print(f"{translation_path(english).name}: re-counted figures copied: {copied}")
            untranslated = [p.cell_id for p in problems(english) if p.kind == "missing"]
            target = build(english, execute=args.execute)
            what = "sections" if is_guide(english) else "cells"
            note = f" ({len(untranslated)} {what} still in English)" if untranslated else ""
            print(f"{target.relative_to(ROOT).as_posix()}: written{note}")
        return 1 if stale else 0
    picked = list(english_notebooks().values()) + ([guide()] if guide().is_file() else [])
    if args.notebooks:
        picked = _pick(parser, args.notebooks, need_text=False)
    failing = 0
    for english in picked:
        sources = english_texts(english)
        total, what = len(sources), "sections" if is_guide(english) else "markdown cells"
        if not translation_path(english).is_file():
            print(f"{english.stem}: not started (0/{total} {what})")
            continue
        found = problems(english)
        missing = sum(p.kind == "missing" for p in found)
        stale = sum(p.kind == "stale" for p in found)
        print(f"{english.stem}: {total - missing}/{total} {what} translated, {stale} stale")
        for problem in found:
            print(f"  {problem}")
            if args.english and problem.kind in ("missing", "stale"):
                print("    | " + sources[problem.cell_id].replace("\n", "\n    | "))
        failing += bool(found)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
