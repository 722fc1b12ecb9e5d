"""The decoding stepper of notebook 02: step through generation one token at a time.

- ``DecodingStepper(model, tokenizer, prompt)``: an ipywidgets view over the immutable
  ``helpers.generation.DecodingState``. Buttons Step / Run N / Undo / Reset, a strategy
  (greedy or sample) with temperature, top-k, top-p and a seed, and one button per candidate
  token to force it. Every button calls a Python method, so tests click them with
  ``button.click()`` and read what the widget shows.
- ``candidate_table``: the top next tokens with their probability before and after the
  sampling filters, and which filter cut each one.
- ``token_pieces``, ``state_html``, ``candidates_figure``: the static rendering of the same
  state (an HTML string and a plotly ``go.Figure``), so an executed or exported notebook shows
  real content without a running kernel.

Errors never escape a button: a bad prompt, a full context window or invalid settings leave the
state as it was and show a readable message on the widget's status line.
Core ipywidgets only, no JavaScript of our own, nothing loaded from the network.
"""

from __future__ import annotations

import codecs
import html
import math
from collections import OrderedDict
from dataclasses import dataclass, replace

import plotly.graph_objects as go
import torch

from helpers.generation import (
    STRATEGIES,
    DecodingState,
    Settings,
    apply_temperature,
    context_window,
    top_k_filter,
    top_p_filter,
)
from helpers.plots import FONT, TEMPLATE, rounded, show_token, unique_labels

N_CANDIDATES = 8  # candidate rows in the panel
MAX_RUN = 50  # the largest N of "Run N"
MAX_SEED = 2**32 - 1  # as helpers.models.seed_everything
TOP_K_MAX = 50  # slider range; 0 means "off"

# colours readable on a projector and by most colour-blind viewers:
# blue = the model, orange = after the filters, grey = cut
BLUE, ORANGE, GREY = "#1f77b4", "#ff7f0e", "#b0b0b0"


# --------------------------------------------------------------------------- candidates
@dataclass(frozen=True)
class Candidate:
    """One possible next token, as the candidate panel shows it."""

    token_id: int
    text: str
    prob: float  # under the plain softmax (temperature 1, no filter): what greedy ranks by
    filtered: float  # after temperature, top-k and top-p: what sampling draws from (0 if cut)
    cut: str  # "" if the filters keep it, else "top-k" or "top-p"


