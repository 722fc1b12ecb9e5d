"""helpers.drafts: the n-gram table, the text-lookup draft, the model draft; saved and loaded."""

import numpy as np
import pytest
import torch

from helpers.drafts import (
    BUNDLED_DRAFT_DIR,
    LookupDraft,
    NGramDraft,
    draft_for,
    vocab_fingerprint,
)


# --------------------------------------------------------------------------- the n-gram draft
def test_ngram_draft_proposes_the_most_frequent_continuation():
    d = NGramDraft.from_ids([1, 2, 3, 1, 2, 3, 1, 2, 4, 5], vocab_size=8, order=3)
    assert d.next_token([1, 2]) == 3  # "1 2" was followed by 3 twice, by 4 once
    assert d.next_token([7, 4]) == 5  # unseen pair: back off to the last token (4 -> 5)
    assert d.next_token([6]) == 1  # unseen token: the most common token (1 and 2 tie: 1)
    assert d.propose([1, 2], 4) == [3, 1, 2, 3]
    q = d.distribution([1, 2])
    assert q.tolist()[3:5] == pytest.approx([2 / 3, 1 / 3]) and float(q.sum()) == 1.0


def test_ngram_draft_guess_is_the_argmax_of_its_distribution(draft, bundled):
    _, tokenizer = bundled
    ids = tokenizer("ROMEO:\nBut soft, what light through yonder")["input_ids"]
    for t in range(1, len(ids) + 1):
        q = draft.distribution(ids[:t])
        assert draft.next_token(ids[:t]) == int(torch.argmax(q))
        assert float(q.sum()) == pytest.approx(1.0)


def test_bundled_draft_is_small_and_matches_the_tokenizer(bundled):
    _, tokenizer = bundled
    files = list(BUNDLED_DRAFT_DIR.iterdir())
    assert {"config.json", "model.safetensors", "README.md"} <= {f.name for f in files}
    assert sum(f.stat().st_size for f in files) < 1.5 * 2**20
    d = NGramDraft.load()
    assert d.fingerprint == vocab_fingerprint(tokenizer)
    assert d.vocab_size == len(tokenizer) and d.order == 3


def test_draft_for_another_tokenizer_counts_a_new_table():
    from helpers.corpus import train_tokenizer

    other = train_tokenizer("my lord, my good lord, my lady. " * 50, vocab_size=300)
    d = draft_for(other, text_chars=20_000)
    assert d.vocab_size == len(other) and d.fingerprint == vocab_fingerprint(other)
    assert d.fingerprint != NGramDraft.load().fingerprint


def test_save_and_load_round_trip(tmp_path):
    d = NGramDraft.from_ids(np.arange(50) % 7, vocab_size=7, order=3, fingerprint="abc")
    d.save(tmp_path)
    e = NGramDraft.load(tmp_path)
    assert e.order == 3 and e.fingerprint == "abc" and e.propose([0], 10) == d.propose([0], 10)


def test_lookup_draft_copies_the_latest_occurrence_else_asks_the_table():
    table = NGramDraft.from_ids([1, 2, 3, 1, 2, 3, 1, 2, 4, 5], vocab_size=8, order=3)
    d = LookupDraft(table, max_ngram=3)
    assert d.copied_token([5, 6, 7, 5, 6, 1, 5, 6]) == 1  # "5 6" was followed by 7, then by 1
    assert d.copied_token([5, 6, 7, 5, 6, 1, 9, 5, 6, 7, 0, 5, 6, 7]) == 0  # longest tail first
    assert d.copied_token([1, 2]) is None and d.next_token([1, 2]) == table.next_token([1, 2])
    assert d.propose([4, 6, 7, 4, 6], 5) == [7, 4, 6, 7, 4]  # a guessed loop goes on looping
    assert (d.vocab_size, d.fingerprint) == (table.vocab_size, table.fingerprint)


def test_lookup_draft_refuses_bad_arguments(draft):
    with pytest.raises(TypeError, match="fallback must be a draft with .next_token"):
        LookupDraft("a table")
    with pytest.raises(ValueError, match="max_ngram=0 is out of range"):
        LookupDraft(draft, max_ngram=0)


@pytest.mark.parametrize("order", [1, 6])
def test_ngram_order_range(order):
    with pytest.raises(
        ValueError, match=rf"order={order} is out of range: it must be in the range 2\.\.5"
    ):
        NGramDraft.from_ids([1, 2, 3, 4, 5, 6, 7], vocab_size=8, order=order)


def test_ngram_ids_outside_the_vocabulary():
    with pytest.raises(ValueError, match=r"token ids must be in 0\.\.7"):
        NGramDraft.from_ids([1, 2, 9], vocab_size=8, order=2)
