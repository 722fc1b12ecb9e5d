"""helpers.widgets: the decoding stepper of notebook 02, driven without a browser.

Buttons are clicked with ``Button.click()`` (runs the handlers synchronously) and controls set
through ``.value`` (fires the observers), then we read what the widget shows.
"""

import html
import math
import re

import pytest
import torch
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from helpers.generation import generate_stepwise
from helpers.plots import show_token
from helpers.sampling import SamplingSettings
from helpers.stepper_modes import mode_of
from helpers.stepper_view import BUTTON_COLOURS
from helpers.widgets import DecodingStepper
from tests._html import plain

PROMPTS = ["To be, or not to be", "ROMEO:", "我爱你", "The"]


def shown_steps(stepper) -> int:
    return int(re.search(r'class="dw-steps">(\d+)<', stepper.stats_view.value).group(1))


def test_initial_view(stepper):
    assert stepper.state.n_steps == 0 and shown_steps(stepper) == 0
    assert plain(stepper.text_view.value) == "To be, or not to be"
    assert f"{len(stepper.state.ids)} / 256 tokens" in stepper.stats_view.value
    assert "Press Step" in stepper.status
    assert [b.description for b in stepper.candidate_buttons] == [
        show_token(c.text) for c in stepper.candidates()
    ]
    for name in ("Step", "Run 5", "Undo", "Reset"):
        assert name in [
            b.description
            for b in (
                stepper.step_button,
                stepper.run_button,
                stepper.undo_button,
                stepper.reset_button,
            )
        ]


def test_step_shows_the_new_token_everywhere(stepper, bundled):
    model, tok = bundled
    expected = stepper.candidates()[0]  # greedy = the top candidate
    stepper.step_button.click()
    state = stepper.state
    assert state.generated == (expected.token_id,)
    assert shown_steps(stepper) == 1
    assert plain(stepper.text_view.value) == "To be, or not to be" + expected.text
    (span,) = re.findall(r'<span class="dw-gen" title="([^"]+)"', stepper.text_view.value)
    assert f"token {expected.token_id}, p = {expected.prob:.4f}" in html.unescape(span)
    assert plain(stepper.ids_view.value).split()[-1] == str(expected.token_id)
    assert f"{len(state.prompt_ids) + 1} / 256 tokens" in stepper.stats_view.value
    assert f"{math.log(expected.prob):.4f}" in stepper.stats_view.value
    assert f"greedy picked '{show_token(expected.text)}'" in stepper.status
    assert not stepper.error


def test_run_n_then_undo_then_reset(stepper):
    start = stepper.state
    stepper.run_n.value = 4
    assert stepper.run_button.description == "Run 4"
    stepper.run_button.click()
    assert stepper.state.n_steps == 4 and shown_steps(stepper) == 4
    after_three = stepper.state.history[-1]
    stepper.undo_button.click()
    assert stepper.state is after_three
    stepper.reset_button.click()
    assert stepper.state.generated == () and stepper.state.prompt == start.prompt
    stepper.undo_button.click()  # reset is undoable too
    assert stepper.state is after_three


class Counted:
    """Counts the temperature checks and the runs of the filter chain (with their logits)."""

    def __init__(self, monkeypatch):
        import helpers.sampling as sampling

        self.temperature_checks, self.chains = 0, []
        check, chain = sampling.check_positive, sampling._filter_stages

        def counted_check(name, value):
            self.temperature_checks += name == "temperature"
            return check(name, value)

        def counted_chain(logits, *args):
            self.chains.append(logits)
            return chain(logits, *args)

        monkeypatch.setattr(sampling, "check_positive", counted_check)
        monkeypatch.setattr(sampling, "_filter_stages", counted_chain)


@pytest.mark.parametrize("strategy", ["greedy", "sample"])
def test_one_step_runs_the_filter_chain_once_and_checks_no_setting_again(
    bundled, monkeypatch, strategy
):
    model, tok = bundled
    settings = SamplingSettings(strategy, temperature=0.8, top_k=20, top_p=0.9, seed=4)
    stepper = DecodingStepper(model, tok, "ROMEO:", settings=settings)
    before = stepper.state
    counted = Counted(monkeypatch)
    stepper.step_button.click()
    assert not stepper.error, stepper.status
    # the settings were checked when they entered (SamplingSettings, the stepper): not per Step
    assert counted.temperature_checks == 0
    # once: the new state's candidate panel; the draw reused the panel of the state before
    assert len(counted.chains) == 1
    assert torch.equal(counted.chains[0], stepper.logits())
    # the same token and probabilities as the state's own step, which runs the chain itself
    assert stepper.state == before.step(model)
    assert len(counted.chains) == 1 + (strategy == "sample")
    if strategy == "sample":
        used = before.settings.filtered_probs(before.logits(model))[stepper.state.generated[-1]]
        assert f"{float(used):.4f} after the filters" in stepper.status
    # a changed setting is checked once, where it enters
    counted.temperature_checks = 0
    stepper.temperature.value = 1.2
    assert not stepper.error and counted.temperature_checks == 1