def check_count(name: str, value, low: int, high: int) -> int:
    """``value`` if it is an int in [low, high]; else a TypeError/ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name}={value} must be in the range {low}..{high}")
    return value


def candidate_table(logits: torch.Tensor, tokenizer, settings: Settings, n: int = N_CANDIDATES):
    """The ``n`` most likely next tokens under ``logits`` (V,), and what the filters do to them.

    The filters run in the order ``filter_logits`` (and transformers) applies them:
    temperature, then top-k, then top-p. They keep the ranking, so the cut candidates are
    always the tail of the list.
    """
    check_count("n", n, 1, logits.size(-1))
    s = settings
    scaled = apply_temperature(logits, s.temperature)
    after_k = top_k_filter(scaled, s.top_k) if s.top_k is not None else scaled
    after_p = top_p_filter(after_k, s.top_p) if s.top_p is not None and s.top_p < 1 else after_k
    probs = logits.softmax(-1)  # (V,)
    filtered = after_p.softmax(-1)  # (V,) the distribution a draw uses
    top = torch.topk(probs, n)
    rows = []
    for i in top.indices.tolist():
        cut = "top-k" if after_k[i] == -math.inf else "top-p" if after_p[i] == -math.inf else ""
        rows.append(Candidate(i, tokenizer.decode([i]), float(probs[i]), float(filtered[i]), cut))
    return rows


# --------------------------------------------------------------------------- text pieces
@dataclass(frozen=True)
class Piece:
    """Generated text as shown: usually one token; several when a character spans tokens."""

    text: str
    ids: tuple[int, ...]
    probs: tuple[float, ...]
    first_step: int  # the step (0-based) that produced ids[0]


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet, reversed: the character of a token string -> its byte."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    keep += list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


_BYTES = _byte_decoder()


def _token_bytes(tokenizer, token_id: int) -> bytes | None:
    """The bytes a byte-level BPE token stands for; None if the tokenizer is not byte-level."""
    if token_id in getattr(tokenizer, "all_special_ids", ()):
        return tokenizer.decode([token_id]).encode("utf-8")
    token = tokenizer.convert_ids_to_tokens(token_id)
    if not isinstance(token, str) or any(ch not in _BYTES for ch in token):
        return None
    return bytes(_BYTES[ch] for ch in token)


def token_pieces(state: DecodingState, tokenizer, cache: dict | None = None) -> list[Piece]:
    """Split the generated text into one piece per token, so each can be highlighted.

    A Chinese character is 2-3 byte tokens; a token that ends inside a character has no text
    of its own, so it joins the next piece. ``"".join(p.text for p in pieces)`` is exactly
    ``tokenizer.decode(state.generated)``. ``cache`` (token id -> bytes) speeds up re-renders.
    """
    cache = {} if cache is None else cache
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pieces: list[Piece] = []
    ids: list[int] = []
    probs: list[float] = []
    for step, (tid, p) in enumerate(zip(state.generated, state.probs, strict=True)):
        if tid not in cache:
            cache[tid] = _token_bytes(tokenizer, tid)
        raw = cache[tid]
        if raw is None:  # not byte-level BPE: decode each token on its own
            text = tokenizer.decode([tid])
        else:
            text = decoder.decode(raw)
        ids.append(tid)
        probs.append(p)
        if text:
            pieces.append(Piece(text, tuple(ids), tuple(probs), step + 1 - len(ids)))
            ids, probs = [], []
    tail = decoder.decode(b"", final=True)
    if ids:  # the text ends inside a character
        pieces.append(Piece(tail, tuple(ids), tuple(probs), len(state.generated) - len(ids)))
    elif tail:  # a dangling byte was already counted in the last piece: its text goes there too
        pieces[-1] = replace(pieces[-1], text=pieces[-1].text + tail)
    return pieces


# --------------------------------------------------------------------------- static HTML
def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _shade(p: float) -> str:
    """Background of a generated token: darker blue = the model gave it a higher probability."""
    return f"rgba(31,119,180,{0.2 + 0.5 * round(p, 2):.2f})"


def text_html(state: DecodingState, tokenizer, pieces: list[Piece] | None = None) -> str:
    """The text so far: the prompt plain, each generated token highlighted (hover: its p)."""
    pieces = token_pieces(state, tokenizer) if pieces is None else pieces
    out = [f'<span style="color:#222">{_esc(state.prompt)}</span>']
    for piece in pieces:
        steps = range(piece.first_step + 1, piece.first_step + len(piece.ids) + 1)
        title = "; ".join(
            f"step {s}: token {i}, p = {p:.4f}"
            for s, i, p in zip(steps, piece.ids, piece.probs, strict=True)
        )
        shown = piece.text.replace("\n", "↵\n")  # a newline token stays visible
        out.append(
            f'<span class="dw-gen" title="{_esc(title)}" style="background:'
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
        f'token ids: <span style="color:#888">{prompt}</span> '
        f'<b style="color:{BLUE}">{gen}</b></div>'
    )


def stats_html(state: DecodingState, window: int) -> str:
    """Step count, context length against the window, total log-probability."""
    length = len(state.ids)
    full = length >= window
    pct = round(100 * min(length, window) / window, 1)
    bar_color = "#d62728" if full else BLUE
    logp = state.log_prob
    return (
        '<div class="dw-stats" style="font-size:18px;margin-top:8px;line-height:1.6">'
        f'<b>step</b> <span class="dw-steps">{state.n_steps}</span> &nbsp;·&nbsp; '
        f"<b>context</b> {length} / {window} tokens"
        f"{' (full: undo or reset)' if full else ''}"
        f'<div style="height:8px;background:#eee;border-radius:4px;margin:2px 0 6px 0">'
        f'<div style="width:{pct}%;height:8px;background:{bar_color};border-radius:4px">'
        "</div></div>"
        f"<b>log-probability</b> of the generated tokens: {logp:.4f} "
        f"(probability {math.exp(logp):.4g})</div>"
    )


def bar_html(c: Candidate, scale: float, sampling: bool, greedy_pick: bool) -> str:
    """One candidate's bars: its plain probability, and (sampling) what the filters leave."""

    def bar(value, color, label):
        # the longest bar takes 55% of the row, leaving room for its label
        width = round(55 * value / scale, 1) if scale > 0 else 0.0
        return (
            '<div style="display:flex;align-items:center;height:17px;margin:1px 0">'
            f'<div style="flex:0 0 {width}%;height:14px;background:{color};'
            'border-radius:2px"></div>'
            f'<span style="margin-left:6px;font-size:15px;white-space:nowrap">{label}</span>'
            "</div>"
        )

    note = " ← greedy" if greedy_pick else ""
    if not sampling:
        return bar(c.prob, BLUE, f"{c.prob:.4f}{note}")
    if c.cut:
        return bar(c.prob, GREY, f"{c.prob:.4f} <i>cut by {c.cut}</i>")
    return bar(c.prob, BLUE, f"{c.prob:.4f}") + bar(c.filtered, ORANGE, f"→ {c.filtered:.4f}")


