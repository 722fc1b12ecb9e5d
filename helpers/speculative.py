"""Speculative decoding: a cheap draft guesses k tokens, the model checks them in one pass.

Taught in notebook 06 (sections 3-5, verification and the loop with the KV cache; section 7,
the accept/reject rule of speculative sampling). The drafts are ``helpers.drafts``.

Plain decoding spends one forward pass of the model per token (helpers.generation). But a
forward pass over T tokens scores every position at once, the trick that makes training parallel
(helpers.training). Speculative decoding turns that trick back on inference:

- a **draft** (``helpers.drafts``: an n-gram table or a small model) proposes
  ``k`` tokens, cheaply, one after another;
- the **model** reads all ``k`` in one forward pass and so knows what it would itself have chosen
  after each of them (``verify_greedy``);
- the longest prefix of the proposal that agrees with the model's own greedy choices is kept,
  plus the model's token at the first disagreement (a correction) or after the last proposed
  token (a bonus). Every round therefore yields between 1 and k+1 tokens for one model pass, and
  they are exactly the tokens plain greedy decoding would have produced.

With sampling, ``accept_or_resample`` (accept a draft token x with probability
min(1, p(x)/q(x)), else draw from norm(max(0, p - q))) keeps the model's distribution p exactly,
whatever the draft's distribution q; ``rule_distribution`` computes that output distribution.
p and q are the distributions the two actually sample from, after temperature, top-k or top-p.
``sampling_round`` runs one whole round (k guesses, the rule at each, a bonus token from the
model when all are kept); ``first_tokens_distribution`` computes exactly how the first n tokens
of speculative sampling are distributed, round after round, to compare with sampling the model.

The model's keys and values stay in a KV cache (``DynamicCache``) between rounds; the positions of
rejected tokens are cut off with ``crop_cache``.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import torch

from helpers._checks import (
    BadValue,
    check_int,
    check_model,
    check_non_negative,
    check_token_id,
    check_token_ids,
)
from helpers.drafts import check_draft
from helpers.generation import context_window, encode_prompt


def check_k(k, model=None) -> int:
    """``k`` (tokens the draft proposes per round) as an int in 1 .. context window - 1."""
    upper = context_window(model) - 1 if model is not None else None
    return check_int("k", k, 1, upper)


# --------------------------------------------------------------------------- verification
def crop_cache(cache, keep: int) -> None:
    """Keep the first ``keep`` positions of a DynamicCache (drop the rejected tokens' keys/values).

    In transformers 5, ``DynamicCache.crop(n)`` takes a *negative* n: the number of positions to
    remove (a positive n raises). The one place the course crops a cache (``helpers.timing``'s
    ``decode_step_seconds`` uses it too)."""
    keep = check_int("keep", keep, 0, cache.get_seq_length())  # -1 would silently empty it
    extra = cache.get_seq_length() - keep
    if extra:
        cache.crop(-extra)


@torch.no_grad()
def verify_greedy(model, ids: list[int], proposed: list[int], cache=None):
    """One forward pass over the proposed tokens: how many the model accepts, and its next token.

    ``cache`` holds every position of ``ids`` but the last (or is None). Returns
    ``(n_accepted, model_token, cache)``: the first ``n_accepted`` proposed tokens equal the
    model's own greedy choices, ``model_token`` is its choice right after them (the correction
    of the first wrong guess, or a bonus token when all k were right), and the cache now holds
    ``ids + proposed[:n_accepted]``.
    """
    check_model(model)
    vocab, window = model.config.vocab_size, context_window(model)
    ids = check_token_ids("ids", ids, vocab)
    proposed = [check_token_id("proposed token", t, vocab) for t in proposed]  # may be empty
    if len(ids) + len(proposed) > window:
        raise BadValue(
            f"ids and proposed hold {len(ids) + len(proposed)} tokens; the model's context "
            f"window is {window} tokens"
        )
    k = len(proposed)
    done = 0 if cache is None else cache.get_seq_length()
    x = torch.tensor([ids[done:] + proposed], device=model.device)  # (1, new + k)
    out = model(x, cache=cache, use_cache=True, logits_to_keep=k + 1)  # scores we need only
    # the last k+1 positions predict: the token after ids[-1], after proposed[0], ..., proposed[-1]
    choices = out.logits[0, -(k + 1) :].argmax(dim=-1).tolist()  # (k+1,) greedy choices
    n = 0
    while n < k and proposed[n] == choices[n]:
        n += 1
    cache = out.cache
    crop_cache(cache, len(ids) + n)  # forget the positions of the rejected proposals
    return n, choices[n], cache


@dataclass(frozen=True)
class Round:
    """One round of speculative decoding: one forward pass of the model."""

    index: int
    context_len: int  # tokens before the round
    proposed: list[int]  # what the draft guessed (k tokens, fewer near the end)
    n_accepted: int  # how many of them the model agreed with
    model_token: int  # the model's own token after the accepted ones

    @property
    def accepted(self) -> list[int]:
        return self.proposed[: self.n_accepted]

    @property
    def rejected(self) -> list[int]:
        return self.proposed[self.n_accepted :]

    @property
    def new_tokens(self) -> list[int]:
        return self.accepted + [self.model_token]

    @property
    def kind(self) -> str:
        """The model token's role: "bonus" when every guess was right, else "correction"."""
        return "bonus" if not self.rejected else "correction"


