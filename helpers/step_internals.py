"""Inside one step of the notebook-02 stepper: the pass that scored it, the cache, the filters.

Taught in notebook 02 (section 2, the stepper's panes); the ideas come from notebook 04
(attention weights per layer and head), 05 (the KV cache) and 01 / 08 (the logits processors).
Python prepares the data here; ``helpers.stepper_panes`` draws it.

- ``CachedPasses``: the stepper's forward passes, with a KV cache. The prompt runs once (prefill);
  after that each Step runs the model on the one new token, reading the keys and values of every
  earlier position from the cache. The passes use eager attention, so the same pass that gives
  the next-token logits also returns its attention weights: ``run(ids)`` gives a ``StepPass``,
  with the newest token's attention row in every layer and head (what that pass computed, not a
  recomputation) and the cache as the pass left it (positions and bytes, measured). It is the
  pass of every mode: ``run_rows`` runs all the beams of a beam search side by side (one cache
  row each, reordered to the beams they continue), and ``run(ids, guesses)`` reads the draft's
  guesses after the text in the same pass (speculative decoding's check);
- ``cache_info``: the cache of a text, counted from the config (layers x 2 x heads x head size x
  bytes per value), its share of the context window, what the next step reads, and what a
  sliding window would drop once the window is full;
- ``filter_pipeline``: the logits after each stage, in the order transformers' ``generate``
  applies its processors (``GenerationMixin._get_logits_processor``): the repetition penalty,
  then temperature, top-k, top-p and min-p; ``pipeline_columns`` reads the candidates'
  probabilities after every stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from helpers._checks import BadValue, check_int, check_model, check_token_ids
from helpers.cost import kv_bytes_per_token
from helpers.generation import context_window
from helpers.models import attention_implementation
from helpers.sampling import (
    _check_logits,
    _filter_stages,
    check_sampling,
    min_p_filter,
    repetition_penalty,
)
from helpers.speculative import crop_cache


# --------------------------------------------------------------------------- the cached passes
@dataclass(frozen=True)
class StepPass:
    """What one forward pass of the stepper computed, and the cache it left.

    The mode's next step and the panes read the same pass: greedy / sample take ``logits``,
    beam search the scores of every beam (``texts``: one row each, best first), speculative
    decoding the scores after the text and after each of the draft's ``guesses``. The panes
    show the first text: its newest token's attention and its part of the cache."""

    texts: tuple[tuple[int, ...], ...]  # the rows the pass read, of one length; texts[0] shown
    guesses: tuple[int, ...]  # the draft's guesses it read after the text (speculative mode)
    scores: torch.Tensor  # (rows, 1 + guesses, V) next-token logits after each text and guess
    attention: torch.Tensor  # (L, H, T) the newest token of texts[0]: its weights over T tokens
    fed: int  # tokens each row ran through the layers: the prompt's, then 1 per Step (+ guesses)
    cache_positions: int  # positions the KV cache held after the pass (T, + the guesses)
    cache_bytes: int  # bytes of the cache's tensors that hold texts[0] (its row, T positions)

    @property
    def ids(self) -> tuple[int, ...]:
        """The text the panes show; its last token is the newest one."""
        return self.texts[0]

    @property
    def logits(self) -> torch.Tensor:
        """(V,) the scores of the token after ``ids``."""
        return self.scores[0, 0]

    @property
    def nbytes(self) -> int:
        """Bytes of the tensors it keeps (the scores and the attention; not the cache)."""
        return sum(t.numel() * t.element_size() for t in (self.scores, self.attention))


