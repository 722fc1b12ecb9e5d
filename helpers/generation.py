"""Autoregressive generation, one token at a time.

Taught in notebook 01 (sections 1-2, the loop by hand and its trace; section 5, the context
window); reused by notebook 05 (cached vs uncached) and 06 (the model draft, plain greedy).

- ``encode_prompt`` / ``context_window``: the prompt as ids, checked against ``n_positions``.
- ``decode_loop``: THE loop, nanoGPT-sized: crop to the last ``n_positions`` tokens, forward
  pass (with the KV cache: only the newest token), last position's logits, choose, append.
  ``greedy_decode`` (notebook 05's cached/uncached comparison, the model draft of 06, the
  benchmarks) and ``generate_stepwise`` (the traced loop) both run it.
- ``generate_stepwise``: the loop plus what a lesson needs to look at: a per-step ``Trace``,
  sampling, ``forced={step: token_id}`` ("what if step k had picked another token?"), EOS.

Step t needs the token chosen at step t-1 as input: that is why this loop cannot be
parallelised over t, while training (helpers.training) scores every position at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from helpers._checks import (
    BadType,
    BadValue,
    check_bool,
    check_id_tensor,
    check_int,
    check_model,
    check_token_id,
    check_token_ids,
    check_tokenizer,
)
from helpers.plots import show_token
from helpers.sampling import SamplingSettings, _top_candidates, filter_logits

#: The most tokens one call generates: a lesson needs far fewer, and with ``crop=True`` a loop
#: never stops by itself (10,000 steps already take minutes on a laptop).
MAX_NEW_TOKENS = 10_000


def check_prompt(prompt) -> str:
    """Return ``prompt`` if it is a non-blank str; else a clear TypeError/ValueError."""
    if not isinstance(prompt, str):
        raise BadType(f"prompt must be a str, got {type(prompt).__name__} {prompt!r}")
    if not prompt.strip():
        raise BadValue(f"prompt {prompt!r} is empty or only whitespace; type at least one word")
    return prompt


def context_window(model) -> int:
    """The longest sequence the model reads at once (GPT-2's ``n_positions``)."""
    cfg = check_model(model).config
    return int(getattr(cfg, "n_positions", None) or cfg.max_position_embeddings)


def encode_prompt(tokenizer, prompt: str, model=None) -> torch.Tensor:
    """Token ids of ``prompt`` as a (1, T) tensor, checked against the context window."""
    check_tokenizer(tokenizer)
    if model is not None:
        check_model(model)
    check_prompt(prompt)
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]  # (1, T)
    if model is not None:
        window = context_window(model)
        if ids.size(1) > window:
            raise BadValue(
                f"the prompt is {ids.size(1)} tokens long; the model's context window is "
                f"{window} tokens: shorten the prompt to at most {window} tokens"
            )
        ids = ids.to(model.device)
    return ids


def next_token_logits(model, ids: torch.Tensor) -> torch.Tensor:
    """Scores for the token after ``ids`` (1, T): one forward pass, last position. -> (V,)"""
    window = context_window(model)  # checks the model too
    check_id_tensor("ids", ids, model.config.vocab_size, window)
    if ids.dim() != 2 or ids.size(0) != 1 or ids.size(1) == 0:
        raise BadValue(f"ids must be one sequence (1, T), T >= 1; got shape {tuple(ids.shape)}")
    return _next_token_logits(model, ids)


@torch.no_grad()
def _next_token_logits(model, ids: torch.Tensor) -> torch.Tensor:
    """``next_token_logits`` unchecked: for ids that were checked where they entered."""
    return model(ids).logits[0, -1, :].float()  # (V,)


def next_token_probs(model, ids, temperature=1.0, top_k=None, top_p=None) -> torch.Tensor:
    """The (filtered) next-token distribution after ``ids``: probabilities summing to 1. (V,)"""
    return filter_logits(next_token_logits(model, ids), temperature, top_k, top_p).softmax(-1)


# --------------------------------------------------------------------------- the loop
@dataclass(frozen=True)
class LoopStep:
    """What one pass of ``decode_loop`` saw and chose."""

    step: int
    context_len: int  # tokens the model attended to (cached + fed)
    fed: int  # tokens run through the layers in this pass (1 with a warm cache)
    logits: torch.Tensor  # (V,) the last position's scores
    token: int


