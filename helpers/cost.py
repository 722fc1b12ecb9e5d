"""What inference costs, counted: parameters, FLOPs, bytes, the KV cache.

Taught in notebook 05 (section 1, positions per step; section 2, the cache's size; sections
4-6, FLOPs and bytes per step and the bandwidth bound); measuring is ``helpers.timing``.

- ``positions_per_step``: positions each forward pass of greedy generation processes.
- The KV cache: ``kv_cache_bytes`` (2 x layers x kv_heads x head_dim x sequence x batch x bytes;
  GPT-2 keeps a key and a value for every head, multi-query and grouped-query attention for fewer,
  ``kv_bytes_per_token``), checked against the real tensors with ``cache_tensor_bytes`` /
  ``cache_shapes``.
- A cost model from a GPT-2 config: ``parameter_count``, ``matmul_flops_per_token``,
  ``attention_flops``, ``step_cost`` (FLOPs, bytes moved and their ratio, the arithmetic
  intensity, of one forward pass), ``gpt2_family_config`` for the published GPT-2 sizes.
- ``tokens_per_second_bound``: bandwidth / bytes read per token; ``roofline_seconds``: the
  shortest time a chip can take for a step, max(bytes / bandwidth, FLOPs / FLOP rate);
  ``intensity_ceiling``: the FLOPs per byte a long pass approaches; ``same_pass``: a decode batch
  and a prompt's prefill in one pass, as servers run them.

The cost model counts the multiply-adds of the matrix products (2 FLOPs each), which is what
``torch.utils.flop_counter`` counts too; layer norms, GELU and softmax add a few percent and are
left out. Bytes are those of the weights, the KV cache and the activations that enter and leave
every matrix product and the attention (``activation_bytes``: the least any implementation moves,
with the element-wise steps fused into their neighbours; PyTorch, running one operation at a time,
moves about twice that). ``step_cost(..., logits_positions=1)`` counts a prefill as ``generate``
runs it: the output head only for the last position (transformers' ``logits_to_keep``).
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers._checks import BadType, BadValue, check_bool, check_int, check_positive

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
            raise BadValue(f"bytes_per_value={value!r} must be one of {sorted(BYTES_PER_VALUE)}")
        return BYTES_PER_VALUE[value]
    allowed = sorted(set(BYTES_PER_VALUE.values()))
    check_int("bytes_per_value", value)
    if value not in allowed:
        raise BadValue(f"bytes_per_value={value} must be one of {allowed} (or a dtype name)")
    return value


@dataclass(frozen=True)
class Shape:
    """The numbers of a model's config that the cost model needs.

    GPT-2: every head has its own keys and values, a 2-matrix MLP, the output head tied to the
    token table, a learned position table. The other defaults describe a Llama-style model
    (``LLAMA3_8B``): grouped-query attention, a gated 3-matrix MLP, an untied head, no table."""

    n_layer: int
    n_head: int
    n_embd: int
    n_inner: int  # width of the MLP's hidden layer (4 x n_embd in GPT-2)
    vocab_size: int
    n_positions: int
    kv_heads: int = 0  # key/value heads; 0: one per head (GPT-2)
    gated_mlp: bool = False  # Llama's MLP: gate and up (d -> f, twice), then down (f -> d)
    tied_head: bool = True  # the output head is the token table (GPT-2) or its own matrix
    position_table: bool = True  # learned positions (GPT-2) or rotary ones, without weights
    biases_and_layernorm: bool = True  # GPT-2: biases and 2-vector layer norms; Llama: neither

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @property
    def n_kv_head(self) -> int:
        return self.kv_heads or self.n_head


#: Llama 3 8B's published shape (Meta, "The Llama 3 Herd of Models", 2024, table 3, and the
#: model's config.json): 32 layers, width 4096, 32 query heads sharing 8 key/value heads, MLP
#: width 14336, vocabulary 128256, a window of 8192 tokens.
LLAMA3_8B = Shape(
    n_layer=32,
    n_head=32,
    n_embd=4096,
    n_inner=14336,
    vocab_size=128256,
    n_positions=8192,
    kv_heads=8,
    gated_mlp=True,
    tied_head=False,
    position_table=False,
    biases_and_layernorm=False,
)


def model_shape(config) -> Shape:
    """The ``Shape`` of a GPT-2 config, or of a model (its ``.config``); a ``Shape`` as it is."""
    if isinstance(config, Shape):
        return config
    config = getattr(config, "config", config)  # a model -> its config
    names = ("n_layer", "n_head", "n_embd", "vocab_size", "n_positions")
    missing = [n for n in names if not hasattr(config, n)]
    if missing:
        raise BadType(
            f"expected a GPT-2 config or model (with {', '.join(names)}), got "
            f"{type(config).__name__} without {missing}"
        )
    n_embd, n_head = int(config.n_embd), int(config.n_head)
    if n_head < 1 or n_embd % n_head:
        raise BadValue(f"n_embd={n_embd} must be a multiple of n_head={n_head}")
    n_inner = getattr(config, "n_inner", None) or 4 * n_embd
    return Shape(
        int(config.n_layer),
        n_head,
        n_embd,
        int(n_inner),
        int(config.vocab_size),
        int(config.n_positions),
    )


def gpt2_family_config(name: str = "gpt2"):
    """A ``GPT2Config`` with the published size of OpenAI's ``name`` (built here, no download)."""
    from transformers import GPT2Config

    if name not in GPT2_FAMILY:
        raise BadValue(f"name={name!r} must be one of {list(GPT2_FAMILY)}")
    return GPT2Config(**GPT2_FAMILY[name])


