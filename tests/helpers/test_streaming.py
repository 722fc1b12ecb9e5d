"""helpers.streaming: stream whole characters, never half of one; the stepper keeps its pieces."""

import pytest
import torch
from transformers import TextStreamer

from helpers.stepping import DecodingState, token_pieces
from helpers.streaming import REPLACEMENT, naive_stream, stream_text, token_bytes

TEXTS = ["模型 🙂 ok", "To be, or not to be", "模", "a🙂", "\n\n中文\n"]


class Words:  # decodes by re-joining; no byte-level tokens
    all_special_ids = ()

    def __call__(self, text):
        return {"input_ids": [0]}

    def __len__(self):
        return 10

    def convert_ids_to_tokens(self, i):
        return None

    def decode(self, ids):
        return " ".join(f"w{i}" for i in ids)


def text_streamer_chunks(tok, ids) -> list[str]:
    """What transformers' TextStreamer prints, piece by piece, fed one token at a time."""
    chunks = []

    class Collect(TextStreamer):
        def on_finalized_text(self, t, stream_end=False):
            chunks.append(t)

    streamer = Collect(tok)
    for t in ids:
        streamer.put(torch.tensor([t]))
    streamer.end()
    return chunks


@pytest.mark.parametrize("text", TEXTS)
def test_streamed_text_is_the_decoded_text_without_garbage(bundled, text):
    _, tok = bundled
    ids = tok(text)["input_ids"]
    pieces = list(stream_text(tok, ids))
    assert len(pieces) == len(ids)  # one piece per token, "" while a character is unfinished
    assert "".join(pieces) == tok.decode(ids) == text
    assert REPLACEMENT not in "".join(pieces)


def test_decoding_each_token_alone_prints_replacement_characters(bundled):
    _, tok = bundled
    ids = tok("模")["input_ids"]
    assert len(ids) == 3 and "".join(naive_stream(tok, ids)) == REPLACEMENT * 3  # 3 lone bytes
    assert b"".join(token_bytes(tok, t) for t in ids) == "模".encode()


def test_a_text_cut_inside_a_character_ends_in_one_replacement(bundled):
    _, tok = bundled
    ids = tok("模型")["input_ids"][:4]  # 模 and the first byte of 型
    assert "".join(stream_text(tok, ids)) == tok.decode(ids) == "模" + REPLACEMENT


@pytest.mark.parametrize("text", TEXTS)
def test_transformers_text_streamer_prints_the_same_text(bundled, text):
    _, tok = bundled
    ids = tok(text)["input_ids"]
    assert "".join(text_streamer_chunks(tok, ids)) == "".join(stream_text(tok, ids))


def test_a_tokenizer_that_is_not_byte_level_re_decodes():
    assert list(stream_text(Words(), [1, 2, 3])) == ["w1", " w2", " w3"]
    assert token_bytes(Words(), 1) is None


@pytest.mark.parametrize(
    "bad, exc",
    [(-1, ValueError), (10**6, ValueError), (4096, ValueError), (2.0, TypeError), ("7", TypeError)],
)
def test_token_bytes_names_an_id_outside_the_vocabulary(bundled, bad, exc):
    _, tok = bundled
    with pytest.raises(exc, match="token_id"):
        token_bytes(tok, bad)


def test_bad_input(bundled):
    model, tok = bundled
    with pytest.raises(ValueError, match="ids"):
        list(stream_text(tok, []))
    with pytest.raises(ValueError, match="ids"):
        naive_stream(tok, [len(tok)])
    with pytest.raises(TypeError, match="tokenizer"):
        list(stream_text(model, [1]))


def test_text_streamer_prints_letters_at_once_and_holds_symbols_until_a_space(bundled):
    _, tok = bundled
    chunks = text_streamer_chunks(tok, tok("模型 🙂 ok")["input_ids"])
    # CJK characters and letters at once; the emoji waits for the space " o" brings; then "ok"
    assert chunks == ["", "", "模", "", "", "型", " ", "", "", "", "", "🙂 ", "ok", ""]


# ---------------------------------------------------------- the stepper's pieces: the same decoder
def pieces_of(tok, prompt_ids, ids, cache=None):
    state = DecodingState("", tuple(prompt_ids), tuple(ids), tuple(0.5 for _ in ids))
    return token_pieces(state, tok, cache)


@pytest.mark.parametrize("text", [*TEXTS, "模型"])
def test_token_pieces_are_the_streamed_texts(bundled, text):
    _, tok = bundled
    ids = tok(text)["input_ids"][:-1]  # the longer texts end inside a character
    cache = {}
    pieces = pieces_of(tok, [0], ids, cache)
    assert [p.text for p in pieces] == [t for t in stream_text(tok, ids) if t]  # one decoder
    assert sum((p.ids for p in pieces), ()) == tuple(ids)
    assert cache == {t: token_bytes(tok, t) for t in ids}  # filled once per token
    assert pieces_of(tok, [0], ids, cache) == pieces  # and read back on the next redraw


def test_token_pieces_of_a_tokenizer_that_is_not_byte_level_join_to_its_decode():
    pieces = pieces_of(Words(), [0], [1, 2, 3])
    assert [p.text for p in pieces] == ["w1", " w2", " w3"]  # each token alone: no spaces
    assert "".join(p.text for p in pieces) == Words().decode([1, 2, 3])
    assert pieces_of(Words(), [0], []) == []


@pytest.mark.parametrize(
    ("symbol", "code_points", "n_bytes"),
    [("o", 1, 1), ("模", 1, 3), ("𠮷", 1, 4), ("🙂", 1, 4), ("👍🏽", 2, 8)],
)
def test_symbols_of_every_utf8_width_stream_whole(bundled, symbol, code_points, n_bytes):
    """Notebook 08's width table: 3 bytes is the common Chinese character, not every one (CJK
    Extension B takes 4); an emoji is mostly 4 bytes, and some are several code points."""
    _, tok = bundled
    assert (len(symbol), len(symbol.encode())) == (code_points, n_bytes)
    ids = tok(symbol)["input_ids"]
    assert "".join(stream_text(tok, ids)) == symbol
    assert "".join(text_streamer_chunks(tok, ids)) == symbol


def test_text_streamer_flushes_at_han_characters_only(bundled):
    """Notebook 08: TextStreamer prints at once after a CJK ideograph (a Han character, also
    in the extension blocks), not after Japanese kana or Korean hangul."""
    _, tok = bundled
    streamer = TextStreamer(tok)
    assert [streamer._is_chinese_char(ord(c)) for c in "模型𠮷のは한"] == [True] * 3 + [False] * 3
