"""helpers.cost: counted FLOPs, bytes, parameters and cache sizes match torch and real tensors."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode
from transformers import GPT2LMHeadModel

from helpers.cost import (
    GPT2_FAMILY,
    LLAMA3_8B,
    activation_bytes,
    cache_shapes,
    cache_tensor_bytes,
    gpt2_family_config,
    intensity_ceiling,
    kv_bytes_per_token,
    kv_cache_bytes,
    matmul_flops_per_token,
    model_shape,
    parameter_count,
    positions_per_step,
    roofline_seconds,
    same_pass,
    step_cost,
    tokens_per_second_bound,
    weight_bytes_read,
)


def test_uncached_total_is_quadratic():
    for p, n in [(1, 1), (5, 40), (10, 1000)]:
        assert sum(positions_per_step(p, n, use_cache=False)) == n * p + n * (n - 1) // 2
        assert sum(positions_per_step(p, n, use_cache=True)) == p + n - 1


# --------------------------------------------------------------------------- cache size
@pytest.mark.parametrize("seq_len,batch", [(1, 1), (17, 1), (256, 1), (40, 3)])
def test_cache_size_formula_matches_the_real_tensors(bundled, seq_len, batch):
    model, _ = bundled
    s = model_shape(model)
    ids = torch.randint(
        0, s.vocab_size, (batch, seq_len), generator=torch.Generator().manual_seed(0)
    )
    with torch.no_grad():
        cache = model(ids, use_cache=True).cache
    assert cache_shapes(cache) == [((batch, s.n_head, seq_len, s.head_dim),) * 2] * s.n_layer
    assert cache_tensor_bytes(cache) == kv_cache_bytes(model, seq_len, batch_size=batch)
    assert kv_cache_bytes(model, seq_len, batch_size=batch) == (
        2 * s.n_layer * s.n_head * s.head_dim * seq_len * batch * 4
    )


@given(seq_len=st.integers(1, 31), batch=st.integers(1, 3), half=st.booleans())
def test_property_cache_grows_by_one_position_per_step(tiny, seq_len, batch, half):
    model, _ = tiny
    dtype = torch.float16 if half else torch.float32
    ids = torch.randint(0, 4096, (batch, seq_len), generator=torch.Generator().manual_seed(1))
    m = model.to(dtype)
    try:
        with torch.no_grad():
            cache = m(ids, use_cache=True).cache
            m(ids[:, -1:], cache=cache, use_cache=True)  # one more position, in place
    finally:
        model.to(torch.float32)
    b = 2 if half else 4
    assert cache.get_seq_length() == seq_len + 1
    assert cache_tensor_bytes(cache) == kv_cache_bytes(
        model, seq_len + 1, batch_size=batch, bytes_per_value=b
    )


def test_gpt2_124m_cache_from_its_config():
    cfg = gpt2_family_config("gpt2")
    assert (cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.n_positions) == (12, 12, 768, 1024)
    assert kv_cache_bytes(cfg, 1) == 2 * 12 * 768 * 4 == 73_728
    assert kv_cache_bytes(cfg, 1024, bytes_per_value="float16") == 37_748_736


# --------------------------------------------------------------------------- cost model
def test_parameter_count_matches_real_models(bundled, tiny):
    for model in (bundled[0], tiny[0]):
        assert parameter_count(model) == sum(p.numel() for p in model.parameters())
    for name in GPT2_FAMILY:
        with torch.device("meta"):  # no memory, no download
            model = GPT2LMHeadModel(gpt2_family_config(name))
        assert parameter_count(model) == sum(p.numel() for p in model.parameters())
    assert parameter_count(gpt2_family_config("gpt2")) == 124_439_808


@pytest.mark.parametrize("new_tokens,past_len", [(1, 0), (5, 0), (1, 9), (3, 20)])
def test_step_flops_equal_torch_flop_counter(tiny, new_tokens, past_len):
    model, _ = tiny
    model.set_attn_implementation("eager")  # SDPA's attention is not seen by the counter
    try:
        ids = torch.randint(
            0, 4096, (2, past_len + new_tokens), generator=torch.Generator().manual_seed(0)
        )
        with torch.no_grad():
            cache = model(ids[:, :past_len], use_cache=True).cache if past_len else None
            with FlopCounterMode(display=False) as counter:
                model(ids[:, past_len:], cache=cache, use_cache=True)
    finally:
        model.set_attn_implementation("sdpa")
    cost = step_cost(model, new_tokens=new_tokens, past_len=past_len, batch_size=2)
    assert counter.get_total_flops() == cost.flops


@pytest.mark.parametrize("new_tokens,past_len", [(1, 0), (6, 0), (4, 9)])
def test_prefill_as_generate_runs_it_equals_torch_flop_counter(tiny, new_tokens, past_len):
    """generate asks for the last position's logits only (logits_to_keep=1): step_cost with
    logits_positions=1 counts what torch counts; 0 and all positions too."""
    model, _ = tiny
    ids = torch.randint(
        0, 4096, (2, past_len + new_tokens), generator=torch.Generator().manual_seed(2)
    )
    model.set_attn_implementation("eager")
    try:
        counted = {}
        for keep in (0, 1, new_tokens):
            with torch.no_grad():
                cache = model(ids[:, :past_len], use_cache=True).cache if past_len else None
                with FlopCounterMode(display=False) as counter:
                    model(ids[:, past_len:], cache=cache, use_cache=True, logits_to_keep=keep)
            counted[keep] = counter.get_total_flops()
    finally:
        model.set_attn_implementation("sdpa")
    for keep, flops in counted.items():
        positions = new_tokens if keep == 0 else keep  # transformers: 0 keeps them all
        cost = step_cost(
            model,
            new_tokens=new_tokens,
            past_len=past_len,
            batch_size=2,
            logits_positions=positions,
        )
        assert flops == cost.flops


def test_logits_of_the_last_position_only():
    """Notebook 05: GPT-2 124M's 1024-token prefill, as generate runs it, leaves out 27 % of the
    FLOPs of a pass that computes every position's logits; the bytes of those logits go too."""
    cfg = gpt2_family_config("gpt2")
    every, last = (
        step_cost(cfg, new_tokens=1024),
        step_cost(cfg, new_tokens=1024, logits_positions=1),
    )
    assert round(1 - last.flops / every.flops, 2) == 0.27
    assert every.activation_bytes - last.activation_bytes == 1023 * (768 + 50257) * 4
    assert (last.weight_bytes, last.kv_write_bytes) == (every.weight_bytes, every.kv_write_bytes)
    assert step_cost(cfg, new_tokens=1, past_len=9, logits_positions=1) == step_cost(
        cfg, new_tokens=1, past_len=9
    )
    with pytest.raises(ValueError, match="logits_positions=2"):
        step_cost(cfg, new_tokens=1, logits_positions=2)


