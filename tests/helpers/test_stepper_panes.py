"""helpers.stepper_panes: the panes draw the data of helpers.step_internals, nothing else."""

import html
import re

import pytest
import torch

from helpers.step_internals import CacheInfo, StageColumn, cache_info
from helpers.stepper_panes import (
    OVERVIEW_POSITIONS,
    attention_strip_html,
    cache_html,
    heads_overview_html,
    panes_html,
    pipeline_html,
)
from tests._html import english_words, plain


def weights(L=2, H=3, T=5, seed=0):
    """A random (L, H, T) attention row: each head's weights sum to 1."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(L, H, T, generator=g).softmax(-1)


def test_the_strip_shows_one_cell_per_token_with_its_weight():
    attention, tokens = weights(), ["A", "·b", "<", "↵", "d"]
    page = attention_strip_html(attention, tokens, 1, 2)
    titles = [html.unescape(t) for t in re.findall(r'title="([^"]+)"', page)]
    row = attention[1, 2].tolist()
    assert titles == [
        f"position {i}: {t}, weight {w:.4f}"
        for i, (t, w) in enumerate(zip(tokens, row, strict=True))
    ]
    assert "&lt;" in page and "<<" not in page  # token text is escaped
    best = max(range(5), key=row.__getitem__)
    assert f"the most, {row[best]:.4f}, on {tokens[best]} (position {best})" in plain(page)
    assert "layer 1, head 2" in plain(page) and "newest token d (position 4)" in plain(page)


def test_the_overview_has_a_cell_per_head_and_outlines_the_chosen_one():
    attention, tokens = weights(T=30), [f"t{i}" for i in range(30)]
    page = heads_overview_html(attention, tokens, selected=(1, 0))
    assert page.count("<td") == 2 * 3 and page.count("width:5px") == 6 * OVERVIEW_POSITIONS
    assert "the last 24 of 30 positions" in plain(page)
    assert page.count("border:2px solid #0072B2") == 1
    best = int(attention[0, 1].argmax())
    assert f"t{best} {float(attention[0, 1, best]):.2f}" in plain(page)


def test_bad_attention_input_names_the_value_and_the_range():
    attention, tokens = weights(), list("abcde")
    with pytest.raises(
        ValueError, match=r"layer=2 is out of range: it must be in the range 0\.\.1"
    ):
        attention_strip_html(attention, tokens, 2, 0)
    with pytest.raises(
        ValueError, match=r"head=-1 is out of range: it must be in the range 0\.\.2"
    ):
        attention_strip_html(attention, tokens, 0, -1)
    with pytest.raises(TypeError, match="head must be an int"):
        attention_strip_html(attention, tokens, 0, 1.5)
    with pytest.raises(ValueError, match="tokens has 4 entries; attention covers 5 positions"):
        heads_overview_html(attention, tokens[:4])
    with pytest.raises(ValueError, match="attention must have 3 dimensions"):
        attention_strip_html(attention[0], tokens, 0, 0)


def test_the_cache_pane_counts_and_says_what_comes_next(bundled, tiny):
    model, _ = bundled
    info = cache_info(model, list(range(1, 13)))
    text = plain(cache_html(info, measured=info.bytes))
    assert "12 positions, 98,304 bytes (96.0 KiB) (the cache's tensors: 98,304 bytes)" in text
    assert "12 / 256 of the context window (4.7%)" in text
    assert "4 layers × 2 (key, value) × 4 heads × 64 values × 4 bytes = 8,192 bytes" in text
    assert "reads the 12 cached positions (98,304 bytes) and runs 1 new token" in text
    small, _ = tiny  # a 32-token window
    full = plain(cache_html(cache_info(small, list(range(5, 37))), dropped_text="To"))
    assert "32 / 32 of the context window (100.0%)" in full
    assert "The next Step picks token 33 from these scores; then this stepper stops" in full
    assert "drop the oldest token To (id 5)" in full and "all 32 positions" in full
    over = plain(cache_html(cache_info(small, list(range(5, 38))), dropped_text="To"))
    assert "The text is 33 tokens: this stepper stops (Undo or Reset)" in over
    with pytest.raises(TypeError, match="info must be a helpers.step_internals.CacheInfo"):
        cache_html({"positions": 3})
    assert isinstance(info, CacheInfo)


def test_the_cache_pane_says_what_the_next_pass_runs_in_each_mode(bundled):
    model, _ = bundled
    info = cache_info(model, list(range(1, 13)))
    beam = plain(cache_html(info, beams=3))
    assert "one batched pass: each running beam (up to 3) reads its 12 cached positions" in beam
    assert "(98,304 bytes a beam) and runs 1 new token" in beam and "8,192 bytes a beam" in beam
    assert "The search is over" in plain(cache_html(info, beams=0))
    round_ = plain(cache_html(info, guesses=4))
    assert "Next round runs one pass" in round_ and "(up to 4: at most 5 tokens)" in round_
    assert "runs 1 new token" not in round_
    for bad, match in (({"beams": -1}, r"beams=-1"), ({"guesses": 0}, r"guesses=0")):
        with pytest.raises(ValueError, match=match):
            cache_html(info, **bad)


def test_the_pipeline_pane_shows_each_stage_and_what_it_cut():
    columns = [
        StageColumn("softmax", (0.5, 0.3, 0.2), 100),
        StageColumn("top-k 2", (0.6, 0.4, 0.0), 2),
    ]
    page = pipeline_html(columns, ["a", "b", "c"], greedy=False)
    rows = [plain(r) for r in re.findall(r"<tr>.*?</tr>", page)]
    assert rows[1:] == ["a0.50000.6000", "b0.30000.4000", "c0.2000cut"]
    assert "tokens left1002" in plain(page) and "The draw uses the last column" in plain(page)
    assert "only when sampling" in plain(pipeline_html(columns, ["a", "b", "c"], greedy=True))
    with pytest.raises(ValueError, match="every column must hold 2 probabilities"):
        pipeline_html(columns, ["a", "b"], greedy=True)
    with pytest.raises(TypeError, match="columns must be a non-empty list"):
        pipeline_html([], [], greedy=True)


def test_panes_sit_side_by_side_in_one_block():
    page = panes_html("<p>one</p>", "<p>two</p>")
    assert page.startswith('<div class="dw-panes"') and page.count("flex:1 1 460px") == 2


#: Latin letters as their full-width forms (Ａ, ｂ): a token's text drawn that way is data, never
#: an English word the check below could find, and every Latin word left is the helpers' own.
FULL_WIDTH = {c: c + 0xFEE0 for c in [*range(65, 91), *range(97, 123)]}
#: Words the Chinese stepper keeps, and why: "transformers" names the library, "softmax" is
#: the function (the glossary keeps it), "top-k" / "top-p" are the filters' names (glossary),
#: "EOS" the token, "KiB" the unit; "JupyterLab" and "VS Code" are programs. Code (<code>),
#: a settings note ("top_k 关 -> 5": Python argument names) and the text itself (the prompt and
#: its tokens, the .dw-text box) are left out before the check.
KEPT_ZH = {"transformers", "softmax", "top-k", "top-p", "EOS", "KiB", "JupyterLab", "VS Code"}


def _what_the_student_reads(stepper) -> str:
    """Every word of the stepper: its static page (text, panes, mode views, status) with the
    hover titles, and the controls' labels and tooltips."""
    page = stepper.static_html()
    titles = " ".join(html.unescape(t) for t in re.findall(r'title="([^"]*)"', page))
    page = re.sub(r'<div class="dw-text".*?</div>', " ", page, flags=re.S)  # the text: data
    page = re.sub(r"<code>.*?</code>", " ", page, flags=re.S)
    controls = [stepper.step_button, stepper.run_button, stepper.undo_button]
    controls += [stepper.reset_button, stepper.apply_button, *stepper.pane_toggles.values()]
    controls += stepper.candidate_buttons[: len(stepper.candidates())]
    labels = [c.tooltip or "" for c in controls] + [c.description for c in controls[:5]]
    labels += [*stepper.strategy._options_labels, *stepper.strategy.tooltips]
    for slider in (stepper.temperature, stepper.num_beams, stepper.length_penalty, stepper.k):
        labels.append(slider.description)
    labels += [label for label, _ in (*stepper.layer.options, *stepper.head.options)]
    words = " ".join([plain(page), titles, stepper.status, *labels])
    return re.sub(r"[a-z_]+ \S+ -> \S+", " ", words)  # a settings note: argument names


