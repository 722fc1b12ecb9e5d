"""Student handouts of the notebooks: no solutions, no test scaffolding; and hiding the solutions.

    python -m course.handouts [OUT_DIR] [--lang {en,zh,both}]   # default: handouts/, both
    python -m course.handouts --tag-solutions [NOTEBOOK ...]   # in place, outputs untouched

Both editions by default: the English handouts in `OUT_DIR/` (predict/, read/, projector/), the
Chinese ones, made from the Chinese notebooks (notebooks/zh/), in `OUT_DIR/zh/` with the same three
folders; `--lang en` or `--lang zh` writes one edition only. Both is the default because it
costs a few seconds and a teacher who runs the command as README.md or README.zh.md gives it
finds the edition they teach without knowing a flag. A Chinese handout says everything it
adds in Chinese (`WORDS`: the prompts, placeholders, headings, notes and the credit line), and its
prediction questions are those of the Chinese guide, notebooks/zh/TEACHING.md.

Writes two copies of every notebook, `OUT_DIR/predict/` (all outputs cleared, for a class that
predicts before it runs) and `OUT_DIR/read/` (outputs kept, for reading). In both, each worked
solution (a code cell) becomes a comment-only cell that quotes its exercise, each answer written
in markdown becomes an empty "your answer" cell, notes "For the teacher" (which answer the class's
prediction questions) are left out, and the nbval markers of the test suite are gone. Each ends
with a credit line read from CITATION.cff (title, authors, version, the two licences).

`predict/` is made for prediction: before each prediction stop of notebooks/TEACHING.md a
"Predict:" cell asks the stop's question, and where the prose before the stop gives the answer
away (`GIVEAWAYS`, and `GIVEAWAYS_ZH` for the same passages in Chinese), that passage moves to just
after the cell that answers it.

A third copy, `OUT_DIR/projector/`, is the teacher's: the course notebooks as they are, outputs,
solutions and teacher's notes kept, without the test suite's nbval markers.
The handouts import `helpers` and load the bundled model like the course notebooks, so they run
wherever the course is installed.

A solution is a cell tagged `solution`; in a notebook with no such tag, every cell after the
markdown line `### Solutions` (the end of each notebook). `--tag-solutions` adds that tag, and the
metadata with which JupyterLab 4 shows a cell collapsed until clicked (`jupyter.source_hidden`,
`jupyter.outputs_hidden` and its classic twin `collapsed`), to the solution cells in place, and
makes each one's first line (all a collapsed cell shows) neutral,
`# Solution to exercise 2 (open the cell to see it)`; what the old line said is kept after it.
For teachers; not used by the lessons (notebooks/TEACHING.md says when to use which handout).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import textwrap
import time
import unicodedata
from pathlib import Path

import nbformat

from course._cli import check_notebooks, check_out_folder

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "handouts"  # in .gitignore, so `git pull` keeps working
SOLUTION_TAG = "solution"
#: The headings and notes the handouts look for, in either edition (an English notebook has no
#: Chinese heading, and the reverse).
SOLUTIONS_HEADING = re.compile(r"^###\s+(?:Solutions|参考答案)\s*$", re.M)
EXERCISES_HEADING = re.compile(r"^##\s+(?:Exercises|练习)\s*$", re.M)
EXERCISE = re.compile(r"^#\s*(?:Solution to )?exercise\s+(\d+)", re.M | re.I)
CHECK = re.compile(r"^#\s*(?:Solution to )?check yourself\s+(\d+\.\d+)", re.M | re.I)
#: What a collapsed solution cell shows (its first line): which exercise, never the answer.
NEUTRAL = "Solution to {what} (open the cell to see it)"
NEUTRAL_LINE = re.compile(
    r"^(?:# |\*)Solution to (exercise \d+(?:, continued)?|check yourself \d+\.\d+)"
    r" \(open the cell to see it\)\*?$"
)
#: An old first line that names the exercise: what follows the colon is kept as a comment.
_OLD_HEAD = re.compile(r"^#\s*(?:Exercise\s+\d+(?:, continued)?|Check yourself\s+\d+\.\d+):?\s*")
NBVAL_MARKER = re.compile(r"^\s*#\s*NBVAL_[A-Z_]+\s*$")
NBVAL_TAGS = {"nbval-ignore-output", "nbval-skip", "nbval-check-output", "raises-exception"}
#: Notes for the teacher answer the class's questions: "### For the teacher", "### 给教师".
TEACHER_NOTE = re.compile(r"\A\s*#+\s*(?:For the teacher|给教师)")
#: "**Next:** notebook 02 ..." ("**下一步：**" in Chinese) is no answer: kept.
NEXT = re.compile(r"^\*\*(?:Next:?|下一步：)\*\*", re.M)
VARIANTS = {"predict": False, "read": True}  # folder: outputs kept?
PREDICT = "predict"  # the variant made for prediction
PROJECTOR = "projector"  # the teacher's copy: everything kept but the test scaffolding
GUIDE = NOTEBOOKS / "TEACHING.md"
LANGS = ("en", "zh")
#: Each edition's notebooks, the folder under OUT_DIR its handouts go to, and its teacher's guide
#: (the Chinese one is generated from notebooks/zh/TEACHING.zh.md by `course.translate build`).
EDITIONS = {
    "en": (NOTEBOOKS, "", GUIDE),
    "zh": (NOTEBOOKS / "zh", "zh", NOTEBOOKS / "zh" / "TEACHING.md"),
}
#: A prediction stop's row in each guide: | NN#id | "question" | answer |, Chinese quotes in zh.
STOP_ROW = {
    "en": re.compile(r'^\| (\d\d#[\w-]+) \| "(.+?)" \| .+ \|$', re.M),
    "zh": re.compile(r"^\| (\d\d#[\w-]+) \| “(.+?)” \| .+ \|$", re.M),
}
#: Passages of prose before a prediction stop that give its answer away: in `predict/` each moves
#: from its cell (id) to just after the stop's cell. A passage is the exact text of the notebook,
#: or (first words, last words) for a long one, so a changed notebook fails the build instead of
#: leaking an answer; the third item, if any, is left in the passage's place.
GIVEAWAYS = {
    "01#84692581": [
        (
            "4c7e5569",
            "Plain decoding makes each\ndecision with one forward pass, so it needs *N* passes, "
            "one after the other. ",
        )
    ],
    "02#41bb56d5": [
        (
            "3a7d3aa5",
            " The first two tokens are the same in both runs; from the\nforced token on, every "
            "step sees a different context: its probabilities change (asserted below),\nand with "
            "them its choices may change too (the cell counts how many did).",
        )
    ],
    "03#1d2f14cc": [
        (
            "2b32b0ec",
            " A model that knows nothing should spread\nits bet evenly over all `V` tokens. A "
            "uniform guess gives every correct token probability `1/V`,\nso its loss is "
            "`-log(1/V) = ln V`. Randomly initialised weights come close to that.",
        )
    ],
    "03#8bdc39e2": [
        (
            "e04c0153",
            "It is **not** true. GPT-2's attention carries a **causal\nmask**: position *t* "
            "attends to positions 0..*t* only. ",
        )
    ],
    "04#0687da11": [
        (
            "7239d7ec",
            " With the causal mask, positions before *k* cannot see the change, so their logits\n"
            "do not move at all. Without it, every position moves.",
        )
    ],
    "04#7e61420d": [
        (
            "60f04700",
            " Its output is\nmeaningless and never used, and thanks to the most negative float of "
            "section 2 it is not `NaN`:\nits weights are all equal.",
        )
    ],
    "04#8c89bc3b": [
        (
            "497848e5",
            " When it generates, the\nnext token does not exist yet: there is nothing to copy.",
        )
    ],
    "05#5935b04a": [
        (
            "51502ca3",
            "\nWith the cache (section 2 shows what it holds), the first pass processes the prompt "
            "and every\nlater pass **one** position, the new token.",
        )
    ],
    "06#24a1ae9e": [
        (
            "f75645cb",
            "\n\nEvery round therefore adds between 1 and *k + 1* tokens, and every one of them is "
            "the model's own\ngreedy choice given the tokens before it.",
        )
    ],
    "06#84e4e2a2": [
        (
            "81fae672",
            "Every token speculative decoding appends is the model's argmax given the tokens "
            "before it, which\nis the definition of greedy decoding. ",
        )
    ],
    # 07's first section states the whole answer before its checks: it answers the notebook's
    # three stops, so its four sentences move to after the last of them.
    "07#c7467b6d": [
        (
            "aae11712",
            ("1. **The model predicts each token", "None of them removes the chain."),
            "*In this handout the answer's four sentences come after section 5: predict first. The "
            "three Predict cells below ask for its pieces.*",
        ),
        (
            "2e77522d",
            " A decode step feeds one token, so it does 2 FLOPs for every 4 bytes\nit reads. A "
            "training pass over *T* tokens reads each weight once and uses it *T* times.",
        ),
    ],
    "08#pitfall": [
        (
            "s1pitfall2",
            "With pad = EOS, the line masks every real EOS label along with the padding. The model "
            "is then\nnever asked to predict EOS, and it never learns to stop. ",
        )
    ],
    "08#positions": [
        (
            "s4pos",
            " `generate` computes them from the attention mask, the way\nnotebook 04 did by hand: "
            "`attention_mask.cumsum(-1) - 1`, with the pad positions set to 0.",
        )
    ],
}
#: The same passages in the Chinese notebooks (same cells, same stops), moved the same way.
GIVEAWAYS_ZH = {
    "01#84692581": [
        ("4c7e5569", "普通解码每做一个决定要一次前向传播，所以需要 *N* 次前向传播，一次接一次。")
    ],
    "02#41bb56d5": [
        (
            "3a7d3aa5",
            "两次运行的前两个词元相同；从被强制的那个词元开始，每一步看到的上下文都不同了：它的"
            "概率随之改变（下面有断言），它的选择也可能跟着改变（单元格会数出改变了几个）。",
        )
    ],
    "03#1d2f14cc": [
        (
            "2b32b0ec",
            "一个什么都不知道的模型，应当把赌注平均押在全部 `V` 个词元上。均匀猜测给每个正确词元的"
            "概率都是 `1/V`，所以损失是 `-log(1/V) = ln V`。随机初始化的权重离这个值很近。",
        )
    ],
    "03#8bdc39e2": [
        (
            "e04c0153",
            "但事实**并非**如此。GPT-2 的注意力带有**因果掩码**：位置 *t* 只关注位置 0..*t*。",
        )
    ],
    "04#0687da11": [
        (
            "7239d7ec",
            "有因果掩码时，*k* 之前的位置看不到这个改动，它们的 logits 纹丝不动。没有因果掩码时，"
            "每个位置都会变。",
        )
    ],
    "04#7e61420d": [
        (
            "60f04700",
            "它的输出没有意义，也从来不会被用到；多亏了第 2 节提到的那个最负的浮点数，它不是 "
            "`NaN`，而是所有权重都相等。",
        )
    ],
    "04#8c89bc3b": [("497848e5", "生成时，下一个词元还不存在：没有东西可抄。")],
    "05#5935b04a": [
        (
            "51502ca3",
            "有了缓存（第 2 节会展示缓存里存了什么），第一次前向传播处理提示，之后每次前向传播只"
            "处理**一个**位置，也就是新词元。",
        )
    ],
    "06#24a1ae9e": [
        (
            "f75645cb",
            "因此每一轮都会新增 1 到 *k + 1* 个词元，而其中每一个都是模型在给定前面词元时自己的"
            "贪心选择。",
        )
    ],
    "06#84e4e2a2": [
        (
            "81fae672",
            "投机解码接上的每个词元，都是模型在给定前面词元时的 argmax，而这正是贪心解码的定义。",
        )
    ],
    "07#c7467b6d": [
        (
            "aae11712",
            ("1. **模型根据前面的词元预测每一个词元。**", "它们都没有消除这条链。"),
            "*在这份讲义里，答案的四句话放在第 5 节之后：请先预测。下面三个“先预测”单元格分别"
            "问到它的各个部分。*",
        ),
        (
            "2e77522d",
            "一个解码步只送入一个词元，所以每读 4 个字节做 2 次浮点运算。对 *T* 个词元做一次训练"
            "前向传播，每个权重读一次、用 *T* 次。",
        ),
    ],
    "08#pitfall": [
        (
            "s1pitfall2",
            "当 pad = EOS 时，这行代码会把所有真正的 EOS 标签连同填充一起屏蔽掉。这样一来，模型"
            "从来不会被要求预测 EOS，也就永远学不会停下。",
        )
    ],
    "08#positions": [
        (
            "s4pos",
            "`generate` 根据注意力掩码算出它们，做法和笔记本 04 亲手做的一样："
            "`attention_mask.cumsum(-1) - 1`，并把填充位置设为 0。",
        )
    ],
}
MOVED_NOTE = "*(Moved here from before the cell above, so that you could predict first.)*"
CITATION = ROOT / "CITATION.cff"
#: What each licence of CITATION.cff covers, and where its terms are (LICENSE-CONTENT.md)
LICENCE_PARTS = {
    "CC-BY-4.0": ("text and figures", "CC BY 4.0, https://creativecommons.org/licenses/by/4.0/"),
    "MIT": ("code", "MIT, the course's LICENSE file"),
}
CREDIT_ID = "credit"
#: Every word a handout adds to its notebook, in each edition: the prompts of the prediction
#: stops, the empty cells' text, the renamed Solutions heading, the note on a moved passage and
#: the credit line. `{...}` are filled in: numbers, the notebook's own text, CITATION.cff's fields.
WORDS = {
    "en": {
        "your_answers": "### Your answers",
        "exercise": "Exercise {n}: {text}",
        "exercise_bare": "Exercise {n}: write your code here, then run the cell.",
        "write_here": "Write your code here, then run the cell.",
        "continued": "{n}, continued",
        "answer": "*Your answer in words (double-click to write):*",
        "predict": "**Predict:** {question}",
        "moved": MOVED_NOTE,
        "credit": 'From "{title}", version {version}, by {authors}. {terms}.',
        "authors_join": " and ",
        "terms_join": "; ",
        "term": "{what}: {where}",
        "licences": LICENCE_PARTS,
        "source": " Source: {address}",
    },
    "zh": {
        "your_answers": "### 你的答案",
        "exercise": "练习 {n}：{text}",
        "exercise_bare": "练习 {n}：在这里写你的代码，然后运行这个单元格。",
        "write_here": "在这里写你的代码，然后运行这个单元格。",
        "continued": "{n}（续）",
        "answer": "*用文字写下你的答案（双击这里开始写）：*",
        "predict": "**先预测：** {question}",
        "moved": "*（这段文字原在上面那个单元格之前，移到了这里，好让你先预测。）*",
        "credit": "出自《{title}》，版本 {version}，作者：{authors}。{terms}。",
        "authors_join": "、",
        "terms_join": "；",
        "term": "{what}：{where}",
        "licences": {
            # in <...>: a bare address would be linked on through the Chinese after it
            "CC-BY-4.0": ("文字和图", "CC BY 4.0，<https://creativecommons.org/licenses/by/4.0/>"),
            "MIT": ("代码", "MIT，见课程的 LICENSE 文件"),
        },
        "source": "源代码：<{address}>",
    },
}
PASSAGES = {"en": GIVEAWAYS, "zh": GIVEAWAYS_ZH}


def check_lang(lang) -> str:
    """`lang` if it is an edition of the handouts, else a ValueError naming the editions."""
    if lang not in LANGS:
        raise ValueError(f"lang={lang!r} is not one of {LANGS}")
    return lang


def _cff_field(text: str, key: str) -> list[str]:
    """A top-level field of CITATION.cff: [its scalar] or its list items (`- x`, `- name: x`);
    [] when absent. Enough for the fields read here, without a YAML package."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith(f"{key}:"):
            continue
        value = line.split(":", 1)[1].strip()
        if value:
            return [value.strip('"')]
        items = []
        for item in lines[i + 1 :]:
            if item.strip() and not item.startswith((" ", "#")):
                break
            m = re.match(r"^  - (?:name: )?(.+)$", item)
            if m:
                items.append(m.group(1).strip().strip('"'))
        return items
    return []


