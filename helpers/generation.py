"""Autoregressive generation, one token at a time.

- ``next_token_logits`` / ``next_token_probs``: one forward pass, the last position's scores.
- ``apply_temperature``, ``top_k_filter``, ``top_p_filter``: reshape or cut a distribution
  (filtered logits are ``-inf``, so softmax gives them probability 0).
- ``choose_token``: greedy argmax or a seeded draw.
- ``generate_stepwise``: the loop (with or without the KV cache) returning a per-step trace;
  ``forced={step: token_id}`` overrides a choice ("what if step k had picked another token?"),
  ``record_steps=False`` skips the per-step trace when only the tokens and the speed matter.
- ``DecodingState``: an immutable decoding state (prompt, chosen tokens, settings) with
  ``step`` / ``force`` / ``undo`` / ``reset``; the notebook-02 widget drives it.

Step t needs the token chosen at step t-1 as input: that is why this loop cannot be
parallelised over t, while training (helpers.training) scores every position at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch

STRATEGIES = ("greedy", "sample")


# --------------------------------------------------------------------------- validation
def check_prompt(prompt) -> str:
    """Return ``prompt`` if it is a non-blank str; else a clear TypeError/ValueError."""
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str, got {type(prompt).__name__} {prompt!r}")
    if not prompt.strip():
        raise ValueError(f"prompt {prompt!r} is empty or only whitespace; type at least one word")
    return prompt


def check_sampling(temperature=1.0, top_k=None, top_p=None, vocab_size=None) -> None:
    """Validate sampling settings; the messages name the value and the allowed range."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TypeError(
            f"temperature must be a number > 0, got {type(temperature).__name__} {temperature!r}"
        )
    if math.isnan(temperature) or not 0 < temperature < math.inf:
        raise ValueError(
            f"temperature={temperature} must be a finite number > 0 (0 < temperature < inf)"
        )
    if top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, int):
            raise TypeError(
                f"top_k must be an int >= 1 or None, got {type(top_k).__name__} {top_k!r}"
            )
        upper = f" and <= the vocabulary size {vocab_size}" if vocab_size else ""
        if top_k < 1 or (vocab_size is not None and top_k > vocab_size):
            raise ValueError(f"top_k={top_k} must be >= 1{upper}")
    if top_p is not None:
        if isinstance(top_p, bool) or not isinstance(top_p, (int, float)):
            raise TypeError(
                f"top_p must be a number in (0, 1] or None, got {type(top_p).__name__} {top_p!r}"
            )
        if math.isnan(top_p) or not 0 < top_p <= 1:
            raise ValueError(f"top_p={top_p} must be in the range (0, 1]")


def check_max_new_tokens(max_new_tokens) -> int:
    """Return ``max_new_tokens`` if it is an int >= 0; else a TypeError/ValueError naming it."""
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int):
        raise TypeError(
            f"max_new_tokens must be an int >= 0, got {type(max_new_tokens).__name__} "
            f"{max_new_tokens!r}"
        )
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens={max_new_tokens} must be >= 0")
    return max_new_tokens


def context_window(model) -> int:
    """The longest sequence the model accepts (GPT-2's ``n_positions``)."""
    cfg = model.config
    return int(getattr(cfg, "n_positions", None) or cfg.max_position_embeddings)


def encode_prompt(tokenizer, prompt: str, model=None) -> torch.Tensor:
    """Token ids of ``prompt`` as a (1, T) tensor, checked against the context window."""
    check_prompt(prompt)
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]  # (1, T)
    if model is not None:
        window = context_window(model)
        if ids.size(1) > window:
            raise ValueError(
                f"the prompt is {ids.size(1)} tokens long; the model's context window is "
                f"{window} tokens: shorten the prompt to at most {window} tokens"
            )
        ids = ids.to(model.device)
    return ids


