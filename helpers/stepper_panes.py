"""The stepper's debugger panes: what the step's forward pass computed, drawn as HTML.

Taught in notebook 02 (section 2, the panes under the stepper). ``helpers.step_internals``
prepares the data (the pass's attention row, the cache counted, the filter pipeline); these
functions only draw it, for the live widget (``helpers.widgets``) and its static snapshot.
Every sentence they draw is a ``helpers.messages`` template: the panes speak the notebook's
language (``setup_notebook(lang=...)``).

- ``attention_strip_html``: one head's weights over the tokens so far, one shaded cell each;
- ``heads_overview_html``: every layer and head at once, as small multiples;
- ``cache_html``: the KV cache (positions, bytes, share of the window, the next step's read);
- ``pipeline_html``: the candidates' probability after each filter stage;
- ``panes_html``: the four together, as the snapshot shows them;
- the other modes (``helpers.stepper_modes``): ``mode_text_html`` (the text, each speculative
  token marked draft or model), ``mode_stats_html``, ``beams_html`` (the beams, their scores
  and the finished texts) and ``rounds_html`` (the last round's guesses, and passes vs tokens).
"""

from __future__ import annotations

import torch

from helpers._checks import BadType, BadValue, check_int, check_tensor
from helpers.messages import text
from helpers.plots import PALETTE, show_token
from helpers.step_internals import CacheInfo, StageColumn
from helpers.stepper_modes import BeamState, SpeculativeState
from helpers.stepper_view import MUTED, TEXT, TEXT_ON_BACKGROUND, _esc, fmt_prob
from helpers.streaming import stream_text

BLUE_RGB = "0,114,178"  # PALETTE[0] (#0072B2) as rgb, for shades of it
MAX_SHADE = 0.55  # the darkest shade: dark text on it keeps a contrast above 4.5:1
OVERVIEW_POSITIONS = 24  # the small multiples show the last positions only
_PANE = f"font-size:15px;line-height:1.5;color:{TEXT};margin:6px 0;"
_TITLE = f"font-size:16px;color:{TEXT}"


def _shade(weight: float, top: float) -> str:
    alpha = MAX_SHADE * weight / top if top > 0 else 0.0
    return f"rgba({BLUE_RGB},{alpha:.2f})"


def _check_attention(attention, tokens) -> tuple[int, int, int]:
    check_tensor("attention", attention, 3)
    L, H, T = attention.shape
    if len(tokens) != T:
        raise BadValue(f"tokens has {len(tokens)} entries; attention covers {T} positions")
    return L, H, T


def attention_strip_html(attention: torch.Tensor, tokens: list[str], layer: int, head: int) -> str:
    """Layer ``layer``, head ``head`` of ``attention`` (L, H, T): the newest token's weights over
    the ``tokens`` so far (shown texts, one per position), darker where it looks more."""
    L, H, T = _check_attention(attention, tokens)
    check_int("layer", layer, 0, L - 1)
    check_int("head", head, 0, H - 1)
    row = attention[layer, head].tolist()  # (T,) sums to 1
    top = max(row)
    best = row.index(top)
    cells = []
    for i, (token, weight) in enumerate(zip(tokens, row, strict=True)):
        w = f"{weight:.4f}"
        edge = f"outline:2px solid {PALETTE[0]};" if i == T - 1 else ""
        cells.append(
            f'<span title="{text("pane.attention_cell", i=i, token=_esc(token), weight=w)}" '
            f'style="background:{_shade(weight, top)};{edge}padding:1px 2px;margin:1px;'
            f'display:inline-block;font-family:monospace">{_esc(token)}</span>'
        )
    title = text(
        "pane.attention_title",
        token=_esc(tokens[-1]),
        position=T - 1,
        layer=layer,
        head=head,
        n=T,
        top=f"{top:.4f}",
        best=_esc(tokens[best]),
        best_position=best,
    )
    return (
        f'<div class="dw-attention" style="{_PANE}">'
        f'<div style="{_TITLE}">{title}</div>'
        f'<div style="line-height:1.9">{"".join(cells)}</div></div>'
    )


