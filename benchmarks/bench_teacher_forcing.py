"""Notebook 03's cost figure: one parallel pass vs T stepwise passes over the prefixes.

    python benchmarks/bench_teacher_forcing.py [--lengths 8 16 32 64 128 256] [--repeat 5]

Prints one line per length and the named summary line
``teacher forcing T=<max>: stepwise/parallel time ratio <r>x (positions ratio <p>x)``.
Uses the bundled model (or $GPT_COURSE_MODEL) on $GPT_COURSE_DEVICE (default cpu); each time is
the best of ``--repeat`` runs, on ``--threads`` CPU threads (default 1, as the notebooks run).
"""

from __future__ import annotations

import argparse

import torch

from helpers.generation import context_window
from helpers.models import load_model
from helpers.timing import count_positions, synced, time_call
from helpers.training import parallel_next_token_logits, stepwise_next_token_logits


def best_ms(fn, repeat: int, device) -> float:
    return 1000 * time_call(synced(fn, device), repeats=repeat, warmup=0)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lengths", type=int, nargs="+", default=[8, 16, 32, 64, 128, 256])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    model, _ = load_model()
    window = context_window(model)
    if max(a.lengths) > window or min(a.lengths) < 1:
        p.error(f"--lengths must lie in 1..{window} (the model's context window)")
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (1, max(a.lengths)), generator=gen)
    ids = ids.to(model.device)
    print(f"device {model.device}, torch threads {torch.get_num_threads()}, best of {a.repeat}")
    for n in a.lengths:
        x = ids[:, :n]
        parallel_next_token_logits(model, x)  # warm-up
        with count_positions(model) as par:
            t_par = best_ms(lambda x=x: parallel_next_token_logits(model, x), a.repeat, x.device)
        with count_positions(model) as step:
            t_step = best_ms(lambda x=x: stepwise_next_token_logits(model, x), a.repeat, x.device)
        pos_ratio = sum(step) / sum(par)  # both ran a.repeat times
        print(
            f"T={n:4d}  1 pass {t_par:8.2f} ms  {n:4d} passes {t_step:9.2f} ms  "
            f"time ratio {t_step / t_par:7.1f}x  positions ratio {pos_ratio:6.1f}x"
        )
    print(
        f"teacher forcing T={n}: stepwise/parallel time ratio {t_step / t_par:.1f}x "
        f"(positions ratio {pos_ratio:.1f}x)"
    )


if __name__ == "__main__":
    main()
