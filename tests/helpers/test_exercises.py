"""Self-checking exercises: right, not yet (with a hint), no answer yet; never the solution."""

import math
import re
from pathlib import Path

import nbformat
import pytest

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
