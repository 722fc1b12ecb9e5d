"""helpers._checks: every argument check of the helpers, its messages tested once.

Every module's bad-input tests only check that the right check runs (the argument is named);
the wording of each message, NumPy scalars and the bool exclusion are tested here.
"""

import math
import re

import numpy as np
import pytest
import torch

from helpers._checks import (
    check_bool,
    check_choice,
    check_finite,
    check_float_dtype,
    check_index_tensor,
    check_int,
    check_positive,
    check_probability,
    check_seed,
    check_tensor,
    check_token_id,
    check_token_ids,
)


@pytest.mark.parametrize("value", [5, np.int64(5), np.int32(5), torch.tensor(5).item()])
def test_ints_from_python_and_numpy_are_accepted(value):
    out = check_int("n", value, 1, 10)
    assert out == 5 and type(out) is int


CHECK_INT_CASES = [
    (0, 1, 10, ValueError, r"^n=0 is out of range: it must be in the range 1\.\.10$"),
    (11, 1, 10, ValueError, r"^n=11 is out of range: it must be in the range 1\.\.10$"),
    (-1, 0, None, ValueError, r"^n=-1 is out of range: it must be >= 0$"),
    (2.5, 1, 10, TypeError, r"^n must be an int in the range 1\.\.10, got float 2\.5$"),
    (True, 0, None, TypeError, r"^n must be an int >= 0, got bool True$"),
    (np.bool_(True), 0, None, TypeError, r"^n must be an int >= 0, got bool"),
    ("3", None, None, TypeError, r"^n must be an int, got str '3'$"),
]


@pytest.mark.parametrize("value,low,high,exc,match", CHECK_INT_CASES)
def test_check_int_messages(value, low, high, exc, match):
    with pytest.raises(exc, match=match):
        check_int("n", value, low, high)


@pytest.mark.parametrize("value", [0.7, 2, np.float32(0.7), np.float64(0.7), np.int64(2)])
def test_numbers_from_python_and_numpy_are_accepted(value):
    assert check_positive("temperature", value) == pytest.approx(float(value))
    assert type(check_positive("temperature", value)) is float


CHECK_POSITIVE_CASES = [
    (0, ValueError, r"^temperature=0 must be a finite number > 0 \(0 < temperature < inf\)$"),
    (-1.5, ValueError, r"^temperature=-1\.5 must be a finite number > 0"),
    (math.nan, ValueError, r"^temperature=nan must be a finite number > 0"),
    (math.inf, ValueError, r"^temperature=inf must be a finite number > 0"),
    ("hot", TypeError, r"^temperature must be a number > 0, got str 'hot'$"),
    (True, TypeError, r"^temperature must be a number > 0, got bool True$"),
]


@pytest.mark.parametrize("value,exc,match", CHECK_POSITIVE_CASES)
def test_check_positive_messages(value, exc, match):
    with pytest.raises(exc, match=match):
        check_positive("temperature", value)


CHECK_PROBABILITY_CASES = [
    (0, ValueError, r"^top_p=0 must be in the range \(0, 1\]$"),
    (1.5, ValueError, r"^top_p=1\.5 must be in the range \(0, 1\]$"),
    (math.nan, ValueError, r"^top_p=nan must be in the range \(0, 1\]$"),
    ("0.9", TypeError, r"^top_p must be a number in \(0, 1\], got str '0\.9'$"),
    (False, TypeError, r"^top_p must be a number in \(0, 1\], got bool False$"),
]


@pytest.mark.parametrize("value,exc,match", CHECK_PROBABILITY_CASES)
def test_check_probability_messages(value, exc, match):
    with pytest.raises(exc, match=match):
        check_probability("top_p", value)
    assert check_probability("top_p", np.float32(0.5)) == 0.5


