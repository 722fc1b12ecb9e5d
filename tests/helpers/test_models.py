"""helpers.models: the bundled model loads offline; bad names give clear errors."""

import copy
import shutil

import pytest
import torch

from helpers import models
from helpers.models import (
    BUNDLED_CONFIG,
    BUNDLED_MODEL_DIR,
    load_model,
    resolve_device,
    seed_everything,
    tiny_gpt2_config,
)


def test_the_bundled_configuration_is_written_once_and_true(bundled):
    model, _ = bundled
    for name, value in BUNDLED_CONFIG.items():  # what models/.../config.json says
        assert getattr(model.config, name) == value, name
    config = tiny_gpt2_config()
    assert {name: getattr(config, name) for name in BUNDLED_CONFIG} == BUNDLED_CONFIG
    small = tiny_gpt2_config(100, n_layer=1, n_embd=64)
    assert (small.vocab_size, small.n_layer, small.n_embd, small.n_head) == (100, 1, 64, 4)
    assert small.resid_pdrop == small.attn_pdrop == small.embd_pdrop == 0.0


def test_bundled_model_loads_in_eval_mode(bundled):
    model, tokenizer = bundled
    assert type(model).__name__ == "GPT2LMHeadModel"
    assert not model.training
    assert model.device.type == "cpu"
    assert model.config.vocab_size == len(tokenizer)
    assert tokenizer.pad_token is not None


