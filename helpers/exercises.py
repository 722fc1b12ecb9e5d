"""Self-checking exercises: ``check("01.1", answer, model=model, tokenizer=tokenizer)``.

Taught in every notebook's "Exercises" section ("Check yourself"). The student writes an answer
(often a prediction, before running anything that would show it), and ``check`` says right or
not yet, with a hint, and never prints the solution. The expected answers are computed from the
model and tokenizer passed in, so the exercises hold for any GPT-2 the course is run with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from helpers._checks import BadType, BadValue
from helpers.messages import pick, text


@dataclass(frozen=True)
class Exercise:
    question: str
    expected: Callable[[dict], object]  # the right answer, from the context (model, tokenizer)
    hint: str
    tolerance: float = 0.0  # for numbers: how far from the expected value still counts
    zh: tuple[str, str] = ("", "")  # the question and the hint in Chinese (lang="zh")

    def text(self, part: str) -> str:
        """``part`` ("question" or "hint") in the language ``setup_notebook(lang=...)`` chose."""
        return pick(getattr(self, part), self.zh[part == "hint"])


def _greedy_token(ctx: dict, prompt: str) -> str:
    model, tok = ctx["model"], ctx["tokenizer"]
    ids = tok(prompt, return_tensors="pt")["input_ids"].to(model.device)
    with torch.no_grad():
        return tok.decode([int(model(ids).logits[0, -1].argmax())])


def _cfg(ctx: dict):
    return ctx["model"].config


EXERCISES: dict[str, Exercise] = {
    "00.1": Exercise(
        "Predict: how many tokens does the tokenizer make of the two characters '模型'?",
        lambda c: len(c["tokenizer"]("模型")["input_ids"]),
        "characters the tokenizer never merged fall back to their UTF-8 bytes: count the bytes",
        zh=(
            "预测：分词器把“模型”这两个字切成几个词元？",
            "分词器从没合并过的字符会退回到它们的 UTF-8 字节：数一数字节",
        ),
    ),
    "00.2": Exercise(
        "What is the shape of the logits for a batch of 2 texts of 5 tokens each? (a tuple)",
        lambda c: (2, 5, _cfg(c).vocab_size),
        "one row of scores per text, per position, over the whole vocabulary",
        zh=(
            "一个批次有 2 条文本、每条 5 个词元，logits 的形状是什么？（一个元组）",
            "每条文本、每个位置各有一行分数，覆盖整个词表",
        ),
    ),
    "01.1": Exercise(
        "Predict, before running anything: which token does greedy decoding write after the "
        "prompt 'KING:\\n'? (its text, e.g. ' I')",
        lambda c: _greedy_token(c, "KING:\n"),
        "greedy takes the single most likely next token; a speaker's line often opens with "
        "a pronoun or a title",
        zh=(
            "先预测，什么都别运行：在提示 'KING:\\n' 之后，"
            "贪心解码写出哪个词元？（写它的文本，例如 ' I'）",
            "贪心只取最可能的那一个下一个词元；一句台词常以代词或称谓开头",
        ),
    ),
    "01.2": Exercise(
        "With the KV cache, how many forward passes does generating 10 new tokens take?",
        lambda c: 10,
        "the cache makes each pass cheaper, not the passes fewer",
        zh=(
            "有 KV 缓存时，生成 10 个新词元要做几次前向传播？",
            "缓存让每次前向传播更便宜，而不是让次数更少",
        ),
    ),
    "02.1": Exercise(
        "Predict: with top-k 3, how many candidates keep a probability above 0 after the filters?",
        lambda c: 3,
        "top-k keeps the k most likely tokens and cuts the rest to exactly 0",
        zh=(
            "预测：top-k 取 3 时，过滤之后有几个候选的概率仍大于 0？",
            "top-k 保留最可能的 k 个词元，其余的概率恰好变成 0",
        ),
    ),
    "02.2": Exercise(
        "Predict: in greedy mode, press Step, then Undo, then Step. Is the token the same as "
        "the first time? (True or False)",
        lambda c: True,
        "greedy has no randomness: the same context gives the same argmax",
        zh=(
            "预测：在贪心模式下按单步，再按撤销，再按单步。"
            "得到的词元和第一次一样吗？（True 或 False）",
            "贪心没有随机性：同样的上下文给出同样的 argmax",
        ),
    ),
    "03.1": Exercise(
        "A text of 12 tokens: how many (input, next token) pairs does the shifted loss score?",
        lambda c: 11,
        "the last position has no label, and the first token is never a label",
        zh=(
            "一段 12 个词元的文本：移位后的损失给多少个（输入，下一个词元）对打分？",
            "最后一个位置没有标签，第一个词元也从来不是标签",
        ),
    ),
    "03.2": Exercise(
        "Predict: about what loss (nats per token) does a randomly initialised model have on "
        "any text? (a number; within 0.3 counts)",
        lambda c: math.log(_cfg(c).vocab_size),
        "random weights spread the bet evenly over the vocabulary: what is -log(1/V)?",
        tolerance=0.3,
        zh=(
            "预测：随机初始化的模型在任意文本上的损失（每个词元的奈特数）"
            "大约是多少？（一个数；相差 0.3 以内算对）",
            "随机权重把赌注平均押在整个词表上：-log(1/V) 是多少？",
        ),
    ),
    "04.1": Exercise(
        "Predict: in a text of 10 tokens you replace token 3. With the causal mask, which "
        "positions' logits change? (a list of positions)",
        lambda c: list(range(3, 10)),
        "a position sees itself and what comes before it, never what comes after",
        zh=(
            "预测：在一段 10 个词元的文本里替换第 3 个词元。"
            "有因果掩码时，哪些位置的 logits 会变？（位置的列表）",
            "一个位置能看到自己和它前面的内容，从来看不到后面的",
        ),
    ),
    "04.2": Exercise(
        "A left-padded row with 3 pads: which position id does its first real token get?",
        lambda c: 0,
        "position ids count real tokens only: attention_mask.cumsum(-1) - 1",
        zh=(
            "一行左填充了 3 个填充词元：它的第一个真实词元得到哪个位置 id？",
            "位置 id 只数真实词元：attention_mask.cumsum(-1) - 1",
        ),
    ),
    "05.1": Exercise(
        "Predict: how many bytes does this model's KV cache hold at 1024 tokens, batch 1, "
        "float32? (an int)",
        lambda c: 2 * _cfg(c).n_layer * _cfg(c).n_embd * 1024 * 4,
        "2 tensors (K and V) x layers x width (heads x head_dim) x positions x 4 bytes",
        zh=(
            "预测：这个模型在 1024 个词元、批次 1、float32 时，KV 缓存占多少字节？（填一个整数）",
            "2 个张量（K 和 V）× 层数 × 宽度（头数 × head_dim）× 位置数 × 4 字节",
        ),
    ),
    "05.2": Exercise(
        "Without a cache, how many positions do the passes process to write 20 new tokens "
        "after a 5-token prompt?",
        lambda c: sum(5 + i for i in range(20)),
        "pass i reads the prompt and the i tokens written so far",
        zh=(
            "没有缓存时，在 5 个词元的提示之后写 20 个新词元，各次前向传播一共处理多少个位置？",
            "第 i 次前向传播读入提示和已经写出的 i 个词元",
        ),
    ),
    "06.1": Exercise(
        "Predict: the draft proposes 4 tokens and the model accepts the first 2. How many "
        "tokens does this round add?",
        lambda c: 3,
        "the accepted guesses, plus the model's own token at the first wrong guess",
        zh=(
            "预测：草稿提出 4 个词元，模型接受了前 2 个。这一轮加上几个词元？",
            "被接受的猜测，再加上模型在第一个猜错处给出的自己的词元",
        ),
    ),
    "06.2": Exercise(
        "With k = 4, what is the most tokens one round (one pass of the model) can add?",
        lambda c: 5,
        "if every guess is right, the last position still predicts one more token",
        zh=(
            "k = 4 时，一轮（模型的一次前向传播）最多能加几个词元？",
            "如果每个猜测都对，最后一个位置还会再预测出一个词元",
        ),
    ),
    "07.1": Exercise(
        "Predict: a decode step of this model with 16-bit weights does about how many FLOPs "
        "per byte read? (within 0.05 counts)",
        lambda c: 1.0,
        "each weight is read once (2 bytes) and used in one multiply-add (2 FLOPs)",
        tolerance=0.05,
        zh=(
            "预测：这个模型用 16 位权重做一个解码步，"
            "每读取一个字节大约做多少次浮点运算？（相差 0.05 以内算对）",
            "每个权重只读一次（2 字节），只用于一次乘加（2 次浮点运算）",
        ),
    ),
    "07.2": Exercise(
        "Training on one 64-token text: how many forward passes score all 63 positions?",
        lambda c: 1,
        "in training the whole text is known before the pass starts",
        zh=(
            "在一段 64 个词元的文本上训练：给全部 63 个位置打分需要几次前向传播？",
            "训练时，整段文本在前向传播开始之前就已经知道了",
        ),
    ),
    "08.1": Exercise(
        "Predict: pad = eos, and the labels are masked with labels[labels == pad] = -100. Two "
        "texts, each ending with EOS: how many EOS labels does the loss still score?",
        lambda c: 0,
        "when the pad id is the EOS id, a mask by id cannot tell a pad from a real EOS",
        zh=(
            "预测：pad = eos，并且用 labels[labels == pad] = -100 屏蔽标签。"
            "两条文本，各以 EOS 结尾：损失还给几个 EOS 标签打分？",
            "当填充 id 就是 EOS 的 id 时，按 id 屏蔽分不清填充和真正的 EOS",
        ),
    ),
    "08.2": Exercise(
        "Predict: decoded one token at a time, how many replacement characters '\\ufffd' does "
        "the Chinese character '模' print?",
        lambda c: sum(
            c["tokenizer"].decode([t]).count("\ufffd") for t in c["tokenizer"]("模")["input_ids"]
        ),
        "count the UTF-8 bytes of the character: each lone byte decodes to one '\\ufffd'",
        zh=(
            "预测：一次解码一个词元时，汉字 '模' 会打印出几个替换字符 '\\ufffd'？",
            "数一数这个字的 UTF-8 字节：每个单独的字节解码成一个 '\\ufffd'",
        ),
    ),
}


# What students compute with is accepted as what it holds: a numpy or torch scalar (np.int64(11),
# torch.tensor(8.3)) as a number, a 1-D array or tensor (torch.arange(3, 10)), a range, a tuple or
# a torch.Size as a list. Found by what the object can do (`ndim`, `tolist`), so that neither
# numpy nor torch needs importing here.
_KINDS = {bool: "check.bool", int: "check.int", float: "check.float", str: "check.str"}


def _plain(answer):
    """`answer` as Python's own bool, int, float, str or list (of those), or unchanged when it is
    none of them (a dict, a 2-D tensor), for `_kind_problem` to describe."""
    if hasattr(answer, "ndim") and hasattr(answer, "tolist"):  # numpy or torch, scalar or array
        return answer.tolist() if answer.ndim <= 1 else answer
    if isinstance(answer, tuple | list | range):
        return [_plain(x) for x in answer]
    return answer


def _describe(answer) -> str:
    if hasattr(answer, "ndim") and hasattr(answer, "shape"):
        name = "check.tensor" if type(answer).__name__ == "Tensor" else "check.ndarray"
        return text("check.array", ndim=answer.ndim, name=text(name), shape=tuple(answer.shape))
    if isinstance(answer, list):
        return text("check.list_of", n=len(answer))
    name = type(answer).__name__
    return text("check.an_type" if name[0] in "aeiou" else "check.a_type", name=name)


def _expected_kind(expected) -> str:
    if isinstance(expected, tuple | list):
        inner = {_expected_kind(x) for x in expected}
        return text("check.list_ints" if inner == {text(_KINDS[int])} else "check.list_values")
    if type(expected) in _KINDS:
        return text(_KINDS[type(expected)])
    return text("check.a_type", name=type(expected).__name__)


def _kind_problem(answer, expected) -> str | None:
    """Why `answer` cannot be `expected` whatever its value (a string for a number, a 2-D tensor
    for a number or a flat list), or None when the kinds fit."""
    plain = _plain(answer)
    if isinstance(expected, bool):
        fits = isinstance(plain, bool)
    elif isinstance(expected, int | float):
        fits = isinstance(plain, int | float) and not isinstance(plain, bool)
    elif isinstance(expected, str):
        fits = isinstance(plain, str)
    elif isinstance(expected, tuple | list):
        fits = isinstance(plain, list) and all(
            _kind_problem(a, e) is None for a, e in zip(plain, expected, strict=False)
        )
    else:
        fits = True
    if fits:
        return None
    given = answer if hasattr(answer, "ndim") or not isinstance(answer, tuple | range) else plain
    return text("check.kind", given=_describe(given), expected=_expected_kind(expected))


def _same(answer, expected, tolerance: float) -> bool:
    answer = _plain(answer)
    if isinstance(expected, bool) or isinstance(answer, bool):
        return answer is expected
    if isinstance(expected, int | float) and isinstance(answer, int | float):
        return abs(answer - expected) <= tolerance + 1e-9
    if isinstance(expected, str) and isinstance(answer, str):
        return answer == expected or answer.strip() == expected.strip() != ""
    if isinstance(expected, tuple | list) and isinstance(answer, list):
        return len(answer) == len(expected) and all(
            _same(a, e, 0.0) for a, e in zip(answer, expected, strict=True)
        )
    return False


def check(exercise_id: str, answer, **context) -> None:
    """Print whether ``answer`` is right, with a hint when it is not; never the solution.

    ``answer`` may be what a computation gives: a numpy or torch scalar for a number, a range, a
    tuple, or a 1-D array or tensor for a list. When its kind is what is wrong (a string for a
    number, a 2-D tensor), the message says what was given and what kind of answer is asked.
    ``context``: ``model=`` and ``tokenizer=`` for the exercises whose answer depends on them.
    (It returns nothing, so a check on a cell's last line shows only its message.)
    """
    if exercise_id not in EXERCISES:
        raise BadValue(f"exercise_id={exercise_id!r} is not one of {sorted(EXERCISES)}")
    ex = EXERCISES[exercise_id]
    if answer is None:
        print(text("check.no_answer", id=exercise_id, question=ex.text("question")))
        return
    try:
        expected = ex.expected(context)
    except KeyError as missing:
        raise BadType(f"check({exercise_id!r}, ...) needs {missing.args[0]}=... too") from None
    if _same(answer, expected, ex.tolerance):
        print(text("check.right", id=exercise_id))
        return
    shown = " ".join(repr(answer).split())  # a tensor's repr spans lines
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    kind, hint = _kind_problem(answer, expected), ex.text("hint")
    if kind:  # the kind is the problem, not the value: say what was given and what is asked
        print(text("check.not_yet_kind", id=exercise_id, shown=shown, kind=kind, hint=hint))
        return
    print(text("check.not_yet", id=exercise_id, shown=shown, hint=hint))
