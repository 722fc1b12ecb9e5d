"""What inference costs: the KV cache, FLOPs and bytes per step, and measured time.

Notebook 05 writes each idea out by hand and then uses these helpers for the curves.

- Counting work: ``positions_per_step`` (the formula) and ``count_positions`` (a hook that
  records how many positions each forward pass really processes).
- The KV cache: ``kv_cache_bytes`` (2 x layers x heads x head_dim x sequence x batch x bytes),
  checked against the real tensors with ``cache_tensor_bytes`` / ``cache_shapes``.
- A cost model from a GPT-2 config: ``parameter_count``, ``matmul_flops_per_token``,
  ``step_cost`` (FLOPs, bytes moved and their ratio, the arithmetic intensity, of one forward
  pass), ``gpt2_family_config`` for the published GPT-2 sizes (built locally, no download).
- Measurement: ``time_call`` (min or median of a few runs), ``best_of_rounds`` (interleaved
  runs of timings that will be compared), ``measure_bandwidth``,
  ``measure_matmul_flops``, ``decode_step_seconds`` and ``tokens_per_second_bound``
  (bandwidth / bytes read per token).
- ``greedy_decode``: a lean greedy loop with or without the cache, returning every step's logits
  (no per-step bookkeeping, so that timing it measures the model, not the trace).

The cost model counts the multiply-adds of the matrix products (2 FLOPs each), which is what
``torch.utils.flop_counter`` counts too; layer norms, GELU and softmax add a few percent and are
left out. Bytes are those of the weights and the KV cache; activations (a few vectors per token)
are left out.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

#: Bytes per stored number for the common formats.
BYTES_PER_VALUE = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}

#: Published architectures of OpenAI's GPT-2 models (width, layers, heads); the rest is
#: GPT2Config's defaults (vocabulary 50257, window 1024).
GPT2_FAMILY = {
    "gpt2": {"n_embd": 768, "n_layer": 12, "n_head": 12},
    "gpt2-medium": {"n_embd": 1024, "n_layer": 24, "n_head": 16},
    "gpt2-large": {"n_embd": 1280, "n_layer": 36, "n_head": 20},
    "gpt2-xl": {"n_embd": 1600, "n_layer": 48, "n_head": 25},
}


# --------------------------------------------------------------------------- validation
def _check_int(name: str, value, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise ValueError(f"{name}={value} is out of range: it must be >= {minimum}{upper}")
    return value


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if math.isnan(value) or not 0 < value < math.inf:
        raise ValueError(f"{name}={value} must be a finite number > 0")
    return float(value)


def _bytes_per_value(value) -> int:
    if isinstance(value, str):
        if value not in BYTES_PER_VALUE:
            raise ValueError(f"bytes_per_value={value!r} must be one of {sorted(BYTES_PER_VALUE)}")
        return BYTES_PER_VALUE[value]
    allowed = sorted(set(BYTES_PER_VALUE.values()))
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"bytes_per_value must be an int or a dtype name, got {value!r}")
    if value not in allowed:
        raise ValueError(f"bytes_per_value={value} must be one of {allowed} (or a dtype name)")
    return value


@dataclass(frozen=True)
class Shape:
    """The numbers of a GPT-2 config that the cost model needs."""

    n_layer: int
    n_head: int
    n_embd: int
    n_inner: int  # width of the MLP's hidden layer (4 x n_embd in GPT-2)
    vocab_size: int
    n_positions: int

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


def model_shape(config) -> Shape:
    """The ``Shape`` of a GPT-2 config, or of a model (its ``.config``)."""
    config = getattr(config, "config", config)  # a model -> its config
    names = ("n_layer", "n_head", "n_embd", "vocab_size", "n_positions")
    missing = [n for n in names if not hasattr(config, n)]
    if missing:
        raise TypeError(
            f"expected a GPT-2 config or model (with {', '.join(names)}), got "
            f"{type(config).__name__} without {missing}"
        )
    n_embd, n_head = int(config.n_embd), int(config.n_head)
    if n_head < 1 or n_embd % n_head:
        raise ValueError(f"n_embd={n_embd} must be a multiple of n_head={n_head}")
    n_inner = getattr(config, "n_inner", None) or 4 * n_embd
    return Shape(int(config.n_layer), n_head, n_embd, int(n_inner), int(config.vocab_size),
                 int(config.n_positions))  # fmt: skip


def gpt2_family_config(name: str = "gpt2"):
    """A ``GPT2Config`` with the published size of OpenAI's ``name`` (built here, no download)."""
    from transformers import GPT2Config

    if name not in GPT2_FAMILY:
        raise ValueError(f"name={name!r} must be one of {list(GPT2_FAMILY)}")
    return GPT2Config(**GPT2_FAMILY[name])


