"""Argument checks shared by every helper module (private: not part of any lesson).

Each check returns the value it accepted and raises a ``TypeError`` (wrong kind) or a
``ValueError`` (out of range) whose message names the argument, the bad value and what is
allowed. NumPy scalars count as numbers (``np.int64(5)``, ``np.float32(0.7)``); ``bool`` never
does, although Python makes it an ``int``. ``tests/helpers/test_checks.py`` tests every message
once.

Every error a helper raises about a student's input is a ``BadValue`` (a ``ValueError``) or a
``BadType`` (a ``TypeError``): its message is written in English and shown in the notebook's
language (``helpers.messages.error_text``; every form in ``messages.ERRORS_ZH``). These stay
plain English ``ValueError``/``TypeError``, on purpose:

- ``helpers.model_files``: a model folder whose config.json or weights do not fit GPT-2 (next to
  that loader's ``OSError``, which stay English as every ``OSError`` does). They are about the
  files a teacher saves or points ``$GPT_COURSE_MODEL`` at, never a notebook's argument; they quote
  config keys and reasons from the files' world.
- ``helpers.figure_text``: the plumbing between the course's plotly renderer and plotly; no
  student's call reaches it.
- ``helpers.messages.set_lang``: a language that does not exist (it names both that exist), and
  ``helpers.widgets``' "only in greedy and sample modes", built from ``messages.text`` in the
  notebook's language already.
- the stepper's internal shape checks (``step_internals.CachedPasses.run_rows``, the ``logits``
  that ``BeamState.step`` and ``SpeculativeState.step`` take from the stepper) and
  ``plots.figure_alt``'s ``lang``: only a caller of the helpers' internals meets them.
- ``AssertionError`` (an internal "cannot happen") and ``OSError`` (files, network) are not about
  an argument: they stay English.
"""

from __future__ import annotations

import math
import numbers

import torch

from helpers.messages import error_text

#: Seeds accepted everywhere: what ``torch.Generator.manual_seed`` and NumPy both take.
SEED_LIMIT = 2**32


class BadValue(ValueError):
    """A ``ValueError`` about a student's input: shown in the notebook's language.

    The message is kept in English (``err.args``) and translated each time it is shown
    (``str(err)``, a traceback, the stepper's status line), so ``except ValueError`` and
    ``pytest.raises(ValueError, match=...)`` work as before. It calls itself ``ValueError``
    (a traceback's last line, ``repr``, Jupyter's error name), so that the English edition shows
    exactly what it showed before the class existed."""

    def __str__(self) -> str:
        return error_text(super().__str__())

    def __reduce__(self):  # pickled by this module's name for it, not by the one it shows
        return _bad, ("BadValue", *self.args)


class BadType(TypeError):
    """A ``TypeError`` about a student's input: shown in the notebook's language (as BadValue),
    calling itself ``TypeError``."""

    def __str__(self) -> str:
        return error_text(super().__str__())

    def __reduce__(self):
        return _bad, ("BadType", *self.args)


def _bad(kind: str, *args) -> Exception:
    return {"BadValue": BadValue, "BadType": BadType}[kind](*args)


for _cls, _shown in ((BadValue, "ValueError"), (BadType, "TypeError")):
    _cls.__module__, _cls.__name__, _cls.__qualname__ = "builtins", _shown, _shown


def _kind(value) -> str:
    return f"{type(value).__name__} {value!r}"


def _is_int(value) -> bool:
    """True for Python and NumPy integers, False for bool (and everything else)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    """True for Python and NumPy real numbers, False for bool (and everything else)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _range(low, high) -> str:
    if high is None:
        return f">= {low}"
    return f"in the range {low}..{high}"


