"""helpers.generation: the stepwise loop is model.generate, the filters are transformers' warpers.

The facts notebook 01 shows, tested against the helpers:
- the textbook greedy loop and ``generate_stepwise`` (with and without the KV cache) give the
  tokens of ``model.generate(do_sample=False)``, on five prompts (one Chinese, one single-token);
- temperature / top-k / top-p by hand give the distributions of transformers' logits warpers,
  and the seeded sampler draws what ``generate(do_sample=True)`` draws from the same seed (CPU);
- N new tokens take N forward passes; forcing token k changes every later step, none before;
- at the context window the loop stops, or with ``crop=True`` slides and forgets the start;
- ``DecodingState`` (the widget's state): undo is exact, reset returns to the prompt, steps repeat;
- bad input is refused with a message naming the value and the allowed range.
"""

import math

import pytest
import torch
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from transformers.generation.logits_process import (
    LogitsProcessorList,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from helpers.generation import (
    Step,
    Trace,
    check_prompt,
    context_window,
    encode_prompt,
    generate_stepwise,
    greedy_decode,
    next_token_logits,
    next_token_probs,
)
from helpers.plots import show_token
from helpers.sampling import (
    SamplingSettings,
    apply_temperature,
    check_sampling,
    choose_token,
    filter_logits,
    top_candidates,
    top_k_filter,
    top_p_filter,
)
from helpers.stepping import DecodingState

PROMPTS = ["and", "To be, or not to be", "ROMEO:\n", "我爱你", "Good morrow, my lord. What news"]
N_NEW = 20


# --------------------------------------------------------------------------- references
@torch.no_grad()
def textbook_greedy(model, ids: torch.Tensor, n: int, eos: int | None = None) -> list[int]:
    """The loop of notebook 01: forward, last position, argmax, append, repeat."""
    for _ in range(n):
        logits = model(ids).logits  # (1, T, V)
        next_id = logits[0, -1].argmax()  # the last position predicts the next token
        ids = torch.cat([ids, next_id.view(1, 1)], dim=1)  # (1, T+1)
        if next_id.item() == eos:  # generate() stops at the end-of-text token
            break
    return ids[0].tolist()


def hf_generate(model, tokenizer, prompt, n, **kwargs) -> list[int]:
    enc = tokenizer(prompt, return_tensors="pt")
    out = model.generate(**enc, max_new_tokens=n, pad_token_id=tokenizer.pad_token_id, **kwargs)
    return out[0].tolist()


def count_forward_passes(model):
    """A list that grows by one entry (the number of tokens fed) per forward pass of ``model``."""
    calls = []

    def hook(module, args, kwargs, output):
        ids = kwargs.get("input_ids", args[0] if args else None)
        calls.append(ids.shape[1])

    return calls, model.register_forward_hook(hook, with_kwargs=True)


def test_prompts_cover_a_single_token_and_a_chinese_prompt(bundled):
    _, tokenizer = bundled
    assert len(tokenizer("and")["input_ids"]) == 1
    assert len(tokenizer("我爱你")["input_ids"]) >= 6  # 3 characters, byte tokens


# --------------------------------------------------------------------------- greedy == generate
@pytest.mark.parametrize("prompt", PROMPTS)
def test_textbook_loop_equals_generate(bundled, prompt):
    model, tokenizer = bundled
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    expected = hf_generate(model, tokenizer, prompt, N_NEW, do_sample=False)
    assert textbook_greedy(model, ids, N_NEW, eos=tokenizer.eos_token_id) == expected


@pytest.mark.parametrize("use_cache", [True, False])
@pytest.mark.parametrize("prompt", PROMPTS)
def test_generate_stepwise_equals_generate(bundled, prompt, use_cache):
    model, tokenizer = bundled
    expected = hf_generate(model, tokenizer, prompt, N_NEW, do_sample=False)
    trace = generate_stepwise(
        model, tokenizer, prompt, N_NEW, use_cache=use_cache, stop_at_eos=True
    )
    assert trace.ids == expected
    assert trace.text == tokenizer.decode(expected)


@pytest.mark.parametrize("prompt", PROMPTS[:3])
def test_cache_changes_the_cost_not_the_trace(bundled, prompt):
    model, tokenizer = bundled
    cached = generate_stepwise(model, tokenizer, prompt, 15, use_cache=True)
    fresh = generate_stepwise(model, tokenizer, prompt, 15, use_cache=False)
    assert cached.new_ids == fresh.new_ids
    for a, b in zip(cached.steps, fresh.steps, strict=True):
        assert a.context_len == b.context_len
        assert math.isclose(a.prob, b.prob, rel_tol=1e-4, abs_tol=1e-6)
    t = len(cached.prompt_ids)
    assert [s.tokens_fed for s in cached.steps] == [t] + [1] * 14
    assert [s.tokens_fed for s in fresh.steps] == list(range(t, t + 15))


def test_record_steps_false_gives_the_same_tokens(bundled):
    model, tokenizer = bundled
    full = generate_stepwise(model, tokenizer, "KING:\n", 30)
    lean = generate_stepwise(model, tokenizer, "KING:\n", 30, record_steps=False)
    assert lean.new_ids == full.new_ids and lean.steps == [] and len(full.steps) == 30
    assert lean.forward_passes == full.forward_passes == 30


def test_trace_steps_record_argmax_and_candidates(bundled):
    model, tokenizer = bundled
    trace = generate_stepwise(model, tokenizer, "and", 8, n_top=4)
    ids = trace.prompt_ids
    for s in trace.steps:
        logits = next_token_logits(model, torch.tensor([ids]))
        probs = logits.softmax(-1)
        assert s.token_id == int(logits.argmax()) == s.top[0][0]
        assert s.context_len == len(ids)
        assert math.isclose(s.prob, float(probs.max()), rel_tol=1e-4)
        assert [c[0] for c in s.top] == torch.topk(probs, 4).indices.tolist()
        assert s.token == tokenizer.decode([s.token_id])
        ids = ids + [s.token_id]
    rows = trace.rows(alternatives=3)
    assert list(rows[0]) == ["step", "context", "token", "id", "prob", "alternatives"]
    assert [r["id"] for r in rows] == trace.new_ids
    for r, s in zip(rows, trace.steps, strict=True):  # greedy: the chosen one is top[0]
        assert r["token"] == show_token(s.token)  # the course's notation: · space, ↵ newline
        assert r["alternatives"] == ", ".join(f"{show_token(t)} {p:.4f}" for _, t, p in s.top[1:4])


# --------------------------------------------------------------------------- sampling == generate
SAMPLING = [
    {"temperature": 0.8},
    {"temperature": 1.0, "top_k": 20},
    {"temperature": 1.3, "top_p": 0.9},
    {"temperature": 0.7, "top_k": 50, "top_p": 0.95},
]


@pytest.mark.parametrize("settings", SAMPLING)
def test_sampled_stepwise_draws_what_generate_draws_from_the_same_seed(bundled, settings):
    # generate() draws from torch's global stream, the helper from its own Generator: both are
    # the CPU Mersenne Twister seeded with `seed`, and both spend it the same way per step.
    model, tokenizer = bundled
    for seed in range(2):
        torch.manual_seed(seed)
        hf_settings = {"top_k": None, **settings}  # transformers' top_k default would be 50
        expected = hf_generate(model, tokenizer, "and", N_NEW, do_sample=True, **hf_settings)
        trace = generate_stepwise(
            model,
            tokenizer,
            "and",
            N_NEW,
            strategy="sample",
            seed=seed,
            stop_at_eos=True,
            **settings,
        )
        assert trace.ids == expected


@pytest.mark.parametrize("settings", SAMPLING)
def test_generate_samples_from_the_hand_filtered_distribution(bundled, settings):
    model, tokenizer = bundled
    enc = tokenizer("ROMEO:\n", return_tensors="pt")
    torch.manual_seed(1)
    out = model.generate(
        **enc,
        max_new_tokens=10,
        do_sample=True,
        output_scores=True,
        return_dict_in_generate=True,
        pad_token_id=tokenizer.pad_token_id,
        **{"top_k": None, **settings},
    )
    seq = out.sequences[0]
    n_prompt = enc["input_ids"].size(1)
    for step, scores in enumerate(out.scores):
        prefix = seq[: n_prompt + step].unsqueeze(0)  # (1, T)
        ours = filter_logits(next_token_logits(model, prefix), **settings)  # (V,)
        theirs = scores[0]
        assert torch.equal(torch.isinf(ours), torch.isinf(theirs))
        assert torch.allclose(ours.softmax(-1), theirs.softmax(-1), atol=1e-6)
        assert ours.softmax(-1)[seq[n_prompt + step]] > 0  # the drawn token was allowed


# --------------------------------------------------------------------------- filters: properties
@st.composite
def distinct_logits(draw, max_size=40):
    """A 1-D float tensor without ties (neighbouring values >= 0.01 apart), in random order."""
    gaps = draw(st.lists(st.floats(0.01, 1.0), min_size=2, max_size=max_size))
    shift = draw(st.floats(-10, 10))
    values = torch.tensor(gaps, dtype=torch.float64).cumsum(0) + shift
    order = draw(st.permutations(range(len(gaps))))
    return values[list(order)].float()


any_logits = st.lists(st.floats(-10, 10, width=32), min_size=2, max_size=40).map(torch.tensor)
temperatures = st.floats(0.05, 5.0)
top_ps = st.floats(0.01, 1.0, exclude_min=True)


def kept(filtered: torch.Tensor) -> int:
    return int(torch.isfinite(filtered).sum())


@given(any_logits, temperatures, st.data())
def test_filtered_probabilities_sum_to_one(logits, temperature, data):
    top_k = data.draw(st.none() | st.integers(1, logits.numel()))
    top_p = data.draw(st.none() | top_ps)
    probs = filter_logits(logits, temperature, top_k, top_p).softmax(-1)
    assert torch.isclose(probs.sum(), torch.tensor(1.0), atol=1e-5)
    assert (probs >= 0).all()


@given(any_logits, st.data())
def test_top_k_keeps_at_least_k_and_never_a_smaller_logit(logits, data):
    k = data.draw(st.integers(1, logits.numel()))
    out = top_k_filter(logits, k)
    assert kept(out) >= k  # ties with the k-th value stay
    kept_min = logits[torch.isfinite(out)].min()
    assert (logits[~torch.isfinite(out)] < kept_min).all()
    assert torch.equal(out[torch.isfinite(out)], logits[torch.isfinite(out)])  # values untouched


@given(distinct_logits(), st.data())
def test_top_k_keeps_exactly_k_without_ties(logits, data):
    k = data.draw(st.integers(1, logits.numel()))
    out = top_k_filter(logits, k)
    assert kept(out) == k
    assert set(torch.nonzero(torch.isfinite(out)).flatten().tolist()) == set(
        torch.topk(logits, k).indices.tolist()
    )


@given(any_logits, top_ps)
def test_top_p_keeps_the_smallest_prefix_reaching_p(logits, p):
    out = top_p_filter(logits, p)
    m = kept(out)
    probs = logits.softmax(-1)
    sorted_probs = probs.sort(descending=True).values.double()
    cum = sorted_probs.cumsum(0)
    assert m >= 1
    assert cum[m - 1] >= p - 1e-5  # the kept tokens reach p ...
    assert m == 1 or cum[m - 2] < p + 1e-5  # ... and one fewer would not
    kept_probs, dropped = probs[torch.isfinite(out)], probs[~torch.isfinite(out)]
    assert dropped.numel() == 0 or dropped.max() <= kept_probs.min()  # a prefix by probability


@given(any_logits)
def test_top_p_of_one_keeps_everything(logits):
    assert torch.equal(top_p_filter(logits, 1.0), logits)
    assert torch.equal(filter_logits(logits, 1.0, None, 1.0), logits)


@given(distinct_logits(), st.integers(0, 2**31 - 1))
def test_top_k_of_one_is_greedy(logits, seed):
    g = torch.Generator().manual_seed(seed)
    greedy = choose_token(logits, "greedy")
    assert choose_token(logits, "sample", top_k=1, generator=g) == greedy == int(logits.argmax())
    assert choose_token(logits, "sample", top_p=1e-6, generator=g) == greedy  # the top one stays


@given(distinct_logits(), st.integers(0, 2**31 - 1))
def test_temperature_towards_zero_approaches_greedy(logits, seed):
    top = int(logits.argmax())
    p_top = [apply_temperature(logits, t).softmax(-1)[top].item() for t in (2, 1, 0.5, 0.1, 0.01)]
    assert all(b >= a - 1e-6 for a, b in zip(p_top[:-1], p_top[1:], strict=True))
    assert apply_temperature(logits, 1e-4).softmax(-1)[top] > 0.9999  # gaps >= 0.01: e^-100
    g = torch.Generator().manual_seed(seed)
    assert choose_token(logits, "sample", temperature=1e-4, generator=g) == top


# --------------------------------------------------------------------------- filters == warpers
def warp(logits: torch.Tensor, processors) -> torch.Tensor:
    dummy_ids = torch.zeros(1, 1, dtype=torch.long)  # the warpers ignore the input ids
    return LogitsProcessorList(processors)(dummy_ids, logits.unsqueeze(0))[0]


def assert_same_distribution(ours: torch.Tensor, theirs: torch.Tensor):
    assert torch.equal(torch.isinf(ours), torch.isinf(theirs))
    assert torch.allclose(ours.softmax(-1), theirs.softmax(-1), atol=1e-6)


def away_from_top_p_boundary(logits: torch.Tensor, p: float) -> bool:
    """False when p equals a cumulative probability up to float round-off (a coin toss there)."""
    cum = logits.softmax(-1).sort(descending=True).values.double().cumsum(0)
    return bool(((cum - p).abs() > 1e-5).all())


@given(any_logits, temperatures)
def test_temperature_equals_transformers(logits, t):
    assert_same_distribution(
        apply_temperature(logits, t), warp(logits, [TemperatureLogitsWarper(t)])
    )


@given(any_logits, st.data())
def test_top_k_equals_transformers(logits, data):
    k = data.draw(st.integers(1, logits.numel()))
    assert_same_distribution(top_k_filter(logits, k), warp(logits, [TopKLogitsWarper(k)]))


@given(distinct_logits(), top_ps)
def test_top_p_equals_transformers(logits, p):
    assume(away_from_top_p_boundary(logits, p))
    assert_same_distribution(top_p_filter(logits, p), warp(logits, [TopPLogitsWarper(p)]))


@given(distinct_logits(), temperatures, top_ps, st.data())
def test_filter_chain_equals_transformers(logits, t, p, data):
    k = data.draw(st.integers(1, logits.numel()))
    scaled_topk = top_k_filter(apply_temperature(logits, t), k)
    assume(away_from_top_p_boundary(scaled_topk, p))
    theirs = warp(logits, [TemperatureLogitsWarper(t), TopKLogitsWarper(k), TopPLogitsWarper(p)])
    assert_same_distribution(filter_logits(logits, t, k, p), theirs)


@pytest.mark.parametrize("prompt", PROMPTS)
def test_filters_equal_transformers_on_real_logits(bundled, prompt):
    model, tokenizer = bundled
    logits = next_token_logits(model, encode_prompt(tokenizer, prompt, model))  # (V,)
    for t, k, p in [(0.5, 10, 0.9), (1.0, 40, 0.5), (1.5, 200, 0.95), (2.0, 4096, 0.8)]:
        theirs = warp(
            logits, [TemperatureLogitsWarper(t), TopKLogitsWarper(k), TopPLogitsWarper(p)]
        )
        assert_same_distribution(filter_logits(logits, t, k, p), theirs)
        probs = next_token_probs(model, encode_prompt(tokenizer, prompt, model), t, k, p)
        assert torch.allclose(probs, theirs.softmax(-1), atol=1e-6)


# --------------------------------------------------------------------------- why not parallel
def test_n_new_tokens_take_n_forward_passes(bundled):
    model, tokenizer = bundled
    for n in (1, 6):
        calls, handle = count_forward_passes(model)
        try:
            cached = generate_stepwise(model, tokenizer, "ROMEO:\n", n)
            n_cached = len(calls)
            generate_stepwise(model, tokenizer, "ROMEO:\n", n, use_cache=False)
            n_fresh = len(calls) - n_cached
            hf_generate(model, tokenizer, "ROMEO:\n", n, do_sample=False, eos_token_id=None)
            n_hf = len(calls) - n_cached - n_fresh
        finally:
            handle.remove()
        assert n_cached == n_fresh == n_hf == cached.forward_passes == n
        assert calls[0] == len(cached.prompt_ids)  # the prompt goes in one pass (prefill)


@pytest.mark.parametrize("use_cache", [True, False])
@pytest.mark.parametrize("k", [0, 3, 7])
def test_forcing_step_k_changes_every_later_step_and_no_earlier_one(bundled, k, use_cache):
    model, tokenizer = bundled
    n = 10
    base = generate_stepwise(model, tokenizer, "and", n, n_top=5, use_cache=use_cache)
    other = next(c[0] for c in base.steps[k].top if c[0] != base.new_ids[k])  # the runner-up
    forced = generate_stepwise(
        model, tokenizer, "and", n, n_top=5, use_cache=use_cache, forced={k: other}
    )
    assert forced.new_ids[:k] == base.new_ids[:k]
    assert forced.steps[:k] == base.steps[:k]  # identical, probabilities included
    assert forced.steps[k].top == base.steps[k].top  # step k's distribution was computed before
    assert forced.new_ids[k] == other != base.new_ids[k]
    for j in range(k + 1, n):  # every later distribution moved
        assert forced.steps[j].top != base.steps[j].top, j


# --------------------------------------------------------------------------- context window
def words(n: int, first: str = "and") -> str:
    """A prompt of exactly ``n`` tokens: ``first`` then " and" repeated."""
    return first + " and" * (n - 1)


def test_words_prompts_have_the_length_they_promise(bundled):
    _, tokenizer = bundled
    for n in (28, 31, 32, 33):
        assert len(tokenizer(words(n))["input_ids"]) == n
        assert len(tokenizer(words(n, first="but"))["input_ids"]) == n


def test_the_loop_stops_at_the_context_window(tiny):
    model, tokenizer = tiny
    window = context_window(model)
    assert window == 32
    prompt = words(28)
    trace = generate_stepwise(model, tokenizer, prompt, 10)
    assert trace.stop_reason == "context_window"
    # a 32-token text still predicts token 33: the loop stops one past the window
    assert len(trace.new_ids) == trace.forward_passes == 5 and len(trace.ids) == window + 1
    assert max(s.context_len for s in trace.steps) == window
    full = generate_stepwise(model, tokenizer, prompt, 5)
    assert full.stop_reason == "max_new_tokens"


@pytest.mark.parametrize("use_cache", [True, False])
def test_crop_slides_the_window_and_forgets_the_start(tiny, use_cache):
    model, tokenizer = tiny
    window = context_window(model)
    prompt = words(28)
    trace = generate_stepwise(model, tokenizer, prompt, 10, crop=True, use_cache=use_cache)
    assert trace.stop_reason == "max_new_tokens" and len(trace.new_ids) == 10
    stopped = generate_stepwise(model, tokenizer, prompt, 10)
    assert trace.new_ids[:5] == stopped.new_ids  # the same until the text outgrows the window
    ids = trace.prompt_ids
    for s in trace.steps:
        context = ids[-window:]  # the last n_positions tokens, as nanoGPT crops
        assert s.context_len == len(context)
        assert s.token_id == int(next_token_logits(model, torch.tensor([context])).argmax())
        if len(ids) > window:  # sliding: every kept token moved, so all are fed again
            assert s.context_len == s.tokens_fed == window
        ids = ids + [s.token_id]
    # change the first prompt token, replay the same continuation: only pre-slide steps notice
    other = generate_stepwise(
        model,
        tokenizer,
        words(28, first="but"),
        10,
        crop=True,
        use_cache=use_cache,
        forced=dict(enumerate(trace.new_ids)),
    )
    for j, (a, b) in enumerate(zip(trace.steps, other.steps, strict=True)):
        sees_the_start = len(trace.prompt_ids) + j <= window
        assert (a.top != b.top) == sees_the_start, j


def test_a_full_window_prompt_makes_one_token_and_a_longer_one_is_refused(tiny):
    model, tokenizer = tiny
    full = words(32)
    trace = generate_stepwise(model, tokenizer, full, 5)  # 32 tokens predict token 33
    assert len(trace.new_ids) == 1 and trace.stop_reason == "context_window"
    assert trace.steps[0].context_len == 32
    too_long = words(33)
    with pytest.raises(ValueError, match=r"the prompt is 33 tokens long.*window is 32 tokens"):
        generate_stepwise(model, tokenizer, too_long, 5)


# --------------------------------------------------------------------------- decoding state
def test_decoding_state_greedy_steps_equal_generate_stepwise(tiny):
    model, tokenizer = tiny
    state = DecodingState.start(tokenizer, "ROMEO:", model=model)
    for _ in range(8):
        state = state.step(model)
    trace = generate_stepwise(model, tokenizer, "ROMEO:", 8, use_cache=False)
    assert list(state.generated) == trace.new_ids
    assert list(state.ids) == trace.ids
    assert state.probs == pytest.approx([s.prob for s in trace.steps], rel=1e-5)


ACTIONS = st.lists(
    st.sampled_from(["step", "undo", "force", "sample", "greedy", "reset"]), min_size=1, max_size=10
)


@hypothesis_settings(max_examples=30)
@given(ACTIONS, st.integers(0, 1000))
def test_decoding_state_invariants(tiny, actions, seed):
    model, tokenizer = tiny
    start = DecodingState.start(tokenizer, "KING:", SamplingSettings(seed=seed), model)
    state = start
    for action in actions:
        before = state
        if action == "undo":
            if not state.history:
                with pytest.raises(ValueError, match="nothing to undo"):
                    state.undo()
                continue
            state = state.undo()
            assert state.history == before.history[:-1]
            continue
        if action == "reset":  # the widget's Reset: the prompt alone, settings kept, undoable
            if not state.generated:
                with pytest.raises(ValueError, match="nothing to reset"):
                    state.reset()
                continue
            state = state.reset()
            assert state.generated == () == state.probs and state.prompt_ids == start.prompt_ids
            assert state.settings == before.settings and state.undo() is before
            continue
        if action == "step":
            state = state.step(model)
            again = before.step(model)  # the same state steps to the same token
            assert again == state
        elif action == "force":
            state = state.force(model, 7)
            assert state.generated[-1] == 7
        else:
            state = state.with_settings(strategy=action, temperature=1.3)
            assert state.settings.strategy == action and state.generated == before.generated
        assert state.undo() is before  # undo is exact: the very state before
        if state.generated:
            cleared = state.reset()
            assert cleared.ids == start.ids and cleared.settings == state.settings
        assert state.cleared().history[-1] is state
        assert len(state.generated) == len(state.probs)
        assert state.ids == state.prompt_ids + state.generated
        assert all(0 < p <= 1 for p in state.probs)


def test_sampled_steps_repeat_after_undo(tiny):
    model, tokenizer = tiny
    state = DecodingState.start(
        tokenizer, "and", SamplingSettings("sample", 1.5, None, 0.95, seed=3), model
    )
    run = state
    for _ in range(6):
        run = run.step(model)
    back = run.undo().undo().undo()
    replay = back.step(model).step(model).step(model)
    assert replay.generated == run.generated
    assert replay.log_prob == pytest.approx(run.log_prob)


def test_decoding_state_refuses_a_full_window(tiny):
    model, tokenizer = tiny
    state = DecodingState.start(tokenizer, words(31), model=model)
    state = state.step(model).step(model)  # 31 -> 33 tokens: 32 still predict one more
    assert len(state.ids) == 33
    with pytest.raises(ValueError, match=r"context window is full: the text is 33 tokens"):
        state.step(model)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "bad,exc,match",
    [
        ("", ValueError, r"prompt '' is empty or only whitespace"),
        ("  \n\t", ValueError, r"empty or only whitespace"),
        (5, TypeError, r"prompt must be a str, got int 5"),
        (None, TypeError, r"prompt must be a str, got NoneType"),
        (b"and", TypeError, r"prompt must be a str, got bytes"),
        (["and"], TypeError, r"prompt must be a str, got list"),
    ],
)
def test_bad_prompt(bundled, bad, exc, match):
    model, tokenizer = bundled
    with pytest.raises(exc, match=match):
        check_prompt(bad)
    with pytest.raises(exc, match=match):
        generate_stepwise(model, tokenizer, bad, 5)
    with pytest.raises(exc, match=match):
        DecodingState.start(tokenizer, bad, model=model)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"temperature": 0}, ValueError, r"temperature=0 must be a finite number > 0"),
        ({"temperature": -1.0}, ValueError, r"temperature=-1.0 must be a finite number > 0"),
        ({"temperature": float("nan")}, ValueError, r"temperature=nan must be a finite number > 0"),
        ({"temperature": float("inf")}, ValueError, r"temperature=inf .*temperature < inf"),
        ({"temperature": "hot"}, TypeError, r"temperature must be a number > 0, got str 'hot'"),
        ({"top_k": 0}, ValueError, r"top_k=0 is out of range: it must be in the range 1..4096"),
        ({"top_k": -3}, ValueError, r"top_k=-3 is out of range: it must be in the range 1"),
        (
            {"top_k": 4097},
            ValueError,
            r"top_k=4097 is out of range: it must be in the range 1..4096",
        ),
        ({"top_k": 2.5}, TypeError, r"top_k must be an int .*, got float 2.5"),
        ({"top_p": 0}, ValueError, r"top_p=0 must be in the range \(0, 1\]"),
        ({"top_p": -0.1}, ValueError, r"top_p=-0.1 must be in the range \(0, 1\]"),
        ({"top_p": 1.5}, ValueError, r"top_p=1.5 must be in the range \(0, 1\]"),
        ({"top_p": float("nan")}, ValueError, r"top_p=nan must be in the range \(0, 1\]"),
        ({"top_p": "0.9"}, TypeError, r"top_p must be a number in \(0, 1\], got str"),
    ],
)
def test_bad_sampling_settings(bundled, kwargs, exc, match):
    model, tokenizer = bundled
    with pytest.raises(exc, match=match):
        check_sampling(**{"vocab_size": 4096, **kwargs})
    with pytest.raises(exc, match=match):
        generate_stepwise(model, tokenizer, "and", 5, strategy="sample", **kwargs)
    logits = torch.zeros(4096)
    with pytest.raises(exc, match=match):
        filter_logits(logits, **kwargs)
    with pytest.raises(exc, match=match):
        choose_token(logits, "sample", **kwargs)