# --------------------------------------------------------------------------- counting work
def positions_per_step(prompt_len: int, new_tokens: int, *, use_cache: bool) -> list[int]:
    """Positions the model processes in each forward pass of greedy generation.

    Without a cache, the pass that chooses new token i re-runs the whole sequence so far,
    ``prompt_len + i`` positions; with a cache, the first pass runs the prompt (prefill) and
    every later pass only the one new token. (The last new token is never fed back.)
    """
    _check_int("prompt_len", prompt_len, 1)
    _check_int("new_tokens", new_tokens, 0)
    if not isinstance(use_cache, bool):
        raise TypeError(f"use_cache must be True or False, got {use_cache!r}")
    if use_cache:
        return [prompt_len if i == 0 else 1 for i in range(new_tokens)]
    return [prompt_len + i for i in range(new_tokens)]


@contextmanager
def count_positions(model) -> Iterator[list[int]]:
    """Record the sequence length of every forward pass of ``model`` inside the ``with`` block.

    >>> with count_positions(model) as seen:
    ...     model(ids)
    >>> seen  # [ids.shape[1]]
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    seen: list[int] = []

    def hook(module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None:
            raise ValueError("count_positions needs input_ids (got inputs_embeds or nothing)")
        seen.append(int(ids.shape[-1]))  # (B, T) -> T

    handle = model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield seen
    finally:
        handle.remove()


# --------------------------------------------------------------------------- the KV cache
def kv_cache_bytes(config, seq_len: int, *, batch_size: int = 1, bytes_per_value=4) -> int:
    """Bytes of a KV cache holding ``seq_len`` positions.

    Every layer keeps one key and one value vector per head and position:
    2 x n_layer x n_head x head_dim x seq_len x batch_size x bytes_per_value.
    """
    s = model_shape(config)
    _check_int("seq_len", seq_len, 0, s.n_positions)
    _check_int("batch_size", batch_size, 1)
    b = _bytes_per_value(bytes_per_value)
    return 2 * s.n_layer * s.n_head * s.head_dim * seq_len * batch_size * b


def cache_shapes(cache) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(keys shape, values shape) of every layer of a ``DynamicCache``; each (B, heads, T, hd)."""
    layers = getattr(cache, "layers", None)
    if layers is None:
        raise TypeError(f"expected a transformers Cache (out.cache), got {type(cache).__name__}")
    return [(tuple(layer.keys.shape), tuple(layer.values.shape)) for layer in layers]


def cache_tensor_bytes(cache) -> int:
    """Bytes the cache's key and value tensors really occupy, summed over layers."""
    if getattr(cache, "layers", None) is None:
        raise TypeError(f"expected a transformers Cache (out.cache), got {type(cache).__name__}")
    return sum(
        t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values)
    )


# --------------------------------------------------------------------------- cost model
def parameter_count(config) -> int:
    """Parameters of a GPT-2 with this config (output head tied to the token embedding)."""
    s = model_shape(config)
    d, f = s.n_embd, s.n_inner
    per_layer = (
        2 * d  # ln_1
        + d * 3 * d + 3 * d  # attn.c_attn: q, k, v
        + d * d + d  # attn.c_proj
        + 2 * d  # ln_2
        + d * f + f  # mlp.c_fc
        + f * d + d  # mlp.c_proj
    )  # fmt: skip
    embeddings = s.vocab_size * d + s.n_positions * d  # wte (= lm_head), wpe
    return embeddings + s.n_layer * per_layer + 2 * d  # + ln_f


def matmul_flops_per_token(config) -> int:
    """FLOPs of the weight matrix products for one position: 2 x (every weight it multiplies).

    Per layer: q, k, v (3 d^2), attention output (d^2), MLP (2 d f); then the output head (V d).
    """
    s = model_shape(config)
    d, f = s.n_embd, s.n_inner
    return 2 * (s.n_layer * (4 * d * d + 2 * d * f) + s.vocab_size * d)


def attention_flops(config, new_tokens: int, past_len: int = 0) -> int:
    """FLOPs of q.k scores and the weighted sum of v for ``new_tokens`` queries.

    Each query meets ``past_len + new_tokens`` keys (the dense computation: masked scores are
    computed too, as PyTorch's kernels on the CPU do): 2 products x 2 FLOPs x d per pair.
    """
    s = model_shape(config)
    _check_int("new_tokens", new_tokens, 1, s.n_positions)
    _check_int("past_len", past_len, 0, s.n_positions - new_tokens)
    return 4 * s.n_layer * s.n_embd * new_tokens * (past_len + new_tokens)


