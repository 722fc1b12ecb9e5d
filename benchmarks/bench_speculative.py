"""Speculative decoding vs plain greedy decoding on the bundled model (notebook 06).

Prints, for k = 1..6, the model's forward passes per generated token (deterministic) and the
wall-clock speed-up over plain greedy decoding with the KV cache (``generate_stepwise`` with
``record_steps=False``: the same loop without its per-step trace), then the two lines the README
quotes:

    speculative_speedup: X   (plain greedy time / speculative time, best k, median of runs)
    passes_per_token: Y      (model forward passes per generated token at that k)

Both decoders produce the same tokens (asserted on every run). The draft is the bundled n-gram
table (models/tiny-shakespeare-ngram); its time counts in the speculative time.

    python benchmarks/bench_speculative.py [--runs 7] [--tokens 64] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.drafts import draft_for  # noqa: E402
from helpers.generation import generate_stepwise  # noqa: E402
from helpers.models import load_model  # noqa: E402
from helpers.speculative import speculative_greedy  # noqa: E402
from helpers.timing import interleaved_times  # noqa: E402

PROMPTS = [
    "ROMEO:\nBut soft, what light",
    "KING:\nMy",
    "First Citizen:\nWe are",
    "To be, or not to be",
    "JULIET:\nO Romeo, Romeo!",
    "HAMLET:\nWhat a piece of work",
]


def plain(model, tokenizer, n):
    return [generate_stepwise(model, tokenizer, p, n, record_steps=False).new_ids for p in PROMPTS]


def speculative(model, tokenizer, n, draft, k):
    return [speculative_greedy(model, tokenizer, p, n, draft=draft, k=k) for p in PROMPTS]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="timed runs per setting (median)")
    ap.add_argument("--tokens", type=int, default=64, help="new tokens per prompt")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--max-k", type=int, default=6)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    model, tokenizer = load_model(None, "cpu")
    draft = draft_for(tokenizer)
    expected = plain(model, tokenizer, a.tokens)  # also warms up
    ks = list(range(1, a.max_k + 1))
    stats = {}
    for k in ks:  # the counts are deterministic: one run each, checked against plain greedy
        results = speculative(model, tokenizer, a.tokens, draft, k)
        assert [r.new_ids for r in results] == expected, f"k={k}: not the greedy tokens"
        passes = sum(r.forward_passes for r in results)
        accepted, proposed = sum(r.accepted for r in results), sum(r.proposed for r in results)
        stats[k] = (passes / (a.tokens * len(PROMPTS)), accepted / proposed)
    # interleave the settings so that machine noise hits all alike
    fns = {"plain": lambda: plain(model, tokenizer, a.tokens)}
    fns.update({k: (lambda k=k: speculative(model, tokenizer, a.tokens, draft, k)) for k in ks})
    times = interleaved_times(fns, a.runs)
    base_times, spec_times = times["plain"], {k: times[k] for k in ks}
    base = statistics.median(base_times)
    print(f"# {len(PROMPTS)} prompts x {a.tokens} new tokens, {a.runs} runs, "
          f"torch threads {torch.get_num_threads()}")  # fmt: skip
    print(f"# plain greedy (KV cache): median {base * 1000:.1f} ms, 1.000 passes per token")
    print("#  k  acceptance  passes/token  median ms  speed-up")
    speedups = {}
    for k in ks:
        med = statistics.median(spec_times[k])
        speedups[k] = base / med
        ppt, acc = stats[k]
        print(f"# {k:2d}  {acc:10.4f}  {ppt:12.4f}  {med * 1000:9.1f}  {speedups[k]:8.3f}")
    best = max(ks, key=speedups.get)
    print(f"# best k = {best}")
    print(f"speculative_speedup: {speedups[best]:.3f}")
    print(f"passes_per_token: {stats[best][0]:.4f}")


if __name__ == "__main__":
    main()
