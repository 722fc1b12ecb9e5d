"""Bad input found by trying (issue 12): a clear ValueError/TypeError naming the value and the
allowed range, and nothing changed by the refused call."""

import numpy as np
import pytest
import torch

from helpers import generation, speculative, training
from helpers.sampling import SamplingSettings
from helpers.widgets import DecodingStepper


def test_train_refuses_bad_arguments_before_touching_the_model(bundled):
    model, tok = bundled
    ids = torch.tensor(tok("To be, or not to be, that is the question.")["input_ids"] * 30)
    before = [p.detach().clone() for p in model.parameters()]
    for kwargs, exc, match in [
        ({"steps": 2.5}, TypeError, r"steps must be an int >= 1, got float 2.5"),
        ({"steps": 2, "block_size": 10**6}, ValueError, r"block_size=1000000 .* 2\.\.256"),
        ({"steps": 2, "block_size": 200, "batch_size": 0}, ValueError, r"batch_size=0"),
        ({"steps": 2, "lr": -1.0}, ValueError, r"lr=-1.0 must be a finite number > 0"),
        ({"steps": 2, "min_lr_ratio": 1.5}, ValueError, r"min_lr_ratio=1.5 must be between 0"),
        ({"steps": 2, "min_lr_ratio": "low"}, TypeError, r"min_lr_ratio must be a number"),
        ({"steps": 2, "bf16": "yes"}, TypeError, r"bf16 must be True or False"),
        ({"steps": 2, "weight_decay": -0.1}, ValueError, r"weight_decay=-0.1 must be a"),
        ({"steps": 2, "weight_decay": float("nan")}, ValueError, r"weight_decay=nan must be"),
        ({"steps": 2, "weight_decay": True}, TypeError, r"weight_decay must be a number >= 0"),
    ]:
        with pytest.raises(exc, match=match):
            training.train(model, ids, **kwargs)
        assert not model.training  # still in eval mode: dropout stays off
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_train_returns_to_eval_mode_after_an_error_inside_the_loop(tiny):
    model, tok = tiny
    ids = torch.randint(1, 100, (500,), generator=torch.Generator().manual_seed(0))

    def failing_loss(m, x):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        training.train(model, ids, steps=3, block_size=16, batch_size=2, loss_fn=failing_loss)
    assert not model.training


def test_the_stepper_refuses_a_top_k_larger_than_the_vocabulary(bundled):
    model, tok = bundled
    stepper = DecodingStepper(model, tok, "To be")
    before = stepper.state
    assert not stepper.set_settings(strategy="sample", top_k=5000)
    assert stepper.error and "top_k=5000 is out of range: it must be in the range 1..4096" in (
        stepper.status
    )
    assert stepper.state is before


