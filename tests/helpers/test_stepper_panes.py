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
from tests._html import plain


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
