"""What inference costs, counted: parameters, FLOPs, bytes, the KV cache.

Taught in notebook 05 (section 1, positions per step; section 2, the cache's size; sections
4-6, FLOPs and bytes per step and the bandwidth bound); measuring is ``helpers.timing``.

- ``positions_per_step``: positions each forward pass of greedy generation processes.
- The KV cache: ``kv_cache_bytes`` (2 x layers x heads x head_dim x sequence x batch x bytes),
  checked against the real tensors with ``cache_tensor_bytes`` / ``cache_shapes``.
- A cost model from a GPT-2 config: ``parameter_count``, ``matmul_flops_per_token``,
  ``attention_flops``, ``step_cost`` (FLOPs, bytes moved and their ratio, the arithmetic
  intensity, of one forward pass), ``gpt2_family_config`` for the published GPT-2 sizes.
- ``tokens_per_second_bound``: bandwidth / bytes read per token.

The cost model counts the multiply-adds of the matrix products (2 FLOPs each), which is what
``torch.utils.flop_counter`` counts too; layer norms, GELU and softmax add a few percent and are
left out. Bytes are those of the weights and the KV cache; activations (a few vectors per token)
are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers._checks import check_bool, check_int, check_positive

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
def _bytes_per_value(value) -> int:
    if isinstance(value, str):
        if value not in BYTES_PER_VALUE:
            raise ValueError(f"bytes_per_value={value!r} must be one of {sorted(BYTES_PER_VALUE)}")
        return BYTES_PER_VALUE[value]
    allowed = sorted(set(BYTES_PER_VALUE.values()))
    check_int("bytes_per_value", value)
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
    check_int("prompt_len", prompt_len, 1)
    check_int("new_tokens", new_tokens, 0)
    if check_bool("use_cache", use_cache):
        return [prompt_len if i == 0 else 1 for i in range(new_tokens)]
    return [prompt_len + i for i in range(new_tokens)]


# --------------------------------------------------------------------------- the KV cache
def kv_cache_bytes(config, seq_len: int, *, batch_size: int = 1, bytes_per_value=4) -> int:
    """Bytes of a KV cache holding ``seq_len`` positions.

    Every layer keeps one key and one value vector per head and position:
    2 x n_layer x n_head x head_dim x seq_len x batch_size x bytes_per_value.
    """
    s = model_shape(config)
    check_int("seq_len", seq_len, 0, s.n_positions)
    check_int("batch_size", batch_size, 1)
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
    check_int("new_tokens", new_tokens, 1, s.n_positions)
    check_int("past_len", past_len, 0, s.n_positions - new_tokens)
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
    check_int("new_tokens", new_tokens, 1, s.n_positions)
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
    check_int("new_tokens", new_tokens, 1, s.n_positions)
    check_int("past_len", past_len, 0, s.n_positions - new_tokens)
    check_int("batch_size", batch_size, 1)
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
    return check_positive("bandwidth", bandwidth) / check_positive(
        "bytes_per_token", bytes_per_token
    )
