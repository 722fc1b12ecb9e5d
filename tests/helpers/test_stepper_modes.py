"""helpers.stepper_modes: the stepper's beam and speculative states, and their views."""

import html

import pytest
import torch

from helpers.generation import generate_stepwise
from helpers.step_internals import CachedPasses
from helpers.stepper_modes import (
    BeamSettings,
    BeamState,
    SpeculativeState,
    describe_step,
    mode_of,
    pass_texts,
    undo_note,
)
from helpers.stepper_panes import beams_html, mode_stats_html, mode_text_html, rounds_html
from helpers.stepping import DecodingState
from tests._html import plain

PROMPTS = ["ROMEO:\nBut soft, what light", "KING:\nMy", "模型", "O"]


def generate_beams(model, ids, s: BeamSettings) -> list[int]:
    out = model.generate(
        torch.tensor([list(ids)]),
        max_new_tokens=s.max_new_tokens,
        num_beams=s.num_beams,
        length_penalty=s.length_penalty,
        do_sample=False,
        eos_token_id=model.config.eos_token_id,
    )
    return out[0, len(ids) :].tolist()


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("settings", [BeamSettings(3, 1.0, 10), BeamSettings(2, 0.0, 6)])
@pytest.mark.parametrize("cached", [False, True], ids=["own pass", "stepper's pass"])
def test_stepping_the_beams_to_the_end_equals_generate(bundled, prompt, settings, cached):
    """Each step's own uncached pass, or the scores of the stepper's cached batched pass over
    every beam (the one its panes read): the text is generate's either way."""
    model, tok = bundled
    runner = CachedPasses(model)
    state = BeamState.start(tok, prompt, model, settings)
    while not state.done:
        logits = runner.run_rows(pass_texts(state)).scores[:, 0] if cached else None  # (n, V)
        state = state.step(model, logits)
    assert list(state.best) == generate_beams(model, state.prompt_ids, settings)
    assert state.n_steps <= settings.max_new_tokens
    assert state.text(tok) == tok.decode(list(state.prompt_ids + state.best))


def test_beams_that_end_at_eos_are_marked(tiny):
    model, tok = tiny
    ids = tok("To be, or not")["input_ids"]
    first = BeamState.start(tok, "To be, or not", model).step(model)
    common = first.texts[0][0]  # the best first token: as EOS, a text ends at step 1
    model.config.eos_token_id = common
    try:
        state = BeamState.start(tok, "To be, or not", model, BeamSettings(3, 0.0, 12))
        while not state.done:
            state = state.step(model)
        assert list(state.best) == generate_beams(model, ids, state.settings)
    finally:
        model.config.eos_token_id = 0
    page = plain(beams_html(state, tok))
    ends = [t[-1] == common for _, t, _ in state.finished]
    assert any(ends) and page.count("EOS") == sum(ends)
    assert "Done" in page and "generate(num_beams=3)" in page


def test_a_beam_step_undo_and_reset_are_exact(tiny):
    model, tok = tiny
    start = BeamState.start(tok, "To be", model)
    one = start.step(model)
    two = one.step(model)
    assert two.undo() is one and one.undo() is start
    assert two.reset().undo() is two and two.reset().n_steps == 0
    assert undo_note(two, one) == "beam step 2" and mode_of(two) == "beam"
    with pytest.raises(ValueError, match="nothing to reset"):
        start.reset()
    wider = two.with_settings(model, num_beams=4)
    assert wider.n_steps == 0 and wider.undo() is two and len(wider.texts) == 4
    assert undo_note(wider, two) == "num_beams 4 -> 3"  # as Undo says it
    with pytest.raises(TypeError, match="unknown setting 'beams'"):
        two.with_settings(model, beams=2)
    assert "beam step 2: best beam" in describe_step(two, tok)


