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
markdown replaced by the Chinese, the same code cells, cell ids and metadata, and (for now) the
English stored outputs, copied since the code cells are identical (``build --execute`` runs the
notebook instead with tests/store_outputs.py, once outputs depend on the language).

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
translation. tests/course/test_translate.py runs the same checks; tests/README.md says why the
text lives in markdown files.
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
    r"^<!-- cell: (?P<id>[A-Za-z0-9_-]+) sha: (?P<sha>[0-9a-f]{12})"
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


def parse(text: str, where: str = "translation") -> dict[str, Entry]:
    """The entries of a ``.zh.md`` file, by cell id; a malformed marker or a repeated id raises."""
    entries: dict[str, Entry] = {}
    current = None
    body: list[str] = []

    def close():
        if current is not None:
            current.text = "\n".join(body).strip("\n")
            entries[current.cell_id] = current

    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("<!-- cell:"):
            m = MARKER.match(line)
            if not m:
                raise ValueError(
                    f"{where}:{number}: a marker reads '<!-- cell: ID sha: 12 hex digits -->' "
                    f"(optionally 'allow: 3, 12' before '-->'), not {line!r}"
                )
            close()
            if m["id"] in entries:
                raise ValueError(f"{where}:{number}: cell {m['id']} is translated twice")
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


def check_entry(source: str, entry: Entry) -> list[Problem]:
    """What a reviewed translation must keep of its English cell: numbers and code, one for one."""
    problems = []
    if entry.sha != source_hash(source):
        problems.append(
            Problem(
                "stale",
                entry.cell_id,
                "the English cell changed since this translation was reviewed: revise it, "
                f"then `python -m course.translate stamp NN {entry.cell_id}`",
            )
        )
    en, zh = numbers(source), numbers(entry.text)
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
    en_code, zh_code = code_spans(source), code_spans(entry.text)
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
    """Everything that keeps one notebook's translation from being in step with the English."""
    nb, entries = load(english)
    markdown = {c.id: c.source for c in nb.cells if c.cell_type == "markdown"}
    found = []
    for cell_id, source in markdown.items():
        if cell_id not in entries or not entries[cell_id].text.strip():
            found.append(Problem("missing", cell_id, "not translated yet"))
        else:
            found += check_entry(source, entries[cell_id])
    for cell_id in entries.keys() - markdown.keys():
        found.append(
            Problem(
                "orphan",
                cell_id,
                f"line {entries[cell_id].line}: the English notebook has no markdown cell "
                "of this id (removed, or now a code cell): delete this entry",
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


def render(english: Path, outputs: str = "copied") -> str:
    """The Chinese notebook's file text: the English notebook with its markdown cells replaced by
    their translations (an untranslated cell keeps its English), outputs copied."""
    nb, entries = load(english)
    zh = copy.deepcopy(nb)
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
    nb = nbformat.reads(stored, as_version=4)
    if nb.metadata.get(METADATA_KEY, {}).get("outputs") != "executed":
        return False
    return _without_outputs(nb) == _without_outputs(nbformat.reads(rendered, as_version=4))


def build(english: Path, execute: bool = False) -> Path:
    target = zh_notebook_path(english)
    if execute:
        target.write_text(render(english, outputs="executed"), encoding="utf-8")
        run = subprocess.run([sys.executable, str(STORE_OUTPUTS), str(target)])
        if run.returncode != 0:
            raise SystemExit(f"translate: executing {target.name} failed (exit {run.returncode})")
    else:
        target.write_text(render(english), encoding="utf-8")
    return target


def stamp(english: Path, cell_ids: list[str]) -> list[str]:
    """Record that the translations of ``cell_ids`` were reviewed against the English cells as
    they are now (their markers get the current hash); returns the cells whose hash changed."""
    nb, entries = load(english)
    sources = {c.id: c.source for c in nb.cells if c.cell_type == "markdown"}
    path = translation_path(english)
    lines = path.read_text(encoding="utf-8").split("\n")
    changed = []
    for cell_id in cell_ids:
        entry = entries[cell_id]
        new = source_hash(sources[cell_id])
        if new != entry.sha:
            line = lines[entry.line - 1]
            lines[entry.line - 1] = line.replace(f" sha: {entry.sha}", f" sha: {new}", 1)
            changed.append(cell_id)
    path.write_text("\n".join(lines), encoding="utf-8")
    return changed


def start(english: Path) -> Path:
    """A new translation file: the header, and one marker per markdown cell with an empty text
    (an empty text counts as not translated: status lists it, build keeps the English)."""
    nb = nbformat.read(english, as_version=4)
    parts = [HEADER.format(name=english.stem, nn=english.name[:2])]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(f"<!-- cell: {cell.id} sha: {source_hash(cell.source)} -->\n\n")
    path = translation_path(english)
    ZH.mkdir(exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _pick(parser: argparse.ArgumentParser, names: list[str], need_text: bool) -> list[Path]:
    """The English notebooks named on the command line (number, name or path), each checked."""
    lessons = english_notebooks()
    if not names:
        picked = [lessons[nn] for nn in translated()]
        if not picked:
            parser.error("no notebook has a translation yet (notebooks/zh/NN_name.zh.md)")
        return picked
    picked = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb").removesuffix(".zh.md")
        nn = stem[:2]
        if not re.fullmatch(r"\d\d(_\w+)?", stem) or nn not in lessons:
            parser.error(
                f"{name!r} is not a notebook of the course: give its number ({min(lessons)} to "
                f"{max(lessons)}), its name or its path"
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
    p_build = commands.add_parser("build", help="write notebooks/zh/NN_name.ipynb")
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
    p_stamp.add_argument("cells", nargs="+", metavar="ID", help="cell ids")
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
        nb, entries = load(english)
        markdown = {c.id for c in nb.cells if c.cell_type == "markdown"}
        for cell_id in args.cells:
            if cell_id not in markdown:
                parser.error(f"{english.stem} has no markdown cell {cell_id!r}")
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
            untranslated = [p.cell_id for p in problems(english) if p.kind == "missing"]
            target = build(english, execute=args.execute)
            note = f" ({len(untranslated)} cells still in English)" if untranslated else ""
            print(f"{target.relative_to(ROOT).as_posix()}: written{note}")
        return 1 if stale else 0
    lessons = english_notebooks()
    picked = _pick(parser, args.notebooks, need_text=False) if args.notebooks else lessons.values()
    failing = 0
    for english in picked:
        nb = nbformat.read(english, as_version=4)
        total = sum(c.cell_type == "markdown" for c in nb.cells)
        if not translation_path(english).is_file():
            print(f"{english.stem}: not started (0/{total} markdown cells)")
            continue
        found = problems(english)
        missing = sum(p.kind == "missing" for p in found)
        stale = sum(p.kind == "stale" for p in found)
        print(f"{english.stem}: {total - missing}/{total} markdown cells translated, {stale} stale")
        sources = {c.id: c.source for c in nb.cells}
        for problem in found:
            print(f"  {problem}")
            if args.english and problem.kind in ("missing", "stale"):
                print("    | " + sources[problem.cell_id].replace("\n", "\n    | "))
        failing += bool(found)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
