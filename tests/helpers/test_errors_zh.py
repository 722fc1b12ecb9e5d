"""The helpers' errors in the Chinese edition (issue 34).

Every bad input of test_bad_input.py and test_checks.py is raised again with the language Chinese:
its message reads in Chinese and still names the argument, the bad value and the bounds (Python
names, values and code unchanged); in English it is the English message, byte for byte. And every
``raise BadValue/BadType`` in helpers/ has a Chinese form (the raise sites read statically).
"""

from __future__ import annotations

import ast
import pickle
import re
import traceback
from pathlib import Path

import pytest
import test_bad_input
import test_checks

from helpers import messages
from helpers._checks import BadType, BadValue, check_int, check_model, check_tokenizer
from helpers.step_internals import cache_info
from helpers.widgets import DecodingStepper
from tests._html import english_words

HELPERS = Path(__file__).resolve().parents[2] / "helpers"
CJK = re.compile(r"[\u4e00-\u9fff]")


pytestmark = pytest.mark.usefixtures("english_after")  # each test leaves the language English


# forms of helpers._checks that no case of the two files reaches: (call(model, tokenizer), exc)
EXTRA_CASES = {
    "check_model of a number": (lambda m, t: check_model(5), TypeError, "int"),
    "check_tokenizer of a number": (lambda m, t: check_tokenizer(5), TypeError, "int"),
    "check_int >= with a reason": (
        lambda m, t: check_int("n_top", -1, 0, None, "the model's context window"),
        ValueError,
        "-1",
    ),
    "cache_info past the window and the token it predicts": (
        lambda m, t: cache_info(m, [1] * 258),
        ValueError,
        "258",
    ),
}


def _cases() -> dict:
    cases = dict(test_bad_input.error_cases())
    for key, (call, exc, name) in test_checks.error_cases().items():
        cases[f"checks: {key}"] = (lambda m, t, c=call: c(), exc, name)
    cases.update(EXTRA_CASES)
    return cases


CASES = _cases()
#: The English words of the forms: none may be left in a Chinese message (outside its values).
ENGLISH = re.compile(
    r"\b(must|the|is|are|got|of|and|or|to|be|not|give|need|needs|has|holds|hold|use|set|"
    r"takes|only|at|least|most|range|outside|empty|every|for|with|per|one)\b"
)


def _raised(call, bundled) -> Exception:
    try:
        call(*bundled)
    except (ValueError, TypeError) as err:
        return err
    raise AssertionError("no error was raised")


def _code_and_numbers(english: str) -> list[str]:
    """What the Chinese message must hold as the English does: quoted values, Python names with
    _ or . in them, and every number (but N-D, written 二维 ...)."""
    quoted = re.findall(r"'[^']*'", english)
    names = re.findall(r"[A-Za-z_]\w*(?:[._]\w+)+", english)
    numbers = re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?(?!-D)(?![\w])", english)
    return quoted + names + numbers


@pytest.mark.parametrize(("call", "exc", "named"), CASES.values(), ids=CASES)
def test_every_bad_input_reads_in_chinese_and_english_is_unchanged(bundled, call, exc, named):
    err = _raised(call, bundled)
    assert isinstance(err, exc)
    english = str(err)
    if type(err) in (BadValue, BadType):
        assert english == err.args[0]  # English: the message as written, byte for byte
    messages.set_lang("zh")
    chinese = str(_raised(call, bundled))
    assert str(err) == chinese  # the error raised in English reads in Chinese now, too
    if english == "T=20 is out of range: it must be in the range 1..10 (memory)":
        # a reason no helper gives (test_checks' own): the table lacks it, so the message stays
        # English as a whole, never half-translated
        assert chinese == english
        return
    assert isinstance(err, (BadValue, BadType)), type(err)
    assert CJK.search(chinese), chinese
    named = {"2 labels": "2 个标签"}.get(named, named)  # the one value named with a word
    for kept in _code_and_numbers(english) + ([named] if named else []):
        assert kept in chinese, (kept, chinese)
    values = re.sub(r"'[^']*'|\"[^\"]*\"|[A-Za-z_]\w*(?:[._]\w+)+", "", chinese)
    assert not ENGLISH.search(values), chinese  # no English form left half-translated
    messages.set_lang("en")
    assert str(err) == english