def heads_overview_html(
    attention: torch.Tensor, tokens: list[str], selected: tuple[int, int] | None = None
) -> str:
    """Every head of every layer at once: a row of shades over the last positions, and the
    token the head weights most. ``selected``: the (layer, head) the strip shows, outlined."""
    L, H, T = _check_attention(attention, tokens)
    n = min(T, OVERVIEW_POSITIONS)
    rows = attention[:, :, -n:].tolist()  # (L, H, n)
    best = attention.argmax(dim=-1).tolist()  # (L, H)
    head_cells = "".join(
        f'<th style="padding:2px 6px">{text("control.head", i=h)}</th>' for h in range(H)
    )
    body = []
    for layer in range(L):
        cells = []
        for h in range(H):
            weights = rows[layer][h]
            top = max(weights)
            bars = "".join(
                f'<span style="display:inline-block;width:5px;height:14px;'
                f'background:{_shade(w, top)}"></span>'
                for w in weights
            )
            b = best[layer][h]
            edge = PALETTE[0] if selected == (layer, h) else "#ddd"
            cells.append(
                f'<td style="border:2px solid {edge};padding:2px 4px;white-space:nowrap">'
                f'<div style="border-bottom:1px solid #ccc">{bars}</div>'
                f"{_esc(tokens[b])} {float(attention[layer, h, b]):.2f}</td>"
            )
        layer_cell = f'<th style="padding:2px 6px">{text("control.layer", i=layer)}</th>'
        body.append(f"<tr>{layer_cell}{''.join(cells)}</tr>")
    shown = text("pane.heads_last", n=n, total=T) if n < T else text("pane.heads_all", total=T)
    return (
        f'<div class="dw-heads" style="{_PANE}">'
        f'<div style="{_TITLE}">{text("pane.heads_title", shown=shown)}</div>'
        f'<table style="border-collapse:collapse;font-family:monospace;font-size:13px;'
        f'table-layout:auto"><tr><th></th>{head_cells}</tr>{"".join(body)}</table></div>'
    )


def _bytes(n: int) -> str:
    return text("pane.bytes", n=f"{n:,}", kib=f"{n / 1024:.1f}")


def cache_html(
    info: CacheInfo,
    measured: int | None = None,
    dropped_text: str = "",
    beams: int | None = None,
    guesses: int | None = None,
) -> str:
    """The KV cache of the current text: what it holds, what it costs, what comes next.

    ``measured``: the bytes of the real cache tensors, shown beside the count; ``dropped_text``:
    the text of the token a sliding window would drop (``info.dropped``). What the next pass
    runs depends on the mode: 1 new token (greedy, sample); one per running beam, up to
    ``beams`` (beam search; 0: the search is over); the round's new token and up to ``guesses``
    draft guesses (speculative decoding)."""
    if not isinstance(info, CacheInfo):
        raise BadType(f"info must be a helpers.step_internals.CacheInfo, got {info!r}")
    if beams is not None:
        check_int("beams", beams, 0)
    if guesses is not None:
        check_int("guesses", guesses, 1)
    i = info
    formula = text(
        "pane.cache_formula",
        layers=i.n_layer,
        heads=i.n_head,
        dim=i.head_dim,
        size=i.bytes_per_value,
        per_position=f"{i.bytes_per_position:,}",
    )
    check = text("pane.cache_measured", n=f"{measured:,}") if measured is not None else ""
    pct = 100 * i.share
    bar = (
        '<div style="height:8px;background:#eee;border-radius:4px;margin:2px 0 4px 0">'
        f'<div style="width:{pct:.1f}%;height:8px;background:{PALETTE[0]};border-radius:4px">'
        "</div></div>"
    )
    if beams == 0:
        after = text("pane.cache_over")
    elif i.next_reads is not None:
        after = text(
            "pane.cache_next" if beams is None else "pane.cache_next_beam",
            n=i.next_reads,
            size=f"{i.next_reads * i.bytes_per_position:,}",
            added=f"{i.bytes_per_position:,}",
            beams=beams,
        )
        if guesses is not None:
            after = text("pane.cache_next_round", k=guesses, tokens=guesses + 1)
    else:
        now = (
            text("pane.cache_next_pick", n=i.window + 1)
            if i.n_tokens == i.window
            else text("pane.cache_text_is", n=i.n_tokens)
        )
        after = text(
            "pane.cache_full",
            now=now,
            dropped=_esc(dropped_text),
            id=i.dropped,
            window=i.window,
        )
    title = text(
        "pane.cache_title",
        positions=i.positions,
        size=_bytes(i.bytes),
        measured=check,
        window=i.window,
        pct=f"{pct:.1f}",
    )
    return (
        f'<div class="dw-cache" style="{_PANE}">'
        f'<div style="{_TITLE}">{title}</div>{bar}'
        f'<div style="color:{MUTED}">{formula}</div><div>{after}</div></div>'
    )


