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


@dataclass(frozen=True)
class Exercise:
    question: str
    expected: Callable[[dict], object]  # the right answer, from the context (model, tokenizer)
    hint: str
    tolerance: float = 0.0  # for numbers: how far from the expected value still counts


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
    ),
    "00.2": Exercise(
        "What is the shape of the logits for a batch of 2 texts of 5 tokens each? (a tuple)",
        lambda c: (2, 5, _cfg(c).vocab_size),
        "one row of scores per text, per position, over the whole vocabulary",
    ),
    "01.1": Exercise(
        "Predict, before running anything: which token does greedy decoding write after the "
        "prompt 'KING:\\n'? (its text, e.g. ' I')",
        lambda c: _greedy_token(c, "KING:\n"),
        "greedy takes the single most likely next token; a speaker's line often opens with "
        "a pronoun or a title",
    ),
    "01.2": Exercise(
        "With the KV cache, how many forward passes does generating 10 new tokens take?",
        lambda c: 10,
        "the cache makes each pass cheaper, not the passes fewer",
    ),
    "02.1": Exercise(
        "Predict: with top-k 3, how many candidates keep a probability above 0 after the filters?",
        lambda c: 3,
        "top-k keeps the k most likely tokens and cuts the rest to exactly 0",
    ),
    "02.2": Exercise(
        "Predict: in greedy mode, press Step, then Undo, then Step. Is the token the same as "
        "the first time? (True or False)",
        lambda c: True,
        "greedy has no randomness: the same context gives the same argmax",
    ),
    "03.1": Exercise(
        "A text of 12 tokens: how many (input, next token) pairs does the shifted loss score?",
        lambda c: 11,
        "the last position has no label, and the first token is never a label",
    ),
    "03.2": Exercise(
        "Predict: about what loss (nats per token) does a randomly initialised model have on "
        "any text? (a number; within 0.3 counts)",
        lambda c: math.log(_cfg(c).vocab_size),
        "random weights spread the bet evenly over the vocabulary: what is -log(1/V)?",
        tolerance=0.3,
    ),
    "04.1": Exercise(
        "Predict: in a text of 10 tokens you replace token 3. With the causal mask, which "
        "positions' logits change? (a list of positions)",
        lambda c: list(range(3, 10)),
        "a position sees itself and what comes before it, never what comes after",
    ),
    "04.2": Exercise(
        "A left-padded row with 3 pads: which position id does its first real token get?",
        lambda c: 0,
        "position ids count real tokens only: attention_mask.cumsum(-1) - 1",
    ),
    "05.1": Exercise(
        "Predict: how many bytes does this model's KV cache hold at 1024 tokens, batch 1, "
        "float32? (an int)",
        lambda c: 2 * _cfg(c).n_layer * _cfg(c).n_embd * 1024 * 4,
        "2 tensors (K and V) x layers x width (heads x head_dim) x positions x 4 bytes",
    ),
    "05.2": Exercise(
        "Without a cache, how many positions do the passes process to write 20 new tokens "
        "after a 5-token prompt?",
        lambda c: sum(5 + i for i in range(20)),
        "pass i reads the prompt and the i tokens written so far",
    ),
    "06.1": Exercise(
        "Predict: the draft proposes 4 tokens and the model accepts the first 2. How many "
        "tokens does this round add?",
        lambda c: 3,
        "the accepted guesses, plus the model's own token at the first wrong guess",
    ),
    "06.2": Exercise(
        "With k = 4, what is the most tokens one round (one pass of the model) can add?",
        lambda c: 5,
        "if every guess is right, the last position still predicts one more token",
    ),
    "07.1": Exercise(
        "Predict: a decode step of this model with 16-bit weights does about how many FLOPs "
        "per byte read? (within 0.05 counts)",
        lambda c: 1.0,
        "each weight is read once (2 bytes) and used in one multiply-add (2 FLOPs)",
        tolerance=0.05,
    ),
    "07.2": Exercise(
        "Training on one 64-token text: how many forward passes score all 63 positions?",
        lambda c: 1,
        "in training the whole text is known before the pass starts",
    ),
    "08.1": Exercise(
        "Predict: pad = eos, and the labels are masked with labels[labels == pad] = -100. Two "
        "texts, each ending with EOS: how many EOS labels does the loss still score?",
        lambda c: 0,
        "when the pad id is the EOS id, a mask by id cannot tell a pad from a real EOS",
    ),
    "08.2": Exercise(
        "Predict: decoded one token at a time, how many replacement characters '\\ufffd' does "
        "the Chinese character '模' print?",
        lambda c: sum(
            c["tokenizer"].decode([t]).count("\ufffd") for t in c["tokenizer"]("模")["input_ids"]
        ),
        "count the UTF-8 bytes of the character: each lone byte decodes to one '\\ufffd'",
    ),
}


# What students compute with is accepted as what it holds: a numpy or torch scalar (np.int64(11),
# torch.tensor(8.3)) as a number, a 1-D array or tensor (torch.arange(3, 10)), a range, a tuple or
# a torch.Size as a list. Found by what the object can do (`ndim`, `tolist`), so that neither
# numpy nor torch needs importing here.
_KINDS = {bool: "True or False", int: "a whole number", float: "a number", str: "a string"}


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
        name = {"ndarray": "array", "Tensor": "tensor"}.get(type(answer).__name__, "array")
        return f"a {answer.ndim}-D {name} of shape {tuple(answer.shape)}"
    if isinstance(answer, list):
        return f"a list of {len(answer)}"
    name = type(answer).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _expected_kind(expected) -> str:
    if isinstance(expected, tuple | list):
        inner = {_expected_kind(x) for x in expected}
        return "a list (or tuple) of " + ("whole numbers" if inner == {_KINDS[int]} else "values")
    return _KINDS.get(type(expected), f"a {type(expected).__name__}")


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
    return f"{_describe(given)}, and the answer is {_expected_kind(expected)}"


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
        raise ValueError(f"exercise_id={exercise_id!r} is not one of {sorted(EXERCISES)}")
    ex = EXERCISES[exercise_id]
    if answer is None:
        print(f"{exercise_id}: no answer yet. {ex.question}")
        return
    try:
        expected = ex.expected(context)
    except KeyError as missing:
        raise TypeError(f"check({exercise_id!r}, ...) needs {missing.args[0]}=... too") from None
    if _same(answer, expected, ex.tolerance):
        print(f"{exercise_id}: right.")
        return
    shown = " ".join(repr(answer).split())  # a tensor's repr spans lines
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    kind = _kind_problem(answer, expected)
    if kind:  # the kind is the problem, not the value: say what was given and what is asked
        print(f"{exercise_id}: not yet ({shown} is {kind}). Hint: {ex.hint}.")
        return
    print(f"{exercise_id}: not yet ({shown}). Hint: {ex.hint}.")
