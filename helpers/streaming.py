"""Streaming text while it is generated: print each token's text as soon as it is whole.

Taught in notebook 08 (section 5, streaming with incremental detokenization); the notebook-02
stepper uses ``token_bytes`` to keep a Chinese character that spans tokens in one piece.

A byte-level BPE tokenizer (GPT-2's, and the bundled one) falls back to single bytes for text it
never merged: UTF-8 writes a character in 1 to 4 bytes (most Chinese characters 3, the rarer
ones of CJK Extension B and after 4, most emoji 4), and each byte can be its own token. Decoding
such a token alone gives U+FFFD, the replacement character "�". A streamer must therefore hold a
token's bytes back until they complete a character:

- ``token_bytes``: the bytes a byte-level token stands for (None for other tokenizers);
- ``stream_text``: the text each new token makes printable, through an incremental UTF-8 decoder
  (``"".join`` of it is exactly ``tokenizer.decode(ids)``); the one text decoder of the course,
  also behind the stepper's ``helpers.stepping.token_pieces``;
- ``naive_stream``: each token decoded alone, the garbage a careless streamer prints.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator

from helpers._checks import check_token_id, check_token_ids, check_tokenizer

REPLACEMENT = "\ufffd"  # what decoding an incomplete UTF-8 sequence gives: "�"


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet, reversed: the character of a token string -> its byte."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    keep += list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


_BYTES = _byte_decoder()


def token_bytes(tokenizer, token_id: int) -> bytes | None:
    """The bytes a byte-level BPE token stands for; None if the tokenizer is not byte-level."""
    check_tokenizer(tokenizer)
    token_id = check_token_id("token_id", token_id, len(tokenizer))  # -1 or 10**6: named, not None
    return _token_bytes(tokenizer, token_id)


def _token_bytes(tokenizer, token_id: int) -> bytes | None:  # for loops that checked their ids
    if token_id in getattr(tokenizer, "all_special_ids", ()):
        return tokenizer.decode([token_id]).encode("utf-8")
    token = tokenizer.convert_ids_to_tokens(token_id)
    if not isinstance(token, str) or any(ch not in _BYTES for ch in token):
        return None
    return bytes(_BYTES[ch] for ch in token)


def stream_text(tokenizer, ids, cache: dict | None = None) -> Iterator[str]:
    """For each token of ``ids``, the text it makes printable ("" while a character is unfinished).

    Byte-level tokens go through an incremental UTF-8 decoder that keeps an unfinished
    character's bytes until the rest arrive. For another tokenizer the whole text so far is
    decoded and the new part printed unless it ends in "�". (transformers' ``TextStreamer`` also
    re-decodes, and prints new letters, digits, spaces and CJK characters at once; text with a
    symbol in it, such as punctuation, an emoji or "�", waits for the next space.)

    ``cache`` (token id -> its bytes, filled as it goes) spares a caller that decodes the same
    tokens again and again, such as the stepper redrawn after every click, the lookups."""
    check_tokenizer(tokenizer)
    ids = check_token_ids("ids", ids, len(tokenizer))
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    printed = 0  # characters already printed (re-decoding path)
    cache = {} if cache is None else cache
    for i, tid in enumerate(ids):
        if tid not in cache:
            cache[tid] = _token_bytes(tokenizer, tid)
        raw = cache[tid]
        if raw is not None:
            yield decoder.decode(raw, final=i == len(ids) - 1)
            continue
        text = tokenizer.decode(ids[: i + 1])
        if text.endswith(REPLACEMENT) and i < len(ids) - 1:
            yield ""
        else:
            yield text[printed:]
            printed = len(text)


def naive_stream(tokenizer, ids) -> list[str]:
    """Each token decoded on its own: a character split over tokens prints as "�" pieces."""
    check_tokenizer(tokenizer)
    return [tokenizer.decode([t]) for t in check_token_ids("ids", ids, len(tokenizer))]
