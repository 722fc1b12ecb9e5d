"""Bad input found by trying (issues 12 and 28): a clear ValueError/TypeError naming the value and
the allowed range, before any allocation, and nothing changed by the refused call."""

import numpy as np
import pytest
import torch

from helpers import (
    attention,
    beam_search,
    cost,
    drafts,
    generation,
    masks,
    sampling,
    speculative,
    step_internals,
    stepper_modes,
    stepper_panes,
    training,
)
from helpers.models import tiny_gpt2_config
from helpers.plots import bar, lines, show_token
from helpers.sampling import SamplingSettings
from helpers.stepping import DecodingState, token_pieces
from helpers.widgets import DecodingStepper

# (train's keyword arguments, exception, pattern): train(model, ids, **kwargs) refuses each
TRAIN_BAD_ARGS = [
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
]


def _train_ids(tok) -> torch.Tensor:
    return torch.tensor(tok("To be, or not to be, that is the question.")["input_ids"] * 30)


def test_train_refuses_bad_arguments_before_touching_the_model(bundled):
    model, tok = bundled
    ids = _train_ids(tok)
    before = [p.detach().clone() for p in model.parameters()]
    for kwargs, exc, match in TRAIN_BAD_ARGS:
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


# (call(model, tokenizer), exception, pattern)
GENERATION_BOUNDS = [
    (
        lambda m, t: generation.generate_stepwise(m, t, "To be", 10**9, crop=True),
        ValueError,
        r"max_new_tokens=1000000000 .* 0\.\.10000",
    ),
    (
        lambda m, t: generation.generate_stepwise(m, t, "To be", 3, forced={10: 5}),
        ValueError,
        r"forced step=10 is out of range: .* 0\.\.2",
    ),
]


def test_generation_is_bounded(bundled):
    for call, exc, match in GENERATION_BOUNDS:
        with pytest.raises(exc, match=match):
            call(*bundled)


# (call(model), exception, pattern): token ids outside the vocabulary or the window
WINDOW_CASES = [
    (
        lambda m: training.shifted_label_loss(
            m(torch.tensor([[1, 2, 3]])).logits, torch.tensor([[1, 4101, 3]])
        ),
        ValueError,
        r"labels holds token id 4101, outside the vocabulary 0\.\.4095",
    ),
    (
        lambda m: training.shifted_label_loss(
            m(torch.tensor([[1, 2]])).logits, torch.tensor([[1.0, 2.0]])
        ),
        TypeError,
        r"labels must hold integer token ids",
    ),
    (
        lambda m: training.evaluate(m, torch.tensor([1, 2, 5000] * 5)),
        ValueError,
        r"ids holds token id 5000, outside the vocabulary",
    ),
    (
        lambda m: training.evaluate(m, torch.arange(600) % 50, block_size=300),
        ValueError,
        r"block_size=300 is out of range: it must be in the range 2\.\.256",
    ),
    (
        lambda m: training.evaluate(m, torch.ones(10)),
        TypeError,
        r"ids must hold integer token ids, got a torch.float32 tensor",
    ),
    (
        lambda m: training.parallel_next_token_logits(m, torch.ones(1, 300, dtype=torch.long)),
        ValueError,
        r"ids is 300 tokens long; the model's context window is 256 tokens",
    ),
    (
        lambda m: training.stepwise_next_token_logits(m, torch.tensor([[1.0, 2.0]])),
        TypeError,
        r"ids must hold integer token ids",
    ),
    (
        lambda m: training.labelled_batch([[1, 2, 4096]], 0, model=m),
        ValueError,
        r"sequence 0 must hold token ids 0\.\.4095; got 4096",
    ),
    (
        lambda m: training.labelled_batch([list(range(1, 300))], 0, model=m),
        ValueError,
        r"the longest sequence is 299 tokens; the model's context window is 256",
    ),
    (
        lambda m: speculative.verify_greedy(m, [1, 2, 3], [4097]),
        ValueError,
        r"proposed token=4097 is outside the vocabulary 0\.\.4095",
    ),
    (
        lambda m: speculative.verify_greedy(m, list(range(1, 256)), [1, 2]),
        ValueError,
        r"ids and proposed hold 257 tokens; the model's context window is 256",
    ),
]