def pipeline_html(columns: list[StageColumn], tokens: list[str], greedy: bool) -> str:
    """The candidates (``tokens``, their shown texts) after each stage of ``columns``, in order."""
    if not columns or not all(isinstance(c, StageColumn) for c in columns):
        raise BadType("columns must be a non-empty list of helpers.step_internals.StageColumn")
    if any(len(c.probs) != len(tokens) for c in columns):
        raise BadValue(f"every column must hold {len(tokens)} probabilities, one per token")
    head = "".join(
        f'<th style="padding:2px 8px;text-align:right">{_esc(_stage(c.label))}</th>'
        for c in columns
    )
    cut = text("pane.cut")
    rows = []
    for k, token in enumerate(tokens):
        cells = "".join(
            f'<td style="padding:1px 8px;text-align:right">{fmt_prob(c.probs[k])}</td>'
            if c.probs[k] > 0
            else f'<td style="padding:1px 8px;text-align:right;color:{MUTED}"><i>{cut}</i></td>'
            for c in columns
        )
        rows.append(f'<tr><td style="font-family:monospace">{_esc(token)}</td>{cells}</tr>')
    kept = "".join(f'<td style="padding:1px 8px;text-align:right">{c.kept:,}</td>' for c in columns)
    note = text("pane.filters_greedy" if greedy else "pane.filters_sample")
    return (
        f'<div class="dw-filters" style="{_PANE}">'
        f'<div style="{_TITLE}">{text("pane.filters_title", note=note)}</div>'
        f'<table style="border-collapse:collapse;table-layout:auto"><tr><th>{text("pane.token")}'
        f'</th>{head}</tr>{"".join(rows)}<tr style="border-top:1px solid #ccc">'
        f"<td>{text('pane.tokens_left')}</td>{kept}</tr></table></div>"
    )


def _stage(label: str) -> str:
    """A filter stage's label (``helpers.step_internals.filter_pipeline``: "temperature 1.5",
    "top-k 5") in the notebook's language; the names top-k, top-p, min-p and softmax stay."""
    for name, key in _STAGES:
        if label.startswith(name):
            return text(key, value=label[len(name) :])
    return label


_STAGES = (("temperature ", "view.temperature"), ("repetition penalty ", "pane.repetition_penalty"))


def panes_html(*panes: str) -> str:
    """The panes side by side where they fit (the snapshot's lower half)."""
    cells = "".join(f'<div style="flex:1 1 460px;min-width:300px">{p}</div>' for p in panes)
    return (
        '<div class="dw-panes" style="display:flex;flex-wrap:wrap;gap:0 18px;'
        f'max-width:1100px;margin-top:8px">{cells}</div>'
    )


# --------------------------------------------------------------------------- the other modes
_KEPT, _REJECTED, _MODEL = (
    TEXT_ON_BACKGROUND[k][1]
    for k in ("draft guess, kept", "draft guess, rejected", "the model's own token")
)


def _check_mode_state(state) -> None:
    if not isinstance(state, BeamState | SpeculativeState):
        raise BadType(
            f"state must be a helpers.stepper_modes BeamState or SpeculativeState, got "
            f"{type(state).__name__}"
        )