def test_step_cost_bytes_and_intensity(bundled):
    model, _ = bundled
    n = parameter_count(model)
    s = model_shape(model)
    decode = step_cost(model, new_tokens=1, past_len=100)
    assert decode.weight_bytes == 4 * (n - (s.n_positions - 1) * s.n_embd)
    assert decode.kv_read_bytes == kv_cache_bytes(model, 100)
    d, f, V = s.n_embd, s.n_inner, s.vocab_size
    assert decode.activation_bytes == 4 * (s.n_layer * (12 * d + 2 * f) + d + V)  # one position
    assert decode.bytes == (
        decode.weight_bytes + decode.kv_read_bytes + decode.kv_write_bytes + decode.activation_bytes
    )
    assert decode.flops == matmul_flops_per_token(model) + 4 * s.n_layer * s.n_embd * 101
    assert decode.intensity < 1  # about 2 FLOPs per 4-byte weight: memory-bound
    prefill = step_cost(model, new_tokens=256)
    assert prefill.intensity > 50 * decode.intensity
    assert prefill.activation_bytes == 256 * decode.activation_bytes  # they grow with the tokens
    assert prefill.activation_bytes > prefill.weight_bytes  # and dominate a long pass
    batched = step_cost(model, new_tokens=1, past_len=100, batch_size=16)
    assert batched.weight_bytes == decode.weight_bytes  # weights read once for the batch
    assert batched.intensity > 5 * decode.intensity


def test_decode_intensity_of_every_gpt2_is_below_one_flop_per_byte_in_float32():
    for name in GPT2_FAMILY:
        cfg = gpt2_family_config(name)
        assert 0.4 < step_cost(cfg, new_tokens=1, past_len=512).intensity < 1
        assert step_cost(cfg, new_tokens=1024).intensity > 100