def test_the_widget_imports_neither_sampling_nor_generation():
    import ast
    import inspect

    import helpers.widgets

    tree = ast.parse(inspect.getsource(helpers.widgets))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "helpers.stepping" in imported  # the walk sees the imports
    assert not imported & {"helpers.sampling", "helpers.generation"}, imported


def test_reset_is_the_states_reset(stepper, bundled):
    model, _ = bundled
    stepper.set_settings(strategy="sample", seed=2)
    stepper.run(3)
    before = stepper.state
    stepper.reset_button.click()
    assert stepper.state == before.reset() and stepper.state.settings == before.settings
    assert stepper.state.history[-1] is before
    stepper.prompt_box.value = "KING:"
    assert stepper.state == stepper.state.history[-1].with_prompt(stepper.tokenizer, "KING:", model)


def test_candidate_button_forces_that_token(stepper, bundled):
    model, tok = bundled
    third = stepper.candidates()[2]
    stepper.candidate_buttons[2].click()
    assert stepper.state.generated == (third.token_id,)
    assert stepper.state.probs[0] == pytest.approx(third.prob)
    assert "forced" in stepper.status and "greedy would have picked" in stepper.status


def test_settings_controls_reach_the_state_and_undo_reverts_them(stepper):
    stepper.strategy.value = "sample"
    stepper.temperature.value = 0.7
    stepper.top_k.value = 3
    stepper.top_p.value = 0.9
    stepper.seed.value = 7
    assert stepper.state.settings == SamplingSettings("sample", 0.7, 3, 0.9, 7)
    assert [c.cut for c in stepper.candidates()][3:] == ["top-k"] * 5
    colours = [(b.style.text_color, b.style.button_color) for b in stepper.candidate_buttons]
    assert colours[3:] == [BUTTON_COLOURS["cut candidate"]] * 5
    assert colours[:3] == [BUTTON_COLOURS["candidate"]] * 3
    assert "cut by top-k" in stepper.candidate_bars[3].value
    stepper.top_k.value = 0  # 0 = off
    stepper.top_p.value = 1.0  # 1 = off
    assert stepper.state.settings == SamplingSettings("sample", 0.7, None, None, 7)
    for _ in range(3):
        stepper.undo_button.click()
    assert stepper.state.settings == SamplingSettings("sample", 0.7, 3, 0.9, 0)
    assert (stepper.top_k.value, stepper.top_p.value, stepper.seed.value) == (3, 0.9, 0)


def test_sampling_is_seeded_per_step(stepper):
    stepper.strategy.value = "sample"
    stepper.seed.value = 3
    stepper.run_n.value = 6
    stepper.run_button.click()
    first = stepper.state.generated
    stepper.undo_button.click()
    stepper.step_button.click()
    assert stepper.state.generated == first  # undo + step draws the same token again
    assert "sampled (seed 3)" in stepper.status


def test_top_k_one_sampling_is_greedy(bundled):
    model, tok = bundled
    greedy = DecodingStepper(model, tok, "ROMEO:")
    sampled = DecodingStepper(
        model, tok, "ROMEO:", settings=SamplingSettings("sample", top_k=1, seed=5)
    )
    for s in (greedy, sampled):
        s.run(10)
    assert greedy.state.generated == sampled.state.generated


@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_run_equals_generate_stepwise(bundled, prompt):
    model, tok = bundled
    stepper = DecodingStepper(model, tok, prompt)
    stepper.run_n.value = 12
    stepper.run_button.click()
    trace = generate_stepwise(model, tok, prompt, 12)
    assert list(stepper.state.generated) == trace.new_ids
    assert stepper.text == trace.text
    for p, step in zip(stepper.state.probs, trace.steps, strict=True):
        assert p == pytest.approx(step.prob, abs=1e-5)


@pytest.mark.parametrize("prompt", PROMPTS[:3])
def test_forcing_the_runner_up_changes_every_later_step(bundled, prompt):
    model, tok = bundled
    forced = DecodingStepper(model, tok, prompt)
    forced.candidate_buttons[1].click()
    forced.run(5)
    greedy = DecodingStepper(model, tok, prompt)
    greedy.run(6)
    assert forced.state.generated[0] != greedy.state.generated[0]
    # every later step sees another context: all its probabilities differ
    assert all(a != b for a, b in zip(forced.state.probs[1:], greedy.state.probs[1:], strict=True))


def test_the_window_is_the_number_of_position_embeddings(bundled):
    model, tok = bundled
    assert model.transformer.wpe.num_embeddings == 256 == DecodingStepper(model, tok, "A").window


# --------------------------------------------------------------------------- errors
def test_bad_prompts_keep_the_state_and_say_why(stepper):
    stepper.step_button.click()
    before = stepper.state
    stepper.prompt_box.value = "   "
    assert stepper.error and "empty or only whitespace" in stepper.status
    assert "dw-error" in stepper.status_line.value and "⚠" in stepper.status_line.value
    assert stepper.state is before
    stepper.prompt_box.value = "fie " * 300
    assert "context window is 256 tokens" in stepper.status and stepper.state is before
    assert shown_steps(stepper) == 1


