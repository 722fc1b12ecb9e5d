"""Speed-up of greedy generation with the KV cache over generation without it.

    python benchmarks/bench_kv_cache.py [--runs 5]

Prints `cached_vs_uncached_256: X`: total time of uncached / cached greedy generation of 256 new
tokens with the bundled model, median of ``--runs`` runs each (after one warm-up run), with the
tokens of both asserted identical. Target: X >= 3.

Why 256 new tokens fit a 256-token window: the bundled model sees at most n_positions = 256
positions. We start from a 1-token prompt. Pass i (0-based) feeds positions 0..i and predicts the
token at position i + 1; the 256th new token comes out of the pass over positions 0..255 and is
never fed back. So 256 new tokens need exactly 256 positions: the full window, no crop and no
stand-in model (``helpers.generation.greedy_decode`` would crop only past that). Both loops
compute the same thing: the uncached one re-runs the whole sequence every step, like the
article's loop; the cached one feeds the prompt once and then one token per pass.
"""

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.generation import greedy_decode  # noqa: E402
from helpers.models import load_model  # noqa: E402
from helpers.timing import interleaved_times, timed  # noqa: E402

NEW_TOKENS = 256


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error(f"--runs={args.runs} must be >= 1")
    model, tokenizer = load_model(None, "cpu")
    ids = tokenizer("ROMEO", return_tensors="pt")["input_ids"][:, :1]  # (1, 1): one token

    def run(use_cache):
        return greedy_decode(model, ids, NEW_TOKENS, use_cache=use_cache)

    _, a = timed(lambda: run(True))  # warm-up (first calls allocate and pick kernels) and check
    _, b = timed(lambda: run(False))
    assert a.new_ids == b.new_ids, "cached and uncached generation chose different tokens"
    assert torch.allclose(a.logits, b.logits, atol=1e-4)
    times = interleaved_times(
        {"cached": lambda: run(True), "uncached": lambda: run(False)}, args.runs
    )
    cached, uncached = times["cached"], times["uncached"]
    assert len(a.new_ids) == NEW_TOKENS
    assert sum(a.positions) == NEW_TOKENS  # 1 + 255 x 1
    assert sum(b.positions) == NEW_TOKENS * (NEW_TOKENS + 1) // 2  # 1 + 2 + ... + 256
    tc, tu = statistics.median(cached), statistics.median(uncached)
    print(f"torch_threads: {torch.get_num_threads()}")
    print(f"positions_processed: cached {sum(a.positions)}, uncached {sum(b.positions)}")
    print(f"cached_seconds_256: {tc:.3f} ({1e3 * tc / NEW_TOKENS:.2f} ms/token)")
    print(f"uncached_seconds_256: {tu:.3f} ({1e3 * tu / NEW_TOKENS:.2f} ms/token)")
    print(f"cached_vs_uncached_256: {tu / tc:.2f}")


if __name__ == "__main__":
    main()
