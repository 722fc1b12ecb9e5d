"""helpers.stepper_view: the static rendering shows the same state as the live widget."""

import math
import re
from decimal import Decimal

import pytest

from helpers.plots import show_token
from helpers.stepper_view import SNAPSHOT_NOTE, candidates_figure, state_html
from tests._html import english_words, plain


# --------------------------------------------------------------------------- static rendering
def test_the_total_log_probability_adds_up_the_hover_boxes(stepper):
    """Notebook 02, section 3: the total shown is the sum of the logs of the p in the hover
    boxes, to the rounding of the printed p (one box per generated token)."""
    stepper.strategy.value = "sample"
    stepper.temperature.value = 1.5  # unlikely tokens too: p printed with 2 significant digits
    stepper.run(12)
    shown = re.findall(r"p = ([0-9.e-]+)", stepper.text_view.value)
    assert len(shown) == stepper.state.n_steps == 12
    half = [0.5 * 10.0 ** Decimal(s).as_tuple().exponent for s in shown]
    low = sum(math.log(float(s) - h) for s, h in zip(shown, half, strict=True))
    high = sum(math.log(float(s) + h) for s, h in zip(shown, half, strict=True))
    assert low <= stepper.state.log_prob <= high
    assert f"{stepper.state.log_prob:.4f}" in stepper.stats_view.value


def test_static_rendering_shows_the_same_state(stepper):
    stepper.run(3)
    stepper.strategy.value = "sample"
    stepper.top_k.value = 4
    page = stepper.static_html()
    assert stepper.text_view.value in page and stepper.stats_view.value in page
    assert page.startswith(
        SNAPSHOT_NOTE
        + state_html(stepper.state, stepper.tokenizer, stepper.candidates(), 256, stepper.status)
    )
    assert "Snapshot" in plain(page) and "live widget" in plain(page)  # says what it is
    assert f"last action: {stepper.status}" in plain(page)  # a message of the past, not an offer
    assert "click" not in plain(page) and "Press Step" not in plain(page)
    assert "table-layout:auto" in page  # JupyterLab's fixed layout squeezed the token column
    assert plain(page).count("cut by top-k") == 4
    fig = stepper.figure()
    assert [t.name for t in fig.data] == [
        "model (temperature 1)",
        "after temperature / top-k / top-p",
    ]
    assert list(fig.data[0].x) == [show_token(c.text) for c in stepper.candidates()]
    assert list(fig.data[1].text)[4:] == ["cut"] * 4
    assert all(isinstance(v, float) for v in fig.data[0].y)
    bundle = stepper._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"] == page


def test_greedy_figure_has_one_trace(stepper):
    fig = candidates_figure(stepper.candidates(), stepper.state.settings, "t")
    assert len(fig.data) == 1 and fig.layout.title.text == "t"


def test_the_candidate_figures_hover_and_bar_texts_follow_the_language(stepper):
    from helpers import messages

    stepper.set_settings(strategy="sample", top_k=3)
    texts = {}
    for lang in ("en", "zh"):
        messages.set_lang(lang)
        try:
            fig = candidates_figure(stepper.candidates(), stepper.state.settings, "t")
        finally:
            messages.set_lang("en")
        texts[lang] = (list(fig.data[0].hovertext), list(fig.data[1].text))
    (hover_en, bars_en), (hover_zh, bars_zh) = texts["en"], texts["zh"]
    cut = [c for c in stepper.candidates() if c.cut][0]
    assert f"token {cut.token_id}, cut by top-k" in hover_en and "cut" in bars_en
    assert f"词元 {cut.token_id}，被 top-k 砍掉" in hover_zh and "砍掉" in bars_zh
    assert not [t for t in hover_zh + bars_zh if english_words(t, ["top-k"])]


# --------------------------------------------------------------------------- contrast (WCAG AA)
def test_the_contrast_ratio_is_wcags():
    from helpers.stepper_view import contrast_ratio

    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#ffffff", "#767676") == pytest.approx(4.54, abs=0.01)  # WebAIM's
    # the old candidate buttons: white on ipywidgets' "info" teal, under 4.5
    assert contrast_ratio("#ffffff", "#00bcd4") < 4.5
    with pytest.raises(ValueError, match=r"colour must be written #rrggbb, got 'teal'"):
        contrast_ratio("teal", "#ffffff")


def test_every_text_colour_on_its_background_passes_wcag_aa(stepper):
    from helpers.stepper_view import TEXT_ON_BACKGROUND, contrast_ratio

    low = {
        name: round(contrast_ratio(fg, bg), 2)
        for name, (fg, bg) in TEXT_ON_BACKGROUND.items()
        if contrast_ratio(fg, bg) < 4.5
    }
    assert not low, low
    # every text colour the snapshot and the widget write is one of the pairs checked above
    stepper.run(2)
    stepper.set_settings(strategy="sample", top_k=3)
    stepper.show_panes("attention", "cache", "filters")
    pages = [stepper.static_html(), *(v.value for v in stepper.pane_views.values())]
    written = re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]+)\b", "".join(pages))
    written = {c.lower() if len(c) == 7 else "#" + "".join(2 * x for x in c[1:]) for c in written}
    checked = {fg.lower() for fg, _ in TEXT_ON_BACKGROUND.values()}
    swatches = {"#0072b2", "#e69f00"}  # the legend's ■ squares: colour samples, not text
    assert written and written - checked - swatches == set()