WINDOW_IDS = [
    "loss-id",
    "loss-float",
    "eval-id",
    "eval-block",
    "eval-float",
    "parallel-long",
    "stepwise-float",
    "batch-id",
    "batch-long",
    "verify-id",
    "verify-long",
]


@pytest.mark.parametrize(("call", "exc", "match"), WINDOW_CASES, ids=WINDOW_IDS)
def test_token_ids_outside_the_vocabulary_or_window(bundled, call, exc, match):
    model, _ = bundled
    with pytest.raises(exc, match=match):
        call(model)


UNIFORM = torch.full((4096,), 1 / 4096, dtype=torch.float64)
# (call(model, tokenizer), exception, pattern)
BAD_POSITIONS = [
    (
        lambda m, t, x=x: speculative.accept_or_resample(UNIFORM, UNIFORM, x, torch.Generator()),
        ValueError,
        rf"x={x} is outside the vocabulary 0\.\.4095",
    )
    for x in (-1, 4096)
]


def _crop_a_fresh_cache(model, keep: int):
    with torch.no_grad():
        cache = model(torch.tensor([[1, 2, 3]]), use_cache=True).cache
    return speculative.crop_cache(cache, keep)


def test_the_speculative_rule_and_the_cache_refuse_bad_positions(bundled):
    model, _ = bundled
    for call, exc, match in BAD_POSITIONS:
        with pytest.raises(exc, match=match):
            call(*bundled)
    with torch.no_grad():
        cache = model(torch.tensor([[1, 2, 3]]), use_cache=True).cache
    with pytest.raises(
        ValueError, match=r"keep=-1 is out of range: it must be in the range 0\.\.3"
    ):
        speculative.crop_cache(cache, -1)
    assert cache.get_seq_length() == 3  # untouched


# call(model, tokenizer) with the two swapped, and the pattern of its TypeError
SWAPPED = {
    "generate": (
        lambda m, t: generation.generate_stepwise(t, m, "To be", 3),
        r"model must be a language model .* swapped\?\)",
    ),
    "stepper": (
        lambda m, t: DecodingStepper(t, m, "To be"),
        r"model must be a language model .* swapped\?\)",
    ),
    "encode": (
        lambda m, t: generation.encode_prompt(t, "To be", t),
        r"model must be a language model .* swapped\?\)",
    ),
    "encode's tokenizer": (
        lambda m, t: generation.encode_prompt(m, "To be"),
        r"tokenizer must be a tokenizer .* swapped\?\)",
    ),
}


@pytest.mark.parametrize(("call", "match"), SWAPPED.values(), ids=SWAPPED)
def test_model_and_tokenizer_swapped(bundled, call, match):
    with pytest.raises(TypeError, match=match):
        call(*bundled)


def test_numpy_scalars_are_good_numbers(bundled):
    model, tok = bundled
    plain = generation.generate_stepwise(
        model, tok, "To be", 4, strategy="sample", temperature=0.7, top_k=5, seed=1
    )
    numpy = generation.generate_stepwise(
        model,
        tok,
        "To be",
        4,
        strategy="sample",
        temperature=np.float32(0.7),
        top_k=np.int64(5),
        seed=np.int64(1),
    )
    assert numpy.new_ids == plain.new_ids
    settings = SamplingSettings("sample", np.float32(0.5), np.int64(5), np.float64(0.9))
    assert type(settings.temperature) is float and type(settings.top_k) is int
    assert repr(settings) == (
        "SamplingSettings(strategy='sample', temperature=0.5, top_k=5, top_p=0.9, seed=0)"
    )