def credit_line(citation: Path = CITATION, lang: str = "en") -> str:
    """The credit every handout carries (CC BY asks for it), from CITATION.cff: title, authors,
    version, what each licence covers, and the repository's address when CITATION.cff has one;
    in the edition's language (the title and names as CITATION.cff gives them)."""
    words = WORDS[check_lang(lang)]
    text = Path(citation).read_text(encoding="utf-8")
    title, authors, version = (_cff_field(text, k) for k in ("title", "authors", "version"))
    licences = _cff_field(text, "license")
    if not (title and authors and version and licences):
        raise ValueError(f"{citation} lacks a title, authors, version or license")
    unknown = sorted(set(licences) - set(LICENCE_PARTS))
    if unknown:
        raise ValueError(f"{citation}: licence {unknown} is not one of {sorted(LICENCE_PARTS)}")
    parts = words["licences"]
    terms = words["terms_join"].join(
        words["term"].format(what=parts[x][0], where=parts[x][1]) for x in parts if x in licences
    )
    line = words["credit"].format(
        title=title[0],
        version=version[0],
        authors=words["authors_join"].join(authors),
        terms=terms[0].upper() + terms[1:],
    )
    address = _cff_field(text, "repository-code")
    return line + (words["source"].format(address=address[0]) if address else "")


