"""Figures readable on a projector and by colour-blind viewers: one palette, explicit log ticks."""

import os
import re
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import torch

from helpers import plots, setup_notebook
from helpers.attention import (
    attention_weights,
)
from helpers.plots import attention_figure, bar, figure_alt, lines

ROOT = Path(__file__).resolve().parents[2]


def test_one_colour_blind_safe_palette_for_every_figure():
    setup_notebook(seed=0)
    assert pio.templates.default == plots.TEMPLATE
    colorway = list(pio.templates[plots.TEMPLATE].layout.colorway)
    assert colorway == plots.PALETTE  # Okabe and Ito: no red beside green
    assert "#EF553B" not in colorway and "#00cc96" not in colorway  # plotly's red and green


def grey(colour: str) -> float:
    """The luminance a black-and-white printer keeps of a "#RRGGBB" colour (Rec. 601 weights)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


def test_lines_and_bars_that_print_as_the_same_grey_differ_in_dash_or_pattern():
    """Handouts get printed: the palette's blue and bluish green print as nearly the same grey
    (luminance 87 and 106 of 255), so colour alone cannot tell them apart. The
    template gives the first traces of a figure distinct dashes, markers and bar patterns."""
    assert abs(grey(plots.PALETTE[0]) - grey(plots.PALETTE[2])) < 20  # why the cue is needed
    template = pio.templates[plots.TEMPLATE].data
    n = len(plots.DASHES)
    cues = [(t.line.dash, t.marker.symbol) for t in template.scatter]
    patterns = [t.marker.pattern.shape for t in template.bar]
    assert len(cues) == len(set(cues)) == n and len(patterns) == len(set(patterns)) == n
    # every figure of the notebooks has at most n traces of one kind, so none repeats a cue
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for out in cell.get("outputs", []):
                fig = out.get("data", {}).get("application/vnd.plotly.v1+json")
                for kind in ("scatter", "bar") if fig else ():
                    count = sum(t.get("type", "scatter") == kind for t in fig["data"])
                    assert count <= n, f"{path.name}: {count} {kind} traces, {n} cues"


def every_figure():
    """One figure from every builder of the course: plots' own and the stepper's."""

    from helpers.sampling import Candidate, SamplingSettings
    from helpers.stepper_view import candidates_figure

    weights = torch.full((2, 2, 3, 3), 1 / 3)  # (L, H, T, T)
    cands = [Candidate(5, "a", 0.6, 0.7, ""), Candidate(6, "b", 0.3, 0.0, "top-k")]
    return {
        "bar": lambda: plots.bar(["a", "b"], [0.25, 0.75], title="t"),
        "heatmap": lambda: plots.heatmap([[1, 0], [0, 1]], x=["a", "b"], y=["a", "b"]),
        "lines": lambda: plots.lines([1, 2], {"s": [1.0, 2.0]}),
        "attention_figure": lambda: plots.attention_figure(weights, ["a", "b", "c"], title="w"),
        "candidates_figure": lambda: candidates_figure(cands, SamplingSettings("sample")),
    }


@pytest.mark.parametrize("name", list(every_figure()))
def test_every_figure_is_laid_out_by_the_one_layout(name, monkeypatch):
    import helpers.stepper_view

    calls, layout = [], plots.layout

    def spy(fig, *args, **kw):
        calls.append(name)
        return layout(fig, *args, **kw)

    monkeypatch.setattr(plots, "layout", spy)
    monkeypatch.setattr(helpers.stepper_view, "layout", spy)
    fig = every_figure()[name]()
    assert calls == [name]  # laid out once, by plots.layout
    assert fig.layout.margin.to_plotly_json() == plots.MARGIN
    assert fig.layout.font.to_plotly_json() == plots.FONT and fig.layout.height
    assert fig.layout.template == go.Figure(layout={"template": plots.TEMPLATE}).layout.template


def test_attention_figure_lives_in_plots_beside_the_other_builders():
    import helpers.attention

    assert plots.attention_figure.__module__ == "helpers.plots"
    assert not hasattr(helpers.attention, "attention_figure")  # one definition, not two
    fig = every_figure()["attention_figure"]()
    assert len(fig.data) == 4 and [t.visible for t in fig.data] == [True, False, False, False]
    assert fig.layout.title.text == "w layer 0, head 0" and fig.layout.height == 620


def test_log_axes_get_explicit_ticks():
    assert plots.log_ticks(2.4, 883) == [2, 5, 10, 20, 50, 100, 200, 500, 1000]
    fig = plots.lines([1, 2, 3], {"a": [2.4, 30.0, 883.0]}, log_y=True)
    assert fig.layout.yaxis.type == "log"
    assert list(fig.layout.yaxis.tickvals) == [2, 5, 10, 20, 50, 100, 200, 500, 1000]


def test_figure_alt_says_the_title_and_what_the_figure_shows():
    fig = bar(["a", "b"], [0.6, 0.4], title="What comes <b>next</b>?<br>after 'x'", xaxis="token")
    alt = figure_alt(fig)
    assert alt.startswith("What comes next? after 'x'")  # plotly's HTML is gone
    assert "bar chart" in alt and "x: token" in alt and "y: probability" in alt
    assert figure_alt(fig.to_dict()) == alt  # the stored JSON gives the same text
    two = lines([1, 2], {"one": [1, 2], "two": [2, 1]}, title="T", xaxis="step", yaxis="loss")
    assert figure_alt(two) == "T. A line chart of one, two (x: step; y: loss)."
    diagram = go.Figure()
    diagram.add_annotation(x=0, y=0, text="the model: one forward pass", showarrow=False)
    assert figure_alt(diagram) == "Figure. A diagram: the model: one forward pass."
    with pytest.raises(TypeError, match="plotly Figure"):
        figure_alt("a title")


def test_figure_alt_frames_a_chinese_figure_in_chinese():
    """A Chinese notebook's figure (its words already Chinese) gets a Chinese sentence, Latin
    and Chinese spaced where they meet; the default follows setup_notebook's language."""
    from helpers import messages

    zh = lines([1, 2], {"温度 0.5": [1, 2], "温度 2.0": [2, 1]}, title="T", xaxis="步", yaxis="p")
    assert figure_alt(zh, "zh") == "T。一张温度 0.5、温度 2.0 的折线图（x：步；y：p）。"
    diagram = go.Figure()
    diagram.add_annotation(x=0, y=0, text="模型：一次前向传播，一个词元", showarrow=False)
    assert figure_alt(diagram, "zh") == "图。一张示意图：模型：一次前向传播，一个词元。"
    many = lines([1], {f"第 {i} 头": [i] for i in range(6)}, title="头", xaxis="x", yaxis="y")
    assert figure_alt(many, "zh").startswith("头。一张 6 个系列（第 0 头、第 1 头、第 2 头 等）")
    messages.set_lang("zh")
    try:
        assert figure_alt(zh) == figure_alt(zh, "zh")
    finally:
        messages.set_lang("en")
    assert figure_alt(zh) == "T. A line chart of 温度 0.5, 温度 2.0 (x: 步; y: p)."
    with pytest.raises(ValueError, match=r"lang='fr' must be one of \('en', 'zh'\)"):
        figure_alt(zh, "fr")
    assert messages.notebook_lang({"metadata": {"course_translation": {"language": "zh-CN"}}})
    assert messages.notebook_lang({"metadata": {}}) == "en"


