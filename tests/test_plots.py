"""Figures readable on a projector and by colour-blind viewers: one palette, explicit log ticks."""

import plotly.io as pio

from helpers import plots, setup_notebook


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