def _argmax(step: int, logits: torch.Tensor) -> int:
    return int(torch.argmax(logits))


@torch.inference_mode()  # like no_grad, minus autograd's bookkeeping: a few % faster per step
def decode_loop(
    model,
    ids: list[int],
    max_new_tokens: int,
    choose: Callable[[int, torch.Tensor], int] = _argmax,
    *,
    use_cache: bool = True,
    crop: bool = True,
) -> Iterator[LoopStep]:
    """Generate up to ``max_new_tokens`` tokens after ``ids``, yielding one ``LoopStep`` each.

    ``choose(step, logits)`` picks the token (default: greedy). A text longer than the context
    window is cropped to its last ``n_positions`` tokens (``crop=False``: stop there instead);
    once the window slides, every kept token sits at a new position, so the cache is rebuilt.
    """
    window = context_window(model)
    ids, cache = list(ids), None
    for step in range(max_new_tokens):
        slid = len(ids) > window  # the text no longer fits: the window slides
        if slid and not crop:
            return
        context = ids[-window:]  # the last n_positions tokens (all of them while they fit)
        fed = context[-1:] if cache is not None and not slid else context  # cache: newest only
        keep = use_cache and not slid  # a slid window makes every cached key stale
        out = model(
            torch.tensor([fed], device=model.device),  # (1, len(fed))
            cache=cache if keep else None,
            use_cache=keep,
            logits_to_keep=1,
        )
        cache = out.cache if keep else None
        logits = out.logits[0, -1, :].float()  # (V,) the last position predicts the next token
        token = choose(step, logits)
        ids.append(token)  # the choice becomes part of the next step's input
        yield LoopStep(step, len(context), len(fed), logits, token)


@dataclass(frozen=True)
class Decoded:
    """The result of ``greedy_decode``."""

    new_ids: list[int]
    logits: torch.Tensor  # (new tokens, V): the scores each token was chosen from
    positions: list[int]  # positions processed by each forward pass


def greedy_decode(model, ids, max_new_tokens: int, *, use_cache: bool = True) -> Decoded:
    """Greedy generation after ``ids`` ((1, T) tensor or list), with or without the KV cache."""
    ids = check_token_ids("ids", ids, check_model(model).config.vocab_size)
    check_int("max_new_tokens", max_new_tokens, 0, MAX_NEW_TOKENS)
    steps = list(
        decode_loop(model, ids, max_new_tokens, use_cache=check_bool("use_cache", use_cache))
    )
    logits = [s.logits for s in steps]
    stacked = torch.stack(logits) if logits else torch.empty(0, model.config.vocab_size)
    return Decoded([s.token for s in steps], stacked, [s.fed for s in steps])


# --------------------------------------------------------------------------- the traced loop
@dataclass(frozen=True)
class Step:
    """One decoding step: what the model saw and what was chosen."""

    step: int
    context_len: int  # tokens the model attended to (cached + fed)
    token_id: int
    token: str
    prob: float  # probability of the chosen token under the plain softmax
    top: list[tuple[int, str, float]]  # the most likely alternatives (id, text, prob)
    tokens_fed: int | None = None  # tokens run through the layers in this pass (1 with a cache)


@dataclass
class Trace:
    """The result of ``generate_stepwise``."""

    prompt_ids: list[int]
    new_ids: list[int]
    steps: list[Step]
    text: str  # prompt + generated text, decoded
    forward_passes: int
    stop_reason: str  # "max_new_tokens", "eos" or "context_window"

    @property
    def ids(self) -> list[int]:
        return self.prompt_ids + self.new_ids

    def rows(self, alternatives: int = 3, digits: int = 4) -> list[dict]:
        """One dict per step (for ``pandas.DataFrame``): the choice and the runners-up.

        Tokens are shown as the course shows them everywhere (``helpers.plots.show_token``:
        ``·`` for a space, ``↵`` for a newline). "alternatives" are the most likely tokens
        *other than* the chosen one, written ``text prob``; ask ``generate_stepwise`` for
        ``n_top >= alternatives + 1`` to get them all (greedy: the chosen token is always among
        the top ones).
        """
        rows = []
        for s in self.steps:
            others = [c for c in s.top if c[0] != s.token_id][:alternatives]
            rows.append(
                {
                    "step": s.step,
                    "context": s.context_len,
                    "token": show_token(s.token),
                    "id": s.token_id,
                    "prob": round(s.prob, digits),
                    "alternatives": ", ".join(
                        f"{show_token(t)} {p:.{digits}f}" for _, t, p in others
                    ),
                }
            )
        return rows


