"""Plotly figure builders shared by the notebooks (used by every notebook, 00 to 06).

Every builder returns a ``plotly.graph_objects.Figure`` laid out by ``layout``, the one place
the template, font, margins and height are set: ``bar``, ``heatmap``, ``lines`` and
``attention_figure`` (notebook 04's weights per layer and head, with a slider). Numbers are
rounded and passed as plain Python lists, so that a figure's stored JSON is the same on every
machine (nbval compares it exactly; numpy arrays would be stored as base64 of the last float
bit). Fonts are large enough for a projector.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

import plotly.graph_objects as go
import plotly.io as pio

from helpers._checks import BadType, BadValue

DIGITS = 4
FONT = {"size": 15}
#: One colour-blind-safe palette for every figure (Okabe and Ito): blue, orange, bluish green,
#: vermillion, sky blue, reddish purple, yellow, black. Plotly's default puts red beside green.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
#: The widget's error line: dark red text on pale red (text that says what is wrong, not data).
ERROR_TEXT, ERROR_BACKGROUND = "#b00020", "#fdecea"
#: A second cue beside colour, for print: blue and bluish green turn the same grey on a
#: black-and-white printer (handouts get printed), so successive lines get their own dash and
#: marker and successive bar series their own fill pattern. Plotly cycles these per trace.
DASHES = ["solid", "dash", "dot", "dashdot"]  # four: each cycle entry adds ~1 KB to every figure
SYMBOLS = ["circle", "square", "diamond", "triangle-up"]
PATTERNS = ["", "/", ".", "x"]
pio.templates["course"] = go.layout.Template(
    layout={"colorway": PALETTE, "font": FONT},
    data={
        "scatter": [
            go.Scatter(line_dash=d, marker_symbol=s) for d, s in zip(DASHES, SYMBOLS, strict=True)
        ],
        "bar": [go.Bar(marker_pattern_shape=p) for p in PATTERNS],
    },
)
#: The template of every figure; ``setup_notebook`` makes it the default, so figures a notebook
#: builds itself (``go.Figure(...)``) use the palette too.
TEMPLATE = "plotly_white+course"


def rounded(values, digits: int = DIGITS):
    """``values`` (tensor, array, nested lists) as nested Python lists of rounded floats."""
    if hasattr(values, "detach"):
        values = values.detach().cpu()
    if hasattr(values, "tolist") and not isinstance(values, str):
        values = values.tolist()
    if isinstance(values, (list, tuple)):
        return [rounded(v, digits) for v in values]
    if values is None or isinstance(values, str):
        return values
    v = round(float(values), digits)
    return 0.0 if v == 0 else v  # no "-0.0"


def show_token(text: str) -> str:
    """A token's text made visible on an axis: spaces as '·', newlines as '↵'."""
    if not isinstance(text, str):
        raise BadType(f"text must be a str (a token's text), got {type(text).__name__} {text!r}")
    return text.replace(" ", "·").replace("\n", "↵").replace("\t", "⇥") or "∅"


