"""helpers.model_files: what a model folder must hold (GPT-2, safetensors, no code)."""

import shutil

import pytest
import torch

from helpers.models import (
    BUNDLED_MODEL_DIR,
    load_model,
)


def test_folder_without_weights(tmp_path):
    shutil.copy(BUNDLED_MODEL_DIR / "config.json", tmp_path / "config.json")
    (tmp_path / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(OSError, match=r"no \*\.safetensors.*pickle"):
        load_model(tmp_path)


def test_corrupt_config(tmp_path):
    shutil.copytree(BUNDLED_MODEL_DIR, tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text("{ this is not json")
    with pytest.raises(OSError, match="not valid JSON"):
        load_model(tmp_path / "m")


def test_folder_without_config(tmp_path):
    with pytest.raises(OSError, match="no config.json"):
        load_model(tmp_path)


def test_a_folder_that_asks_to_run_code_is_refused_without_asking(tmp_path, bundled, monkeypatch):
    folder = saved_copy(tmp_path, bundled, auto_map={"AutoModelForCausalLM": "evil.Model"})
    ran = tmp_path / "ran"
    (folder / "evil.py").write_text(f"open({str(ran)!r}, 'w').write('ran')\n")
    monkeypatch.setattr("builtins.input", lambda *a: pytest.fail("load_model asked a question"))
    with pytest.raises(OSError, match="run its own Python code.*auto_map"):
        load_model(folder)
    assert not ran.exists()


def test_another_architecture_gets_a_short_message(tmp_path, bundled):
    folder = saved_copy(tmp_path, bundled, model_type="t5")
    with pytest.raises(ValueError, match="type 't5'; the course supports GPT-2") as err:
        load_model(folder)
    assert len(str(err.value)) < 250


def test_the_ngram_draft_is_not_a_model():
    from helpers.drafts import BUNDLED_DRAFT_DIR

    with pytest.raises(ValueError, match="n-gram draft"):
        load_model(BUNDLED_DRAFT_DIR)


def test_a_folder_without_tokenizer_files(tmp_path, bundled):
    folder = saved_copy(tmp_path, bundled)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink()
    with pytest.raises(OSError, match="no tokenizer files.*tokenizer.save_pretrained"):
        load_model(folder)


def test_a_truncated_weights_file_is_named(tmp_path, bundled):
    folder = saved_copy(tmp_path, bundled)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(OSError, match="'model.safetensors' in .* is damaged"):
        load_model(folder)


def test_a_tokenizer_larger_than_the_model_is_refused(tmp_path, bundled):
    folder = saved_copy(tmp_path, bundled)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    tok.add_tokens(["<extra-token-the-model-never-saw>"])
    tok.save_pretrained(folder)
    with pytest.raises(ValueError, match="4097 tokens but the model only 4096"):
        load_model(folder)


def test_a_weights_file_missing_one_matrix_is_refused_not_filled_at_random(tmp_path, bundled):
    folder = saved_copy(tmp_path, bundled)
    _edit_weights(folder, lambda t: t.pop("transformer.h.3.attn.c_attn.weight"))
    with pytest.raises(
        ValueError,
        match=r"missing from the weights file.*'transformer\.h\.3\.attn"
        r"\.c_attn\.weight'.*save_pretrained",
    ) as err:
        load_model(folder)
    assert str(folder) in str(err.value)


def test_an_untied_head_without_its_weights_is_refused(tmp_path, bundled):
    folder = saved_copy(tmp_path, bundled)
    _edit_config(folder, lambda c: c.update(tie_word_embeddings=False))
    with pytest.raises(ValueError, match=r"missing from the weights file.*'lm_head\.weight'"):
        load_model(folder)


def test_an_extra_tensor_the_model_has_no_place_for_is_refused(tmp_path, bundled):
    folder = saved_copy(tmp_path, bundled)
    _edit_weights(folder, lambda t: t.update({"transformer.h.9.mlp.c_fc.bias": torch.zeros(4)}))
    with pytest.raises(ValueError, match=r"not in the model.*'transformer\.h\.9\.mlp\.c_fc\.bias'"):
        load_model(folder)


@pytest.mark.parametrize(
    "edit, named",
    [
        (
            lambda c: c.update(vocab_size=2000),
            r"transformer\.wte\.weight is \[4096, 256\] in the "
            r"file, \[2000, 256\] by config\.json",
        ),
        (
            lambda c: c.pop("vocab_size"),
            r"transformer\.wte\.weight is \[4096, 256\] in the file, "
            r"\[50257, 256\]",
        ),  # GPT-2's default vocabulary
        (
            lambda c: c.update(n_positions=128),
            r"transformer\.wpe\.weight is \[256, 256\] in the "
            r"file, \[128, 256\]",
        ),
    ],
    ids=["vocab_size", "no vocab_size", "n_positions"],
)
def test_a_config_that_disagrees_with_the_weights_is_refused_with_the_shapes(
    tmp_path, bundled, edit, named
):
    folder = saved_copy(tmp_path, bundled)
    _edit_config(folder, edit)
    with pytest.raises(ValueError, match="of another shape: " + named):
        load_model(folder)


@pytest.mark.parametrize(
    "switch",
    [
        {"scale_attn_by_inverse_layer_idx": True},
        {"scale_attn_weights": False},
        {"add_cross_attention": True},
    ],
    ids=lambda d: next(iter(d)),
)
def test_a_config_the_hand_written_code_would_not_match_is_refused(tmp_path, bundled, switch):
    folder = saved_copy(tmp_path, bundled, **switch)
    (key,) = switch
    with pytest.raises(ValueError, match=rf"has {key}=.*GPT-2's is .*would then not match"):
        load_model(folder)


# --------------------------------------------------------------------------- folders that confuse
def saved_copy(tmp_path, bundled, **config_changes):
    """A copy of the bundled model's folder, its config.json changed as asked."""
    import json
    import shutil

    from helpers.models import BUNDLED_MODEL_DIR

    folder = tmp_path / "copy"
    shutil.copytree(BUNDLED_MODEL_DIR, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(config_changes)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


# ---------------------------------------------------------------------- folders that do not fit
def _edit_weights(folder, edit):
    from safetensors.torch import load_file, save_file

    tensors = load_file(folder / "model.safetensors")
    edit(tensors)
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})


def _edit_config(folder, edit):
    import json

    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))
