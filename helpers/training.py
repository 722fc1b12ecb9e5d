"""Training with shifted labels: the loss, labelled batches and the loop.

Taught in notebook 03: the shifted-label loss built up by hand (sections 1-3), padded batches
with ignored labels (section 4), one parallel pass == T stepwise passes (sections 5-6), the
training loop (section 7: written by hand first, then ``train``); reused by notebook 04's
tiny models (section 5b) and by ``python -m course.build model``.

The idea the course teaches is in ``shifted_label_loss``: position t of the logits is scored
against token t+1 of the input, so one forward pass trains every position at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from helpers._checks import (
    BadType,
    BadValue,
    check_id_tensor,
    check_int,
    check_model,
    check_non_negative,
    check_positive,
    check_seed,
    check_tensor,
    check_token_ids,
)
from helpers.generation import context_window

#: The id every label position that must not count in the loss carries (PyTorch's default).
IGNORE_INDEX = -100


# --------------------------------------------------------------------------- loss
def shifted_label_loss(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX
) -> torch.Tensor:
    """Mean cross-entropy of position t's logits against label t+1: the causal LM loss.

    ``logits`` (B, T, V) and ``labels`` (B, T) are aligned as they come out of the model
    (labels = input ids); the shift happens here. ``model(ids, labels=ids)`` gives the same loss
    with the shift written the other way round (transformers' ``ForCausalLMLoss``): it keeps all
    T rows of logits and shifts the labels left, with ``ignore_index`` in the freed last place.
    """
    if not isinstance(logits, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise BadType("logits and labels must be torch tensors")
    if logits.dim() != 3 or labels.dim() != 2:
        raise BadValue(
            f"logits must be (batch, seq, vocab) and labels (batch, seq); "
            f"got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    if logits.shape[:2] != labels.shape:
        raise BadValue(
            f"labels shape {tuple(labels.shape)} must equal the first two dims of logits "
            f"{tuple(logits.shape[:2])}"
        )
    if labels.shape[1] < 2:
        raise BadValue(
            f"sequence length {labels.shape[1]} has no (input, next token) pair; need >= 2"
        )
    counted = labels[labels != ignore_index]
    check_id_tensor("labels", counted, logits.size(-1))  # ignore_index aside: token ids
    shift_logits = logits[:, :-1, :]  # (B, T-1, V): predictions for positions 1..T-1
    shift_labels = labels[:, 1:]  # (B, T-1): the tokens that actually came next
    if not (shift_labels != ignore_index).any():
        raise BadValue(f"every label is ignore_index={ignore_index}: nothing to compute a loss on")
    return F.cross_entropy(
        shift_logits.reshape(-1, shift_logits.size(-1)).float(),
        shift_labels.reshape(-1),
        ignore_index=ignore_index,
    )


def shift_in_data(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The other place the shift can live: ``(inputs, targets) = (ids[:, :-1], ids[:, 1:])``.

    The model then reads ``inputs`` and position t is scored against ``targets[:, t]`` with a
    plain, unshifted cross-entropy; the loss equals ``shifted_label_loss(model(ids).logits, ids)``.
    """
    check_tensor("ids", ids, dims=2)  # (batch, seq)
    if ids.size(1) < 2:
        raise BadValue(f"sequence length {ids.size(1)} has no (input, next token) pair; need >= 2")
    return ids[:, :-1], ids[:, 1:]  # (B, T-1) each: targets[:, t] is the token after inputs[:, t]


def per_sequence_loss(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX
) -> torch.Tensor:
    """The shifted-label loss of each sequence of a batch on its own, a (B,) tensor.

    Each row is the mean over its own counted labels (label != ``ignore_index``), so a padded
    row scores exactly as it would alone. Raises if a row has no label left to count.
    """
    shifted_label_loss(logits, labels, ignore_index)  # validates shapes; raises on bad input
    shift_logits = logits[:, :-1, :].float()  # (B, T-1, V)
    shift_labels = labels[:, 1:]  # (B, T-1)
    nll = F.cross_entropy(
        shift_logits.transpose(1, 2), shift_labels, ignore_index=ignore_index, reduction="none"
    )  # (B, T-1), 0 where ignored
    counted = (shift_labels != ignore_index).sum(dim=1)  # (B,)
    if (counted == 0).any():
        rows = (counted == 0).nonzero().flatten().tolist()
        raise BadValue(
            f"rows {rows} have every label equal to ignore_index={ignore_index}: "
            f"no loss to compute for them"
        )
    return nll.sum(dim=1) / counted


def labelled_batch(
    sequences, pad_id: int, ignore_index: int = IGNORE_INDEX, *, model=None
) -> dict[str, torch.Tensor]:
    """Right-pad token-id lists into a training batch: input_ids, attention_mask and labels.

    ``labels`` are the input ids with every padded position set to ``ignore_index``, so the
    loss skips them; ``attention_mask`` is 1 on real tokens, 0 on padding. Given the ``model``,
    ids and lengths are checked against its vocabulary and context window.
    """
    pad_id = check_int("pad_id", pad_id, 0)
    seqs = list(sequences)
    if not seqs:
        raise BadValue("sequences is empty; pass at least one list of token ids")
    vocab = check_model(model).config.vocab_size if model is not None else None
    seqs = [check_token_ids(f"sequence {i}", s, vocab) for i, s in enumerate(seqs)]
    longest = max(len(s) for s in seqs)
    if model is not None and longest > context_window(model):
        raise BadValue(
            f"the longest sequence is {longest} tokens; the model's context window is "
            f"{context_window(model)} tokens"
        )
    ids = torch.full((len(seqs), longest), pad_id, dtype=torch.long)  # (B, T)
    mask = torch.zeros((len(seqs), longest), dtype=torch.long)  # (B, T)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    labels = ids.masked_fill(mask == 0, ignore_index)  # (B, T): padding never counts
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


# --------------------------------------------------------------------------- teacher forcing
def _check_one_sequence(ids, model) -> torch.Tensor:
    check_model(model)
    check_tensor("ids", ids)
    check_id_tensor("ids", ids, model.config.vocab_size, context_window(model))
    if ids.dim() == 1:
        ids = ids.unsqueeze(0)
    if ids.dim() != 2 or ids.size(0) != 1 or ids.size(1) < 1:
        raise BadValue(
            f"ids must be one sequence of shape (1, T) with T >= 1; got {tuple(ids.shape)}"
        )
    return ids


@torch.no_grad()
def parallel_next_token_logits(model, ids: torch.Tensor) -> torch.Tensor:
    """All T next-token distributions (as logits) from ONE forward pass over ``ids`` (1, T). (T, V)

    Row t predicts the token after ``ids[0, :t+1]``: what training scores at every position.
    """
    ids = _check_one_sequence(ids, model)
    return model(ids).logits[0].float()  # (T, V)


@torch.no_grad()
def stepwise_next_token_logits(model, ids: torch.Tensor) -> torch.Tensor:
    """The same T rows from T separate passes, pass t reading only the prefix ``ids[0, :t+1]``.

    What generation would compute if it had these tokens one at a time (no cache). (T, V)
    """
    ids = _check_one_sequence(ids, model)
    rows = [model(ids[:, : t + 1]).logits[0, -1].float() for t in range(ids.size(1))]
    return torch.stack(rows)  # (T, V)


# --------------------------------------------------------------------------- the loop
def random_batch(
    ids: torch.Tensor, batch_size: int, block_size: int, generator: torch.Generator
) -> torch.Tensor:
    """``batch_size`` random windows of ``block_size`` tokens from the 1-D tensor ``ids``."""
    check_int("batch_size", batch_size, 1)
    check_int("block_size", block_size, 2)
    check_tensor("ids", ids)
    if ids.dim() != 1 or ids.numel() <= block_size:
        raise BadValue(
            f"block_size={block_size} is out of range: ids holds {ids.numel()} tokens, so it must "
            f"be at most {ids.numel() - 1} (ids must be one 1-D token tensor)"
        )
    starts = torch.randint(0, ids.numel() - block_size, (batch_size,), generator=generator)
    return torch.stack([ids[s : s + block_size] for s in starts.tolist()])  # (B, T)


def train(
    model,
    ids: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 16,
    block_size: int = 128,
    lr: float = 3e-3,
    warmup: int = 100,
    seed: int = 0,
    loss_fn: Callable | None = None,
    callback: Callable[[int, float], None] | None = None,
    min_lr_ratio: float = 0.1,
    bf16: bool = False,
    weight_decay: float = 0.1,
) -> list[float]:
    """Train ``model`` on random windows of ``ids`` with AdamW and a cosine schedule.

    Every step is one parallel forward pass over ``batch_size x block_size`` tokens, scored
    with the shifted-label loss at every position. Returns the loss of each step; calls
    ``callback(step, loss)`` after each one (notebook 03 draws its live curve with it).
    The learning rate ends at ``min_lr_ratio * lr``; AdamW's ``weight_decay`` pulls every matrix
    (not the biases and layer-norm gains) towards zero. ``bf16=True`` runs the forward pass under
    bfloat16 autocast (weights and optimizer state stay float32): about 2x faster on CPUs with
    bf16 instructions; ``python -m course.build model --bf16`` uses it.
    """
    # every argument is checked before the model is touched: a refused call changes nothing
    check_model(model)
    check_int("steps", steps, 1)
    check_int("warmup", warmup, 0)
    check_positive("lr", lr)
    if isinstance(min_lr_ratio, bool) or not isinstance(min_lr_ratio, int | float):
        raise BadType(f"min_lr_ratio must be a number in [0, 1], got {min_lr_ratio!r}")
    if not 0.0 <= min_lr_ratio <= 1.0:
        raise BadValue(f"min_lr_ratio={min_lr_ratio} must be between 0 and 1")
    if not isinstance(bf16, bool):
        raise BadType(f"bf16 must be True or False, got {bf16!r}")
    weight_decay = check_non_negative("weight_decay", weight_decay)
    seed = check_seed(seed)
    check_id_tensor("ids", ids, model.config.vocab_size)
    check_int("block_size", block_size, 2, context_window(model))
    random_batch(ids, batch_size, block_size, torch.Generator())  # the data fits the blocks
    loss_fn = loss_fn or (lambda m, x: shifted_label_loss(m(x).logits, x))
    gen = torch.Generator().manual_seed(seed)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=lr,
        betas=(0.9, 0.95),
    )

    def schedule(step):  # linear warm-up, then cosine down to min_lr_ratio (default 10%)
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    device_type = next(model.parameters()).device.type  # autocast on the model's own device
    model.train()
    losses = []
    try:  # finally: back in eval mode even after an error or an interrupt (dropout off)
        for step in range(steps):
            x = random_batch(ids, batch_size, block_size, gen)  # (B, T)
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn(model, x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
            if callback is not None:
                callback(step, losses[-1])
    finally:
        model.eval()
    return losses


@torch.no_grad()
def evaluate(model, ids: torch.Tensor, block_size: int = 256) -> tuple[float, int]:
    """Total nats and number of predicted tokens over ``ids``, each token predicted once.

    Windows of ``block_size`` tokens (at most the context window) overlap by one token, so
    every token but the first is a label exactly once, with up to ``block_size - 1`` tokens of
    context.
    """
    check_model(model)
    check_int("block_size", block_size, 2, context_window(model))
    check_id_tensor("ids", ids, model.config.vocab_size)
    if ids.dim() != 1:
        raise BadValue(f"ids must be one 1-D token tensor; got shape {tuple(ids.shape)}")
    model.eval()
    total, count = 0.0, 0
    for start in range(0, ids.numel() - 1, block_size - 1):
        window = ids[start : start + block_size].unsqueeze(0)  # (1, <=T)
        if window.size(1) < 2:
            break
        logits = model(window.to(model.device)).logits  # (1, T, V)
        nll = F.cross_entropy(
            logits[0, :-1].float(), window[0, 1:].to(model.device), reduction="sum"
        )
        total += nll.item()
        count += window.size(1) - 1
    return total, count