def test_generation_is_bounded(bundled):
    model, tok = bundled
    with pytest.raises(ValueError, match=r"max_new_tokens=1000000000 .* 0\.\.10000"):
        generation.generate_stepwise(model, tok, "To be", 10**9, crop=True)
    with pytest.raises(ValueError, match=r"forced step=10 is out of range: .* 0\.\.2"):
        generation.generate_stepwise(model, tok, "To be", 3, forced={10: 5})


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda m: training.shifted_label_loss(m(torch.tensor([[1, 2, 3]])).logits,
                                               torch.tensor([[1, 4101, 3]])),
         ValueError, r"labels holds token id 4101, outside the vocabulary 0\.\.4095"),
        (lambda m: training.shifted_label_loss(m(torch.tensor([[1, 2]])).logits,
                                               torch.tensor([[1.0, 2.0]])),
         TypeError, r"labels must hold integer token ids"),
        (lambda m: training.evaluate(m, torch.tensor([1, 2, 5000] * 5)),
         ValueError, r"ids holds token id 5000, outside the vocabulary"),
        (lambda m: training.evaluate(m, torch.arange(600) % 50, block_size=300),
         ValueError, r"block_size=300 is out of range: it must be in the range 2\.\.256"),
        (lambda m: training.evaluate(m, torch.ones(10)),
         TypeError, r"ids must hold integer token ids, got a torch.float32 tensor"),
        (lambda m: training.parallel_next_token_logits(m, torch.ones(1, 300, dtype=torch.long)),
         ValueError, r"ids is 300 tokens long; the model's context window is 256 tokens"),
        (lambda m: training.stepwise_next_token_logits(m, torch.tensor([[1.0, 2.0]])),
         TypeError, r"ids must hold integer token ids"),
        (lambda m: training.labelled_batch([[1, 2, 4096]], 0, model=m),
         ValueError, r"sequence 0 must hold token ids 0\.\.4095; got 4096"),
        (lambda m: training.labelled_batch([list(range(1, 300))], 0, model=m),
         ValueError, r"the longest sequence is 299 tokens; the model's context window is 256"),
        (lambda m: speculative.verify_greedy(m, [1, 2, 3], [4097]),
         ValueError, r"proposed token=4097 is outside the vocabulary 0\.\.4095"),
        (lambda m: speculative.verify_greedy(m, list(range(1, 256)), [1, 2]),
         ValueError, r"ids and proposed hold 257 tokens; the model's context window is 256"),
    ],
    ids=["loss-id", "loss-float", "eval-id", "eval-block", "eval-float", "parallel-long",
         "stepwise-float", "batch-id", "batch-long", "verify-id", "verify-long"],
)  # fmt: skip
def test_token_ids_outside_the_vocabulary_or_window(bundled, call, exc, match):
    model, _ = bundled
    with pytest.raises(exc, match=match):
        call(model)


def test_the_speculative_rule_and_the_cache_refuse_bad_positions(bundled):
    model, _ = bundled
    p = torch.full((4096,), 1 / 4096, dtype=torch.float64)
    for x in (-1, 4096):
        with pytest.raises(ValueError, match=rf"x={x} is outside the vocabulary 0\.\.4095"):
            speculative.accept_or_resample(p, p, x, torch.Generator())
    with torch.no_grad():
        cache = model(torch.tensor([[1, 2, 3]]), use_cache=True).cache
    with pytest.raises(
        ValueError, match=r"keep=-1 is out of range: it must be in the range 0\.\.3"
    ):
        speculative.crop_cache(cache, -1)
    assert cache.get_seq_length() == 3  # untouched


@pytest.mark.parametrize("call", ["generate", "stepper", "encode"])
def test_model_and_tokenizer_swapped(bundled, call):
    model, tok = bundled
    with pytest.raises(TypeError, match=r"model must be a language model .* swapped\?\)"):
        if call == "generate":
            generation.generate_stepwise(tok, model, "To be", 3)
        elif call == "stepper":
            DecodingStepper(tok, model, "To be")
        else:
            generation.encode_prompt(tok, "To be", tok)
    with pytest.raises(TypeError, match=r"tokenizer must be a tokenizer .* swapped\?\)"):
        generation.encode_prompt(model, "To be")


def test_numpy_scalars_are_good_numbers(bundled):
    model, tok = bundled
    plain = generation.generate_stepwise(model, tok, "To be", 4, strategy="sample",
                                         temperature=0.7, top_k=5, seed=1)  # fmt: skip
    numpy = generation.generate_stepwise(model, tok, "To be", 4, strategy="sample",
                                         temperature=np.float32(0.7), top_k=np.int64(5),
                                         seed=np.int64(1))  # fmt: skip
    assert numpy.new_ids == plain.new_ids
    settings = SamplingSettings("sample", np.float32(0.5), np.int64(5), np.float64(0.9))
    assert type(settings.temperature) is float and type(settings.top_k) is int
    assert repr(settings) == (
        "SamplingSettings(strategy='sample', temperature=0.5, top_k=5, top_p=0.9, seed=0)"
    )