# (call, exception, pattern): each message of the other checks, once
MESSAGE_CASES = {
    "seed -1": (
        lambda: check_seed(-1),
        ValueError,
        r"^seed=-1 is outside the allowed range 0 <= seed < 2\*\*32$",
    ),
    "seed 2**32": (
        lambda: check_seed(2**32),
        ValueError,
        r"^seed=4294967296 is outside the allowed range",
    ),
    "seed 1.0": (
        lambda: check_seed(1.0),
        TypeError,
        r"^seed must be an int in 0 <= seed < 2\*\*32, got float 1\.0$",
    ),
    "seed True": (lambda: check_seed(True), TypeError, r"got bool True"),
    "bool 1": (
        lambda: check_bool("use_cache", 1),
        TypeError,
        r"^use_cache must be True or False, got int 1$",
    ),
    "choice middle": (
        lambda: check_choice("side", "middle", ("left", "right")),
        ValueError,
        r"^side='middle' must be one of \('left', 'right'\)$",
    ),
    "token_id 10": (
        lambda: check_token_id("token_id", 10, 10),
        ValueError,
        r"^token_id=10 is outside the vocabulary 0\.\.9$",
    ),
    "token_id '7'": (
        lambda: check_token_id("token_id", "7", 10),
        TypeError,
        r"^token_id must be an int \(a token id\), got str '7'$",
    ),
    "ids empty": (
        lambda: check_token_ids("ids", []),
        ValueError,
        r"^ids is empty: give at least 1 token id$",
    ),
    "ids past the vocabulary": (
        lambda: check_token_ids("ids", [1, 12], 10),
        ValueError,
        r"^ids must hold token ids 0\.\.9; got 12$",
    ),
    "ids with a bool": (
        lambda: check_token_ids("ids", [1, True]),
        ValueError,
        r"^ids must hold token ids 0 or more; got True$",
    ),
    "ids a batch": (
        lambda: check_token_ids("ids", torch.zeros(2, 3, dtype=torch.long)),
        ValueError,
        r"^ids must be one sequence \(T,\) or \(1, T\); got \(2, 3\)$",
    ),
    "ids a str": (
        lambda: check_token_ids("ids", "abc"),
        TypeError,
        r"^ids must be a list of token ids, got str 'abc'$",
    ),
    "tensor a list": (
        lambda: check_tensor("ids", [1, 2]),
        TypeError,
        r"^ids must be a torch tensor, got list$",
    ),
    "tensor 3-D": (
        lambda: check_tensor("ids", torch.zeros(2, 3, 1), dims=2),
        ValueError,
        r"^ids must have 2 dimensions; got shape \(2, 3, 1\)$",
    ),
    "int with a reason": (
        lambda: check_int("T", 20, 1, 10, why="memory"),
        ValueError,
        r"^T=20 is out of range: it must be in the range 1\.\.10 \(memory\)$",
    ),
    "index tensor past the range": (
        lambda: check_index_tensor("pos", torch.tensor([4]), 4, "position"),
        ValueError,
        r"^pos holds position 4, outside the allowed range 0..3",
    ),
    "index tensor of bools": (
        lambda: check_index_tensor("pos", torch.tensor([True]), 4, "position"),
        TypeError,
        r"^pos must hold integer positions, got a torch.bool",
    ),
    "float dtype int32": (
        lambda: check_float_dtype("dtype", torch.int32),
        TypeError,
        r"^dtype=torch.int32 must be a floating-point dtype",
    ),
    "float dtype a str": (
        lambda: check_float_dtype("dtype", "f4"),
        TypeError,
        r"^dtype must be a torch dtype .*, got str 'f4'$",
    ),
}


@pytest.mark.parametrize(("call", "exc", "match"), MESSAGE_CASES.values(), ids=MESSAGE_CASES)
def test_check_messages(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_good_values_pass_the_checks():
    assert check_seed(0) == 0 and check_seed(2**32 - 1) == 2**32 - 1
    assert check_seed(np.uint32(7)) == 7
    assert check_bool("use_cache", False) is False
    assert check_choice("side", "left", ("left", "right")) == "left"
    assert check_token_id("token_id", np.int64(3), 10) == 3
    assert check_token_ids("ids", torch.tensor([[1, 2, 3]])) == [1, 2, 3]
    assert check_token_ids("ids", (np.int64(4), 5), 10) == [4, 5]
    t = torch.zeros(2, 3)
    assert check_tensor("ids", t, dims=2) is t
    assert check_int("T", 10, 1, 10, why="memory") == 10
    positions = torch.tensor([[0, 3]])
    assert check_index_tensor("pos", positions, 4, "position") is positions
    assert check_float_dtype("dtype", torch.float16) is torch.float16


CHECK_FINITE_CASES = [
    (float("nan"), ValueError, r"^lp=nan must be a finite number \(-inf < lp < inf\)$"),
    (float("inf"), ValueError, r"^lp=inf must be a finite number"),
    (-math.inf, ValueError, r"^lp=-inf must be a finite number"),
    ("1", TypeError, r"^lp must be a finite number, got str '1'$"),
    (True, TypeError, r"^lp must be a finite number, got bool True$"),
]


@pytest.mark.parametrize(("value", "exc", "match"), CHECK_FINITE_CASES)
def test_check_finite_messages(value, exc, match):
    with pytest.raises(exc, match=match):
        check_finite("lp", value)


def test_check_finite_accepts_any_sign():
    assert [check_finite("lp", v) for v in (-2, 0, np.float32(0.5))] == [-2.0, 0.0, 0.5]


def error_cases() -> dict:
    """Every refused value of this file as {id: (call(), exception, the argument's name)}:
    tests/helpers/test_errors_zh.py runs each in Chinese."""
    cases = {}
    for check, name, table, bounds in [
        (check_int, "n", CHECK_INT_CASES, True),
        (check_positive, "temperature", CHECK_POSITIVE_CASES, False),
        (check_probability, "top_p", CHECK_PROBABILITY_CASES, False),
        (check_finite, "lp", CHECK_FINITE_CASES, False),
    ]:
        for row in table:
            value, exc = row[0], row[-2]
            args = (name, value, *row[1:3]) if bounds else (name, value)
            cases[f"{check.__name__}{args}"] = (lambda c=check, a=args: c(*a), exc, name)
    for key, (call, exc, match) in MESSAGE_CASES.items():
        name = re.match(r"\^?(\w+)", match)[1] if match.startswith("^") else None
        cases[key] = (call, exc, name)
    return cases