# --------------------------------------------------------------------------- one step
@torch.no_grad()
def next_token_logits(model, ids: torch.Tensor) -> torch.Tensor:
    """Scores for the token after ``ids`` (1, T): one forward pass, last position. -> (V,)"""
    return model(ids).logits[0, -1, :].float()  # (V,)


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Divide the logits by ``temperature``: < 1 sharpens the distribution, > 1 flattens it."""
    check_sampling(temperature=temperature)
    return logits / temperature


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` highest logits (ties at the k-th value kept too); set the rest to -inf."""
    check_sampling(top_k=k, vocab_size=logits.size(-1))
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]  # (..., 1) the k-th largest
    return logits.masked_fill(logits < kth, -math.inf)


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of top tokens whose probabilities sum to >= ``p``; rest -> -inf."""
    check_sampling(top_p=p)
    if p >= 1:  # keep everything (float round-off must not cut the far tail)
        return logits.clone()
    sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
    sorted_probs = sorted_logits.softmax(dim=-1)
    before = sorted_probs.cumsum(dim=-1) - sorted_probs  # mass of the tokens ranked above
    # drop a token when the tokens *before* it already reach p (so the top one always stays)
    drop_sorted = before >= p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, -math.inf)


def filter_logits(logits, temperature=1.0, top_k=None, top_p=None) -> torch.Tensor:
    """Temperature, then top-k, then top-p: the order transformers applies them in."""
    check_sampling(temperature, top_k, top_p, vocab_size=logits.size(-1))
    out = apply_temperature(logits, temperature)
    if top_k is not None:
        out = top_k_filter(out, top_k)
    if top_p is not None and top_p < 1:
        out = top_p_filter(out, top_p)
    return out


def next_token_probs(model, ids, temperature=1.0, top_k=None, top_p=None) -> torch.Tensor:
    """The (filtered) next-token distribution after ``ids``: probabilities summing to 1. (V,)"""
    return filter_logits(next_token_logits(model, ids), temperature, top_k, top_p).softmax(-1)


def choose_token(
    logits: torch.Tensor,
    strategy: str = "greedy",
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> int:
    """Pick the next token id from raw logits (V,): argmax, or a draw from the filtered softmax."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy={strategy!r} must be one of {STRATEGIES}")
    if strategy == "greedy":
        return int(torch.argmax(logits))
    probs = filter_logits(logits, temperature, top_k, top_p).softmax(-1)
    return int(torch.multinomial(probs.cpu(), 1, generator=generator))


def top_candidates(logits: torch.Tensor, tokenizer, n: int = 5) -> list[tuple[int, str, float]]:
    """The ``n`` most likely next tokens as (id, text, probability) under plain softmax."""
    probs = logits.softmax(-1)
    top = torch.topk(probs, n)
    return [
        (int(i), tokenizer.decode([int(i)]), float(p))
        for p, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
    ]


# --------------------------------------------------------------------------- the loop
@dataclass(frozen=True)
class Step:
    """One decoding step: what the model saw and what was chosen."""

    step: int
    context_len: int  # tokens the model attended to (cached + fed)
    token_id: int
    token: str
    prob: float  # probability of the chosen token under the plain softmax
    top: list[tuple[int, str, float]]  # the most likely alternatives (id, text, prob)
    tokens_fed: int | None = None  # tokens run through the layers in this pass (1 with a cache)


@dataclass
class Trace:
    """The result of ``generate_stepwise``."""

    prompt_ids: list[int]
    new_ids: list[int]
    steps: list[Step]
    text: str  # prompt + generated text, decoded
    forward_passes: int
    stop_reason: str  # "max_new_tokens", "eos" or "context_window"

    @property
    def ids(self) -> list[int]:
        return self.prompt_ids + self.new_ids

    def rows(self, alternatives: int = 3, digits: int = 4) -> list[dict]:
        """One dict per step (for ``pandas.DataFrame``): the choice and the runners-up.

        "alternatives" are the most likely tokens *other than* the chosen one, written
        ``'text' prob``; ask ``generate_stepwise`` for ``n_top >= alternatives + 1`` to get them
        all (greedy: the chosen token is always among the top ones).
        """
        rows = []
        for s in self.steps:
            others = [c for c in s.top if c[0] != s.token_id][:alternatives]
            rows.append({
                "step": s.step,
                "context": s.context_len,
                "token": repr(s.token),
                "id": s.token_id,
                "prob": round(s.prob, digits),
                "alternatives": ", ".join(f"{t!r} {p:.{digits}f}" for _, t, p in others),
            })  # fmt: skip
        return rows


