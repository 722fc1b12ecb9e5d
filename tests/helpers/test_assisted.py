"""helpers.assisted: transformers' assisted generation and prompt lookup == the course's
speculative loop == greedy, pass for pass."""

import pytest
import torch

from helpers.assisted import PromptLookupDraft, count_passes, count_passes_each, first_layers
from helpers.drafts import ModelDraft
from helpers.generation import generate_stepwise
from helpers.speculative import speculative_greedy

PROMPTS = ["First Citizen:\n", "ROMEO:\nBut soft, what light", "KING:\nMy", "模型", "O"]


def generate(model, tok, prompt, n, **kw):
    ids = tok(prompt, return_tensors="pt")["input_ids"]
    return model.generate(ids, max_new_tokens=n, do_sample=False, **kw)[0, ids.size(1) :].tolist()


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("k", [2, 4, 10])
def test_prompt_lookup_is_the_speculative_loop_with_a_lookup_draft(bundled, prompt, k):
    model, tok = bundled
    greedy = generate_stepwise(model, tok, prompt, 30).new_ids
    theirs, passes = count_passes(
        model, lambda: generate(model, tok, prompt, 30, prompt_lookup_num_tokens=k)
    )
    ours = speculative_greedy(model, tok, prompt, 30, draft=PromptLookupDraft(len(tok)), k=k)
    assert theirs == ours.new_ids == greedy
    assert passes == ours.forward_passes  # the same guesses, checked the same way


@pytest.mark.parametrize("which", ["bundled", "tiny"])
@pytest.mark.parametrize("k", [2, 4])
def test_assisted_generation_is_the_speculative_loop_with_a_model_draft(request, which, k):
    model, tok = request.getfixturevalue(which)
    small = first_layers(model, 1)
    small.generation_config.num_assistant_tokens = k
    small.generation_config.num_assistant_tokens_schedule = "constant"
    small.generation_config.assistant_confidence_threshold = 0.0
    for prompt in PROMPTS[:3]:
        greedy = generate_stepwise(model, tok, prompt, 20).new_ids
        theirs, passes = count_passes(
            model, lambda p=prompt: generate(model, tok, p, 20, assistant_model=small)
        )
        ours = speculative_greedy(model, tok, prompt, 20, draft=ModelDraft(small, tok), k=k)
        assert theirs == ours.new_ids == greedy
        assert passes == ours.forward_passes


def test_prompt_lookup_saves_passes_on_the_bundled_models_repetitive_text(bundled):
    model, tok = bundled
    _, passes = count_passes(
        model, lambda: generate(model, tok, "First Citizen:\n", 40, prompt_lookup_num_tokens=4)
    )
    assert passes < 40


def test_first_layers_copies_the_models_own_weights(bundled):
    model, _ = bundled
    small = first_layers(model, 1)
    assert small.config.n_layer == 1 and model.config.n_layer == 4  # the model is untouched
    assert torch.equal(
        small.transformer.h[0].mlp.c_fc.weight, model.transformer.h[0].mlp.c_fc.weight
    )
    assert torch.equal(small.lm_head.weight, model.lm_head.weight)
    assert not small.training
    full = first_layers(model, model.config.n_layer)
    x = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        assert torch.equal(full(x).logits, model(x).logits)  # all layers: the model itself


def test_lookup_rule():
    draft = PromptLookupDraft(10, max_ngram=2)
    assert draft.propose([1, 2, 3, 4, 1, 2], 3) == [3, 4, 1]  # the pair (1, 2) seen before
    assert draft.propose([5, 2, 9, 1, 2], 2) == [9, 1]  # no earlier (1, 2): the last token 2
    assert draft.propose([1, 2, 3], 2) == []  # nothing seen before: no proposal
    assert draft.propose([1, 2, 1, 2, 1, 2], 10) == [1, 2, 1, 2]  # earliest match, up to the end


def test_bad_input(bundled):
    model, tok = bundled
    with pytest.raises(ValueError, match="n_layer"):
        first_layers(model, 0)
    with pytest.raises(ValueError, match="n_layer"):
        first_layers(model, 5)
    with pytest.raises(TypeError, match="model"):
        first_layers(tok, 1)
    with pytest.raises(ValueError, match="max_ngram"):
        PromptLookupDraft(10, max_ngram=0)
    with pytest.raises(ValueError, match="k"):
        PromptLookupDraft(10).propose([1, 2], 0)
    with pytest.raises(ValueError, match="ids"):
        PromptLookupDraft(10).propose([1, 20], 2)


@pytest.mark.parametrize("which", ["bundled", "tiny"])
def test_the_assistants_own_passes_are_counted_alike(request, which):
    model, tok = request.getfixturevalue(which)
    small = first_layers(model, 1)
    small.generation_config.num_assistant_tokens = 4
    small.generation_config.num_assistant_tokens_schedule = "constant"
    small.generation_config.assistant_confidence_threshold = 0.0
    prompt, n = "First Citizen:\n", 40 if which == "bundled" else 20  # the tiny window is short
    theirs, (passes, assistant_passes) = count_passes_each(
        [model, small], lambda: generate(model, tok, prompt, n, assistant_model=small)
    )
    draft = ModelDraft(small, tok)
    ours = speculative_greedy(model, tok, prompt, n, draft=draft, k=4)
    assert theirs == ours.new_ids
    assert (passes, assistant_passes) == (ours.forward_passes, draft.passes)
    if which == "bundled":  # the notebook's claim: counted in blocks, this draft costs more
        blocks = passes * model.config.n_layer + assistant_passes * small.config.n_layer
        assert blocks > n * model.config.n_layer


def test_count_passes_each_bad_input(bundled):
    model, tok = bundled
    with pytest.raises(TypeError, match="models"):
        count_passes_each(model, lambda: None)
    with pytest.raises(TypeError, match="models"):
        count_passes_each([], lambda: None)
    with pytest.raises(TypeError, match="model"):
        count_passes_each([tok], lambda: None)
    assert count_passes(model, lambda: 7) == (7, 0)