@pytest.mark.parametrize("mode", ["greedy", "sample", "beam", "speculative"])
def test_no_english_word_is_left_in_the_chinese_stepper(bundled, draft, monkeypatch, mode):
    """Under lang "zh", after steps, an undo, a reset and its undo in each mode, the panes
    (attention, KV cache, filters), the mode's views (the beam table, the speculative round,
    their counts and status lines) and the controls have no English word left."""
    from helpers import messages
    from helpers.widgets import DecodingStepper

    model, tok = bundled
    decode = tok.decode
    monkeypatch.setattr(tok, "decode", lambda *a, **k: decode(*a, **k).translate(FULL_WIDTH))
    messages.set_lang("zh")
    try:
        stepper = DecodingStepper(model, tok, "ROMEO:", draft=draft)
        stepper.show_panes("attention", "cache", "filters")
        seen = [_what_the_student_reads(stepper)]
        actions = [lambda: stepper.set_mode(mode)]
        if mode == "sample":
            actions.append(lambda: stepper.set_settings(top_k=5, temperature=0.8))
        if mode == "beam":  # three steps end the search: its finished texts and verdict
            actions.append(lambda: stepper.set_mode_settings(max_new_tokens=3))
        actions += [stepper.step, stepper.step, stepper.undo, stepper.step, stepper.step]
        actions += [lambda: stepper.run(2)] if mode != "beam" else []
        actions += [stepper.reset, stepper.undo]
        for action in actions:
            assert action(), stepper.status
            seen.append(_what_the_student_reads(stepper))
        if mode in ("beam", "speculative"):  # a token's button is for greedy and sample only
            assert not stepper.force(0) and stepper.error
            seen.append(_what_the_student_reads(stepper))
        while stepper.state.history:  # back to the start: "undone: the switch to ... mode"
            stepper.undo()
            seen.append(_what_the_student_reads(stepper))
    finally:
        messages.set_lang("en")
    left = sorted({w for words in seen for w in english_words(words, KEPT_ZH, quoted=False)})
    assert not left, f"{mode}: English left in the Chinese stepper: {left}"
    if mode == "beam":
        assert any("搜索结束" in words for words in seen)  # the finished search was shown
    if mode == "speculative":
        assert any("第 3 轮" in words for words in seen)