def test_a_prompt_that_fills_the_window_still_predicts_one_token(bundled):
    model, tok = bundled
    text = "fie " * 300
    ids = tok(text)["input_ids"][:256]
    prompt = tok.decode(ids)
    assert len(tok(prompt)["input_ids"]) == 256
    stepper = DecodingStepper(model, tok, "ROMEO:")
    stepper.prompt_box.value = prompt
    assert not stepper.error and len(stepper.state.ids) == 256 and stepper.candidates()
    stepper.step_button.click()  # 256 tokens predict token 257
    assert not stepper.error and len(stepper.state.ids) == 257
    assert "256 / 256 tokens (full: the text is 257 tokens" in stepper.stats_view.value
    stepper.step_button.click()
    assert stepper.error and "context window is full" in stepper.status


def test_invalid_settings_snap_back_with_a_message(stepper):
    before = stepper.state
    stepper.temperature.value = 0.0
    assert re.search(r"temperature=0.0 must be .*> 0", stepper.status)
    assert stepper.temperature.value == 1.0 and stepper.state is before
    stepper.top_p.value = 0.0
    assert "top_p=0.0 must be in the range (0, 1]" in stepper.status
    assert stepper.top_p.value == 1.0 and stepper.state is before
    stepper.seed.value = -1
    assert "seed=-1 is outside the allowed range 0 <= seed < 2**32" in stepper.status
    stepper.seed.value = 2**32
    assert "seed=4294967296" in stepper.status and stepper.seed.value == 0
    assert stepper.state is before and stepper.error


def test_nothing_to_undo_or_reset(stepper):
    stepper.undo_button.click()
    assert stepper.error and "nothing to undo" in stepper.status
    stepper.reset_button.click()
    assert stepper.error and "nothing to reset" in stepper.status


def test_full_context_window(tiny):
    model, tok = tiny  # a 32-token window
    stepper = DecodingStepper(model, tok, "To be, or not to be")
    room = 33 - len(stepper.state.ids)  # 32 tokens still predict token 33
    stepper.run_n.value = 40
    stepper.run_button.click()
    assert stepper.error and f"stopped after {room} of 40 tokens" in stepper.status
    full = stepper.state
    assert len(full.ids) == 33
    assert "32 / 32 tokens (full: the text is 33 tokens" in stepper.stats_view.value
    for click in (stepper.step_button.click, stepper.candidate_buttons[0].click):
        click()
        assert stepper.state is full and stepper.error
    assert "context window is full" in stepper.legend_view.value
    assert all(row.layout.display == "none" for row in stepper.candidate_rows)
    with pytest.raises(ValueError, match="context window is full"):
        stepper.figure()
    stepper.undo_button.click()
    assert len(stepper.state.ids) == 32 and stepper.candidates()


def test_constructor_rejects_bad_arguments(bundled):
    model, tok = bundled
    with pytest.raises(ValueError, match="empty or only whitespace"):
        DecodingStepper(model, tok, "")
    with pytest.raises(TypeError, match="prompt must be a str"):
        DecodingStepper(model, tok, 42)
    with pytest.raises(
        ValueError, match=r"n_candidates=0 is out of range: it must be in the range 1\.\.20"
    ):
        DecodingStepper(model, tok, "ROMEO:", n_candidates=0)
    with pytest.raises(
        ValueError, match=r"run_n=51 is out of range: it must be in the range 1\.\.50"
    ):
        DecodingStepper(model, tok, "ROMEO:", run_n=51)
    with pytest.raises(TypeError, match="settings must be"):
        DecodingStepper(model, tok, "ROMEO:", settings={"strategy": "greedy"})


def test_probabilities_keep_their_significant_digits_and_undo_says_what(stepper):
    from helpers.stepper_view import fmt_prob

    assert [fmt_prob(p) for p in (0.1234, 0.001, 0.00004567, 0.0)] == [
        "0.1234",
        "0.0010",
        "4.6e-05",
        "0.0000",
    ]
    stepper.set_settings(strategy="sample", temperature=0.8, top_k=5, seed=7)
    stepper.step()
    assert "after the filters" in stepper.status  # the probability the draw used
    chosen = stepper.state.generated[-1]
    token = stepper.tokenizer.decode([chosen])
    stepper.undo()
    assert stepper.status.startswith("undone: step 1 (")
    assert token.strip() in stepper.status or "·" in stepper.status
    stepper.undo()  # says what the settings were and what they are again
    assert stepper.status == (
        "undone: strategy sample -> greedy, temperature 0.8 -> 1.0, top_k 5 -> off, seed 7 -> 0"
    )
    stepper.undo()
    assert stepper.error and stepper.status == "nothing to undo: this is the starting state"


# --------------------------------------------------------------------------- state machine
def test_the_apply_button_uses_the_prompt_in_the_box(bundled):
    model, tok = bundled
    stepper = DecodingStepper(model, tok, "ROMEO:")
    stepper.apply_button.click()  # nothing edited: it says which prompt is in use
    assert stepper.status.startswith("the prompt in use: ") and not stepper.error
    stepper.prompt_box.value = "JULIET:"  # the box syncs (focus leaves it) ...
    assert stepper.state.prompt == "JULIET:"
    stepper.apply_button.click()  # ... and Apply then confirms it
    assert stepper.state.prompt == "JULIET:" and "prompt in use" in stepper.status
    stepper.prompt_box.unobserve_all("value")  # a box that has not synced yet: Apply applies it
    stepper.prompt_box.value = "KING:"
    stepper.apply_button.click()
    assert stepper.state.prompt == "KING:" and stepper.status.startswith("new prompt: ")