@dataclass
class SpeculativeResult:
    prompt_ids: list[int]
    new_ids: list[int]
    rounds: list[Round]
    k: int
    text: str
    stop_reason: str  # "max_new_tokens" or "context_window", as generate_stepwise
    seconds: float = 0.0
    draft_seconds: float = 0.0  # of ``seconds``, the time the draft spent guessing

    @property
    def ids(self) -> list[int]:
        return self.prompt_ids + self.new_ids

    @property
    def forward_passes(self) -> int:
        """Forward passes of the model: one per round."""
        return len(self.rounds)

    @property
    def proposed(self) -> int:
        return sum(len(r.proposed) for r in self.rounds)

    @property
    def accepted(self) -> int:
        return sum(r.n_accepted for r in self.rounds)

    @property
    def acceptance_rate(self) -> float:
        """Accepted draft tokens / proposed draft tokens."""
        return self.accepted / self.proposed if self.proposed else 0.0

    @property
    def passes_per_token(self) -> float:
        """Model forward passes per generated token (plain greedy decoding: 1.0)."""
        return self.forward_passes / len(self.new_ids) if self.new_ids else 0.0


def acceptance_by_position(rounds: list[Round]) -> list[float]:
    """For guess i = 1, 2, ... of a round: the share accepted among the rounds that judged it
    (those that proposed it and accepted the guesses before it). If every one is a, a round of k
    guesses adds (1 - a^(k+1)) / (1 - a) tokens on average (``expected_tokens_per_round``)."""
    longest = max((len(r.proposed) for r in rounds), default=0)
    shares = []
    for i in range(longest):
        judged = [r for r in rounds if len(r.proposed) > i and r.n_accepted >= i]
        shares.append(sum(r.n_accepted > i for r in judged) / len(judged) if judged else 0.0)
    return shares


def expected_tokens_per_round(a: float, k: int) -> float:
    """Tokens one round adds on average when each guess is right with probability ``a`` (given
    the ones before it were): 1 + a + a^2 + ... + a^k = (1 - a^(k+1)) / (1 - a)."""
    a = check_non_negative("a", a)
    if a > 1:
        raise BadValue(f"a={a} must be a probability, in the range [0, 1]")
    k = check_int("k", k, 0)
    return float(k + 1) if a == 1 else (1 - a ** (k + 1)) / (1 - a)