def _check_forced(forced, vocab_size: int, max_new_tokens: int) -> dict[int, int]:
    """``forced`` as a {step: token_id} dict of ints: steps that will run, ids in the vocabulary."""
    if forced is None:
        return {}
    if not isinstance(forced, dict):
        raise BadType(f"forced must be a dict {{step: token_id}} or None, got {forced!r}")
    last = max(max_new_tokens - 1, 0)  # a step beyond it would be silently ignored
    return {
        check_int("forced step", step, 0, last): check_token_id("forced token_id", tid, vocab_size)
        for step, tid in forced.items()
    }


def generate_stepwise(
    model,
    tokenizer,
    prompt: str,
    max_new_tokens: int = 20,
    *,
    strategy: str = "greedy",
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int = 0,
    use_cache: bool = True,
    crop: bool = False,
    stop_at_eos: bool = False,
    n_top: int = 3,
    forced: dict[int, int] | None = None,
    record_steps: bool = True,
) -> Trace:
    """``decode_loop`` on a text prompt, recording every step (the loop of notebook 01).

    crop: what to do when the text outgrows the context window. False (default): stop, with
        ``stop_reason == "context_window"`` (a text of exactly ``n_positions`` tokens still
        predicts one more). True: keep going on the last ``n_positions`` tokens.
    forced: {step: token_id} appends that token at that step instead of the model's choice.
    record_steps: False skips the per-step ``Step`` records (``steps`` stays empty).
    seed: seeds the ``torch.Generator`` of the sampled draws (one draw per sampled step).
    """
    check_model(model)
    check_tokenizer(tokenizer)
    check_int("max_new_tokens", max_new_tokens, 0, MAX_NEW_TOKENS)
    vocab = model.config.vocab_size
    if top_k is not None:  # its range depends on the vocabulary, which the settings lack
        check_int("top_k", top_k, 1, vocab)
    # checked here, once: the loop below trusts the settings (no check per step)
    settings = SamplingSettings(strategy, temperature, top_k, top_p, seed)
    check_int("n_top", n_top, 0, vocab)
    flags = {"use_cache": use_cache, "crop": crop, "stop_at_eos": stop_at_eos}
    for name, flag in {**flags, "record_steps": record_steps}.items():
        check_bool(name, flag)
    forced = _check_forced(forced, vocab, max_new_tokens)
    prompt_ids = encode_prompt(tokenizer, prompt, model)[0].tolist()
    gen = torch.Generator().manual_seed(settings.seed)  # a plain int, also from np.int64

    def choose(step, logits):  # New: forced tokens and seeded sampling
        return forced[step] if step in forced else settings.choose(logits, gen)

    new_ids, steps, stop_reason = [], [], "max_new_tokens"
    for s in decode_loop(model, prompt_ids, max_new_tokens, choose, use_cache=use_cache, crop=crop):
        new_ids.append(s.token)
        if record_steps:  # New: the trace of what the model saw and offered
            steps.append(
                Step(
                    s.step,
                    s.context_len,
                    s.token,
                    tokenizer.decode([s.token]),
                    float(s.logits.softmax(-1)[s.token]),
                    _top_candidates(s.logits, tokenizer, n_top),
                    s.fed,
                )
            )
        if stop_at_eos and s.token == tokenizer.eos_token_id:  # New: stop at end-of-text
            stop_reason = "eos"
            break
    else:
        if len(new_ids) < max_new_tokens:
            stop_reason = "context_window"  # one more token would not fit in the window
    ids = prompt_ids + new_ids
    passes = len(new_ids)  # one forward pass per new token
    return Trace(prompt_ids, new_ids, steps, tokenizer.decode(ids), passes, stop_reason)