def _hex_colours(text: str) -> set[str]:
    return {c.upper() for c in re.findall(r"#[0-9a-fA-F]{6}\b", text)}


def _is_grey(colour: str) -> bool:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return max(r, g, b) - min(r, g, b) <= 16  # a grey or near-white: no hue to confuse


def test_every_colour_comes_from_the_palette_or_is_a_grey():
    """One colour-blind-safe palette (Okabe-Ito) in every figure, widget and notebook."""
    allowed = {c.upper() for c in (*plots.PALETTE, plots.ERROR_TEXT, plots.ERROR_BACKGROUND)}
    sources = {
        f"{p.parent.name}/{p.name}": p.read_text()
        for package in ("helpers", "course")
        for p in (ROOT / package).glob("*.py")
    }
    for nb_path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        cells = nbformat.read(nb_path, as_version=4).cells
        sources[nb_path.name] = "\n".join(c.source for c in cells if c.cell_type == "code")
    for name, text in sources.items():
        if name == "helpers/plots.py":
            continue  # the palette itself
        stray = {c for c in _hex_colours(text) if c not in allowed and not _is_grey(c)}
        assert not stray, f"{name} uses colours outside helpers.plots.PALETTE: {sorted(stray)}"


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


def test_long_titles_wrap_to_fit_the_stored_png_width():
    """No figure has a fixed width; a title longer than ``TITLE_CHARS`` is broken at spaces
    (plotly never wraps one) and the top margin grows a line per extra line."""
    long = "Changing step k (row) changes every later step j (column), never an earlier one"
    wrapped = plots.wrap_title(long)
    assert wrapped.replace("<br>", " ") == long
    assert all(len(line) <= plots.TITLE_CHARS for line in wrapped.split("<br>"))
    assert plots.wrap_title("short") == "short"
    fig = bar(["a", "b"], [0.5, 0.5], title=long)
    assert fig.layout.title.text == wrapped
    assert fig.layout.margin.t == plots.MARGIN["t"] + plots.TITLE_LINE * wrapped.count("<br>")
    assert fig.layout.width is None
    assert bar(["a"], [1.0], title="short").layout.margin.t == plots.MARGIN["t"]


@pytest.mark.browser  # kaleido starts Chromium: with the browser step of .ci/run
def test_chinese_text_in_a_figure_png_is_drawn_not_boxes():
    """The PNG stored beside each figure is drawn by Chromium (kaleido), which needs a CJK font
    (.ci/run installs Debian's fonts-wqy-microhei; the README says what a laptop needs). Without
    one every character is the same box, so two titles that differ only in the order of their
    characters give the same picture; with one they differ."""
    import shutil

    if not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is missing (CI=true: the figure PNGs must be checked in CI)")
        pytest.skip("Chromium is missing")

    def png(title: str) -> bytes:
        return go.Figure(layout={"title": title}).to_image(format="png", width=300, height=150)

    assert png("模型生成") != png("生成模型"), "Chinese drawn as boxes: install a CJK font"
