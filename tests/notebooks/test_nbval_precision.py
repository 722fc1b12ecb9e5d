"""The notebook comparison itself: numbers to their printed precision, everything else exactly."""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from tests.nbval_precision import compare_outputs, numbers_match, text_matches, values_match

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("ref", "test"),
    [
        ("5.7445", "5.7446"),  # the last digit, one unit up
        ("5.7446", "5.7445"),  # and down
        ("9.9999", "10.0000"),  # across a power of ten
        ("-0.0000", "0.0000"),  # the sign of a rounded zero
        ("1.25e-06", "1.26e-06"),
        ("0.5", "0.6"),
    ],
)
def test_a_last_digit_difference_passes(ref, test):
    assert numbers_match(ref, test)


@pytest.mark.parametrize(
    ("ref", "test"),
    [
        ("5.7445", "5.7447"),  # two units
        ("5.7445", "5.7450"),  # five units
        ("5.7445", "5.745"),  # another printed precision is a change in the code
        ("42", "43"),  # integers (token ids, counts) exactly
        ("4096", "4095"),
        ("1.25e-06", "1.25e-07"),
        ("1.5", "2"),
    ],
)
def test_other_number_differences_fail(ref, test):
    assert not numbers_match(ref, test)


def test_text_around_the_numbers_must_match_exactly():
    assert text_matches("loss 5.7445 after 60 steps", "loss 5.7446 after 60 steps")
    assert not text_matches("loss 5.7445 after 60 steps", "loss 5.7445 after 61 steps")
    assert not text_matches("loss 5.7445 after 60 steps", "lose 5.7445 after 60 steps")
    assert not text_matches("token ids [318, 257]", "token ids [318, 258]")
    assert not text_matches("[0.1, 0.2]", "[0.1, 0.2, 0.3]")  # one more number
    assert not text_matches("a\nb", "a b")  # a newline is not a space


def test_column_padding_may_change_with_a_digit():
    # pandas pads a column to its widest value: 9.9999 -> 10.0000 shifts the row by one space
    assert text_matches("x   9.9999\ny   1.0000", "x  10.0000\ny   1.0000")


def test_a_last_digit_difference_in_an_html_table_passes():
    row = "<tr><th>0</th><td>{}</td><td>{}</td></tr>"
    assert text_matches(row.format("-4.0881", 12), row.format("-4.0882", 12))
    assert not text_matches(row.format("-4.0881", 12), row.format("-4.0881", 13))
    assert not text_matches(row.format("-4.0881", "a"), row.format("-4.0881", "b"))


def test_plotly_json_is_compared_key_by_key():
    fig = {
        "data": [{"type": "bar", "x": ["a", "b"], "y": [0.1235, 0.5], "text": ["p=0.1235"]}],
        "layout": {"title": {"text": "step 3"}, "height": 320},
    }
    moved = json.loads(json.dumps(fig))
    moved["data"][0]["y"] = [0.1236, 0.5001]
    moved["data"][0]["text"] = ["p=0.1236"]
    assert values_match(fig, moved)
    for change in [
        lambda f: f["data"][0]["y"].__setitem__(0, 0.1237),  # two units
        lambda f: f["data"][0]["x"].__setitem__(1, "c"),  # a word
        lambda f: f["layout"].__setitem__("height", 321),  # an integer
        lambda f: f["layout"]["title"].__setitem__("text", "step 4"),  # a number in a string
        lambda f: f["data"][0].__setitem__("name", "extra"),  # an extra key
        lambda f: f["data"].append({}),  # an extra trace
    ]:
        changed = json.loads(json.dumps(fig))
        change(changed)
        assert not values_match(fig, changed)


def test_special_values_are_compared_exactly():
    assert values_match([None, True, float("nan")], [None, True, float("nan")])
    assert not values_match([True], [1])
    assert not values_match([None], [0.0])
    assert not values_match([float("inf")], [1e308])


def stub_cell():
    """The parts of nbval's IPyNbCell that compare_outputs uses."""
    failures = []
    cell = SimpleNamespace(
        parent=SimpleNamespace(skip_compare=("metadata", "execution_count", "image/png")),
        sanitize=lambda s: s,
        format_output_compare=lambda key, left, right: failures.append((key, left, right)),
    )
    return cell, failures


def stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def result(**data):
    return nbformat.v4.new_output("execute_result", data=data, execution_count=1)


def test_compare_outputs_passes_the_last_digit_and_ignores_images():
    cell, failures = stub_cell()
    ref = [stream("loss 5.7445\n"), result(**{"text/plain": "0.12", "image/png": "AAA"})]
    test = [stream("loss 5.7446\n"), result(**{"text/plain": "0.13", "image/png": "BBB"})]
    assert compare_outputs(cell, test, ref)
    assert not failures


@pytest.mark.parametrize(
    "test",
    [
        [stream("loss 5.7447\n"), result(**{"text/plain": "0.12"})],  # two units off
        [stream("loss 5.7445\n")],  # a missing output
        [stream("loss 5.7445\n"), result(**{"text/plain": "0.12"}), stream("x", "stderr")],
        [stream("loss 5.7445\n"), result(**{"text/plain": "0.12", "text/html": "<b>0.12</b>"})],
        [stream("loss 5.7445\n"), result(**{"text/plain": "0.12"}), result(**{"text/plain": "1"})],
    ],
    ids=["two-units", "missing-output", "extra-stderr", "extra-mime-type", "extra-result"],
)
def test_compare_outputs_fails_on_real_differences(test):
    cell, failures = stub_cell()
    ref = [stream("loss 5.7445\n"), result(**{"text/plain": "0.12"})]
    assert not compare_outputs(cell, test, ref)
    assert cell.comparison_traceback or failures  # nbval reports what differed


def test_nbval_uses_the_rule_end_to_end(tmp_path):
    """A real nbval run: a stored 5.7445 passes against 5.7446 and fails against 5.7447."""

    def notebook(printed):
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("print('loss 5.7446')", execution_count=1)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"loss {printed}\n")]
        nb.cells = [cell]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        return nb

    nbformat.write(notebook("5.7445"), tmp_path / "near.ipynb")
    nbformat.write(notebook("5.7448"), tmp_path / "far.ipynb")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.nbval_precision",
            "--nbval",
            "--nbval-current-env",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            "/dev/null",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert "1 failed, 1 passed" in run.stdout, run.stdout[-2000:]
    assert "far.ipynb" in run.stdout.split("short test summary")[-1]
