"""Beam search: keep the ``num_beams`` most likely partial texts instead of one.

Taught in notebook 08 (section 2, beam search by hand == ``model.generate(num_beams=...)``,
and why the likelier text is the duller one; ``token_log_probs`` puts greedy, beam search,
sampling and the real text side by side against the model's entropy: the typical set).

Greedy decoding keeps one text and appends its single most likely next token. Beam search keeps
``num_beams`` texts ("beams"); each step scores every (beam, next token) pair by the beam's summed
log-probability plus the token's, and keeps the best. It follows transformers 5's rules exactly:

- each step looks at the ``2 * num_beams`` best pairs (so that enough are left when some end);
- a pair that ends (its token is EOS, or the text reached ``max_new_tokens``) goes to a list of
  ``num_beams`` **finished** texts, scored ``sum of log-probs / new_tokens ** length_penalty``,
  but only if it is among the ``num_beams`` best pairs of this step;
- the best ``num_beams`` pairs that did not end become the next step's beams;
- ``early_stopping=True`` stops when ``num_beams`` texts are finished; ``False`` (the default)
  stops once the best running beam, at its current length, can no longer beat the worst finished
  text; ``"never"`` (with ``length_penalty > 0``) assumes it could still grow to the full length.

The KV cache follows the beams: when beam 2 continues beam 0's text, it needs beam 0's keys and
values (``cache.reorder_cache``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from helpers._checks import BadValue, check_finite, check_int, check_model, check_token_ids
from helpers.generation import MAX_NEW_TOKENS, context_window

EARLY_STOPPING = (True, False, "never")
#: The most memory the widest tensor of the search may take: the first pass's logits, one
#: (prompt length, vocabulary) float32 block per beam: 1 GiB.
MAX_LOGITS_BYTES = 2**30


@dataclass(frozen=True)
class BeamResult:
    """The best finished text of ``beam_search`` and what the search went through."""

    new_ids: list[int]  # the best finished text's new tokens (EOS included if it ended there)
    score: float  # its sum of log-probabilities / len(new_ids) ** length_penalty
    log_prob: float  # its sum of log-probabilities (the score without the length penalty)
    finished: list[tuple[float, list[int]]]  # every kept finished text, best first
    steps: list[list[tuple[list[int], float]]]  # per step: the running beams (new ids, log-prob)


def _check_args(num_beams, max_new_tokens, length_penalty, early_stopping, prompt_len, vocab):
    # more beams than tokens in the vocabulary cannot all be different after the first step,
    # and the first pass holds num_beams x prompt x vocabulary logits: both bound num_beams
    most = max(1, min(vocab, MAX_LOGITS_BYTES // (4 * prompt_len * vocab)))
    why = (
        f"at most the vocabulary size {vocab}, and num_beams x {prompt_len} prompt tokens x "
        f"{vocab} float32 logits may take at most 1 GiB"
    )
    check_int("num_beams", num_beams, 1, most, why=why)
    check_int("max_new_tokens", max_new_tokens, 1, MAX_NEW_TOKENS)
    check_finite("length_penalty", length_penalty)  # nan or inf would score every text nan
    if not any(early_stopping is choice for choice in EARLY_STOPPING):
        raise BadValue(f"early_stopping={early_stopping!r} must be one of {EARLY_STOPPING}")


@dataclass(frozen=True)
class BeamChoice:
    """What one step of beam search keeps: ``choose_beams``' answer, for the loop below and for
    the stepper's beam mode (``helpers.stepper_modes``), which runs one step per click."""

    finished: list[tuple[float, list[int], float]]  # (score, new ids, sum of log-probs), best first
    parents: list[int]  # for each new beam, the beam it continues ([]: every pair ended)
    tokens: list[int]  # the token each new beam appends
    scores: torch.Tensor  # (n,) float32 summed log-probs of the new beams
    open: bool  # may a running beam still beat the worst finished text?
    done: bool  # the search is over: best = finished[0]


