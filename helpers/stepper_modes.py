"""The stepper's other two modes, as immutable states: beam search and speculative decoding.

Taught in notebook 02 (section 2, the stepper's modes); the algorithms are notebook 08's
(``helpers.beam_search``: one step is ``choose_beams``) and notebook 06's
(``helpers.speculative``: one round is ``verify_greedy`` of a draft's guesses).

Like ``helpers.stepping.DecodingState`` (greedy and sample), each state is a value: an action
returns a new state whose ``history`` holds the old one, so Undo is exact, whatever the mode
the previous state was in (switching modes is an action too).

- ``BeamState``: one ``step`` = one step of beam search over all beams (one batched pass);
  when it is ``done``, its text is ``model.generate(num_beams=..., do_sample=False)``'s;
- ``SpeculativeState``: one ``step`` = one round: the draft guesses ``k`` tokens, one pass of
  the model keeps the ones it agrees with and adds its own; the text is greedy decoding's,
  produced in ``passes`` model passes instead of one per token.

A step runs its pass itself, or takes the scores of a pass the caller ran: the stepper runs one
pass per state (``pass_texts``: every beam, or the text and the draft's next ``guesses``), with a
KV cache and the attention weights, and both the next step and the panes read it.

``helpers.stepper_panes`` draws them; ``helpers.widgets.DecodingStepper`` drives them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from helpers._checks import BadType, BadValue, check_int
from helpers.beam_search import check_beam_search, choose_beams
from helpers.generation import context_window, encode_prompt
from helpers.messages import text
from helpers.speculative import Round, check_k, verify_greedy

MODES = ("greedy", "sample", "beam", "speculative")
MAX_BEAMS = 8  # the widget's slider; a table of more beams no longer fits a projector
MAX_K = 8  # draft guesses per round


def _full(ids: tuple[int, ...], model) -> None:
    window = context_window(model)
    if len(ids) > window:  # n_positions tokens still predict one more
        raise BadValue(
            f"the context window is full: the text is {len(ids)} tokens and the model reads "
            f"at most {window}: undo or reset to continue"
        )


def _unknown(changes: dict, names: tuple[str, ...]) -> None:
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise BadType(f"unknown setting {unknown[0]!r}: the settings are {', '.join(names)}")


# --------------------------------------------------------------------------- beam search
@dataclass(frozen=True)
class BeamSettings:
    """Beam search as ``generate(num_beams=..., length_penalty=..., max_new_tokens=...)``."""

    num_beams: int = 3
    length_penalty: float = 1.0
    max_new_tokens: int = 10


@dataclass(frozen=True)
class BeamState:
    """The beams after ``n_steps`` steps; ``finished`` the texts that ended (EOS or length)."""

    prompt: str
    prompt_ids: tuple[int, ...]
    settings: BeamSettings
    eos_token_id: int | None
    texts: tuple[tuple[int, ...], ...] = ()  # each running beam's new tokens, best first
    scores: tuple[float, ...] = ()  # each running beam's summed log-probability (float32)
    parents: tuple[int, ...] = ()  # the beam of the previous step each beam continues
    finished: tuple[tuple[float, tuple[int, ...], float], ...] = ()  # (score, ids, log-prob)
    n_steps: int = 0
    open: bool = True
    done: bool = False
    history: tuple = field(default=(), repr=False)

    @classmethod
    def start(cls, tokenizer, prompt: str, model, settings: BeamSettings | None = None):
        """The prompt alone, with ``settings`` checked against the model (window, vocabulary)."""
        ids = encode_prompt(tokenizer, prompt, model)[0].tolist()  # checks the prompt
        return cls.fresh(prompt, ids, model, BeamSettings() if settings is None else settings)

    @classmethod
    def fresh(cls, prompt: str, ids, model, settings: BeamSettings) -> BeamState:
        """The prompt ``ids`` alone, no history; the settings are checked here, once."""
        if not isinstance(settings, BeamSettings):
            raise BadType(f"settings must be a BeamSettings, got {type(settings).__name__}")
        s, eos = settings, model.config.eos_token_id
        check_int("num_beams", s.num_beams, 1, MAX_BEAMS)
        check_beam_search(model, ids, s.num_beams, s.max_new_tokens, s.length_penalty, False, eos)
        return cls(prompt, tuple(ids), s, eos).with_history(())

    @property
    def best(self) -> tuple[int, ...]:
        """The best text's new tokens: the best finished one when done, else the top beam."""
        return self.finished[0][1] if self.done else self.texts[0]

    @property
    def generated(self) -> tuple[int, ...]:
        return self.best

    @property
    def ids(self) -> tuple[int, ...]:
        return self.prompt_ids + self.best

    def check_room(self, model) -> None:
        _full(self.ids, model)

    def text(self, tokenizer) -> str:
        return tokenizer.decode(list(self.ids))

    @torch.no_grad()
    def step(self, model, logits: torch.Tensor | None = None) -> BeamState:
        """One step of beam search: every beam scored in one batched pass, the best kept.

        ``logits``: (n, V) each running beam's next-token scores, best beam first, from that
        pass if the caller ran it already (the stepper does: its panes read the same pass);
        None: the pass runs here."""
        if self.done:
            raise BadValue(
                f"the beam search is over after {self.n_steps} steps: its best text is chosen; "
                "Undo, Reset or change a setting to search again"
            )
        if logits is None:
            x = torch.tensor([self.prompt_ids + t for t in self.texts], device=model.device)
            logits = model(x, use_cache=False).logits[:, -1, :]  # (n, V), x: (n, T)
        elif logits.shape != (len(self.texts), model.config.vocab_size):
            raise ValueError(
                f"logits must have shape ({len(self.texts)}, {model.config.vocab_size}): one "
                f"row per running beam; got {tuple(logits.shape)}"
            )
        logp = logits.float().log_softmax(-1)  # (n, V)
        s = self.settings
        c = choose_beams(
            logp,
            torch.tensor(self.scores, device=model.device),
            [list(t) for t in self.texts],
            [(f[0], list(f[1]), f[2]) for f in self.finished],
            self.n_steps,
            max_new_tokens=s.max_new_tokens,
            eos_token_id=self.eos_token_id,
            length_penalty=s.length_penalty,
            open_=self.open,
        )
        texts = tuple(self.texts[b] + (t,) for b, t in zip(c.parents, c.tokens, strict=True))
        return replace(
            self,
            texts=texts or self.texts,  # when every pair ended, the last beams stay on show
            scores=tuple(c.scores.tolist()) if texts else self.scores,
            parents=tuple(c.parents) or self.parents,
            finished=tuple((f[0], tuple(f[1]), f[2]) for f in c.finished),
            n_steps=self.n_steps + 1,
            open=c.open,
            done=c.done,
            history=self.history + (self,),
        )

    def undo(self):
        if not self.history:
            raise BadValue("nothing to undo: this is the starting state")
        return self.history[-1]

    def reset(self) -> BeamState:
        """Back to the prompt alone, same settings; undoable."""
        if not self.n_steps:
            raise BadValue("nothing to reset: no beam step has been taken yet")
        return replace(self.with_history(()), history=self.history + (self,))

    def with_history(self, history: tuple) -> BeamState:
        """The prompt alone with these settings, after ``history``."""
        n = self.settings.num_beams
        return BeamState(
            self.prompt,
            self.prompt_ids,
            self.settings,
            self.eos_token_id,
            ((),) * n,
            (0.0,) + (-1e9,) * (n - 1),
            (0,) * n,
            history=history,
        )

    def with_settings(self, model, **changes) -> BeamState:
        """A fresh search with new settings (checked); Undo returns to this state."""
        _unknown(changes, tuple(BeamSettings.__dataclass_fields__))
        fresh = BeamState.fresh(
            self.prompt, self.prompt_ids, model, replace(self.settings, **changes)
        )
        return fresh.with_history(self.history + (self,))

    def with_prompt(self, tokenizer, prompt: str, model) -> BeamState:
        fresh = BeamState.start(tokenizer, prompt, model, self.settings)
        return replace(fresh, history=self.history + (self,))