# --------------------------------------------------------------------------- panes (issue 31)
def test_each_step_shows_the_attention_its_own_pass_computed(stepper, eager):
    """The strip is the row of the pass that scored the step (one new token, with the KV
    cache), and equals the row of a full uncached pass at that position."""
    from helpers.attention import attention_weights

    stepper.show_panes("attention")
    stepper.select_head(2, 3)
    for _ in range(3):
        stepper.step_button.click()
        record = stepper.step_pass()
        assert record.fed == 1 and record.ids == stepper.state.ids
        full = attention_weights(eager[0], torch.tensor([stepper.state.ids]))[:, 0, :, -1, :]
        torch.testing.assert_close(record.attention, full, atol=1e-5, rtol=0)
        shown = re.findall(r"weight ([0-9.]+)", stepper.pane_views["attention"].value)
        assert len(shown) == len(stepper.state.ids)  # one cell per token so far
        assert [float(w) for w in shown] == [round(w, 4) for w in record.attention[2, 3].tolist()]
    assert "layer 2, head 3" in plain(stepper.pane_views["attention"].value)
    assert stepper.pane_views["attention"].value.count("<td") == 16  # 4 layers x 4 heads


def test_the_cache_pane_matches_the_real_cache(stepper):
    from helpers.cost import cache_tensor_bytes

    stepper.show_panes("cache")
    stepper.run(4)
    real = stepper._runner.cache  # the past_key_values the last pass returned
    n = len(stepper.state.ids)
    assert real.get_seq_length() == n
    text = plain(stepper.pane_views["cache"].value)
    assert f"{n} positions, {cache_tensor_bytes(real):,} bytes" in text
    assert f"the cache's tensors: {cache_tensor_bytes(real):,} bytes" in text
    assert f"{n} / 256 of the context window" in text
    assert f"reads the {n} cached positions" in text
    stepper.undo_button.click()  # an earlier state: its own pass, remembered
    assert f"{n - 1} positions" in plain(stepper.pane_views["cache"].value)


def test_the_filter_pane_lists_the_candidates_through_every_stage(stepper):
    stepper.show_panes("filters")
    stepper.set_settings(strategy="sample", temperature=0.8, top_k=5, top_p=0.9)
    page = stepper.pane_views["filters"].value
    heads = re.findall(r"<th[^>]*>([^<]+)</th>", page)
    assert heads == ["token", "softmax", "temperature 0.8", "top-k 5", "top-p 0.9"]
    cands = stepper.candidates()
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td>(.*?)</tr>", page)
    assert [html.unescape(r[0]) for r in rows] == [show_token(c.text) for c in cands]
    for c, (_, cells) in zip(cands, rows, strict=True):
        last = plain(cells.split("<td")[-1].split(">", 1)[1])
        # the last stage is the distribution the draw uses, as the candidate panel shows it
        assert last == ("cut" if c.cut else f"{c.filtered:.4f}")


def test_hidden_panes_are_not_drawn_and_toggles_show_them(stepper):
    assert all(box.layout.display == "none" for box in stepper.panes.values())
    stepper.step_button.click()
    assert all(view.value == "" for view in stepper.pane_views.values())
    stepper.pane_toggles["cache"].value = True
    assert stepper.panes["cache"].layout.display is None
    assert "KV cache" in stepper.pane_views["cache"].value
    assert stepper.pane_views["attention"].value == ""


def test_bad_pane_input_shows_on_the_status_line(stepper):
    before = stepper.state
    assert not stepper.select_head(4, 0)
    assert (
        stepper.error and "layer=4 is out of range: it must be in the range 0..3" in stepper.status
    )
    assert not stepper.select_head(0, "1")
    assert "head must be an int" in stepper.status
    assert not stepper.show_panes("heads")
    assert "pane='heads' must be one of ('attention', 'cache', 'filters')" in stepper.status
    assert stepper.state is before
    with pytest.raises(ValueError, match="pane='x' must be one of"):
        stepper.pane_html("x")


def test_remembered_passes_stay_within_their_memory_and_undo_still_works(stepper, monkeypatch):
    import helpers.widgets

    first = stepper.candidates()
    budget = 3 * stepper.step_pass().nbytes  # a pass's scores and attention: ~3 of them
    monkeypatch.setattr(helpers.widgets, "PASSES_BYTES", budget)
    stepper.run(6)
    assert 1 <= len(stepper._passes) < 6  # the oldest were let go ...
    assert sum(r.nbytes for r in stepper._passes.values()) <= budget
    for _ in range(6):
        assert stepper.undo()
    again = stepper.candidates()  # ... and run again (the same pass, to float rounding)
    assert stepper.state.n_steps == 0 and [c.token_id for c in again] == [c.token_id for c in first]
    assert [c.prob for c in again] == pytest.approx([c.prob for c in first], abs=1e-6)