def credit_cell(citation: Path = CITATION, lang: str = "en"):
    cell = nbformat.v4.new_markdown_cell(f"---\n*{credit_line(citation, lang)}*")
    cell.id = CREDIT_ID
    return cell


def solutions_start(nb) -> int | None:
    """Index of the first cell after the markdown cell with the `### Solutions` heading."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and SOLUTIONS_HEADING.search(cell.source):
            return i + 1
    return None


def solution_indices(nb) -> list[int]:
    """Cells that hold worked solutions: tagged `solution`, or else after `### Solutions`."""
    tagged = [i for i, c in enumerate(nb.cells) if SOLUTION_TAG in c.metadata.get("tags", [])]
    if tagged:
        return tagged
    start = solutions_start(nb)
    return [] if start is None else list(range(start, len(nb.cells)))


def solution_summary(source: str, last_exercise: str | None) -> str:
    """What a solution cell solves, for its neutral first line: "exercise 2", "exercise 2,
    continued" (a cell that names no exercise after one that did) or "check yourself 00.1"."""
    head = next((ln for ln in source.splitlines() if not NBVAL_MARKER.match(ln)), "")
    m = NEUTRAL_LINE.match(head.strip())
    if m:
        return m.group(1)
    m = CHECK.match(head)
    if m:
        return f"check yourself {m.group(1)}"
    m = EXERCISE.match(head)
    if m:
        return f"exercise {m.group(1)}" + (", continued" if "continued" in head else "")
    return f"exercise {last_exercise}, continued" if last_exercise else "the exercise above"


