"""Self-checking exercises: right, not yet (with a hint), no answer yet; never the solution."""

import math
import re
from pathlib import Path

import nbformat
import pytest
import torch

from helpers.exercises import EXERCISES, check

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def expected(ex_id, model, tok):
    return EXERCISES[ex_id].expected({"model": model, "tokenizer": tok})


@pytest.mark.parametrize("ex_id", sorted(EXERCISES))
def test_the_right_answer_is_right_and_a_wrong_one_gets_a_hint(bundled, capsys, ex_id):
    model, tok = bundled
    right = expected(ex_id, model, tok)
    check(ex_id, right, model=model, tokenizer=tok)
    assert capsys.readouterr().out == f"{ex_id}: right.\n"
    wrong = {
        bool: lambda x: not x,
        int: lambda x: x + 7,
        float: lambda x: x + 1.0,
        str: lambda x: x + "zz",
        tuple: lambda x: x + (1,),
        list: lambda x: x + [99],
    }
    check(ex_id, wrong[type(right)](right), model=model, tokenizer=tok)
    out = capsys.readouterr().out
    assert out.startswith(f"{ex_id}: not yet (") and "Hint: " in out
    assert repr(right) not in out.split("Hint: ")[1]  # the hint never gives the answer away


def test_the_answers_follow_the_model(bundled, tiny):
    model, tok = bundled
    assert expected("05.1", model, tok) == 2 * 4 * 256 * 1024 * 4  # 4 layers, width 256
    assert expected("05.1", *tiny) == 2 * 2 * 32 * 1024 * 4  # another shape, another answer
    assert math.isclose(expected("03.2", model, tok), math.log(4096))


def test_no_answer_yet_and_bad_use(bundled, capsys):
    model, tok = bundled
    check("01.2", None)
    assert capsys.readouterr().out.startswith("01.2: no answer yet. ")
    with pytest.raises(ValueError, match=r"exercise_id='9.9' is not one of"):
        check("9.9", 1)
    with pytest.raises(TypeError, match=r"needs model=\.\.\. too"):
        check("05.1", 5)
    check("03.2", math.log(4096) + 0.25, model=model)  # within the stated tolerance
    assert capsys.readouterr().out == "03.2: right.\n"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_has_two_self_checks_one_a_prediction(path):
    nb = nbformat.read(path, as_version=4)
    start = next(i for i, c in enumerate(nb.cells) if "### Solutions" in c.source)
    exercise_cells = [c.source for c in nb.cells[:start] if c.cell_type == "code"]
    ids = [m for src in exercise_cells for m in re.findall(r'check\("(\d\d\.\d)", answer', src)]
    assert len(ids) >= 2 and all(i in EXERCISES for i in ids)
    assert any(EXERCISES[i].question.startswith("Predict") for i in ids)
    solutions = "\n".join(c.source for c in nb.cells[start:] if c.cell_type == "code")
    assert all(f'check("{i}",' in solutions for i in ids)  # each has its worked solution


def as_computed(right):
    """The right answer as students compute it: numpy and torch scalars, 0-d and 1-D arrays and
    tensors, ranges, tuples for lists and lists for tuples."""
    np = pytest.importorskip("numpy")  # a dependency (requirements.txt), still optional here
    if isinstance(right, bool):
        return [np.bool_(right), torch.tensor(right), np.array(right)]
    if isinstance(right, int):
        return [
            np.int64(right),
            np.int32(right),
            np.array(right),
            torch.tensor(right),
            float(right),
            np.float32(right),
            torch.tensor(float(right)),
        ]
    if isinstance(right, float):
        return [
            np.float64(right),
            np.float32(right),
            torch.tensor(right),
            torch.tensor(right, dtype=torch.float64),
            np.array(right),
        ]
    if isinstance(right, str):
        return [np.str_(right)]
    forms = [
        list(right),
        tuple(right),
        np.array(right),
        torch.tensor(right),
        [np.int64(x) for x in right],
        tuple(torch.tensor(right)),
    ]
    if isinstance(right, tuple):
        forms.append(torch.Size(right))
    if list(right) == list(range(right[0], right[0] + len(right))):
        forms += [
            range(right[0], right[0] + len(right)),
            np.arange(right[0], right[0] + len(right)),
            torch.arange(right[0], right[0] + len(right)),
        ]
    return forms


def of_the_wrong_kind(right):
    """(answer, what the message must name) for answers whose kind, not value, is wrong."""
    if isinstance(right, tuple | list):
        return [
            (str(list(right)), "is a str, and the answer is a list (or tuple) of whole numbers"),
            (len(right), "is an int, and the answer is a list (or tuple) of whole numbers"),
            (torch.tensor([list(right)]), f"is a 2-D tensor of shape (1, {len(right)}), and"),
        ]
    kind = {bool: "True or False", int: "a whole number", float: "a number", str: "a string"}
    wrong = [
        (
            torch.zeros(2, 3),
            f"is a 2-D tensor of shape (2, 3), and the answer is {kind[type(right)]}",
        ),
        ([right], f"is a list of 1, and the answer is {kind[type(right)]}"),
    ]
    if not isinstance(right, str):
        wrong.append((str(right), f"is a str, and the answer is {kind[type(right)]}"))
    if isinstance(right, int) and not isinstance(right, bool):
        wrong.append(
            (
                torch.tensor([right]),
                "is a 1-D tensor of shape (1,), and the answer is a whole number",
            )
        )
    return wrong


@pytest.mark.parametrize("ex_id", sorted(EXERCISES))
def test_what_students_compute_with_is_accepted(bundled, capsys, ex_id):
    model, tok = bundled
    right = expected(ex_id, model, tok)
    for answer in as_computed(right):
        check(ex_id, answer, model=model, tokenizer=tok)
        assert capsys.readouterr().out == f"{ex_id}: right.\n", (type(answer), answer)


@pytest.mark.parametrize("ex_id", sorted(EXERCISES))
def test_an_answer_of_the_wrong_kind_is_named(bundled, capsys, ex_id):
    model, tok = bundled
    right = expected(ex_id, model, tok)
    for answer, said in of_the_wrong_kind(right):
        check(ex_id, answer, model=model, tokenizer=tok)
        out = capsys.readouterr().out
        assert out.startswith(f"{ex_id}: not yet (") and said in out and "Hint: " in out, out
        assert repr(right) not in out.split("Hint: ")[1]


def test_a_wrong_value_of_the_right_kind_is_only_not_yet(capsys):
    check("04.1", torch.arange(3, 9), model=None)  # one position short: a value, not a kind
    assert capsys.readouterr().out.startswith("04.1: not yet (tensor([3, 4, 5, 6, 7, 8])). Hint")
    check("03.1", torch.tensor(12))
    assert capsys.readouterr().out.startswith("03.1: not yet (tensor(12)). Hint")
    check("03.1", True)  # a bool is an int to Python, not to the student
    assert "(True is a bool, and the answer is a whole number)" in capsys.readouterr().out
