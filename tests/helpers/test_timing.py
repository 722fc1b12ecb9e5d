"""helpers.timing: timers that take turns and keep the best, the pass counter, the thread count."""

import math

import pytest
import torch

from helpers.cost import (
    positions_per_step,
)
from helpers.generation import generate_stepwise
from helpers.timing import (
    best_of_rounds,
    count_positions,
    decode_step_seconds,
    interleaved_times,
    measure_bandwidth,
    measure_matmul_flops,
    time_call,
    timed,
)


# --------------------------------------------------------------------------- counting work
@pytest.mark.parametrize("use_cache", [True, False])
def test_count_positions_matches_the_formula(tiny, use_cache):
    model, tok = tiny
    prompt = "To be, or not"
    p = len(tok(prompt)["input_ids"])
    with count_positions(model) as seen:
        trace = generate_stepwise(model, tok, prompt, 12, use_cache=use_cache)
    assert seen == positions_per_step(p, 12, use_cache=use_cache)
    assert len(seen) == trace.forward_passes == 12


# --------------------------------------------------------------------------- measuring
def test_decode_step_seconds_times_one_new_position(tiny):
    model, _ = tiny
    with count_positions(model) as seen:
        seconds = decode_step_seconds(model, 10, use_cache=True, repeats=2)
    assert seen == [9, 1, 1, 1]  # prefill (not timed), warm-up, 2 timed repeats
    with count_positions(model) as seen:
        decode_step_seconds(model, 10, use_cache=False, batch_size=2, repeats=2)
    assert seen == [10, 10, 10]
    assert 0 < seconds < 10


def test_best_of_rounds_interleaves_and_keeps_the_best():
    order = []
    values = {"a": iter([3.0, 1.0, 2.0]), "b": iter([5.0, 6.0, 4.0])}

    def measure(name):
        order.append(name)
        return next(values[name])

    best = best_of_rounds({"a": lambda: measure("a"), "b": lambda: measure("b")}, rounds=3)
    assert best == {"a": 1.0, "b": 4.0}
    assert order == ["a", "b"] * 3


class FakeClock:
    """``time.perf_counter`` that a timed function moves forward by the seconds it says."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def costs(self, seconds, log=None, name=None):
        def fn():
            self.now += seconds
            if log is not None:
                log.append(name)
            return name

        return fn


@pytest.fixture
def clock(monkeypatch):
    import helpers.timing

    fake = FakeClock()
    monkeypatch.setattr(helpers.timing.time, "perf_counter", fake)
    return fake


def test_interleaved_times_take_turns_and_timed_returns_the_result(clock):
    order = []
    fns = {"a": clock.costs(0.5, order, "a"), "b": clock.costs(2.0, order, "b")}
    times = interleaved_times(fns, 3)
    assert order == ["a", "b"] * 3
    assert times == {"a": [0.5] * 3, "b": [2.0] * 3}
    assert timed(clock.costs(0.25, name=42)) == (0.25, 42)
    with pytest.raises(TypeError, match="fns must be a non-empty dict"):
        interleaved_times({}, 2)


def test_decode_step_seconds_crops_its_cache_with_the_one_crop(tiny, monkeypatch):
    import helpers.speculative
    import helpers.timing as timing

    model, _ = tiny
    lengths = []  # the cache length after each crop

    def crop(cache, keep):
        helpers.speculative.crop_cache(cache, keep)
        lengths.append(cache.get_seq_length())

    monkeypatch.setattr(timing, "crop_cache", crop)
    timing.decode_step_seconds(model, 10, use_cache=True, repeats=2)
    assert lengths == [9, 9, 9]  # warm-up and 2 repeats: each back to the 9 prefilled positions


def test_both_interleaved_timers_are_one_loop(monkeypatch):
    import helpers.timing as timing

    calls, loop = [], timing._in_turn

    def spy(fns, rounds, *names):
        calls.append((list(fns), rounds))
        return loop(fns, rounds, *names)

    monkeypatch.setattr(timing, "_in_turn", spy)
    times = timing.interleaved_times({"a": lambda: None}, 2)
    best = timing.best_of_rounds({"a": lambda: 1.5, "b": lambda: 0.5}, rounds=3)
    assert calls == [(["a"], 2), (["a", "b"], 3)]  # both take their turns in the one loop
    assert len(times["a"]) == 2 and best == {"a": 1.5, "b": 0.5}
    with pytest.raises(TypeError, match="every value of fns must be callable"):
        timing.interleaved_times({"a": 1.0}, 2)  # and the one loop's checks


def test_time_call_keeps_the_minimum_or_median_of_its_timed_runs(clock):
    calls, costs = [], iter([9.0, 9.0, 3.0, 1.0, 2.0, 4.0, 8.0])  # 2 warm-up runs, then timed

    def fn():
        calls.append(1)
        clock.now += next(costs)

    assert time_call(fn, repeats=3, warmup=2) == 1.0  # the best of 3.0, 1.0, 2.0
    assert len(calls) == 5
    assert time_call(fn, repeats=2, warmup=0, stat="median") == 6.0  # of 4.0 and 8.0
    assert len(calls) == 7


def test_measurements_are_positive_and_finite():
    bw = measure_bandwidth(2**22, repeats=2)
    flops = measure_matmul_flops(64, repeats=2)
    assert math.isfinite(bw) and bw > 0
    assert math.isfinite(flops) and flops > 0


def test_torch_threads_is_restored_on_any_exit():
    from helpers.timing import torch_threads

    before = torch.get_num_threads()
    with pytest.raises(KeyboardInterrupt):  # Kernel -> Interrupt inside the block
        with torch_threads(before + 1):
            assert torch.get_num_threads() == before + 1
            raise KeyboardInterrupt
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="n=0 is out of range"):
        with torch_threads(0):
            pass


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda model: time_call(lambda: None, repeats=0), ValueError, r"repeats=0 .* >= 1"),
        (
            lambda model: time_call(lambda: None, stat="mean"),
            ValueError,
            r"stat='mean' must be one of \('min', 'median'\)",
        ),
        (
            lambda model: best_of_rounds({"a": lambda: 1.0}, rounds=0),
            ValueError,
            r"rounds=0 .* >= 1",
        ),
        (lambda model: best_of_rounds({}), TypeError, "measurements must be a non-empty dict"),
        (
            lambda model: best_of_rounds({"a": 1.0}),
            TypeError,
            "every value of measurements must be callable",
        ),
        (lambda model: time_call(3), TypeError, "fn must be callable"),
        (lambda model: measure_bandwidth(10), ValueError, r"n_bytes=10 .* 1048576\.\."),
        (
            lambda model: decode_step_seconds(model, 300, use_cache=True),
            ValueError,
            r"seq_len=300 .* 1\.\.256",
        ),
        (
            lambda model: count_positions("model").__enter__(),
            TypeError,
            "model must be a torch.nn.Module",
        ),
    ],
)
def test_bad_input_raises_clear_errors(bundled, call, exc, match):
    with pytest.raises(exc, match=match):
        call(bundled[0])
