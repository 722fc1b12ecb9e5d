"""Speculative decoding: a cheap draft guesses k tokens, the model checks them in one pass.

Plain decoding spends one forward pass of the model per token (helpers.generation). But a
forward pass over T tokens scores every position at once, the trick that makes training parallel
(helpers.training). Speculative decoding turns that trick back on inference:

- a **draft** (here an n-gram table counted from the training text, ``NGramDraft``) proposes
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

The model's keys and values stay in a KV cache (``DynamicCache``) between rounds; the positions of
rejected tokens are cut off with ``crop_cache``.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from helpers.generation import check_max_new_tokens, context_window, encode_prompt

#: The draft bundled with the course: n-gram counts of the bundled model's training text.
BUNDLED_DRAFT_DIR = Path(__file__).resolve().parent.parent / "models" / "tiny-shakespeare-ngram"
#: The highest n-gram order NGramDraft packs into int64 keys with a 4096-token vocabulary.
MAX_ORDER = 5


# --------------------------------------------------------------------------- validation
_FINGERPRINTS: dict[int, tuple] = {}  # id(tokenizer) -> (weak reference, size, fingerprint)


def vocab_fingerprint(tokenizer) -> str:
    """A short hash of the tokenizer's vocabulary (token -> id): equal iff the same vocabulary.

    Hashing 4096 entries takes ~10 ms, so the result is remembered per tokenizer object (and
    recomputed if its size changes, e.g. after ``add_tokens``)."""
    size = len(tokenizer.get_vocab()) if not hasattr(tokenizer, "__len__") else len(tokenizer)
    known = _FINGERPRINTS.get(id(tokenizer))
    if known is not None and known[0]() is tokenizer and known[1] == size:
        return known[2]
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])
    fingerprint = hashlib.sha256(json.dumps(vocab, ensure_ascii=False).encode()).hexdigest()[:16]
    try:
        _FINGERPRINTS[id(tokenizer)] = (weakref.ref(tokenizer), size, fingerprint)
    except TypeError:  # an object that cannot be weakly referenced: just do not remember it
        pass
    return fingerprint


def check_k(k, model=None) -> int:
    """``k`` (tokens the draft proposes per round) as an int in 1 .. context window - 1."""
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an int, got {type(k).__name__} {k!r}")
    upper = context_window(model) - 1 if model is not None else None
    if k < 1 or (upper is not None and k > upper):
        allowed = f"1 <= k <= {upper} (the context window minus one)" if upper else "k >= 1"
        raise ValueError(f"k={k} is outside the allowed range {allowed}")
    return k


def check_draft(draft, model, tokenizer=None) -> None:
    """The draft must speak the model's token ids: same vocabulary size and, when the draft
    knows it, the same tokenizer (a token id must mean the same text for both)."""
    for name in ("propose", "vocab_size"):
        if not hasattr(draft, name):
            raise TypeError(
                f"draft must have .propose(ids, k) and .vocab_size (an NGramDraft or a "
                f"ModelDraft); got {type(draft).__name__} without .{name}"
            )
    vocab = model.config.vocab_size
    if draft.vocab_size != vocab:
        raise ValueError(
            f"draft vocab_size={draft.vocab_size} does not match the model's vocabulary of "
            f"{vocab} tokens: the draft must use the model's tokenizer (token ids 0..{vocab - 1})"
        )
    theirs = getattr(draft, "fingerprint", None)
    if tokenizer is not None and theirs is not None:
        ours = vocab_fingerprint(tokenizer)
        if theirs != ours:
            raise ValueError(
                f"the draft was built with another tokenizer (vocabulary fingerprint {theirs}, "
                f"the model's is {ours}): the same id would mean different text; rebuild the "
                f"draft with the model's tokenizer"
            )


# --------------------------------------------------------------------------- drafts
class NGramDraft:
    """The cheapest possible draft: "what usually came next in the training text".

    For the last ``order - 1`` tokens it proposes the token that most often followed them in
    the corpus; an unseen context backs off to a shorter one, down to the most common token.
    ``distribution(ids)`` gives the same counts as probabilities, the draft's q for sampling.
    """

    def __init__(self, ngrams: dict[int, tuple[np.ndarray, np.ndarray]], vocab_size: int,
                 fingerprint: str | None = None):  # fmt: skip
        # ngrams[n] = (keys, counts): every n-gram seen, encoded as one int64 in base vocab_size
        # (context tokens first, the next token last), sorted, with how often it was seen.
        self.vocab_size = int(vocab_size)
        self.order = max(ngrams)
        self.fingerprint = fingerprint
        self.ngrams = ngrams
        self.best: dict[int, dict[int, int]] = {}  # n -> {encoded context: most frequent next}
        for n, (keys, counts) in ngrams.items():
            if n == 1:
                continue
            ctx, nxt = keys // vocab_size, keys % vocab_size
            # sort by context, then by count (descending), then by token id: first row per context
            idx = np.lexsort((nxt, -counts, ctx))
            ctx, nxt = ctx[idx], nxt[idx]
            first = np.ones(len(ctx), dtype=bool)
            first[1:] = ctx[1:] != ctx[:-1]
            self.best[n] = dict(zip(ctx[first].tolist(), nxt[first].tolist(), strict=True))
        keys, counts = ngrams[1]
        self.most_common = int(keys[np.argmax(counts)])  # smallest id among ties

    @classmethod
    def from_ids(cls, ids, vocab_size: int, order: int = 3, fingerprint: str | None = None):
        """Count every n-gram (n = 1 .. order) of the token sequence ``ids``."""
        if isinstance(order, bool) or not isinstance(order, int):
            raise TypeError(f"order must be an int, got {type(order).__name__}")
        if not 2 <= order <= MAX_ORDER:
            raise ValueError(
                f"order={order} is outside the allowed range 2 <= order <= {MAX_ORDER}"
            )
        if vocab_size**order >= 2**63:
            raise ValueError(f"vocab_size={vocab_size} is too large for order={order} keys")
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if ids.size < order:
            raise ValueError(f"need at least order={order} tokens to count, got {ids.size}")
        if ids.min() < 0 or ids.max() >= vocab_size:
            raise ValueError(
                f"token ids must be in 0..{vocab_size - 1}, got {ids.min()}..{ids.max()}"
            )
        ngrams = {}
        for n in range(1, order + 1):
            m = ids.size - n + 1
            key = np.zeros(m, dtype=np.int64)
            for j in range(n):  # base-V number: ids[i], ids[i+1], ..., ids[i+n-1]
                key = key * vocab_size + ids[j : j + m]
            ngrams[n] = np.unique(key, return_counts=True)
        return cls(ngrams, vocab_size, fingerprint)

    @classmethod
    def from_text(cls, tokenizer, text: str, order: int = 3):
        """Tokenize ``text`` with the model's tokenizer and count its n-grams."""
        if not isinstance(text, str) or not text:
            raise ValueError("text must be a non-empty str to count n-grams from")
        ids = tokenizer(text)["input_ids"]
        return cls.from_ids(ids, len(tokenizer), order, vocab_fingerprint(tokenizer))

    def pruned(self, min_counts: dict[int, int]) -> NGramDraft:
        """A smaller draft that keeps an n-gram only if it was seen >= min_counts[n] times."""
        ngrams = {}
        for n, (keys, counts) in self.ngrams.items():
            m = min_counts.get(n, 1) if n > 1 else 1  # every unigram stays: the last resort
            if isinstance(m, bool) or not isinstance(m, int) or m < 1:
                raise ValueError(f"min_counts[{n}]={m!r} must be an int >= 1")
            keep = counts >= m
            ngrams[n] = (keys[keep], counts[keep])
        return NGramDraft(ngrams, self.vocab_size, self.fingerprint)

    def save(self, folder, card_extra: dict | None = None) -> None:
        """Write ``config.json`` and ``model.safetensors`` (int64 keys, int32 counts)."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {}
        for n, (keys, counts) in self.ngrams.items():
            tensors[f"ngram{n}.keys"] = torch.from_numpy(keys.astype(np.int64))
            tensors[f"ngram{n}.counts"] = torch.from_numpy(counts.astype(np.int32))
        save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
        config = {"model_type": "ngram-draft", "vocab_size": self.vocab_size,
                  "order": self.order, "vocab_fingerprint": self.fingerprint,
                  **(card_extra or {})}  # fmt: skip
        (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    @classmethod
    def load(cls, folder=None) -> NGramDraft:
        """Read a draft written by ``save`` (default: the one bundled in models/)."""
        from safetensors.torch import load_file

        folder = Path(folder) if folder is not None else BUNDLED_DRAFT_DIR
        if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
            raise OSError(
                f"{folder.name!r} holds no n-gram draft (config.json + model.safetensors)"
            )
        config = json.loads((folder / "config.json").read_text())
        if config.get("model_type") != "ngram-draft":
            raise ValueError(
                f"{folder.name!r} is a {config.get('model_type')!r}, not an ngram-draft"
            )
        tensors = load_file(folder / "model.safetensors")
        ngrams = {n: (tensors[f"ngram{n}.keys"].numpy(), tensors[f"ngram{n}.counts"].numpy())
                  for n in range(1, config["order"] + 1)}  # fmt: skip
        return cls(ngrams, config["vocab_size"], config.get("vocab_fingerprint"))

    def _context_key(self, ids, n: int) -> int:
        key = 0
        for t in ids[len(ids) - (n - 1) :]:
            key = key * self.vocab_size + int(t)
        return key

    def next_token(self, ids) -> int:
        """The most frequent next token after the longest context of ``ids`` seen in training."""
        for n in range(min(self.order, len(ids) + 1), 1, -1):
            nxt = self.best[n].get(self._context_key(ids, n))
            if nxt is not None:
                return nxt
        return self.most_common

    def propose(self, ids, k: int) -> list[int]:
        """``k`` tokens, each the draft's greedy guess after the ones before it."""
        seq = list(ids)
        for _ in range(k):
            seq.append(self.next_token(seq))
        return seq[len(ids) :]

    def distribution(self, ids) -> torch.Tensor:
        """q: next-token probabilities from the counts of the longest context seen. (V,) float64"""
        q = torch.zeros(self.vocab_size, dtype=torch.float64)
        for n in range(min(self.order, len(ids) + 1), 0, -1):
            keys, counts = self.ngrams[n]
            lo_key = self._context_key(ids, n) * self.vocab_size if n > 1 else 0
            lo, hi = np.searchsorted(keys, [lo_key, lo_key + self.vocab_size])
            if hi > lo:
                q[torch.from_numpy(keys[lo:hi] % self.vocab_size)] = torch.from_numpy(
                    counts[lo:hi].astype(np.float64)
                )
                return q / q.sum()
        raise AssertionError("unreachable: the unigram counts cover every context")

    @property
    def size(self) -> int:
        """How many n-grams the draft stores (all orders)."""
        return sum(len(keys) for keys, _ in self.ngrams.values())


