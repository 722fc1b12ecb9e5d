"""Every figure's words in Chinese in the Chinese edition, its data untouched."""

import json
import re
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from helpers import setup_notebook
from helpers.figure_text import ZH, TranslatedRenderer, in_chinese, translate_figure
from helpers.messages import MESSAGES
from helpers.plots import attention_figure, bar, figure_alt
from tests._html import english_words

#: the messages (helpers.messages) a figure may show as a label of its data, such as "cut"
WORDS_ZH = {MESSAGES["en"]["view.cut"]: MESSAGES["zh"]["view.cut"]}

ROOT = Path(__file__).resolve().parents[2]
PLOTLY = "application/vnd.plotly.v1+json"
#: Words a figure shows as data or as a name, the same in both editions: tokens of the play,
#: formula symbols and library names.
KEPT = {"ROMEO", "But", "·soft", "·what", "argmax", "softmax", "logits", "max", "log", "KV"}
KEPT |= {"top-k", "top-p", "attention_mask", "position_ids", "generate", "num_beams", "CPU"}


def figure_words(fig: dict) -> list[str]:
    """The texts of a stored figure that are words, not data: titles, axis and legend titles,
    trace names, colour-bar titles, annotations and the slider's labels."""
    layout, texts = fig.get("layout", {}), []

    def title(holder):
        value = holder.get("title")
        texts.append(value.get("text") if isinstance(value, dict) else value)

    title(layout)
    for name, axis in layout.items():
        if re.match(r"[xy]axis\d*$", name):
            title(axis)
    texts += [a.get("text") for a in layout.get("annotations", [])]
    for slider in layout.get("sliders", []):
        texts.append(slider.get("currentvalue", {}).get("prefix"))
        texts += [a.get("title.text") for s in slider["steps"] for a in s["args"][1:]]
    for trace in fig.get("data", []):
        texts.append(trace.get("name"))
        title(trace.get("colorbar", {}))
    return [t for t in texts if isinstance(t, str)]


def english_left(text: str) -> list[str]:
    return english_words(text, KEPT)  # quoted text is the play's words


@pytest.mark.parametrize(
    "path", sorted((ROOT / "notebooks" / "zh").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem
)
def test_every_figure_of_the_chinese_notebooks_speaks_chinese(path):
    """Their stored figures (drawn through TranslatedRenderer) have no English word left outside
    the data, and their data (x, y, z, cell texts) is the English notebook's, value for value."""
    zh_nb = json.loads(path.read_text(encoding="utf-8"))
    en_nb = json.loads((ROOT / "notebooks" / path.name).read_text(encoding="utf-8"))
    figures = 0
    for zh_cell, en_cell in zip(zh_nb["cells"], en_nb["cells"], strict=True):
        timed = "NBVAL_IGNORE_OUTPUT" in "".join(en_cell["source"])  # measured: data differs
        zh_figs, en_figs = (
            [o["data"][PLOTLY] for o in c.get("outputs", []) if PLOTLY in o.get("data", {})]
            for c in (zh_cell, en_cell)
        )
        assert len(zh_figs) == len(en_figs)
        for zh, en in zip(zh_figs, en_figs, strict=True):
            figures += 1
            left = [w for t in figure_words(zh) for w in english_left(t)]
            assert not left, f"English left in a figure of {path.name}: {left}"
            for a, b in zip(zh["data"], en["data"], strict=True):
                for key in ("x", "y", "z") if not timed else ():
                    assert a.get(key) == b.get(key)
                # the data's labels: the same numbers, and a message ("cut") in Chinese
                if not timed and isinstance(b.get("text"), list):
                    words = [WORDS_ZH.get(t, t) if isinstance(t, str) else t for t in b["text"]]
                    assert a["text"] == words
                elif not timed:
                    assert a.get("text") == b.get("text")
    assert figures or path.stem.startswith("02")


@pytest.mark.parametrize(
    "path", sorted((ROOT / "notebooks" / "zh").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem
)
def test_the_chinese_notebooks_alt_texts_are_chinese(path):
    """Each stored figure's alt text (tests/store_outputs.py) is figure_alt's Chinese sentence
    around the figure's Chinese words: no English frame ("A bar chart of") left."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if PLOTLY in out.get("data", {}) and "image/png" in out["data"]:
                alt = out["metadata"]["image/png"]["alt"]
                assert alt == figure_alt(out["data"][PLOTLY], "zh")
                assert not english_left(alt), f"{path.name}: English in the alt text {alt!r}"


def test_every_english_figure_text_has_its_chinese():
    """Each text the English notebooks' figures show is in ZH or matched by a pattern."""
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            for out in cell.get("outputs", []):
                fig = out.get("data", {}).get(PLOTLY)
                for text in figure_words(fig) if fig else []:
                    if english_left(text):
                        assert in_chinese(text) != text, f"{path.name}: no Chinese for {text!r}"


def test_translation_leaves_the_data_and_the_english_figure_alone():
    fig = bar(["·is", "s"], [0.6, 0.4], title="candidates for step 3", xaxis="candidate token")
    before = fig.to_dict()
    zh = translate_figure(before)
    assert zh["layout"]["title"]["text"] == "第 3 步的候选"
    assert zh["layout"]["xaxis"]["title"]["text"] == "候选词元"
    assert zh["data"][0]["x"] == before["data"][0]["x"]  # the tokens stay as they are
    assert fig.to_dict() == before  # a copy: the figure the notebook holds is unchanged
    assert in_chinese("a text no figure shows") == "a text no figure shows"
    assert all(v and not english_left(v.replace("<br>", " ")) for v in ZH.values())


def test_the_slider_and_the_long_titles():
    import torch

    weights = torch.full((2, 2, 3, 3), 1 / 3)
    zh = translate_figure(
        attention_figure(weights, ["a", "b", "c"], title="Attention weights,").to_dict()
    )
    assert zh["layout"]["title"]["text"] == "注意力权重，第 0 层，第 0 头"
    steps = zh["layout"]["sliders"][0]["steps"]
    assert steps[3]["args"][1]["title.text"] == "注意力权重，第 1 层，第 1 头"
    assert zh["layout"]["sliders"][0]["currentvalue"]["prefix"] == "显示 "
    long = translate_figure(
        go.Figure(
            layout={
                "title": "Longer proposals: fewer passes per token, but<br>fewer guesses accepted"
            }
        ).to_dict()
    )
    assert "<br>" in long["layout"]["title"]["text"]  # wrapped at its comma or colon


def test_setup_notebook_chooses_the_renderer_by_language():
    setup_notebook(seed=0, lang="zh")
    try:
        names = pio.renderers.default.split("+")
        assert names and all(n.startswith("zh_") for n in names)
        assert all(isinstance(pio.renderers[n], TranslatedRenderer) for n in names)
    finally:
        setup_notebook(seed=0, lang="en")
    assert not pio.renderers.default.startswith("zh_")
    with pytest.raises(TypeError, match="figure's dict"):
        translate_figure("a title")
    with pytest.raises(TypeError, match="mimetype renderer"):
        TranslatedRenderer("png")