def neutral_first_line(cell, what: str) -> None:
    """Make the cell's first line (after nbval markers) the neutral one; what the old first line
    said beyond the exercise's number is kept on the next line."""
    lines = cell.source.splitlines()
    markers = []
    while lines and NBVAL_MARKER.match(lines[0]):
        markers.append(lines.pop(0))
    if cell.cell_type == "code":
        neutral = "# " + NEUTRAL.format(what=what)
        if lines and NEUTRAL_LINE.match(lines[0].strip()):
            lines.pop(0)
        elif lines and _OLD_HEAD.match(lines[0]):
            rest = _OLD_HEAD.sub("", lines.pop(0)).strip()
            if rest:
                lines.insert(0, f"# {rest}")
        lines = [neutral, *lines]
    else:  # markdown: an emphasised paragraph of its own (a `#` would make it a heading)
        neutral = "*" + NEUTRAL.format(what=what) + "*"
        if lines and NEUTRAL_LINE.match(lines[0].strip()):
            lines = lines[2:] if len(lines) > 1 and not lines[1].strip() else lines[1:]
        lines = [neutral, "", *lines]
    cell.source = "\n".join(markers + lines)


def tag_solutions(nb) -> int:
    """Tag the solution cells, give each the neutral first line that a collapsed cell shows, and
    collapse them in JupyterLab; outputs untouched. Returns the count."""
    indices = solution_indices(nb)
    last_exercise = None
    for i in indices:
        cell = nb.cells[i]
        what = solution_summary(cell.source, last_exercise)
        m = re.match(r"exercise (\d+)", what)
        last_exercise = m.group(1) if m else last_exercise
        neutral_first_line(cell, what)
        tags = cell.metadata.setdefault("tags", [])
        if SOLUTION_TAG not in tags:
            tags.append(SOLUTION_TAG)
        hidden = cell.metadata.setdefault("jupyter", {})
        hidden["source_hidden"] = True
        if cell.cell_type == "code":  # JupyterLab 4 keeps `collapsed` == `outputs_hidden`
            hidden["outputs_hidden"] = True
            cell.metadata["collapsed"] = True
    return len(indices)


