"""helpers.sampling's min-p and repetition penalty == transformers' processors; generate's order."""

import pytest
import torch
from transformers import GenerationConfig
from transformers.generation.logits_process import (
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
)

from helpers.generation import generate_stepwise
from helpers.sampling import apply_temperature, min_p_filter, repetition_penalty

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
