"""helpers.beam_search == model.generate(num_beams=...), on the bundled and a tiny random GPT-2."""

import pytest
import torch

from helpers.beam_search import beam_search, sequence_log_prob
from helpers.generation import generate_stepwise
from helpers.timing import count_positions

PROMPTS = ["ROMEO:\nBut soft, what light", "KING:\nMy", "模型", "O"]
SETTINGS = [(2, 1.0, False), (4, 1.0, False), (4, 0.0, "never"), (3, 2.0, True), (3, -1.0, False)]


def library(model, ids, n, **kw):
    out = model.generate(torch.tensor([ids]), max_new_tokens=n, do_sample=False, **kw)
    return out[0, len(ids) :].tolist()


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize(("num_beams", "length_penalty", "early_stopping"), SETTINGS)
def test_beam_search_equals_generate(bundled, prompt, num_beams, length_penalty, early_stopping):
    model, tok = bundled
    ids = tok(prompt)["input_ids"]
    kw = {"length_penalty": length_penalty, "early_stopping": early_stopping}
    for eos in (tok.eos_token_id, tok("\n")["input_ids"][-1]):  # the newline: texts do end
        mine = beam_search(model, ids, num_beams, 20, eos_token_id=eos, **kw)
        assert mine.new_ids == library(model, ids, 20, num_beams=num_beams, eos_token_id=eos, **kw)


@pytest.mark.parametrize("num_beams", [1, 3])
def test_beam_search_takes_one_batched_pass_per_step(bundled, num_beams):
    """Notebook 02, exercise 2: the beams go through the model together, one pass per new
    token (as many passes as greedy), each pass num_beams rows wide; generate does the same."""
    model, tok = bundled
    ids = tok("ROMEO:\n")["input_ids"]
    rows = []  # the batch rows of every forward pass

    def record(module, args, kwargs):
        rows.append(int(kwargs.get("input_ids", args[0] if args else None).shape[0]))

    hook = model.register_forward_pre_hook(record, with_kwargs=True)
    try:
        for run in (
            lambda: beam_search(model, ids, num_beams, 6),
            lambda: library(model, ids, 6, num_beams=num_beams, eos_token_id=None),
        ):
            rows.clear()
            with count_positions(model) as fed:
                run()
            assert len(fed) == 6 and rows == [num_beams] * 6
    finally:
        hook.remove()


@pytest.mark.parametrize("num_beams", [2, 3])
def test_beam_search_equals_generate_on_a_random_model_that_ends_texts(tiny, num_beams):
    model, tok = tiny
    ids = tok("To be, or not")["input_ids"]
    common = generate_stepwise(model, tok, "To be, or not", 6).new_ids[2]  # a token it writes
    mine = beam_search(model, ids, num_beams, 12, eos_token_id=common)
    assert mine.new_ids == library(model, ids, 12, num_beams=num_beams, eos_token_id=common)
    assert mine.finished and len(mine.finished) <= num_beams


def test_one_beam_is_greedy_and_beams_score_what_they_say(bundled):
    model, tok = bundled
    prompt = "ROMEO:\nBut soft, what light"
    ids = tok(prompt)["input_ids"]
    greedy = generate_stepwise(model, tok, prompt, 30).new_ids
    assert beam_search(model, ids, 1, 30, eos_token_id=0).new_ids == greedy
    beam = beam_search(model, ids, 4, 40, eos_token_id=0)
    assert abs(sequence_log_prob(model, ids, beam.new_ids) - beam.log_prob) < 1e-3
    # notebook 08's claims about the bundled model, over its six prompts: beam search finds a
    # likelier text for every prompt, greedy's and beam search's texts both use at most 3/4 of the
    # distinct tokens of sampled text (temperature 1, seed 0), and which is duller depends on
    # the prompt
    distinct = {"greedy": 0, "beam": 0, "sampled": 0}
    beam_duller = []  # per prompt: does beam search use fewer distinct tokens than greedy?
    for p in [
        prompt,
        "KING:\nMy",
        "First Citizen:\nWe are",
        "To be, or not to be",
        "JULIET:\nO",
        "O",
    ]:
        p_ids = tok(p)["input_ids"]
        greedy40 = generate_stepwise(model, tok, p, 40).new_ids
        beam40 = beam_search(model, p_ids, 4, 40, eos_token_id=0)
        assert beam40.log_prob > sequence_log_prob(model, p_ids, greedy40), p
        distinct["greedy"] += len(set(greedy40))
        distinct["beam"] += len(set(beam40.new_ids))
        if len(set(beam40.new_ids)) != len(set(greedy40)):
            beam_duller.append(len(set(beam40.new_ids)) < len(set(greedy40)))
        sampled40 = generate_stepwise(model, tok, p, 40, strategy="sample", seed=0).new_ids
        distinct["sampled"] += len(set(sampled40))
    assert max(distinct["greedy"], distinct["beam"]) <= 0.75 * distinct["sampled"]
    assert True in beam_duller and False in beam_duller  # which is duller depends on the prompt


