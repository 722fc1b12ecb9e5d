"""The static rendering of the notebook-02 stepper: HTML and a plotly figure of its state.

Taught in notebook 02 (section 3, the snapshot a static export shows). Python prepares the
data (``helpers.stepping``: the state and its ``token_pieces``; ``helpers.sampling``: the
candidate table); these functions only draw it, and ``helpers.widgets.DecodingStepper`` reuses
them for its live panels.

- ``text_html``, ``ids_html``, ``stats_html``, ``candidates_html``, ``status_html`` and
  ``state_html`` (all of them): the panels as HTML strings (the panes that look inside a step
  are ``helpers.stepper_panes``');
- ``candidates_figure``: the candidate panel as a plotly bar chart;
- ``settings_change``: what changed between two settings, as the status line says it;
- ``TEXT_ON_BACKGROUND`` / ``BUTTON_COLOURS`` and ``contrast_ratio``: every colour pair drawn,
  each at least 4.5:1 (WCAG AA), and the ratio that checks them.
"""

from __future__ import annotations

import html
import math
import re

import plotly.graph_objects as go

from helpers._checks import BadValue
from helpers.messages import MESSAGES, text
from helpers.plots import (
    ERROR_BACKGROUND,
    ERROR_TEXT,
    PALETTE,
    layout,
    rounded,
    show_token,
    unique_labels,
)
from helpers.sampling import Candidate, SamplingSettings
from helpers.stepping import DecodingState, Piece, token_pieces

# colours readable on a projector and by most colour-blind viewers:
# blue = the model, orange = after the filters, grey = cut
BLUE, ORANGE, GREY = PALETTE[0], PALETTE[1], "#b0b0b0"  # the course palette (Okabe-Ito)
TEXT, MUTED = "#222222", "#595959"  # body text, and secondary text (ids, notes): both >= 7:1
GEN_SHADE = (31, 119, 180)  # a generated token's background: this colour at 0.2 .. 0.7 opacity

#: The widget's buttons as (text colour, background): set explicitly, because the built-in
#: button styles of ipywidgets put white text on light colours (white on "info" teal is ~3.5:1).
BUTTON_COLOURS = {
    "step": ("#ffffff", BLUE),  # 5.0:1
    "reset": ("#111111", "#e69f00"),
    "candidate": ("#ffffff", BLUE),
    "cut candidate": (TEXT, "#e0e0e0"),
}


def _over_white(rgb: tuple[int, int, int], alpha: float) -> str:
    """The colour ``rgb`` at ``alpha`` opacity shows over a white page, as #rrggbb."""
    return "#" + "".join(f"{round(255 + alpha * (c - 255)):02x}" for c in rgb)


#: Every (text colour, background) pair the stepper and its snapshot draw; WCAG AA asks for a
#: contrast ratio of at least 4.5:1 for each (tests/helpers/test_stepper_view.py computes them).
TEXT_ON_BACKGROUND = {
    **{f"{name} button": pair for name, pair in BUTTON_COLOURS.items()},
    "text": (TEXT, "#fcfcfc"),
    "generated token, most likely": (TEXT, _over_white(GEN_SHADE, 0.7)),
    "attention, most weight": ("#111111", _over_white((0, 114, 178), 0.55)),
    "token ids, prompt": (MUTED, "#ffffff"),
    "token ids, generated": (BLUE, "#ffffff"),
    "status": ("#333333", "#f3f6fa"),
    "error": (ERROR_TEXT, ERROR_BACKGROUND),
    "snapshot note": ("#555555", "#ffffff"),
    "panes": (TEXT, "#ffffff"),
    "draft guess, kept": (TEXT, _over_white((0, 158, 115), 0.17)),  # a tint of the green
    "draft guess, rejected": (MUTED, "#efefef"),
    "the model's own token": (TEXT, _over_white((0, 114, 178), 0.19)),  # a tint of the blue
}


