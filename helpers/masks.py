"""Attention masks: who may look at whom inside one parallel forward pass.

Taught in notebook 04 (section 1, the causal mask; section 4, padding, the padded batch and
position ids; section 5, the mask removed).

- ``causal_mask(T)``: position i may attend to positions j <= i, never to the future.
- ``pad_prompts``: prompts of different lengths as one padded batch (left padding by default).
- ``padding_mask`` / ``combined_mask``: the pad columns switched off, then causal AND padding.
- ``position_ids_from_mask``: with left padding, every row's first real token is position 0.
- ``additive_mask``: a boolean mask as the 0 / "-inf" floats that attention adds to its scores.
- ``no_causal_mask``: the mask that lets every position see every other one (what breaks).

Tensors only: running the model with these masks is ``helpers.attention``.
Boolean masks use True = "may attend" and the model's shape (batch, 1, query, key).
"""

from __future__ import annotations

import torch

from helpers._checks import (
    BadType,
    BadValue,
    check_choice,
    check_float_dtype,
    check_int,
    check_tokenizer,
)

SIDES = ("left", "right")

#: The longest sequence a mask is built for: 16x the 1024-token window of the largest GPT-2
#: (n_positions of gpt2 .. gpt2-xl); its (T, T) bool mask already takes 256 MiB.
MAX_MASK_LENGTH = 16_384
#: The most memory one float mask may take (``no_causal_mask``): 1 GiB.
MAX_MASK_BYTES = 2**30
_LENGTH_WHY = (
    f"a (T, T) mask of {MAX_MASK_LENGTH} positions already takes 256 MiB; "
    f"the largest GPT-2 reads 1024 tokens"
)


# --------------------------------------------------------------------------- validation
def _check_length(T, name: str = "T") -> int:
    # the sequence length: at least one token, and a mask that fits in memory
    return check_int(name, T, 1, MAX_MASK_LENGTH, why=_LENGTH_WHY)


def check_batch(input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> None:
    """Raise a clear error unless ``input_ids`` (B, T) and ``attention_mask`` (B, T) fit together.

    The mask holds 1 for a real token and 0 for padding; every row needs one real token.
    """
    if not isinstance(input_ids, torch.Tensor):
        raise BadType(f"input_ids must be a torch tensor, got {type(input_ids).__name__}")
    if input_ids.dim() != 2:
        raise BadValue(f"input_ids must be 2-D (batch, seq); got shape {tuple(input_ids.shape)}")
    if input_ids.size(0) == 0 or input_ids.size(1) == 0:
        raise BadValue(
            f"the batch is empty: input_ids has shape {tuple(input_ids.shape)}; "
            f"need at least 1 row and 1 token"
        )
    if attention_mask is None:
        return
    if not isinstance(attention_mask, torch.Tensor):
        raise BadType(f"attention_mask must be a torch tensor, got {type(attention_mask).__name__}")
    if attention_mask.shape != input_ids.shape:
        raise BadValue(
            f"attention_mask shape {tuple(attention_mask.shape)} must equal input_ids shape "
            f"{tuple(input_ids.shape)}: one 1/0 per token"
        )
    if not ((attention_mask == 0) | (attention_mask == 1)).all():
        raise BadValue("attention_mask may hold only 1 (real token) and 0 (padding)")
    empty = (attention_mask.sum(-1) == 0).nonzero().flatten().tolist()
    if empty:
        raise BadValue(
            f"row(s) {empty} of the batch are all padding (attention_mask all 0): "
            f"each prompt needs at least 1 real token"
        )


def check_model_mask(input_ids: torch.Tensor, attention_mask=None) -> None:
    """Like ``check_batch``, but ``attention_mask`` may also be a 4-D (B, 1, T, T) model mask."""
    if isinstance(attention_mask, torch.Tensor) and attention_mask.dim() == 4:
        check_batch(input_ids)
        B, T = input_ids.shape
        if attention_mask.shape != (B, 1, T, T):
            raise BadValue(
                f"a 4-D attention_mask must have shape (batch, 1, T, T) = {(B, 1, T, T)} for "
                f"input_ids of shape {(B, T)}; got {tuple(attention_mask.shape)}"
            )
        if not (attention_mask.dtype.is_floating_point or attention_mask.dtype == torch.bool):
            raise BadType(
                f"a 4-D attention_mask must be float (0 = may attend, most negative = may not: "
                f"see additive_mask) or bool; got a {attention_mask.dtype} tensor"
            )
    else:
        check_batch(input_ids, attention_mask)


def _check_attention_mask(attention_mask) -> torch.Tensor:
    if not isinstance(attention_mask, torch.Tensor):
        raise BadType(f"attention_mask must be a torch tensor, got {type(attention_mask).__name__}")
    # a dummy input of the same shape runs every check that concerns the mask alone
    check_batch(torch.zeros(attention_mask.shape, dtype=torch.long), attention_mask)
    return attention_mask.bool()


# --------------------------------------------------------------------------- masks
def causal_mask(T: int) -> torch.Tensor:
    """(T, T) bool: entry [i, j] is True when position i may attend to position j (j <= i)."""
    _check_length(T)
    return torch.ones(T, T, dtype=torch.bool).tril()  # (T, T) lower triangle incl. diagonal


def pad_prompts(tokenizer, prompts, side: str = "left") -> dict[str, torch.Tensor]:
    """Tokenize ``prompts`` into one batch padded on ``side``: input_ids, attention_mask (B, T)."""
    if isinstance(prompts, str) or not isinstance(prompts, (list, tuple)):
        raise BadType(f"prompts must be a list of str, got {type(prompts).__name__}")
    if len(prompts) == 0:
        raise BadValue("prompts is an empty list: the batch needs at least 1 prompt")
    bad = [p for p in prompts if not isinstance(p, str)]
    if bad:
        raise BadType(f"every prompt must be a str; got {bad[0]!r}")
    check_choice("side", side, SIDES)
    check_tokenizer(tokenizer)
    if tokenizer.pad_token_id is None:
        raise BadValue("the tokenizer has no pad token; set tokenizer.pad_token first")
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
    _check_attention_mask(attention_mask)
    _check_length(attention_mask.size(-1), "attention_mask's length T")  # before (T, T) exists
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
        raise BadType(f"mask must be a bool tensor, got {getattr(mask, 'dtype', type(mask))}")
    check_float_dtype("dtype", dtype)
    zero = torch.zeros((), dtype=dtype)
    return torch.where(mask, zero, torch.finfo(dtype).min)  # same shape as mask


def no_causal_mask(batch_size: int, T: int) -> torch.Tensor:
    """(B, 1, T, T) additive mask of zeros: every position may attend to every position.

    This is ``additive_mask`` of an all-True bool mask. Handed to the model it replaces the
    causal mask, so position t can read tokens t+1, t+2, ...: the parallel pass then cheats.
    """
    T = _check_length(T)
    most = max(1, MAX_MASK_BYTES // (4 * T * T))  # float32: 4 bytes per entry
    why = f"a (batch_size, 1, {T}, {T}) float32 mask may take at most 1 GiB"
    check_int("batch_size", batch_size, 1, most, why=why)
    return additive_mask(torch.ones(batch_size, 1, T, T, dtype=torch.bool))
