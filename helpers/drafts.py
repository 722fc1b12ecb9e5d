"""Drafts for speculative decoding: cheap guessers of the model's next tokens.

Taught in notebook 06 (section 2, the n-gram draft and what a guess costs; exercise 1, the
model as its own draft). ``helpers.speculative`` checks their guesses; ``python -m course.build
draft`` counts the bundled one.

- ``NGramDraft``: "what usually came next in the training text", n-gram counts packed into
  sorted int64 keys, saved as safetensors; ``draft_for`` gives the bundled one, or counts one for
  another tokenizer;
- ``LookupDraft``: copy what followed the last few tokens where they last occurred in the text
  so far (greedy text repeats itself), else ask the n-gram table: the draft that pays (section 6);
- ``ModelDraft``: any causal LM, proposing with the short greedy loop (``greedy_decode``);
- ``check_draft``: a draft must speak the model's token ids (``vocab_fingerprint``).
"""

from __future__ import annotations

import hashlib
import json
import weakref
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from helpers._checks import BadType, BadValue, check_int
from helpers.corpus import split_corpus
from helpers.generation import MAX_NEW_TOKENS, greedy_decode

#: The draft bundled with the course: n-gram counts of the bundled model's training text.
BUNDLED_DRAFT_DIR = Path(__file__).resolve().parent.parent / "models" / "tiny-shakespeare-ngram"
#: The highest n-gram order NGramDraft packs into int64 keys with a 4096-token vocabulary.
MAX_ORDER = 5
#: How often an n-gram must have been seen to be kept in the bundled draft (keeps it ~1 MB).
BUNDLED_MIN_COUNTS = {2: 8, 3: 12}


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


def check_draft(draft, model, tokenizer=None) -> None:
    """The draft must speak the model's token ids: same vocabulary size and, when the draft
    knows it, the same tokenizer (a token id must mean the same text for both)."""
    for name in ("propose", "vocab_size"):
        if not hasattr(draft, name):
            raise BadType(
                f"draft must have .propose(ids, k) and .vocab_size (an NGramDraft or a "
                f"ModelDraft); got {type(draft).__name__} without .{name}"
            )
    vocab = model.config.vocab_size
    if draft.vocab_size != vocab:
        raise BadValue(
            f"draft vocab_size={draft.vocab_size} does not match the model's vocabulary of "
            f"{vocab} tokens: the draft must use the model's tokenizer (token ids 0..{vocab - 1})"
        )
    theirs = getattr(draft, "fingerprint", None)
    if tokenizer is not None and theirs is not None:
        ours = vocab_fingerprint(tokenizer)
        if theirs != ours:
            raise BadValue(
                f"the draft was built with another tokenizer (vocabulary fingerprint {theirs}, "
                f"the model's is {ours}): the same id would mean different text; rebuild the "
                f"draft with the model's tokenizer"
            )


