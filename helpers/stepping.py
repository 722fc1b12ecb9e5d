"""The decoding state the notebook-02 stepper drives: one step of generation at a time.

Taught in notebook 02 (section 1, one step by hand; section 3, every button scripted against
the state behind the widget).

``DecodingState`` is an immutable value (prompt, chosen tokens, ``SamplingSettings``) with
``step`` / ``force`` / ``undo`` / ``reset`` / ``with_settings`` / ``with_prompt``: each action
returns a new state whose ``history`` holds the previous one, so undo is exact. The model is
passed to the actions that need it. Input is checked where it enters (``start``,
``with_settings``, ``with_prompt``, ``force``); a step then trusts the settings, and
``step_filtered`` / ``panel`` run the filter chain once per sequence (the widget reuses the
panel's distribution for the next draw).
``token_pieces`` splits its generated text into one highlightable piece per token (a Chinese
character spanning several byte tokens stays one piece, with ``helpers.streaming``'s
``stream_text``), for ``helpers.stepper_view``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch

from helpers._checks import BadType, BadValue, check_token_id
from helpers.generation import _next_token_logits, context_window, encode_prompt
from helpers.sampling import (
    STRATEGIES,
    Candidate,
    SamplingSettings,
    _candidate_rows,
    _draw,
    check_settings,
)
from helpers.streaming import stream_text

# what the widget (helpers.widgets) takes from here rather than from sampling and generation
__all__ = [
    "STRATEGIES",
    "Candidate",
    "DecodingState",
    "Piece",
    "SamplingSettings",
    "context_window",
    "token_pieces",
]


@dataclass(frozen=True)
class DecodingState:
    """Everything the decoding widget shows, as an immutable value."""

    prompt: str
    prompt_ids: tuple[int, ...]
    generated: tuple[int, ...] = ()
    probs: tuple[float, ...] = ()  # probability of each generated token when it was chosen
    settings: SamplingSettings = field(default_factory=SamplingSettings)
    history: tuple[DecodingState, ...] = ()
    vocab_size: int | None = field(default=None, compare=False, repr=False)  # when known

    @classmethod
    def start(cls, tokenizer, prompt: str, settings: SamplingSettings | None = None, model=None):
        """The prompt alone. With ``model``: the prompt must fit its window and ``top_k`` its
        vocabulary (checked here, once, not at every step)."""
        settings = SamplingSettings() if settings is None else settings
        check_settings(settings, None)  # the type first, before the tokenizer runs
        ids = encode_prompt(tokenizer, prompt, model)  # checks the model and the prompt
        vocab = None if model is None else model.config.vocab_size
        check_settings(settings, vocab)
        return cls(prompt, tuple(ids[0].tolist()), settings=settings, vocab_size=vocab)

    @property
    def ids(self) -> tuple[int, ...]:
        return self.prompt_ids + self.generated

    @property
    def n_steps(self) -> int:
        return len(self.generated)

    @property
    def log_prob(self) -> float:
        """Total log-probability of the generated tokens under the plain softmax."""
        return float(sum(math.log(p) for p in self.probs if p > 0))

    def text(self, tokenizer) -> str:
        return tokenizer.decode(list(self.ids))

    def _generator(self) -> torch.Generator:
        # one seed per step, so undo + step draws the same token again
        return torch.Generator().manual_seed(self.settings.seed * 1_000_003 + self.n_steps)

    def check_room(self, model) -> None:
        """A clear ValueError if the text no longer fits the model's window (nothing to score)."""
        window = context_window(model)
        if len(self.ids) > window:  # n_positions tokens still predict one more
            raise BadValue(
                f"the context window is full: the text is {len(self.ids)} tokens and the "
                f"model reads at most {window}: undo or reset to continue"
            )

    def logits(self, model) -> torch.Tensor:
        """Raw next-token logits for the current sequence. (V,)"""
        self.check_room(model)
        ids = torch.tensor([self.ids], device=model.device)  # (1, T)
        return _next_token_logits(model, ids)  # the ids were checked where they entered

    def step(self, model, logits: torch.Tensor | None = None) -> DecodingState:
        """Choose the next token with the current settings and append it."""
        return self.step_filtered(model, logits)[0]

    def step_filtered(
        self, model, logits: torch.Tensor | None = None, filtered: torch.Tensor | None = None
    ) -> tuple[DecodingState, float | None]:
        """``step``, and the probability the chosen token had after the filters (None: greedy).

        ``filtered``: this state's filtered distribution if the caller has it already (the
        ``panel``'s), so the filter chain does not run twice on the same logits.
        """
        logits = self.logits(model) if logits is None else logits
        s = self.settings
        if s.strategy == "greedy":
            token, used = int(torch.argmax(logits)), None
        else:
            if filtered is None:
                self._check_vocab(logits)
                filtered = s.filtered_probs(logits)  # (V,) the one run of the filter chain
            token = _draw(filtered, self._generator())
            used = float(filtered[token])
        return self._append(token, float(logits.softmax(-1)[token])), used

    def panel(
        self, logits: torch.Tensor, tokenizer, n: int
    ) -> tuple[list[Candidate], torch.Tensor]:
        """The ``n`` candidate rows for ``logits`` (this state's, (V,)) and the filtered
        distribution they show, which ``step_filtered`` accepts. ``n`` is the caller's to check."""
        self._check_vocab(logits)
        return _candidate_rows(logits, tokenizer, self.settings, n)

    def _check_vocab(self, logits: torch.Tensor) -> None:
        if self.vocab_size is None:  # started without the model: its vocabulary enters here
            check_settings(self.settings, logits.size(-1))

    def force(self, model, token_id: int, logits: torch.Tensor | None = None) -> DecodingState:
        """Append ``token_id`` whatever the model prefers (a teacher's "what if")."""
        logits = self.logits(model) if logits is None else logits
        token_id = check_token_id("token_id", token_id, logits.size(-1))
        return self._append(token_id, float(logits.softmax(-1)[token_id]))

    def _append(self, token: int, prob: float) -> DecodingState:
        return replace(
            self,
            generated=self.generated + (token,),
            probs=self.probs + (prob,),
            history=self.history + (self,),
        )

    def undo(self) -> DecodingState:
        if not self.history:
            raise BadValue("nothing to undo: this is the starting state")
        return self.history[-1]

    def cleared(self) -> DecodingState:
        """The prompt alone, with the current settings; undo brings the tokens back."""
        return replace(self, generated=(), probs=(), history=self.history + (self,))

    def reset(self) -> DecodingState:
        """Back to the prompt alone, keeping the settings (the widget's Reset); undoable."""
        if not self.generated:
            raise BadValue("nothing to reset: no token has been generated yet")
        return self.cleared()

    def with_settings(self, **changes) -> DecodingState:
        """A state with new settings (validated); undo returns to the old settings."""
        unknown = sorted(set(changes) - set(SamplingSettings.__dataclass_fields__))
        if unknown:
            raise BadType(
                f"unknown setting {unknown[0]!r}: the settings are "
                f"{', '.join(SamplingSettings.__dataclass_fields__)}"
            )
        settings = check_settings(replace(self.settings, **changes), self.vocab_size)
        return replace(self, settings=settings, history=self.history + (self,))

    def with_prompt(self, tokenizer, prompt: str, model=None) -> DecodingState:
        """Start again from ``prompt`` with the current settings; undo returns to this state."""
        fresh = DecodingState.start(tokenizer, prompt, self.settings, model)
        return replace(fresh, history=self.history + (self,))