def test_a_pane_that_fails_says_so_in_the_pane(stepper, monkeypatch):
    import helpers.widgets

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(helpers.widgets, "cache_html", broken)
    stepper.pane_toggles["cache"].value = True  # no traceback escapes the toggle
    assert "unexpected RuntimeError: boom" in stepper.pane_views["cache"].value


def test_a_full_window_keeps_its_behaviour_and_the_panes_say_so(tiny):
    model, tok = tiny  # a 32-token window
    stepper = DecodingStepper(model, tok, "To be, or not to be")
    stepper.show_panes("attention", "cache", "filters")
    stepper.run(33 - len(stepper.state.ids) - 1)  # 32 tokens: the window is full
    first = show_token(tok.decode(stepper.state.ids[:1]))
    cache = plain(stepper.pane_views["cache"].value)
    assert "32 / 32 of the context window" in cache
    assert "The next Step picks token 33 from these scores; then this stepper stops" in cache
    assert f"drop the oldest token {first}" in cache
    stepper.step_button.click()  # token 33: as before, the stepper then stops
    assert len(stepper.state.ids) == 33 and not stepper.error
    assert "The text is 33 tokens: this stepper stops" in plain(stepper.pane_views["cache"].value)
    for name in ("attention", "filters"):
        assert "no pass ran for this text" in plain(stepper.pane_views[name].value)
    stepper.step_button.click()
    assert stepper.error and "context window is full" in stepper.status


def test_the_snapshot_shows_every_pane_of_the_last_state(stepper):
    stepper.run(2)
    page = stepper.static_html()  # every pane, though no toggle is on
    for name in ("dw-snapshot", "dw-attention", "dw-heads", "dw-cache", "dw-filters"):
        assert page.count(f'class="{name}"') == 1, name
    for name in ("attention", "cache", "filters"):
        assert stepper.pane_html(name) in page
    fresh = DecodingStepper(stepper.model, stepper.tokenizer, "ROMEO:")
    text = plain(fresh.static_html())
    assert "Snapshot" in text and "last action: none yet (the prompt alone)" in text
    assert "Press Step" not in text and "click" not in text  # a snapshot invites no clicks


# --------------------------------------------------------------------------- the prompt box
def test_enter_applies_the_prompt_and_newlines_show_as_a_sign(bundled):
    import ipywidgets as w

    model, tok = bundled
    stepper = DecodingStepper(model, tok, "ROMEO:\nBut soft")
    box = stepper.prompt_box
    # one line, synced on Enter (and when it loses focus): Enter submits what was typed
    assert isinstance(box, w.Text) and not isinstance(box, w.Textarea)
    assert not box.continuous_update
    assert box.value == "ROMEO:↵But soft"
    box.value = "JULIET:↵O Romeo"  # what the front end sends on Enter
    assert stepper.state.prompt == "JULIET:\nO Romeo" and not stepper.error
    assert stepper.status.startswith("new prompt: ")
    box.value = r"KING:\nMy lord"  # \n typed out is a newline too
    assert stepper.state.prompt == "KING:\nMy lord" and box.value == "KING:↵My lord"


def test_apply_after_the_box_synced_says_the_new_prompt_is_in_use(bundled):
    model, tok = bundled
    stepper = DecodingStepper(model, tok, "ROMEO:")
    stepper.prompt_box.value = "JULIET:"  # the click on Apply ends the editing first ...
    stepper.apply_button.click()  # ... then Apply runs
    assert stepper.status.startswith("new prompt in use: ") and "edit the box" not in stepper.status
    stepper.step_button.click()
    stepper.apply_button.click()
    assert stepper.status.endswith("tokens, unchanged") and not stepper.error


def test_a_setting_that_does_not_change_is_not_an_undo_step(stepper):
    before = stepper.state
    assert stepper.set_settings(temperature=1.0)
    assert stepper.state is before and stepper.status == "the settings are unchanged"
    stepper.temperature.value = 1.5
    assert stepper.status == "settings: temperature 1.0 -> 1.5 (Undo reverts)"
    stepper.undo_button.click()
    assert stepper.status == "undone: temperature 1.5 -> 1.0" and stepper.state is before
    assert stepper.temperature.value == 1.0  # the slider shows the change too
    stepper.undo_button.click()
    assert stepper.status == "nothing to undo: this is the starting state"
    stepper.temperature.value = 1.0000000000000002  # a slider's float noise: no visible change
    assert stepper.state is before and stepper.status == "the settings are unchanged"
    assert stepper.temperature.value == 1.0


def test_every_button_has_colours_that_pass_wcag_aa(stepper):
    from helpers.stepper_view import contrast_ratio

    buttons = [
        stepper.step_button,
        stepper.run_button,
        stepper.undo_button,
        stepper.reset_button,
        stepper.apply_button,
        *stepper.candidate_buttons,
    ]
    assert all(b.button_style == "" for b in buttons)  # no built-in white-on-colour style
    for b in buttons:
        if b.style.button_color:  # the default grey button is dark text on light grey
            assert contrast_ratio(b.style.text_color, b.style.button_color) >= 4.5, b.description
    assert (stepper.step_button.style.text_color, stepper.step_button.style.button_color) == (
        BUTTON_COLOURS["step"]
    )