@torch.no_grad()
def speculative_greedy(
    model, tokenizer, prompt: str, max_new_tokens: int = 20, *, draft, k: int = 4
) -> SpeculativeResult:
    """Greedy speculative decoding: the same tokens as greedy ``generate_stepwise``, in fewer
    forward passes of ``model`` when the ``draft`` guesses well.

    Each round the draft proposes up to ``k`` tokens, ``verify_greedy`` checks them in one pass
    (with the KV cache) and 1 .. k+1 tokens are appended. Near ``max_new_tokens`` or the context
    window the round proposes fewer, so the output stops exactly where plain greedy stops.
    """
    check_int("max_new_tokens", max_new_tokens, 0)
    check_k(k, model)
    check_draft(draft, model, tokenizer)
    window = context_window(model)
    ids = encode_prompt(tokenizer, prompt, model)[0].tolist()
    prompt_len = len(ids)
    rounds: list[Round] = []
    cache, stop_reason, draft_seconds = None, "max_new_tokens", 0.0
    t0 = time.perf_counter()
    while len(ids) - prompt_len < max_new_tokens:
        if len(ids) > window:  # a text of n_positions tokens still predicts one more
            stop_reason = "context_window"
            break
        left = max_new_tokens - (len(ids) - prompt_len)
        k_now = min(k, left - 1, window - len(ids))  # the pass reads len(ids) + k_now positions
        d0 = time.perf_counter()
        proposed = [int(t) for t in draft.propose(ids, k_now)] if k_now > 0 else []
        draft_seconds += time.perf_counter() - d0
        n, token, cache = verify_greedy(model, ids, proposed, cache)
        rounds.append(Round(len(rounds), len(ids), proposed, n, token))
        ids = ids + proposed[:n] + [token]
    seconds = time.perf_counter() - t0
    text = tokenizer.decode(ids)
    return SpeculativeResult(
        ids[:prompt_len], ids[prompt_len:], rounds, k, text, stop_reason, seconds, draft_seconds
    )


# --------------------------------------------------------------------------- sampling
def _check_distribution(name: str, p: torch.Tensor) -> None:
    if not isinstance(p, torch.Tensor) or p.dim() != 1:
        raise BadValue(f"{name} must be a 1-D tensor of probabilities")
    if not torch.isfinite(p).all() or (p < 0).any():
        raise BadValue(f"{name} must hold finite probabilities >= 0")
    total = float(p.sum())
    if not math.isclose(total, 1.0, abs_tol=1e-4):
        raise BadValue(f"{name} sums to {total:.6f}; probabilities must sum to 1 (within 1e-4)")


def _check_pair(p: torch.Tensor, q: torch.Tensor) -> None:
    _check_distribution("p", p)
    _check_distribution("q", q)
    if p.shape != q.shape:
        raise BadValue(f"p and q must have the same length, got {p.numel()} and {q.numel()}")


