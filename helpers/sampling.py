"""Choosing the next token: greedy, or a draw from a reshaped distribution.

Taught in notebook 01 (section 3, temperature / top-k / top-p written by hand and checked
against transformers' warpers), shown live by the notebook-02 stepper; notebook 08 (section 3)
adds min-p, the repetition penalty and the n-gram ban.

- ``apply_temperature``, ``top_k_filter``, ``top_p_filter``: reshape or cut a distribution
  (filtered logits are ``-inf``, so softmax gives them probability 0);
- ``filter_stages`` / ``filter_logits``: the chain temperature -> top-k -> top-p, the order
  transformers applies them in, written once (``candidate_table`` reads its stages);
- ``min_p_filter``: keep the tokens at least ``min_p`` times as likely as the top one;
- ``repetition_penalty``: make every token already in the text less likely (divide a positive
  logit by the penalty, multiply a negative one), as ``RepetitionPenaltyLogitsProcessor`` does;
- ``no_repeat_ngram``: forbid every token that would repeat an n-gram already in the text, as
  ``NoRepeatNGramLogitsProcessor`` (``generate(no_repeat_ngram_size=n)``) does;
- ``choose_token``: greedy argmax or a seeded draw; ``SamplingSettings`` holds the knobs;
- ``top_candidates`` / ``candidate_table``: the most likely next tokens, before and after the
  filters (the stepper's candidate panel).

Every public function checks its arguments (a clear ``TypeError``/``ValueError``); the filter
chain itself runs unchecked in ``_filter_stages``, which ``SamplingSettings`` (checked once,
when built) and the loops that hold one call directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from helpers._checks import (
    BadType,
    BadValue,
    _kind,
    check_choice,
    check_int,
    check_positive,
    check_probability,
    check_seed,
    check_tensor,
    check_token_ids,
)

STRATEGIES = ("greedy", "sample")


def check_sampling(temperature=1.0, top_k=None, top_p=None, vocab_size=None) -> None:
    """Validate sampling settings; the messages name the value and the allowed range."""
    check_positive("temperature", temperature)
    if top_k is not None:
        check_int("top_k", top_k, 1, vocab_size)
    if top_p is not None:
        check_probability("top_p", top_p)


# The public functions below check their arguments where they enter, then run these unchecked
# versions: a loop that already holds valid settings (``SamplingSettings``, the stepper, the
# generation loop) calls them directly, so one step does not check the same value again.
def _temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    return logits / temperature


def _top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    k = min(k, logits.size(-1))  # a k beyond the vocabulary keeps every token (as transformers)
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]  # (..., 1) the k-th largest
    return logits.masked_fill(logits < kth, -math.inf)


def _top_p(logits: torch.Tensor, p: float) -> torch.Tensor:
    # p >= 1 keeps every token (the stepper's "off", transformers' TopPLogitsWarper(1.0)): the
    # running total of V float32 probabilities can reach 1.0 by round-off before the last ones,
    # and `before >= p` would then cut a tail that p = 1 asks to keep
    if p >= 1:
        return logits.clone()
    sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
    sorted_probs = sorted_logits.softmax(dim=-1)
    before = sorted_probs.cumsum(dim=-1) - sorted_probs  # mass of the tokens ranked above
    # drop a token when the tokens *before* it already reach p (so the top one always stays)
    drop_sorted = before >= p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, -math.inf)


def _filter_stages(logits, temperature, top_k, top_p) -> dict[str, torch.Tensor]:
    """The filter chain, unchecked: the one place it runs (``filter_stages`` checks first)."""
    stages = {"temperature": _temperature(logits, temperature)}
    stages["top-k"] = _top_k(stages["temperature"], top_k) if top_k else stages["temperature"]
    cut_p = top_p is not None and top_p < 1
    stages["top-p"] = _top_p(stages["top-k"], top_p) if cut_p else stages["top-k"]
    return stages


def _draw(probs: torch.Tensor, generator: torch.Generator | None) -> int:
    """One seeded draw from ``probs`` (V,)."""
    return int(torch.multinomial(probs.cpu(), 1, generator=generator))


def _check_logits(logits) -> torch.Tensor:
    """``logits`` if it is a floating-point tensor with a vocabulary dimension."""
    check_tensor("logits", logits)
    if not logits.dtype.is_floating_point:
        raise BadType(f"logits must be a floating-point tensor, got a {logits.dtype} tensor")
    if logits.dim() == 0 or logits.size(-1) == 0:
        raise BadValue(
            f"logits must have a vocabulary dimension (..., V) with V >= 1; "
            f"got shape {tuple(logits.shape)}"
        )
    return logits


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Divide the logits by ``temperature``: < 1 sharpens the distribution, > 1 flattens it."""
    _check_logits(logits)
    return _temperature(logits, check_positive("temperature", temperature))


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` highest logits (ties at the k-th value kept too); set the rest to -inf."""
    _check_logits(logits)
    return _top_k(logits, check_int("top_k", k, 1, logits.size(-1)))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of top tokens whose probabilities sum to >= ``p``; rest -> -inf."""
    _check_logits(logits)
    return _top_p(logits, check_probability("top_p", p))


def min_p_filter(logits: torch.Tensor, min_p: float) -> torch.Tensor:
    """Keep the tokens whose probability is >= ``min_p`` x the top token's; set the rest to -inf.

    The cut follows the model's confidence: a sure model keeps few tokens, an unsure one many.
    """
    _check_logits(logits)
    min_p = check_probability("min_p", min_p)
    probs = logits.softmax(dim=-1)
    top = probs.amax(dim=-1, keepdim=True)  # (..., 1) the most likely token's probability
    return logits.masked_fill(probs < min_p * top, -math.inf)  # the top token always stays


def repetition_penalty(logits: torch.Tensor, ids, penalty: float) -> torch.Tensor:
    """Make every token of ``ids`` (the text so far) less likely: logit / penalty if positive,
    logit x penalty if negative (penalty > 1 penalises, < 1 encourages repeats). (V,) -> (V,)"""
    _check_logits(logits)
    penalty = check_positive("penalty", penalty)
    ids = check_token_ids("ids", ids, logits.size(-1))
    seen = torch.tensor(sorted(set(ids)), dtype=torch.long, device=logits.device)
    out = logits.clone()
    old = out[..., seen]  # each seen token once, however often it occurred
    out[..., seen] = torch.where(old < 0, old * penalty, old / penalty)
    return out


def filter_stages(logits, temperature=1.0, top_k=None, top_p=None) -> dict[str, torch.Tensor]:
    """The logits after each filter, in order: temperature, then top-k, then top-p.

    A filter that is off (None, or top_p = 1) leaves its stage equal to the one before.
    """
    _check_logits(logits)
    check_sampling(temperature, top_k, top_p, vocab_size=logits.size(-1))
    return _filter_stages(logits, temperature, top_k, top_p)


def filter_logits(logits, temperature=1.0, top_k=None, top_p=None) -> torch.Tensor:
    """Temperature, then top-k, then top-p: the order transformers applies them in."""
    return filter_stages(logits, temperature, top_k, top_p)["top-p"]


def choose_token(
    logits: torch.Tensor,
    strategy: str = "greedy",
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> int:
    """Pick the next token id from raw logits (V,): argmax, or a draw from the filtered softmax."""
    check_choice("strategy", strategy, STRATEGIES)
    if strategy == "greedy":
        return int(torch.argmax(_check_logits(logits)))
    if generator is not None and not isinstance(generator, torch.Generator):
        raise BadType(f"generator must be a torch.Generator or None, got {_kind(generator)}")
    probs = filter_logits(logits, temperature, top_k, top_p).softmax(-1)
    return _draw(probs, generator)


@dataclass(frozen=True)
class SamplingSettings:
    """How the next token is chosen: strategy, the filters, and the seed of the draws.

    The settings are checked once, here; ``choose`` and ``filtered_probs`` then trust them.
    """

    strategy: str = "greedy"
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    seed: int = 0

    def __post_init__(self):
        check_choice("strategy", self.strategy, STRATEGIES)
        check_sampling(self.temperature, self.top_k, self.top_p)
        plain = {  # NumPy scalars (np.float32(0.7), np.int64(5)) become plain Python numbers
            "temperature": float(self.temperature),
            "top_k": None if self.top_k is None else int(self.top_k),
            "top_p": None if self.top_p is None else float(self.top_p),
            "seed": check_seed(self.seed),  # larger seeds overflow the per-step generator seed
        }
        for name, value in plain.items():
            object.__setattr__(self, name, value)

    def filtered_probs(self, logits: torch.Tensor) -> torch.Tensor:
        """The distribution a draw uses: softmax of the filtered logits (V,). Unchecked: the
        caller checks ``top_k`` against the vocabulary where the model enters."""
        return _filter_stages(logits, self.temperature, self.top_k, self.top_p)["top-p"].softmax(-1)

    def choose(self, logits: torch.Tensor, generator: torch.Generator | None = None) -> int:
        """``choose_token`` with these settings (already checked: no check per step)."""
        if self.strategy == "greedy":
            return int(torch.argmax(logits))
        return _draw(self.filtered_probs(logits), generator)


# --------------------------------------------------------------------------- candidates
def top_candidates(logits: torch.Tensor, tokenizer, n: int = 5) -> list[tuple[int, str, float]]:
    """The ``n`` most likely next tokens as (id, text, probability) under plain softmax."""
    _check_logits(logits)
    return _top_candidates(logits, tokenizer, check_int("n", n, 0, logits.size(-1)))


def _top_candidates(logits, tokenizer, n: int) -> list[tuple[int, str, float]]:
    probs = logits.softmax(-1)
    top = torch.topk(probs, n)
    return [
        (int(i), tokenizer.decode([int(i)]), float(p))
        for p, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
    ]


@dataclass(frozen=True)
class Candidate:
    """One possible next token, as the candidate panel shows it."""

    token_id: int
    text: str
    prob: float  # under the plain softmax (temperature 1, no filter): what greedy ranks by
    filtered: float  # after temperature, top-k and top-p: what sampling draws from (0 if cut)
    cut: str  # "" if the filters keep it, else "top-k" or "top-p"


def candidate_table(logits: torch.Tensor, tokenizer, settings: SamplingSettings, n: int = 8):
    """The ``n`` most likely next tokens under ``logits`` (V,), and what the filters do to them.

    The filters keep the ranking, so the cut candidates are always the tail of the list.
    """
    _check_logits(logits)
    check_settings(settings, logits.size(-1))
    check_int("n", n, 1, logits.size(-1))
    return _candidate_rows(logits, tokenizer, settings, n)[0]


def check_settings(settings, vocab_size: int | None = None) -> SamplingSettings:
    """``settings`` if it is a ``SamplingSettings`` whose ``top_k`` fits the vocabulary."""
    if not isinstance(settings, SamplingSettings):
        raise BadType(
            f"settings must be a helpers.sampling.SamplingSettings, got {_kind(settings)}"
        )
    if settings.top_k is not None and vocab_size is not None:
        check_int("top_k", settings.top_k, 1, vocab_size)
    return settings


def _candidate_rows(logits, tokenizer, settings: SamplingSettings, n: int):
    """``candidate_table``'s rows, unchecked, and the filtered distribution they read (V,)."""
    s = settings
    stages = _filter_stages(logits, s.temperature, s.top_k, s.top_p)
    probs = logits.softmax(-1)  # (V,)
    filtered = stages["top-p"].softmax(-1)  # (V,) the distribution a draw uses
    rows = []
    for i in torch.topk(probs, n).indices.tolist():
        cut = next((name for name in ("top-k", "top-p") if stages[name][i] == -math.inf), "")
        rows.append(Candidate(i, tokenizer.decode([i]), float(probs[i]), float(filtered[i]), cut))
    return rows, filtered


# --------------------------------------------------------------------------- n-gram ban
def no_repeat_ngram(logits: torch.Tensor, ids, n: int) -> torch.Tensor:
    """Ban every token that would write an ``n``-gram of ``ids`` (the text so far) a second time:
    its logit becomes -inf. The last ``n - 1`` tokens are an n-gram's start; wherever they
    occurred before, the token that followed them is banned. (V,) -> (V,), as transformers'
    ``NoRepeatNGramLogitsProcessor`` (``generate(no_repeat_ngram_size=n)``) does.

    Unlike the repetition penalty it is absolute, and it bans what a text must repeat too (a
    speaker's name of ``n`` tokens can be written only once).
    """
    _check_logits(logits)
    n = check_int("n", n, 1)
    ids = check_token_ids("ids", ids, logits.size(-1))
    start = ids[len(ids) - n + 1 :] if n > 1 else []  # the n-gram the next token would complete
    banned = {
        ids[i + n - 1] for i in range(len(ids) - n + 1) if ids[i : i + n - 1] == start
    }  # every token that followed this start before
    out = logits.clone()
    out[..., sorted(banned)] = -math.inf
    return out