class ModelDraft:
    """A transformers causal LM as the draft: k greedy forward passes, one per proposed token."""

    def __init__(self, model, tokenizer=None):
        self.model = model
        self.vocab_size = model.config.vocab_size
        self.fingerprint = vocab_fingerprint(tokenizer) if tokenizer is not None else None
        self.passes = 0

    @torch.no_grad()
    def propose(self, ids, k: int) -> list[int]:
        x = torch.tensor([list(ids)], device=self.model.device)  # (1, T)
        cache, new = None, []
        for _ in range(k):
            inp = x if cache is None else x[:, -1:]
            out = self.model(inp, cache=cache, use_cache=True)
            self.passes += 1
            cache = out.cache
            token = int(out.logits[0, -1].argmax())
            new.append(token)
            x = torch.cat([x, x.new_tensor([[token]])], dim=1)  # (1, T+1)
        return new


# --------------------------------------------------------------------------- verification
def crop_cache(cache, keep: int) -> None:
    """Keep the first ``keep`` positions of a DynamicCache (drop the rejected tokens' keys/values).

    In transformers 5, ``DynamicCache.crop(n)`` takes a *negative* n: the number of positions to
    remove (a positive n raises)."""
    extra = cache.get_seq_length() - keep
    if extra < 0:
        raise ValueError(f"keep={keep} is more than the {cache.get_seq_length()} cached positions")
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