# --------------------------------------------------------------------------- speculative
@dataclass(frozen=True)
class SpeculativeState:
    """The text after ``len(rounds)`` rounds of greedy speculative decoding."""

    prompt: str
    prompt_ids: tuple[int, ...]
    k: int = 4
    generated: tuple[int, ...] = ()
    rounds: tuple[Round, ...] = ()
    history: tuple = field(default=(), repr=False)

    @classmethod
    def start(cls, tokenizer, prompt: str, model, k: int = 4) -> SpeculativeState:
        ids = encode_prompt(tokenizer, prompt, model)[0].tolist()
        return cls(prompt, tuple(ids), check_int("k", k, 1, MAX_K))

    @property
    def ids(self) -> tuple[int, ...]:
        return self.prompt_ids + self.generated

    @property
    def n_steps(self) -> int:
        return len(self.rounds)

    @property
    def passes(self) -> int:
        """Forward passes of the model so far: one per round (plain greedy: one per token)."""
        return len(self.rounds)

    def check_room(self, model) -> None:
        _full(self.ids, model)

    def text(self, tokenizer) -> str:
        return tokenizer.decode(list(self.ids))

    def guesses(self, model, draft) -> list[int]:
        """The draft's guesses for the next round: ``k``, or as many as the window still holds."""
        self.check_room(model)
        k_now = min(self.k, context_window(model) - len(self.ids))  # the pass reads ids + k_now
        return [int(t) for t in draft.propose(list(self.ids), k_now)] if k_now > 0 else []

    def step(self, model, draft, guesses=None, logits=None) -> SpeculativeState:
        """One round: the draft guesses up to ``k`` tokens, one pass of the model checks them.

        ``guesses`` (this state's ``guesses``) and ``logits`` ((len(guesses) + 1, V): the
        model's scores after the text and after each guess): the round's pass, if the caller
        ran it already (the stepper does: its panes read the same pass); None: it runs here."""
        ids = list(self.ids)
        if logits is None:
            proposed = self.guesses(model, draft)
            n, token, _ = verify_greedy(model, ids, proposed)  # one pass, no cache kept
        else:
            self.check_room(model)
            proposed = [int(t) for t in guesses]
            if logits.shape != (len(proposed) + 1, model.config.vocab_size):
                raise ValueError(
                    f"logits must have shape ({len(proposed) + 1}, {model.config.vocab_size}): "
                    f"after the text and after each guess; got {tuple(logits.shape)}"
                )
            choices = logits.argmax(-1).tolist()  # the model's greedy token at each place
            n = next((i for i, t in enumerate(proposed) if t != choices[i]), len(proposed))
            token = choices[n]  # a correction of guess n, or a bonus after all of them
        r = Round(len(self.rounds), len(ids), proposed, n, token)
        return replace(
            self,
            generated=self.generated + tuple(r.new_tokens),
            rounds=self.rounds + (r,),
            history=self.history + (self,),
        )

    def undo(self):
        if not self.history:
            raise BadValue("nothing to undo: this is the starting state")
        return self.history[-1]

    def reset(self) -> SpeculativeState:
        if not self.rounds:
            raise BadValue("nothing to reset: no round has run yet")
        return replace(self, generated=(), rounds=(), history=self.history + (self,))

    def with_settings(self, model, **changes) -> SpeculativeState:
        """A new ``k`` (the only setting) from here on; Undo returns to this state."""
        _unknown(changes, ("k",))
        k = check_int("k", changes.get("k", self.k), 1, MAX_K)
        check_k(k, model)
        return replace(self, k=k, history=self.history + (self,))

    def with_prompt(self, tokenizer, prompt: str, model) -> SpeculativeState:
        fresh = SpeculativeState.start(tokenizer, prompt, model, self.k)
        return replace(fresh, history=self.history + (self,))


