"""helpers.attention: by hand == the model; the future leaks without the mask; padded batches."""

import pytest
import torch

from helpers.attention import (
    attention_weights,
    batch_logits,
    hand_attention,
    influence,
    model_attention_mask,
)
from helpers.masks import (
    additive_mask,
    causal_mask,
    combined_mask,
    no_causal_mask,
    pad_prompts,
    position_ids_from_mask,
)

PROMPT_SETS = [
    ["To be, or not to be", "My lord", "O"],
    ["ROMEO:\nBut soft, what light through yonder window breaks?", "KING:\nMy"],
    ["模型一次生成一个词元", "Now is the winter of our discontent", "Ay"],
    ["A", "B"],  # single tokens: nothing to pad
]


# --------------------------------------------------------------------------- attention by hand
@pytest.mark.parametrize("prompt", ["To be, or not to be", "模型", "A"])
def test_hand_attention_matches_the_model(eager, prompt):
    model, tok = eager
    ids = tok(prompt, return_tensors="pt")["input_ids"]
    T = ids.size(1)
    weights = attention_weights(model, ids)  # (L, 1, H, T, T)
    assert weights.shape == (model.config.n_layer, 1, model.config.n_head, T, T)
    for layer in range(model.config.n_layer):
        hand = hand_attention(model, ids, layer)
        assert torch.allclose(hand.weights, weights[layer, 0], atol=1e-6)
        assert torch.allclose(hand.output, hand.model_output, atol=1e-5)
        assert (hand.weights.triu(1) == 0).all()  # nothing above the diagonal
        assert torch.allclose(hand.weights.sum(-1), torch.ones(1), atol=1e-6)
        assert torch.isinf(hand.masked.triu(1)[:, ~causal_mask(T)]).all()


@pytest.mark.parametrize(
    "switches",
    [
        {},
        {"scale_attn_by_inverse_layer_idx": True},
        {"scale_attn_weights": False},
        {"reorder_and_upcast_attn": True},
    ],
    ids=["GPT-2", "scaled by 1/(layer + 1)", "unscaled", "reordered and upcast"],
)
def test_hand_attention_follows_the_configs_scaling(switches):
    """hand_attention == the model's own attention for every scaling a GPT-2 config can ask for
    (load_model refuses the first two for the notebooks, whose own hand-written code assumes
    GPT-2's; the helper still computes them right)."""
    from transformers import GPT2LMHeadModel

    from helpers.models import tiny_gpt2_config

    torch.manual_seed(0)
    config = tiny_gpt2_config(
        64, n_layer=3, n_head=2, n_embd=16, n_positions=16, attn_implementation="eager", **switches
    )
    model = GPT2LMHeadModel(config).eval()
    ids = torch.randint(0, 64, (1, 9), generator=torch.Generator().manual_seed(1))
    weights = attention_weights(model, ids)  # (L, 1, H, T, T)
    for layer in range(3):
        hand = hand_attention(model, ids, layer)
        assert torch.allclose(hand.weights, weights[layer, 0], atol=1e-6), layer
        assert torch.allclose(hand.output, hand.model_output, atol=1e-5), layer


# --------------------------------------------------------------------------- padding
@pytest.mark.parametrize("prompts", PROMPT_SETS)
@pytest.mark.parametrize("impl", ["eager", "sdpa"])
def test_left_padded_batch_equals_unbatched_runs(bundled, eager, prompts, impl):
    model, tok = eager if impl == "eager" else bundled
    batch = pad_prompts(tok, prompts, "left")
    am = batch["attention_mask"]
    logits = batch_logits(model, batch["input_ids"], am, position_ids_from_mask(am))
    for row, prompt in enumerate(prompts):
        ids = tok(prompt, return_tensors="pt")["input_ids"]
        alone = batch_logits(model, ids)[0]  # (n, V)
        assert torch.allclose(logits[row, -ids.size(1) :], alone, atol=1e-4), prompt


def test_left_padding_breaks_without_position_ids_or_attention_mask(eager):
    model, tok = eager
    prompts = PROMPT_SETS[0]
    batch = pad_prompts(tok, prompts, "left")
    ids, am = batch["input_ids"], batch["attention_mask"]
    short = 1  # "My lord": padded on the left
    n = int(am[short].sum())
    alone = batch_logits(model, ids[short : short + 1, -n:])[0]
    no_pos = batch_logits(model, ids, am)[short, -n:]
    no_mask = batch_logits(model, ids, None, position_ids_from_mask(am))[short, -n:]
    assert (no_pos - alone).abs().max() > 0.1
    assert (no_mask - alone).abs().max() > 0.1


def test_right_padding_reads_the_next_token_after_the_pads(eager):
    model, tok = eager
    prompts = PROMPT_SETS[0]
    batch = pad_prompts(tok, prompts, "right")
    am = batch["attention_mask"]
    logits = batch_logits(model, batch["input_ids"], am)
    lengths = am.sum(-1)
    for row, prompt in enumerate(prompts):
        alone = batch_logits(model, tok(prompt, return_tensors="pt")["input_ids"])[0, -1]
        last_real = logits[row, lengths[row] - 1]
        assert torch.allclose(last_real, alone, atol=1e-4)  # the right row is still there
        if lengths[row] < am.size(1):  # but logits[:, -1] sits on a pad token
            assert (logits[row, -1] - alone).abs().max() > 0.1


# --------------------------------------------------------------------------- leakage
def test_without_the_causal_mask_the_future_leaks_into_the_past(tiny):
    model, _ = tiny
    ids = torch.randint(1, 100, (1, 10), generator=torch.Generator().manual_seed(1))
    with_mask = influence(model, ids, replacement_id=0)
    without = influence(model, ids, replacement_id=0, attention_mask=no_causal_mask(1, 10))
    assert with_mask.shape == without.shape == (10, 10)
    past = torch.ones(10, 10, dtype=torch.bool).tril(-1)  # row k (changed), column t < k
    assert (with_mask[past] == 0).all()  # exactly: nothing before the change moves
    assert (without[past] > 1e-5).all()  # every earlier position moves
    assert (with_mask.diagonal() > 0).all() and (without.diagonal() > 0).all()


def test_the_bundled_model_leaks_too(eager):
    model, tok = eager
    ids = tok("To be, or not to be", return_tensors="pt")["input_ids"]
    T = ids.size(1)
    past = torch.ones(T, T, dtype=torch.bool).tril(-1)
    assert (influence(model, ids, 0)[past] == 0).all()
    assert (influence(model, ids, 0, no_causal_mask(1, T))[past] > 1e-3).all()


def test_the_model_builds_the_same_combined_mask(bundled, eager):
    for (model, _), additive in [(eager, True), (bundled, False)]:
        _, tok = bundled
        for prompts in PROMPT_SETS[:3]:
            batch = pad_prompts(tok, prompts)
            am = batch["attention_mask"]
            built = model_attention_mask(model, batch["input_ids"], am)
            ours = combined_mask(am)
            assert torch.equal(built, additive_mask(ours) if additive else ours)