def check_int(
    name: str, value, low: int | None = None, high: int | None = None, why: str = ""
) -> int:
    """``value`` as an int, if it is an integer with ``low <= value <= high`` (None: no bound).

    ``why``: the reason for the bound, added to the message (e.g. the memory a larger value
    would take)."""
    if not _is_int(value):
        allowed = f" {_range(low, high)}" if low is not None else ""
        raise BadType(f"{name} must be an int{allowed}, got {_kind(value)}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        because = f" ({why})" if why else ""
        raise BadValue(f"{name}={value} is out of range: it must be {_range(low, high)}{because}")
    return value


def check_finite(name: str, value) -> float:
    """``value`` as a float, if it is a finite number (any sign)."""
    if not _is_number(value):
        raise BadType(f"{name} must be a finite number, got {_kind(value)}")
    x = float(value)
    if not math.isfinite(x):
        raise BadValue(f"{name}={value} must be a finite number (-inf < {name} < inf)")
    return x


def check_positive(name: str, value) -> float:
    """``value`` as a float, if it is a finite number > 0."""
    if not _is_number(value):
        raise BadType(f"{name} must be a number > 0, got {_kind(value)}")
    x = float(value)
    if math.isnan(x) or not 0 < x < math.inf:
        raise BadValue(f"{name}={value} must be a finite number > 0 (0 < {name} < inf)")
    return x


def check_non_negative(name: str, value) -> float:
    """``value`` as a float, if it is a finite number >= 0."""
    if not _is_number(value):
        raise BadType(f"{name} must be a number >= 0, got {_kind(value)}")
    x = float(value)
    if math.isnan(x) or not 0 <= x < math.inf:
        raise BadValue(f"{name}={value} must be a finite number >= 0 (0 <= {name} < inf)")
    return x


def check_probability(name: str, value) -> float:
    """``value`` as a float, if it is a number in (0, 1]."""
    if not _is_number(value):
        raise BadType(f"{name} must be a number in (0, 1], got {_kind(value)}")
    x = float(value)
    if math.isnan(x) or not 0 < x <= 1:
        raise BadValue(f"{name}={value} must be in the range (0, 1]")
    return x


def check_seed(seed, name: str = "seed") -> int:
    """``seed`` as an int in 0 <= seed < 2**32 (larger seeds overflow NumPy's and ours)."""
    if not _is_int(seed):
        raise BadType(f"{name} must be an int in 0 <= {name} < 2**32, got {_kind(seed)}")
    if not 0 <= seed < SEED_LIMIT:
        raise BadValue(f"{name}={seed} is outside the allowed range 0 <= {name} < 2**32")
    return int(seed)


def check_bool(name: str, value) -> bool:
    """``value`` if it is True or False (not 1, 0 or None)."""
    if not isinstance(value, bool):
        raise BadType(f"{name} must be True or False, got {_kind(value)}")
    return value


def check_choice(name: str, value, choices) -> object:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise BadValue(f"{name}={value!r} must be one of {tuple(choices)}")
    return value


def check_token_id(name: str, value, vocab_size: int) -> int:
    """``value`` as an int, if it is a token id: 0 <= value < vocab_size."""
    if not _is_int(value):
        raise BadType(f"{name} must be an int (a token id), got {_kind(value)}")
    if not 0 <= value < vocab_size:
        raise BadValue(f"{name}={value} is outside the vocabulary 0..{vocab_size - 1}")
    return int(value)


def check_token_ids(name: str, ids, vocab_size: int | None = None) -> list[int]:
    """``ids`` (a non-empty sequence or 1-D / (1, T) tensor) as a list of token-id ints."""
    if isinstance(ids, torch.Tensor):
        if ids.dim() == 2 and ids.size(0) == 1:
            ids = ids[0]
        if ids.dim() != 1:
            raise BadValue(f"{name} must be one sequence (T,) or (1, T); got {tuple(ids.shape)}")
        ids = ids.tolist()
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
        raise BadType(f"{name} must be a list of token ids, got {_kind(ids)}")
    out = list(ids)
    if not out:
        raise BadValue(f"{name} is empty: give at least 1 token id")
    bad = [t for t in out if not _is_int(t) or t < 0 or (vocab_size and t >= vocab_size)]
    if bad:
        upper = f"..{vocab_size - 1}" if vocab_size else " or more"
        raise BadValue(f"{name} must hold token ids 0{upper}; got {bad[0]!r}")
    return [int(t) for t in out]


def check_tensor(name: str, value, dims: int | None = None) -> torch.Tensor:
    """``value`` if it is a torch tensor (with ``dims`` dimensions, when given)."""
    if not isinstance(value, torch.Tensor):
        raise BadType(f"{name} must be a torch tensor, got {type(value).__name__}")
    if dims is not None and value.dim() != dims:
        raise BadValue(f"{name} must have {dims} dimensions; got shape {tuple(value.shape)}")
    return value


def check_model(model, name: str = "model"):
    """``model`` if it is a causal language model (a torch module with a GPT-2-like config)."""
    config = getattr(model, "config", None)
    if not isinstance(model, torch.nn.Module) or not hasattr(config, "vocab_size"):
        hint = " (model and tokenizer swapped?)" if hasattr(model, "decode") else ""
        raise BadType(
            f"{name} must be a language model such as load_model() returns, "
            f"got {type(model).__name__}{hint}"
        )
    return model


def check_tokenizer(tokenizer, name: str = "tokenizer"):
    """``tokenizer`` if it can encode and decode text (a transformers tokenizer)."""
    if isinstance(tokenizer, torch.nn.Module) or not (
        callable(tokenizer) and hasattr(tokenizer, "decode")
    ):
        hint = " (model and tokenizer swapped?)" if isinstance(tokenizer, torch.nn.Module) else ""
        raise BadType(
            f"{name} must be a tokenizer such as load_model() returns, "
            f"got {type(tokenizer).__name__}{hint}"
        )
    return tokenizer


def check_id_tensor(name: str, ids, vocab_size: int, max_len: int | None = None) -> torch.Tensor:
    """``ids`` if it is an integer tensor of token ids 0..vocab_size-1, at most ``max_len`` long
    in its last dimension (the model's context window)."""
    check_tensor(name, ids)
    if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
        raise BadType(f"{name} must hold integer token ids, got a {ids.dtype} tensor")
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab_size):
        bad = int(ids.min()) if int(ids.min()) < 0 else int(ids.max())
        raise BadValue(f"{name} holds token id {bad}, outside the vocabulary 0..{vocab_size - 1}")
    if max_len is not None and ids.dim() and ids.size(-1) > max_len:
        raise BadValue(
            f"{name} is {ids.size(-1)} tokens long; the model's context window is {max_len} tokens"
        )
    return ids


def check_index_tensor(name: str, value, size: int, what: str) -> torch.Tensor:
    """``value`` if it is an integer tensor of indices 0..size-1 (``what`` names them)."""
    check_tensor(name, value)
    if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
        raise BadType(f"{name} must hold integer {what}s, got a {value.dtype} tensor")
    if value.numel() and (int(value.min()) < 0 or int(value.max()) >= size):
        bad = int(value.min()) if int(value.min()) < 0 else int(value.max())
        raise BadValue(f"{name} holds {what} {bad}, outside the allowed range 0..{size - 1}")
    return value


def check_float_dtype(name: str, dtype) -> torch.dtype:
    """``dtype`` if it is a floating-point torch dtype (torch.float32, torch.float16, ...)."""
    if not isinstance(dtype, torch.dtype):
        raise BadType(f"{name} must be a torch dtype such as torch.float32, got {_kind(dtype)}")
    if not dtype.is_floating_point:
        raise BadType(
            f"{name}={dtype} must be a floating-point dtype (torch.float32, torch.float16, "
            f"torch.bfloat16, torch.float64): an integer or bool dtype cannot hold -inf"
        )
    return dtype