def acceptance_probs(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """min(1, p(x)/q(x)) for every token x (1 where q(x) = 0: such x is never proposed)."""
    _check_pair(p, q)
    ratio = torch.where(q > 0, p / q.clamp_min(1e-300), torch.ones_like(p))
    return ratio.clamp(max=1.0)


def residual(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """norm(max(0, p - q)): where to draw from after a rejection (p itself when p == q)."""
    _check_pair(p, q)
    r = (p - q).clamp_min(0)
    total = r.sum()
    return r / total if total > 0 else p.clone()


def rule_distribution(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """The exact distribution of the token the accept/reject rule outputs:
    P(x) = q(x) * min(1, p(x)/q(x))  +  P(reject) * residual(x), with
    P(reject) = 1 - sum_x q(x) * min(1, p(x)/q(x)). It equals p (up to rounding)."""
    accept = q * acceptance_probs(p, q)  # (V,) draw x from q, then keep it
    return accept + (1 - accept.sum()) * residual(p, q)


def accept_or_resample(p: torch.Tensor, q: torch.Tensor, x: int, generator: torch.Generator):
    """The rule for one proposed token ``x`` (drawn from q): returns ``(token, accepted)``."""
    a = acceptance_probs(p, q)
    x = check_token_id("x", x, a.numel())  # -1 would read the last token's probability
    if float(torch.rand((), generator=generator, dtype=torch.float64)) < float(a[x]):
        return x, True
    r = residual(p, q)
    return int(torch.multinomial(r.float(), 1, generator=generator)), False


def simulate_rule(p: torch.Tensor, q: torch.Tensor, n: int, generator: torch.Generator):
    """``n`` independent runs of the rule at once: draw x ~ q, accept or resample.

    Returns ``(tokens, accepted)`` tensors of length n, for a frequency check against p."""
    check_int("n", n, 1)
    a, r = acceptance_probs(p, q), residual(p, q)
    x = torch.multinomial(q.float(), n, replacement=True, generator=generator)  # (n,) proposals
    u = torch.rand(n, generator=generator, dtype=torch.float64)  # (n,)
    accepted = u < a[x]
    resampled = torch.multinomial(r.float(), n, replacement=True, generator=generator)  # (n,)
    return torch.where(accepted, x, resampled), accepted


# --------------------------------------------------------------------------- a sampling round
Dist = Callable[[list[int]], torch.Tensor]  # context ids -> (V,) probabilities of the next token


def sampling_round(p_at: Dist, q_at: Dist, ids: list[int], k: int, generator: torch.Generator):
    """One round of speculative sampling after ``ids``; returns the tokens it emits (1 .. k+1).

    ``q_at(context)`` is the draft's (filtered) next-token distribution, ``p_at(context)`` the
    model's. The draft samples k guesses one after another; the model's distributions after
    ``ids`` and after each guess come from one verification pass (here: k+1 calls of ``p_at``).
    Guess i is kept with probability min(1, p/q); at the first rejection the residual token ends
    the round. If all k are kept, the model's distribution after the last guess is already
    computed, so one more token is drawn from it: the **bonus** token.
    """
    check_int("k", k, 1)
    context, guesses, qs = list(ids), [], []
    for _ in range(k):  # the draft guesses, each after its own previous guesses
        q = q_at(context)
        guesses.append(int(torch.multinomial(q.float(), 1, generator=generator)))
        qs.append(q)
        context.append(guesses[-1])
    emitted = []
    for i, x in enumerate(guesses):
        token, kept = accept_or_resample(p_at(list(ids) + guesses[:i]), qs[i], x, generator)
        emitted.append(token)
        if not kept:  # the residual token replaces the guess; later guesses are discarded
            return emitted
    bonus = p_at(list(ids) + guesses)  # the model's distribution after the last kept guess
    return emitted + [int(torch.multinomial(bonus.float(), 1, generator=generator))]


def _round_outcomes(p_at: Dist, q_at: Dist, ids: list[int], k: int, limit: int) -> dict:
    """Exact distribution of the first ``limit`` tokens one ``sampling_round`` emits: every
    branch of the round (each guess the draft can make, kept or rejected) with its probability."""
    out: dict[tuple[int, ...], float] = defaultdict(float)

    def walk(context, emitted, prob, i):
        if len(emitted) == limit:  # later tokens are not asked for: their distributions neither
            out[tuple(emitted)] += prob
            return
        p = p_at(context)
        if i == k:  # every guess kept: the bonus token, drawn from p
            for t in torch.nonzero(p).flatten().tolist():
                out[(*emitted, t)] += prob * float(p[t])
            return
        q = q_at(context)
        keep = q * acceptance_probs(p, q)  # P(guess x and keep it) = min(p, q)
        for x in torch.nonzero(keep).flatten().tolist():
            walk([*context, x], [*emitted, x], prob * float(keep[x]), i + 1)
        p_reject = 1.0 - float(keep.sum())
        if p_reject > 1e-15:  # the round ends with a token from the residual
            r = residual(p, q)
            for t in torch.nonzero(r).flatten().tolist():
                out[(*emitted, t)] += prob * p_reject * float(r[t])

    walk(list(ids), [], 1.0, 0)
    return out


def first_tokens_distribution(p_at: Dist, q_at: Dist, ids: list[int], k: int, n: int = 2):
    """Exact probability of every sequence of the first ``n`` tokens speculative sampling emits
    after ``ids`` with ``k`` guesses per round (a new round starts where a round ends).

    Returns {tuple of n token ids: probability}. Sampling the model n times gives
    p(a) * p(b | a) * ...; speculative sampling must give the same, for every draft."""
    check_int("k", k, 1)
    check_int("n", n, 1)
    done: dict[tuple[int, ...], float] = defaultdict(float)
    pending = {(): 1.0}
    while pending:
        prefix, prob = pending.popitem()
        for tokens, p_round in _round_outcomes(
            p_at, q_at, [*ids, *prefix], k, n - len(prefix)
        ).items():
            longer = prefix + tokens
            target = done if len(longer) == n else pending
            target[longer] = target.get(longer, 0.0) + prob * p_round
    return dict(done)