# --------------------------------------------------------------------------- counting work
#: The most new tokens ``positions_per_step`` lists (one int per forward pass): 1000x the
#: 1024-token window of the largest GPT-2, so a slip of the finger cannot fill the memory.
MAX_COUNTED_TOKENS = 10**6


def positions_per_step(prompt_len: int, new_tokens: int, *, use_cache: bool) -> list[int]:
    """Positions the model processes in each forward pass of greedy generation.

    Without a cache, the pass that chooses new token i re-runs the whole sequence so far,
    ``prompt_len + i`` positions; with a cache, the first pass runs the prompt (prefill) and
    every later pass only the one new token. (The last new token is never fed back.)
    """
    check_int("prompt_len", prompt_len, 1)
    why = "one int per forward pass; 1000x the 1024-token window of the largest GPT-2"
    check_int("new_tokens", new_tokens, 0, MAX_COUNTED_TOKENS, why=why)
    if check_bool("use_cache", use_cache):
        return [prompt_len if i == 0 else 1 for i in range(new_tokens)]
    return [prompt_len + i for i in range(new_tokens)]


# --------------------------------------------------------------------------- the KV cache
def kv_bytes_per_token(n_layer: int, kv_heads: int, head_dim: int, bytes_per_value=2) -> int:
    """Bytes one position adds to a sequence's KV cache: 2 x n_layer x kv_heads x head_dim x bytes.

    ``kv_heads`` is the number of key/value heads: every attention head in GPT-2 (multi-head
    attention), one shared by all query heads (multi-query attention), or a few, each shared by a
    group of query heads (grouped-query attention, as in Llama 3)."""
    check_int("n_layer", n_layer, 1)
    check_int("kv_heads", kv_heads, 1)
    check_int("head_dim", head_dim, 1)
    return 2 * n_layer * kv_heads * head_dim * _bytes_per_value(bytes_per_value)