@torch.no_grad()
def speculative_greedy(model, tokenizer, prompt: str, max_new_tokens: int = 20, *, draft,
                       k: int = 4) -> SpeculativeResult:  # fmt: skip
    """Greedy speculative decoding: the same tokens as greedy ``generate_stepwise``, in fewer
    forward passes of ``model`` when the ``draft`` guesses well.

    Each round the draft proposes up to ``k`` tokens, ``verify_greedy`` checks them in one pass
    (with the KV cache) and 1 .. k+1 tokens are appended. Near ``max_new_tokens`` or the context
    window the round proposes fewer, so the output stops exactly where plain greedy stops.
    """
    check_max_new_tokens(max_new_tokens)
    check_k(k, model)
    check_draft(draft, model, tokenizer)
    window = context_window(model)
    ids = encode_prompt(tokenizer, prompt, model)[0].tolist()
    prompt_len = len(ids)
    rounds: list[Round] = []
    cache, stop_reason, draft_seconds = None, "max_new_tokens", 0.0
    t0 = time.perf_counter()
    while len(ids) - prompt_len < max_new_tokens:
        if len(ids) >= window:
            stop_reason = "context_window"
            break
        left = max_new_tokens - (len(ids) - prompt_len)
        k_now = min(k, left - 1, window - 1 - len(ids))  # the round adds at most k_now + 1
        d0 = time.perf_counter()
        proposed = [int(t) for t in draft.propose(ids, k_now)] if k_now > 0 else []
        draft_seconds += time.perf_counter() - d0
        n, token, cache = verify_greedy(model, ids, proposed, cache)
        rounds.append(Round(len(rounds), len(ids), proposed, n, token))
        ids = ids + proposed[:n] + [token]
    seconds = time.perf_counter() - t0
    text = tokenizer.decode(ids)
    return SpeculativeResult(ids[:prompt_len], ids[prompt_len:], rounds, k, text, stop_reason,
                             seconds, draft_seconds)  # fmt: skip


