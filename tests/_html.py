"""The text of the widget's HTML, for the tests of helpers.widgets and helpers.stepper_view."""

import html
import re


def plain(fragment: str) -> str:
    """The text of an HTML fragment (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def english_words(text: str, kept=(), quoted: bool = True) -> list[str]:
    """The English words left in a text meant to be Chinese: runs of three or more Latin
    letters outside markup, once the names in ``kept`` (the same in both editions) are taken
    out. ``quoted``: also leave out text in single quotes (a figure's quoted tokens)."""
    words = re.sub(r"<[^>]+>|'[^']*'" if quoted else r"<[^>]+>", " ", text)
    for name in sorted(kept, key=len, reverse=True):  # "softmax" before "max"
        words = words.replace(name, " ")
    return LATIN_WORD.findall(words)
