"""The decoding stepper of notebook 02: step through generation one token at a time.

Taught in notebook 02 (section 2, the stepper; section 4, when something is wrong).

``DecodingStepper(model, tokenizer, prompt)``: an ipywidgets controller over the immutable
``helpers.stepping.DecodingState``. Buttons Step / Run N / Undo / Reset, a strategy (greedy or
sample) with temperature, top-k, top-p and a seed, and one button per candidate token to force
it. Every button calls a Python method, so tests click them with ``button.click()`` and read
what the widget shows. Its panels are drawn by ``helpers.stepper_view``, which also gives the
static rendering (``show_static``) an executed or exported notebook shows without a kernel.

Three panes look inside the step (``helpers.step_internals`` prepares them, ``helpers.
stepper_panes`` draws them), each switched on by its toggle: the attention of the newest token
(one layer and head, and all heads at once), the KV cache, and the filter pipeline. The model
runs with a KV cache and eager attention: each Step is one pass over the new token (beam mode:
every beam's, side by side; speculative: with the draft's next guesses), which the mode's next
step and the panes share, and the attention shown is the one that pass computed.

Four modes (the toggle beside Step): greedy and sample step one token at a time
(``helpers.stepping.DecodingState``); beam search steps all beams at once and speculative
decoding one round of a draft's guesses at a time (``helpers.stepper_modes``, drawn by
``helpers.stepper_panes``). Undo and Reset work the same in every mode, and a mode switch is
undone like any other action.

Errors never escape a button: a bad prompt, a full context window or invalid settings leave the
state as it was and show a readable message on the widget's status line.
Core ipywidgets only, no JavaScript of our own, nothing loaded from the network.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

import plotly.graph_objects as go
import torch

from helpers._checks import BadValue, check_choice, check_int, check_model, check_tokenizer
from helpers.drafts import check_draft
from helpers.messages import MESSAGES, error_text, text
from helpers.plots import show_token
from helpers.step_internals import CachedPasses, StepPass, cache_info, filter_pipeline
from helpers.step_internals import pipeline_columns as _columns
from helpers.stepper_modes import (
    MAX_BEAMS,
    MAX_K,
    MODES,
    BeamSettings,
    BeamState,
    SpeculativeState,
    describe_step,
    mode_of,
    pass_texts,
    settings_note,
    undo_note,
)
from helpers.stepper_panes import (
    attention_strip_html,
    beams_html,
    cache_html,
    heads_overview_html,
    mode_stats_html,
    mode_text_html,
    panes_html,
    pipeline_html,
    rounds_html,
)
from helpers.stepper_view import (
    BUTTON_COLOURS,
    _scale,
    bar_html,
    candidates_figure,
    fmt_prob,
    ids_html,
    legend_html,
    settings_change,
    snapshot_note,
    state_html,
    stats_html,
    status_html,
    text_html,
)
from helpers.stepping import (
    Candidate,
    DecodingState,
    SamplingSettings,
    context_window,
    token_pieces,
)

N_CANDIDATES = 8  # candidate rows in the panel
MAX_RUN = 50  # the largest N of "Run N"
TOP_K_MAX = 50  # slider range; 0 means "off"
PASSES_KEPT = 128  # forward passes remembered (by text), so Undo runs no model ...
PASSES_BYTES = 32 * 2**20  # ... within 32 MiB (a 50k-token vocabulary: ~200 KB a row's scores)
# the English of what the stepper shows; helpers.messages holds it in every language
START = MESSAGES["en"]["stepper.start"]
PANES = {name: MESSAGES["en"][f"stepper.pane.{name}"] for name in ("attention", "cache", "filters")}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
LIVE_TEXT = MESSAGES["en"]["stepper.live_text"]
FALLBACK_TEXT = MESSAGES["en"]["stepper.fallback_text"]
#: Hides the snapshot output while the live widget above it is drawn (JupyterLab, Notebook 7),
#: and, where the widget cannot be drawn, the widget renderer's own line above the snapshot
#: ("Error displaying widget: model not found": a notebook saved without its widget state).
FALLBACK_STYLE = (
    "<style>.jp-OutputArea-child:has(.dw-stepper) ~ .jp-OutputArea-child .dw-fallback"
    "{display:none}"
    ".jp-OutputArea-child:has(+ .jp-OutputArea-child .dw-fallback):not(:has(.dw-stepper))"
    " > .jupyter-widgets{display:none}</style>"
)
_FALLBACK_BOX = '<div style="font-size:14px;color:#555;margin:2px 0 6px">'
FALLBACK_NOTE = f"{_FALLBACK_BOX}{MESSAGES['en']['stepper.fallback_note']}</div>"
MODE_TIPS = [MESSAGES["en"][f"mode_tip.{mode}"] for mode in MODES]


def _mode_options() -> list:
    """The mode toggle's options: the modes' names, each labelled in the notebook's language."""
    labels = [text(f"mode.{mode}") for mode in MODES]
    return list(MODES) if labels == list(MODES) else list(zip(labels, MODES, strict=True))


