"""Notebook 08's stopping and batching facts: generate stops at EOS and pads finished rows; pad =
eos labels masked by id lose every EOS; left-padded batches == one prompt at a time."""

import pytest
import torch

from helpers.generation import decode_loop
from helpers.masks import pad_prompts, position_ids_from_mask
from helpers.training import IGNORE_INDEX, labelled_batch

BATCH_PROMPTS = ["ROMEO:\nBut soft, what light", "KING:\nMy", "JULIET:\nO"]


def alone(model, tok, prompt, n, **kw):
    ids = tok(prompt, return_tensors="pt")["input_ids"]
    return model.generate(ids, max_new_tokens=n, do_sample=False, **kw)[0, ids.size(1) :].tolist()


@pytest.mark.parametrize("which", ["bundled", "tiny"])
def test_a_stop_token_stops_the_hand_loop_and_generate_alike(request, which):
    model, tok = request.getfixturevalue(which)
    newline = tok("\n")["input_ids"][-1]
    for prompt in BATCH_PROMPTS:
        ids = tok(prompt)["input_ids"]
        mine = []
        for step in decode_loop(model, ids, 20):
            mine.append(step.token)
            if step.token == newline:
                break
        assert mine == alone(model, tok, prompt, 20, eos_token_id=newline)


def test_a_batch_pads_its_finished_rows(bundled):
    model, tok = bundled
    newline, pad = tok("\n")["input_ids"][-1], tok.pad_token_id
    batch = pad_prompts(tok, BATCH_PROMPTS)
    new = model.generate(**batch, max_new_tokens=30, eos_token_id=newline, do_sample=False)
    new = new[:, batch["input_ids"].size(1) :].tolist()
    ends = []
    for row, prompt in zip(new, BATCH_PROMPTS, strict=True):
        end = row.index(newline) + 1
        ends.append(end)
        assert row[:end] == alone(model, tok, prompt, 30, eos_token_id=newline)
        assert all(t == pad for t in row[end:])
    assert len(new[0]) == max(ends) and len(set(ends)) > 1  # runs until the last row stops


def test_masking_labels_by_pad_id_loses_every_eos(bundled):
    _, tok = bundled
    eos, pad = tok.eos_token_id, tok.pad_token_id
    assert pad == eos
    seqs = [tok(t)["input_ids"] + [eos] for t in ["Good night.", "Parting is such sweet sorrow."]]
    right = labelled_batch(seqs, pad)
    by_id = right["input_ids"].masked_fill(right["input_ids"] == pad, IGNORE_INDEX)
    assert int((right["labels"] == eos).sum()) == 2 and int((by_id == eos).sum()) == 0


@pytest.mark.parametrize("which", ["bundled", "tiny"])
def test_left_padded_batch_equals_one_prompt_at_a_time(request, which):
    model, tok = request.getfixturevalue(which)
    batch = pad_prompts(tok, BATCH_PROMPTS, side="left")
    out = model.generate(**batch, max_new_tokens=12, do_sample=False)
    together = out[:, batch["input_ids"].size(1) :].tolist()
    assert together == [alone(model, tok, p, 12) for p in BATCH_PROMPTS]


def test_generate_derives_position_ids_from_the_mask(bundled):
    model, tok = bundled
    batch = pad_prompts(tok, BATCH_PROMPTS, side="left")
    caught = []
    handle = model.register_forward_pre_hook(
        lambda m, a, kw: caught.append(kw.get("position_ids")), with_kwargs=True
    )
    try:
        model.generate(**batch, max_new_tokens=2, do_sample=False)
    finally:
        handle.remove()
    mask = batch["attention_mask"]
    assert torch.equal(caught[0], position_ids_from_mask(mask))
    assert caught[1][:, 0].tolist() == (mask.sum(-1)).tolist()  # the next position of each row