# --------------------------------------------------------------------------- the modes
def test_the_beam_mode_ends_with_generates_text_and_undo_reset_work(bundled):
    model, tok = bundled
    stepper = DecodingStepper(model, tok, "ROMEO:\nBut soft, what light")
    stepper.strategy.value = "beam"
    stepper.num_beams.value, stepper.max_new.value = 3, 8
    assert stepper.state.settings.num_beams == 3 and stepper.state.settings.max_new_tokens == 8
    while not stepper.state.done:
        assert stepper.step_button.click() is None and not stepper.error, stepper.status
    ids = list(stepper.state.prompt_ids)
    out = model.generate(torch.tensor([ids]), max_new_tokens=8, num_beams=3, do_sample=False)
    assert stepper.text == tok.decode(out[0].tolist())  # the widget's beams == generate
    assert "the search is over" in stepper.status
    assert "The search is over: no next step runs" in plain(stepper.pane_html("cache"))
    assert plain(stepper.mode_view.value).count("log-prob") >= 2
    done = stepper.state
    stepper.step_button.click()
    assert stepper.error and "the beam search is over" in stepper.status and stepper.state is done
    stepper.undo_button.click()
    assert stepper.state is done.history[-1] and stepper.status == "undone: beam step 8"
    stepper.reset_button.click()
    assert stepper.state.n_steps == 0 and stepper.state.undo().n_steps == 7
    stepper.undo_button.click()
    assert stepper.state.n_steps == 7


def test_the_speculative_mode_gives_the_greedy_text_and_counts_passes(bundled, draft):
    model, tok = bundled
    stepper = DecodingStepper(model, tok, "ROMEO:\nBut soft, what light", draft=draft)
    stepper.strategy.value = "speculative"
    stepper.run_n.value = 4
    stepper.run_button.click()
    state = stepper.state
    assert state.passes == 4 and not stepper.error
    greedy = generate_stepwise(model, tok, state.prompt, len(state.generated)).new_ids
    assert list(state.generated) == list(greedy)  # speculative == greedy
    stats = plain(stepper.stats_view.value)
    assert f"4 model passes for {len(state.generated)} tokens" in stats
    assert "Round 4" in plain(stepper.mode_view.value)
    assert "(up to 4: at most 5 tokens)" in plain(stepper.pane_html("cache"))
    stepper.undo_button.click()
    assert stepper.state is state.history[-1] and stepper.status == "undone: round 4"
    stepper.k.value = 2
    assert stepper.state.k == 2 and "k 4 -> 2" in stepper.status
    stepper.strategy.value = "greedy"  # back to greedy: from the prompt, Undo returns
    assert stepper.state.generated == () and stepper.candidates()
    stepper.undo_button.click()
    assert stepper.state.k == 2 and stepper.status == "undone: the switch to greedy mode"


def shown(widget, root) -> bool:
    """``widget`` is drawn: neither it nor any box between it and ``root`` has display none."""

    def path(box):
        if box is widget:
            return [box]
        for child in getattr(box, "children", ()):
            found = path(child)
            if found:
                return [box, *found]
        return []

    chain = path(root)
    assert chain, f"{widget!r} is not inside the stepper"
    return all(w.layout.display != "none" for w in chain)


def test_every_mode_keeps_its_buttons_and_shows_only_its_own_settings(bundled, draft):
    # found in JupyterLab: the action row shared its Layout with the sampling sliders, so
    # hiding the sliders in beam mode hid Step and the mode toggle with them (no way back)
    model, tok = bundled
    stepper = DecodingStepper(model, tok, "ROMEO:\nBut soft, what light", draft=draft)
    always = [stepper.step_button, stepper.run_button, stepper.undo_button, stepper.reset_button]
    always += [stepper.strategy, stepper.prompt_box, stepper.status_line]
    own = {
        "greedy": stepper.temperature,
        "sample": stepper.temperature,
        "beam": stepper.num_beams,
        "speculative": stepper.k,
    }
    for mode in ("beam", "speculative", "sample", "greedy", "beam"):
        stepper.strategy.value = mode
        hidden = [w.description for w in always if not shown(w, stepper.widget)]
        assert not hidden, (mode, hidden)
        assert shown(own[mode], stepper.widget), mode
        others = {w for m, w in own.items() if w is not own[mode]}
        assert not any(shown(w, stepper.widget) for w in others), mode