def strip_test_scaffolding(cell) -> None:
    """Drop nbval's marker lines and tags."""
    if cell.cell_type == "code":
        lines = [ln for ln in cell.source.splitlines() if not NBVAL_MARKER.match(ln)]
        cell.source = "\n".join(lines)
    tags = [t for t in cell.metadata.get("tags", []) if t not in NBVAL_TAGS]
    if tags:
        cell.metadata["tags"] = tags
    else:
        cell.metadata.pop("tags", None)


def guide_stops(guide: str | None = None, lang: str = "en") -> dict[str, str]:
    """The prediction stops of notebooks/TEACHING.md (of notebooks/zh/TEACHING.md for "zh"):
    `NN#id` -> the question, as asked."""
    path = EDITIONS[check_lang(lang)][2]
    text = path.read_text(encoding="utf-8") if guide is None else guide
    return dict(STOP_ROW[lang].findall(text))


def exercises(nb) -> dict[str, str]:
    """The exercises of a notebook's `## Exercises` list (`## 练习`): number -> its text, on one
    line."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and EXERCISES_HEADING.search(cell.source):
            part = SOLUTIONS_HEADING.split(EXERCISES_HEADING.split(cell.source, 1)[1])[0]
            items = re.findall(r"^(\d+)\.\s+(.+?)(?=^\d+\.\s|\Z)", part, flags=re.M | re.S)
            return {n: " ".join(text.split()) for n, text in items}
    return {}


def display_width(text: str) -> int:
    """Columns `text` takes in a monospaced font: a Chinese character (wide) counts 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


