"""helpers.corpus: the plays cleaned, one held out, encoded once per tokenizer."""

import pytest

from helpers import corpus
from helpers.corpus import HELD_OUT_PLAY, clean_play, load_play, split_corpus


def test_clean_play_removes_markup():
    text = clean_play(MARKDOWN)
    for markup in ("**", "_", "#", "\\[", "\\]", "\\", "  \n"):
        assert markup not in text, markup
    lines = text.splitlines()
    assert lines[:5] == ["The Play", "", "ACT I", "", "SCENE I. A room."]
    assert "Enter HAMLET and HORATIO" in lines
    assert "HAMLET:" in lines and "FIRST SERVINGMAN:" in lines
    assert "To be, or not to be [aside]-" in lines
    assert "\n\n\n" not in text and text.endswith("Exeunt\n")


def test_clean_play_on_a_real_play():
    text = load_play("hamlet")
    for markup in ("**", "_", "#", "\\[", "\\]"):
        assert markup not in text, markup
    assert "HAMLET:\nTo be, or not to be: that is the question:" in text


def test_clean_play_rejects_non_text():
    with pytest.raises(TypeError, match="markdown must be a str, got bytes"):
        clean_play(b"# Title")


def test_load_play_names_the_choices():
    with pytest.raises(ValueError, match=r"name='hamlett' is not a play; choose one of .*'hamlet'"):
        load_play("hamlett")


def test_split_corpus_holds_the_play_out(monkeypatch):
    plays = {"a": "alpha text\n", "b": "beta text\n", "c": "gamma text\n"}
    monkeypatch.setattr(corpus, "load_plays", lambda: plays)
    split_corpus.cache_clear()  # split_corpus remembers the real plays' split
    try:
        train_text, held = split_corpus("b")
        assert held == "beta text\n"
        assert train_text == "alpha text\n\n\ngamma text\n"
        with pytest.raises(
            ValueError, match=r"held_out='z' is not a play; choose one of \['a', 'b'"
        ):
            split_corpus("z")
    finally:
        split_corpus.cache_clear()  # forget the made-up plays


def test_encode_split_remembers_the_ids_per_tokenizer(bundled, monkeypatch):
    _, tokenizer = bundled
    texts = ("My lord, my good lord.\n", "Full fathom five.\n")  # a stand-in for the corpus
    monkeypatch.setattr(corpus, "split_corpus", lambda held_out: texts)
    monkeypatch.setattr(corpus, "_ENCODED", {})  # the real corpus's ids stay where they were
    train_ids, val_ids = corpus.encode_split(tokenizer, "stand-in")
    assert list(train_ids) == tokenizer(texts[0])["input_ids"]
    assert list(val_ids) == tokenizer(texts[1])["input_ids"]
    assert corpus.encode_split(tokenizer, "stand-in")[0] is train_ids  # remembered
    other = corpus.train_tokenizer(" ".join(texts) * 20, vocab_size=300)
    assert corpus.encode_split(other, "stand-in")[0] != train_ids  # per tokenizer


def test_split_corpus_on_the_real_corpus():
    train_text, held = split_corpus()
    assert held == load_play(HELD_OUT_PLAY)
    assert held.startswith("The Tempest\n")
    for line in ("Full fathom five thy father lies;", "We are such stuff"):
        assert line in held and line not in train_text
    assert "To be, or not to be" in train_text


# --------------------------------------------------------------------------- corpus
MARKDOWN = (
    "# The Play\n\n## ACT I\n\n### SCENE I. A room\\.\n\n"
    "_Enter HAMLET and HORATIO_\n\n"
    "**HAMLET**  \nTo be, or not to be \\[aside\\]\\-  \nthat is the question.\n\n"
    "**FIRST SERVINGMAN**  \nMy lord.\n\n\n\n_Exeunt_\n"
)