def test_forward_pass_gives_batch_seq_vocab_logits(bundled):
    model, tokenizer = bundled
    ids = tokenizer(["To be, or not to be"], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logits = model(ids).logits
    assert logits.shape == (1, ids.size(1), model.config.vocab_size)
    probs = logits[0, -1].softmax(-1)
    assert torch.isclose(probs.sum(), torch.tensor(1.0), atol=1e-5)


def test_chinese_characters_become_several_byte_tokens(bundled):
    _, tokenizer = bundled
    for ch in "我爱你生成":
        ids = tokenizer(ch)["input_ids"]
        assert len(ids) >= 2, ch
        assert tokenizer.decode(ids) == ch


def test_environment_variable_switches_the_model(monkeypatch, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(BUNDLED_MODEL_DIR, copy)
    monkeypatch.setenv(models.MODEL_ENV_VAR, str(copy))
    model, _ = load_model()
    assert model.config.name_or_path == str(copy)


def test_missing_folder(tmp_path):
    with pytest.raises(OSError, match="does not exist"):
        load_model(str(tmp_path / "nowhere"))


@pytest.mark.parametrize("bad", [42, 3.5, ["gpt2"], b"gpt2"])
def test_name_must_be_a_string(bad):
    with pytest.raises(TypeError, match="name must be a str"):
        load_model(bad)


def test_empty_name():
    with pytest.raises(ValueError, match="empty"):
        load_model("  ")


def test_hub_id_offline_without_cache(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match="not in the local Hugging Face cache.*HF_HUB_OFFLINE"):
        load_model("gpt2-course-test-model-that-is-not-cached")


def test_hub_download_failure_says_what_to_do(monkeypatch):
    import transformers

    def fail(*args, local_files_only=False, **kwargs):
        raise (OSError("not cached") if local_files_only else ConnectionError("no network"))

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(transformers.PretrainedConfig, "get_config_dict", fail)
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", fail)
    with pytest.raises(OSError, match="could not load model 'gpt2'.*ConnectionError.*bundled"):
        load_model("gpt2")


def test_bad_attn_implementation():
    with pytest.raises(ValueError, match="attn_implementation='flash'"):
        load_model(None, attn_implementation="flash")


def test_eager_attention_returns_weights():
    model, tokenizer = load_model(None, "cpu", attn_implementation="eager")
    ids = tokenizer("Good morrow", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = model(ids, output_attentions=True)
    assert len(out.attentions) == model.config.n_layer
    assert out.attentions[0].shape == (1, model.config.n_head, ids.size(1), ids.size(1))


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", 7])
def test_bad_device(bad):
    with pytest.raises((ValueError, TypeError), match="device"):
        resolve_device(bad)


def test_cuda_when_unavailable(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")


def test_seed_everything_repeats_draws():
    g1 = seed_everything(3)
    a = torch.rand(4), torch.rand(4, generator=g1)
    g2 = seed_everything(3)
    b = torch.rand(4), torch.rand(4, generator=g2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.parametrize("bad,exc", [(-1, ValueError), (2**32, ValueError), ("1", TypeError)])
def test_seed_range(bad, exc):
    with pytest.raises(exc, match="seed"):
        seed_everything(bad)


def test_weights_stored_in_16_bits_load_as_float32(tmp_path, bundled):
    """A model file may store float16 weights (half the size); every notebook runs in float32."""
    model, tokenizer = bundled
    folder = tmp_path / "half"
    copy.deepcopy(model).half().save_pretrained(folder)  # the shared fixture stays float32
    tokenizer.save_pretrained(folder)
    loaded, _ = load_model(folder)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    ids = torch.tensor([tokenizer("To be, or not to be")["input_ids"]])
    with torch.no_grad():
        a, b = model(ids).logits, loaded(ids).logits
    assert (a - b).abs().max() < 0.05  # only float16's rounding of the weights differs


def test_a_blank_model_variable_is_named(monkeypatch):
    monkeypatch.setenv("GPT_COURSE_MODEL", "   ")
    with pytest.raises(ValueError, match=r"\$GPT_COURSE_MODEL is set but blank"):
        load_model()
    monkeypatch.setenv("GPT_COURSE_MODEL", "")  # set to nothing: as if unset
    model, _ = load_model()
    assert model.config.n_positions == 256


def test_a_device_that_cannot_run_a_model(monkeypatch):
    with pytest.raises(ValueError, match="'meta' cannot run a model"):
        load_model(None, "meta")
    monkeypatch.setenv("GPT_COURSE_DEVICE", "meta")
    with pytest.raises(ValueError, match=r"\$GPT_COURSE_DEVICE='meta' cannot run a model"):
        load_model()


def test_claims_about_the_bundled_model_are_asserted_for_it_only(bundled, tiny, capsys):
    from helpers.models import bundled_claim, is_bundled

    model, _ = bundled
    assert is_bundled(model) and not is_bundled(tiny[0])
    bundled_claim(model, "a true claim", True)
    with pytest.raises(AssertionError, match="should show this.*a false claim"):
        bundled_claim(model, "a false claim", False)
    assert capsys.readouterr().out == ""  # nothing printed for the bundled model
    bundled_claim(tiny[0], "greedy repeats itself", False)  # another model: a note, no error
    assert capsys.readouterr().out == (
        "[another model] greedy repeats itself? NO (checked only for the bundled model)\n"
    )


def test_a_relative_model_folder_is_found_from_the_notebooks_folder(monkeypatch):
    monkeypatch.chdir(models.COURSE_ROOT / "notebooks")
    monkeypatch.setenv(models.MODEL_ENV_VAR, "models/tiny-shakespeare-gpt2")
    model, _ = load_model()
    assert models.is_bundled(model)
    monkeypatch.setenv(models.MODEL_ENV_VAR, "./models/no-such-model")  # a path, not a Hub id
    with pytest.raises(
        OSError,
        match="does not exist .looked for it from the current folder and from the course folder",
    ):
        load_model()


def test_attention_implementation_is_restored_on_any_exit(tiny):
    model, _ = tiny
    before = model.config._attn_implementation
    with pytest.raises(KeyboardInterrupt):  # Kernel -> Interrupt inside the block
        with models.attention_implementation(model, "eager"):
            assert model.config._attn_implementation == "eager"
            raise KeyboardInterrupt
    assert model.config._attn_implementation == before
    with pytest.raises(ValueError, match="name='flash' is not one of"):
        with models.attention_implementation(model, "flash"):
            pass
