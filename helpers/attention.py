"""Attention inside the model: its weights, attention by hand, and what one token influences.

Taught in notebook 04 (section 2, where the mask enters: scores + mask -> softmax, by hand;
section 3, the weights per layer and head; section 5, what breaks without the mask). Running
the model with hooks lives here; the masks themselves are tensors in ``helpers.masks``.

- ``batch_logits``: logits of a padded batch, with a (B, T) or a 4-D mask;
- ``model_attention_mask``: the mask the model itself adds to its scores (captured with a hook);
- ``attention_weights`` / ``hand_attention``: the model's softmax weights, and the same computed
  by hand from the model's own q, k, v (captured with a forward hook);
- ``influence``: how far position t's logits move when token k changes (the leakage test).

The figure of the weights, every layer and head with a slider, is ``helpers.plots``'s
``attention_figure``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from helpers._checks import (
    BadValue,
    check_id_tensor,
    check_index_tensor,
    check_int,
    check_model,
    check_token_id,
)
from helpers.generation import context_window
from helpers.masks import causal_mask, check_model_mask


def _check_inputs(model, input_ids, attention_mask=None, position_ids=None) -> None:
    """The model, a (B, T) batch of token ids in its vocabulary and window, and the mask."""
    check_model(model)
    check_model_mask(input_ids, attention_mask)  # input_ids (B, T); the mask fits it
    window = context_window(model)
    check_id_tensor("input_ids", input_ids, model.config.vocab_size, window)
    if position_ids is not None:
        check_index_tensor("position_ids", position_ids, window, "position")
        if position_ids.shape != input_ids.shape:
            raise BadValue(
                f"position_ids shape {tuple(position_ids.shape)} must equal input_ids shape "
                f"{tuple(input_ids.shape)}"
            )


@torch.no_grad()
def batch_logits(model, input_ids, attention_mask=None, position_ids=None) -> torch.Tensor:
    """Logits (B, T, V) of a (padded) batch; ``attention_mask`` may be (B, T) or (B, 1, T, T)."""
    _check_inputs(model, input_ids, attention_mask, position_ids)
    return model(input_ids, attention_mask=attention_mask, position_ids=position_ids).logits


@torch.no_grad()
def model_attention_mask(model, input_ids, attention_mask=None):
    """The mask the model itself adds inside layer 0's attention, captured with a hook.

    For the eager attention: (B, 1, T, T) floats, 0 = may attend, the most negative float = may
    not. SDPA may get a bool mask, or ``None`` when the plain causal case needs none.
    """
    _check_inputs(model, input_ids, attention_mask)
    seen = {}

    def grab(module, args, kwargs):
        seen["mask"] = kwargs.get("attention_mask")

    hook = model.transformer.h[0].attn.register_forward_pre_hook(grab, with_kwargs=True)
    try:
        model(input_ids, attention_mask=attention_mask)
    finally:
        hook.remove()
    return seen["mask"]


def _require_eager(model) -> None:
    impl = getattr(model.config, "_attn_implementation", None)
    if impl != "eager":
        raise BadValue(
            f"the model uses attn_implementation={impl!r}, which returns no attention weights; "
            f'load it with load_model(attn_implementation="eager")'
        )


@torch.no_grad()
def attention_weights(model, input_ids, attention_mask=None) -> torch.Tensor:
    """The model's softmax weights for every layer: (L, B, H, T, T). Needs the eager model.

    ``attention_mask``: None, a (B, T) padding mask, or a 4-D mask such as ``no_causal_mask``.
    """
    _check_inputs(model, input_ids, attention_mask)
    _require_eager(model)
    out = model(input_ids, attention_mask=attention_mask, output_attentions=True)
    return torch.stack(out.attentions)  # (L, B, H, T, T)


@dataclass
class HandAttention:
    """One layer's causal self-attention for one sequence, recomputed step by step."""

    q: torch.Tensor  # (H, T, d)
    k: torch.Tensor  # (H, T, d)
    v: torch.Tensor  # (H, T, d)
    scores: torch.Tensor  # (H, T, T)  q . k / sqrt(d)
    masked: torch.Tensor  # (H, T, T)  scores, -inf above the diagonal
    weights: torch.Tensor  # (H, T, T)  softmax over each row
    output: torch.Tensor  # (T, C)     heads merged and projected (c_proj)
    model_output: torch.Tensor  # (T, C) what the model's attention layer returned