def mode_of(state) -> str:
    """The mode a state belongs to: "greedy" / "sample" (a DecodingState), "beam", "speculative"."""
    if isinstance(state, BeamState):
        return "beam"
    if isinstance(state, SpeculativeState):
        return "speculative"
    return state.settings.strategy


def pass_texts(state) -> tuple[tuple[int, ...], ...]:
    """The texts the stepper's one pass for ``state`` reads, the one its panes show first: every
    running beam while a search goes on (its next step scores them all), else the state's text.
    The beams' pass runs them side by side: the panes show beam 0, the best, at no extra cost."""
    if isinstance(state, BeamState) and not state.done:
        return tuple(state.prompt_ids + t for t in state.texts)
    return (state.ids,)


def _shown(tokenizer, ids) -> str:
    return tokenizer.decode(list(ids)).replace(" ", "·").replace("\n", "↵") or "∅"


def settings_note(before, after) -> str:
    """What changed between two beam or two speculative states' settings: "num_beams 3 -> 4"."""
    if isinstance(before, SpeculativeState):
        return f"k {before.k} -> {after.k}" if before.k != after.k else ""
    names = BeamSettings.__dataclass_fields__
    a, b = before.settings, after.settings
    return ", ".join(
        f"{n} {getattr(a, n)} -> {getattr(b, n)}" for n in names if getattr(a, n) != getattr(b, n)
    )


def undo_note(old, new) -> str:
    """What Undo took back, going from ``old`` to ``new`` (states of any mode)."""
    if mode_of(old) != mode_of(new):
        return text("status.undone_switch", mode=text(f"mode.{mode_of(old)}"))
    if old.prompt != new.prompt:
        return text("status.undone_prompt")
    if settings_note(new, old):
        return settings_note(old, new)
    step = "status.undone_beam_step" if isinstance(old, BeamState) else "status.undone_round"
    if old.n_steps == new.n_steps + 1:
        return text(step, n=old.n_steps)
    if old.n_steps == 0 and new.n_steps:
        return text("status.undone_mode_reset", n=new.n_steps)
    return text("status.undone_last")


def describe_step(state, tokenizer) -> str:
    """The status line after a beam step or a speculative round."""
    if isinstance(state, BeamState):
        n = state.n_steps
        if state.done:
            score = state.finished[0][0]
            best = _shown(tokenizer, state.best)
            return text("status.beam_done", n=n, text=best, score=f"{score:.4f}")
        return text(
            "status.beam_step",
            n=n,
            text=_shown(tokenizer, state.texts[0]),
            log_prob=f"{state.scores[0]:.4f}",
            finished=len(state.finished),
        )
    r = state.rounds[-1]
    return text(
        "status.round",
        n=state.n_steps,
        proposed=len(r.proposed),
        kept=r.n_accepted,
        token=_shown(tokenizer, [r.model_token]),
        kind=text(f"kind.{r.kind}"),
        passes=state.passes,
        tokens=len(state.generated),
    )
