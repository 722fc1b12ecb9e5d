"""helpers.stepping: the decoding state, its transitions and the pieces of its text."""

from dataclasses import replace

import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from helpers.sampling import SamplingSettings
from helpers.stepping import DecodingState, token_pieces

# --------------------------------------------------------------------------- text pieces
PROMPTS = ["To be, or not to be", "ROMEO:", "我爱你", "The"]


@settings(max_examples=80)
@given(ids=st.lists(st.integers(0, 4095), max_size=12), prompt=st.sampled_from(PROMPTS))
@example(ids=[127, 127], prompt=PROMPTS[0])  # two UTF-8 lead bytes (0xC2): two replacement chars
def test_pieces_join_to_the_decoded_text(bundled, ids, prompt):
    _, tok = bundled
    start = DecodingState.start(tok, prompt)
    state = replace(start, generated=tuple(ids), probs=tuple(0.5 for _ in ids))
    pieces = token_pieces(state, tok)
    assert "".join(p.text for p in pieces) == tok.decode(ids)
    assert state.text(tok) == prompt + tok.decode(ids)  # text == prompt + chosen tokens
    assert sum((p.ids for p in pieces), ()) == tuple(ids)
    assert [p.first_step for p in pieces] == [
        sum(len(q.ids) for q in pieces[:k]) for k in range(len(pieces))
    ]


def test_a_chinese_character_split_over_tokens_is_one_piece(bundled):
    _, tok = bundled
    ids = tok("爱")["input_ids"]
    assert len(ids) >= 2
    start = DecodingState.start(tok, "我")
    state = replace(start, generated=tuple(ids), probs=tuple(0.25 for _ in ids))
    (piece,) = token_pieces(state, tok)
    assert piece.text == "爱" and piece.ids == tuple(ids)


def test_greedy_is_not_always_the_most_likely_sequence(bundled):
    """Notebook 02, exercise 2: a less likely first token can lead to a likelier 5-token text."""
    model, tok = bundled
    greedy_wins = []
    for prompt in ["ROMEO:\n", "KING:\nMy", "To be, or not to be"]:
        start = DecodingState.start(tok, prompt)
        scores = []
        for first in torch.topk(start.logits(model), 5).indices.tolist():
            s = start.force(model, first)
            for _ in range(4):
                s = s.step(model)
            scores.append(s.log_prob)
        greedy_wins.append(scores.index(max(scores)) == 0)
    assert not all(greedy_wins)


# --------------------------------------------------------------------------- transitions
def test_the_transitions_keep_the_settings_and_undo_each_one(bundled):
    model, tok = bundled
    s0 = DecodingState.start(tok, "ROMEO:", SamplingSettings("sample", temperature=0.8, top_k=5))
    s1 = s0.step(model).step(model)
    assert s1.n_steps == 2 and s1.undo().undo() == s0
    cleared = s1.reset()
    assert cleared.generated == () and cleared.settings == s0.settings and cleared.undo() == s1
    other = s1.with_prompt(tok, "KING:", model)
    assert other.text(tok) == "KING:" and other.settings == s0.settings and other.undo() == s1
    hotter = s1.with_settings(temperature=1.5)
    assert hotter.settings.temperature == 1.5 and hotter.generated == s1.generated
    assert hotter.undo() == s1


def test_step_filtered_gives_the_drawn_tokens_probability_after_the_filters(bundled):
    model, tok = bundled
    state = DecodingState.start(tok, "To be, or not to be", SamplingSettings("sample", top_k=3))
    logits = state.logits(model)
    rows, filtered = state.panel(logits, tok, 8)
    new, used = state.step_filtered(model, logits, filtered)
    token = new.generated[-1]
    assert new == state.step(model, logits)  # the same draw with or without the panel's help
    assert used == float(filtered[token]) and int((filtered > 0).sum()) == 3  # top-k = 3
    assert new.probs[-1] == float(logits.softmax(-1)[token])  # the model's own probability
    assert [r.token_id for r in rows[:3]] == torch.topk(logits, 3).indices.tolist()
    greedy = DecodingState.start(tok, "To be, or not to be")
    assert greedy.step_filtered(model)[1] is None  # greedy uses no filtered distribution