def _button_style(w, kind: str, **style):
    """A button style with the colours ``BUTTON_COLOURS[kind]`` (contrast >= 4.5:1)."""
    text, background = BUTTON_COLOURS[kind]
    return w.ButtonStyle(font_size="16px", text_color=text, button_color=background, **style)


def _to_box(prompt: str) -> str:
    """The prompt as the one-line box shows it: a newline as ↵ (the course's sign for it)."""
    return prompt.replace("\n", "↵")


def _from_box(text: str) -> str:
    """The prompt typed in the box: ↵, or \\n typed out, is a newline."""
    return text.replace("↵", "\n").replace("\\n", "\n")


class DecodingStepper:
    """Step through decoding one token at a time; every control is a core ipywidget.

    ``model`` and ``tokenizer`` are injected (the bundled model in the notebook, a tiny random
    GPT-2 in the tests). The decoding itself is ``helpers.stepping.DecodingState``; this
    class only keeps the current state, asks the model for the next-token logits (cached per
    sequence, so Undo is free) and redraws.

    Every action is undoable: Step, each token of Run N, a forced candidate, a settings
    change, a new prompt and Reset each push the previous state, and Undo returns it exactly.
    """

    def __init__(
        self,
        model,
        tokenizer,
        prompt: str = "To be, or not to be",
        *,
        settings: SamplingSettings | None = None,
        n_candidates: int = N_CANDIDATES,
        run_n: int = 5,
        draft=None,
    ):
        import ipywidgets as w
        from ipywidgets.widgets.widget_string import HTMLStyle

        self.model, self.tokenizer = check_model(model), check_tokenizer(tokenizer)
        self.window = context_window(model)
        check_int("n_candidates", n_candidates, 1, min(20, model.config.vocab_size))
        check_int("run_n", run_n, 1, MAX_RUN)
        self.n_candidates = n_candidates
        if draft is not None:
            check_draft(draft, model, tokenizer)
        self._draft = draft  # the speculative mode's; the bundled n-gram draft when None
        # the door: prompt, settings and top_k against the vocabulary are checked here
        self.state = DecodingState.start(tokenizer, prompt, settings, model)  # raises if bad
        settings = self.state.settings
        self._runner = CachedPasses(model)  # the KV cache: one pass per new token
        self._passes: OrderedDict[tuple[int, ...], StepPass] = OrderedDict()
        self._pass: StepPass | None = None  # the current state's pass (None: window full)
        self._texts: dict[int, str] = {}  # token id -> shown text, for the attention strip
        self._bytes_cache: dict = {}
        self._cands: list[Candidate] = []
        # the current state's filtered distribution (from the panel), so Step draws from it
        # instead of running the filter chain again on the same logits
        self._filtered: tuple[tuple, torch.Tensor] | None = None
        self._syncing = False
        self.status, self.error = "", False
        # Widgets with the same look share one Layout / Style model: a saved notebook stores
        # every model of every widget, so fewer models keep it small.
        self._html_style, self._html_layout = (
            HTMLStyle(),
            w.Layout(width="100%", margin="2px 0"),  # no side margin: nothing sticks out
        )
        self._build_controls(w, prompt, settings, run_n)
        self._build_mode_controls(w)
        self._build_views(w, n_candidates)
        self._build_panes(w)
        self._wire()
        self.widget = self._arrange(w)
        self._render(text("stepper.start"))

    def _build_controls(self, w, prompt: str, settings: SamplingSettings, run_n: int) -> None:
        """The prompt box, the action buttons and the sampling knobs."""
        big = w.ButtonStyle(font_size="16px")
        fixed = w.Layout(width="auto")
        slider_style = w.SliderStyle(description_width="88px")
        slider_layout = w.Layout(width="270px")  # three in one row on a 1024x768 projector
        # the prompt is used on Enter, when the box loses focus, or with the Apply button; one
        # line, so Enter submits: a newline shows as ↵ (type ↵ or \n for one)
        self.prompt_box = w.Text(
            value=_to_box(prompt),
            description=text("control.prompt"),
            placeholder=text("control.prompt_placeholder"),
            continuous_update=False,
            layout=w.Layout(flex="1 1 auto", width="auto", min_width="220px"),
        )
        self.apply_button = w.Button(
            description=text("control.apply"),
            style=big,
            layout=fixed,
            tooltip=text("control.apply_tip"),
        )
        self.step_button = w.Button(
            description=text("control.step"),
            style=_button_style(w, "step"),
            layout=fixed,
            tooltip=text("control.step_tip"),
        )
        self.run_button = w.Button(
            description=text("control.run", n=run_n),
            style=big,
            layout=fixed,
            tooltip=text("control.run_tip"),
        )
        self.run_n = w.BoundedIntText(
            value=run_n,
            min=1,
            max=MAX_RUN,
            description="N",
            layout=w.Layout(width="90px"),
            style={"description_width": "20px"},
        )
        self.undo_button = w.Button(
            description=text("control.undo"),
            style=big,
            layout=fixed,
            tooltip=text("control.undo_tip"),
        )
        self.reset_button = w.Button(
            description=text("control.reset"),
            style=_button_style(w, "reset"),
            layout=fixed,
            tooltip=text("control.reset_tip"),
        )
        self.strategy = w.ToggleButtons(  # the mode: greedy, sample, beam or speculative
            options=_mode_options(),
            value=settings.strategy,
            tooltips=[text(f"mode_tip.{m}") for m in MODES],
            style={"button_width": "96px"},
        )
        self.temperature = w.FloatSlider(
            value=settings.temperature,
            min=0.0,
            max=max(2.0, settings.temperature),
            step=0.05,
            description=text("control.temperature"),
            readout_format=".2f",
            continuous_update=False,
            style=slider_style,
            layout=slider_layout,
        )
        self.top_k = w.IntSlider(
            value=settings.top_k or 0,
            min=0,
            max=max(TOP_K_MAX, settings.top_k or 0),
            description=text("control.top_k"),
            continuous_update=False,
            style=slider_style,
            layout=slider_layout,
        )
        self.top_p = w.FloatSlider(
            value=1.0 if settings.top_p is None else settings.top_p,
            min=0.0,
            max=1.0,
            step=0.05,
            description=text("control.top_p"),
            readout_format=".2f",
            continuous_update=False,
            style=slider_style,
            layout=slider_layout,
        )
        self.seed = w.IntText(
            value=settings.seed,
            description=text("control.seed"),
            style={"description_width": "40px"},
            layout=w.Layout(width="130px"),
        )

    def _build_mode_controls(self, w) -> None:
        """The settings of the beam and speculative modes, each row shown in its mode only."""
        style, layout = w.SliderStyle(description_width="88px"), w.Layout(width="270px")
        beam = BeamSettings()
        self.num_beams = w.IntSlider(
            value=beam.num_beams,
            min=1,
            max=MAX_BEAMS,
            description=text("control.beams"),
            style=style,
        )
        self.length_penalty = w.FloatSlider(
            value=beam.length_penalty,
            min=-1.0,
            max=2.0,
            step=0.25,
            description=text("control.length_penalty"),
            readout_format=".2f",
            style=style,
        )
        self.max_new = w.IntSlider(
            value=beam.max_new_tokens,
            min=1,
            max=MAX_RUN,
            description=text("control.max_tokens"),
            style=style,
        )
        self.k = w.IntSlider(
            value=4, min=1, max=MAX_K, description=text("control.draft_k"), style=style
        )
        for slider in (self.num_beams, self.length_penalty, self.max_new, self.k):
            slider.continuous_update, slider.layout = False, layout
        wrap = w.Layout(flex_flow="row wrap", align_items="center", display="none")
        self.beam_row = w.HBox([self.num_beams, self.length_penalty, self.max_new], layout=wrap)
        self.k_row = w.HBox([self.k], layout=w.Layout(display="none"))

    def _build_views(self, w, n_candidates: int) -> None:
        """The HTML panels and one (button, bar) row per candidate."""
        html_style, html_layout = self._html_style, self._html_layout
        self.status_line, self.text_view, self.ids_view, self.stats_view, self.legend_view = (
            w.HTML(style=html_style, layout=html_layout) for _ in range(5)
        )
        self.mode_view = w.HTML(style=html_style, layout=w.Layout(width="100%", display="none"))
        self._cand_styles = {  # two shared styles: kept candidates, and those the filters cut
            kind: _button_style(w, kind, font_family="monospace")
            for kind in ("candidate", "cut candidate")
        }
        cand_style = self._cand_styles["candidate"]
        # 110 px: the bars keep room for their labels in a ~290 px column (590 px output)
        cand_layout = w.Layout(width="110px", height="28px", margin="1px 2px")
        self.row_layout = w.Layout(align_items="center")  # shared: rows hide all at once
        bar_layout = w.Layout(flex="1 1 auto", width="auto")  # the row's width minus the button
        self.candidate_buttons, self.candidate_bars, rows = [], [], []
        for i in range(n_candidates):
            button = w.Button(style=cand_style, layout=cand_layout)
            button.add_class("dw-cand")
            button.on_click(lambda _b, i=i: self.force_candidate(i))
            bar = w.HTML(style=html_style, layout=bar_layout)
            self.candidate_buttons.append(button)
            self.candidate_bars.append(bar)
            rows.append(w.HBox([button, bar], layout=self.row_layout))
        self.candidate_rows = rows

    def _build_panes(self, w) -> None:
        """The panes inside the step, each hidden until its toggle is on (a hidden pane is not
        drawn, so it costs a Step nothing), and the layer and head the attention strip shows."""
        config = self.model.config
        self.pane_toggles = {
            name: w.ToggleButton(
                description=text(f"stepper.pane.{name}"),
                tooltip=text("stepper.pane_tip", label=text(f"stepper.pane.{name}")),
                layout=w.Layout(width="auto"),
            )
            for name in PANES
        }
        small = w.Layout(width="auto")
        self.layer = w.Dropdown(
            options=[(text("control.layer", i=i), i) for i in range(config.n_layer)],
            value=config.n_layer - 1,  # the last layer: the one nearest the prediction
            layout=small,
        )
        self.head = w.Dropdown(
            options=[(text("control.head", i=i), i) for i in range(config.n_head)], layout=small
        )
        self.pane_views = {
            name: w.HTML(style=self._html_style, layout=self._html_layout) for name in PANES
        }
        pick = w.HBox([self.layer, self.head])
        self.panes = {
            name: w.VBox(
                [pick, view] if name == "attention" else [view], layout=w.Layout(display="none")
            )
            for name, view in self.pane_views.items()
        }

    def _wire(self) -> None:
        """Every control calls a Python method (so tests can click them)."""
        self.step_button.on_click(lambda _b: self.step())
        self.run_button.on_click(lambda _b: self.run(self.run_n.value))
        self.undo_button.on_click(lambda _b: self.undo())
        self.reset_button.on_click(lambda _b: self.reset())
        self.run_n.observe(
            lambda ch: setattr(self.run_button, "description", text("control.run", n=ch.new)),
            "value",
        )
        self.prompt_box.observe(self._on_prompt, "value")
        self.apply_button.on_click(lambda _b: self.apply_prompt())
        for name in ("strategy", "temperature", "top_k", "top_p", "seed"):
            getattr(self, name).observe(self._on_setting, "value")
        for slider in (self.num_beams, self.length_penalty, self.max_new, self.k):
            slider.observe(self._on_mode_setting, "value")
        for control in (*self.pane_toggles.values(), self.layer, self.head):
            control.observe(lambda _change: self._render_panes(), "value")

    def _arrange(self, w):
        """Controls on top, the text (left) and the candidates (right) below."""
        wrap = w.Layout(flex_flow="row wrap", align_items="center")
        for b in (self.step_button, self.run_button, self.undo_button, self.reset_button):
            b.add_class("dw-action")
        self.step_button.add_class("dw-step")
        # Sized for a 1024x768 projector, JupyterLab's file browser open or closed: rows wrap,
        # and the text and the candidates stay side by side down to a ~590 px output area
        # (flex bases 260 + 300 px and the gap), the essential parts under ~600 px tall
        # (tests/notebooks/test_browser.py measures it).
        actions = w.HBox(
            [
                self.step_button,
                self.run_button,
                self.run_n,
                self.undo_button,
                self.reset_button,
                self.strategy,
                self.seed,
            ],
            layout=wrap,
        )
        # a layout of its own: the sliders hide outside greedy and sample, the actions never
        self.sliders = w.HBox(
            [self.temperature, self.top_k, self.top_p],
            layout=w.Layout(flex_flow="row wrap", align_items="center"),
        )
        left = w.VBox(
            [self.text_view, self.ids_view, self.stats_view],
            layout=w.Layout(flex="1 1 260px", min_width="240px"),
        )
        right = w.VBox(
            [self.legend_view, *self.candidate_rows, self.mode_view],
            layout=w.Layout(flex="1 1 300px", min_width="280px"),
        )
        panels = w.HBox([left, right], layout=w.Layout(flex_flow="row wrap", grid_gap="14px"))
        prompt_row = w.HBox(
            [self.prompt_box, self.apply_button, *self.pane_toggles.values()],
            layout=w.Layout(flex_flow="row wrap", align_items="center"),
        )
        widget = w.VBox(
            [prompt_row, actions, self.sliders, self.beam_row, self.k_row, self.status_line]
            + [panels, *self.panes.values()],
            layout=w.Layout(max_width="1150px"),
        )
        widget.add_class("dw-stepper")
        return widget

    # ------------------------------------------------------------------ model
    def step_pass(self, state=None) -> StepPass:
        """The one forward pass for ``state`` (default: the current one) that its next step and
        the panes both read: every beam's scores in beam mode (the panes show the best), the
        text's and the draft's guesses' in speculative mode. Remembered by what it read."""
        state = self.state if state is None else state
        texts = pass_texts(state)
        key = (texts, state.k if isinstance(state, SpeculativeState) else 0)
        if key in self._passes:
            self._passes.move_to_end(key)
            return self._passes[key]
        state.check_room(self.model)  # a clear ValueError when the window is full
        guesses = state.guesses(self.model, self.draft) if key[1] else ()
        record = self._runner.run_rows(texts, guesses)  # over the tokens the cache lacks
        self._passes[key] = record
        kept = sum(r.nbytes for r in self._passes.values())
        while len(self._passes) > 1 and (len(self._passes) > PASSES_KEPT or kept > PASSES_BYTES):
            kept -= self._passes.popitem(last=False)[1].nbytes  # the least recently used
        return record

    def logits(self, state: DecodingState | None = None) -> torch.Tensor:
        """Next-token logits of ``state`` (default: the current one), from its ``step_pass``."""
        return self.step_pass(state).logits

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
            self._render(text("status.unexpected", name=type(err).__name__, error=err), True)
            return False
        self.state = new
        self._render(message)
        return True

    def _describe(self, new: DecodingState, verb: str, used: float | None = None) -> str:
        """The status after a step; ``used``: the probability the draw used (after the filters)."""
        token = show_token(self.tokenizer.decode([new.generated[-1]]))
        p = f"p = {fmt_prob(new.probs[-1])}"
        if used is not None:
            p = text("status.after_filters", p=p, q=fmt_prob(used))
        return text("status.step", n=new.n_steps, verb=verb, token=token, id=new.generated[-1], p=p)

    def _verb(self) -> str:
        s = self.state.settings
        return (
            text("status.greedy_picked")
            if s.strategy == "greedy"
            else text("status.sampled", seed=s.seed)
        )

    @property
    def draft(self):
        """The speculative mode's draft: the one given, else the bundled n-gram draft (loaded
        once, when the mode is first chosen)."""
        if self._draft is None:
            from helpers.drafts import draft_for

            self._draft = draft_for(self.tokenizer)
        return self._draft

    def _next(self, state):
        """``state`` one step further in its own mode, from its ``step_pass``, and the status."""
        if isinstance(state, BeamState):  # a finished search refuses before any pass
            new = state.step(self.model, None if state.done else self.step_pass(state).scores[:, 0])
        elif isinstance(state, SpeculativeState):
            record = self.step_pass(state)  # the round: the draft's guesses, checked
            new = state.step(self.model, self.draft, record.guesses, record.scores[0])
        else:
            new = state.step(self.model, self.logits(state))
            return new, self._describe(new, self._verb())
        return new, describe_step(new, self.tokenizer)

    def step(self) -> bool:
        """One step in the current mode (the Step button): a token, a beam step or a round."""

        def action():
            state = self.state
            if not isinstance(state, DecodingState):
                return self._next(state)
            known = self._filtered
            filtered = known[1] if known and known[0] == (state.ids, state.settings) else None
            new, used = state.step_filtered(self.model, self.logits(), filtered)
            return new, self._describe(new, self._verb(), used)

        return self._act(action)

    def run(self, n: int) -> bool:
        """Step ``n`` times (the Run N button); stops early, with a message, if the window fills."""
        try:
            check_int("N", n, 1, MAX_RUN)
        except (TypeError, ValueError) as err:
            self._render(str(err), error=True)
            return False
        state, message = self.state, ""
        for done in range(n):
            try:
                state, message = self._next(state)
            except ValueError as err:
                if done == 0:
                    self._render(str(err), error=True)
                    return False
                self.state = state
                self._render(text("status.stopped", done=done, n=n, error=err), error=True)
                return False
        self.state = state
        self._render(text("status.ran", n=n, message=message))
        return True

    def force(self, token_id: int) -> bool:
        """Append ``token_id`` whatever the settings would choose (a teacher's "what if")."""

        def action():
            self._token_mode(text("status.what_force"))
            greedy = int(torch.argmax(self.logits()))
            new = self.state.force(self.model, token_id, self.logits())
            shown = show_token(self.tokenizer.decode([greedy]))
            note = "" if token_id == greedy else text("status.greedy_would", token=shown)
            return new, self._describe(new, text("status.forced")) + note

        return self._act(action)

    def force_candidate(self, i: int) -> bool:
        """Force the ``i``-th candidate of the panel (the candidate buttons)."""
        try:
            i = check_int("candidate", i)
        except TypeError as err:
            self._render(str(err), error=True)
            return False
        if not 0 <= i < len(self._cands):
            self._render(text("status.no_candidate", i=i, n=len(self._cands)), True)
            return False
        return self.force(self._cands[i].token_id)

    def undo(self) -> bool:
        """Return to the state before the last action (tokens, settings, prompt)."""

        def action():
            old, new = self.state, self.state.undo()
            if not isinstance(old, DecodingState) or not isinstance(new, DecodingState):
                return new, text("status.undone", what=undo_note(old, new))
            if len(old.generated) == len(new.generated) + 1 and old.generated[:-1] == new.generated:
                token = show_token(self.tokenizer.decode([old.generated[-1]]))
                what = text("status.undone_step", n=old.n_steps, token=token)
            elif old.settings != new.settings:
                what = settings_change(old.settings, new.settings)
            elif old.prompt != new.prompt:
                what = text("status.undone_prompt")
            elif not old.generated and new.generated:
                what = text("status.undone_reset", n=len(new.generated))
            else:
                what = text("status.undone_last")
            return new, text("status.undone", what=what)

        return self._act(action)

    def reset(self) -> bool:
        """Back to the prompt alone, keeping the settings; Undo brings the tokens back."""
        return self._act(lambda: (self.state.reset(), text("status.reset")))

    def set_prompt(self, prompt) -> bool:
        """Start again from a new prompt (the prompt box, on Enter); undoable."""

        def action():
            s = self.state
            if prompt == s.prompt:
                return s, text("status.prompt_same")
            new = s.with_prompt(self.tokenizer, prompt, self.model)
            return new, text("status.new_prompt", n=len(new.ids))

        return self._act(action, keep_prompt=True)

    def apply_prompt(self) -> bool:
        """The Apply button: use the text in the prompt box (clicking it also ends the editing,
        which may already have applied the new text; then it says which prompt is in use)."""
        if _from_box(self.prompt_box.value) != self.state.prompt:
            return self.set_prompt(_from_box(self.prompt_box.value))
        s, n = self.state, len(self.state.prompt_ids)
        fresh = s.history and s.history[-1].prompt != s.prompt and not s.generated
        if fresh:  # the box's text was applied as the editing ended: say so, again
            self._render(text("status.prompt_fresh", n=n))
        else:
            self._render(text("status.prompt_in_use", n=n))
        return True

    def set_settings(self, **changes) -> bool:
        """Change strategy / temperature / top_k / top_p / seed; undoable like a step."""

        def action():
            old = self._token_mode(", ".join(changes) or "a setting")
            new = old.with_settings(**changes)  # checks top_k against the vocabulary
            if new.settings == old.settings:  # nothing changed: nothing for Undo to revert
                return old, text("status.settings_same")
            return new, text("status.settings", change=settings_change(old.settings, new.settings))

        return self._act(action)

    def _token_mode(self, what: str) -> DecodingState:
        """The current state if it is greedy or sample; else a ValueError saying so."""
        if not isinstance(self.state, DecodingState):
            mode = mode_of(self.state)
            raise ValueError(text("status.token_mode", what=what, mode=text(f"mode.{mode}")))
        return self.state

    def _latest(self, cls):
        """The most recent state of class ``cls`` (this one or one Undo reaches), or None."""
        return next(
            (s for s in reversed((*self.state.history, self.state)) if type(s) is cls), None
        )

    def set_mode(self, mode) -> bool:
        """Switch to "greedy", "sample", "beam" or "speculative" (the mode toggle); undoable.
        Greedy <-> sample keeps the text; the other switches start again from the prompt."""

        def action():
            check_choice("mode", mode, MODES)
            old = self.state
            if mode_of(old) == mode:
                return old, text("status.already", mode=text(f"mode.{mode}"))
            if isinstance(old, DecodingState) and mode in ("greedy", "sample"):
                new = old.with_settings(strategy=mode)
                change = settings_change(old.settings, new.settings)
                return new, text("status.settings", change=change)
            history = old.history + (old,)
            if mode == "beam":
                last = self._latest(BeamState)
                fresh = BeamState.fresh(
                    old.prompt,
                    old.prompt_ids,
                    self.model,
                    last.settings if last else BeamSettings(),
                )
                new = fresh.with_history(history)
            elif mode == "speculative":
                last, _ = self._latest(SpeculativeState), self.draft  # the draft loads here
                new = SpeculativeState(old.prompt, old.prompt_ids, last.k if last else 4)
                new = replace(new, history=history)
            else:
                settings = replace(self._latest(DecodingState).settings, strategy=mode)
                fresh = DecodingState.start(self.tokenizer, old.prompt, settings, self.model)
                new = replace(fresh, history=history)
            return new, text("status.mode_switch", mode=text(f"mode.{mode}"))

        return self._act(action)

    def set_mode_settings(self, **changes) -> bool:
        """Change num_beams / length_penalty / max_new_tokens (beam) or k (speculative);
        a beam search starts again with them; undoable."""

        def action():
            old = self.state
            if isinstance(old, DecodingState):
                raise BadValue(
                    f"{', '.join(changes) or 'a setting'}: a setting of the beam and speculative "
                    f"modes; this is {mode_of(old)} mode"
                )
            new = old.with_settings(self.model, **changes)
            if new.settings == old.settings if isinstance(old, BeamState) else new.k == old.k:
                return old, text("status.settings_same")
            change = settings_note(old, new)
            return new, text(
                "status.mode_settings", mode=text(f"mode.{mode_of(old)}"), change=change
            )

        return self._act(action)

    def _on_mode_setting(self, change) -> None:
        if self._syncing:
            return
        names = {id(self.num_beams): "num_beams", id(self.length_penalty): "length_penalty"}
        names |= {id(self.max_new): "max_new_tokens", id(self.k): "k"}
        value = change.new
        value = round(value, 2) if isinstance(value, float) else value  # slider float noise
        self.set_mode_settings(**{names[id(change.owner)]: value})

    def _on_prompt(self, change) -> None:
        if not self._syncing:  # Enter, or the box lost focus
            self.set_prompt(_from_box(change.new))

    def _on_setting(self, change) -> None:
        if self._syncing:
            return
        name, value = change.owner, change.new
        if isinstance(value, float):  # a slider may send 0.8000000000000002 for 0.80
            value = round(value, 2)  # its steps are 0.05: no change the readout cannot show
        if name is self.top_k:
            self.set_settings(top_k=None if value == 0 else value)
        elif name is self.top_p:
            self.set_settings(top_p=None if value >= 1 else value)
        elif name is self.temperature:
            self.set_settings(temperature=value)
        elif name is self.strategy:
            self.set_mode(value)
        else:
            self.set_settings(seed=value)

    # ------------------------------------------------------------------ view
    def _sync_controls(self, sync_prompt: bool = True) -> None:
        """Make the controls show the state (after undo, or a refused value); the sampling
        knobs show the last greedy / sample settings, the mode rows the last ones of theirs."""
        s, mode = self._latest(DecodingState).settings, mode_of(self.state)
        beam, spec = self._latest(BeamState), self._latest(SpeculativeState)
        beam = beam.settings if beam else BeamSettings()
        self._syncing = True
        try:
            if sync_prompt:
                self.prompt_box.value = _to_box(self.state.prompt)
            self.strategy.value = mode
            self.num_beams.value, self.length_penalty.value = beam.num_beams, beam.length_penalty
            self.max_new.value, self.k.value = beam.max_new_tokens, spec.k if spec else 4
            self.sliders.layout.display = None if mode in ("greedy", "sample") else "none"
            self.beam_row.layout.display = None if mode == "beam" else "none"
            self.k_row.layout.display = None if mode == "speculative" else "none"
            self.temperature.max = max(self.temperature.max, s.temperature)
            self.temperature.value = s.temperature
            self.top_k.value = s.top_k or 0
            self.top_p.value = 1.0 if s.top_p is None else s.top_p
            self.seed.value = s.seed
        finally:
            self._syncing = False

    def _render(self, status: str = "", error: bool = False, sync_prompt: bool = True) -> None:
        status = error_text(status) if error else status  # a check's message, in LANG
        self.status, self.error = status, error
        self._sync_controls(sync_prompt)
        self.status_line.value = status_html(status, error) if status else ""
        try:
            self._pass = self.step_pass()
        except ValueError:  # the context window is full: no next token to offer
            self._pass = None
        if isinstance(self.state, DecodingState):
            self.mode_view.layout.display = "none"
            self._render_tokens()
        else:
            self._render_mode()
        self._render_panes()

    def _render_mode(self) -> None:
        """The beam or speculative state: its text, counts, and its table in the right column."""
        state, tok = self.state, self.tokenizer
        self._cands, self._filtered = [], None
        self.text_view.value = mode_text_html(state, tok)
        self.ids_view.value = ids_html(state)
        self.stats_view.value = mode_stats_html(state, self.window)
        self.legend_view.value, self.row_layout.display = "", "none"
        beam = isinstance(state, BeamState)
        self.mode_view.value = beams_html(state, tok) if beam else rounds_html(state, tok)
        self.mode_view.layout.display = None

    def _render_tokens(self) -> None:
        """Greedy or sample: the text, and one candidate row per next-token candidate."""
        state = self.state
        if self._pass is None:
            self._cands, self._filtered = [], None
        else:
            logits = self._pass.logits
            self._cands, filtered = state.panel(logits, self.tokenizer, self.n_candidates)
            self._filtered = ((state.ids, state.settings), filtered)
        pieces = token_pieces(state, self.tokenizer, self._bytes_cache)
        self.text_view.value = text_html(state, self.tokenizer, pieces)
        self.ids_view.value = ids_html(state)
        self.stats_view.value = stats_html(state, self.window)
        sampling = state.settings.strategy == "sample"
        if self._cands:
            self.legend_view.value = legend_html(state.settings)
        else:
            self.legend_view.value = status_html(text("status.window_full"), error=True)
        scale = _scale(self._cands, sampling)
        # the table always has n_candidates rows, except when the window is full: then none
        self.row_layout.display = None if self._cands else "none"
        for k, (button, bar) in enumerate(
            zip(self.candidate_buttons, self.candidate_bars, strict=True)
        ):
            if k >= len(self._cands):
                continue
            c = self._cands[k]
            button.description = show_token(c.text)
            button.tooltip = text("control.force_tip", id=c.token_id, text=repr(c.text))
            style = self._cand_styles["cut candidate" if sampling and c.cut else "candidate"]
            if button.style is not style:
                button.style = style
            bar.value = bar_html(c, scale, sampling, k == 0 and not sampling)

    # ------------------------------------------------------------------ panes
    def _render_panes(self) -> None:
        """Show the panes whose toggle is on, drawn for the current state; hide the others."""
        for name, toggle in self.pane_toggles.items():
            self.panes[name].layout.display = None if toggle.value else "none"
            if toggle.value:
                try:
                    page = self.pane_html(name)
                except Exception as err:  # a bug must not turn into a traceback on the projector
                    why = text("status.unexpected", name=type(err).__name__, error=err)
                    page = status_html(why, error=True)
                self.pane_views[name].value = page

    def _shown(self, ids) -> list[str]:
        """Each token's text as the course shows it (· a space, ↵ a newline), remembered."""
        texts = self._texts
        for i in ids:
            if i not in texts:
                texts[i] = show_token(self.tokenizer.decode([i]))
        return [texts[i] for i in ids]

    def pane_html(self, name: str) -> str:
        """One pane of the current state as HTML: "attention", "cache" or "filters"."""
        check_choice("pane", name, tuple(PANES))
        record, state = self._pass, self.state
        if name == "cache":
            info = cache_info(self.model, state.ids)
            dropped = "" if info.dropped is None else self._shown([info.dropped])[0]
            beams = guesses = None  # what the next pass runs: see cache_html
            if isinstance(state, BeamState):
                beams = 0 if state.done else state.settings.num_beams
            elif isinstance(state, SpeculativeState):
                guesses = state.k
            measured = record.cache_bytes if record else None
            return cache_html(info, measured, dropped, beams=beams, guesses=guesses)
        if record is None:
            why = text("pane.no_pass", pane=text(f"stepper.pane.{name}"))
            return status_html(why, error=True)
        if name == "attention":
            tokens, picked = self._shown(record.ids), (self.layer.value, self.head.value)
            strip = attention_strip_html(record.attention, tokens, *picked)
            return strip + heads_overview_html(record.attention, tokens, picked)
        if not isinstance(state, DecodingState):
            why = text("pane.no_filters", mode=text(f"mode.{mode_of(state)}"))
            return status_html(why)
        s = state.settings
        stages = filter_pipeline(
            record.logits, temperature=s.temperature, top_k=s.top_k, top_p=s.top_p
        )
        columns = _columns(stages, [c.token_id for c in self._cands])
        shown = [show_token(c.text) for c in self._cands]
        return pipeline_html(columns, shown, s.strategy == "greedy")

    def show_panes(self, *names: str) -> bool:
        """Switch on the panes named ("attention", "cache", "filters"), and the others off."""
        try:
            for name in names:
                check_choice("pane", name, tuple(PANES))
        except ValueError as err:
            self._render(str(err), error=True)
            return False
        for name, toggle in self.pane_toggles.items():
            toggle.value = name in names  # each change redraws the panes
        return True

    def select_head(self, layer: int, head: int) -> bool:
        """Show layer ``layer``, head ``head`` in the attention strip (the two dropdowns)."""
        config = self.model.config
        try:
            layer = check_int("layer", layer, 0, config.n_layer - 1)
            head = check_int("head", head, 0, config.n_head - 1)
        except (TypeError, ValueError) as err:
            self._render(str(err), error=True)
            return False
        self.layer.value, self.head.value = layer, head  # each change redraws the panes
        return True

    @property
    def text(self) -> str:
        """The whole text so far (prompt and generated tokens), decoded."""
        return self.state.text(self.tokenizer)

    def static_html(self) -> str:
        """The same state as one HTML string (no live controls): for CI and HTML exports.
        It opens with a note that it is a snapshot, and how to get the live widget; every
        pane follows, whether or not its toggle is on."""
        start = self.status == text("stepper.start")
        status = text("status.none_yet") if start else self.status
        if isinstance(self.state, DecodingState):
            page = state_html(
                self.state, self.tokenizer, self._cands, self.window, status, self.error
            )
        else:
            page = self._mode_page(status)
        return snapshot_note() + page + panes_html(*(self.pane_html(name) for name in PANES))

    def _mode_page(self, status: str) -> str:
        """The static page of a beam or speculative state: its views, and no buttons."""
        views = [self.text_view.value, self.ids_view.value, self.stats_view.value]
        last = text("status.last_action", status=status)
        views.append(status_html(last, self.error) if status else "")
        return (
            '<div class="dw-static" style="display:flex;flex-wrap:wrap;gap:18px;max-width:1100px">'
            f'<div style="flex:1 1 480px;min-width:300px">{"".join(views)}</div>'
            f'<div style="flex:1 1 380px;min-width:300px">{self.mode_view.value}</div></div>'
        )

    def show_static(self):
        """An ``IPython.display.HTML`` of ``static_html()`` (the compared notebook output)."""
        from IPython.display import HTML

        return HTML(self.static_html())

    def figure(self, title: str = "") -> go.Figure:
        """The candidate panel of the current state as a plotly figure."""
        self._token_mode(text("status.what_figure"))
        if not self._cands:
            raise BadValue("the context window is full: there are no next-token candidates")
        title = title or f"candidates for step {self.state.n_steps + 1}"
        return candidates_figure(self._cands, self.state.settings, title)

    def display_outputs(self) -> list[dict]:
        """The two outputs displaying the stepper writes, as MIME bundles.

        1. the live widget: its view, and a line of plain text (no HTML, so that a front end
           that cannot draw widgets shows the snapshot once, below);
        2. a snapshot of the state as the cell left it, for a front end without the widget's
           model. JupyterLab draws a widget view even when the saved notebook lacks its state
           ("Error displaying widget: model not found"); its widget renderer never falls back
           to another MIME type of the same output, so the snapshot is an output of its own.
           A CSS rule (no script) hides it while the live widget is drawn above it.
        """
        live = self.widget._repr_mimebundle_()[WIDGET_MIME]
        live = {WIDGET_MIME: live, "text/plain": text("stepper.live_text")}
        # the copy renames its classes: what looks for the live widget or the compared
        # snapshot (styles, tests) must not find this, mostly hidden, copy
        page = self.static_html().replace('class="dw-', 'class="dw-copy-')
        note = f"{_FALLBACK_BOX}{text('stepper.fallback_note')}</div>"
        fallback = f'{FALLBACK_STYLE}<div class="dw-fallback">{note}{page}</div>'
        return [live, {"text/html": fallback, "text/plain": text("stepper.fallback_text")}]

    def _ipython_display_(self):
        from IPython.display import display

        for bundle in self.display_outputs():
            display(bundle, raw=True)

    def _repr_mimebundle_(self, **kwargs):
        # the live widget where a widget manager runs; the static HTML anywhere else
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.static_html()
        return bundle