def test_activations_cap_the_intensity_of_long_passes():
    """The reviewed figures: counting activations, GPT-2 124M's 1024-token prefill does ~190
    FLOPs per byte in float32 (weights only: ~586), its 8 x 1024 training forward ~265 (~4690)."""
    cfg = gpt2_family_config("gpt2")
    prefill = step_cost(cfg, new_tokens=1024)
    train = step_cost(cfg, new_tokens=1024, batch_size=8)
    assert round(prefill.intensity) == 190 and round(train.intensity) == 265
    assert round(prefill.flops / prefill.weight_bytes) == 586
    intensities = [step_cost(cfg, new_tokens=t).intensity for t in (16, 64, 256, 1024)]
    assert intensities == sorted(intensities)
    # the ceiling counts attention's FLOPs and the keys and values written: every batch stays
    # below it (the 8 x 1024 training row too, 265 < 281), and a big batch comes close
    for t in (16, 64, 256, 1024):
        ceiling = intensity_ceiling(cfg, t)
        assert all(step_cost(cfg, new_tokens=t, batch_size=b).intensity < ceiling for b in (1, 8))
        assert step_cost(cfg, new_tokens=t, batch_size=4096).intensity > 0.98 * ceiling
    assert round(intensity_ceiling(cfg, 1024), 1) == 280.6 and train.intensity < 280.6
    # without attention and the cache writes, the old ceiling (262) was below the training row
    assert matmul_flops_per_token(cfg) / activation_bytes(cfg, 1) < train.intensity
    # in 16 bits a 1024-token prefill is past every ridge point of notebook 05's table (max 295)
    for name in GPT2_FAMILY:
        prefill_16 = step_cost(gpt2_family_config(name), new_tokens=1024, bytes_per_value=2)
        assert prefill_16.intensity > 300


def test_llama3_8b_shape_parameters_and_grouped_query_cache():
    from transformers import LlamaConfig, LlamaForCausalLM

    s = LLAMA3_8B
    config = LlamaConfig(
        hidden_size=s.n_embd,
        intermediate_size=s.n_inner,
        num_hidden_layers=s.n_layer,
        num_attention_heads=s.n_head,
        num_key_value_heads=s.kv_heads,
        vocab_size=s.vocab_size,
        max_position_embeddings=s.n_positions,
        tie_word_embeddings=False,
    )
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    assert parameter_count(s) == sum(p.numel() for p in model.parameters()) == 8_030_261_248
    assert kv_bytes_per_token(32, 8, 128, bytes_per_value=2) == 131_072  # 128 KiB per token
    assert kv_cache_bytes(s, 1, bytes_per_value=2) == 131_072  # its own 8 K/V heads
    assert kv_cache_bytes(s, 1, bytes_per_value=2, kv_heads=32) == 4 * 131_072  # multi-head
    assert kv_cache_bytes(s, 1, bytes_per_value=2, kv_heads=1) == 131_072 // 8  # multi-query
    gpt2 = gpt2_family_config("gpt2")
    assert kv_cache_bytes(gpt2, 1, kv_heads=4) == kv_cache_bytes(gpt2, 1) // 3  # 12 heads, 4 groups
    with pytest.raises(ValueError, match="kv_heads=5 must divide n_head=12"):
        kv_cache_bytes(gpt2, 1, kv_heads=5)
    with pytest.raises(ValueError, match="kv_heads"):
        kv_cache_bytes(gpt2, 1, kv_heads=13)
    # the FLOPs of one position, counted from the shape: 2 x (every weight but the token table)
    assert matmul_flops_per_token(s) == 2 * (
        parameter_count(s) - s.vocab_size * s.n_embd - (2 * s.n_layer + 1) * s.n_embd
    )


def test_batching_against_the_ridge_point():
    """Notebook 05: in 16 bits a decode step does about B FLOPs per byte for a batch of B (short
    context), so a chip turns compute-bound near a batch equal to its ridge point."""
    s = LLAMA3_8B
    for b in (1, 8, 64):
        step = step_cost(s, new_tokens=1, past_len=127, batch_size=b, bytes_per_value=2)
        assert 0.85 * b < step.intensity < 1.05 * b
    laptop, h100 = (0.09e12, 1.0e12), (3.35e12, 989e12)  # bytes/s, FLOP/s (notebook 05's table)

    def compute_bound(batch, chip, context=128):
        step = step_cost(s, new_tokens=1, past_len=context - 1, batch_size=batch, bytes_per_value=2)
        return step.flops / chip[1] >= step.bytes / chip[0]

    assert not compute_bound(8, laptop) and compute_bound(16, laptop)
    assert not compute_bound(512, h100) and compute_bound(1024, h100)
    assert not compute_bound(1024, h100, context=1024)  # long contexts: the caches dominate
    step = step_cost(s, new_tokens=1, batch_size=4, bytes_per_value=2)
    assert roofline_seconds(step, *laptop) == max(step.bytes / laptop[0], step.flops / laptop[1])
    with pytest.raises(TypeError, match="StepCost"):
        roofline_seconds(1.0, *laptop)
    with pytest.raises(ValueError, match="flop_rate"):
        roofline_seconds(step, 1e9, 0)


