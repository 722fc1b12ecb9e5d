"""helpers.step_internals: the stepper's cached passes, its cache counted, the filter pipeline."""

import pytest
import torch
from transformers import GenerationConfig

from helpers.attention import attention_weights
from helpers.cost import cache_shapes, cache_tensor_bytes
from helpers.step_internals import (
    CachedPasses,
    cache_info,
    filter_pipeline,
    pipeline_columns,
)

PROMPTS = ["To be, or not to be", "我爱你", "The"]  # a Chinese one, a single-token one


def full_pass(eager, ids):
    """The newest token's attention row (L, H, T) and logits (V,) of one uncached pass of the
    eager model (``eager``: the fixture's (model, tokenizer))."""
    model, x = eager[0], torch.tensor([ids])  # (1, T)
    with torch.no_grad():
        logits = model(x).logits[0, -1]
    return attention_weights(model, x)[:, 0, :, -1, :], logits


@pytest.mark.parametrize("prompt", PROMPTS)
def test_each_pass_runs_the_new_token_and_its_attention_is_the_full_passes_row(
    bundled, eager, prompt
):
    model, tok = bundled
    runner = CachedPasses(model)
    ids = tok(prompt)["input_ids"]
    first = runner.run(ids)
    assert first.fed == len(ids)  # the prompt: one pass over all its tokens (prefill)
    for _ in range(4):
        ids = [*ids, int(torch.argmax(runner.run(ids).logits))]
        record = runner.run(ids)
        assert record.fed == 1  # then one new token per step, the rest read from the cache
        row, logits = full_pass(eager, ids)
        assert record.attention.shape == row.shape == (4, 4, len(ids))
        torch.testing.assert_close(record.attention, row, atol=1e-5, rtol=0)
        torch.testing.assert_close(record.logits, logits, atol=1e-4, rtol=0)
        assert torch.allclose(record.attention.sum(-1), torch.ones(4, 4))  # each row sums to 1
    assert model.config._attn_implementation == "sdpa"  # eager only inside the passes


def test_a_shorter_or_other_text_crops_the_cache_to_the_shared_tokens(bundled, eager):
    model, tok = bundled
    runner = CachedPasses(model)
    ids = tok("ROMEO:\nBut soft, what light")["input_ids"]
    runner.run(ids + [5, 6, 7])
    back = runner.run(ids + [5])  # an Undo: the cache drops positions, runs the newest again
    assert back.fed == 1 and runner.cache.get_seq_length() == len(ids) + 1
    other = runner.run(ids + [9, 10])  # a forced token: shares the prompt only
    assert other.fed == 2 and runner.cached_ids == tuple(ids + [9, 10])
    row, _ = full_pass(eager, ids + [9, 10])
    torch.testing.assert_close(other.attention, row, atol=1e-5, rtol=0)
    fresh = runner.run(tok("KING:")["input_ids"])  # a new prompt: nothing shared
    assert fresh.fed == len(tok("KING:")["input_ids"])


