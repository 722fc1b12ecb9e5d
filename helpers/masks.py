"""Attention masks: who may look at whom inside one parallel forward pass.

- ``causal_mask(T)``: position i may attend to positions j <= i, never to the future.
- ``pad_batch``: prompts of different lengths as one padded batch (left padding by default).
- ``padding_mask`` / ``combined_mask``: the pad columns switched off, then causal AND padding.
- ``position_ids_from_mask``: with left padding, every row's first real token is position 0.
- ``additive_mask``: a boolean mask as the 0 / "-inf" floats that attention adds to its scores.
- ``no_causal_mask``: the mask that lets every position see every other one (what breaks).
- ``attention_weights`` / ``hand_attention``: the model's softmax weights, and the same computed
  by hand from the model's own q, k, v (captured with a forward hook).
- ``model_attention_mask``: the mask the model itself adds to its scores (captured with a hook).
- ``influence``: how far position t's logits move when token k changes (the leakage test).
- ``attention_figure``: every layer's and head's weights in one figure with a slider.

Boolean masks use True = "may attend" and the model's shape (batch, 1, query, key).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

SIDES = ("left", "right")


# --------------------------------------------------------------------------- validation
def _check_length(T) -> int:
    if isinstance(T, bool) or not isinstance(T, int):
        raise TypeError(f"T (sequence length) must be an int, got {type(T).__name__} {T!r}")
    if T < 1:
        raise ValueError(f"T={T} must be >= 1 (a sequence has at least one token)")
    return T


def check_batch(input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> None:
    """Raise a clear error unless ``input_ids`` (B, T) and ``attention_mask`` (B, T) fit together.

    The mask holds 1 for a real token and 0 for padding; every row needs one real token.
    """
    if not isinstance(input_ids, torch.Tensor):
        raise TypeError(f"input_ids must be a torch tensor, got {type(input_ids).__name__}")
    if input_ids.dim() != 2:
        raise ValueError(f"input_ids must be 2-D (batch, seq); got shape {tuple(input_ids.shape)}")
    if input_ids.size(0) == 0 or input_ids.size(1) == 0:
        raise ValueError(
            f"the batch is empty: input_ids has shape {tuple(input_ids.shape)}; "
            f"need at least 1 row and 1 token"
        )
    if attention_mask is None:
        return
    if not isinstance(attention_mask, torch.Tensor):
        raise TypeError(
            f"attention_mask must be a torch tensor, got {type(attention_mask).__name__}"
        )
    if attention_mask.shape != input_ids.shape:
        raise ValueError(
            f"attention_mask shape {tuple(attention_mask.shape)} must equal input_ids shape "
            f"{tuple(input_ids.shape)}: one 1/0 per token"
        )
    if not ((attention_mask == 0) | (attention_mask == 1)).all():
        raise ValueError("attention_mask may hold only 1 (real token) and 0 (padding)")
    empty = (attention_mask.sum(-1) == 0).nonzero().flatten().tolist()
    if empty:
        raise ValueError(
            f"row(s) {empty} of the batch are all padding (attention_mask all 0): "
            f"each prompt needs at least 1 real token"
        )


def check_model_mask(input_ids: torch.Tensor, attention_mask=None) -> None:
    """Like ``check_batch``, but ``attention_mask`` may also be a 4-D (B, 1, T, T) model mask."""
    if isinstance(attention_mask, torch.Tensor) and attention_mask.dim() == 4:
        check_batch(input_ids)
        B, T = input_ids.shape
        if attention_mask.shape != (B, 1, T, T):
            raise ValueError(
                f"a 4-D attention_mask must have shape (batch, 1, T, T) = {(B, 1, T, T)} for "
                f"input_ids of shape {(B, T)}; got {tuple(attention_mask.shape)}"
            )
    else:
        check_batch(input_ids, attention_mask)


def _check_attention_mask(attention_mask) -> torch.Tensor:
    if not isinstance(attention_mask, torch.Tensor):
        raise TypeError(
            f"attention_mask must be a torch tensor, got {type(attention_mask).__name__}"
        )
    # a dummy input of the same shape runs every check that concerns the mask alone
    check_batch(torch.zeros(attention_mask.shape, dtype=torch.long), attention_mask)
    return attention_mask.bool()


# --------------------------------------------------------------------------- masks
def causal_mask(T: int) -> torch.Tensor:
    """(T, T) bool: entry [i, j] is True when position i may attend to position j (j <= i)."""
    _check_length(T)
    return torch.ones(T, T, dtype=torch.bool).tril()  # (T, T) lower triangle incl. diagonal


def pad_batch(tokenizer, prompts, side: str = "left") -> dict[str, torch.Tensor]:
    """Tokenize ``prompts`` into one batch padded on ``side``: input_ids, attention_mask (B, T)."""
    if isinstance(prompts, str) or not isinstance(prompts, (list, tuple)):
        raise TypeError(f"prompts must be a list of str, got {type(prompts).__name__}")
    if len(prompts) == 0:
        raise ValueError("prompts is an empty list: the batch needs at least 1 prompt")
    bad = [p for p in prompts if not isinstance(p, str)]
    if bad:
        raise TypeError(f"every prompt must be a str; got {bad[0]!r}")
    if side not in SIDES:
        raise ValueError(f"side={side!r} must be one of {SIDES}")
    if tokenizer.pad_token_id is None:
        raise ValueError("the tokenizer has no pad token; set tokenizer.pad_token first")
    batch = tokenizer(list(prompts), padding=True, padding_side=side, return_tensors="pt")
    out = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    check_batch(out["input_ids"], out["attention_mask"])  # e.g. an empty prompt: all padding
    return out


def padding_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """(B, T) 1/0 per token -> (B, 1, T, T) bool: every query may look at real keys only."""
    keep = _check_attention_mask(attention_mask)  # (B, T)
    T = keep.size(1)
    return keep[:, None, None, :].expand(-1, 1, T, T)  # (B, 1, T, T): same row for each query


def combined_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """(B, T) -> (B, 1, T, T) bool: causal AND padding, the mask the model applies to a batch."""
    pad = padding_mask(attention_mask)  # (B, 1, T, T)
    return pad & causal_mask(pad.size(-1))  # (T, T) broadcasts over batch and head


def position_ids_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """(B, T) -> (B, T) positions counted over real tokens only; pads get 0 (they are masked).

    With left padding the first real token of every row gets position 0, as when the prompt
    runs alone. GPT-2 does not do this by itself: it numbers the columns 0..T-1.
    """
    keep = _check_attention_mask(attention_mask).long()  # (B, T)
    return (keep.cumsum(-1) - 1).clamp(min=0)  # (B, T)


def additive_mask(mask: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Bool mask -> floats added to the attention scores: 0 where allowed, "-inf" elsewhere.

    "-inf" is the most negative finite float (as transformers does), so a row with nothing
    to attend to (a pad query) gets uniform weights instead of NaN. Pass this to the model:
    the eager attention *adds* its mask, so a bool mask would be added as 1/0, not applied.
    """
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor, got {getattr(mask, 'dtype', type(mask))}")
    zero = torch.zeros((), dtype=dtype)
    return torch.where(mask, zero, torch.finfo(dtype).min)  # same shape as mask