def test_the_first_steps_are_the_top_pairs(bundled):
    model, tok = bundled
    ids = tok("KING:\nMy")["input_ids"]
    result = beam_search(model, ids, 3, 5)
    with torch.no_grad():
        logp = model(torch.tensor([ids])).logits[0, -1].float().log_softmax(-1)
    top = torch.topk(logp, 3)
    assert [b for b, _ in result.steps[0]] == [[t] for t in top.indices.tolist()]


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"num_beams": 0}, ValueError, "num_beams"),
        ({"num_beams": 2.5}, TypeError, "num_beams"),
        ({"max_new_tokens": 0}, ValueError, "max_new_tokens"),
        ({"max_new_tokens": 300}, ValueError, "context window"),
        ({"length_penalty": "long"}, TypeError, "length_penalty"),
        ({"early_stopping": "soon"}, ValueError, "early_stopping"),
        ({"early_stopping": 1}, ValueError, "early_stopping"),
        ({"eos_token_id": 99999}, ValueError, "eos_token_id"),
    ],
)
def test_bad_input(bundled, kwargs, exc, match):
    model, tok = bundled
    with pytest.raises(exc, match=match):
        beam_search(model, tok("O")["input_ids"], **{"num_beams": 2, "max_new_tokens": 5, **kwargs})
    with pytest.raises(ValueError, match="ids"):
        beam_search(model, [], 2, 5)
    with pytest.raises(TypeError, match="model"):
        beam_search(tok, [1, 2], 2, 5)
    with pytest.raises(ValueError, match="new_ids"):
        sequence_log_prob(model, [1, 2], [])


def test_the_ending_rules_matter_on_the_bundled_model(bundled):
    """The notebook's claims: with EOS the bundled model never ends a text early; with the newline
    and length_penalty=2.0 the early_stopping values end a text at different lengths; one
    beam runs past greedy's stop with early_stopping="never"."""
    model, tok = bundled
    ids = tok("ROMEO:\nBut soft, what light")["input_ids"]
    newline = tok("\n")["input_ids"][-1]
    result = beam_search(model, ids, 3, 40, eos_token_id=tok.eos_token_id)
    assert {len(t) for _, t in result.finished} == {40}
    lengths = {
        len(
            beam_search(
                model, ids, 3, 25, eos_token_id=newline, length_penalty=2.0, early_stopping=es
            ).new_ids
        )
        for es in (False, True, "never")
    }
    assert len(lengths) >= 2
    greedy_line = library(model, ids, 30, eos_token_id=newline)
    one = beam_search(
        model, ids, 1, 30, eos_token_id=newline, length_penalty=2.0, early_stopping="never"
    )
    assert greedy_line[-1] == newline and len(one.new_ids) > len(greedy_line)
    assert beam_search(model, ids, 1, 30, eos_token_id=newline).new_ids == greedy_line


# --------------------------------------------------------------------------- the typical set
@pytest.mark.parametrize("which", ["bundled", "tiny"])
def test_token_log_probs_sum_to_the_sequence_log_prob_and_bound_the_entropy(request, which):
    from helpers.beam_search import token_log_probs

    model, tok = request.getfixturevalue(which)
    for prompt in ["ROMEO:\n", "模型", "O"]:
        ids = tok(prompt)["input_ids"]
        new = generate_stepwise(model, tok, prompt, 12, strategy="sample", seed=1).new_ids
        lp, h = token_log_probs(model, ids, new)
        assert lp.shape == h.shape == (len(new),)
        assert abs(float(lp.sum()) - sequence_log_prob(model, ids, new)) < 1e-3
        assert (lp <= 0).all() and (h >= 0).all()
        assert (h <= torch.log(torch.tensor(float(model.config.vocab_size))) + 1e-4).all()
    with pytest.raises(ValueError, match="context window"):
        token_log_probs(model, [1] * model.config.n_positions, [1])


def test_a_sampled_text_is_typical_and_greedys_and_the_real_text_are_not(bundled):
    """Notebook 08, section 2: after a line of the held-out play, 40 tokens sampled at
    temperature 1 (5 seeds) have a log-probability per token within 0.5 nats of minus the
    entropy; greedy's and beam search's are over 1 nat higher, with lower entropy; the play's own
    next 40 tokens are less likely per token than all three."""
    from helpers.beam_search import token_log_probs
    from helpers.corpus import HELD_OUT_PLAY, load_play

    model, tok = bundled
    play, line = load_play(HELD_OUT_PLAY), "Our revels now are ended."
    prompt = "PROSPERO:\n" + line
    ids = tok(prompt)["input_ids"]
    real = tok(play[play.index(line) + len(line) :][:400])["input_ids"][:40]
    runs = {
        "greedy": [generate_stepwise(model, tok, prompt, 40).new_ids],
        "beam": [beam_search(model, ids, 4, 40, eos_token_id=tok.eos_token_id).new_ids],
        "sampled": [
            generate_stepwise(model, tok, prompt, 40, strategy="sample", seed=s).new_ids
            for s in range(5)
        ],
        "real": [real],
    }
    lp, h = {}, {}
    for name, texts in runs.items():
        scored = [token_log_probs(model, ids, t) for t in texts]
        lp[name] = float(torch.cat([s[0] for s in scored]).mean())
        h[name] = float(torch.cat([s[1] for s in scored]).mean())
    assert abs(lp["sampled"] + h["sampled"]) < 0.5
    assert min(lp["greedy"], lp["beam"]) > lp["sampled"] + 1
    assert max(h["greedy"], h["beam"]) < h["sampled"]
    assert lp["real"] < min(lp["greedy"], lp["beam"], lp["sampled"])