def test_bad_sampling_settings_in_the_single_filters():
    logits = torch.zeros(10)
    with pytest.raises(
        ValueError, match=r"top_k=11 is out of range: it must be in the range 1..10"
    ):
        top_k_filter(logits, 11)
    with pytest.raises(ValueError, match=r"top_p=0 must be in the range \(0, 1\]"):
        top_p_filter(logits, 0)
    with pytest.raises(ValueError, match=r"temperature=0 must be a finite number > 0"):
        apply_temperature(logits, 0)
    with pytest.raises(ValueError, match=r"temperature=0 must be a finite number > 0"):
        SamplingSettings(temperature=0)
    with pytest.raises(ValueError, match=r"top_p=2 must be in the range \(0, 1\]"):
        SamplingSettings(top_p=2)


@pytest.mark.parametrize(
    "bad,exc,match",
    [
        (-1, ValueError, r"max_new_tokens=-1 is out of range: it must be in the range 0..10000"),
        (2.5, TypeError, r"max_new_tokens must be an int in the range 0..10000, got float 2.5"),
        (True, TypeError, r"max_new_tokens must be an int in the range 0..10000, got bool"),
    ],
)
def test_bad_max_new_tokens(bundled, bad, exc, match):
    model, tokenizer = bundled
    with pytest.raises(exc, match=match):
        generate_stepwise(model, tokenizer, "and", bad)