def kv_cache_bytes(
    config, seq_len: int, *, batch_size: int = 1, bytes_per_value=4, kv_heads: int | None = None
) -> int:
    """Bytes of a KV cache holding ``seq_len`` positions.

    Every layer keeps one key and one value vector per key/value head and position:
    2 x n_layer x kv_heads x head_dim x seq_len x batch_size x bytes_per_value. GPT-2 has a
    key/value head for every head (``kv_heads=None``); pass fewer (a divisor of n_head) for the
    cache the same shape would need with grouped-query (or, with 1, multi-query) attention. A
    ``Shape`` with ``kv_heads`` (``LLAMA3_8B``) uses its own.
    """
    s = model_shape(config)
    check_int("seq_len", seq_len, 0, s.n_positions)
    check_int("batch_size", batch_size, 1)
    kv_heads = s.n_kv_head if kv_heads is None else check_int("kv_heads", kv_heads, 1, s.n_head)
    if s.n_head % kv_heads:
        raise BadValue(
            f"kv_heads={kv_heads} must divide n_head={s.n_head} (heads share K/V in equal groups)"
        )
    per_token = kv_bytes_per_token(s.n_layer, kv_heads, s.head_dim, bytes_per_value)
    return per_token * seq_len * batch_size


def cache_shapes(cache) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(keys shape, values shape) of every layer of a ``DynamicCache``; each (B, heads, T, hd)."""
    layers = getattr(cache, "layers", None)
    if layers is None:
        raise BadType(f"expected a transformers Cache (out.cache), got {type(cache).__name__}")
    return [(tuple(layer.keys.shape), tuple(layer.values.shape)) for layer in layers]


def cache_tensor_bytes(cache) -> int:
    """Bytes the cache's key and value tensors really occupy, summed over layers."""
    if getattr(cache, "layers", None) is None:
        raise BadType(f"expected a transformers Cache (out.cache), got {type(cache).__name__}")
    return sum(
        t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values)
    )


# --------------------------------------------------------------------------- cost model
def parameter_count(config) -> int:
    """Parameters of a model of this shape (GPT-2: output head tied to the token embedding)."""
    s = model_shape(config)
    d, f, kv = s.n_embd, s.n_inner, s.n_kv_head * s.head_dim
    per_layer = (
        d * (d + 2 * kv)  # q, k, v (GPT-2's c_attn: d -> 3d)
        + d * d  # attention output (c_proj)
        + (3 if s.gated_mlp else 2) * d * f  # MLP (c_fc, c_proj; Llama: gate, up, down)
    )
    if s.biases_and_layernorm:
        per_layer += (d + 2 * kv) + d + f + d + 2 * 2 * d  # biases; ln_1, ln_2 (weight, bias)
    else:
        per_layer += 2 * d  # two RMS norms (a weight each)
    embeddings = s.vocab_size * d * (1 if s.tied_head else 2)  # token table (+ output head)
    embeddings += s.n_positions * d if s.position_table else 0  # GPT-2's wpe
    final_norm = 2 * d if s.biases_and_layernorm else d
    return embeddings + s.n_layer * per_layer + final_norm


def matmul_flops_per_token(config) -> int:
    """FLOPs of the weight matrix products for one position: 2 x (every weight it multiplies).

    Per layer: q, k, v (d^2 + 2 d kv, 3 d^2 in GPT-2), attention output (d^2), MLP (2 d f, gated:
    3 d f); then the output head (V d).
    """
    s = model_shape(config)
    d, f, kv = s.n_embd, s.n_inner, s.n_kv_head * s.head_dim
    per_layer = 2 * d * d + 2 * d * kv + (3 if s.gated_mlp else 2) * d * f
    return 2 * (s.n_layer * per_layer + s.vocab_size * d)


def attention_flops(config, new_tokens: int, past_len: int = 0) -> int:
    """FLOPs of q.k scores and the weighted sum of v for ``new_tokens`` queries.

    Each query meets ``past_len + new_tokens`` keys (the dense computation: masked scores are
    computed too, as PyTorch's kernels on the CPU do): 2 products x 2 FLOPs x d per pair.
    """
    s = model_shape(config)
    check_int("new_tokens", new_tokens, 1, s.n_positions)
    check_int("past_len", past_len, 0, s.n_positions - new_tokens)
    return 4 * s.n_layer * s.n_embd * new_tokens * (past_len + new_tokens)  # n_head x head_dim = d


