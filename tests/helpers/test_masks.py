"""helpers.masks: causal and padding masks, attention by hand, and what breaks without a mask."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from helpers.attention import (
    attention_weights,
    batch_logits,
    hand_attention,
    influence,
)
from helpers.masks import (
    additive_mask,
    causal_mask,
    check_batch,
    combined_mask,
    no_causal_mask,
    pad_prompts,
    padding_mask,
    position_ids_from_mask,
)
from helpers.plots import attention_figure


def left_padded_mask(lengths, T):
    """(B, T) 1/0: row b has lengths[b] real tokens at its right end."""
    return torch.tensor([[0] * (T - n) + [1] * n for n in lengths])


# --------------------------------------------------------------------------- masks
@given(st.integers(1, 40))
def test_causal_mask_is_the_lower_triangle(T):
    mask = causal_mask(T)
    assert mask.shape == (T, T) and mask.dtype == torch.bool
    i, j = torch.meshgrid(torch.arange(T), torch.arange(T), indexing="ij")
    assert torch.equal(mask, j <= i)
    assert mask.sum(-1).tolist() == list(range(1, T + 1))  # position i sees i + 1 tokens


@given(st.lists(st.integers(1, 12), min_size=1, max_size=5))
def test_combined_mask_is_causal_and_padding(lengths):
    T = max(lengths)
    am = left_padded_mask(lengths, T)
    pad, both = padding_mask(am), combined_mask(am)
    assert pad.shape == both.shape == (len(lengths), 1, T, T)
    assert pad.dtype == both.dtype == torch.bool
    i, j = torch.meshgrid(torch.arange(T), torch.arange(T), indexing="ij")  # query, key
    for b in range(len(lengths)):
        real_key = am[b].bool()[None, :].expand(T, T)  # [i, j] = token j is real
        assert torch.equal(pad[b, 0], real_key)
        assert torch.equal(both[b, 0], (j <= i) & real_key)


@given(st.lists(st.integers(1, 12), min_size=1, max_size=5))
def test_left_padded_positions_start_at_zero(lengths):
    T = max(lengths)
    pos = position_ids_from_mask(left_padded_mask(lengths, T))
    assert pos.shape == (len(lengths), T)
    for b, n in enumerate(lengths):
        assert pos[b, T - n :].tolist() == list(range(n))  # as if the prompt ran alone
        assert (pos[b, : T - n] == 0).all()  # pads: any valid index, they are masked


def test_right_padded_positions_are_plain_column_numbers():
    am = torch.tensor([[1, 1, 1], [1, 1, 0]])
    assert position_ids_from_mask(am).tolist() == [[0, 1, 2], [0, 1, 1]]


def test_additive_mask_is_zero_where_allowed_and_most_negative_elsewhere():
    add = additive_mask(causal_mask(4))
    assert add.dtype == torch.float32
    assert (add.tril() == 0).all()
    assert (add.triu(1)[add.triu(1) != 0] == torch.finfo(torch.float32).min).all()
    assert add.triu(1).ne(0).sum() == 6
    assert torch.equal(no_causal_mask(2, 3), torch.zeros(2, 1, 3, 3))


# --------------------------------------------------------------------------- masks in the model
@pytest.mark.parametrize("impl", ["eager", "sdpa"])
def test_additive_causal_mask_reproduces_the_model_and_a_bool_one_does_not_in_eager(tiny, impl):
    from transformers import GPT2LMHeadModel

    model, _ = tiny
    config = model.config.__class__(**model.config.to_dict())
    config._attn_implementation = impl
    same = GPT2LMHeadModel(config).eval()
    same.load_state_dict(model.state_dict())
    ids = torch.randint(0, config.vocab_size, (1, 9), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        default = same(ids).logits
        additive = same(ids, attention_mask=additive_mask(causal_mask(9))[None, None]).logits
        boolean = same(ids, attention_mask=causal_mask(9)[None, None]).logits
    assert torch.allclose(default, additive, atol=1e-6)
    if impl == "eager":  # eager *adds* the mask: True/False become +1/+0, nothing is masked
        assert (default - boolean).abs().max() > 1e-3
    else:
        assert torch.allclose(default, boolean, atol=1e-6)
    # does an earlier position see a change of the last token through the boolean causal mask?
    changed = ids.clone()
    changed[0, -1] = (ids[0, -1] + 1) % config.vocab_size
    with torch.no_grad():
        moved = same(changed, attention_mask=causal_mask(9)[None, None]).logits - boolean
        all_true = same(ids, attention_mask=torch.ones(1, 1, 9, 9, dtype=torch.bool)).logits
        zeros = same(ids, attention_mask=no_causal_mask(1, 9)).logits
    leaks = moved[0, :-1].abs().max() > 1e-5
    assert leaks == (impl == "eager")  # eager: the future stays visible; SDPA: it is hidden
    assert torch.allclose(all_true, zeros, atol=1e-5)  # all-True: no mask in either (+1 per row)


def test_combined_4d_mask_equals_the_2d_attention_mask(eager):
    model, tok = eager
    batch = pad_prompts(tok, ["To be, or not to be", "My lord", "O"])
    am = batch["attention_mask"]
    pos = position_ids_from_mask(am)
    two_d = batch_logits(model, batch["input_ids"], am, pos)
    four_d = batch_logits(model, batch["input_ids"], additive_mask(combined_mask(am)), pos)
    real = am.bool()
    assert torch.allclose(two_d[real], four_d[real], atol=1e-5)


# --------------------------------------------------------------------------- bad input
def test_bad_lengths():
    with pytest.raises(ValueError, match=r"T=0 is out of range: .* range 1\.\.16384"):
        causal_mask(0)
    with pytest.raises(TypeError, match="must be an int"):
        causal_mask(3.0)
    with pytest.raises(ValueError, match="batch_size=0"):
        no_causal_mask(0, 3)


def test_mask_and_input_of_different_lengths(bundled):
    model, _ = bundled
    with pytest.raises(ValueError, match=r"attention_mask shape \(1, 4\) must equal .* \(1, 5\)"):
        check_batch(torch.zeros(1, 5, dtype=torch.long), torch.ones(1, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"position_ids shape \(1, 4\)"):
        batch_logits(
            model, torch.zeros(1, 5, dtype=torch.long), None, torch.zeros(1, 4, dtype=torch.long)
        )


def test_empty_batch(bundled):
    _, tok = bundled
    with pytest.raises(ValueError, match="empty list"):
        pad_prompts(tok, [])
    with pytest.raises(ValueError, match=r"batch is empty.*\(0, 3\)"):
        check_batch(torch.zeros(0, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="batch is empty"):
        combined_mask(torch.ones(0, 3))


def test_a_prompt_that_is_all_padding(bundled):
    _, tok = bundled
    with pytest.raises(ValueError, match=r"row\(s\) \[1\] .* all padding"):
        pad_prompts(tok, ["To be", ""])
    with pytest.raises(ValueError, match=r"row\(s\) \[0\] .* all padding"):
        position_ids_from_mask(torch.tensor([[0, 0], [1, 1]]))


def test_other_bad_input(bundled, eager):
    model, tok = bundled
    with pytest.raises(TypeError, match="list of str"):
        pad_prompts(tok, "To be")
    with pytest.raises(ValueError, match=r"side='middle' must be one of \('left', 'right'\)"):
        pad_prompts(tok, ["To be"], side="middle")
    with pytest.raises(ValueError, match="only 1 .* and 0"):
        padding_mask(torch.tensor([[1, 2]]))
    with pytest.raises(TypeError, match="bool tensor"):
        additive_mask(torch.ones(2, 2))
    ids = tok("To be", return_tensors="pt")["input_ids"]
    with pytest.raises(ValueError, match='attn_implementation="eager"'):
        attention_weights(model, ids)
    with pytest.raises(
        ValueError, match=r"layer=4 is out of range: it must be in the range 0\.\.3"
    ):
        hand_attention(eager[0], ids, 4)
    with pytest.raises(
        ValueError, match=r"replacement_id=4096 is outside the vocabulary 0\.\.4095"
    ):
        influence(model, ids, 4096)
    with pytest.raises(ValueError, match="token labels for T="):
        attention_figure(torch.zeros(1, 1, 3, 3), ["a", "b"])


def test_a_4d_mask_must_fit_the_input(eager):
    model, _ = eager
    ids = torch.zeros(1, 5, dtype=torch.long)
    with pytest.raises(ValueError, match=r"must have shape \(batch, 1, T, T\) = \(1, 1, 5, 5\)"):
        attention_weights(model, ids, no_causal_mask(1, 4))
    with pytest.raises(ValueError, match=r"\(1, 1, 5, 5\) .* got \(2, 1, 5, 5\)"):
        influence(model, ids, 0, no_causal_mask(2, 5))