def _chip(text: str, background: str, title: str, colour: str = TEXT, extra: str = "") -> str:
    return (
        f'<span title="{_esc(title)}" style="color:{colour};background:{background};'
        f'padding:1px 3px;margin:1px;border-radius:3px;{extra}">{_esc(text)}</span>'
    )


def mode_text_html(state, tokenizer) -> str:
    """The text of a beam or speculative state: the prompt plain, then the new tokens (beam:
    the best text; speculative: each token shaded by who wrote it, the draft or the model)."""
    _check_mode_state(state)
    new = list(state.generated)
    texts = list(stream_text(tokenizer, new)) if new else []  # "": a character is unfinished
    if isinstance(state, BeamState):
        what = text("mode.best_finished" if state.done else "mode.best_beam")
        kinds = [(_MODEL, what)] * len(new)
    else:
        kinds = []
        for r in state.rounds:
            kinds += [(_KEPT, text("mode.guess_kept", i=r.index + 1))] * r.n_accepted
            kind = text(f"kind.{r.kind}")
            kinds.append((_MODEL, text("mode.model_token", i=r.index + 1, kind=kind)))
    out = [f'<span style="color:{TEXT}">{_esc(state.prompt)}</span>']
    for piece, (background, title) in zip(texts, kinds, strict=True):
        if piece:
            out.append(
                f'<span class="dw-gen" title="{_esc(title)}" style="color:{TEXT};'
                f'background:{background}">{_esc(piece.replace(chr(10), "↵" + chr(10)))}'
                "</span>"
            )
    return (
        '<div class="dw-text" style="font-size:22px;line-height:1.6;white-space:pre-wrap;'
        "font-family:Georgia,serif;padding:10px 12px;border:1px solid #ddd;border-radius:6px;"
        f'min-height:90px;background:#fcfcfc">{"".join(out)}</div>'
    )


def mode_stats_html(state, window: int) -> str:
    """The count line under the text: beam steps and scores, or model passes vs tokens."""
    _check_mode_state(state)
    length = min(len(state.ids), window)
    steps = f'<span class="dw-steps">{state.n_steps}</span>'
    if isinstance(state, BeamState):
        s = state.settings
        what = text(
            "mode.beam_stats",
            steps=steps,
            max=s.max_new_tokens,
            beams=s.num_beams,
            penalty=f"{s.length_penalty:g}",
        )
    else:
        n = len(state.generated)
        proposed = sum(len(r.proposed) for r in state.rounds)
        kept = sum(r.n_accepted for r in state.rounds)
        what = text(
            "mode.round_stats", steps=steps, passes=state.passes, n=n, kept=kept, proposed=proposed
        )
    context = f"<b>{text('view.context')}</b> {text('view.tokens_of', n=length, window=window)}"
    return (
        f'<div class="dw-stats" style="font-size:18px;margin-top:8px;line-height:1.6">{what}'
        f" &nbsp;·&nbsp; {context}</div>"
    )


def _decoded(tokenizer, ids) -> str:
    return show_token(tokenizer.decode(list(ids))) if ids else text("mode.nothing_yet")