def test_zero_new_tokens_is_the_prompt(bundled):
    model, tokenizer = bundled
    trace = generate_stepwise(model, tokenizer, "and", 0)
    assert trace.new_ids == [] and trace.forward_passes == 0 and trace.text == "and"


def test_prompt_longer_than_the_window(bundled):
    model, tokenizer = bundled
    long_prompt = "and " * 300
    n = len(tokenizer(long_prompt)["input_ids"])
    assert n > 256
    match = rf"the prompt is {n} tokens long; the model's context window is 256 tokens"
    with pytest.raises(ValueError, match=match):
        generate_stepwise(model, tokenizer, long_prompt, 5)
    with pytest.raises(ValueError, match=match):
        DecodingState.start(tokenizer, long_prompt, model=model)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (
            {"strategy": "beam"},
            ValueError,
            r"strategy='beam' must be one of \('greedy', 'sample'\)",
        ),
        ({"n_top": -1}, ValueError, r"n_top=-1 is out of range: it must be in the range 0..4096"),
        ({"forced": [1, 2]}, TypeError, r"forced must be a dict"),
        (
            {"forced": {0: 5000}},
            ValueError,
            r"forced token_id=5000 is outside the vocabulary 0..4095",
        ),
        (
            {"forced": {-1: 5}},
            ValueError,
            r"forced step=-1 is out of range: it must be in the range 0..4",
        ),
        (
            {"forced": {0: "a"}},
            TypeError,
            r"forced token_id must be an int \(a token id\), got str 'a'",
        ),
    ],
)
def test_bad_loop_options(bundled, kwargs, exc, match):
    model, tokenizer = bundled
    with pytest.raises(exc, match=match):
        generate_stepwise(model, tokenizer, "and", 5, **kwargs)