# --------------------------------------------------------------------------- sampling
def _check_distribution(name: str, p: torch.Tensor) -> None:
    if not isinstance(p, torch.Tensor) or p.dim() != 1:
        raise ValueError(f"{name} must be a 1-D tensor of probabilities")
    if not torch.isfinite(p).all() or (p < 0).any():
        raise ValueError(f"{name} must hold finite probabilities >= 0")
    total = float(p.sum())
    if not math.isclose(total, 1.0, abs_tol=1e-4):
        raise ValueError(f"{name} sums to {total:.6f}; probabilities must sum to 1 (within 1e-4)")


def _check_pair(p: torch.Tensor, q: torch.Tensor) -> None:
    _check_distribution("p", p)
    _check_distribution("q", q)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same length, got {p.numel()} and {q.numel()}")


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
    if float(torch.rand((), generator=generator, dtype=torch.float64)) < float(a[x]):
        return x, True
    r = residual(p, q)
    return int(torch.multinomial(r.float(), 1, generator=generator)), False


def simulate_rule(p: torch.Tensor, q: torch.Tensor, n: int, generator: torch.Generator):
    """``n`` independent runs of the rule at once: draw x ~ q, accept or resample.

    Returns ``(tokens, accepted)`` tensors of length n, for a frequency check against p."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n={n!r} must be an int >= 1")
    a, r = acceptance_probs(p, q), residual(p, q)
    x = torch.multinomial(q.float(), n, replacement=True, generator=generator)  # (n,) proposals
    u = torch.rand(n, generator=generator, dtype=torch.float64)  # (n,)
    accepted = u < a[x]
    resampled = torch.multinomial(r.float(), n, replacement=True, generator=generator)  # (n,)
    return torch.where(accepted, x, resampled), accepted


# --------------------------------------------------------------------------- the bundled draft
#: How often an n-gram must have been seen to be kept in the bundled draft (keeps it ~1 MB).
BUNDLED_MIN_COUNTS = {2: 8, 3: 12}


def build_draft(out=None, *, order: int = 3, min_counts: dict[int, int] | None = None,
                tokenizer_from=None) -> dict:  # fmt: skip
    """Count the n-grams of the bundled model's training text (its own tokenizer) and save them.

    The same split as ``helpers.training``: every play but the held-out one. Returns stats."""
    from transformers import AutoTokenizer

    from helpers.models import BUNDLED_MODEL_DIR
    from helpers.training import split_corpus

    out = Path(out) if out is not None else BUNDLED_DRAFT_DIR
    min_counts = dict(BUNDLED_MIN_COUNTS if min_counts is None else min_counts)
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_from or BUNDLED_MODEL_DIR))
    train_text, val_text = split_corpus()
    t0 = time.perf_counter()
    full = NGramDraft.from_text(tokenizer, train_text, order)
    draft = full.pruned(min_counts)
    seconds = time.perf_counter() - t0
    val = tokenizer(val_text)["input_ids"]

    def top1(d):  # how often the draft's guess is the held-out play's actual next token
        hits = sum(d.next_token(val[max(0, i - order) : i]) == val[i] for i in range(1, len(val)))
        return round(hits / (len(val) - 1), 4)

    stats = {"order": order, "min_counts": {str(n): m for n, m in min_counts.items()},
             "train_tokens": int(full.ngrams[1][1].sum()), "ngrams_counted": full.size,
             "ngrams_kept": draft.size, "held_out_tokens": len(val),
             "held_out_top1_full": top1(full), "held_out_top1_kept": top1(draft),
             "build_seconds": round(seconds, 1)}  # fmt: skip
    draft.save(out, {"min_counts": stats["min_counts"]})
    (out / "build_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    print(json.dumps(stats, indent=2))
    return stats


def draft_for(tokenizer, text_chars: int = 1_000_000) -> NGramDraft:
    """The bundled draft if ``tokenizer`` is the one it was counted with; else (another model,
    e.g. GPT_COURSE_MODEL=gpt2) a draft counted now from the first ``text_chars`` characters of
    the training text with that tokenizer (a few seconds)."""
    draft = NGramDraft.load()
    if draft.fingerprint == vocab_fingerprint(tokenizer):
        return draft
    from helpers.training import split_corpus

    return NGramDraft.from_text(tokenizer, split_corpus()[0][:text_chars], draft.order)


def main(argv=None):
    import argparse

    p = argparse.ArgumentParser(description="Count the n-gram draft of notebook 06.")
    p.add_argument(
        "--out", required=True, help=f"folder to write (bundled: {BUNDLED_DRAFT_DIR.name})"
    )
    p.add_argument("--overwrite", action="store_true",
                   help="allow writing into a folder that already holds files")  # fmt: skip
    p.add_argument("--order", type=int, default=3)
    p.add_argument("--min-counts", default=",".join(f"{v}" for v in BUNDLED_MIN_COUNTS.values()),
                   help="minimum count for n = 2, 3, ...: e.g. 8,12")  # fmt: skip
    a = p.parse_args(argv)
    out = Path(a.out)
    if out.is_dir() and any(out.iterdir()) and not a.overwrite:
        p.error(f"{out} already holds files (the shipped draft?): pass --overwrite to replace them")
    mins = {n + 2: int(m) for n, m in enumerate(a.min_counts.split(","))}
    build_draft(out, order=a.order, min_counts=mins)


if __name__ == "__main__":
    main()