@pytest.mark.parametrize("mode", ["greedy", "sample", "beam", "speculative"])
def test_a_step_runs_the_model_once_in_every_mode_and_undo_none(bundled, draft, eager, mode):
    """The mode's step and the panes read the same pass: a Step with every pane shown is one
    forward pass of the model (counted by a hook), Run N is N, Undo and Reset are none; and the
    attention shown is a full uncached pass's row of the text shown (beam mode: the best)."""
    from helpers.attention import attention_weights

    model, tok = bundled
    stepper = DecodingStepper(model, tok, "ROMEO:\nBut soft, what light", draft=draft)
    stepper.show_panes("attention", "cache", "filters")
    assert stepper.set_mode(mode) or mode == "greedy"
    if mode == "beam":
        assert stepper.set_mode_settings(max_new_tokens=5)  # 3 beams: the search ends in 5
    calls = []
    hook = model.register_forward_hook(lambda *_: calls.append(1))

    def passes(action) -> int:
        before = len(calls)
        action()
        assert not stepper.error, stepper.status
        return len(calls) - before

    try:
        states = [stepper.state]
        for _ in range(5):  # beam: the 5th step ends the search, its pass is the panes' alone
            assert passes(stepper.step_button.click) == 1
            states.append(stepper.state)
            record = stepper.step_pass()
            assert record.ids == stepper.state.ids
            assert "weight" in stepper.pane_views["attention"].value
            full = attention_weights(eager[0], torch.tensor([record.ids]))[:, 0, :, -1, :]
            torch.testing.assert_close(record.attention, full, atol=1e-5, rtol=0)
        if mode != "beam":  # (a beam search is over now)
            assert passes(lambda: stepper.run(3)) == 3
        last = stepper.state
        assert passes(stepper.undo_button.click) == 0 and stepper.state is last.history[-1]
        assert passes(stepper.reset_button.click) == 0 and stepper.state.n_steps == 0
        assert passes(stepper.undo_button.click) == 0 and stepper.state is last.history[-1]
    finally:
        hook.remove()
    if mode == "beam":
        assert states[-1].done and len(stepper.step_pass(states[-2]).texts) == 3


def test_settings_of_another_mode_are_refused_on_the_status_line(stepper):
    before = stepper.state
    stepper.num_beams.value = 5
    assert stepper.error and "a setting of the beam and speculative modes" in stepper.status
    assert stepper.state is before and stepper.num_beams.value == 3  # snapped back
    stepper.set_mode("beam")
    beam = stepper.state
    stepper.temperature.value = 0.5
    assert stepper.error and "only in greedy and sample modes; this is beam mode" in stepper.status
    assert stepper.state is beam and stepper.temperature.value == 1.0
    for call in (lambda: stepper.force_candidate(0), lambda: stepper.force(5), stepper.figure):
        try:
            assert call() is False
        except ValueError as err:  # figure() is a function, not a button: it raises
            assert "only in greedy and sample modes" in str(err)
    assert not stepper.set_mode("beams")
    assert "mode='beams'" in stepper.status or "beams" in stepper.status
    assert not stepper.set_mode_settings(width=3) and "unknown setting 'width'" in stepper.status
    assert stepper.state is beam
    assert "no filter applies" in stepper.pane_html("filters")


def test_the_display_is_the_widget_and_a_snapshot_for_front_ends_without_it(stepper, monkeypatch):
    import IPython.display

    stepper.run(2)
    live, snapshot = stepper.display_outputs()
    # JupyterLab draws the first output's widget view, or "model not found"; a front end that
    # cannot draw widgets takes its text/plain: a line, not a second copy of the snapshot
    assert set(live) == {"application/vnd.jupyter.widget-view+json", "text/plain"}
    assert live["application/vnd.jupyter.widget-view+json"]["model_id"] == stepper.widget.model_id
    page = snapshot["text/html"]
    assert page.startswith("<style>") and ":has(.dw-stepper)" in page  # hidden beside the widget
    assert 'class="dw-fallback"' in page and "Run the cell for the live widget" in plain(page)
    assert plain(stepper.static_html()) in plain(page)  # the state as the cell left it
    assert 'class="dw-static"' not in page and 'class="dw-stepper"' not in page
    # IPython shows an object with _ipython_display_ by calling it (it wins over the mimebundle);
    # no InteractiveShell here: one left in a pytest-xdist worker keeps the worker from exiting
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw: shown.append((obj, raw)))
    stepper._ipython_display_()
    assert shown == [(live, True), (snapshot, True)]