def test_force_refuses_ids_outside_the_vocabulary(tiny):
    model, tokenizer = tiny
    state = DecodingState.start(tokenizer, "and", model=model)
    with pytest.raises(ValueError, match=r"token_id=4096 is outside the vocabulary 0..4095"):
        state.force(model, 4096)
    with pytest.raises(TypeError, match=r"token_id must be an int \(a token id\), got str"):
        state.force(model, "7")


def test_public_types_are_the_ones_other_helpers_use():
    step = Step(0, 1, 2, "x", 0.5, [(2, "x", 0.5)])  # positional construction still works
    assert step.tokens_fed is None
    trace = Trace([1], [2], [step], "ab", 1, "max_new_tokens")
    assert trace.ids == [1, 2]
    assert top_candidates(torch.tensor([0.0, 1.0, 2.0]), _FakeTok(), 2)[0][0] == 2


class _FakeTok:
    def decode(self, ids):
        return "".join(chr(97 + i) for i in ids)


@pytest.mark.parametrize("bad,exc", [(-1, ValueError), (2**32, ValueError), ("3", TypeError)])
def test_settings_seed_range(bad, exc):
    with pytest.raises(exc, match=r"seed.*0 <= seed < 2\*\*32"):
        SamplingSettings(seed=bad)


CACHE_PROMPTS = ["ROMEO:\nBut soft, what light", "模型一次生成一个词元", "The"]