def _luminance(colour: str) -> float:
    """The relative luminance of ``#rrggbb`` (WCAG 2: linearised sRGB, weighted)."""
    if not (isinstance(colour, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", colour)):
        raise BadValue(f"colour must be written #rrggbb, got {colour!r}")
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours: 1 (same) to 21 (black on white)."""
    a, b = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


# --------------------------------------------------------------------------- static HTML
def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def fmt_prob(p: float) -> str:
    """A probability as people read it: 4 decimals, or 2 significant digits below 0.001
    (a sampled token must never read "p = 0.0000")."""
    return f"{p:.4f}" if p >= 0.001 or p == 0 else f"{p:.2g}"


def _shade(p: float) -> str:
    """Background of a generated token: darker blue = the model gave it a higher probability."""
    r, g, b = GEN_SHADE
    return f"rgba({r},{g},{b},{0.2 + 0.5 * round(p, 2):.2f})"


def text_html(state: DecodingState, tokenizer, pieces: list[Piece] | None = None) -> str:
    """The text so far: the prompt plain, each generated token highlighted (hover: its p)."""
    pieces = token_pieces(state, tokenizer) if pieces is None else pieces
    out = [f'<span style="color:{TEXT}">{_esc(state.prompt)}</span>']
    for piece in pieces:
        steps = range(piece.first_step + 1, piece.first_step + len(piece.ids) + 1)
        title = "; ".join(
            text("view.token_title", step=s, id=i, p=fmt_prob(p))
            for s, i, p in zip(steps, piece.ids, piece.probs, strict=True)
        )
        shown = piece.text.replace("\n", "↵\n")  # a newline token stays visible
        out.append(
            f'<span class="dw-gen" title="{_esc(title)}" style="color:{TEXT};background:'
            f"{_shade(min(piece.probs))};border-bottom:3px solid {BLUE};border-left:1px solid #fff;"
            f'padding:1px 0">{_esc(shown)}</span>'
        )
    return (
        '<div class="dw-text" style="font-size:22px;line-height:1.6;white-space:pre-wrap;'
        "font-family:Georgia,serif;padding:10px 12px;border:1px solid #ddd;border-radius:6px;"
        f'min-height:90px;background:#fcfcfc">{"".join(out)}</div>'
    )


def ids_html(state: DecodingState) -> str:
    """The token ids: the prompt's in grey, the generated ones in bold blue."""
    prompt = " ".join(str(i) for i in state.prompt_ids)
    gen = " ".join(str(i) for i in state.generated)
    return (
        '<div class="dw-ids" style="font-family:monospace;font-size:15px;margin-top:6px">'
        f'{text("view.token_ids")} <span style="color:{MUTED}">{prompt}</span> '
        f'<b style="color:{BLUE}">{gen}</b></div>'
    )


def stats_html(state: DecodingState, window: int) -> str:
    """Step count, context length against the window, total log-probability."""
    length = len(state.ids)
    full = length > window  # n_positions tokens still predict one more; past them, none
    pct = round(100 * min(length, window) / window, 1)
    bar_color = PALETTE[3] if full else BLUE  # vermillion: the window is full
    logp = state.log_prob
    return (
        '<div class="dw-stats" style="font-size:18px;margin-top:8px;line-height:1.6">'
        f'<b>{text("view.step")}</b> <span class="dw-steps">{state.n_steps}</span> &nbsp;·&nbsp; '
        f"<b>{text('view.context')}</b> "
        f"{text('view.tokens_of', n=min(length, window), window=window)}"
        f"{text('view.full', n=length) if full else ''}"
        f'<div style="height:8px;background:#eee;border-radius:4px;margin:2px 0 6px 0">'
        f'<div style="width:{pct}%;height:8px;background:{bar_color};border-radius:4px">'
        "</div></div>"
        f"{text('view.log_prob', logp=f'{logp:.4f}', p=f'{math.exp(logp):.4g}')}</div>"
    )


def bar_html(c: Candidate, scale: float, sampling: bool, greedy_pick: bool) -> str:
    """One candidate's bars: its plain probability, and (sampling) what the filters leave."""

    def bar(value, color, label):
        # the longest bar takes 28% of the row, leaving room for its label ("0.2372 ← greedy")
        # at 1024x768 with the file browser open
        width = round(28 * value / scale, 1) if scale > 0 else 0.0
        return (
            '<div style="display:flex;align-items:center;height:17px;margin:1px 0">'
            f'<div style="flex:0 0 {width}%;height:14px;background:{color};'
            'border-radius:2px"></div>'
            f'<span style="margin-left:6px;font-size:15px;white-space:nowrap">{label}</span>'
            "</div>"
        )

    note = text("view.greedy_mark") if greedy_pick else ""
    if not sampling:
        return bar(c.prob, BLUE, f"{fmt_prob(c.prob)}{note}")
    if c.cut:
        return bar(c.prob, GREY, f"{fmt_prob(c.prob)} <i>{text('view.cut_by', name=c.cut)}</i>")
    return bar(c.prob, BLUE, fmt_prob(c.prob)) + bar(
        c.filtered, ORANGE, f"→ {fmt_prob(c.filtered)}"
    )


def _scale(cands: list[Candidate], sampling: bool) -> float:
    values = [round(c.prob, 4) for c in cands]
    if sampling:
        values += [round(c.filtered, 4) for c in cands]
    return max(values, default=0.0)


def legend_html(settings: SamplingSettings, live: bool = True) -> str:
    """The line above the candidate bars: which distribution chooses the next token.
    ``live``: the widget's, which invites a click on a token; the snapshot has no buttons."""
    click = text("view.click") if live else ""
    opening = f'<div style="font-size:15px;margin-bottom:4px">{text("view.next_token")}'
    if settings.strategy == "greedy":
        box = f'<span style="color:{BLUE}">■</span>'
        return f"{opening}{text('view.legend_greedy', box=box, click=click)}</div>"
    s = settings
    filters = [text("view.temperature", value=f"{s.temperature:g}")]
    filters += [f"top-k {s.top_k}"] if s.top_k is not None else []
    filters += [f"top-p {s.top_p:g}"] if s.top_p is not None and s.top_p < 1 else []
    model, after = (f'<span style="color:{c}">■</span>' for c in (BLUE, ORANGE))
    legend = text(
        "view.legend_sample",
        model=model,
        after=after,
        filters=text("view.filters_join").join(filters),
        seed=s.seed,
        click=click,
    )
    return f"{opening}{legend}</div>"


def candidates_html(cands: list[Candidate], settings: SamplingSettings, live: bool = False) -> str:
    """The candidate panel as a static table: token, bars, and which filter cut it."""
    sampling = settings.strategy == "sample"
    scale = _scale(cands, sampling)
    rows = []
    for k, c in enumerate(cands):
        rows.append(
            "<tr>"
            f'<td style="font-family:monospace;font-size:17px;padding:2px 8px;'
            f'white-space:nowrap;text-align:right">{_esc(show_token(c.text))}</td>'
            f'<td style="width:100%">{bar_html(c, scale, sampling, k == 0)}</td>'
            "</tr>"
        )
    return (
        f'<div class="dw-cands">{legend_html(settings, live)}'
        f'<table style="width:100%;border-collapse:collapse;table-layout:auto">'
        f"{''.join(rows)}</table></div>"
    )


def _setting(value) -> str:
    if value is None:
        return text("view.off")
    if isinstance(value, float):  # 1.0, 0.85: a float reads as one, as the sliders show it
        shown = f"{value:.4g}"
        return shown if "." in shown or "e" in shown else shown + ".0"
    return str(value)


def settings_change(before: SamplingSettings, after: SamplingSettings) -> str:
    """What changed between two settings, e.g. ``"temperature 1.5 -> 1.0, top_k off -> 5"``."""
    names = SamplingSettings.__dataclass_fields__
    changed = [n for n in names if getattr(before, n) != getattr(after, n)]
    return ", ".join(
        f"{n} {_setting(getattr(before, n))} -> {_setting(getattr(after, n))}" for n in changed
    )


def status_html(message: str, error: bool = False) -> str:
    """The status line: what the last action did, or (red) why it was refused."""
    box = "font-size:17px;padding:4px 10px;margin:4px 0;border-radius:4px;"
    if error:
        colours = f"color:{ERROR_TEXT};background:{ERROR_BACKGROUND}"
        return f'<div class="dw-status dw-error" style="{box}{colours}">⚠ {_esc(message)}</div>'
    return (
        f'<div class="dw-status" style="{box}color:#333;background:#f3f6fa">{_esc(message)}</div>'
    )


#: The banner of every static copy: what it is, and how to get the live widget.
_SNAPSHOT_BOX = '<div class="dw-snapshot" style="font-size:14px;color:#555;margin:2px 0 6px">'
SNAPSHOT_NOTE = f"{_SNAPSHOT_BOX}{MESSAGES['en']['view.snapshot']}</div>"


def snapshot_note() -> str:
    """``SNAPSHOT_NOTE`` in the language ``setup_notebook(lang=...)`` chose."""
    return f"{_SNAPSHOT_BOX}{text('view.snapshot')}</div>"


def state_html(state, tokenizer, cands, window: int, status: str = "", error=False) -> str:
    """Everything the stepper shows, as one HTML string (no buttons): the static rendering.
    ``status``: the last action's message, shown as such (a snapshot takes no action)."""
    right = (
        candidates_html(cands, state.settings)
        if cands
        else status_html(text("view.window_full"), error=True)
    )
    last = status_html(text("status.last_action", status=status), error) if status else ""
    return (
        '<div class="dw-static" style="display:flex;flex-wrap:wrap;gap:18px;max-width:1100px">'
        f'<div style="flex:1 1 480px;min-width:320px">{text_html(state, tokenizer)}'
        f"{ids_html(state)}{stats_html(state, window)}{last}</div>"
        f'<div style="flex:1 1 380px;min-width:300px">{right}</div></div>'
    )


# --------------------------------------------------------------------------- static figure
def _hover(c: Candidate) -> str:
    """A candidate bar's hover text: its token id, and the filter that cut it."""
    if c.cut:
        return text("view.token_hover_cut", id=c.token_id, name=c.cut)
    return text("view.token_hover", id=c.token_id)


def candidates_figure(
    cands: list[Candidate], settings: SamplingSettings, title: str = ""
) -> go.Figure:
    """The candidate panel as a plotly bar chart (model vs after the filters, cut in grey)."""
    labels = unique_labels([show_token(c.text) for c in cands])
    probs = rounded([c.prob for c in cands])
    digits = 2 if settings.strategy == "sample" else 3  # two bars per token: shorter labels
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=probs,
            name="model (temperature 1)",
            marker_color=[GREY if c.cut else BLUE for c in cands]
            if settings.strategy == "sample"
            else BLUE,
            text=[f"{p:.{digits}f}" for p in probs],
            textposition="outside",
            textfont={"size": 12},  # neighbouring labels keep a gap at 580 px
            hovertext=[_hover(c) for c in cands],
        )
    )
    if settings.strategy == "sample":
        filtered = rounded([c.filtered for c in cands])
        fig.add_trace(
            go.Bar(
                x=labels,
                y=filtered,
                name="after temperature / top-k / top-p",
                marker_color=ORANGE,
                text=[
                    f"{q:.2f}" if not c.cut else text("view.cut")
                    for q, c in zip(filtered, cands, strict=True)
                ],
                textposition="outside",
                textfont={"size": 12},
            )
        )
    top = max([*probs, *(filtered if settings.strategy == "sample" else [])], default=0)
    return layout(
        fig,
        title or "the next-token candidates",
        420,
        barmode="group",
        xaxis_title="candidate token",
        yaxis_title="probability",
        yaxis_range=[0, round(min(1.0, top * 1.2 + 0.02), 4)],
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
    )
