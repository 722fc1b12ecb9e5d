"""helpers.sampling's min-p and repetition penalty == transformers' processors; generate's order."""

import math

import pytest
import torch
from transformers import GenerationConfig
from transformers.generation.logits_process import (
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TopPLogitsWarper,
)

from helpers.generation import generate_stepwise
from helpers.sampling import (
    SamplingSettings,
    apply_temperature,
    candidate_table,
    filter_logits,
    min_p_filter,
    repetition_penalty,
    top_p_filter,
)
from helpers.stepping import DecodingState

PROMPTS = ["First Citizen:\n", "ROMEO:\nBut soft, what light", "模型", "O"]


def last_logits(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0, -1].float()


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("which", ["bundled", "tiny"])
def test_filters_equal_transformers_processors(request, prompt, which):
    model, tok = request.getfixturevalue(which)
    ids = tok(prompt)["input_ids"] + tok(prompt)["input_ids"]  # repeated tokens count once
    logits = last_logits(model, ids)
    for penalty in (0.8, 1.3, 2.0):
        theirs = RepetitionPenaltyLogitsProcessor(penalty)(
            torch.tensor([ids]), logits[None].clone()
        )
        assert torch.equal(repetition_penalty(logits, ids, penalty), theirs[0])
    for min_p in (0.01, 0.1, 0.5, 1.0):
        theirs = MinPLogitsWarper(min_p)(torch.tensor([ids]), logits[None].clone())
        assert torch.equal(min_p_filter(logits, min_p), theirs[0])


@pytest.mark.parametrize("which", ["bundled", "tiny"])
def test_top_p_of_one_keeps_every_token_as_transformers_does(request, which):
    """Notebook 01, section 3: p >= 1 keeps all V tokens (the widget's "off"), even where the
    running total of the probabilities reaches 1.0 by round-off before the last tokens."""
    model, tok = request.getfixturevalue(which)
    V = model.config.vocab_size
    sure = torch.zeros(V).index_fill(0, torch.tensor([0]), 30.0)  # P(token 0) rounds to 1.0
    assert float(sure.softmax(-1)[0]) == 1.0  # so a running total reaches 1 after one token
    for prompt in PROMPTS:
        ids = tok(prompt)["input_ids"]
        for logits in (last_logits(model, ids), sure):
            kept = top_p_filter(logits, 1.0)
            assert torch.equal(kept, logits)  # all V tokens, untouched
            theirs = TopPLogitsWarper(1.0)(torch.tensor([ids]), logits[None].clone())[0]
            assert torch.equal(kept, theirs)


def test_generate_applies_the_penalty_first_and_min_p_last(bundled):
    model, _ = bundled
    config = GenerationConfig(
        do_sample=True, temperature=0.8, top_k=50, top_p=0.95, min_p=0.05, repetition_penalty=1.3
    )
    chain = model._get_logits_processor(generation_config=config, input_ids_seq_length=3)
    assert [type(p).__name__ for p in chain] == [
        "RepetitionPenaltyLogitsProcessor",
        "TemperatureLogitsWarper",
        "TopKLogitsWarper",
        "TopPLogitsWarper",
        "MinPLogitsWarper",
    ]


@pytest.mark.parametrize("which", ["bundled", "tiny"])
def test_the_chain_by_hand_reproduces_generates_samples(request, which):
    model, tok = request.getfixturevalue(which)
    prompt = "First Citizen:\n"
    ids = tok(prompt)["input_ids"]
    torch.manual_seed(7)
    out = model.generate(
        torch.tensor([ids]),
        max_new_tokens=20,
        do_sample=True,
        temperature=0.8,
        min_p=0.05,
        repetition_penalty=1.3,
        top_k=None,
        top_p=None,
    )
    torch.manual_seed(7)
    new = []
    for _ in range(20):
        logits = last_logits(model, ids + new)
        logits = min_p_filter(
            apply_temperature(repetition_penalty(logits, ids + new, 1.3), 0.8), 0.05
        )
        new.append(int(torch.multinomial(logits.softmax(-1)[None], 1)))
    assert new == out[0, len(ids) :].tolist()