def check_forced(forced, vocab_size: int) -> dict[int, int]:
    """``forced`` as a {step: token_id} dict of ints, steps >= 0, ids inside the vocabulary."""
    if forced is None:
        return {}
    if not isinstance(forced, dict):
        raise TypeError(f"forced must be a dict {{step: token_id}} or None, got {forced!r}")
    for step, token_id in forced.items():
        for name, value in (("step", step), ("token_id", token_id)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"forced {name} must be an int, got {value!r}")
        if step < 0:
            raise ValueError(f"forced step={step} must be >= 0")
        if not 0 <= token_id < vocab_size:
            raise ValueError(
                f"forced token_id={token_id} is outside the vocabulary 0..{vocab_size - 1}"
            )
    return dict(forced)


@torch.inference_mode()  # like no_grad, minus autograd's bookkeeping: a few % faster per step
def generate_stepwise(
    model,
    tokenizer,
    prompt: str,
    max_new_tokens: int = 20,
    *,
    strategy: str = "greedy",
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int = 0,
    use_cache: bool = True,
    crop: bool = False,
    stop_at_eos: bool = False,
    n_top: int = 3,
    forced: dict[int, int] | None = None,
    record_steps: bool = True,
) -> Trace:
    """Generate ``max_new_tokens`` tokens one forward pass at a time and record every step.

    use_cache: feed only the new token and reuse the keys/values of earlier positions (the KV
        cache, notebook 05); False re-runs the whole sequence every step. Same tokens either way.
    crop: what to do when the sequence reaches the context window. False (default): stop there,
        with ``stop_reason == "context_window"``. True: keep going on the last window - 1 tokens
        (the model then forgets the start of the text, and the cache cannot be reused because
        every kept token moves to a new position).
    forced: {step: token_id} appends that token at that step instead of the model's choice.
    record_steps: False skips the per-step ``Step`` records (``steps`` stays empty): the same
        tokens, less bookkeeping per step.
    seed: seeds the ``torch.Generator`` of the sampled draws (one draw per sampled step).
    """
    check_max_new_tokens(max_new_tokens)
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy={strategy!r} must be one of {STRATEGIES}")
    vocab = model.config.vocab_size
    check_sampling(temperature, top_k, top_p, vocab_size=vocab)
    if isinstance(n_top, bool) or not isinstance(n_top, int) or not 0 <= n_top <= vocab:
        raise ValueError(f"n_top={n_top!r} must be an int in the range 0..{vocab}")
    forced = check_forced(forced, vocab)
    prompt_ids = encode_prompt(tokenizer, prompt, model)[0].tolist()
    window = context_window(model)
    gen = torch.Generator().manual_seed(seed)
    ids = list(prompt_ids)  # the growing text, as plain ints
    steps: list[Step] = []
    cache, passes, stop_reason = None, 0, "max_new_tokens"
    for step in range(max_new_tokens):
        sliding = len(ids) >= window
        if sliding and not crop:
            stop_reason = "context_window"  # one more token would not fit in the window
            break
        context = ids[-(window - 1) :] if sliding else ids  # what the model looks at
        reuse = use_cache and cache is not None and not sliding
        fed = context[-1:] if reuse else context  # with a cache, only the newest token
        out = model(
            torch.tensor([fed], device=model.device),  # (1, len(fed))
            cache=cache if reuse else None,
            use_cache=use_cache and not sliding,
            logits_to_keep=1,  # only the last position's scores are needed
        )
        passes += 1
        cache = out.cache if use_cache and not sliding else None
        logits = out.logits[0, -1, :].float()  # (V,) the last position predicts the next token
        if step in forced:
            token_id = forced[step]
        else:
            token_id = choose_token(logits, strategy, temperature=temperature, top_k=top_k,
                                    top_p=top_p, generator=gen)  # fmt: skip
        if record_steps:
            probs = logits.softmax(-1)  # (V,)
            steps.append(
                Step(step, len(context), token_id, tokenizer.decode([token_id]),
                     float(probs[token_id]), top_candidates(logits, tokenizer, n_top), len(fed))
            )  # fmt: skip
        ids.append(token_id)  # the choice becomes part of the next step's input
        if stop_at_eos and token_id == tokenizer.eos_token_id:
            stop_reason = "eos"
            break
    new_ids = ids[len(prompt_ids) :]
    return Trace(prompt_ids, new_ids, steps, tokenizer.decode(ids), passes, stop_reason)