@dataclass(frozen=True)
class StepCost:
    """Work and memory traffic of one forward pass."""

    tokens: int  # positions processed: batch_size x new_tokens
    flops: int
    weight_bytes: int  # every weight read once per pass, whatever the batch
    kv_read_bytes: int  # the cached keys/values of earlier positions
    kv_write_bytes: int  # the new positions' keys/values
    activation_bytes: int = 0  # what enters and leaves each matrix product and the attention

    @property
    def bytes(self) -> int:
        return self.weight_bytes + self.kv_read_bytes + self.kv_write_bytes + self.activation_bytes

    @property
    def intensity(self) -> float:
        """Arithmetic intensity: FLOPs per byte moved."""
        return self.flops / self.bytes


def weight_bytes_read(config, new_tokens: int = 1, bytes_per_value=4) -> int:
    """Bytes of weights one forward pass reads: all of them, but only the position-table rows
    it uses (GPT-2's token table is read whole anyway, as the tied output head; an untied token
    table only for the rows of the tokens fed)."""
    s = model_shape(config)
    check_int("new_tokens", new_tokens, 1, s.n_positions)
    b = _bytes_per_value(bytes_per_value)
    unused_rows = s.n_positions - new_tokens if s.position_table else 0
    if not s.tied_head:  # the token table is then only looked up, a row per position
        unused_rows += max(s.vocab_size - new_tokens, 0)
    return (parameter_count(config) - unused_rows * s.n_embd) * b


def activation_bytes(
    config, tokens: int, bytes_per_value=4, logits_tokens: int | None = None
) -> int:
    """Bytes of activations a forward pass over ``tokens`` positions (all sequences) moves at least.

    Per position and layer, each matrix product reads its input and writes its output: c_attn
    d in, 3d out (q, k, v); the attention q, k, v in, d out; c_proj d in, d out; the MLP d in, f
    out, then f in, d out: 12d + 2f numbers. Then the output head, for ``logits_tokens`` of the
    positions (all by default): d in, a logit per vocabulary entry out. Layer norms, GELU and
    the residual additions are taken as fused into these (what fast kernels do). Run one
    operation at a time, as PyTorch's eager mode does, each reads its input and writes its
    output again: two layer norms (2d each), two residual additions (3d each) and GELU (2f) add
    10d + 2f numbers per layer and position, about as many again (not counted here).
    """
    s = model_shape(config)
    check_int("tokens", tokens, 1)
    logits_tokens = tokens if logits_tokens is None else logits_tokens
    check_int("logits_tokens", logits_tokens, 0, tokens)
    b = _bytes_per_value(bytes_per_value)
    d, f, kv = s.n_embd, s.n_inner, s.n_kv_head * s.head_dim
    # q,k,v: d in, d + 2kv out; attention: d + 2kv in, d out; output: d, d; MLP: d in, f out
    # (gated: 2f), f in, d out. GPT-2 (kv = d): 12d + 2f.
    per_layer = 8 * d + 4 * kv + (3 if s.gated_mlp else 2) * f
    return (s.n_layer * per_layer * tokens + (d + s.vocab_size) * logits_tokens) * b