# Issue 28, item 7: every helper refuses these before any allocation, naming the bad value and
# the allowed range. One row per bad input: (call(model, tokenizer), exception, the bad value as
# the message must name it, a pattern for the rest of the message).
IDS = torch.tensor([[1, 2, 3]])
NGRAMS = drafts.NGramDraft.from_ids([1, 2, 3], 4096)
BAD_INPUTS = {
    "batch_logits id past the vocabulary": (
        lambda m, t: attention.batch_logits(m, torch.tensor([[1, 5000]])),
        ValueError,
        "5000",
        r"input_ids holds token id 5000, outside the vocabulary 0\.\.4095",
    ),
    "batch_logits negative id": (
        lambda m, t: attention.batch_logits(m, torch.tensor([[1, -2]])),
        ValueError,
        "-2",
        r"token id -2, outside the vocabulary 0\.\.4095",
    ),
    "batch_logits past the window": (
        lambda m, t: attention.batch_logits(m, torch.ones(1, 300, dtype=torch.long)),
        ValueError,
        "300",
        r"input_ids is 300 tokens long; the model's context window is 256",
    ),
    "batch_logits float ids": (
        lambda m, t: attention.batch_logits(m, torch.tensor([[1.0, 2.0]])),
        TypeError,
        "torch.float32",
        r"input_ids must hold integer token ids, got a torch.float32",
    ),
    "batch_logits 3-D mask": (
        lambda m, t: attention.batch_logits(m, IDS, torch.ones(1, 3, 3)),
        ValueError,
        "(1, 3, 3)",
        r"attention_mask shape \(1, 3, 3\) must equal input_ids shape",
    ),
    "batch_logits integer 4-D mask": (
        lambda m, t: attention.batch_logits(m, IDS, torch.ones(1, 1, 3, 3, dtype=torch.long)),
        TypeError,
        "torch.int64",
        r"4-D attention_mask must be float .* got a torch.int64",
    ),
    "batch_logits position past the window": (
        lambda m, t: attention.batch_logits(m, IDS, None, torch.tensor([[0, 1, 300]])),
        ValueError,
        "300",
        r"position_ids holds position 300, outside the allowed range 0\.\.255",
    ),
    "batch_logits negative position": (
        lambda m, t: attention.batch_logits(m, IDS, None, torch.tensor([[0, -1, 2]])),
        ValueError,
        "-1",
        r"position -1, outside the allowed range 0\.\.255",
    ),
    "batch_logits float positions": (
        lambda m, t: attention.batch_logits(m, IDS, None, torch.tensor([[0.0, 1.0, 2.0]])),
        TypeError,
        "torch.float32",
        r"position_ids must hold integer positions",
    ),
    "batch_logits positions as a list": (
        lambda m, t: attention.batch_logits(m, IDS, None, [[0, 1, 2]]),
        TypeError,
        "list",
        r"position_ids must be a torch tensor, got list",
    ),
    "influence id past the vocabulary": (
        lambda m, t: attention.influence(m, torch.tensor([[1, 9000]]), 3),
        ValueError,
        "9000",
        r"token id 9000, outside the vocabulary 0\.\.4095",
    ),
    "sequence_log_prob past the window": (
        lambda m, t: beam_search.sequence_log_prob(m, list(range(1, 250)), list(range(1, 20))),
        ValueError,
        "268",
        r"249 \+ 19 = 268 tokens; the model's context window is 256",
    ),
    "sequence_log_prob id past the vocabulary": (
        lambda m, t: beam_search.sequence_log_prob(m, [1, 2], [5000]),
        ValueError,
        "5000",
        r"new_ids must hold token ids 0\.\.4095; got 5000",
    ),
    "sequence_log_prob float id": (
        lambda m, t: beam_search.sequence_log_prob(m, [1, 2], [1.5]),
        ValueError,
        "1.5",
        r"new_ids must hold token ids 0\.\.4095; got 1\.5",
    ),
    "beam_search nan length penalty": (
        lambda m, t: beam_search.beam_search(m, [1, 2], 2, 3, length_penalty=float("nan")),
        ValueError,
        "nan",
        r"length_penalty=nan must be a finite number",
    ),
    "beam_search inf length penalty": (
        lambda m, t: beam_search.beam_search(m, [1, 2], 2, 3, length_penalty=float("inf")),
        ValueError,
        "inf",
        r"length_penalty=inf must be a finite number \(-inf < length_penalty",
    ),
    "beam_search -inf length penalty": (
        lambda m, t: beam_search.beam_search(m, [1, 2], 2, 3, length_penalty=-float("inf")),
        ValueError,
        "-inf",
        r"length_penalty=-inf must be a finite number",
    ),
    "beam_search length penalty as text": (
        lambda m, t: beam_search.beam_search(m, [1, 2], 2, 3, length_penalty="1"),
        TypeError,
        "'1'",
        r"length_penalty must be a finite number, got str '1'",
    ),
    "beam_search a million beams": (
        lambda m, t: beam_search.beam_search(m, [1, 2], 10**6, 3),
        ValueError,
        "1000000",
        r"num_beams=1000000 .* range 1\.\.4096 .* 1 GiB",
    ),
    "causal_mask of a million tokens": (
        lambda m, t: masks.causal_mask(10**6),
        ValueError,
        "1000000",
        r"T=1000000 .* range 1\.\.16384 \(a \(T, T\) mask .* 256 MiB",
    ),
    "no_causal_mask of a million rows": (
        lambda m, t: masks.no_causal_mask(10**6, 1000),
        ValueError,
        "1000000",
        r"batch_size=1000000 .* range 1\.\.268 .* at most 1 GiB",
    ),
    "combined_mask of 100000 tokens": (
        lambda m, t: masks.combined_mask(torch.ones(1, 100_000, dtype=torch.long)),
        ValueError,
        "100000",
        r"attention_mask's length T=100000 .* range 1\.\.16384",
    ),
    "additive_mask integer dtype": (
        lambda m, t: masks.additive_mask(torch.ones(2, 2, dtype=torch.bool), torch.long),
        TypeError,
        "torch.int64",
        r"dtype=torch.int64 must be a floating-point dtype",
    ),
    "additive_mask dtype as text": (
        lambda m, t: masks.additive_mask(torch.ones(2, 2, dtype=torch.bool), "float32"),
        TypeError,
        "'float32'",
        r"dtype must be a torch dtype .*, got str 'float32'",
    ),
    "pad_prompts with the model as tokenizer": (
        lambda m, t: masks.pad_prompts(m, ["a"]),
        TypeError,
        "GPT2LMHeadModel",
        r"tokenizer must be a tokenizer .* swapped\?\)",
    ),
    "stepper built with top_k past the vocabulary": (
        lambda m, t: DecodingStepper(m, t, "To", settings=SamplingSettings("sample", top_k=5000)),
        ValueError,
        "5000",
        r"top_k=5000 is out of range: it must be in the range 1\.\.4096",
    ),
    "state started with top_k past the vocabulary": (
        lambda m, t: DecodingState.start(t, "To be", SamplingSettings("sample", top_k=5000), m),
        ValueError,
        "5000",
        r"top_k=5000 is out of range: it must be in the range 1\.\.4096",
    ),
    "state without the model steps with top_k past the vocabulary": (
        lambda m, t: DecodingState.start(t, "To", SamplingSettings("sample", top_k=5000)).step(m),
        ValueError,
        "5000",
        r"top_k=5000 is out of range: it must be in the range 1\.\.4096",
    ),
    "state settings: top_k past the vocabulary": (
        lambda m, t: DecodingState.start(t, "To be", model=m).with_settings(top_k=5000),
        ValueError,
        "5000",
        r"top_k=5000 is out of range: it must be in the range 1\.\.4096",
    ),
    "state settings: an unknown name": (
        lambda m, t: DecodingState.start(t, "To be", model=m).with_settings(colour=1),
        TypeError,
        "'colour'",
        r"unknown setting 'colour': the settings are strategy, temp",
    ),
    "state forces a float token": (
        lambda m, t: DecodingState.start(t, "To be", model=m).force(m, 2.0),
        TypeError,
        "2.0",
        r"token_id must be an int \(a token id\), got float 2\.0",
    ),
    "next_token_logits id past the vocabulary": (
        lambda m, t: generation.next_token_logits(m, torch.tensor([[9000]])),
        ValueError,
        "9000",
        r"ids holds token id 9000, outside the vocabulary 0\.\.4095",
    ),
    "next_token_logits a batch": (
        lambda m, t: generation.next_token_logits(m, torch.ones(2, 3, dtype=torch.long)),
        ValueError,
        "(2, 3)",
        r"ids must be one sequence \(1, T\), T >= 1; got shape \(2, 3\)",
    ),
    "next_token_probs past the window": (
        lambda m, t: generation.next_token_probs(m, torch.ones(1, 257, dtype=torch.long)),
        ValueError,
        "257",
        r"ids is 257 tokens long; the model's context window is 256",
    ),
    "context_window of a tokenizer": (
        lambda m, t: generation.context_window(t),
        TypeError,
        "TokenizersBackend",
        r"model must be a language model .* swapped\?\)",
    ),
    "generate_stepwise use_cache as text": (
        lambda m, t: generation.generate_stepwise(m, t, "To be", 3, use_cache="yes"),
        TypeError,
        "'yes'",
        r"use_cache must be True or False, got str 'yes'",
    ),
    "generate_stepwise record_steps as 1": (
        lambda m, t: generation.generate_stepwise(m, t, "To be", 3, record_steps=1),
        TypeError,
        "1",
        r"record_steps must be True or False, got int 1",
    ),
    "filter_logits of a list": (
        lambda m, t: sampling.filter_logits([1.0, 2.0], 1.0),
        TypeError,
        "list",
        r"logits must be a torch tensor, got list",
    ),
    "filter_logits of integer logits": (
        lambda m, t: sampling.filter_logits(torch.tensor([1, 2]), 1.0),
        TypeError,
        "torch.int64",
        r"logits must be a floating-point tensor, got a torch.int64",
    ),
    "top_candidates more than the vocabulary": (
        lambda m, t: sampling.top_candidates(torch.zeros(10), t, 11),
        ValueError,
        "11",
        r"n=11 is out of range: it must be in the range 0\.\.10",
    ),
    "candidate_table with a dict for settings": (
        lambda m, t: sampling.candidate_table(torch.zeros(10), t, {"top_k": 3}),
        TypeError,
        "{'top_k': 3}",
        r"settings must be a helpers.sampling.SamplingSettings",
    ),
    "show_token of an id": (
        lambda m, t: show_token(5),
        TypeError,
        "5",
        r"text must be a str \(a token's text\), got int 5",
    ),
    "bar with a missing value": (
        lambda m, t: bar(["a", "b"], [1.0]),
        ValueError,
        "2 labels",
        r"2 labels for 1 values: give one label per bar",
    ),
    "choose_token with a str generator": (
        lambda m, t: sampling.choose_token(torch.zeros(10), "sample", generator="g"),
        TypeError,
        "'g'",
        r"generator must be a torch.Generator or None, got str 'g'",
    ),
    "token_pieces of a str": (
        lambda m, t: token_pieces("abc", t),
        TypeError,
        "str",
        r"state must be a DecodingState, got str",
    ),
    "n-gram draft proposes -1 tokens": (
        lambda m, t: NGRAMS.propose([1], -1),
        ValueError,
        "-1",
        r"k=-1 is out of range: it must be in the range 0\.\.10000",
    ),
    "lookup draft proposes a billion tokens": (
        lambda m, t: drafts.LookupDraft(NGRAMS).propose([1], 10**9),
        ValueError,
        "1000000000",
        r"k=1000000000 is out of range: it must be in the range 0\.\.10000",
    ),
    "positions_per_step of a billion tokens": (
        lambda m, t: cost.positions_per_step(10, 10**9, use_cache=False),
        ValueError,
        "1000000000",
        r"new_tokens=1000000000 .* range 0\.\.1000000 \(one int per forward pass",
    ),
    "step_cost with logits for more positions than it runs": (
        lambda m, t: cost.step_cost(m, new_tokens=2, logits_positions=3),
        ValueError,
        "3",
        r"logits_positions=3 is out of range: it must be in the range 0\.\.2",
    ),
    "lines with a short series": (
        lambda m, t: lines([1, 2], {"loss": [1.0]}),
        ValueError,
        "'loss'",
        r"series 'loss' has 1 values for 2 x values",
    ),
    "tiny_gpt2_config with no vocabulary": (
        lambda m, t: tiny_gpt2_config(0),
        ValueError,
        "0",
        r"vocab_size=0 is out of range: it must be >= 1",
    ),
    "the stepper's cached pass past the window": (
        lambda m, t: step_internals.CachedPasses(m).run([1] * 257),
        ValueError,
        "257",
        r"len\(ids\)=257 is out of range: it must be in the range 1\.\.256 \(the model's",
    ),
    "filter_pipeline with a min_p of 0": (
        lambda m, t: step_internals.filter_pipeline(torch.zeros(8), min_p=0.0),
        ValueError,
        "0.0",
        r"min_p=0.0 must be in the range \(0, 1\]",
    ),
    "a beam state with more beams than the stepper draws": (
        lambda m, t: stepper_modes.BeamState.start(t, "To be", m, stepper_modes.BeamSettings(9)),
        ValueError,
        "9",
        r"num_beams=9 is out of range: it must be in the range 1\.\.8",
    ),
    "a beam state whose length does not fit the window": (
        lambda m, t: stepper_modes.BeamState.start(
            t, "To be", m, stepper_modes.BeamSettings(2, 1.0, 255)
        ),
        ValueError,
        "255",
        r"prompt tokens \+ max_new_tokens=255 do not fit the context window of 256 tokens",
    ),
    "a beam state with a nan length penalty": (
        lambda m, t: stepper_modes.BeamState.start(
            t, "To be", m, stepper_modes.BeamSettings(2, float("nan"))
        ),
        ValueError,
        "nan",
        r"length_penalty=nan",
    ),
    "a speculative state with k of 0": (
        lambda m, t: stepper_modes.SpeculativeState.start(t, "To be", m, 0),
        ValueError,
        "0",
        r"k=0 is out of range: it must be in the range 1\.\.8",
    ),
    "the rounds view of the last 0 rounds": (
        lambda m, t: stepper_panes.rounds_html(
            stepper_modes.SpeculativeState.start(t, "To be", m), t, last=0
        ),
        ValueError,
        "0",
        r"last=0 is out of range: it must be in the range 1\.\.100",
    ),
    "the beams view of a token state": (
        lambda m, t: stepper_panes.beams_html(DecodingState.start(t, "To be"), t),
        TypeError,
        "DecodingState",
        r"state must be a helpers.stepper_modes.BeamState",
    ),
    "attention strip of a head the model lacks": (
        lambda m, t: stepper_panes.attention_strip_html(torch.ones(4, 4, 2) / 2, ["a", "b"], 0, 4),
        ValueError,
        "4",
        r"head=4 is out of range: it must be in the range 0\.\.3",
    ),
}


