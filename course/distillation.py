"""Distillation: train a model on the next-token distribution of other models, not on the text.

The bundled model is trained this way (``python -m course.build model --teachers ...``, see its
card): several models of the same size, each trained on the plays with shifted labels, are
averaged into an *ensemble* (the mean of their next-token probabilities), and the bundled model
learns to predict that distribution at every position. The loss is still the shifted-label
loss of notebook 03, position t scored against what comes at t + 1, only with a soft label (the
teachers' probabilities over the whole vocabulary) in place of the one token that came.

An ensemble predicts held-out text better than any of its members, and its soft labels tell the
student how likely every other token was, which the 1.6M training tokens alone do not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from helpers._checks import check_model, check_tensor


def ensemble_next_token_probs(teachers: Sequence, ids: torch.Tensor) -> torch.Tensor:
    """(B, T-1, V): the teachers' mean probability of each next token after positions 0..T-2.

    ``ids`` (B, T) are input ids; every teacher sees them whole (one parallel pass each, in
    eval mode, no gradients). Averaging probabilities, not logits, is what an ensemble is.
    """
    teachers = check_teachers(teachers)
    ids = check_tensor("ids", ids, dims=2)
    if ids.size(1) < 2:
        raise ValueError(f"ids hold {ids.size(1)} token per row; need >= 2 (input, next token)")
    with torch.no_grad():
        log_probs = torch.stack(
            [F.log_softmax(t(ids).logits[:, :-1].float(), dim=-1) for t in teachers]
        )  # (n_teachers, B, T-1, V)
        return (torch.logsumexp(log_probs, dim=0) - math.log(len(teachers))).exp()


def soft_label_loss(logits: torch.Tensor, target_probs: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of position t's logits against a distribution over token t+1.

    ``logits`` (B, T, V) as they come out of the model; ``target_probs`` (B, T-1, V), rows that
    sum to 1 (``ensemble_next_token_probs``). With one-hot targets this is exactly
    ``shifted_label_loss``; its gradient is the same as the KL divergence's from the targets.
    """
    logits = check_tensor("logits", logits, dims=3)
    target_probs = check_tensor("target_probs", target_probs, dims=3)
    b, t, v = logits.shape
    if target_probs.shape != (b, t - 1, v):
        raise ValueError(
            f"target_probs must be (batch, seq - 1, vocab) = {(b, t - 1, v)} for logits of shape "
            f"{(b, t, v)}; got {tuple(target_probs.shape)}"
        )
    shift_logits = logits[:, :-1].reshape(-1, v).float()  # predictions for positions 1..T-1
    return F.cross_entropy(shift_logits, target_probs.reshape(-1, v).float())


def check_teachers(teachers: Sequence) -> list:
    """``teachers`` as a list of one or more language models sharing one vocabulary size."""
    if isinstance(teachers, torch.nn.Module) or not isinstance(teachers, Sequence):
        raise TypeError(
            f"teachers must be a list of models such as load_model() returns, "
            f"got {type(teachers).__name__}"
        )
    if not teachers:
        raise ValueError("teachers is empty: distillation needs at least one teacher model")
    teachers = [check_model(t, name=f"teachers[{i}]") for i, t in enumerate(teachers)]
    sizes = sorted({t.config.vocab_size for t in teachers})
    if len(sizes) > 1:
        raise ValueError(f"the teachers' vocabulary sizes differ ({sizes}); they must be the same")
    return teachers


def distillation_loss(teachers: Sequence) -> Callable:
    """A ``loss_fn(model, ids)`` for ``helpers.training.train``: the model's soft-label loss
    against the teachers' ensemble, at every position of the batch."""
    teachers = check_teachers(teachers)
    for t in teachers:
        t.eval().requires_grad_(False)  # teachers are never trained, and never drop out

    def loss_fn(model, ids):
        return soft_label_loss(model(ids).logits, ensemble_next_token_probs(teachers, ids))

    return loss_fn
