"""helpers.messages: one language chosen in one place, every message in both languages."""

from __future__ import annotations

import string

import pytest

from helpers import messages, setup_notebook
from helpers.exercises import EXERCISES, check

pytestmark = pytest.mark.usefixtures("english_after")  # each test leaves the language English


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_every_message_exists_in_both_languages_with_the_same_placeholders():
    en, zh = messages.MESSAGES["en"], messages.MESSAGES["zh"]
    assert set(messages.MESSAGES) == set(messages.LANGS)
    assert set(en) == set(zh), f"only English {set(en) - set(zh)}, only Chinese {set(zh) - set(en)}"
    for key in en:
        assert _fields(en[key]) == _fields(zh[key]), key
        assert zh[key].strip(), key


def test_every_exercise_has_its_question_and_hint_in_chinese():
    for exercise_id, ex in EXERCISES.items():
        question, hint = ex.zh
        assert question and hint, exercise_id
        assert not hint.endswith("。"), f"{exercise_id}: check() adds the full stop"


def test_setup_notebook_chooses_the_language_and_refuses_an_unknown_one():
    setup_notebook(seed=0, lang="zh")
    assert messages.LANG == "zh"
    assert messages.text("check.right", id="01.2") == "01.2：答对了。"
    with pytest.raises(ValueError, match=r"lang='fr' must be one of \('en', 'zh'\)"):
        setup_notebook(seed=0, lang="fr")
    assert messages.LANG == "zh"  # a refused value changes nothing
    setup_notebook(seed=0)
    assert messages.LANG == "en"


def test_check_speaks_chinese_and_english_is_unchanged(capsys):
    check("01.2", 10)
    check("03.1", "11")
    assert capsys.readouterr().out == (
        "01.2: right.\n"
        "03.1: not yet ('11' is a str, and the answer is a whole number). Hint: the last "
        "position has no label, and the first token is never a label.\n"
    )
    messages.set_lang("zh")
    check("01.2", 10)
    check("01.2", 9)
    check("03.1", "11")
    check("02.2", None)
    assert capsys.readouterr().out.splitlines() == [
        "01.2：答对了。",
        "01.2：还不对（9）。提示：缓存让每次前向传播更便宜，而不是让次数更少。",
        "03.1：还不对（'11' 是 str 类型的值，而答案应是整数）。提示：最后一个位置没有标签，"
        "第一个词元也从来不是标签。",
        "02.2：还没有答案。预测：在贪心模式下按单步，再按撤销，再按单步。得到的词元和第一次一样吗？"
        "（True 或 False）",
    ]


def test_the_stepper_speaks_chinese(bundled):
    from helpers.stepping import SamplingSettings
    from helpers.widgets import DecodingStepper

    model, tok = bundled
    messages.set_lang("zh")
    stepper = DecodingStepper(model, tok, "ROMEO:", settings=SamplingSettings(strategy="sample"))
    assert stepper.step_button.description == "单步"
    assert stepper.run_button.description == "运行 5 步"
    assert stepper.strategy._options_labels[:2] == ("贪心", "采样")
    assert stepper.strategy.value == "sample"  # the values stay the modes' names
    assert stepper.status == "按“单步”：模型选出下一个词元。"
    stepper.step_button.click()
    assert stepper.status.startswith("第 1 步：采样（种子 0）得到 '")
    stepper.undo_button.click()
    assert stepper.status.startswith("已撤销：第 1 步（'")
    stepper.set_mode("beam")
    assert stepper.status == "束搜索模式，从提示重新开始（撤销可退回）"
    stepper.undo()
    page = stepper.static_html()
    assert "解码步进器的<b>快照</b>" in page and "<b>下一个词元</b>" in page
    assert "词元 id：" in page and "上一个操作：" in page
    assert "Snapshot" not in page and "Next token" not in page


def test_a_checks_message_on_the_status_line_speaks_chinese(bundled):
    """The argument checks' messages a student meets (notebook 02, section 4) show in Chinese
    on the stepper's status line; the raised error and the English edition are unchanged."""
    from helpers.widgets import DecodingStepper

    english = "temperature=0.0 must be a finite number > 0 (0 < temperature < inf)"
    assert messages.error_text(english) == english  # LANG is "en"
    messages.set_lang("zh")
    assert (
        messages.error_text(english)
        == "temperature=0.0 必须是大于 0 的有限数（0 < temperature < inf）"
    )
    top_p = "top_p=0.0 must be in the range (0, 1]"
    assert messages.error_text(top_p) == "top_p=0.0 必须在区间 (0, 1] 内"
    other = "Calling `crop` with a positive value (`5`) is not supported"  # transformers' own
    assert messages.error_text(other) == other  # a form not in the table stays as it is
    longer = top_p + "; and more"  # a form must be the whole message: none half-translates
    assert messages.error_text(longer) == longer
    assert messages.error_text(messages.error_text(top_p)) == messages.error_text(top_p)
    model, tok = bundled
    stepper = DecodingStepper(model, tok, "ROMEO:")
    stepper.temperature.value = 0.0
    assert stepper.error and stepper.status == (
        "temperature=0.0 必须是大于 0 的有限数（0 < temperature < inf）"
    )
    assert stepper.temperature.value == 1.0  # snapped back, as in English