def test_beams_take_their_parents_rows_and_guesses_are_scored_in_the_same_pass(bundled, eager):
    """Beam mode: one batched pass, each beam reusing the cached row of the beam it continues;
    speculative mode: the text's newest token and the draft's guesses in one pass."""
    model, tok = bundled
    runner = CachedPasses(model)
    ids = tuple(tok("ROMEO:\nBut soft")["input_ids"])
    first = runner.run_rows([ids + (5,), ids + (6,), ids + (7,)])  # three beams
    assert first.fed == len(ids) + 1 and first.scores.shape == (3, 1, 4096)
    beams = [ids + (7, 9), ids + (5, 9), ids + (5, 8)]  # parents 2, 0, 0: best first
    record = runner.run_rows(beams)
    assert record.fed == 1 and runner.cached_rows == tuple(beams)  # one new token per beam
    with torch.no_grad():
        full = model(torch.tensor(beams)).logits[:, -1]  # (3, V) an uncached batched pass
    torch.testing.assert_close(record.scores[:, 0], full, atol=1e-4, rtol=0)
    row, _ = full_pass(eager, beams[0])  # the panes show beam 0, the best
    torch.testing.assert_close(record.attention, row, atol=1e-5, rtol=0)
    c = model.config
    per_position = c.n_layer * 2 * c.n_embd * 4  # float32
    assert record.cache_bytes == len(beams[0]) * per_position  # beam 0's part of the cache
    assert cache_tensor_bytes(runner.cache) == 3 * record.cache_bytes  # every beam's row
    best = runner.run(beams[1])  # the search is over: one text, its row, nothing recomputed
    assert best.fed == 1 and runner.cache.layers[0].keys.shape[0] == 1

    guesses = (11, 12, 13)
    spec = runner.run(ids + (5, 8), guesses)  # shares ids + (5,) with beams[1]
    assert spec.fed == 1 + len(guesses) and spec.cache_positions == len(ids) + 2 + 3
    with torch.no_grad():
        full = model(torch.tensor([ids + (5, 8) + guesses])).logits[0, -4:]  # (4, V)
    torch.testing.assert_close(spec.scores[0], full, atol=1e-4, rtol=0)
    row, logits = full_pass(eager, ids + (5, 8))  # the guesses after it change nothing
    torch.testing.assert_close(spec.attention, row, atol=1e-5, rtol=0)
    torch.testing.assert_close(spec.logits, logits, atol=1e-4, rtol=0)
    assert spec.cache_bytes == (len(ids) + 2) * per_position  # the text's part, not the guesses'
    with pytest.raises(ValueError, match=f"texts must all be {len(ids) + 2} tokens long"):
        runner.run_rows([ids + (5, 8), ids])
    with pytest.raises(ValueError, match="guesses follow one text only"):
        runner.run_rows([ids, ids], guesses)
    with pytest.raises(ValueError, match="texts is empty"):
        runner.run_rows([])
    with pytest.raises(ValueError, match=r"len\(ids\) \+ len\(guesses\)=260 is out of range"):
        runner.run(ids, [1] * (260 - len(ids)))