SPEECH = "KING:\nNow is the winter of our discontent, and all the clouds that lowered.\n"


def prompt_ids(tokenizer, prompt):
    return tokenizer(prompt, return_tensors="pt")["input_ids"]  # (1, T)


def window_prompt(tokenizer, n_tokens):
    """A (1, n_tokens) tensor of real text ids: the speech repeated, cut to length."""
    ids = tokenizer(SPEECH * 20)["input_ids"]
    assert len(ids) >= n_tokens
    return torch.tensor([ids[:n_tokens]])


# --------------------------------------------------------------------------- equivalence
@pytest.mark.parametrize("prompt", CACHE_PROMPTS)
def test_stepwise_cached_equals_uncached(bundled, prompt):
    model, tok = bundled
    cached = generate_stepwise(model, tok, prompt, 25, use_cache=True)
    uncached = generate_stepwise(model, tok, prompt, 25, use_cache=False)
    assert cached.new_ids == uncached.new_ids
    assert len(cached.new_ids) == 25
    assert [s.prob for s in cached.steps] == pytest.approx(
        [s.prob for s in uncached.steps], abs=1e-5
    )


@pytest.mark.parametrize("prompt", CACHE_PROMPTS)
def test_greedy_decode_cached_equals_uncached_and_generate(bundled, prompt):
    model, tok = bundled
    ids = prompt_ids(tok, prompt)
    cached = greedy_decode(model, ids, 30, use_cache=True)
    uncached = greedy_decode(model, ids, 30, use_cache=False)
    assert cached.new_ids == uncached.new_ids
    assert torch.allclose(cached.logits, uncached.logits, atol=1e-4)
    assert cached.positions == [ids.size(1)] + [1] * 29
    assert uncached.positions == [ids.size(1) + i for i in range(30)]
    ref = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=30,
        do_sample=False,
        pad_token_id=tok.eos_token_id,
    )
    assert ref[0, ids.size(1) :].tolist() == cached.new_ids
    trace = generate_stepwise(model, tok, prompt, 30, use_cache=True)
    assert trace.new_ids == cached.new_ids