def test_tokens_per_second_bound():
    assert tokens_per_second_bound(100e9, 500e6) == pytest.approx(200.0)
    assert tokens_per_second_bound(3.35e12, 2.5e8) == pytest.approx(13_400.0)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda model: kv_cache_bytes(model.config, -1),
            ValueError,
            r"seq_len=-1 .* in the range 0\.\.256",
        ),
        (lambda model: kv_cache_bytes(model.config, 257), ValueError, r"seq_len=257 .* 0\.\.256"),
        (lambda model: kv_cache_bytes(model.config, 2.5), TypeError, "seq_len must be an int"),
        (
            lambda model: kv_cache_bytes(model.config, 4, batch_size=0),
            ValueError,
            r"batch_size=0 .* >= 1",
        ),
        (
            lambda model: kv_cache_bytes(model.config, 4, bytes_per_value=3),
            ValueError,
            r"bytes_per_value=3 must be one of \[1, 2, 4\]",
        ),
        (
            lambda model: kv_cache_bytes(model.config, 4, bytes_per_value="float64"),
            ValueError,
            "bytes_per_value='float64' must be one of",
        ),
        (lambda model: parameter_count("gpt2"), TypeError, "expected a GPT-2 config or model"),
        (lambda model: gpt2_family_config("gpt5"), ValueError, "name='gpt5' must be one of"),
        (
            lambda model: step_cost(model.config, new_tokens=1, past_len=256),
            ValueError,
            r"past_len=256 .* 0\.\.255",
        ),
        (lambda model: weight_bytes_read(model.config, 0), ValueError, r"new_tokens=0 .* 1\.\.256"),
        (
            lambda model: tokens_per_second_bound(0, 10),
            ValueError,
            r"bandwidth=0 must be a finite number > 0",
        ),
        (
            lambda model: tokens_per_second_bound(1e9, float("nan")),
            ValueError,
            r"bytes_per_token=nan must be a finite number > 0",
        ),
        (
            lambda model: positions_per_step(0, 5, use_cache=True),
            ValueError,
            r"prompt_len=0 .* >= 1",
        ),
        (
            lambda model: positions_per_step(3, 5, use_cache="yes"),
            TypeError,
            "use_cache must be True or False",
        ),
        (
            lambda model: cache_tensor_bytes(torch.zeros(3)),
            TypeError,
            "expected a transformers Cache",
        ),
    ],
)
def test_bad_input_raises_clear_errors(bundled, call, exc, match):
    with pytest.raises(exc, match=match):
        call(bundled[0])


def test_training_is_compute_bound_only_for_wide_models_in_16_bits():
    """Notebook 07: against the H100's ridge point (989 / 3.35 = 295 FLOPs per byte, 16-bit),
    a 256-token training pass of the bundled model (width 256) is memory-bound; GPT-2 124M's
    8 x 1024-token pass (width 768) is compute-bound in 16 bits but not in float32."""
    from helpers.models import load_model

    ridge = 989 / 3.35
    ours, _ = load_model()
    assert step_cost(ours, new_tokens=256, batch_size=8, bytes_per_value=2).intensity < ridge
    assert intensity_ceiling(ours, 256, bytes_per_value=2) < ridge  # no batch can get it there
    gpt2 = gpt2_family_config("gpt2")
    assert step_cost(gpt2, new_tokens=1024, batch_size=8, bytes_per_value=2).intensity > ridge
    assert step_cost(gpt2, new_tokens=1024, batch_size=8).intensity < ridge  # float32


def test_serving_trades_time_per_token_for_tokens_per_second():
    """Notebook 05's serving table: Llama 3 8B on the H100 (16-bit, 1024-token prompts)."""
    h100 = (3.35e12, 989e12)

    def ms(step):
        return 1e3 * roofline_seconds(step, *h100)

    def decode(b):
        return step_cost(LLAMA3_8B, new_tokens=1, past_len=1024, batch_size=b, bytes_per_value=2)

    def prefill(n_tok=1024, past=0):
        return step_cost(
            LLAMA3_8B, new_tokens=n_tok, past_len=past, bytes_per_value=2, logits_positions=1
        )

    assert ms(decode(8)) < 1.1 * ms(decode(1))  # memory-bound: 8 tokens for the price of 1
    assert ms(decode(256)) > 3 * ms(decode(1))  # the caches: each step grows
    assert ms(same_pass(decode(1), prefill())) > 3 * ms(decode(1))  # a prompt joining stalls it
    assert ms(same_pass(decode(1), prefill(256, 768))) < 1.15 * ms(decode(1))  # a chunk rides
    joined = same_pass(decode(4), prefill())
    assert joined.weight_bytes == prefill().weight_bytes  # the weights are read once
    assert joined.flops == decode(4).flops + prefill().flops
    with pytest.raises(TypeError, match="StepCost"):
        same_pass()