# --------------------------------------------------------------------------- text pieces
@dataclass(frozen=True)
class Piece:
    """Generated text as shown: usually one token; several when a character spans tokens."""

    text: str
    ids: tuple[int, ...]
    probs: tuple[float, ...]
    first_step: int  # the step (0-based) that produced ids[0]


def token_pieces(state: DecodingState, tokenizer, cache: dict | None = None) -> list[Piece]:
    """Split the generated text into one piece per token, so each can be highlighted.

    A Chinese character is 2-3 byte tokens; a token that ends inside a character has no text
    of its own, so it joins the next piece. The text is ``helpers.streaming.stream_text``'s, so
    ``"".join(p.text for p in pieces)`` is exactly ``tokenizer.decode(state.generated)``.
    ``cache`` (token id -> bytes) speeds up re-renders.
    """
    if not isinstance(state, DecodingState):
        raise BadType(f"state must be a DecodingState, got {type(state).__name__}")
    if not state.generated:
        return []
    pieces: list[Piece] = []
    ids: list[int] = []
    probs: list[float] = []
    texts = stream_text(tokenizer, state.generated, cache)  # "" while a character is unfinished
    for step, (tid, p, text) in enumerate(zip(state.generated, state.probs, texts, strict=True)):
        ids.append(tid)
        probs.append(p)
        if text:
            pieces.append(Piece(text, tuple(ids), tuple(probs), step + 1 - len(ids)))
            ids, probs = [], []
    if ids:  # the last tokens printed nothing (a tokenizer whose token decodes to "")
        pieces.append(Piece("", tuple(ids), tuple(probs), len(state.generated) - len(ids)))
    return pieces