def _scale(cands: list[Candidate], sampling: bool) -> float:
    values = [round(c.prob, 4) for c in cands]
    if sampling:
        values += [round(c.filtered, 4) for c in cands]
    return max(values, default=0.0)


def legend_html(settings: Settings) -> str:
    """The line above the candidate bars: which distribution chooses the next token."""
    if settings.strategy == "greedy":
        return (
            '<div style="font-size:15px;margin-bottom:4px"><b>Next token</b>: '
            f'<span style="color:{BLUE}">■</span> probability; greedy takes the top one '
            "(click a token to force it)</div>"
        )
    s = settings
    filters = [f"temperature {s.temperature:g}"]
    filters += [f"top-k {s.top_k}"] if s.top_k is not None else []
    filters += [f"top-p {s.top_p:g}"] if s.top_p is not None and s.top_p < 1 else []
    return (
        '<div style="font-size:15px;margin-bottom:4px"><b>Next token</b>: '
        f'<span style="color:{BLUE}">■</span> model, '
        f'<span style="color:{ORANGE}">■</span> after {", ".join(filters)}; '
        f"a draw with seed {s.seed} picks one (click a token to force it)</div>"
    )


def candidates_html(cands: list[Candidate], settings: Settings) -> str:
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
        f'<div class="dw-cands">{legend_html(settings)}'
        f'<table style="width:100%;border-collapse:collapse">{"".join(rows)}</table></div>'
    )


def status_html(message: str, error: bool = False) -> str:
    """The status line: what the last action did, or (red) why it was refused."""
    box = "font-size:17px;padding:4px 10px;margin:4px 0;border-radius:4px;"
    if error:
        return (
            f'<div class="dw-status dw-error" style="{box}color:#b00020;background:#fdecea">'
            f"⚠ {_esc(message)}</div>"
        )
    return (
        f'<div class="dw-status" style="{box}color:#333;background:#f3f6fa">{_esc(message)}</div>'
    )


def state_html(state, tokenizer, cands, window: int, status: str = "", error=False) -> str:
    """Everything the stepper shows, as one HTML string (no buttons): the static rendering."""
    right = (
        candidates_html(cands, state.settings)
        if cands
        else status_html("the context window is full: no next token", error=True)
    )
    return (
        '<div class="dw-static" style="display:flex;flex-wrap:wrap;gap:18px;max-width:1100px">'
        f'<div style="flex:1 1 480px;min-width:320px">{text_html(state, tokenizer)}'
        f"{ids_html(state)}{stats_html(state, window)}"
        f"{status_html(status, error) if status else ''}</div>"
        f'<div style="flex:1 1 380px;min-width:300px">{right}</div></div>'
    )


# --------------------------------------------------------------------------- static figure
def candidates_figure(cands: list[Candidate], settings: Settings, title: str = "") -> go.Figure:
    """The candidate panel as a plotly bar chart (model vs after the filters, cut in grey)."""
    labels = unique_labels([show_token(c.text) for c in cands])
    probs = rounded([c.prob for c in cands])
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=probs,
            name="model (temperature 1)",
            marker_color=[GREY if c.cut else BLUE for c in cands]
            if settings.strategy == "sample"
            else BLUE,
            text=[f"{p:.3f}" for p in probs],
            textposition="outside",
            hovertext=[
                f"token {c.token_id}" + (f", cut by {c.cut}" if c.cut else "") for c in cands
            ],
        )  # fmt: skip
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
                    f"{q:.3f}" if not c.cut else "cut" for q, c in zip(filtered, cands, strict=True)
                ],
                textposition="outside",
            )  # fmt: skip
        )
    top = max([*probs, *(filtered if settings.strategy == "sample" else [])], default=0)
    fig.update_layout(
        title=title or "the next-token candidates",
        template=TEMPLATE,
        font=FONT,
        height=420,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        barmode="group",
        xaxis_title="candidate token",
        yaxis_title="probability",
        yaxis_range=[0, round(min(1.0, top * 1.2 + 0.02), 4)],
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
    )
    return fig


