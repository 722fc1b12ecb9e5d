"""The decoding state the notebook-02 stepper drives: one step of generation at a time.

Taught in notebook 02 (section 1, one step by hand; section 3, every button scripted against
the state behind the widget).

``DecodingState`` is an immutable value (prompt, chosen tokens, ``SamplingSettings``) with
``step`` / ``force`` / ``undo`` / ``reset``: each action returns a new state whose ``history``
holds the previous one, so undo is exact. The model is passed to the actions that need it.
``token_pieces`` splits its generated text into one highlightable piece per token (a Chinese
character spanning several byte tokens stays one piece, with ``helpers.streaming``'s
``stream_text``), for ``helpers.stepper_view``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch

from helpers._checks import check_token_id
from helpers.generation import context_window, encode_prompt, next_token_logits
from helpers.sampling import SamplingSettings
from helpers.streaming import stream_text


@dataclass(frozen=True)
class DecodingState:
    """Everything the decoding widget shows, as an immutable value."""

    prompt: str
    prompt_ids: tuple[int, ...]
    generated: tuple[int, ...] = ()
    probs: tuple[float, ...] = ()  # probability of each generated token when it was chosen
    settings: SamplingSettings = field(default_factory=SamplingSettings)
    history: tuple[DecodingState, ...] = ()

    @classmethod
    def start(cls, tokenizer, prompt: str, settings: SamplingSettings | None = None, model=None):
        ids = encode_prompt(tokenizer, prompt, model)
        return cls(prompt, tuple(ids[0].tolist()), settings=settings or SamplingSettings())

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

    def _check_room(self, model) -> None:
        window = context_window(model)
        if len(self.ids) > window:  # n_positions tokens still predict one more
            raise ValueError(
                f"the context window is full: the text is {len(self.ids)} tokens and the "
                f"model reads at most {window}: undo or reset to continue"
            )

    def logits(self, model) -> torch.Tensor:
        """Raw next-token logits for the current sequence. (V,)"""
        self._check_room(model)
        ids = torch.tensor([self.ids], device=model.device)  # (1, T)
        return next_token_logits(model, ids)

    def step(self, model, logits: torch.Tensor | None = None) -> DecodingState:
        """Choose the next token with the current settings and append it."""
        logits = self.logits(model) if logits is None else logits
        token = self.settings.choose(logits, self._generator())
        return self._append(token, float(logits.softmax(-1)[token]))

    def force(self, model, token_id: int, logits: torch.Tensor | None = None) -> DecodingState:
        """Append ``token_id`` whatever the model prefers (a teacher's "what if")."""
        logits = self.logits(model) if logits is None else logits
        token_id = check_token_id("token_id", token_id, logits.size(-1))
        return self._append(token_id, float(logits.softmax(-1)[token_id]))

    def _append(self, token: int, prob: float) -> DecodingState:
        return replace(self, generated=self.generated + (token,), probs=self.probs + (prob,),
                       history=self.history + (self,))  # fmt: skip

    def undo(self) -> DecodingState:
        if not self.history:
            raise ValueError("nothing to undo: this is the starting state")
        return self.history[-1]

    def reset(self) -> DecodingState:
        return self.history[0] if self.history else self

    def with_settings(self, **changes) -> DecodingState:
        """A state with new settings (validated); undo returns to the old settings."""
        return replace(self, settings=replace(self.settings, **changes),
                       history=self.history + (self,))  # fmt: skip


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