class NGramDraft:
    """The cheapest possible draft: "what usually came next in the training text".

    For the last ``order - 1`` tokens it proposes the token that most often followed them in
    the corpus; an unseen context backs off to a shorter one, down to the most common token.
    ``distribution(ids)`` gives the same counts as probabilities, the draft's q for sampling.
    """

    def __init__(
        self,
        ngrams: dict[int, tuple[np.ndarray, np.ndarray]],
        vocab_size: int,
        fingerprint: str | None = None,
    ):
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
        order = check_int("order", order, 2, MAX_ORDER)
        if vocab_size**order >= 2**63:
            raise BadValue(f"vocab_size={vocab_size} is too large for order={order} keys")
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if ids.size < order:
            raise BadValue(f"need at least order={order} tokens to count, got {ids.size}")
        if ids.min() < 0 or ids.max() >= vocab_size:
            raise BadValue(
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
            raise BadValue("text must be a non-empty str to count n-grams from")
        ids = tokenizer(text)["input_ids"]
        return cls.from_ids(ids, len(tokenizer), order, vocab_fingerprint(tokenizer))

    def pruned(self, min_counts: dict[int, int]) -> NGramDraft:
        """A smaller draft that keeps an n-gram only if it was seen >= min_counts[n] times."""
        ngrams = {}
        for n, (keys, counts) in self.ngrams.items():
            m = min_counts.get(n, 1) if n > 1 else 1  # every unigram stays: the last resort
            check_int(f"min_counts[{n}]", m, 1)
            keep = counts >= m
            ngrams[n] = (keys[keep], counts[keep])
        return NGramDraft(ngrams, self.vocab_size, self.fingerprint)

    def save(self, folder, card_extra: dict | None = None) -> None:
        """Write ``config.json`` and ``model.safetensors`` (int64 keys, int32 counts)."""

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {}
        for n, (keys, counts) in self.ngrams.items():
            tensors[f"ngram{n}.keys"] = torch.from_numpy(keys.astype(np.int64))
            tensors[f"ngram{n}.counts"] = torch.from_numpy(counts.astype(np.int32))
        save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
        config = {
            "model_type": "ngram-draft",
            "vocab_size": self.vocab_size,
            "order": self.order,
            "vocab_fingerprint": self.fingerprint,
            **(card_extra or {}),
        }
        (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    @classmethod
    def load(cls, folder=None) -> NGramDraft:
        """Read a draft written by ``save`` (default: the one bundled in models/)."""

        folder = Path(folder) if folder is not None else BUNDLED_DRAFT_DIR
        if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
            raise OSError(
                f"{folder.name!r} holds no n-gram draft (config.json + model.safetensors)"
            )
        config = json.loads((folder / "config.json").read_text())
        if config.get("model_type") != "ngram-draft":
            raise BadValue(f"{folder.name!r} is a {config.get('model_type')!r}, not an ngram-draft")
        tensors = load_file(folder / "model.safetensors")
        ngrams = {
            n: (tensors[f"ngram{n}.keys"].numpy(), tensors[f"ngram{n}.counts"].numpy())
            for n in range(1, config["order"] + 1)
        }
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
        check_int("k", k, 0, MAX_NEW_TOKENS)
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


class LookupDraft:
    """Copy from the text so far; where the text has nothing to copy, ask a ``fallback`` draft.

    Greedy text repeats itself (notebook 01: it falls into loops), so the best guess of what the
    model writes next is often what followed the same few tokens the last time they occurred in
    the text, the prompt and what the model already wrote. For n = ``max_ngram`` down to 1: find
    the **latest** earlier place where the last n tokens occurred and guess the token that
    followed them there; no such place: ``fallback.next_token`` (the n-gram table). Each of the
    k guesses is made after the ones before it, so a guessed loop goes on looping.
    (``helpers.assisted.PromptLookupDraft`` is transformers' rule instead: the earliest match,
    and no guess without one; notebook 08 checks it against ``generate``.)
    """

    def __init__(self, fallback: NGramDraft, max_ngram: int = 3):
        if not hasattr(fallback, "next_token"):
            raise BadType(
                f"fallback must be a draft with .next_token(ids) (an NGramDraft), got "
                f"{type(fallback).__name__}"
            )
        self.fallback = fallback
        self.max_ngram = check_int("max_ngram", max_ngram, 1, MAX_ORDER)
        self.vocab_size = fallback.vocab_size
        self.fingerprint = getattr(fallback, "fingerprint", None)

    def copied_token(self, ids) -> int | None:
        """The token that followed the latest earlier occurrence of the longest tail of ``ids``
        (at most ``max_ngram`` tokens), or None if not even the last token occurred before."""
        for n in range(min(self.max_ngram, len(ids) - 1), 0, -1):
            tail = ids[-n:]
            for start in range(len(ids) - n - 1, -1, -1):  # latest first: loops repeat the latest
                if ids[start : start + n] == tail:
                    return ids[start + n]
        return None

    def next_token(self, ids) -> int:
        copied = self.copied_token(ids)
        return copied if copied is not None else self.fallback.next_token(ids)

    def propose(self, ids, k: int) -> list[int]:
        """``k`` tokens, each the draft's guess after the ones before it."""
        check_int("k", k, 0, MAX_NEW_TOKENS)
        seq = list(ids)
        for _ in range(k):
            seq.append(self.next_token(seq))
        return seq[len(ids) :]


class ModelDraft:
    """A transformers causal LM as the draft: ``greedy_decode``, k cached passes per proposal."""

    def __init__(self, model, tokenizer=None):
        self.model = model
        self.vocab_size = model.config.vocab_size
        self.fingerprint = vocab_fingerprint(tokenizer) if tokenizer is not None else None
        self.passes = 0

    def propose(self, ids, k: int) -> list[int]:
        decoded = greedy_decode(self.model, list(ids), k)
        self.passes += len(decoded.positions)  # one forward pass per proposed token
        return decoded.new_ids


def draft_for(tokenizer, text_chars: int = 1_000_000) -> NGramDraft:
    """The bundled draft if ``tokenizer`` is the one it was counted with; else (another model,
    e.g. GPT_COURSE_MODEL=gpt2) a draft counted now from the first ``text_chars`` characters of
    the training text with that tokenizer (a few seconds)."""
    draft = NGramDraft.load()
    if draft.fingerprint == vocab_fingerprint(tokenizer):
        return draft
    return NGramDraft.from_text(tokenizer, split_corpus()[0][:text_chars], draft.order)
