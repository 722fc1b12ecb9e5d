"""Load the course's model and make runs repeatable (notebook 00, section "Load the model").

- ``load_model()`` returns the tiny GPT-2 bundled in ``models/``: offline, in eval mode.
- ``load_model("gpt2")`` (or the environment variable ``GPT_COURSE_MODEL=gpt2``) loads a model
  from the Hugging Face Hub instead: from the local cache when it is there, else downloaded.
  Every notebook calls ``load_model()``, so the variable switches the whole course at once.
- Weights are read from safetensors only and no code from a model repository is ever run.
- ``seed_everything`` fixes Python's, NumPy's and torch's random streams.
- ``bundled_claim`` states what the bundled model learned: asserted for it, and for any other
  model printed as an observation.
- ``attention_implementation(model, "eager")``: a ``with`` block on another attention
  implementation, restored on any exit (notebook 05 counts FLOPs with it).
- ``BUNDLED_CONFIG`` / ``tiny_gpt2_config``: the bundled model's architecture, written here
  once; ``python -m course.build model`` trains it, notebooks 03-06 build small variants.
"""

from __future__ import annotations

import os
import random
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from helpers._checks import BadType, BadValue, check_int, check_seed
from helpers.model_files import (
    check_loading_info,
    check_local_folder,
    check_model_config,
    check_tokenizer_fits,
)

#: The environment variable that switches every notebook to another model.
MODEL_ENV_VAR = "GPT_COURSE_MODEL"
#: The environment variable that picks the device when ``device=None`` (default "cpu").
DEVICE_ENV_VAR = "GPT_COURSE_DEVICE"
#: The bundled model: trained by ``python -m course.build model`` (see its model card).
BUNDLED_MODEL_NAME = "tiny-shakespeare-gpt2"
#: The course folder: a relative model folder is also looked for here (notebooks run in notebooks/).
COURSE_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL_DIR = COURSE_ROOT / "models" / BUNDLED_MODEL_NAME
ATTN_IMPLEMENTATIONS = ("eager", "sdpa")
#: The bundled model's architecture (its config.json says the same; tests check that).
BUNDLED_CONFIG = {"vocab_size": 4096, "n_layer": 4, "n_head": 4, "n_embd": 256, "n_positions": 256}


def quiet_transformers() -> None:
    """Keep transformers' and the Hub's progress bars and warnings out of notebook output."""
    import transformers
    from huggingface_hub.utils import disable_progress_bars

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    disable_progress_bars()


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch; return a fresh ``torch.Generator`` seeded with ``seed``.

    On the CPU with the same thread count this makes runs bit-identical; across machines,
    floats may differ in the last bits, so notebooks print rounded values and token ids.
    """
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def tiny_gpt2_config(vocab_size: int | None = None, *, dropout: float = 0.0, **sizes):
    """A GPT-2 config of the bundled model's shape (``BUNDLED_CONFIG``), dropout off unless
    asked; ``sizes`` (n_layer=1, n_embd=64, ...) override the shape for smaller variants.
    bos/eos/pad are token 0, the tokenizer's ``<|endoftext|>``."""
    from transformers import GPT2Config

    shape = {**BUNDLED_CONFIG, **sizes}
    if vocab_size is not None:
        shape["vocab_size"] = check_int("vocab_size", vocab_size, 1)
    return GPT2Config(
        **shape,
        resid_pdrop=dropout,  # dropout acts only in train mode; eval is deterministic
        embd_pdrop=dropout,
        attn_pdrop=dropout,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )


#: Devices that can run the course's models.
DEVICE_TYPES = ("cpu", "cuda", "mps")


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` as a ``torch.device``; ``None`` reads $GPT_COURSE_DEVICE, else "cpu"."""
    source = "device"
    if device is None:
        device = os.environ.get(DEVICE_ENV_VAR)
        if not device:  # unset, or set to nothing
            device = "cpu"
        else:
            source = f"${DEVICE_ENV_VAR}"
            if not device.strip():
                raise BadValue(f"{source} is set but blank; unset it or set it to 'cpu' or 'cuda'")
            device = device.strip()
    if not isinstance(device, (str, torch.device)):
        raise BadType(f"device must be a str or torch.device, got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise BadValue(
            f"{source}={device!r} is not a device name; use 'cpu', 'cuda', 'cuda:0' or 'mps'"
        ) from None
    if dev.type not in DEVICE_TYPES:
        raise BadValue(
            f"{source}={device!r} cannot run a model: use one of {', '.join(DEVICE_TYPES)}"
        )
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BadValue(f"{source}={device!r} was asked for but CUDA is not available; use 'cpu'")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise BadValue(f"{source}={device!r} was asked for but MPS is not available; use 'cpu'")
    return dev


@contextmanager
def attention_implementation(model, name: str):
    """Run the ``with`` block with ``model`` on another attention implementation ("eager" gives
    attention weights and FLOP counts by operation), then restore the one before, on any exit
    (an error, or a cell interrupted with Kernel -> Interrupt)."""
    if name not in ATTN_IMPLEMENTATIONS:
        raise BadValue(f"name={name!r} is not one of {ATTN_IMPLEMENTATIONS}")
    before = model.config._attn_implementation
    model.set_attn_implementation(name)
    try:
        yield model
    finally:
        model.set_attn_implementation(before)


def is_bundled(model) -> bool:
    """Whether ``model`` was loaded from the bundled folder (the model the prose describes)."""
    name = getattr(model, "name_or_path", "") or ""
    return bool(name) and Path(name).expanduser().resolve() == BUNDLED_MODEL_DIR


def bundled_claim(model, claim: str, holds: bool) -> None:
    """A statement about what the bundled model learned, checked for it, observed for others.

    Equivalences (hand loop == ``generate``, cache == no cache, ...) hold for every model and
    are plain ``assert``s. What a trained model does (its greedy text repeats, a draft agrees
    with it) is true of the bundled model, and another model (``GPT_COURSE_MODEL``) may differ:
    for it the claim is printed with what was observed, and the notebook goes on.

    >>> bundled_claim(model, "greedy decoding repeats itself", "my lord, my lord" in text)
    """
    holds = bool(holds)
    if is_bundled(model):
        if not holds:
            raise AssertionError(f"the bundled model should show this, and does not: {claim}")
    else:
        seen = "yes" if holds else "NO"
        print(f"[another model] {claim}? {seen} (checked only for the bundled model)")


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def load_model(
    name: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    *,
    attn_implementation: str | None = None,
):
    """Return ``(model, tokenizer)``: a causal language model in eval mode and its tokenizer.

    name: ``None`` for $GPT_COURSE_MODEL or, when unset, the bundled tiny GPT-2; a folder
        written by ``save_pretrained``; or a Hugging Face Hub id such as ``"gpt2"``, loaded from
        the local cache if present, else downloaded (the only case that uses the network).
    device: ``"cpu"`` (default, or $GPT_COURSE_DEVICE), ``"cuda"``, ``"mps"``.
    attn_implementation: ``"eager"`` to get attention weights back (notebook 04); default
        is transformers' choice (SDPA).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if name is None:
        name = os.environ.get(MODEL_ENV_VAR)
        if not name:  # unset, or set to nothing: the bundled model
            name = BUNDLED_MODEL_DIR
        elif not name.strip():
            raise BadValue(
                f"${MODEL_ENV_VAR} is set but blank; unset it for the bundled model, or set it "
                f"to a folder or a Hub id such as 'gpt2'"
            )
    if not isinstance(name, (str, os.PathLike)):
        raise BadType(
            f"name must be a str (a folder or a Hub id such as 'gpt2') or None, "
            f"got {type(name).__name__} {name!r}"
        )
    if attn_implementation is not None and attn_implementation not in ATTN_IMPLEMENTATIONS:
        raise BadValue(
            f"attn_implementation={attn_implementation!r} is not one of {ATTN_IMPLEMENTATIONS}"
        )
    dev = resolve_device(device)
    quiet_transformers()
    shown = os.fspath(name)
    if not shown.strip():
        raise BadValue("name is an empty string; pass None for the bundled model or 'gpt2'")
    path = Path(shown).expanduser()
    # never ask, never run code; always float32 weights, even from a file stored in 16 bits
    kwargs = {"use_safetensors": True, "trust_remote_code": False, "dtype": torch.float32}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if not path.exists() and not path.is_absolute() and (COURSE_ROOT / path).exists():
        path = COURSE_ROOT / path  # relative to the course folder, e.g. from notebooks/
    if path.exists() or isinstance(name, os.PathLike) or _looks_like_path(shown):
        check_local_folder(path, shown)
        model = _load_weights(AutoModelForCausalLM, path, shown, kwargs)
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    else:
        model, tokenizer = _load_from_hub(shown, kwargs)
    check_tokenizer_fits(model, tokenizer, shown)
    if tokenizer.pad_token is None:  # GPT-2 has none; batching needs one (masked out anyway)
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(dev).eval(), tokenizer


def _load_weights(auto_class, path: Path, shown: str, kwargs: dict):
    """``from_pretrained`` that refuses weights that do not fit the config (never half-loads)."""
    try:
        model, info = auto_class.from_pretrained(path, output_loading_info=True, **kwargs)
    except RuntimeError as err:  # shapes that differ: transformers raises, its report muted
        if "ignore_mismatched_sizes" not in str(err):
            raise
        _, info = auto_class.from_pretrained(
            path, output_loading_info=True, ignore_mismatched_sizes=True, **kwargs
        )
        model = None
    check_loading_info(info, shown)
    return model


def _download_failed(name: str, err: Exception, hint: str) -> OSError:
    return OSError(
        f"could not load model {name!r}: it is not a local folder, not in the Hugging Face "
        f"cache, and downloading it failed ({type(err).__name__}: {str(err)[:200]}). "
        f"Check the spelling and your network. {hint}"
    )


def _load_from_hub(name: str, kwargs: dict):
    """Load a Hub id from the local cache, or download it; explain what to do when both fail."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, PretrainedConfig

    try:  # the cache first: works offline once the model has been downloaded
        config, _ = PretrainedConfig.get_config_dict(name, local_files_only=True)
    except (OSError, ValueError):
        pass
    else:
        check_model_config(config, name)  # before any weights or code are touched
        try:
            return (
                AutoModelForCausalLM.from_pretrained(name, local_files_only=True, **kwargs),
                AutoTokenizer.from_pretrained(name, local_files_only=True, trust_remote_code=False),
            )
        except (OSError, ValueError):
            pass
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    hint = (
        f"Run once with network access to cache it (unset HF_HUB_OFFLINE), or unset "
        f"{MODEL_ENV_VAR} / pass name=None to use the bundled offline model."
    )
    if offline:
        raise OSError(
            f"model {name!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set, "
            f"so it cannot be downloaded. {hint}"
        )
    try:
        config, _ = PretrainedConfig.get_config_dict(name)
    except Exception as err:  # network errors come in many classes; the advice is the same
        raise _download_failed(name, err, hint) from None
    check_model_config(config, name)
    try:
        return (
            AutoModelForCausalLM.from_pretrained(name, **kwargs),
            AutoTokenizer.from_pretrained(name, trust_remote_code=False),
        )
    except Exception as err:  # network errors come in many classes; the advice is the same
        raise _download_failed(name, err, hint) from None
