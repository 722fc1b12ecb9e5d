"""Inside one step of the notebook-02 stepper: the pass that scored it, the cache, the filters.

Taught in notebook 02 (section 2, the stepper's panes); the ideas come from notebook 04
(attention weights per layer and head), 05 (the KV cache) and 01 / 08 (the logits processors).
Python prepares the data here; ``helpers.stepper_panes`` draws it.

- ``CachedPasses``: the stepper's forward passes, with a KV cache. The prompt runs once (prefill);
  after that each Step runs the model on the one new token, reading the keys and values of every
  earlier position from the cache. The passes use eager attention, so the same pass that gives
  the next-token logits also returns its attention weights: ``run(ids)`` gives a ``StepPass``,
  with the newest token's attention row in every layer and head (what that pass computed, not a
  recomputation) and the cache as the pass left it (positions and bytes, measured);
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
from helpers.cost import cache_tensor_bytes, kv_bytes_per_token
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
    """What one forward pass of the stepper computed, and the cache it left."""

    ids: tuple[int, ...]  # the text the pass read; its last token is the newest one
    logits: torch.Tensor  # (V,) the scores of the next token
    attention: torch.Tensor  # (L, H, T) the newest token's attention weights over the T tokens
    fed: int  # tokens run through the layers: the prompt's at first, then 1 per Step
    cache_positions: int  # positions the KV cache held after the pass (T)
    cache_bytes: int  # bytes its key and value tensors occupy, measured


def _common_prefix(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class CachedPasses:
    """The KV cache the stepper keeps: each text is scored by one pass over its new tokens.

    The cache holds the keys and values of ``cached_ids``. For a text that continues them (a
    Step) only the new token runs; for one that shares a shorter beginning (after Undo, a forced
    token, Reset) the cache is cropped to the shared tokens first; a new prompt starts afresh.
    """

    def __init__(self, model):
        self.model = check_model(model)
        self.window = context_window(model)
        self.cache = None  # a transformers DynamicCache once the first pass ran
        self.cached_ids: tuple[int, ...] = ()

    @torch.no_grad()
    def run(self, ids) -> StepPass:
        """One pass for the text ``ids`` (1..window token ids): logits, attention, cache."""
        ids = tuple(check_token_ids("ids", ids, self.model.config.vocab_size))
        check_int("len(ids)", len(ids), 1, self.window, "the model's context window")
        keep = min(_common_prefix(self.cached_ids, ids), len(ids) - 1)  # feed >= 1 token
        cache, self.cache, self.cached_ids = self.cache, None, ()  # an error leaves no stale cache
        if keep == 0:
            cache = None
        elif keep < cache.get_seq_length():
            crop_cache(cache, keep)  # forget the positions of the tokens that changed
        fed = torch.tensor([ids[keep:]], device=self.model.device)  # (1, new tokens)
        with attention_implementation(self.model, "eager"):  # eager returns the weights
            out = self.model(
                fed, cache=cache, use_cache=True, output_attentions=True, logits_to_keep=1
            )
        self.cache, self.cached_ids = out.cache, ids
        # each layer's weights are (1, H, new tokens, T): the newest token's row in all of them
        attention = torch.stack([a[0, :, -1, :] for a in out.attentions]).float().cpu()  # (L,H,T)
        return StepPass(
            ids,
            out.logits[0, -1].float(),  # (V,)
            attention,
            fed.size(1),
            self.cache.get_seq_length(),
            cache_tensor_bytes(self.cache),
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