def choose_beams(
    logp: torch.Tensor,
    scores: torch.Tensor,
    texts: list[list[int]],
    finished: list[tuple[float, list[int], float]],
    step: int,
    *,
    max_new_tokens: int,
    eos_token_id: int | None = None,
    length_penalty: float = 1.0,
    early_stopping: bool | str = False,
    open_: bool = True,
) -> BeamChoice:
    """One step of beam search, transformers 5's rules (module docstring): ``logp`` (n, V) the
    beams' next-token log-probabilities, ``scores`` (n,) their float32 sums, ``texts`` their new
    ids, ``finished`` the texts ended so far, ``step`` the 0-based step. Arguments are the
    caller's to check (``beam_search`` checks them once)."""
    n, vocab = logp.shape
    total = (logp + scores[:, None]).reshape(-1)  # (n * V,): every (beam, token) pair
    top, index = torch.topk(total, 2 * n)  # (2n,) best pairs, best first
    beam, token = (index // vocab).tolist(), (index % vocab).tolist()
    last = step + 1 == max_new_tokens
    ends = [last or t == eos_token_id for t in token]
    finished = list(finished)
    if open_ and not (len(finished) == n and early_stopping is True):
        for j in range(n):  # only the n best pairs may finish
            if ends[j]:
                norm = float(top[j] / (step + 1) ** length_penalty)
                finished.append((norm, texts[beam[j]] + [token[j]], float(top[j])))
        finished = sorted(finished, key=lambda f: -f[0])[:n]
    go_on = [j for j in range(2 * n) if not ends[j]][:n]  # the best n pairs that did not end
    if len(go_on) < n:  # every pair ended: the search is over
        return BeamChoice(finished, [], [], scores, False, True)
    new_scores = top[go_on]
    grow = max_new_tokens if early_stopping == "never" and length_penalty > 0 else step + 1
    worst = finished[-1][0] if len(finished) == n else -1e9
    open_ = open_ and float(new_scores[0] / grow**length_penalty) > worst
    done = not open_ or (len(finished) == n and early_stopping is True)
    parents, tokens = [beam[j] for j in go_on], [token[j] for j in go_on]
    return BeamChoice(finished, parents, tokens, new_scores, open_, done)


@torch.no_grad()
def beam_search(
    model,
    ids,
    num_beams: int = 4,
    max_new_tokens: int = 20,
    *,
    eos_token_id: int | None = None,
    length_penalty: float = 1.0,
    early_stopping: bool | str = False,
) -> BeamResult:
    """Beam search after ``ids`` (a list or (1, T) tensor), the way ``model.generate`` does it.

    ``eos_token_id`` None: texts end only at ``max_new_tokens``. Scores are float32 sums, as in
    transformers, so that ties and near-ties fall the same way.
    """
    prompt = check_beam_search(
        model, ids, num_beams, max_new_tokens, length_penalty, early_stopping, eos_token_id
    )
    n = num_beams
    fed = torch.tensor([prompt] * n, device=model.device)  # (n, T): n copies of the prompt
    scores = torch.full((n,), -1e9, device=model.device)  # (n,) only beam 0 is real yet
    scores[0] = 0.0
    texts: list[list[int]] = [[] for _ in range(n)]  # each beam's new tokens
    finished: list[tuple[float, list[int], float]] = []
    cache, open_, steps = None, True, []
    rules = {
        "max_new_tokens": max_new_tokens,
        "eos_token_id": eos_token_id,
        "length_penalty": length_penalty,
        "early_stopping": early_stopping,
    }
    for step in range(max_new_tokens):
        out = model(fed, cache=cache, use_cache=True)
        cache = out.cache
        logp = out.logits[:, -1, :].float().log_softmax(-1)  # (n, V)
        choice = choose_beams(logp, scores, texts, finished, step, open_=open_, **rules)
        finished, open_ = choice.finished, choice.open
        if not choice.parents:
            break
        # each new beam continues its parent's keys and values
        cache.reorder_cache(torch.tensor(choice.parents, device=model.device))
        texts = [texts[b] + [t] for b, t in zip(choice.parents, choice.tokens, strict=True)]
        scores = choice.scores
        fed = torch.tensor(choice.tokens, device=model.device)[:, None]  # (n, 1)
        steps.append([(t, float(v)) for t, v in zip(texts, scores, strict=True)])
        if choice.done:
            break
    best = finished[0]
    return BeamResult(best[1], best[0], best[2], [(f[0], f[1]) for f in finished], steps)


def check_beam_search(
    model, ids, num_beams, max_new_tokens, length_penalty, early_stopping, eos_token_id
) -> list[int]:
    """The arguments of a beam search, checked once; returns the prompt's ids as a list."""
    check_model(model)
    vocab = model.config.vocab_size
    prompt = check_token_ids("ids", ids, vocab)
    _check_args(num_beams, max_new_tokens, length_penalty, early_stopping, len(prompt), vocab)
    if len(prompt) + max_new_tokens > context_window(model):
        raise BadValue(
            f"{len(prompt)} prompt tokens + max_new_tokens={max_new_tokens} do not "
            f"fit the context window of {context_window(model)} tokens"
        )
    if eos_token_id is not None:
        check_int("eos_token_id", eos_token_id, 0, vocab - 1)
    return prompt


@torch.no_grad()
def sequence_log_prob(model, ids, new_ids) -> float:
    """The summed log-probability the model gives ``new_ids`` after ``ids``: one parallel pass."""
    prompt, new = _check_text(model, ids, new_ids)
    x = torch.tensor([prompt + new], device=model.device)  # (1, T + N)
    logp = model(x).logits[0, len(prompt) - 1 : -1].float().log_softmax(-1)  # (N, V)
    return float(logp.gather(-1, torch.tensor(new, device=model.device)[:, None]).sum())


def _check_text(model, ids, new_ids) -> tuple[list[int], list[int]]:
    """``ids`` and ``new_ids`` as lists, checked against the model's vocabulary and window."""
    check_model(model)
    vocab = model.config.vocab_size
    prompt = check_token_ids("ids", ids, vocab)
    new = check_token_ids("new_ids", new_ids, vocab)
    window = context_window(model)
    if len(prompt) + len(new) > window:
        raise BadValue(
            f"ids and new_ids hold {len(prompt)} + {len(new)} = {len(prompt) + len(new)} tokens; "
            f"the model's context window is {window} tokens"
        )
    return prompt, new


@torch.no_grad()
def token_log_probs(model, ids, new_ids) -> tuple[torch.Tensor, torch.Tensor]:
    """Each token of ``new_ids`` after ``ids``: its log-probability, and the entropy of the
    distribution it was chosen from, in nats (two (N,) tensors; one parallel pass).

    A text sampled at temperature 1 has, on average, a log-probability per token of minus the
    entropy (the *typical set*); greedy and beam search pick tokens far likelier than that.
    """
    prompt, new = _check_text(model, ids, new_ids)
    x = torch.tensor([prompt + new], device=model.device)  # (1, T + N)
    logp = model(x).logits[0, len(prompt) - 1 : -1].float().log_softmax(-1)  # (N, V)
    chosen = logp.gather(-1, torch.tensor(new, device=model.device)[:, None])[:, 0]  # (N,)
    entropy = -(logp.exp() * logp).nansum(-1)  # (N,) a token of probability 0 adds nothing
    return chosen.cpu(), entropy.cpu()