def test_the_penalty_breaks_the_bundled_models_loop(bundled):
    """Notebook 08: of three speakers' names, the greedy text that loops most repeats lines, and
    the repetition penalty (by hand == generate's) repeats fewer."""
    model, tok = bundled

    def repeats(token_ids):
        lines = [ln for ln in tok.decode(token_ids).split("\n") if ln.strip()]
        return len(lines) - len(set(lines))

    runs = {
        p: generate_stepwise(model, tok, p, 80).new_ids
        for p in ["First Citizen:\n", "ROMEO:\n", "HAMLET:\n"]
    }
    prompt = max(runs, key=lambda p: repeats(runs[p]))
    plain, ids = runs[prompt], tok(prompt)["input_ids"]
    new = []
    for _ in range(80):
        new.append(int(repetition_penalty(last_logits(model, ids + new), ids + new, 1.3).argmax()))
    out = model.generate(
        torch.tensor([ids]), max_new_tokens=80, do_sample=False, repetition_penalty=1.3
    )
    assert new == out[0, len(ids) :].tolist()
    assert repeats(plain) >= 2 and repeats(new) < repeats(plain)


def test_bad_input():
    logits = torch.zeros(5)
    with pytest.raises(ValueError, match="min_p"):
        min_p_filter(logits, 0)
    with pytest.raises(TypeError, match="min_p"):
        min_p_filter(logits, "0.1")
    with pytest.raises(ValueError, match="penalty"):
        repetition_penalty(logits, [1], 0)
    with pytest.raises(TypeError, match="penalty"):
        repetition_penalty(logits, [1], None)


def test_the_penalty_refuses_ids_outside_the_vocabulary():
    with pytest.raises(ValueError, match="ids"):
        repetition_penalty(torch.zeros(5), [7], 1.3)
    with pytest.raises(ValueError, match="ids"):
        repetition_penalty(torch.zeros(5), [], 1.3)


# --------------------------------------------------------------------------- candidates
@pytest.mark.parametrize(
    "s",
    [
        SamplingSettings(),
        SamplingSettings("sample", temperature=0.7, top_k=3),
        SamplingSettings("sample", temperature=1.5, top_p=0.3),
        SamplingSettings("sample", top_k=5, top_p=0.5),
    ],
)
def test_candidate_table_matches_filter_logits(bundled, s):
    model, tok = bundled
    state = DecodingState.start(tok, "To be, or not to be", s, model)
    logits = state.logits(model)
    cands = candidate_table(logits, tok, s, n=8)
    expected = filter_logits(logits, s.temperature, s.top_k, s.top_p).softmax(-1)
    probs = logits.softmax(-1)
    assert cands[0].token_id == int(torch.argmax(logits))
    assert [c.prob for c in cands] == sorted((c.prob for c in cands), reverse=True)
    for rank, c in enumerate(cands):
        assert c.prob == pytest.approx(float(probs[c.token_id]), abs=1e-7)
        assert c.filtered == pytest.approx(float(expected[c.token_id]), abs=1e-7)
        assert (c.filtered == 0) == bool(c.cut)
        if s.top_k is not None and rank >= s.top_k:
            assert c.cut == "top-k"
        assert c.text == tok.decode([c.token_id])
    cut = [bool(c.cut) for c in cands]
    assert cut == sorted(cut), "the filters cut the tail of the ranking, never the head"


def test_top_p_cut_is_named(bundled):
    model, tok = bundled
    logits = DecodingState.start(tok, "ROMEO:").logits(model)
    top = logits.softmax(-1).topk(2).values.tolist()
    s = SamplingSettings("sample", top_p=top[0] + top[1] / 2)  # reached by the second token
    cands = candidate_table(logits, tok, s)
    assert [c.cut for c in cands] == ["", ""] + ["top-p"] * 6


def test_candidate_table_rejects_bad_n(bundled):
    model, tok = bundled
    logits = DecodingState.start(tok, "ROMEO:").logits(model)
    with pytest.raises(ValueError, match=r"n=0 is out of range: it must be in the range 1\.\.4096"):
        candidate_table(logits, tok, SamplingSettings(), n=0)
    with pytest.raises(TypeError, match="n must be an int"):
        candidate_table(logits, tok, SamplingSettings(), n=2.5)


def test_top_p_keeps_more_tokens_at_higher_temperature(bundled):
    """Notebook 02, exercise 3 (a flatter distribution needs more tokens to reach p)."""
    model, tok = bundled
    for prompt in PROMPTS:
        logits = DecodingState.start(tok, prompt).logits(model)
        kept = [
            int((filter_logits(logits, t, None, 0.9) > -math.inf).sum())
            for t in (0.3, 0.5, 1.0, 1.5, 2.0)
        ]
        assert kept == sorted(kept) and kept[0] < kept[-1], (prompt, kept)


