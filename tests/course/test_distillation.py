"""course.distillation and ``python -m course.build model --init-from/--teachers``.

How the bundled model is trained (its card): the soft-label loss is the shifted-label loss with
a distribution in place of the next token, the ensemble is the teachers' mean probability, and
a student trained on it moves towards it.
"""

import pytest
import torch
import torch.nn.functional as F
from transformers import GPT2LMHeadModel

from course.distillation import (
    distillation_loss,
    ensemble_next_token_probs,
    soft_label_loss,
)
from helpers.models import tiny_gpt2_config
from helpers.training import shifted_label_loss, train

V = 50


def tiny(seed, vocab=V, n_embd=16):
    torch.manual_seed(seed)
    config = tiny_gpt2_config(vocab, n_layer=1, n_head=2, n_embd=n_embd, n_positions=32)
    return GPT2LMHeadModel(config).eval()


def ids(seed, shape=(3, 12), vocab=V):
    return torch.randint(0, vocab, shape, generator=torch.Generator().manual_seed(seed))


def test_one_hot_soft_labels_give_the_shifted_label_loss():
    logits = torch.randn(3, 12, V, generator=torch.Generator().manual_seed(0))
    x = ids(1)
    one_hot = F.one_hot(x[:, 1:], V).float()  # the token that came next, as a distribution
    assert torch.allclose(soft_label_loss(logits, one_hot), shifted_label_loss(logits, x))


def test_the_soft_label_loss_is_least_at_the_targets_own_distribution():
    # cross-entropy against p is the entropy of p plus KL(p || q): its gradient is 0 at q = p
    logits = torch.randn(2, 6, V, generator=torch.Generator().manual_seed(0), requires_grad=True)
    target = F.softmax(logits.detach()[:, :-1], dim=-1)
    loss = soft_label_loss(logits, target)
    entropy = -(target * target.log()).sum(-1).mean()
    assert loss.item() == pytest.approx(entropy.item(), rel=1e-5)
    loss.backward()
    assert logits.grad.abs().max().item() < 1e-6
    other = soft_label_loss(logits.detach() + torch.randn(2, 6, V), target)
    assert other.item() > loss.item()


def test_the_ensemble_is_the_mean_of_the_teachers_probabilities():
    teachers = [tiny(0), tiny(1)]
    x = ids(2)
    probs = ensemble_next_token_probs(teachers, x)
    assert probs.shape == (3, 11, V)
    mean = sum(F.softmax(t(x).logits[:, :-1], dim=-1) for t in teachers) / 2
    assert torch.allclose(probs, mean, atol=1e-6)
    assert torch.allclose(probs.sum(-1), torch.ones(3, 11), atol=1e-5)
    alone = ensemble_next_token_probs(teachers[:1], x)
    assert torch.allclose(alone, F.softmax(teachers[0](x).logits[:, :-1], dim=-1), atol=1e-6)
    assert not torch.allclose(alone, probs, atol=1e-3)  # the second teacher changes the mean


def test_a_student_trained_on_the_ensemble_moves_towards_it():
    teachers = [tiny(0), tiny(1)]
    student = tiny(2)
    data = ids(3, shape=(400,))
    x = ids(4, shape=(8, 32))
    target = ensemble_next_token_probs(teachers, x)

    def kl(model):
        with torch.no_grad():
            log_q = F.log_softmax(model(x).logits[:, :-1], dim=-1)
        return (target * (target.log() - log_q)).sum(-1).mean().item()

    before = kl(student)
    losses = train(
        student,
        data,
        steps=40,
        batch_size=8,
        block_size=32,
        lr=1e-2,
        warmup=1,
        loss_fn=distillation_loss(teachers),
    )
    assert kl(student) < before / 2
    assert all(not t.training for t in teachers)  # the teachers never train, never drop out
    assert all(not p.requires_grad for t in teachers for p in t.parameters())
    assert losses[-1] < losses[0]


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: ensemble_next_token_probs([], ids(0)), ValueError, "teachers is empty"),
        (lambda: ensemble_next_token_probs(tiny(0), ids(0)), TypeError, "must be a list"),
        (lambda: ensemble_next_token_probs(["gpt2"], ids(0)), TypeError, r"teachers\[0\]"),
        (
            lambda: ensemble_next_token_probs([tiny(0), tiny(1, vocab=60)], ids(0)),
            ValueError,
            r"vocabulary sizes differ \(\[50, 60\]\)",
        ),
        (lambda: ensemble_next_token_probs([tiny(0)], ids(0, (12,))), ValueError, "2 dimensions"),
        (lambda: ensemble_next_token_probs([tiny(0)], ids(0, (3, 1))), ValueError, "need >= 2"),
        (
            lambda: soft_label_loss(torch.zeros(2, 5, V), torch.zeros(2, 5, V)),
            ValueError,
            r"target_probs must be \(batch, seq - 1, vocab\) = \(2, 4, 50\)",
        ),
        (lambda: soft_label_loss(torch.zeros(2, 5, V), [0.5]), TypeError, "torch tensor"),
        (lambda: distillation_loss(()), ValueError, "at least one teacher"),
    ],
)
def test_bad_input_is_refused_with_a_message(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ----------------------------------------------------------------- the build's options