_RUN = re.compile(r"\s+|[!-~]+|.", re.S)  # a space, a run of ASCII (a word, code), one character
#: Chinese punctuation a line does not start with: it stays on the line before.
_NO_LINE_START = set("，。：；、！？）》”’,.:;!?)")


def wrap_wide(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns (`display_width`), broken between Chinese
    characters or at spaces, never inside a run of ASCII (a word, inline code); a line may run
    one punctuation mark over rather than start with it."""
    lines, line = [], ""
    for run in _RUN.findall(text):
        if run.isspace():
            line += " " if line else ""
        elif line.strip() and display_width(line + run) > width and run[0] not in _NO_LINE_START:
            lines.append(line.rstrip())
            line = run
        else:
            line += run
    return [*lines, line.rstrip()] if line.strip() else lines


def _wrap(text: str, lang: str) -> list[str]:
    if lang == "zh":
        return wrap_wide(text, 92)
    return textwrap.wrap(text, width=96, break_long_words=False, break_on_hyphens=False)


def exercise_placeholder(number: str, cell_id: str, text: str | None = None, lang: str = "en"):
    """An empty cell for exercise `number`, quoting the exercise (wrapped comment lines)."""
    words = WORDS[check_lang(lang)]
    if text:
        text = text.replace("**", "")
        if (
            lang == "zh"
        ):  # "**标题。** 正文": no space after a full-width stop once the bold is gone
            text = re.sub(r"(?<=[，。：；！？）]) +", "", text)
        quoted = _wrap(words["exercise"].format(n=number, text=text), lang)
        lines = [f"# {ln}" for ln in quoted] + [f"# {words['write_here']}"]
    else:
        lines = [f"# {words['exercise_bare'].format(n=number)}"]
    cell = nbformat.v4.new_code_cell("\n".join(lines) + "\n")
    cell.id = cell_id
    return cell


def find_passage(source: str, passage, where: str) -> str:
    """The exact text of a GIVEAWAYS passage in `source`; it must occur exactly once."""
    if isinstance(passage, str):
        found = passage if source.count(passage) == 1 else None
    else:
        first, last = passage
        start = source.find(first)
        end = source.find(last, start) if start >= 0 else -1
        found = source[start : end + len(last)] if start >= 0 and end >= 0 else None
        found = found if found and source.count(first) == 1 else None
    if found is None:
        raise ValueError(f"{where}: the passage {passage!r} is not in the cell exactly once")
    return found


def _tidy(text: str) -> str:
    text = re.sub(r"(?<=\S) {2,}", " ", text)  # a cut mid-line leaves no double space
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def for_prediction(cells: list, number: str, stops: dict[str, str], lang: str = "en") -> list:
    """`cells` with a "Predict:" cell before each of notebook `number`'s stops, and the passages
    that give a stop's answer away moved to just after its cell."""
    words, guide = WORDS[check_lang(lang)], EDITIONS[lang][2]
    ids = [c.id for c in cells]
    moved: dict[str, list[str]] = {}
    for ref, passages in PASSAGES[lang].items():
        nn, stop = ref.split("#")
        if nn != number:
            continue
        if ref not in stops:
            raise ValueError(f"GIVEAWAYS names {ref}, which is no prediction stop of {guide}")
        for cell_id, passage, *left in passages:
            if cell_id not in ids or ids.index(cell_id) > ids.index(stop):
                raise ValueError(f"{ref}: cell {cell_id} is not a cell before the stop")
            cell = cells[ids.index(cell_id)]
            text = find_passage(cell.source, passage, f"{ref}, cell {cell_id}")
            cell.source = _tidy(cell.source.replace(text, "\n\n".join(left) or " ", 1))
            moved.setdefault(stop, []).append(_tidy(text.strip()))
    out = []
    for cell in cells:
        ref = f"{number}#{cell.id}"
        if ref in stops:
            ask = nbformat.v4.new_markdown_cell(words["predict"].format(question=stops[ref]))
            ask.id = f"{cell.id}-predict"[:64]
            out.append(ask)
        out.append(cell)
        if cell.id in moved:
            answer = nbformat.v4.new_markdown_cell("\n\n".join([words["moved"], *moved[cell.id]]))
            answer.id = f"{cell.id}-answer"[:64]
            out.append(answer)
    missing = [r for r in stops if r.startswith(f"{number}#") and r.split("#")[1] not in ids]
    if missing:
        raise ValueError(f"{guide} has stops at cells notebook {number} lacks: {missing}")
    return out


def answer_placeholder(source: str, cell_id: str, lang: str = "en") -> list:
    """An empty cell for an answer in words; a `**Next:**` paragraph is kept after it."""
    cell = nbformat.v4.new_markdown_cell(WORDS[check_lang(lang)]["answer"] + "\n\n")
    cell.id = cell_id
    cells = [cell]
    m = NEXT.search(source)
    if m:
        cells.append(nbformat.v4.new_markdown_cell(source[m.start() :]))
        cells[-1].id = f"{cell_id}-next"[:64]
    return cells


def handout(
    nb,
    keep_outputs: bool,
    citation: Path = CITATION,
    number: str | None = None,
    stops: dict[str, str] | None = None,
    lang: str = "en",
):
    """A student copy of one notebook (the original is not changed), ending with the credit.
    With `number` (the notebook's "NN") and `stops` (guide_stops()), made for prediction.
    `lang`: the edition of the notebook ("zh": a Chinese one of notebooks/zh/), in whose
    language the handout's own words are written (`WORDS`)."""
    words = WORDS[check_lang(lang)]
    nb = copy.deepcopy(nb)
    solutions = set(solution_indices(nb))
    quotes = exercises(nb)
    cells, last_exercise = [], None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and TEACHER_NOTE.match(cell.source):
            continue  # notes for the teacher give away what the students are asked to predict
        if i not in solutions:
            cells.append(cell)
            continue
        if cell.cell_type == "markdown":
            cells += answer_placeholder(cell.source, cell.id, lang)
            continue
        m = EXERCISE.search(cell.source)
        if m is None and CHECK.search(cell.source):
            continue  # a check-yourself answer: the lesson's own check cell is the place for it
        number_here = m.group(1) if m else last_exercise
        if number_here is None:
            continue  # a solution that names no exercise, before any that does: nothing to ask
        if number_here == last_exercise and cells[-1].cell_type == "code":
            continue  # the rest of the same exercise's solution: one empty cell is enough
        again = number_here == last_exercise
        last_exercise = number_here
        cells.append(
            exercise_placeholder(
                words["continued"].format(n=number_here) if again else number_here,
                cell.id,
                None if again else quotes.get(number_here),
                lang,
            )
        )
    for cell in cells:
        cell.metadata.pop("jupyter", None)
        cell.metadata.pop("collapsed", None)
        if cell.metadata.get("tags") and SOLUTION_TAG in cell.metadata["tags"]:
            cell.metadata["tags"].remove(SOLUTION_TAG)
        strip_test_scaffolding(cell)
        if cell.cell_type == "code" and not keep_outputs:
            cell.outputs, cell.execution_count = [], None
    for cell in cells:  # the Solutions heading now announces the student's own answers
        if cell.cell_type == "markdown":
            cell.source = SOLUTIONS_HEADING.sub(words["your_answers"], cell.source)
    if number is not None and stops is not None:
        cells = for_prediction(cells, number, stops, lang)
    nb.cells = [*cells, credit_cell(citation, lang)]
    if not keep_outputs:
        nb.metadata.pop("widgets", None)  # saved widget state is an output too
    # a Chinese notebook's "generated, do not edit" note: a student's copy is there to be edited
    nb.metadata.pop("course_translation", None)
    return nb


def projector_copy(nb):
    """The teacher's copy for the projector: everything kept (outputs, solutions, the teacher's
    notes) but the test suite's nbval markers and tags."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        strip_test_scaffolding(cell)
    return nb


def build(
    out_dir: Path = DEFAULT_OUT,
    notebooks: list[Path] | None = None,
    langs: tuple[str, ...] = LANGS,
) -> list[Path]:
    """Write both student variants and the projector copy of every notebook under out_dir, for
    each edition of `langs`: the English in out_dir/, the Chinese (from notebooks/zh/, each
    notebook that has a Chinese twin) in out_dir/zh/. `notebooks`: the English notebooks to
    make handouts of (default: every lesson). Returns the files written."""
    if isinstance(langs, str) or not langs:
        raise ValueError(f"langs={langs!r}: give a tuple of one or more of {LANGS}")
    for lang in langs:
        check_lang(lang)
    names = [p.name for p in notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))]
    written = []
    for lang in langs:
        folder_in, sub, _ = EDITIONS[lang]
        paths = [folder_in / n for n in names if (folder_in / n).is_file()]
        stops = guide_stops(lang=lang)
        for folder in [*VARIANTS, PROJECTOR]:
            (out_dir / sub / folder).mkdir(parents=True, exist_ok=True)
            for path in paths:
                nb = nbformat.read(path, as_version=4)
                if folder == PROJECTOR:
                    nb = projector_copy(nb)
                elif folder == PREDICT:
                    nb = handout(nb, VARIANTS[folder], number=path.name[:2], stops=stops, lang=lang)
                else:
                    nb = handout(nb, VARIANTS[folder], lang=lang)
                target = out_dir / sub / folder / path.name
                nbformat.write(nb, target)
                written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course.handouts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="OUT_DIR (default handouts/); with --tag-solutions: notebooks",
    )
    parser.add_argument(
        "--tag-solutions",
        action="store_true",
        help="tag and collapse the solution cells of the notebooks in place",
    )
    parser.add_argument(
        "--lang",
        choices=[*LANGS, "both"],
        default="both",
        help="the edition to write: en (OUT_DIR/), zh (OUT_DIR/zh/, from notebooks/zh/) or both "
        "(the default)",
    )
    args = parser.parse_args(argv)
    if args.tag_solutions and args.lang == "zh":
        parser.error(
            "the Chinese notebooks are generated: tag the English ones, then run "
            "python -m course.translate build"
        )
    if args.tag_solutions:
        for path in check_notebooks(parser, args.paths) or sorted(
            NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")
        ):
            nb = nbformat.read(path, as_version=4)
            n = tag_solutions(nb)
            nbformat.write(nb, path)
            print(f"{path.name}: {n} solution cells tagged and collapsed")
        return 0
    if len(args.paths) > 1:
        parser.error("give one OUT_DIR")
    out = check_out_folder(parser, args.paths[0] if args.paths else DEFAULT_OUT, "handouts")
    langs = LANGS if args.lang == "both" else (args.lang,)
    t0 = time.perf_counter()
    written = build(out, langs=langs)
    where = ", ".join(f"{out / EDITIONS[lang][1]}/ ({lang})" for lang in langs)
    print(
        f"{len(written)} notebooks written to {where}, each with "
        f"{', '.join([*VARIANTS, PROJECTOR])}, in {time.perf_counter() - t0:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