def test_the_counted_cache_is_the_real_one(bundled):
    model, tok = bundled
    runner = CachedPasses(model)
    ids = tok("ROMEO:\nBut soft")["input_ids"]
    for token in (5, 6, 7):
        ids = [*ids, token]
        record = runner.run(ids)
        info = cache_info(model, ids)
        real = runner.cache  # the past_key_values the pass returned
        assert info.positions == record.cache_positions == real.get_seq_length() == len(ids)
        assert info.bytes == record.cache_bytes == cache_tensor_bytes(real)
        c = model.config
        shape = (1, c.n_head, len(ids), c.n_embd // c.n_head)  # (B, heads, T, head size)
        assert cache_shapes(real) == [(shape, shape)] * c.n_layer
        assert info.bytes_per_position == c.n_layer * 2 * c.n_embd * 4  # float32
        assert info.share == len(ids) / 256 and info.next_reads == len(ids)
        assert info.dropped is None


def test_a_full_window_says_what_sliding_would_drop(tiny):
    model, tok = tiny  # a 32-token window
    ids = list(range(10, 42))  # 32 tokens: the window is full, one more token is predicted
    runner = CachedPasses(model)
    record = runner.run(ids)
    info = cache_info(model, ids)
    assert record.cache_positions == info.positions == 32 and info.share == 1.0
    assert info.next_reads is None and info.dropped == 10  # the oldest token goes first
    over = cache_info(model, ids + [3])  # 33 tokens: the stepper stops here
    assert over.positions == 32 and over.dropped == 10 and over.next_reads is None
    with pytest.raises(ValueError, match=r"len\(ids\)=33 is out of range: .*1\.\.32"):
        runner.run(ids + [3])


@pytest.mark.parametrize(
    "settings",
    [
        {"temperature": 0.8, "top_k": 5, "top_p": 0.9, "min_p": 0.05, "penalty": 1.3},
        {"temperature": 1.7, "top_p": 0.5},
        {"temperature": 0.5, "top_k": 40, "penalty": 0.8},
        {"temperature": 1.0, "min_p": 0.2},
    ],
)
def test_every_stage_equals_transformers_processors_in_their_order(bundled, settings):
    model, tok = bundled
    ids = tok("ROMEO:\nBut soft, what light is this, what light")["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0, -1]  # (V,)
    stages = filter_pipeline(logits, ids, **settings)
    config = GenerationConfig(
        do_sample=True,
        temperature=settings["temperature"],
        top_k=settings.get("top_k", 0),  # 0: off, as transformers reads it
        top_p=settings.get("top_p", 1.0),
        min_p=settings.get("min_p"),
        repetition_penalty=settings.get("penalty", 1.0),
    )
    # the order generate() uses, asked of the installed transformers
    processors = model._get_logits_processor(config, input_ids_seq_length=len(ids), device="cpu")
    assert stages[0] == ("softmax", logits)
    mine = stages[1:]
    if settings["temperature"] == 1.0:  # transformers leaves out a temperature of 1
        mine = [s for s in mine if s[0] != "temperature 1"]
    assert len(mine) == len(processors)
    scores, input_ids = logits[None].clone(), torch.tensor([ids])
    for (label, stage), processor in zip(mine, processors, strict=True):
        scores = processor(input_ids, scores)
        name = type(processor).__name__.removesuffix("LogitsWarper").removesuffix("LogitsProcessor")
        assert (
            name.lower()
            .replace("repetitionpenalty", "repetition")
            .startswith(label.split()[0].replace("-", ""))
        ), (label, name)
        assert torch.equal(torch.isinf(scores[0]), torch.isinf(stage)), label  # the same cuts
        torch.testing.assert_close(stage.softmax(-1), scores[0].softmax(-1), atol=1e-6, rtol=0)


def test_pipeline_columns_follow_the_candidates(bundled):
    model, tok = bundled
    ids = tok("To be, or not to be")["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0, -1]
    top = torch.topk(logits, 6).indices.tolist()
    stages = filter_pipeline(logits, temperature=0.7, top_k=4, top_p=0.8)
    columns = pipeline_columns(stages, top)
    assert [c.label for c in columns] == ["softmax", "temperature 0.7", "top-k 4", "top-p 0.8"]
    assert columns[0].probs == tuple(logits.softmax(-1)[top].tolist())
    assert [c.kept for c in columns][:3] == [logits.numel(), logits.numel(), 4]
    assert columns[2].probs[4:] == (0.0, 0.0)  # top-k 4 cuts the 5th and 6th
    assert columns[3].kept <= 4 and sum(p > 0 for p in columns[3].probs) == columns[3].kept
    off = filter_pipeline(logits, top_p=1.0)  # off stages are left out, temperature stays
    assert [label for label, _ in off] == ["softmax", "temperature 1"]


def test_bad_input_names_the_value_and_the_range(bundled):
    model, tok = bundled
    runner = CachedPasses(model)
    with pytest.raises(ValueError, match="ids is empty"):
        runner.run([])
    with pytest.raises(ValueError, match=r"ids must hold token ids 0\.\.4095; got 5000"):
        runner.run([1, 5000])
    with pytest.raises(ValueError, match=r"len\(ids\)=300 is out of range"):
        cache_info(model, [1] * 300)
    logits = torch.zeros(10)
    with pytest.raises(ValueError, match="temperature=0"):
        filter_pipeline(logits, temperature=0)
    with pytest.raises(ValueError, match=r"top_k=11 is out of range"):
        filter_pipeline(logits, top_k=11)
    with pytest.raises(ValueError, match="min_p=1.5"):
        filter_pipeline(logits, min_p=1.5)
    with pytest.raises(ValueError, match="penalty=-1"):
        filter_pipeline(logits, [1], penalty=-1)
    with pytest.raises(TypeError, match="logits must be a torch tensor"):
        filter_pipeline([0.0, 1.0])
    with pytest.raises(ValueError, match="stages is empty"):
        pipeline_columns([], [1])
    with pytest.raises(ValueError, match=r"token_ids must hold token ids 0\.\.9; got 10"):
        pipeline_columns(filter_pipeline(logits), [10])
    with pytest.raises(TypeError, match="model must be"):
        CachedPasses("gpt2")