def test_prompt_that_fills_the_context_window(bundled):
    model, tok = bundled
    window = context_window(model)
    assert window == 256
    ids = window_prompt(tok, window)  # 256 tokens: room for exactly one prediction
    cached = greedy_decode(model, ids, 1, use_cache=True)
    uncached = greedy_decode(model, ids, 1, use_cache=False)
    assert cached.new_ids == uncached.new_ids
    assert torch.allclose(cached.logits, uncached.logits, atol=1e-4)
    ref = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=1,
        do_sample=False,
        pad_token_id=tok.eos_token_id,
    )
    assert ref[0, -1:].tolist() == cached.new_ids
    # a longer text is cropped to its last 256 tokens, as nanoGPT does
    two = greedy_decode(model, ids, 2, use_cache=False)
    assert two.new_ids[:1] == cached.new_ids and two.positions == [256, 256]
    crop = model(torch.cat([ids, torch.tensor([cached.new_ids])], dim=1)[:, -256:]).logits
    assert two.new_ids[1] == int(crop[0, -1].argmax())


def test_near_the_window_cached_and_uncached_fill_it_the_same_way(bundled):
    model, tok = bundled
    ids = window_prompt(tok, 248)
    cached = greedy_decode(model, ids, 9, use_cache=True)  # fed positions end at 256
    uncached = greedy_decode(model, ids, 9, use_cache=False)
    assert cached.new_ids == uncached.new_ids
    assert torch.allclose(cached.logits, uncached.logits, atol=1e-4)
    prompt = tok.decode(ids[0])
    a = generate_stepwise(model, tok, prompt, 20, use_cache=True)
    b = generate_stepwise(model, tok, prompt, 20, use_cache=False)
    assert a.new_ids == b.new_ids
    assert a.stop_reason == b.stop_reason == "context_window"
    assert len(a.ids) == 257  # a 256-token text still predicts token 257