@dataclass(frozen=True)
class StepCost:
    """Work and memory traffic of one forward pass."""

    tokens: int  # positions processed: batch_size x new_tokens
    flops: int
    weight_bytes: int  # every weight read once per pass, whatever the batch
    kv_read_bytes: int  # the cached keys/values of earlier positions
    kv_write_bytes: int  # the new positions' keys/values

    @property
    def bytes(self) -> int:
        return self.weight_bytes + self.kv_read_bytes + self.kv_write_bytes

    @property
    def intensity(self) -> float:
        """Arithmetic intensity: FLOPs per byte moved."""
        return self.flops / self.bytes


def weight_bytes_read(config, new_tokens: int = 1, bytes_per_value=4) -> int:
    """Bytes of weights one forward pass reads: all of them, but only the position-table rows
    it uses (the token table is read whole anyway, as the tied output head)."""
    s = model_shape(config)
    _check_int("new_tokens", new_tokens, 1, s.n_positions)
    b = _bytes_per_value(bytes_per_value)
    unused_rows = s.n_positions - new_tokens
    return (parameter_count(config) - unused_rows * s.n_embd) * b


def step_cost(config, *, new_tokens: int = 1, past_len: int = 0, batch_size: int = 1,
              bytes_per_value=4) -> StepCost:  # fmt: skip
    """FLOPs and bytes of one forward pass over ``new_tokens`` positions per sequence.

    Decode step: ``new_tokens=1, past_len=L`` (L positions already in the cache).
    Prefill, or the forward pass of training: ``new_tokens=T, past_len=0``.
    """
    s = model_shape(config)
    _check_int("new_tokens", new_tokens, 1, s.n_positions)
    _check_int("past_len", past_len, 0, s.n_positions - new_tokens)
    _check_int("batch_size", batch_size, 1)
    b = _bytes_per_value(bytes_per_value)
    flops = batch_size * (
        new_tokens * matmul_flops_per_token(config) + attention_flops(config, new_tokens, past_len)
    )
    return StepCost(
        tokens=batch_size * new_tokens,
        flops=flops,
        weight_bytes=weight_bytes_read(config, new_tokens, b),
        kv_read_bytes=kv_cache_bytes(config, past_len, batch_size=batch_size, bytes_per_value=b),
        kv_write_bytes=kv_cache_bytes(
            config, new_tokens, batch_size=batch_size, bytes_per_value=b
        ),  # fmt: skip
    )


def tokens_per_second_bound(bandwidth: float, bytes_per_token: float) -> float:
    """The most tokens per second a memory system of ``bandwidth`` bytes/s can feed, when each
    token needs ``bytes_per_token`` bytes read: bandwidth / bytes_per_token."""
    return _check_positive("bandwidth", bandwidth) / _check_positive(
        "bytes_per_token", bytes_per_token
    )


# --------------------------------------------------------------------------- measuring
STATS = ("min", "median")