def unique_labels(labels: Sequence[str]) -> list[str]:
    """Make axis labels unique (plotly merges equal category labels) by numbering repeats."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        n = seen.get(label, 0)
        seen[label] = n + 1
        out.append(label if n == 0 else f"{label} ({n + 1})")
    return out


def log_ticks(low: float, high: float) -> list[float]:
    """Explicit 1-2-5 ticks covering ``low..high`` for a log axis (plotly's own labels on log
    axes skip values or turn into bare digits on a projector)."""
    import math

    ticks, decade = [], 10 ** math.floor(math.log10(low))
    while decade <= high * 10:
        ticks += [m * decade for m in (1, 2, 5) if low / 2 <= m * decade <= high * 2]
        decade *= 10
    return [round(t, 12) for t in ticks]


def all_ticks(labels: Sequence[str]) -> dict:
    """Axis settings that show EVERY category label (plotly hides some when they crowd), turned
    upright when there are many."""
    labels = list(labels)
    many = len(labels) > 15
    return {
        "tickmode": "array",
        "tickvals": labels,
        "ticktext": labels,
        "tickangle": -90 if many else None,
        "tickfont": {"size": 12} if many else None,
    }


#: The margins of every figure (pixels): room for the y-axis labels and the title, little else.
MARGIN = {"l": 60, "r": 20, "t": 60, "b": 50}
#: Figures have no fixed width: a live one fills the output area, and the PNG stored beside it
#: is 580 px wide (``setup_notebook``), narrower than the narrowest output area measured (592 px,
#: JupyterLab at 1024x768 with the file browser open). A title line of at most this many
#: characters fits that width at the projector font; plotly never wraps a title itself.
TITLE_CHARS = 50
#: The extra top margin for each further title line (pixels).
TITLE_LINE = 22


def wrap_title(title: str, chars: int = TITLE_CHARS) -> str:
    """``title`` broken into lines of at most ``chars`` characters (plotly's ``<br>``) at spaces."""
    import textwrap

    if "<br>" in title or len(title) <= chars:
        return title
    return "<br>".join(textwrap.wrap(title, chars, break_long_words=False))


def layout(fig: go.Figure, title: str = "", height: int = 420, **kw) -> go.Figure:
    """The course's layout for ``fig``: its title, the template, the projector font, ``height``
    and the margins, plus anything figure-specific in ``kw`` (axis titles, a slider...). Every
    builder here, and the stepper's figure, lays out through this one function. A long title
    is wrapped (``wrap_title``) and the top margin grows by a line for each line it gains."""
    if isinstance(title, str):
        title = wrap_title(title)
        margin = {**MARGIN, "t": MARGIN["t"] + TITLE_LINE * title.count("<br>")}
    else:
        margin = MARGIN
    fig.update_layout(title=title, template=TEMPLATE, font=FONT, height=height, margin=margin, **kw)
    return fig


def bar(
    labels,
    values,
    *,
    title="",
    xaxis="",
    yaxis="probability",
    colors=None,
    hover=None,
    height=420,
    digits=DIGITS,
) -> go.Figure:
    """A vertical bar chart of ``values`` per label (e.g. the top next-token candidates)."""
    vals = rounded(values, digits)
    x = unique_labels(list(labels))
    if len(x) != len(vals):
        raise BadValue(f"{len(x)} labels for {len(vals)} values: give one label per bar")
    fig = go.Figure(
        go.Bar(
            x=x,
            y=vals,
            marker_color=colors,
            text=[f"{v:.{min(digits, 3)}f}" for v in vals],
            textposition="outside",
            hovertext=hover,
            hoverinfo="text" if hover else None,
        )
    )
    fig = layout(fig, title, height, xaxis_title=xaxis, yaxis_title=yaxis)
    return fig.update_xaxes(**all_ticks(x))


def heatmap(
    z,
    *,
    x=None,
    y=None,
    title="",
    xaxis="",
    yaxis="",
    colorscale="Blues",
    zmin=None,
    zmax=None,
    text=None,
    height=480,
    digits=DIGITS,
    reversed_y=True,
) -> go.Figure:
    """A heatmap of the 2-D ``z`` (row i = y[i]); ``text`` is written in each cell if given."""
    fig = go.Figure(
        go.Heatmap(
            z=rounded(z, digits),
            x=unique_labels(x) if x else None,
            y=unique_labels(y) if y else None,
            colorscale=colorscale,
            zmin=zmin,
            zmax=zmax,
            text=text,
            texttemplate="%{text}" if text else None,
        )
    )
    fig = layout(fig, title, height, xaxis_title=xaxis, yaxis_title=yaxis)
    if x:
        fig.update_xaxes(**all_ticks(unique_labels(x)))
    if y:
        fig.update_yaxes(**all_ticks(unique_labels(y)))
    if reversed_y:
        fig.update_yaxes(autorange="reversed")  # row 0 at the top, like a matrix
    return fig


def lines(
    x,
    series: dict,
    *,
    title="",
    xaxis="",
    yaxis="",
    height=420,
    mode="lines+markers",
    log_y=False,
    digits=DIGITS,
) -> go.Figure:
    """One line per entry of ``series`` (name -> y values) over the shared ``x``."""
    xs = rounded(x, digits)
    for name, ys in series.items():
        if len(ys) != len(xs):
            raise BadValue(f"series {name!r} has {len(ys)} values for {len(xs)} x values")
    fig = go.Figure()
    for name, ys in series.items():
        fig.add_trace(go.Scatter(x=rounded(x, digits), y=rounded(ys, digits), mode=mode, name=name))
    fig = layout(fig, title, height, xaxis_title=xaxis, yaxis_title=yaxis)
    if log_y:
        values = [v for ys in series.values() for v in rounded(ys, digits) if v and v > 0]
        fig.update_yaxes(
            type="log", tickvals=log_ticks(min(values), max(values)) if values else None
        )
    return fig


def attention_figure(weights, tokens, *, digits: int = 3, title: str = "") -> go.Figure:
    """One heatmap per (layer, head) of ``weights`` (L, H, T, T), a slider picks which one
    (notebook 04, section 3; the weights come from ``helpers.attention.attention_weights``).

    Built from plain go.Figure traces and a slider (no widget), so it works in a static export.
    """
    shape = tuple(weights.shape) if hasattr(weights, "shape") else type(weights)
    if not hasattr(weights, "detach") or len(shape) != 4:
        raise BadValue(f"weights must be a (layers, heads, T, T) tensor; got {shape}")
    L, H, T, _ = shape
    if len(tokens) != T:
        raise BadValue(f"{len(tokens)} token labels for T={T} positions: give one per position")
    labels = unique_labels([show_token(t) for t in tokens])
    pairs = [(layer, head) for layer in range(L) for head in range(H)]
    fig = go.Figure()
    for layer, head in pairs:
        first = (layer, head) == (0, 0)
        fig.add_trace(
            go.Heatmap(
                z=rounded(weights[layer, head], digits),
                x=labels,
                y=labels,
                zmin=0,
                zmax=1,
                colorscale="Blues",
                visible=first,
                name=f"layer {layer}, head {head}",
            )
        )
    steps = [  # step i shows trace i only, and names it in the title
        {
            "label": f"L{layer}H{head}",  # short (16 labels must fit), never like a decimal
            "method": "update",
            "args": [
                {"visible": [j == i for j in range(len(pairs))]},
                {"title.text": f"{title} layer {layer}, head {head}".strip()},
            ],
        }
        for i, (layer, head) in enumerate(pairs)
    ]
    fig = layout(
        fig,
        f"{title} layer 0, head 0".strip(),
        620,
        xaxis_title="key: the token looked at",
        yaxis_title="query: the token looking",
        sliders=[
            {
                "steps": steps,
                "currentvalue": {"prefix": "showing "},
                "pad": {"t": 60},
                "font": {"size": 12},
            }
        ],
    )
    fig.update_xaxes(**all_ticks(labels)).update_yaxes(**all_ticks(labels))
    return fig.update_yaxes(autorange="reversed")  # row 0 at the top, like a matrix


_KINDS = ("bar", "heatmap", "scatter", "table")  # the kinds of trace alt text names


def _plain(text) -> str:
    """A title or axis label without plotly's HTML (<br>, <b>, <sup>...)."""
    text = text.get("text", "") if isinstance(text, dict) else (text or "")
    text = re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", " ", str(text)))
    return " ".join(text.replace("&nbsp;", " ").split())


def _spaced(left: str, right: str) -> str:
    """``left + right``, with a space where a Latin letter or digit meets a Chinese character
    (as Chinese technical writing spaces them: "一张 16 个系列", not "一张16 个系列")."""
    if left and right:
        pair = left[-1] + right[0]
        if re.fullmatch(r"[A-Za-z0-9][\u4e00-\u9fff]|[\u4e00-\u9fff][A-Za-z0-9]", pair):
            return left + " " + right
    return left + right


def _fill(template: str, **fields) -> str:
    """``template.format(**fields)``, each field joined to its neighbours by ``_spaced``."""
    out = ""
    for literal, name, spec, _ in string.Formatter().parse(template):
        out = _spaced(out, literal)
        if name is not None:
            out = _spaced(out, format(fields[name], spec))
    return out


def figure_alt(figure, lang: str | None = None) -> str:
    """Alt text for a figure's static image: its title and what it shows.

    Built from the figure itself (title, kinds of trace, their names, axis titles, panel
    titles; for a diagram drawn with shapes, its labels), so that it says what the picture
    holds to a reader who cannot see it. ``tests/store_outputs.py`` stores it beside each
    figure's PNG (nbconvert's classic template writes it as the image's alt); the offline site
    uses it too. ``lang``: the language of the sentence around the figure's own words ("en"
    or "zh"; default ``helpers.messages.LANG``): a Chinese notebook's figure, whose words are
    already Chinese, gets a Chinese sentence.
    """
    from helpers import messages

    if not isinstance(figure, go.Figure | dict):
        raise BadType(f"figure must be a plotly Figure or its dict, got {type(figure).__name__}")
    lang = messages.LANG if lang is None else lang
    if lang not in messages.LANGS:
        raise ValueError(f"lang={lang!r} must be one of {messages.LANGS}")

    def say(key: str, **fields) -> str:
        template = messages.MESSAGES[lang][key]
        return _fill(template, **fields) if lang == "zh" else template.format(**fields)

    fig = figure.to_dict() if isinstance(figure, go.Figure) else figure
    layout, traces = fig.get("layout", {}), fig.get("data", [])
    title = _plain(layout.get("title", "")) or say("alt.figure")
    kinds = []
    for t in traces:
        kind = t.get("type", "scatter")
        if kind == "scatter" and t.get("mode") == "markers":
            kind = say("alt.markers")
        else:
            kind = say(f"alt.{kind}") if kind in _KINDS else say("alt.other", kind=kind)
        if kind not in kinds:
            kinds.append(kind)
    names = list(dict.fromkeys(_plain(t["name"]) for t in traces if t.get("name")))
    labels = [_plain(a.get("text", "")) for a in layout.get("annotations", [])]
    comma, semicolon = say("alt.comma"), say("alt.semicolon")
    if kinds:
        what = say("alt.and").join(kinds)
        if len(names) > 4:
            what = say("alt.of_series", kinds=what, n=len(names), names=comma.join(names[:3]))
        elif names:
            what = say("alt.of", kinds=what, names=comma.join(names))
    else:
        long = list(dict.fromkeys(x for x in labels if len(x) > 12))
        what = (
            say("alt.diagram_labels", labels=semicolon.join(long[:8]))
            if long
            else say("alt.diagram")
        )
    axes = []
    for key in sorted(k for k in layout if k.startswith(("xaxis", "yaxis"))):
        axis_title = _plain(layout[key].get("title", "")) if isinstance(layout[key], dict) else ""
        axis = say("alt.axis", axis=key[0], title=axis_title)
        if axis_title and axis not in axes:
            axes.append(axis)
    text = title if title[-1] in ".?!:。？！：" else title + say("alt.stop")
    text += say("alt.an" if what[0] in "aeiou" else "alt.a", what=what)
    if axes:
        text += say("alt.axes", axes=semicolon.join(axes))
    panels = [
        _plain(a.get("text", ""))
        for a in layout.get("annotations", [])
        if a.get("xref") == a.get("yref") == "paper" and a.get("text")
    ]
    if kinds and len(panels) > 1:
        text += say("alt.panels", panels=semicolon.join(panels))
    if layout.get("sliders"):
        steps = len(layout["sliders"][0].get("steps", []))
        text += say("alt.slider", n=steps)
    return text + say("alt.stop")