@given(
    prompt=st.lists(st.integers(0, 4095), min_size=1, max_size=32),
    data=st.data(),
)
def test_property_cached_equals_uncached_on_random_prompts(tiny, prompt, data):
    model, _ = tiny
    room = context_window(model) - len(prompt) + 1  # up to the full 32-position window
    n_new = data.draw(st.integers(0, room))
    ids = torch.tensor([prompt])
    cached = greedy_decode(model, ids, n_new, use_cache=True)
    uncached = greedy_decode(model, ids, n_new, use_cache=False)
    assert torch.allclose(cached.logits, uncached.logits, atol=1e-4)
    # a random model can have near-ties; tokens must agree wherever the choice is clear
    for row, a, b in zip(cached.logits, cached.new_ids, uncached.new_ids, strict=True):
        top2 = torch.topk(row, 2).values
        if top2[0] - top2[1] > 1e-3:
            assert a == b
        else:
            break  # after a tie the sequences may legitimately part ways


def test_one_token_prompt_can_produce_a_full_window_of_new_tokens(tiny):
    model, _ = tiny
    ids = torch.tensor([[7]])
    window = context_window(model)
    cached = greedy_decode(model, ids, window, use_cache=True)  # the last one is never fed
    uncached = greedy_decode(model, ids, window, use_cache=False)
    assert len(cached.new_ids) == window
    assert max(uncached.positions) == window
    assert torch.allclose(cached.logits, uncached.logits, atol=1e-4)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda model: greedy_decode(model, torch.zeros(2, 3, dtype=torch.long), 4),
            ValueError,
            r"ids must be one sequence \(T,\) or \(1, T\); got \(2, 3\)",
        ),
        (
            lambda model: greedy_decode(model, torch.zeros(1, 3, dtype=torch.long), -1),
            ValueError,
            r"max_new_tokens=-1 .* in the range 0..10000",
        ),
    ],
)
def test_bad_input_raises_clear_errors_with_the_cache(bundled, call, exc, match):
    with pytest.raises(exc, match=match):
        call(bundled[0])


def test_sliding_the_window_changes_the_kept_tokens_keys_above_layer_0(tiny):
    """Notebook 01: a slid window cannot keep its cache. Every key moves with its position, and
    above layer 0 a key also carried the dropped token, so even kept in place it changes."""
    model, _ = tiny
    window = context_window(model)
    full = torch.randint(
        0, model.config.vocab_size, (1, window), generator=torch.Generator().manual_seed(0)
    )
    kept, old_places = full[:, 1:], torch.arange(1, window)[None]
    with torch.no_grad():
        before = model(full, use_cache=True).past_key_values
        moved = model(kept, use_cache=True).past_key_values
        in_place = model(kept, position_ids=old_places, use_cache=True).past_key_values
    for layer in range(model.config.n_layer):
        old = before.layers[layer].keys[:, :, 1:]
        assert (moved.layers[layer].keys - old).abs().max() > 0.01
        change = (in_place.layers[layer].keys - old).abs().max()
        assert change < 1e-5 if layer == 0 else change > 1e-4
