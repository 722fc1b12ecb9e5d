"""Is the course's stepwise loop as fast as transformers' own ``model.generate``?

Both run greedy decoding with the KV cache for the same number of new tokens from the same
prompt, and must produce the same tokens (asserted). Each is timed several times, alternating,
and the median time gives tokens per second. The figure the README quotes:

    hand_loop_vs_generate: X    (helper tokens/s divided by generate tokens/s; >= 1.0 is the target)

"hand loop" is ``generate_stepwise(..., use_cache=True, record_steps=False)``: the loop of
notebook 01 with the cache and without the per-step trace. The traced default is timed too
(``traced_loop_vs_generate``), to show what the bookkeeping costs.

    python benchmarks/bench_generation.py [--new-tokens 200] [--runs 7] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics

import torch

from helpers.generation import generate_stepwise
from helpers.models import load_model
from helpers.timing import interleaved_times


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--prompt", default="and")
    p.add_argument("--new-tokens", type=int, default=200)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)

    model, tokenizer = load_model()
    enc = tokenizer(a.prompt, return_tensors="pt").to(model.device)
    n = a.new_tokens

    @torch.no_grad()
    def hf():  # eos_token_id=None: never stop early, so both make exactly n tokens
        return model.generate(
            **enc,
            max_new_tokens=n,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=None,
        )

    def lean():
        return generate_stepwise(model, tokenizer, a.prompt, n, record_steps=False)

    def traced():
        return generate_stepwise(model, tokenizer, a.prompt, n)

    expected = hf()[0, enc["input_ids"].size(1) :].tolist()
    assert len(expected) == n
    assert lean().new_ids == expected, "the helper's tokens differ from generate's"
    assert traced().new_ids == expected

    # alternate the three, so that a slow moment of a shared machine hits all of them alike
    times = interleaved_times({"generate": hf, "lean": lean, "traced": traced}, a.runs)
    tps = {name: n / statistics.median(ts) for name, ts in times.items()}

    name = model.config.name_or_path.split("/")[-1]
    print(
        f"model: {name}, device {model.device}, torch threads {torch.get_num_threads()}, "
        f"{n} new tokens, median of {a.runs} runs"
    )
    print(f"generate_tokens_per_s: {tps['generate']:.1f}")
    print(f"hand_loop_tokens_per_s: {tps['lean']:.1f}")
    print(f"traced_loop_tokens_per_s: {tps['traced']:.1f}")
    print(f"traced_loop_vs_generate: {tps['traced'] / tps['generate']:.2f}")
    print(f"hand_loop_vs_generate: {tps['lean'] / tps['generate']:.2f}")


if __name__ == "__main__":
    main()
