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
    model_attention_mask,
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
from helpers.models import load_model
from helpers.plots import attention_figure

PROMPT_SETS = [
    ["To be, or not to be", "My lord", "O"],
    ["ROMEO:\nBut soft, what light through yonder window breaks?", "KING:\nMy"],
    ["模型一次生成一个词元", "Now is the winter of our discontent", "Ay"],
    ["A", "B"],  # single tokens: nothing to pad
]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small models and short inputs: one thread is as fast, and not slowed by a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def eager():
    """The bundled model with eager attention (returns attention weights)."""
    return load_model(None, "cpu", attn_implementation="eager")


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
    batch = pad_prompts(tok, PROMPT_SETS[0])
    am = batch["attention_mask"]
    pos = position_ids_from_mask(am)
    two_d = batch_logits(model, batch["input_ids"], am, pos)
    four_d = batch_logits(model, batch["input_ids"], additive_mask(combined_mask(am)), pos)
    real = am.bool()
    assert torch.allclose(two_d[real], four_d[real], atol=1e-5)


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


# --------------------------------------------------------------------------- the figure
def test_attention_figure_has_one_heatmap_per_layer_and_head(eager):
    model, tok = eager
    ids = tok("To be, or not", return_tensors="pt")["input_ids"]
    w = attention_weights(model, ids)[:, 0]  # (L, H, T, T)
    fig = attention_figure(w, tok.convert_ids_to_tokens(ids[0]))
    L, H = model.config.n_layer, model.config.n_head
    assert len(fig.data) == L * H
    assert [t.visible for t in fig.data] == [True] + [False] * (L * H - 1)
    steps = fig.layout.sliders[0].steps
    assert len(steps) == L * H
    assert steps[5].args[0]["visible"] == [i == 5 for i in range(L * H)]
    z = fig.data[5].z
    assert isinstance(z, tuple) and all(round(v, 3) == v for row in z for v in row)


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


def test_the_model_builds_the_same_combined_mask(bundled, eager):
    for (model, _), additive in [(eager, True), (bundled, False)]:
        _, tok = bundled
        for prompts in PROMPT_SETS[:3]:
            batch = pad_prompts(tok, prompts)
            am = batch["attention_mask"]
            built = model_attention_mask(model, batch["input_ids"], am)
            ours = combined_mask(am)
            assert torch.equal(built, additive_mask(ours) if additive else ours)


def test_a_4d_mask_must_fit_the_input(eager):
    model, _ = eager
    ids = torch.zeros(1, 5, dtype=torch.long)
    with pytest.raises(ValueError, match=r"must have shape \(batch, 1, T, T\) = \(1, 1, 5, 5\)"):
        attention_weights(model, ids, no_causal_mask(1, 4))
    with pytest.raises(ValueError, match=r"\(1, 1, 5, 5\) .* got \(2, 1, 5, 5\)"):
        influence(model, ids, 0, no_causal_mask(2, 5))
