"""Figures readable on a projector and by colour-blind viewers: one palette, explicit log ticks."""

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from helpers import plots, setup_notebook
from helpers.plots import bar, figure_alt, lines


def test_one_colour_blind_safe_palette_for_every_figure():
    setup_notebook(seed=0)
    assert pio.templates.default == plots.TEMPLATE
    colorway = list(pio.templates[plots.TEMPLATE].layout.colorway)
    assert colorway == plots.PALETTE  # Okabe and Ito: no red beside green
    assert "#EF553B" not in colorway and "#00cc96" not in colorway  # plotly's red and green


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