@pytest.mark.parametrize(("call", "exc", "named", "match"), BAD_INPUTS.values(), ids=BAD_INPUTS)
def test_helpers_refuse_bad_input_naming_it(bundled, call, exc, named, match):
    model, tok = bundled
    with pytest.raises(exc, match=match) as err:
        call(model, tok)
    assert named in str(err.value)  # the message names the bad value itself


def test_a_candidate_button_number_that_is_not_an_int_stays_on_the_widget(bundled):
    model, tok = bundled
    stepper = DecodingStepper(model, tok, "To be")
    before = stepper.state
    assert not stepper.force_candidate("a")
    assert stepper.error and stepper.status == "candidate must be an int, got str 'a'"
    assert stepper.state is before


def test_a_mode_the_stepper_lacks_stays_on_the_widget(bundled):
    model, tok = bundled
    stepper = DecodingStepper(model, tok, "To be")
    before = stepper.state
    assert not stepper.set_mode("nucleus")
    assert stepper.error and "nucleus" in stepper.status and "speculative" in stepper.status
    assert not stepper.set_mode_settings(num_beams=3)  # a beam setting in greedy mode
    assert "a setting of the beam and speculative modes; this is greedy mode" in stepper.status
    assert stepper.state is before


def error_cases() -> dict:
    """Every bad input of this file as {id: (call(model, tokenizer), exception, the bad value as
    the message must name it, or None)}: tests/helpers/test_errors_zh.py runs each in Chinese."""
    cases = {}
    for i, (kwargs, exc, _) in enumerate(TRAIN_BAD_ARGS):
        cases[f"train {i}: {kwargs}"] = (
            lambda m, t, kw=kwargs: training.train(m, _train_ids(t), **kw),
            exc,
            None,
        )
    for i, (call, exc, _) in enumerate(GENERATION_BOUNDS + BAD_POSITIONS):
        cases[f"bounds {i}"] = (call, exc, None)
    cases["crop_cache keep=-1"] = (lambda m, t: _crop_a_fresh_cache(m, -1), ValueError, "-1")
    for name, (call, exc, _) in zip(WINDOW_IDS, WINDOW_CASES, strict=True):
        cases[f"window {name}"] = (lambda m, t, c=call: c(m), exc, None)
    for name, (call, _) in SWAPPED.items():
        cases[f"swapped {name}"] = (call, TypeError, None)
    for name, (call, exc, named, _) in BAD_INPUTS.items():
        cases[name] = (call, exc, named)
    return cases