# --------------------------------------------------------------------------- notebook 08 additions
@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("which", ["bundled", "tiny"])
def test_no_repeat_ngram_equals_transformers_processor(request, prompt, which):
    from transformers.generation.logits_process import NoRepeatNGramLogitsProcessor

    from helpers.sampling import no_repeat_ngram

    model, tok = request.getfixturevalue(which)
    once = tok(prompt)["input_ids"]
    for ids in (once, once + once, once[:1]):  # repeated n-grams, and a text shorter than n
        logits = last_logits(model, ids)
        for n in (1, 2, 3, 4):
            theirs = NoRepeatNGramLogitsProcessor(n)(torch.tensor([ids]), logits[None].clone())
            assert torch.equal(no_repeat_ngram(logits, ids, n), theirs[0]), (ids, n)


def test_no_repeat_ngram_bans_what_followed_the_last_n_minus_1_tokens():
    from helpers.sampling import no_repeat_ngram

    out = no_repeat_ngram(torch.zeros(6), [1, 2, 3, 1, 2], 3)  # "1 2" was followed by 3
    assert torch.isinf(out).tolist() == [False, False, False, True, False, False]
    assert torch.isinf(no_repeat_ngram(torch.zeros(6), [4, 4], 1)).sum() == 1  # n = 1: seen ones
    with pytest.raises(ValueError, match="n=0"):
        no_repeat_ngram(torch.zeros(6), [1, 2], 0)


def test_greedy_without_repeated_trigrams_equals_generate_and_repeats_no_line(bundled):
    """Notebook 08: greedy with no_repeat_ngram_size=3, by hand == generate, and no line repeats;
    the speaker line of the prompt never comes back whole."""
    from helpers.sampling import no_repeat_ngram

    model, tok = bundled
    prompt = "First Citizen:\n"
    ids, new = tok(prompt)["input_ids"], []
    for _ in range(80):
        new.append(int(no_repeat_ngram(last_logits(model, ids + new), ids + new, 3).argmax()))
    out = model.generate(
        torch.tensor([ids]), max_new_tokens=80, do_sample=False, no_repeat_ngram_size=3
    )
    assert new == out[0, len(ids) :].tolist()
    lines = [ln for ln in tok.decode(new).split("\n") if ln.strip()]
    assert len(lines) == len(set(lines))
    assert (prompt + tok.decode(new)).count(prompt) == 1


def test_transformers_has_no_frequency_or_presence_penalty():
    """Notebook 08 says so; when transformers adds one, this fails: show it in the notebook."""
    from transformers.generation import logits_process

    assert not [n for n in dir(logits_process) if "Frequency" in n or "Presence" in n]
    assert not hasattr(GenerationConfig(), "frequency_penalty")
    assert not hasattr(GenerationConfig(), "presence_penalty")


def test_min_p_keeps_far_fewer_tokens_than_top_p_where_the_bundled_model_is_unsure(bundled):
    """Notebook 08: along the looping greedy text, the surest step keeps <= 2 tokens under both
    filters; the least sure keeps over 5x as many under top-p 0.9 as under min-p 0.1."""
    from helpers.sampling import top_p_filter

    model, tok = bundled
    ids = tok("First Citizen:\n")["input_ids"]
    plain = generate_stepwise(model, tok, "First Citizen:\n", 80).new_ids
    with torch.no_grad():
        steps = model(torch.tensor([ids + plain])).logits[0, len(ids) - 1 : -1].float()
    top = steps.softmax(-1).amax(-1)

    def kept(logits):
        return (
            int(torch.isfinite(top_p_filter(logits, 0.9)).sum()),
            int(torch.isfinite(min_p_filter(logits, 0.1)).sum()),
        )

    assert max(kept(steps[int(top.argmax())])) <= 2
    by_top_p, by_min_p = kept(steps[int(top.argmin())])
    assert by_top_p > 5 * by_min_p


def test_min_p_never_keeps_more_than_one_over_min_p_tokens():
    """Every kept token has p >= min_p * p_max and together they hold at most all the mass, so
    min-p keeps at most 1 / (min_p * p_max) tokens: few where the model is sure."""
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        logits = torch.randn(500, generator=gen) * 3
        p_max = float(logits.softmax(-1).max())
        for min_p in (0.05, 0.1, 0.5):
            n = int(torch.isfinite(min_p_filter(logits, min_p)).sum())
            assert 1 <= n <= 1 / (min_p * p_max) + 1e-6