def time_call(fn: Callable[[], object], *, repeats: int = 5, warmup: int = 1,
              stat: str = "min") -> float:  # fmt: skip
    """Wall-clock seconds of ``fn()``: the minimum (default) or median of ``repeats`` runs,
    after ``warmup`` untimed runs.

    Other programs on the machine can only slow a run down, never speed it up, so the minimum
    is the steadiest estimate of what the code itself costs; the median shows a typical run.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    _check_int("repeats", repeats, 1)
    _check_int("warmup", warmup, 0)
    if stat not in STATS:
        raise ValueError(f"stat={stat!r} must be one of {STATS}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) if stat == "min" else statistics.median(times)


def best_of_rounds(measurements: dict, rounds: int = 3) -> dict:
    """Run every zero-argument function of ``measurements`` (each returns seconds) ``rounds``
    times, interleaved, and keep each one's best. Timings that will be compared with each other
    are then taken side by side, so a burst of load elsewhere cannot favour one of them."""
    if not isinstance(measurements, dict) or not measurements:
        raise TypeError(
            "measurements must be a non-empty dict of name -> function returning seconds"
        )
    if not all(callable(f) for f in measurements.values()):
        raise TypeError("every value of measurements must be callable")
    _check_int("rounds", rounds, 1)
    best = dict.fromkeys(measurements, math.inf)
    for _ in range(rounds):
        for name, measure in measurements.items():
            best[name] = min(best[name], measure())
    return best


def measure_bandwidth(n_bytes: int = 2**27, *, repeats: int = 5) -> float:
    """Memory bandwidth in bytes/s: copy an ``n_bytes`` float32 tensor into another.

    A copy reads ``n_bytes`` and writes ``n_bytes``; the tensor must be much larger than the
    CPU's caches (the default, 128 MiB, is) or the figure measures the cache instead.
    """
    _check_int("n_bytes", n_bytes, 2**20, 2**32)
    src = torch.ones(n_bytes // 4)  # float32
    dst = torch.empty_like(src)
    seconds = time_call(lambda: dst.copy_(src), repeats=repeats)
    return 2 * src.numel() * 4 / seconds


def measure_matmul_flops(n: int = 1024, *, repeats: int = 3) -> float:
    """Arithmetic throughput in FLOP/s: an (n x n) @ (n x n) float32 product, 2 n^3 FLOPs."""
    _check_int("n", n, 16, 8192)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen)
    b = torch.randn(n, n, generator=gen)
    seconds = time_call(lambda: a @ b, repeats=repeats)
    return 2 * n**3 / seconds


def _window(model) -> int:
    from helpers.generation import context_window

    return context_window(model)


def _synced(fn: Callable[[], object], device: torch.device) -> Callable[[], object]:
    """``fn`` followed by waiting for the GPU: CUDA calls return before the work is done."""
    if device.type != "cuda":
        return fn

    def run():
        fn()
        torch.cuda.synchronize(device)

    return run


@torch.no_grad()
def decode_step_seconds(model, seq_len: int, *, use_cache: bool, batch_size: int = 1,
                        repeats: int = 5, stat: str = "min") -> float:  # fmt: skip
    """Seconds to compute the next token when the sequence is ``seq_len`` tokens long.

    use_cache=True: ``seq_len - 1`` positions are already in the cache (filled beforehand, not
    timed) and the pass processes one new position per sequence. use_cache=False: the pass
    processes all ``seq_len`` positions. The token ids are random: time does not depend on them.
    ``repeats`` and ``stat`` are those of ``time_call``.
    """
    _check_int("seq_len", seq_len, 1, _window(model))
    _check_int("batch_size", batch_size, 1)
    if not isinstance(use_cache, bool):
        raise TypeError(f"use_cache must be True or False, got {use_cache!r}")
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (batch_size, seq_len), generator=gen)
    ids = ids.to(model.device)  # (B, T)
    if not use_cache:
        return time_call(_synced(lambda: model(ids, use_cache=False), ids.device),
                         repeats=repeats, stat=stat)  # fmt: skip
    if seq_len == 1:
        return time_call(_synced(lambda: model(ids, use_cache=True), ids.device),
                         repeats=repeats, stat=stat)  # fmt: skip
    cache = model(ids[:, :-1], use_cache=True).cache  # prefill seq_len - 1 positions

    def one_step():
        model(ids[:, -1:], cache=cache, use_cache=True)  # (B, 1): only the new position
        cache.crop(-1)  # drop it again, so every repeat sees the same cache length

    return time_call(_synced(one_step, ids.device), repeats=repeats, stat=stat)


@dataclass(frozen=True)
class Decoded:
    """The result of ``greedy_decode``."""

    new_ids: list[int]
    logits: torch.Tensor  # (new tokens, V): the scores each token was chosen from
    positions: list[int]  # positions processed by each forward pass


@torch.no_grad()
def greedy_decode(model, ids: torch.Tensor, max_new_tokens: int, *,
                  use_cache: bool = True) -> Decoded:  # fmt: skip
    """Greedy generation from ``ids`` (1, T), with or without the KV cache.

    The last new token is chosen but never fed back, so the model sees at most
    ``T + max_new_tokens - 1`` positions, which must fit its context window.
    """
    if not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.size(0) != 1:
        shape = tuple(ids.shape) if isinstance(ids, torch.Tensor) else type(ids).__name__
        raise ValueError(f"ids must be a (1, T) tensor of token ids, got {shape}")
    if ids.size(1) < 1:
        raise ValueError("ids is empty: give at least one token")
    _check_int("max_new_tokens", max_new_tokens, 0)
    if not isinstance(use_cache, bool):
        raise TypeError(f"use_cache must be True or False, got {use_cache!r}")
    window = _window(model)
    if ids.size(1) + max_new_tokens - 1 > window:
        raise ValueError(
            f"a {ids.size(1)}-token prompt plus max_new_tokens={max_new_tokens} needs "
            f"{ids.size(1) + max_new_tokens - 1} positions; the context window is {window}: "
            f"use max_new_tokens <= {window - ids.size(1) + 1}"
        )
    seq, cache = ids, None
    new_ids, logits_seen, positions = [], [], []
    for _ in range(max_new_tokens):
        if cache is None:  # uncached: the whole sequence; cached: the prompt once (prefill)
            fed = seq
        else:
            fed = seq[:, -1:]  # (1, 1): only the token chosen last
        out = model(fed, cache=cache, use_cache=use_cache)
        cache = out.cache if use_cache else None
        positions.append(fed.size(1))
        logits = out.logits[0, -1].float()  # (V,)
        token = int(torch.argmax(logits))
        new_ids.append(token)
        logits_seen.append(logits)
        seq = torch.cat([seq, seq.new_tensor([[token]])], dim=1)  # (1, T+1)
    vocab = model.config.vocab_size
    stacked = torch.stack(logits_seen) if logits_seen else torch.empty(0, vocab)
    return Decoded(new_ids, stacked, positions)