def _raise_sites() -> list[tuple[str, int, str]]:
    """Each ``raise BadValue(...)``/``BadType(...)`` outside helpers._checks: its message with
    every ``{expression}`` written 7 (a number fits every field of a form)."""
    sites = []
    for path in sorted(HELPERS.glob("*.py")):
        if path.name == "_checks.py":  # its messages are built in parts: the cases run them all
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            if getattr(node.exc.func, "id", "") not in ("BadValue", "BadType"):
                continue
            arg = node.exc.args[0]
            if isinstance(arg, ast.Constant):
                message = arg.value
            else:
                assert isinstance(arg, ast.JoinedStr), f"{path.name}:{node.lineno}"
                message = "".join(
                    v.value if isinstance(v, ast.Constant) else "7" for v in arg.values
                )
            sites.append((path.name, node.lineno, message))
    return sites


SITES = _raise_sites()


def test_every_raise_site_has_a_chinese_form():
    assert len(SITES) > 100  # the sites were found
    messages.set_lang("zh")
    untranslated = [
        f"{name}:{line}: {message}"
        for name, line, message in SITES
        if not CJK.search(messages.error_text(message))
    ]
    assert not untranslated, "\n".join(untranslated)


def test_the_stepper_status_line_shows_the_errors_in_chinese(bundled):
    model, tok = bundled
    messages.set_lang("zh")
    stepper = DecodingStepper(model, tok, "To be")
    before = stepper.state
    assert not stepper.set_settings(strategy="sample", top_k=5000)
    assert stepper.error and stepper.status == "top_k=5000 超出范围：必须在 1..4096 之间"
    assert not stepper.force_candidate("a")
    assert stepper.status == "candidate 必须是整数，得到的是 str 'a'"
    assert not stepper.set_mode_settings(num_beams=3)  # a beam setting in greedy mode
    assert stepper.status == "num_beams：这是束搜索和投机解码模式的设置；现在是贪心模式"
    assert not stepper.set_mode("nucleus")
    assert stepper.status.startswith("mode='nucleus' 必须是 (")
    assert stepper.state is before


def test_a_run_stopped_by_the_full_window_reads_in_chinese(bundled):
    model, tok = bundled
    messages.set_lang("zh")
    stepper = DecodingStepper(model, tok, "To be, or not to be. " * 30)  # the window fills
    assert 256 - 50 < len(stepper.state.ids) < 256
    assert not stepper.run(50)
    assert stepper.error and re.fullmatch(
        r"写了 50 个词元中的 \d+ 个后停下：上下文窗口已满：文本有 257 个词元，"
        r"而模型最多读 256 个：撤销或重置后才能继续",
        stepper.status,
    ), stepper.status
    assert not english_words(stepper.status, ["token"]), stepper.status


def test_the_table_translates_only_whole_messages_and_only_once():
    messages.set_lang("zh")
    english = "n=0 is out of range: it must be in the range 1..10"
    chinese = messages.error_text(english)
    assert chinese == "n=0 超出范围：必须在 1..10 之间"
    assert messages.error_text(chinese) == chinese  # translating twice changes nothing
    assert messages.error_text(f"stopped: {english}") == f"stopped: {english}"  # not a form
    # a bound with a reason the table lacks: English as a whole, not "1..10 (memory)" half-done
    assert messages.error_text(english + " (memory)") == english + " (memory)"
    assert messages.error_text(english + " (the model's context window)") == (
        "n=0 超出范围：必须在 1..10 之间（模型的上下文窗口）"
    )
    err = BadValue(english)
    assert str(err) == chinese and err.args == (english,)
    assert traceback.format_exception_only(err)[-1] == f"ValueError: {chinese}\n"
    messages.set_lang("en")
    # English: what a plain ValueError showed, to the traceback's last line
    assert str(err) == english and repr(err) == f"ValueError({english!r})"
    assert traceback.format_exception_only(err)[-1] == f"ValueError: {english}\n"
    assert type(pickle.loads(pickle.dumps(err))) is BadValue
    with pytest.raises(ValueError, match=r"^n=0 is out of range"):
        raise err
    bad_type = BadType("n must be an int, got str '3'")
    assert isinstance(bad_type, TypeError) and repr(bad_type).startswith("TypeError(")
