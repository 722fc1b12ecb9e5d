"""Speculative decoding vs plain greedy decoding on the bundled model (notebook 06).

For two drafts, the n-gram table (``ngram``, models/tiny-shakespeare-ngram) and the text lookup
that falls back on it (``lookup``, ``helpers.drafts.LookupDraft``), and k = 1..max-k, prints:

- the acceptance rate and the model's forward passes per generated token (deterministic);
- acceptance by position in the round (how often guess i is accepted, given it was proposed);
- the draft's time per guess and the median wall-clock time of the whole decoding, draft included;
- the speed-up over plain greedy decoding with the KV cache (``generate_stepwise`` with
  ``record_steps=False``: the same loop without its per-step trace).

Then the lines the README quotes (the best draft and k by median speed-up):

    speculative_speedup: X   (plain greedy time / speculative time, median of interleaved runs)
    passes_per_token: Y      (model forward passes per generated token at that k)
    acceptance: Z            (accepted guesses / proposed guesses at that k)

Every speculative run produces the same tokens as plain greedy decoding (asserted).

    python benchmarks/bench_speculative.py [--runs 7] [--tokens 64] [--threads 1] [--max-k 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.drafts import LookupDraft, draft_for  # noqa: E402
from helpers.generation import generate_stepwise  # noqa: E402
from helpers.models import load_model  # noqa: E402
from helpers.speculative import acceptance_by_position, speculative_greedy  # noqa: E402
from helpers.timing import interleaved_times, time_call  # noqa: E402

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
    ngram = draft_for(tokenizer)
    drafts = {"ngram": ngram, "lookup": LookupDraft(ngram)}
    expected = plain(model, tokenizer, a.tokens)  # also warms up
    ks = list(range(1, a.max_k + 1))
    stats, fns = {}, {"plain": lambda: plain(model, tokenizer, a.tokens)}
    for name, draft in drafts.items():
        for k in ks:  # the counts are deterministic: one run each, checked against plain greedy
            results = speculative(model, tokenizer, a.tokens, draft, k)
            assert [r.new_ids for r in results] == expected, f"{name}, k={k}: not greedy's tokens"
            passes = sum(r.forward_passes for r in results)
            accepted, proposed = sum(r.accepted for r in results), sum(r.proposed for r in results)
            by_pos = acceptance_by_position([r for res in results for r in res.rounds])
            stats[name, k] = (passes / (a.tokens * len(PROMPTS)), accepted / proposed, by_pos)
            fns[name, k] = lambda d=draft, k=k: speculative(model, tokenizer, a.tokens, d, k)
    # the draft's own cost: one guess after a typical text (the first prompt's greedy output)
    text = tokenizer(PROMPTS[0])["input_ids"] + expected[0]
    guess_ms = {
        name: 1e3 * time_call(lambda d=d: d.propose(text, 1), repeats=200)
        for name, d in drafts.items()
    }
    step_ms = (
        1e3
        * time_call(lambda: plain(model, tokenizer, a.tokens), repeats=3)
        / (a.tokens * len(PROMPTS))
    )
    # interleave the settings so that machine noise hits all alike
    times = interleaved_times(fns, a.runs)
    base = statistics.median(times["plain"])
    print(
        f"# {len(PROMPTS)} prompts x {a.tokens} new tokens, {a.runs} interleaved runs, "
        f"torch threads {torch.get_num_threads()}"
    )
    print(
        f"# plain greedy (KV cache): median {base * 1000:.1f} ms, 1.000 passes per token, "
        f"{step_ms:.3f} ms per token"
    )
    for name in drafts:
        print(
            f"# draft {name}: {guess_ms[name]:.4f} ms per guess "
            f"({guess_ms[name] / step_ms:.2%} of a plain step)"
        )
    print("# draft    k  acceptance  passes/token  median ms  speed-up  acceptance by position")
    speedups = {}
    for name in drafts:
        for k in ks:
            med = statistics.median(times[name, k])
            speedups[name, k] = base / med
            ppt, acc, by_pos = stats[name, k]
            pos = " ".join(f"{p:.2f}" for p in by_pos)
            print(
                f"# {name:7s} {k:2d}  {acc:10.4f}  {ppt:12.4f}  {med * 1000:9.1f}  "
                f"{speedups[name, k]:8.3f}  {pos}"
            )
    best = max(speedups, key=speedups.get)
    print(f"# best: draft {best[0]}, k = {best[1]}")
    print(f"speculative_speedup: {speedups[best]:.3f}")
    print(f"passes_per_token: {stats[best][0]:.4f}")
    print(f"acceptance: {stats[best][1]:.4f}")


if __name__ == "__main__":
    main()