def test_random_actions_in_every_mode_keep_the_invariants(tiny, draft):
    """One state machine for every button, control and mode (the tiny model: a 32-token window).

    After any action, either the state changed, with no error, and Undo returns exactly the
    state before it; or nothing changed. Where the rules say whether an action must be taken
    (a full window, a setting out of range, a setting of another mode, a blank prompt), a refused
    action keeps the state and says why on the status line."""
    model, tok = tiny
    token_modes = ("greedy", "sample")
    mode_settings = {"num_beams": (1, 2, 3), "length_penalty": (0.5, 1.0), "max_new": (2, 6)}
    mode_settings["k"] = (1, 2, 3)

    class Machine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.w = DecodingStepper(model, tok, "To be, or not", draft=draft)
            self.before = []  # the states Undo must return, most recent last

        @property
        def tokens(self) -> bool:
            """Greedy or sample: the modes with candidates, forcing and the sampling sliders."""
            return mode_of(self.w.state) in token_modes

        def _did(self, old, ok: bool | None = None):
            """After an action: the old state is on the undo stack, or nothing changed.
            ``ok``: the action must be taken (True) or refused (False); None: either."""
            if self.w.state is not old:
                assert ok is not False and not self.w.error, self.w.status
                self.before.append(old)
            elif ok is False:
                assert self.w.error, self.w.status
            elif ok:
                assert not self.w.error, self.w.status

        def _set(self, control, value, ok: bool | None):
            """Set a control as a student would; one left as it was fires no event."""
            if control.value == value:
                return
            old = self.w.state
            control.value = value
            self._did(old, ok)

        @rule()
        def step(self):
            old = self.w.state
            full = len(old.ids) > 32  # 32 tokens still predict token 33
            self.w.step_button.click()
            self._did(old, not full if self.tokens else None)
            if self.tokens and not full and old.settings.strategy == "greedy":
                assert self.w.state.generated[-1] == int(torch.argmax(old.logits(model)))

        @rule(n=st.integers(1, 6))
        def run(self, n):
            old, tokens = self.w.state, self.tokens
            self.w.run_n.value = n
            self.w.run_button.click()
            chain, s = [], self.w.state
            while s is not old:  # each step of the run is its own undo step
                chain.append(s := s.history[-1])
            self.before.extend(reversed(chain))
            if tokens:
                assert len(chain) == min(n, 33 - len(old.ids))
                assert self.w.error == (len(chain) < n)

        @rule(i=st.integers(0, 7))
        def force(self, i):
            old, tokens = self.w.state, self.tokens
            cands = self.w.candidates() if tokens else []
            self.w.candidate_buttons[i].click()
            self._did(old, bool(cands))
            if cands:
                assert self.w.state.generated[-1] == cands[i].token_id

        @rule()
        def undo(self):
            old = self.w.state
            self.w.undo_button.click()
            if self.before:
                assert self.w.state is self.before.pop()  # exactly the previous state
            else:
                assert self.w.error and self.w.state is old

        @rule()
        def reset(self):
            old = self.w.state
            self.w.reset_button.click()
            self._did(old, bool(old.generated) if self.tokens else None)
            assert self.w.state.n_steps == 0 and self.w.state.prompt == old.prompt

        @rule(mode=st.sampled_from(["greedy", "sample", "beam", "speculative"]))
        def mode(self, mode):
            tokens = self.tokens
            self._set(self.w.strategy, mode, True if tokens and mode in token_modes else None)
            assert self.w.strategy.value == mode and mode_of(self.w.state) == mode

        @rule(t=st.sampled_from([0.0, 0.05, 0.5, 1.0, 2.0]))
        def temperature(self, t):
            self._set(self.w.temperature, t, t > 0 and self.tokens)

        @rule(k=st.integers(0, 10), p=st.sampled_from([0.0, 0.3, 0.9, 1.0]))
        def filters(self, k, p):
            self._set(self.w.top_k, k, self.tokens)
            self._set(self.w.top_p, p, p > 0 and self.tokens)

        @rule(seed=st.integers(-3, 10))
        def seed(self, seed):
            self._set(self.w.seed, seed, seed >= 0 and self.tokens)

        @rule(data=st.data(), name=st.sampled_from(sorted(mode_settings)))
        def mode_setting(self, data, name):
            value = data.draw(st.sampled_from(mode_settings[name]))
            self._set(getattr(self.w, name), value, False if self.tokens else None)

        @precondition(lambda self: len(self.before) < 40)
        @rule(prompt=st.sampled_from(["ROMEO:", "  ", "我", "To be, or not"]))
        def prompt(self, prompt):
            old = self.w.state
            if self.w.prompt_box.value == prompt:  # no change event: call what Enter calls
                self.w.set_prompt(prompt)
            else:
                self.w.prompt_box.value = prompt
            self._did(old, bool(prompt.strip()) or None)
            if self.w.error:
                assert self.w.prompt_box.value == prompt  # kept, so it can be edited
            else:
                assert self.w.prompt_box.value == self.w.state.prompt

        @invariant()
        def consistent(self):
            s, w = self.w.state, self.w
            assert "Traceback" not in w.status and "unexpected" not in w.status
            assert w.strategy.value == mode_of(s)
            assert w.text == s.text(tok) and shown_steps(w) == s.n_steps
            assert plain(w.text_view.value).replace("↵\n", "\n") == w.text
            assert w.static_html().count('class="dw-snapshot"') == 1
            for name in ("attention", "cache", "filters"):
                assert w.pane_html(name)  # every pane draws, in every mode
            if mode_of(s) == "speculative":
                assert s.passes == len(s.rounds) <= len(s.generated)
            if not self.tokens:
                return
            assert s.ids == s.prompt_ids + s.generated and len(s.probs) == len(s.generated)
            assert all(0 < p <= 1 for p in s.probs)  # so the log-probability only goes down
            assert w.text == s.prompt + tok.decode(list(s.generated))
            assert f"{min(len(s.ids), 32)} / 32 tokens" in w.stats_view.value
            assert f"{s.log_prob:.4f}" in w.stats_view.value
            assert w.temperature.value == s.settings.temperature
            assert w.top_k.value == (s.settings.top_k or 0)
            assert w.seed.value == s.settings.seed
            assert bool(w.candidates()) == (len(s.ids) < 32)

    run_state_machine_as_test(
        Machine, settings=settings(max_examples=25, stateful_step_count=20, deadline=None)
    )