# --------------------------------------------------------------------------- the widget
def _settings_from(settings: Settings | None) -> Settings:
    if settings is None:
        return Settings()
    if not isinstance(settings, Settings):
        raise TypeError(f"settings must be a helpers.generation.Settings, got {settings!r}")
    return settings


def check_seed(seed) -> int:
    """Seeds of the stepper: ints in 0 .. 2**32 - 1, as ``seed_everything`` accepts."""
    return check_count("seed", seed, 0, MAX_SEED)


class DecodingStepper:
    """Step through decoding one token at a time; every control is a core ipywidget.

    ``model`` and ``tokenizer`` are injected (the bundled model in the notebook, a tiny random
    GPT-2 in the tests). The decoding itself is ``helpers.generation.DecodingState``; this
    class only keeps the current state, asks the model for the next-token logits (cached per
    sequence, so Undo is free) and redraws.

    Every action is undoable: Step, each token of Run N, a forced candidate, a settings
    change, a new prompt and Reset each push the previous state, and Undo returns it exactly.
    """

    def __init__(self, model, tokenizer, prompt: str = "To be, or not to be",
                 *, settings: Settings | None = None, n_candidates: int = N_CANDIDATES,
                 run_n: int = 5):  # fmt: skip
        import ipywidgets as w
        from ipywidgets.widgets.widget_string import HTMLStyle

        self.model, self.tokenizer = model, tokenizer
        self.window = context_window(model)
        check_count("n_candidates", n_candidates, 1, min(20, model.config.vocab_size))
        check_count("run_n", run_n, 1, MAX_RUN)
        settings = _settings_from(settings)
        check_seed(settings.seed)
        self.n_candidates = n_candidates
        self.state = DecodingState.start(tokenizer, prompt, settings, model)  # raises if bad
        self._logits_cache: OrderedDict[tuple[int, ...], torch.Tensor] = OrderedDict()
        self._bytes_cache: dict = {}
        self._cands: list[Candidate] = []
        self._syncing = False
        self.status, self.error = "", False

        # Widgets with the same look share one Layout / Style model: a saved notebook stores
        # every model of every widget, so fewer models keep it small.
        big = w.ButtonStyle(font_size="16px")
        fixed = w.Layout(width="auto")
        wrap = w.Layout(flex_flow="row wrap", align_items="center")
        html_style, html_layout = HTMLStyle(), w.Layout(width="100%")
        slider_style = w.SliderStyle(description_width="95px")
        slider_layout = w.Layout(width="300px")
        # ---- controls
        # the prompt is used when the box loses focus (click outside it)
        self.prompt_box = w.Textarea(value=prompt, description="Prompt", rows=2,
                                     continuous_update=False, layout=html_layout)  # fmt: skip
        self.step_button = w.Button(description="Step", button_style="primary", style=big,
                                    layout=fixed, tooltip="choose one more token")  # fmt: skip
        self.run_button = w.Button(description=f"Run {run_n}", style=big, layout=fixed,
                                   tooltip="press Step N times")  # fmt: skip
        self.run_n = w.BoundedIntText(value=run_n, min=1, max=MAX_RUN, description="N",
                                      layout=w.Layout(width="110px"),
                                      style={"description_width": "20px"})  # fmt: skip
        self.undo_button = w.Button(description="Undo", style=big, layout=fixed,
                                    tooltip="go back one action")  # fmt: skip
        self.reset_button = w.Button(description="Reset", style=big, layout=fixed,
                                     button_style="warning",
                                     tooltip="back to the prompt alone")  # fmt: skip
        self.strategy = w.ToggleButtons(options=list(STRATEGIES), value=settings.strategy,
                                        tooltips=["always the top candidate",
                                                  "a seeded draw from the filtered distribution"],
                                        style={"button_width": "90px"})  # fmt: skip
        self.temperature = w.FloatSlider(value=settings.temperature, min=0.0,
                                         max=max(2.0, settings.temperature), step=0.05,
                                         description="temperature", readout_format=".2f",
                                         continuous_update=False, style=slider_style,
                                         layout=slider_layout)  # fmt: skip
        self.top_k = w.IntSlider(value=settings.top_k or 0, min=0,
                                 max=max(TOP_K_MAX, settings.top_k or 0),
                                 description="top-k (0 off)", continuous_update=False,
                                 style=slider_style, layout=slider_layout)  # fmt: skip
        self.top_p = w.FloatSlider(value=1.0 if settings.top_p is None else settings.top_p,
                                   min=0.0, max=1.0, step=0.05, description="top-p (1 off)",
                                   readout_format=".2f", continuous_update=False,
                                   style=slider_style, layout=slider_layout)  # fmt: skip
        self.seed = w.IntText(value=settings.seed, description="seed",
                              layout=w.Layout(width="170px"))  # fmt: skip
        # ---- views
        self.status_line, self.text_view, self.ids_view, self.stats_view, self.legend_view = (
            w.HTML(style=html_style, layout=html_layout) for _ in range(5)
        )
        cand_style = w.ButtonStyle(font_size="17px", font_family="monospace")
        cand_layout = w.Layout(width="150px", height="34px")
        self.row_layout = w.Layout(align_items="center")  # shared: rows hide all at once
        self.candidate_buttons, self.candidate_bars, rows = [], [], []
        for i in range(n_candidates):
            button = w.Button(style=cand_style, layout=cand_layout)
            button.add_class("dw-cand")
            button.on_click(lambda _b, i=i: self.force_candidate(i))
            bar = w.HTML(style=html_style, layout=html_layout)
            self.candidate_buttons.append(button)
            self.candidate_bars.append(bar)
            rows.append(w.HBox([button, bar], layout=self.row_layout))
        self.candidate_rows = rows

        self.step_button.on_click(lambda _b: self.step())
        self.run_button.on_click(lambda _b: self.run(self.run_n.value))
        self.undo_button.on_click(lambda _b: self.undo())
        self.reset_button.on_click(lambda _b: self.reset())
        self.run_n.observe(lambda ch: setattr(self.run_button, "description", f"Run {ch.new}"),
                           "value")  # fmt: skip
        self.prompt_box.observe(self._on_prompt, "value")
        for name in ("strategy", "temperature", "top_k", "top_p", "seed"):
            getattr(self, name).observe(self._on_setting, "value")

        for b in (self.step_button, self.run_button, self.undo_button, self.reset_button):
            b.add_class("dw-action")
        self.step_button.add_class("dw-step")
        buttons = w.HBox([self.step_button, self.run_button, self.run_n, self.undo_button,
                          self.reset_button], layout=wrap)  # fmt: skip
        sliders = w.HBox([self.temperature, self.top_k, self.top_p], layout=wrap)
        knobs = w.VBox([w.HBox([self.strategy, self.seed], layout=wrap), sliders])
        left = w.VBox([self.text_view, self.ids_view, self.stats_view],
                      layout=w.Layout(flex="1 1 480px", min_width="320px"))  # fmt: skip
        right = w.VBox([self.legend_view, *rows],
                       layout=w.Layout(flex="1 1 420px", min_width="320px"))  # fmt: skip
        panels = w.HBox([left, right], layout=w.Layout(flex_flow="row wrap", grid_gap="18px"))
        self.widget = w.VBox([self.prompt_box, buttons, knobs, self.status_line, panels],
                             layout=w.Layout(max_width="1150px"))  # fmt: skip
        self.widget.add_class("dw-stepper")
        self._render("Press Step: the model picks the next token.")

    # ------------------------------------------------------------------ model
    def logits(self, state: DecodingState | None = None) -> torch.Tensor:
        """Next-token logits of ``state`` (default: the current one), cached by sequence."""
        state = self.state if state is None else state
        key = state.ids
        if key in self._logits_cache:
            self._logits_cache.move_to_end(key)
            return self._logits_cache[key]
        logits = state.logits(self.model)  # raises a clear ValueError when the window is full
        self._logits_cache[key] = logits
        if len(self._logits_cache) > 256:
            self._logits_cache.popitem(last=False)
        return logits

    def candidates(self) -> list[Candidate]:
        """The candidate panel's rows for the current state ([] when the window is full)."""
        return list(self._cands)

    # ------------------------------------------------------------------ actions
    def _act(self, action, keep_prompt: bool = False) -> bool:
        """Run ``action() -> (new state, message)``; on error keep the state, show why.

        keep_prompt: on error, leave the prompt box as typed (so a refused prompt can be
        edited); otherwise the box always shows the state's prompt.
        """
        try:
            new, message = action()
        except (ValueError, TypeError) as err:
            self._render(str(err), error=True, sync_prompt=not keep_prompt)
            return False
        except Exception as err:  # a bug must not turn into a traceback on the projector
            self._render(f"unexpected {type(err).__name__}: {err}", error=True)
            return False
        self.state = new
        self._render(message)
        return True

    def _describe(self, new: DecodingState, verb: str) -> str:
        token = show_token(self.tokenizer.decode([new.generated[-1]]))
        return f"step {new.n_steps}: {verb} '{token}' (token {new.generated[-1]}, p = {new.probs[-1]:.4f})"  # noqa: E501

    def _verb(self) -> str:
        s = self.state.settings
        return "greedy picked" if s.strategy == "greedy" else f"sampled (seed {s.seed})"

    def step(self) -> bool:
        """Choose the next token with the current settings (the Step button)."""

        def action():
            new = self.state.step(self.model, self.logits())
            return new, self._describe(new, self._verb())

        return self._act(action)

    def run(self, n: int) -> bool:
        """Step ``n`` times (the Run N button); stops early, with a message, if the window fills."""
        try:
            check_count("N", n, 1, MAX_RUN)
        except (TypeError, ValueError) as err:
            self._render(str(err), error=True)
            return False
        state, verb = self.state, self._verb()
        for done in range(n):
            try:
                state = state.step(self.model, self.logits(state))
            except ValueError as err:
                if done == 0:
                    self._render(str(err), error=True)
                    return False
                self.state = state
                self._render(f"stopped after {done} of {n} tokens: {err}", error=True)
                return False
        self.state = state
        self._render(f"ran {n} steps; last: " + self._describe(state, verb))
        return True

    def force(self, token_id: int) -> bool:
        """Append ``token_id`` whatever the settings would choose (a teacher's "what if")."""

        def action():
            greedy = int(torch.argmax(self.logits()))
            new = self.state.force(self.model, token_id, self.logits())
            note = "" if token_id == greedy else (
                f"; greedy would have picked '{show_token(self.tokenizer.decode([greedy]))}'"
            )  # fmt: skip
            return new, self._describe(new, "forced") + note

        return self._act(action)

    def force_candidate(self, i: int) -> bool:
        """Force the ``i``-th candidate of the panel (the candidate buttons)."""
        if not 0 <= i < len(self._cands):
            self._render(f"there is no candidate {i}: the panel shows {len(self._cands)}", True)
            return False
        return self.force(self._cands[i].token_id)

    def undo(self) -> bool:
        """Return to the state before the last action (tokens, settings, prompt)."""
        return self._act(lambda: (self.state.undo(), "undone: back one action"))

    def reset(self) -> bool:
        """Back to the prompt alone, keeping the settings; Undo brings the tokens back."""

        def action():
            if not self.state.generated:
                raise ValueError("nothing to reset: no token has been generated yet")
            s = self.state
            return replace(s, generated=(), probs=(), history=s.history + (s,)), "reset"

        return self._act(action)

    def set_prompt(self, prompt) -> bool:
        """Start again from a new prompt (the prompt box, on Enter); undoable."""

        def action():
            s = self.state
            if prompt == s.prompt:
                return s, "the prompt is unchanged"
            fresh = DecodingState.start(self.tokenizer, prompt, s.settings, self.model)
            if len(fresh.ids) >= self.window:
                raise ValueError(
                    f"the prompt is {len(fresh.ids)} tokens long and fills the "
                    f"{self.window}-token context window: leave room for the next token"
                )
            new = replace(fresh, history=s.history + (s,))
            return new, f"new prompt: {len(fresh.ids)} tokens (Undo goes back)"

        return self._act(action, keep_prompt=True)

    def set_settings(self, **changes) -> bool:
        """Change strategy / temperature / top_k / top_p / seed; undoable like a step."""

        def action():
            if "seed" in changes:
                check_seed(changes["seed"])
            new = self.state.with_settings(**changes)
            shown = ", ".join(f"{k}={v}" for k, v in changes.items())
            return new, f"settings: {shown} (Undo reverts)"

        return self._act(action)

    def _on_prompt(self, change) -> None:
        if not self._syncing:
            self.set_prompt(change.new)

    def _on_setting(self, change) -> None:
        if self._syncing:
            return
        name, value = change.owner, change.new
        if name is self.top_k:
            self.set_settings(top_k=None if value == 0 else value)
        elif name is self.top_p:
            self.set_settings(top_p=None if value >= 1 else value)
        elif name is self.temperature:
            self.set_settings(temperature=value)
        elif name is self.strategy:
            self.set_settings(strategy=value)
        else:
            self.set_settings(seed=value)

    # ------------------------------------------------------------------ view
    def _sync_controls(self, sync_prompt: bool = True) -> None:
        """Make the controls show the state (after undo, or a refused value)."""
        s = self.state.settings
        self._syncing = True
        try:
            if sync_prompt:
                self.prompt_box.value = self.state.prompt
            self.strategy.value = s.strategy
            self.temperature.max = max(self.temperature.max, s.temperature)
            self.temperature.value = s.temperature
            self.top_k.value = s.top_k or 0
            self.top_p.value = 1.0 if s.top_p is None else s.top_p
            self.seed.value = s.seed
        finally:
            self._syncing = False

    def _render(self, status: str = "", error: bool = False, sync_prompt: bool = True) -> None:
        self.status, self.error = status, error
        self._sync_controls(sync_prompt)
        try:
            self._cands = candidate_table(
                self.logits(), self.tokenizer, self.state.settings, self.n_candidates
            )
        except ValueError:  # the context window is full: no next token to offer
            self._cands = []
        state = self.state
        pieces = token_pieces(state, self.tokenizer, self._bytes_cache)
        self.text_view.value = text_html(state, self.tokenizer, pieces)
        self.ids_view.value = ids_html(state)
        self.stats_view.value = stats_html(state, self.window)
        self.status_line.value = status_html(status, error) if status else ""
        sampling = state.settings.strategy == "sample"
        if self._cands:
            self.legend_view.value = legend_html(state.settings)
        else:
            self.legend_view.value = status_html(
                "the context window is full: Undo or Reset to continue", error=True
            )
        scale = _scale(self._cands, sampling)
        # the table always has n_candidates rows, except when the window is full: then none
        self.row_layout.display = None if self._cands else "none"
        for k, (button, bar) in enumerate(zip(self.candidate_buttons, self.candidate_bars,
                                              strict=True)):  # fmt: skip
            if k >= len(self._cands):
                continue
            c = self._cands[k]
            button.description = show_token(c.text)
            button.tooltip = f"force token {c.token_id} ({c.text!r}) as the next token"
            button.button_style = "" if (sampling and c.cut) else "info"
            bar.value = bar_html(c, scale, sampling, k == 0 and not sampling)

    @property
    def text(self) -> str:
        """The whole text so far (prompt and generated tokens), decoded."""
        return self.state.text(self.tokenizer)

    def static_html(self) -> str:
        """The same state as one HTML string (no live controls): for CI and HTML exports."""
        return state_html(self.state, self.tokenizer, self._cands, self.window, self.status,
                          self.error)  # fmt: skip

    def show_static(self):
        """An ``IPython.display.HTML`` of ``static_html()`` (the compared notebook output)."""
        from IPython.display import HTML

        return HTML(self.static_html())

    def figure(self, title: str = "") -> go.Figure:
        """The candidate panel of the current state as a plotly figure."""
        if not self._cands:
            raise ValueError("the context window is full: there are no next-token candidates")
        title = title or f"candidates for step {self.state.n_steps + 1}"
        return candidates_figure(self._cands, self.state.settings, title)

    def _repr_mimebundle_(self, **kwargs):
        # the live widget where a widget manager runs; the static HTML anywhere else
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.static_html()
        return bundle