# --------------------------------------------------------------------------- decoding state
@dataclass(frozen=True)
class Settings:
    strategy: str = "greedy"
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    seed: int = 0

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy={self.strategy!r} must be one of {STRATEGIES}")
        check_sampling(self.temperature, self.top_k, self.top_p)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"seed must be an int in 0 <= seed < 2**32, got {self.seed!r}")
        if not 0 <= self.seed < 2**32:  # larger seeds overflow the per-step generator seed
            raise ValueError(f"seed={self.seed} must be in the range 0 <= seed < 2**32")


@dataclass(frozen=True)
class DecodingState:
    """Everything the decoding widget shows, as an immutable value.

    Each action returns a new state whose ``history`` holds the previous one, so ``undo`` is
    exact. The model is passed to the actions that need it, so the state stays a plain value.
    """

    prompt: str
    prompt_ids: tuple[int, ...]
    generated: tuple[int, ...] = ()
    probs: tuple[float, ...] = ()  # probability of each generated token when it was chosen
    settings: Settings = field(default_factory=Settings)
    history: tuple[DecodingState, ...] = ()

    @classmethod
    def start(cls, tokenizer, prompt: str, settings: Settings | None = None, model=None):
        ids = encode_prompt(tokenizer, prompt, model)
        return cls(prompt, tuple(ids[0].tolist()), settings=settings or Settings())

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
        if len(self.ids) >= window:
            raise ValueError(
                f"the context window is full ({len(self.ids)} of {window} tokens): "
                f"undo or reset to continue"
            )

    def logits(self, model) -> torch.Tensor:
        """Raw next-token logits for the current sequence. (V,)"""
        self._check_room(model)
        ids = torch.tensor([self.ids], device=model.device)  # (1, T)
        return next_token_logits(model, ids)

    def step(self, model, logits: torch.Tensor | None = None) -> DecodingState:
        """Choose the next token with the current settings and append it."""
        logits = self.logits(model) if logits is None else logits
        s = self.settings
        token = choose_token(logits, s.strategy, temperature=s.temperature, top_k=s.top_k,
                             top_p=s.top_p, generator=self._generator())  # fmt: skip
        return self._append(token, float(logits.softmax(-1)[token]))

    def force(self, model, token_id: int, logits: torch.Tensor | None = None) -> DecodingState:
        """Append ``token_id`` whatever the model prefers (a teacher's "what if")."""
        logits = self.logits(model) if logits is None else logits
        if isinstance(token_id, bool) or not isinstance(token_id, int):
            raise TypeError(f"token_id must be an int, got {type(token_id).__name__}")
        if not 0 <= token_id < logits.size(-1):
            raise ValueError(
                f"token_id={token_id} is outside the vocabulary 0..{logits.size(-1) - 1}"
            )
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