def no_causal_mask(batch_size: int, T: int) -> torch.Tensor:
    """(B, 1, T, T) additive mask of zeros: every position may attend to every position.

    This is ``additive_mask`` of an all-True bool mask. Handed to the model it replaces the
    causal mask, so position t can read tokens t+1, t+2, ...: the parallel pass then cheats.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} must be an int >= 1")
    _check_length(T)
    return additive_mask(torch.ones(batch_size, 1, T, T, dtype=torch.bool))


# --------------------------------------------------------------------------- running the model
@torch.no_grad()
def batch_logits(model, input_ids, attention_mask=None, position_ids=None) -> torch.Tensor:
    """Logits (B, T, V) of a (padded) batch; ``attention_mask`` may be (B, T) or (B, 1, T, T)."""
    check_model_mask(input_ids, attention_mask)
    if position_ids is not None and position_ids.shape != input_ids.shape:
        raise ValueError(
            f"position_ids shape {tuple(position_ids.shape)} must equal input_ids shape "
            f"{tuple(input_ids.shape)}"
        )
    return model(input_ids, attention_mask=attention_mask, position_ids=position_ids).logits


@torch.no_grad()
def model_attention_mask(model, input_ids, attention_mask=None):
    """The mask the model itself adds inside layer 0's attention, captured with a hook.

    For the eager attention: (B, 1, T, T) floats, 0 = may attend, the most negative float = may
    not. SDPA may get a bool mask, or ``None`` when the plain causal case needs none.
    """
    check_model_mask(input_ids, attention_mask)
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
        raise ValueError(
            f"the model uses attn_implementation={impl!r}, which returns no attention weights; "
            f'load it with load_model(attn_implementation="eager")'
        )


@torch.no_grad()
def attention_weights(model, input_ids, attention_mask=None) -> torch.Tensor:
    """The model's softmax weights for every layer: (L, B, H, T, T). Needs the eager model.

    ``attention_mask``: None, a (B, T) padding mask, or a 4-D mask such as ``no_causal_mask``.
    """
    _require_eager(model)
    check_model_mask(input_ids, attention_mask)
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
    Scores are scaled by 1/sqrt(d), GPT-2's default (``scale_attn_weights``).
    """
    check_batch(input_ids)
    if input_ids.size(0) != 1:
        raise ValueError(f"hand_attention takes one sequence (1, T); got {tuple(input_ids.shape)}")
    n_layer = model.config.n_layer
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < n_layer:
        raise ValueError(f"layer={layer!r} must be an int in the range 0..{n_layer - 1}")
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
    scores = q @ k.transpose(-1, -2) / d**0.5  # (H, T, T)
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
    check_model_mask(input_ids, attention_mask)
    if input_ids.size(0) != 1:
        raise ValueError(f"influence takes one sequence (1, T); got {tuple(input_ids.shape)}")
    vocab = model.config.vocab_size
    if isinstance(replacement_id, bool) or not isinstance(replacement_id, int):
        raise TypeError(f"replacement_id must be an int, got {type(replacement_id).__name__}")
    if not 0 <= replacement_id < vocab:
        raise ValueError(f"replacement_id={replacement_id} must be in the range 0..{vocab - 1}")
    base = model(input_ids, attention_mask=attention_mask).logits[0]  # (T, V)
    rows = []
    for k in range(input_ids.size(1)):  # one pass per change: same shapes, so exact zeros
        changed = input_ids.clone()  # (1, T)
        changed[0, k] = replacement_id
        logits = model(changed, attention_mask=attention_mask).logits[0]  # (T, V)
        rows.append((logits - base).abs().amax(dim=-1))  # (T,)
    return torch.stack(rows)  # (T, T): row k = token k changed, column t = position t