def step_cost(
    config,
    *,
    new_tokens: int = 1,
    past_len: int = 0,
    batch_size: int = 1,
    bytes_per_value=4,
    logits_positions: int | None = None,
) -> StepCost:
    """FLOPs and bytes of one forward pass over ``new_tokens`` positions per sequence.

    Decode step: ``new_tokens=1, past_len=L`` (L positions already in the cache).
    Prefill, or the forward pass of training: ``new_tokens=T, past_len=0``.
    ``logits_positions``: how many of each sequence's positions get logits. ``None`` (all) is a
    plain ``model(ids)`` call, as training needs; ``1`` is a prefill as ``generate`` runs it
    (``logits_to_keep=1``: the output head only for the last position).
    """
    s = model_shape(config)
    check_int("new_tokens", new_tokens, 1, s.n_positions)
    check_int("past_len", past_len, 0, s.n_positions - new_tokens)
    check_int("batch_size", batch_size, 1)
    if logits_positions is None:
        logits_positions = new_tokens
    check_int("logits_positions", logits_positions, 0, new_tokens)
    b = _bytes_per_value(bytes_per_value)
    head_flops = 2 * s.vocab_size * s.n_embd  # the output head, per position with logits
    flops = batch_size * (
        new_tokens * (matmul_flops_per_token(config) - head_flops)
        + logits_positions * head_flops
        + attention_flops(config, new_tokens, past_len)
    )
    return StepCost(
        tokens=batch_size * new_tokens,
        flops=flops,
        weight_bytes=weight_bytes_read(config, new_tokens, b),
        kv_read_bytes=kv_cache_bytes(config, past_len, batch_size=batch_size, bytes_per_value=b),
        kv_write_bytes=kv_cache_bytes(config, new_tokens, batch_size=batch_size, bytes_per_value=b),
        activation_bytes=activation_bytes(
            config, batch_size * new_tokens, b, logits_tokens=batch_size * logits_positions
        ),
    )


def intensity_ceiling(config, new_tokens: int, bytes_per_value=4) -> float:
    """The FLOPs per byte a pass of ``new_tokens`` positions per sequence approaches as the
    batch grows, and never reaches: once many sequences share every weight read, each position
    brings its own FLOPs (the weights' and its attention's, which grow with ``new_tokens``) and
    its own bytes (its activations and the keys and values it writes)."""
    s = step_cost(config, new_tokens=new_tokens, bytes_per_value=bytes_per_value)
    return s.flops / (s.activation_bytes + s.kv_write_bytes)


def same_pass(*steps: StepCost) -> StepCost:
    """Several groups of positions run in one forward pass, as a server mixes a decode batch
    with a prompt's prefill (chunked prefill): FLOPs, cache and activation bytes add up, the
    weights are read once."""
    if not steps or not all(isinstance(s, StepCost) for s in steps):
        raise BadType("same_pass takes one or more StepCost (from step_cost)")
    return StepCost(
        tokens=sum(s.tokens for s in steps),
        flops=sum(s.flops for s in steps),
        weight_bytes=max(s.weight_bytes for s in steps),
        kv_read_bytes=sum(s.kv_read_bytes for s in steps),
        kv_write_bytes=sum(s.kv_write_bytes for s in steps),
        activation_bytes=sum(s.activation_bytes for s in steps),
    )


def tokens_per_second_bound(bandwidth: float, bytes_per_token: float) -> float:
    """The most tokens per second a memory system of ``bandwidth`` bytes/s can feed, when each
    token needs ``bytes_per_token`` bytes read: bandwidth / bytes_per_token."""
    return check_positive("bandwidth", bandwidth) / check_positive(
        "bytes_per_token", bytes_per_token
    )


def roofline_seconds(step: StepCost, bandwidth: float, flop_rate: float) -> float:
    """The least time a chip can spend on ``step``: it cannot move the bytes faster than
    ``bandwidth`` (bytes/s) nor do the FLOPs faster than ``flop_rate`` (FLOP/s), and at best it
    overlaps the two, so max(bytes / bandwidth, flops / flop_rate) (the "roofline" model)."""
    if not isinstance(step, StepCost):
        raise BadType(f"step must be a StepCost (from step_cost), got {type(step).__name__}")
    return max(
        step.bytes / check_positive("bandwidth", bandwidth),
        step.flops / check_positive("flop_rate", flop_rate),
    )