def test_right_padding_continues_from_a_pad(bundled):
    model, tok = bundled
    batch = pad_prompts(tok, BATCH_PROMPTS, side="right")
    out = model.generate(**batch, max_new_tokens=12, do_sample=False)
    new = out[:, batch["input_ids"].size(1) :].tolist()
    short = [i for i, m in enumerate(batch["attention_mask"][:, -1].tolist()) if m == 0]
    assert short and all(batch["input_ids"][i, -1] == tok.pad_token_id for i in short)
    assert all(new[i] != alone(model, tok, BATCH_PROMPTS[i], 12) for i in short)
    # notebook 08: a short row can part from its text alone at its very first new token
    assert any(new[i][0] != alone(model, tok, BATCH_PROMPTS[i], 12)[0] for i in short)


def test_right_padded_rows_count_positions_from_the_pad(bundled):
    model, tok = bundled
    batch = pad_prompts(tok, BATCH_PROMPTS, side="right")
    caught = []

    def catch(module, args, kwargs):
        caught.append(kwargs.get("position_ids"))

    handle = model.register_forward_pre_hook(catch, with_kwargs=True)
    try:
        model.generate(**batch, max_new_tokens=4, do_sample=False)
    finally:
        handle.remove()
    short = [i for i, m in enumerate(batch["attention_mask"][:, -1].tolist()) if m == 0]
    for i in short:  # the pad at position 0 predicts the first new token; then 1, 2, 3
        assert [int(c[i, -1]) for c in caught[:4]] == [0, 1, 2, 3]


def test_the_bundled_model_almost_never_writes_eos(bundled):
    model, tok = bundled
    eos = tok.eos_token_id
    for prompt in BATCH_PROMPTS:
        ids = tok(prompt)["input_ids"]
        new = alone(model, tok, prompt, 30)
        with torch.no_grad():
            logits = model(torch.tensor([ids + new])).logits[0, len(ids) - 1 :]
        assert float(logits.softmax(-1)[:, eos].max()) < 1e-3


def test_labels_masked_by_id_teach_no_eos_and_by_mask_teach_it(bundled):
    """Notebook 08, section 1: a copy of the bundled model fine-tuned 6 AdamW steps (8 lines of
    the held-out play each, every line ending with EOS) learns to end a line when its labels are
    masked by position (p(EOS) at the end > 0.5 and > 10x inside), and never learns it when they
    are masked by id (p(EOS) at the end < 0.001). Seeds 1 and 2 (the notebook runs seed 0)."""
    import copy

    from helpers.corpus import HELD_OUT_PLAY, load_play

    model, tok = bundled
    eos = pad = tok.eos_token_id
    lines = [ln for ln in load_play(HELD_OUT_PLAY).split("\n") if ln.endswith((".", "!", "?"))]
    short = [s for s in (tok(ln)["input_ids"] + [eos] for ln in lines) if len(s) <= 24]
    train, held_out = short[:192], short[192:256]

    def p_eos_after_fine_tuning(by_id, seed):
        tuned = copy.deepcopy(model)
        opt = torch.optim.AdamW(tuned.parameters(), lr=3e-3)
        pick = torch.Generator().manual_seed(seed)
        for _ in range(6):
            rows = torch.randint(0, len(train), (8,), generator=pick).tolist()
            b = labelled_batch([train[i] for i in rows], pad)
            by_pad_id = b["input_ids"].masked_fill(b["input_ids"] == pad, IGNORE_INDEX)
            labels = by_pad_id if by_id else b["labels"]
            loss = tuned(
                input_ids=b["input_ids"], attention_mask=b["attention_mask"], labels=labels
            ).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
        b = labelled_batch(held_out, pad)
        with torch.no_grad():
            p = tuned(**{k: b[k] for k in ("input_ids", "attention_mask")}).logits.softmax(-1)
        n = b["attention_mask"].sum(1).tolist()
        end = torch.stack([p[i, k - 2, eos] for i, k in enumerate(n)]).mean()
        inside = torch.cat([p[i, : k - 2, eos] for i, k in enumerate(n)]).mean()
        return float(end), float(inside)

    for seed in (1, 2):
        end, inside = p_eos_after_fine_tuning(by_id=False, seed=seed)
        assert end > 0.5 and end > 10 * inside
        end, _ = p_eos_after_fine_tuning(by_id=True, seed=seed)
        assert end < 1e-3