@torch.no_grad()
def hand_attention(model, input_ids: torch.Tensor, layer: int = 0) -> HandAttention:
    """Recompute layer ``layer``'s attention of a (1, T) input from the model's own q, k, v.

    A forward hook captures the output of ``c_attn`` (the one linear layer that makes q, k
    and v); the rest is written out: scores, mask, softmax, weighted sum, projection.
    Scores are scaled as the model's config says: by 1/sqrt(d) (``scale_attn_weights``, GPT-2's
    default) and, if ``scale_attn_by_inverse_layer_idx``, also by 1/(layer + 1).
    """
    _check_inputs(model, input_ids)
    if input_ids.size(0) != 1:
        raise BadValue(f"hand_attention takes one sequence (1, T); got {tuple(input_ids.shape)}")
    check_int("layer", layer, 0, model.config.n_layer - 1)
    attn = model.transformer.h[layer].attn
    seen = {}
    hooks = [
        attn.c_attn.register_forward_hook(lambda m, i, o: seen.update(qkv=o[0])),  # (T, 3C)
        attn.register_forward_hook(lambda m, i, o: seen.update(out=o[0][0])),  # (T, C)
    ]
    try:
        model(input_ids)
    finally:
        for h in hooks:
            h.remove()
    H = model.config.n_head
    T, C = seen["out"].shape
    d = C // H
    q, k, v = (t.view(T, H, d).transpose(0, 1) for t in seen["qkv"].split(C, dim=-1))  # (H, T, d)
    scores = q @ k.transpose(-1, -2)  # (H, T, T)
    if getattr(model.config, "scale_attn_weights", True):  # GPT-2's default
        scores = scores / d**0.5
    if getattr(model.config, "scale_attn_by_inverse_layer_idx", False):  # an option of the config
        scores = scores / (layer + 1)
    masked = scores.masked_fill(~causal_mask(T), float("-inf"))  # the future is not allowed
    weights = masked.softmax(dim=-1)  # (H, T, T) each row sums to 1
    heads = weights @ v  # (H, T, d)
    output = attn.c_proj(heads.transpose(0, 1).reshape(T, C))  # (T, C)
    return HandAttention(q, k, v, scores, masked, weights, output, seen["out"])


@torch.no_grad()
def influence(model, input_ids: torch.Tensor, replacement_id: int, attention_mask=None):
    """(T, T) tensor: row k, column t = max |change| of position t's logits when token k is
    replaced by ``replacement_id``. With the causal mask, every entry with t < k is exactly 0.

    ``attention_mask``: None for the model's own causal mask, or a 4-D additive mask such as
    ``no_causal_mask(1, T)``.
    """
    _check_inputs(model, input_ids, attention_mask)
    if input_ids.size(0) != 1:
        raise BadValue(f"influence takes one sequence (1, T); got {tuple(input_ids.shape)}")
    check_token_id("replacement_id", replacement_id, model.config.vocab_size)
    base = model(input_ids, attention_mask=attention_mask).logits[0]  # (T, V)
    rows = []
    for k in range(input_ids.size(1)):  # one pass per change: same shapes, so exact zeros
        changed = input_ids.clone()  # (1, T)
        changed[0, k] = replacement_id
        logits = model(changed, attention_mask=attention_mask).logits[0]  # (T, V)
        rows.append((logits - base).abs().amax(dim=-1))  # (T,)
    return torch.stack(rows)  # (T, T): row k = token k changed, column t = position t


# --------------------------------------------------------------------------- figure
