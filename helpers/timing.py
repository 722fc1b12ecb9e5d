"""Measuring: wall-clock timings that survive a busy machine, and counted forward passes.

Taught in notebook 05 (section 1, counting positions with a hook; sections 4-6, time per token,
prefill vs decode, measured bandwidth); reused by notebook 03 (section 6, the cost ratio), 06
(section 6, speed-up) and the benchmarks.

- ``count_positions``: a hook that records the positions of every forward pass of a model
  (``len(seen)`` is the number of passes): the one forward-pass counter;
- ``torch_threads``: a block on another number of threads, restored on any exit.
- ``timed`` (one call: seconds and result), ``time_call`` (min or median of a few runs),
  ``best_of_rounds`` and ``interleaved_times`` (timings that will be compared, taken in turn),
  ``decode_step_seconds`` (one decoding step at a given length), ``measure_bandwidth`` and
  ``measure_matmul_flops`` (what the machine can do).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from helpers._checks import BadType, BadValue, check_bool, check_choice, check_int
from helpers.generation import context_window
from helpers.speculative import crop_cache


@contextmanager
def count_positions(model) -> Iterator[list[int]]:
    """Record the sequence length of every forward pass of ``model`` inside the ``with`` block.

    >>> with count_positions(model) as seen:
    ...     model(ids)
    >>> seen  # [ids.shape[1]]
    """
    if not isinstance(model, torch.nn.Module):
        raise BadType(f"model must be a torch.nn.Module, got {type(model).__name__}")
    seen: list[int] = []

    def hook(module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None:
            raise BadValue("count_positions needs input_ids (got inputs_embeds or nothing)")
        seen.append(int(ids.shape[-1]))  # (B, T) -> T

    handle = model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield seen
    finally:
        handle.remove()


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the ``with`` block on ``n`` torch threads, then go back to the count before, on any
    exit (an error, or a cell interrupted with Kernel -> Interrupt)."""
    check_int("n", n, 1)
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


STATS = ("min", "median")


def time_call(
    fn: Callable[[], object], *, repeats: int = 5, warmup: int = 1, stat: str = "min"
) -> float:
    """Wall-clock seconds of ``fn()``: the minimum (default) or median of ``repeats`` runs,
    after ``warmup`` untimed runs.

    Other programs on the machine can only slow a run down, never speed it up, so the minimum
    is the steadiest estimate of what the code itself costs; the median shows a typical run.
    """
    if not callable(fn):
        raise BadType(f"fn must be callable, got {type(fn).__name__}")
    check_int("repeats", repeats, 1)
    check_int("warmup", warmup, 0)
    check_choice("stat", stat, STATS)
    for _ in range(warmup):
        fn()
    times = [timed(fn)[0] for _ in range(repeats)]
    return min(times) if stat == "min" else statistics.median(times)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """``(seconds, result)`` of one call of ``fn()``: for a benchmark that checks what it timed."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _in_turn(fns: dict, rounds: int, what: str, kind: str) -> dict[str, list]:
    """What every zero-argument function of ``fns`` returns, ``rounds`` times each, called in
    turn (a, b, c, a, b, c, ...), so that a burst of load elsewhere hits all of them alike: the
    one interleaving loop behind ``interleaved_times`` and ``best_of_rounds``."""
    if not isinstance(fns, dict) or not fns:
        raise BadType(f"{what} must be a non-empty dict of name -> {kind}")
    if not all(callable(f) for f in fns.values()):
        raise BadType(f"every value of {what} must be callable")
    check_int("rounds", rounds, 1)
    results: dict[str, list] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            results[name].append(fn())
    return results


def interleaved_times(fns: dict, rounds: int) -> dict[str, list[float]]:
    """Seconds of every zero-argument function of ``fns``, ``rounds`` times each, taken in turn."""
    if isinstance(fns, dict):
        fns = {name: (lambda f=f: timed(f)[0]) if callable(f) else f for name, f in fns.items()}
    return _in_turn(fns, rounds, "fns", "zero-argument function")


def best_of_rounds(measurements: dict, rounds: int = 3) -> dict:
    """Run every zero-argument function of ``measurements`` (each returns seconds) ``rounds``
    times, interleaved, and keep each one's best. Timings that will be compared with each other
    are then taken side by side, so a burst of load elsewhere cannot favour one of them."""
    seconds = _in_turn(measurements, rounds, "measurements", "function returning seconds")
    return {name: min(s) for name, s in seconds.items()}


def measure_bandwidth(n_bytes: int = 2**27, *, repeats: int = 5) -> float:
    """Memory bandwidth in bytes/s: copy an ``n_bytes`` float32 tensor into another.

    A copy reads ``n_bytes`` and writes ``n_bytes``; the tensor must be much larger than the
    CPU's caches (the default, 128 MiB, is) or the figure measures the cache instead.
    """
    check_int("n_bytes", n_bytes, 2**20, 2**32)
    src = torch.ones(n_bytes // 4)  # float32
    dst = torch.empty_like(src)
    seconds = time_call(lambda: dst.copy_(src), repeats=repeats)
    return 2 * src.numel() * 4 / seconds


def measure_matmul_flops(n: int = 1024, *, repeats: int = 3) -> float:
    """Arithmetic throughput in FLOP/s: an (n x n) @ (n x n) float32 product, 2 n^3 FLOPs."""
    check_int("n", n, 16, 8192)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen)
    b = torch.randn(n, n, generator=gen)
    seconds = time_call(lambda: a @ b, repeats=repeats)
    return 2 * n**3 / seconds


def synced(fn: Callable[[], object], device) -> Callable[[], object]:
    """``fn`` followed by waiting for the GPU: CUDA calls return before the work is done."""
    if device.type != "cuda":
        return fn

    def run():
        fn()
        torch.cuda.synchronize(device)

    return run


@torch.no_grad()
def decode_step_seconds(
    model,
    seq_len: int,
    *,
    use_cache: bool,
    batch_size: int = 1,
    repeats: int = 5,
    stat: str = "min",
) -> float:
    """Seconds to compute the next token when the sequence is ``seq_len`` tokens long.

    use_cache=True: ``seq_len - 1`` positions are already in the cache (filled beforehand, not
    timed) and the pass processes one new position per sequence. use_cache=False: the pass
    processes all ``seq_len`` positions. The token ids are random: time does not depend on them.
    ``repeats`` and ``stat`` are those of ``time_call``.
    """
    check_int("seq_len", seq_len, 1, context_window(model))
    check_int("batch_size", batch_size, 1)
    check_bool("use_cache", use_cache)
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (batch_size, seq_len), generator=gen)
    ids = ids.to(model.device)  # (B, T)
    if not use_cache:
        return time_call(
            synced(lambda: model(ids, use_cache=False), ids.device), repeats=repeats, stat=stat
        )
    if seq_len == 1:
        return time_call(
            synced(lambda: model(ids, use_cache=True), ids.device), repeats=repeats, stat=stat
        )
    cache = model(ids[:, :-1], use_cache=True).cache  # prefill seq_len - 1 positions

    def one_step():
        model(ids[:, -1:], cache=cache, use_cache=True)  # (B, 1): only the new position
        crop_cache(cache, seq_len - 1)  # drop it again, so every repeat sees the same cache

    return time_call(synced(one_step, ids.device), repeats=repeats, stat=stat)
