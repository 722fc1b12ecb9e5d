"""nbval, comparing numbers to the precision they are printed with.

nbval compares a stored output with a fresh one character for character. Floats computed on
another CPU (another instruction set, another BLAS kernel) move by about 1e-6 relative, and a
rounded value can land on the other side of a rounding boundary: ``5.7445`` here, ``5.7446``
there. This plugin keeps nbval's comparison (the same outputs, the same MIME types, in the same
order) and changes one thing, the test for equality of two values:

- the text around the numbers must match exactly (runs of spaces count as one, since pandas
  widens a column when a number gains a digit);
- integers (no decimal point: token ids, counts, shapes) must match exactly;
- a decimal number may differ by at most one unit in its last printed digit, and must be printed
  with the same number of decimals (``5.7445`` vs ``5.7446`` passes, ``5.7445`` vs ``5.7450``
  and ``5.7445`` vs ``5.745`` fail);
- plotly JSON is compared key by key: strings as text (above), ints exactly, floats to one unit
  of the shortest decimal form of either side (``round(x, 4)`` stored as ``0.5`` or ``0.1235``).

The rule is documented in tests/README.md and tested in tests/notebooks/test_nbval_precision.py.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_SPACES = re.compile(r"[ \t]+")
_REL = 1e-9  # float slack when comparing a difference with one unit


def _split(text: str) -> tuple[list[str], list[str]]:
    """The text between the numbers (spaces collapsed) and the numbers themselves."""
    numbers = _NUMBER.findall(text)
    between = [_SPACES.sub(" ", part) for part in _NUMBER.split(text)]
    return between, numbers


def _unit(token: str) -> Decimal:
    """One unit in the last printed digit of a decimal number: 0.0001 for 5.7445."""
    return Decimal(1).scaleb(Decimal(token).as_tuple().exponent)


def numbers_match(ref: str, test: str) -> bool:
    """Two printed numbers agree: integers exactly, decimals within one unit of the last digit."""
    if ref == test:
        return True
    if "." not in ref or "." not in test:  # an integer on either side: exact
        return False
    ref_mantissa, _, ref_exp = ref.lower().partition("e")
    test_mantissa, _, test_exp = test.lower().partition("e")
    if len(ref_mantissa.split(".")[1]) != len(test_mantissa.split(".")[1]):
        return False  # printed with another precision: a change in the code, not in the CPU
    if bool(ref_exp) != bool(test_exp):
        return False
    unit = max(_unit(ref), _unit(test))
    return abs(Decimal(ref) - Decimal(test)) <= unit * Decimal(1 + _REL)


def text_matches(ref: str, test: str) -> bool:
    """Two printed texts agree: same words and punctuation, numbers to their printed precision."""
    if ref == test:
        return True
    ref_between, ref_numbers = _split(ref)
    test_between, test_numbers = _split(test)
    return (
        ref_between == test_between
        and len(ref_numbers) == len(test_numbers)
        and all(numbers_match(r, t) for r, t in zip(ref_numbers, test_numbers, strict=True))
    )


def values_match(ref, test) -> bool:
    """Two output values (str, or plotly JSON made of dicts, lists, numbers) agree."""
    if isinstance(ref, str) and isinstance(test, str):
        return text_matches(ref, test)
    if isinstance(ref, bool) or isinstance(test, bool) or ref is None or test is None:
        return ref is test or (type(ref) is type(test) and ref == test)
    if isinstance(ref, int) and isinstance(test, int):
        return ref == test
    if isinstance(ref, int | float) and isinstance(test, int | float):
        if isinstance(ref, int) or isinstance(test, int):
            return float(ref) == float(test)  # an int on one side: exact
        if not (math.isfinite(ref) and math.isfinite(test)):
            return repr(ref) == repr(test)  # nan, inf: exactly the same
        ref_text, test_text = repr(ref), repr(test)  # shortest decimal form: 0.5, 0.1235, 1e-05
        unit = max(_unit(ref_text), _unit(test_text))
        return abs(Decimal(ref_text) - Decimal(test_text)) <= unit * Decimal(1 + _REL)
    if isinstance(ref, dict) and isinstance(test, dict):
        return ref.keys() == test.keys() and all(values_match(ref[k], test[k]) for k in ref)
    if isinstance(ref, list | tuple) and isinstance(test, list | tuple):
        return len(ref) == len(test) and all(
            values_match(r, t) for r, t in zip(ref, test, strict=True)
        )
    return ref == test


def compare_outputs(cell, test, ref, skip_compare=None) -> bool:
    """nbval's ``IPyNbCell.compare_outputs`` with ``values_match`` as the test for equality.

    Outputs are grouped by key (stream name, MIME type), as nbval does: a key present on one
    side only, or a different number of outputs under a key, fails; values are compared in order.
    """
    from nbval.plugin import transform_streams_for_comparison

    skip_compare = skip_compare or cell.parent.skip_compare

    def by_key(outputs):
        grouped: dict[str, list] = {}
        for out in transform_streams_for_comparison(outputs):
            for key, value in out.items():
                if key in skip_compare:
                    continue
                if key == "data":
                    for mime, data in value.items():
                        if mime not in skip_compare:
                            grouped.setdefault(mime, []).append(cell.sanitize(data))
                else:
                    grouped.setdefault(key, []).append(cell.sanitize(value))
        return grouped

    test_outs, ref_outs = by_key(test), by_key(ref)
    cell.comparison_traceback = []
    missing, extra = ref_outs.keys() - test_outs.keys(), test_outs.keys() - ref_outs.keys()
    if missing or extra:
        what = f"missing {sorted(missing)}" if missing else f"unexpected {sorted(extra)}"
        cell.comparison_traceback.append(f"Output fields differ from the stored ones: {what}")
        return False
    for key, ref_values in ref_outs.items():
        test_values = test_outs[key]
        if len(test_values) != len(ref_values):
            cell.comparison_traceback.append(
                f'{len(ref_values)} stored outputs for "{key}", {len(test_values)} computed'
            )
            return False
        for ref_value, test_value in zip(ref_values, test_values, strict=True):
            if not values_match(ref_value, test_value):
                cell.format_output_compare(key, ref_value, test_value)
                return False
    return True


def pytest_configure(config):
    """Install the comparison into nbval (nothing happens when nbval is not active)."""
    if config.getoption("nbval", False) or config.getoption("nbval_lax", False):
        from nbval.plugin import IPyNbCell

        IPyNbCell.compare_outputs = compare_outputs