def beams_html(state: BeamState, tokenizer) -> str:
    """The beams as a table: the beam each continues, its new text and summed log-probability;
    below, the finished texts (ended by EOS or at the length limit) with their scores."""
    if not isinstance(state, BeamState):
        raise BadType(f"state must be a helpers.stepper_modes.BeamState, got {state!r}")
    s, cell = state.settings, 'style="padding:1px 8px;text-align:right"'
    if state.n_steps == 0:
        rows = f'<tr><td colspan="4">{text("beam.prompt_alone")}</td></tr>'
    else:
        rows = "".join(
            f'<tr><td {cell}>{i}</td><td {cell}>{p}</td><td style="font-family:monospace">'
            f"{_esc(_decoded(tokenizer, t))}</td><td {cell}>{v:.4f}</td></tr>"
            for i, (t, v, p) in enumerate(
                zip(state.texts, state.scores, state.parents, strict=True)
            )
        )
    eos, length = state.eos_token_id, text("beam.ended_length")
    done = "".join(
        f'<tr><td style="font-family:monospace">{_esc(_decoded(tokenizer, t))}</td>'
        f"<td {cell}>{'EOS' if t and t[-1] == eos else length}</td><td {cell}>{lp:.4f}</td>"
        f"<td {cell}>{score:.4f}</td></tr>"
        for score, t, lp in state.finished
    )
    verdict = text("beam.done" if state.done else "beam.keeps", beams=s.num_beams)
    log_prob = text("beam.col_log_prob")
    head = (
        f"<tr><th {cell}>{text('beam.col_beam')}</th><th {cell}>{text('beam.col_from')}</th>"
        f"<th>{text('beam.col_text')}</th><th {cell}>{log_prob}</th></tr>"
    )
    kept = text(
        "beam.finished",
        n=len(state.finished),
        beams=s.num_beams,
        penalty=f"{s.length_penalty:g}",
    )
    finished = (
        f'<div style="{_TITLE};margin-top:6px">{kept}</div>'
        '<table style="border-collapse:collapse;table-layout:auto">'
        f"<tr><th>{text('beam.col_finished_text')}</th><th {cell}>{text('beam.col_ended_by')}"
        f"</th><th {cell}>{log_prob}</th><th {cell}>{text('beam.col_score')}</th></tr>{done}"
        "</table>"
        if state.finished
        else ""
    )
    title = text("beam.title", n=state.n_steps, verdict=verdict)
    return (
        f'<div class="dw-beams" style="{_PANE}"><div style="{_TITLE}">{title}</div>'
        f'<table style="border-collapse:collapse;table-layout:auto">{head}{rows}</table>'
        f"{finished}</div>"
    )


def rounds_html(state: SpeculativeState, tokenizer, last: int = 5) -> str:
    """The last round: the draft's guesses (kept, or struck out), the model's own token; then
    the ``last`` rounds before it, one line each."""
    if not isinstance(state, SpeculativeState):
        raise BadType(f"state must be a helpers.stepper_modes.SpeculativeState, got {state!r}")
    check_int("last", last, 1, 100)
    if not state.rounds:
        return f'<div class="dw-rounds" style="{_PANE}">{text("spec.start", k=state.k)}</div>'

    def tok(i: int) -> str:
        return show_token(tokenizer.decode([i]))

    r = state.rounds[-1]
    kept = text("spec.kept")
    chips = [_chip(tok(t), _KEPT, kept) for t in r.accepted]
    chips += [
        _chip(tok(t), _REJECTED, text("spec.rejected"), MUTED, "text-decoration:line-through")
        for t in r.rejected
    ]
    own = text("spec.model_kind", kind=text(f"kind.{r.kind}"))
    chips.append(_chip(tok(r.model_token), _MODEL, own, extra="font-weight:bold"))
    why = (
        text("spec.why_bonus")
        if r.kind == "bonus"
        else text("spec.why_correction", i=r.n_accepted + 1)
    )
    earlier = "".join(
        "<li>"
        + text(
            "spec.earlier",
            i=q.index + 1,
            kept=q.n_accepted,
            proposed=len(q.proposed),
            kind=text(f"kind.{q.kind}"),
            added=len(q.new_tokens),
        )
        + "</li>"
        for q in state.rounds[-last - 1 : -1]
    )
    n = len(state.generated)
    title = text("spec.title", i=r.index + 1, proposed=len(r.proposed), kept=r.n_accepted, why=why)
    return (
        f'<div class="dw-rounds" style="{_PANE}"><div style="{_TITLE}">{title}</div>'
        f'<div style="font-family:monospace;font-size:17px;line-height:2">{"".join(chips)}</div>'
        f"<div>{text('spec.passes', passes=state.passes, n=n)}</div>"
        + (f'<ul style="margin:2px 0;color:{MUTED}">{earlier}</ul>' if earlier else "")
        + "</div>"
    )
