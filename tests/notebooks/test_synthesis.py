"""The facts notebook 07 joins into the whole answer, checked against the models directly.

- training: one forward pass gives the same next-token logits as one pass per prefix;
- generation: changing token t changes the predictions from position t on, never before it;
- the rough count (weights only, 2 FLOPs per parameter per token, 4 bytes per parameter): a decode
  step does ~0.5 FLOPs per byte, a training pass over T tokens ~T/2.
"""

import pytest
import torch

PROMPTS = [
    "ROMEO:\nBut soft, what light through yonder window breaks?",
    "模型一次生成一个词元。",
    "O",
]


def ids_of(tokenizer, text, window):
    return tokenizer(text, return_tensors="pt")["input_ids"][:, :window]  # (1, T)


def params_by_hand(cfg):
    """GPT-2's parameter count from its config; the output layer shares the token embedding."""
    d, inner = cfg.n_embd, cfg.n_inner or 4 * cfg.n_embd
    per_layer = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * inner + inner) + (inner * d + d)
    return cfg.vocab_size * d + cfg.n_positions * d + cfg.n_layer * per_layer + 2 * d


def flops_per_byte(n_params, tokens_per_pass, bytes_per_param=4):
    return (2 * n_params * tokens_per_pass) / (bytes_per_param * n_params)


@pytest.fixture(params=["bundled", "tiny"])
def model_and_tokenizer(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("text", PROMPTS)
def test_one_pass_equals_one_pass_per_prefix(model_and_tokenizer, text):
    model, tokenizer = model_and_tokenizer
    ids = ids_of(tokenizer, text, model.config.n_positions)
    with torch.no_grad():
        parallel = model(ids).logits[0]  # (T, V)
        stepwise = torch.stack([model(ids[:, : t + 1]).logits[0, -1] for t in range(ids.shape[1])])
    assert parallel.shape == stepwise.shape == (ids.shape[1], model.config.vocab_size)
    assert torch.allclose(parallel, stepwise, atol=1e-4)


@pytest.mark.parametrize("text", PROMPTS[:2])
def test_changing_token_t_changes_the_predictions_from_t_on_only(model_and_tokenizer, text):
    model, tokenizer = model_and_tokenizer
    ids = ids_of(tokenizer, text, model.config.n_positions)
    T = ids.shape[1]
    for k in (1, T // 2, T - 1):
        changed = ids.clone()
        changed[0, k] = (ids[0, k] + 1) % model.config.vocab_size
        with torch.no_grad():
            moved = (model(changed).logits[0] - model(ids).logits[0]).abs().amax(-1)  # (T,)
        assert moved[:k].max() < 1e-5, f"a position before {k} saw the change"
        assert moved[k] > 1e-4  # the prediction right after the changed token (for t + 1) moved


def test_generation_step_after_a_forced_token_changes_and_earlier_ones_do_not(bundled):
    model, tokenizer = bundled
    prompt = tokenizer("ROMEO:\n", return_tensors="pt")["input_ids"]

    @torch.no_grad()
    def dists(forced):
        seq, out = prompt, []
        for step in range(8):
            probs = model(seq).logits[0, -1].softmax(-1)
            out.append(probs)
            token = forced.get(step, int(probs.argmax()))
            seq = torch.cat([seq, torch.tensor([[token]])], dim=1)
        return torch.stack(out)

    base = dists({})
    k = 3
    forced = dists({k: int(base[k].topk(2).indices[1])})
    change = (forced - base).abs().amax(-1)
    assert change[: k + 1].max() == 0
    assert change[k + 1 :].min() > 0


def test_parameters_by_hand_match_the_models(bundled, tiny):
    for model, _ in (bundled, tiny):
        assert params_by_hand(model.config) == sum(p.numel() for p in model.parameters())


def test_rough_flops_per_byte_decode_half_training_t_over_two(bundled):
    model, _ = bundled
    n = params_by_hand(model.config)
    assert flops_per_byte(n, 1) == pytest.approx(0.5)
    for T in (16, 256):
        assert flops_per_byte(n, T) == pytest.approx(T / 2)
    assert flops_per_byte(n, 1, bytes_per_param=2) == pytest.approx(1.0)  # 16-bit weights