# --------------------------------------------------------------------------- figure
def attention_figure(weights: torch.Tensor, tokens, *, digits: int = 3, title: str = ""):
    """One heatmap per (layer, head) of ``weights`` (L, H, T, T), a slider picks which one.

    Built from plain go.Figure traces and a slider (no widget), so it works in a static export.
    """
    import plotly.graph_objects as go

    from helpers.plots import FONT, TEMPLATE, rounded, show_token, unique_labels

    if not isinstance(weights, torch.Tensor) or weights.dim() != 4:
        shape = tuple(weights.shape) if isinstance(weights, torch.Tensor) else type(weights)
        raise ValueError(f"weights must be a (layers, heads, T, T) tensor; got {shape}")
    L, H, T, _ = weights.shape
    if len(tokens) != T:
        raise ValueError(f"{len(tokens)} token labels for T={T} positions: give one per position")
    labels = unique_labels([show_token(t) for t in tokens])
    pairs = [(layer, head) for layer in range(L) for head in range(H)]
    fig = go.Figure()
    for layer, head in pairs:
        first = (layer, head) == (0, 0)
        fig.add_trace(go.Heatmap(z=rounded(weights[layer, head], digits), x=labels, y=labels,
                                 zmin=0, zmax=1, colorscale="Blues", visible=first,
                                 name=f"layer {layer}, head {head}"))  # fmt: skip
    steps = [  # step i shows trace i only, and names it in the title
        {"label": f"L{layer} H{head}", "method": "update",
         "args": [{"visible": [j == i for j in range(len(pairs))]},
                  {"title.text": f"{title} layer {layer}, head {head}".strip()}]}
        for i, (layer, head) in enumerate(pairs)
    ]  # fmt: skip
    fig.update_layout(
        title=f"{title} layer 0, head 0".strip(), template=TEMPLATE, font=FONT, height=620,
        xaxis_title="key: the token looked at", yaxis_title="query: the token looking",
        sliders=[{"steps": steps, "currentvalue": {"prefix": "showing "}, "pad": {"t": 60}}],
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    return fig