def _common_prefix(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class CachedPasses:
    """The KV cache the stepper keeps: each text is scored by one pass over its new tokens.

    The cache holds the keys and values of ``cached_rows``, one row per text (beam search keeps
    one per beam). Each new text takes the row it shares the most tokens with: for a Step, the
    text it continues, so only the new token runs; after Undo, a forced token or Reset the rows
    are cut to the tokens every text shares first; a new prompt starts afresh.
    """

    def __init__(self, model):
        self.model = check_model(model)
        self.window = context_window(model)
        self.cache = None  # a transformers DynamicCache once the first pass ran
        self.cached_rows: tuple[tuple[int, ...], ...] = ()

    @property
    def cached_ids(self) -> tuple[int, ...]:
        """The tokens the cache's first row holds (the one text outside beam mode)."""
        return self.cached_rows[0] if self.cached_rows else ()

    def run(self, ids, guesses=()) -> StepPass:
        """One pass for the text ``ids`` (1..window token ids) and, in speculative mode, the
        draft's ``guesses`` after it: logits, attention, cache."""
        return self.run_rows([ids], guesses)

    def _reuse(self, texts: list[tuple[int, ...]]) -> tuple[list[int], int]:
        """For each text the cached row that shares the most tokens with it, and how many
        leading tokens every text keeps from its row (its newest token always runs)."""
        width = len(self.cached_ids)
        whole = {row: i for i, row in reversed(list(enumerate(self.cached_rows)))}
        rows, keep = [], len(texts[0]) - 1
        for text in texts:
            i, shared = whole.get(text[:width]), width  # a Step: the text continues a row
            if i is None:  # Undo, a forced token, Reset: the row it shares the most with
                common = [_common_prefix(row, text) for row in self.cached_rows]
                shared = max(common)
                i = common.index(shared)
            rows.append(i)
            keep = min(keep, shared)
        return rows, keep

    @torch.no_grad()
    def run_rows(self, texts, guesses=()) -> StepPass:
        """One batched pass for ``texts`` (beam mode: every beam, best first; all of one length)
        and the ``guesses`` after a single text: each row's logits, the first text's attention."""
        if not texts:
            raise ValueError("texts is empty: pass one text, or one per beam")
        vocab = self.model.config.vocab_size
        texts = [tuple(check_token_ids("ids", t, vocab)) for t in texts]
        guesses = tuple(check_token_ids("guesses", guesses, vocab)) if len(guesses) else ()
        n = len(texts[0])
        check_int("len(ids)", n, 1, self.window, "the model's context window")
        if any(len(t) != n for t in texts) or (guesses and len(texts) > 1):
            raise ValueError(
                f"texts must all be {n} tokens long, and guesses follow one text only: got "
                f"lengths {[len(t) for t in texts]} and {len(guesses)} guesses"
            )
        check_int("len(ids) + len(guesses)", n + len(guesses), 1, self.window, "the window")
        rows, keep = self._reuse(texts) if self.cache is not None else ([], 0)
        unmoved = rows == list(range(len(self.cached_rows)))
        cache, self.cache, self.cached_rows = self.cache, None, ()  # an error leaves no stale cache
        if keep == 0:
            cache = None
        else:
            if not unmoved:  # each text takes its row (beams: parents)
                cache.reorder_cache(torch.tensor(rows, device=self.model.device))
            crop_cache(cache, keep)  # forget the positions of the tokens that changed
        fed = torch.tensor([t[keep:] + guesses for t in texts], device=self.model.device)  # (B, F)
        with attention_implementation(self.model, "eager"):  # eager returns the weights
            out = self.model(
                fed,
                cache=cache,
                use_cache=True,
                output_attentions=True,
                logits_to_keep=1 + len(guesses),  # after the text, and after each guess
            )
        self.cache, self.cached_rows = out.cache, tuple(t + guesses for t in texts)
        # each layer's weights are (B, H, F, T + guesses): the first text's newest token's row,
        # over the T tokens up to it (the guesses after it are masked: weight 0)
        newest = n - 1 - keep  # its place among the fed tokens
        attention = torch.stack([a[0, :, newest, :n] for a in out.attentions])  # (L, H, T)
        text_bytes = sum(  # the first row's first n positions, of every layer's keys and values
            t[0, :, :n].numel() * t.element_size()
            for layer in self.cache.layers
            for t in (layer.keys, layer.values)
        )
        return StepPass(
            tuple(texts),
            guesses,
            out.logits.float(),  # (B, 1 + guesses, V)
            attention.float().cpu(),
            fed.size(1),
            self.cache.get_seq_length(),
            text_bytes,
        )


# --------------------------------------------------------------------------- the cache, counted
@dataclass(frozen=True)
class CacheInfo:
    """The KV cache behind a text of ``n_tokens`` tokens, counted from the model's config."""

    n_tokens: int  # tokens in the text
    window: int  # the context window (n_positions)
    n_layer: int
    n_head: int
    head_dim: int
    bytes_per_value: int
    dropped: int | None  # the token id a sliding window drops first; None while the text fits

    @property
    def positions(self) -> int:
        """Positions the cache holds: every token's, up to the window."""
        return min(self.n_tokens, self.window)

    @property
    def bytes_per_position(self) -> int:
        """layers x 2 (a key and a value) x heads x head size x bytes per value."""
        return kv_bytes_per_token(self.n_layer, self.n_head, self.head_dim, self.bytes_per_value)

    @property
    def bytes(self) -> int:
        return self.positions * self.bytes_per_position

    @property
    def share(self) -> float:
        """The share of the context window in use (0..1)."""
        return self.positions / self.window

    @property
    def next_reads(self) -> int | None:
        """Cached positions the next Step's pass reads (it runs 1 new token); None: the window
        is full, so the next Step's text no longer fits and no pass follows it."""
        return self.n_tokens if self.n_tokens < self.window else None


def cache_info(model, ids) -> CacheInfo:
    """The KV cache of the text ``ids`` (what the last pass left), from ``model``'s config."""
    config = check_model(model).config
    ids = check_token_ids("ids", ids, config.vocab_size)
    window = context_window(model)
    check_int("len(ids)", len(ids), 1, window + 1, "the window, and the one token it predicts")
    n_head = config.n_head
    value_bytes = next(model.parameters()).element_size()  # the cache has the weights' dtype
    return CacheInfo(
        len(ids),
        window,
        config.n_layer,
        n_head,
        config.n_embd // n_head,
        value_bytes,
        ids[0] if len(ids) >= window else None,  # token window + 1 pushes out the oldest
    )


# --------------------------------------------------------------------------- the filters
def filter_pipeline(
    logits,
    ids=(),
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
    penalty: float | None = None,
) -> list[tuple[str, torch.Tensor]]:
    """The logits (V,) after each stage, in the order transformers' ``generate`` applies them.

    ``GenerationMixin._get_logits_processor`` (transformers 5) puts the processors first (the
    repetition ``penalty``, over the text ``ids``) and then the sampling warpers: temperature,
    top-k, top-p, min-p. Returns ``[(label, logits), ...]`` starting with ``("softmax", logits)``
    (the model's own scores); temperature is always listed, the other stages only when on.
    """
    _check_logits(logits)
    check_sampling(temperature, top_k, top_p, vocab_size=logits.size(-1))
    stages = [("softmax", logits)]
    if penalty is not None:  # checks the penalty and the ids
        stages.append((f"repetition penalty {penalty:g}", repetition_penalty(logits, ids, penalty)))
    chain = _filter_stages(stages[-1][1], temperature, top_k, top_p)  # the chain, written once
    stages.append((f"temperature {temperature:g}", chain["temperature"]))
    if top_k is not None:
        stages.append((f"top-k {top_k}", chain["top-k"]))
    if top_p is not None and top_p < 1:
        stages.append((f"top-p {top_p:g}", chain["top-p"]))
    if min_p is not None:
        stages.append((f"min-p {min_p:g}", min_p_filter(stages[-1][1], min_p)))
    return stages


@dataclass(frozen=True)
class StageColumn:
    """One stage of the pipeline, as the filter pane shows it."""

    label: str
    probs: tuple[float, ...]  # the candidates' probabilities after this stage (0: cut)
    kept: int  # tokens of the whole vocabulary still possible after it


def pipeline_columns(stages: list[tuple[str, torch.Tensor]], token_ids) -> list[StageColumn]:
    """The probability of each of ``token_ids`` (the candidates) after every stage."""
    if not stages:
        raise BadValue("stages is empty: pass the list filter_pipeline returns")
    token_ids = check_token_ids("token_ids", token_ids, stages[0][1].size(-1))
    columns = []
    for label, logits in stages:
        probs = logits.softmax(-1)  # (V,) cut tokens (-inf) get exactly 0
        columns.append(
            StageColumn(label, tuple(probs[token_ids].tolist()), int(torch.isfinite(logits).sum()))
        )
    return columns