def test_scores_from_another_pass_must_fit_the_state(tiny, draft):
    model, tok = tiny
    vocab = model.config.vocab_size
    beams = BeamState.start(tok, "To be", model)  # 3 beams
    with pytest.raises(ValueError, match=rf"logits must have shape \(3, {vocab}\): one row per"):
        beams.step(model, torch.zeros(2, vocab))
    spec = SpeculativeState.start(tok, "To be", model, 2)
    with pytest.raises(ValueError, match=rf"logits must have shape \(3, {vocab}\): after the"):
        spec.step(model, draft, [5, 6], torch.zeros(2, vocab))
    logits = torch.zeros(3, vocab)
    logits[:, 7] = 1.0  # the model's choice is 7 everywhere: guess 7 is kept, 8 corrected
    state = spec.step(model, draft, [7, 8], logits)
    assert state.rounds[0].accepted == [7] and state.rounds[0].model_token == 7


def test_a_finished_search_refuses_another_step(tiny):
    model, tok = tiny
    state = BeamState.start(tok, "To be", model, BeamSettings(2, 1.0, 2))
    state = state.step(model).step(model)
    assert state.done
    with pytest.raises(ValueError, match="the beam search is over after 2 steps"):
        state.step(model)


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("cached", [False, True], ids=["own pass", "stepper's pass"])
def test_speculative_rounds_give_greedy_text_in_fewer_passes(bundled, draft, prompt, k, cached):
    model, tok = bundled
    runner = CachedPasses(model)
    state = SpeculativeState.start(tok, prompt, model, k)
    for _ in range(5):
        if cached:  # the stepper's cached pass over the text's newest token and the guesses
            record = runner.run(state.ids, state.guesses(model, draft))
            state = state.step(model, draft, record.guesses, record.scores[0])
        else:
            state = state.step(model, draft)
    greedy = generate_stepwise(model, tok, prompt, len(state.generated)).new_ids
    assert list(state.generated) == list(greedy)  # speculative == greedy
    assert state.passes == 5 <= len(state.generated) <= 5 * (k + 1)
    assert state.undo().passes == 4 and state.reset().undo() is state
    page = plain(rounds_html(state, tok))
    assert f"{state.passes} model passes so far for {len(state.generated)} tokens" in page
    stats = plain(mode_stats_html(state, 256))
    assert f"{state.passes} model passes for {len(state.generated)} tokens" in stats


def test_speculative_text_marks_the_drafts_and_the_models_tokens(bundled, draft):
    model, tok = bundled
    state = SpeculativeState.start(tok, "ROMEO:\nBut soft, what light", model, 4)
    for _ in range(4):
        state = state.step(model, draft)
    page = html.unescape(mode_text_html(state, tok))
    assert plain(page).replace("↵\n", "\n") == state.text(tok)
    kept = sum(r.n_accepted for r in state.rounds)
    assert page.count("the draft's guess, kept") == kept
    assert page.count("the model's") == len(state.rounds)
    last = state.rounds[-1]
    assert f"the draft guessed {len(last.proposed)}, the model kept {last.n_accepted}" in plain(
        rounds_html(state, tok)
    )


def test_a_speculative_state_stops_at_a_full_window(tiny, draft):
    model, tok = tiny
    state = SpeculativeState.start(tok, "To be, or not", model, 8)
    while len(state.ids) <= 32:
        state = state.step(model, draft)
    assert len(state.ids) == 33  # 32 tokens still predict one more, as greedy does
    with pytest.raises(ValueError, match="the context window is full"):
        state.step(model, draft)


def test_the_views_refuse_other_states(bundled):
    model, tok = bundled
    token_state = DecodingState.start(tok, "To be")
    for view in (mode_text_html, beams_html, rounds_html):
        with pytest.raises(TypeError, match="state must be a helpers.stepper_modes"):
            view(token_state, tok)
    with pytest.raises(TypeError, match="settings must be a BeamSettings"):
        BeamState.start(tok, "To be", model, {"num_beams": 2})
