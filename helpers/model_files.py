"""What a model folder must hold before the course loads it (notebook 00, "Load the model").

``helpers.models.load_model`` runs these checks before transformers reads anything, so that a
folder that would run code, or confuse the course later, is refused at once with a message that
names the folder and what to do: a config asking for its own code (``auto_map``), another
architecture, no safetensors weights (pickle files are never loaded), a damaged weights file, no
tokenizer files, or a tokenizer larger than the model's vocabulary. After transformers has read
the weights, ``check_loading_info`` refuses a model it had to fill in: a tensor missing from the
file (it would be random), one the model has no place for, or one of another shape than
config.json asks for.
"""

from __future__ import annotations

import json
from pathlib import Path

#: The model types this course runs (its notebooks read GPT-2's config names and modules).
SUPPORTED_MODEL_TYPES = ("gpt2",)
#: A tokenizer folder needs one of these sets of files.
TOKENIZER_FILES = (("tokenizer.json",), ("vocab.json", "merges.txt"))


#: GPT-2 config switches that change what the notebooks write out by hand: (key, GPT-2's value,
#: what the other value does). Every released GPT-2 uses GPT-2's value.
HAND_WRITTEN_DEFAULTS = (
    (
        "scale_attn_weights",
        True,
        "scores are then not divided by sqrt(d), while notebook 04 divides them by hand",
    ),
    (
        "scale_attn_by_inverse_layer_idx",
        False,
        "layer i's scores are then also divided by i + 1, which notebook 04's hand-written "
        "attention does not do",
    ),
    (
        "add_cross_attention",
        False,
        "every layer then also attends to an encoder's output, a model this course does not teach "
        "(and notebook 07 counts its parameters by hand without those layers)",
    ),
)


def check_model_config(config: dict, shown: str) -> None:
    """Refuse configs that would run code or that the course cannot teach with, saying why."""
    if config.get("auto_map"):
        raise OSError(
            f"model {shown!r} asks to run its own Python code (config.json has an 'auto_map' "
            f"entry). This course never runs code from a model folder: use a standard GPT-2 "
            f"saved with save_pretrained."
        )
    model_type = config.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        hint = (
            " It is the course's n-gram draft (notebook 06), not a language model."
            if model_type == "ngram-draft"
            else ""
        )
        raise ValueError(
            f"model {shown!r} is of type {model_type!r}; the course supports GPT-2 models "
            f"(model_type 'gpt2': gpt2, distilgpt2, or a GPT2LMHeadModel you saved).{hint}"
        )
    for key, default, why in HAND_WRITTEN_DEFAULTS:
        if config.get(key, default) != default:
            raise ValueError(
                f"model {shown!r} has {key}={config[key]!r} in config.json (GPT-2's is "
                f"{default}): {why}. The notebooks' hand-written code would then not match the "
                f"model; use a model with GPT-2's standard attention (every released GPT-2 is)."
            )


def _check_safetensors(folder: Path, shown: str) -> None:
    """Open every weights file's header: a truncated or foreign file fails here, named."""
    from safetensors import SafetensorError, safe_open

    for file in sorted(folder.glob("*.safetensors")):
        try:
            with safe_open(file, framework="pt") as f:
                f.keys()
        except (SafetensorError, OSError, ValueError) as err:
            raise OSError(
                f"weights file {file.name!r} in {shown!r} is damaged or not a safetensors file "
                f"({str(err)[:120]}). Restore it (for the bundled model: git checkout -- "
                f"models/) or save the model again with save_pretrained."
            ) from None


def check_local_folder(folder: Path, shown: str) -> None:
    """Raise an OSError that says what is wrong with a model folder, before transformers does."""
    if not folder.exists():
        where = (
            ""
            if Path(shown).expanduser().is_absolute()
            else (" (looked for it from the current folder and from the course folder)")
        )
        raise OSError(
            f"model folder {shown!r} does not exist{where}. Pass an existing folder written by "
            f"save_pretrained, a Hugging Face Hub id such as 'gpt2', or nothing for the "
            f"bundled model."
        )
    if not folder.is_dir():
        raise OSError(f"model path {shown!r} is a file; pass the folder that holds config.json")
    config = folder / "config.json"
    if not config.is_file():
        raise OSError(
            f"model folder {shown!r} has no config.json; was it saved with save_pretrained?"
        )
    try:
        config_dict = json.loads(config.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise OSError(
            f"config.json in {shown!r} is not valid JSON ({err}); re-save the model "
            f"with save_pretrained or restore the file from the repository."
        ) from None
    if not isinstance(config_dict, dict):
        raise OSError(f"config.json in {shown!r} is not a JSON object; re-save the model")
    check_model_config(config_dict, shown)
    weights = list(folder.glob("*.safetensors"))
    if not weights:
        pickled = [p.name for p in folder.glob("*.bin")] + [p.name for p in folder.glob("*.pt")]
        extra = (
            f" It holds {pickled}, pickle files this course never loads (they can run code)."
            if pickled
            else ""
        )
        raise OSError(
            f"model folder {shown!r} has no *.safetensors weights.{extra} Save the model with "
            f"model.save_pretrained(folder) (safetensors is the default)."
        )
    _check_safetensors(folder, shown)
    if not any(all((folder / f).is_file() for f in files) for files in TOKENIZER_FILES):
        raise OSError(
            f"model folder {shown!r} has no tokenizer files (tokenizer.json, or vocab.json and "
            f"merges.txt). Save the tokenizer the model was trained with beside it: "
            f"tokenizer.save_pretrained(folder)."
        )


def check_tokenizer_fits(model, tokenizer, shown: str) -> None:
    """Every id the tokenizer can produce must have a row in the model's embedding."""
    if len(tokenizer) > model.config.vocab_size:
        raise ValueError(
            f"the tokenizer of {shown!r} has {len(tokenizer)} tokens but the model only "
            f"{model.config.vocab_size}: they do not belong together. Save the model's own "
            f"tokenizer in the folder."
        )


def _shape(size) -> str:
    return "[" + ", ".join(str(int(n)) for n in size) + "]"


def check_loading_info(info: dict, shown: str) -> None:
    """Refuse a model whose weights file does not fit its config (``from_pretrained``'s
    ``output_loading_info``): every missing, unexpected or mis-shaped tensor is named.

    transformers only logs these (and initialises the missing ones at random), so without this
    check the course would compute, silently, with weights nobody trained."""
    problems = []
    missing = sorted(info.get("missing_keys") or ())
    if missing:
        problems.append(f"missing from the weights file, so they would be random: {missing}")
    unexpected = sorted(info.get("unexpected_keys") or ())
    if unexpected:
        problems.append(
            f"in the weights file but not in the model config.json describes: {unexpected}"
        )
    mismatched = sorted(info.get("mismatched_keys") or ())
    if mismatched:
        shapes = [
            f"{key} is {_shape(file)} in the file, {_shape(model)} by config.json"
            for key, file, model in mismatched
        ]
        problems.append("of another shape: " + "; ".join(shapes))
    if info.get("error_msgs"):
        problems.append("errors: " + "; ".join(str(e)[:200] for e in info["error_msgs"]))
    if problems:
        raise ValueError(
            f"model folder {shown!r}: the weights do not fit its config.json. Tensors "
            + ". Tensors ".join(problems)
            + ". The course never computes with a half-loaded model: save the model and its "
            "config together with save_pretrained, or restore the folder (for the bundled "
            "model: git checkout -- models/)."
        )
