"""How long one press of Step takes in the decoding stepper of notebook 02.

    python benchmarks/bench_widget.py [--steps 60] [--threads N] [--sample] [--no-panes]

One Step = the chosen token appended to the state, one forward pass of the bundled model over the
new token (with the KV cache and eager attention: the candidate panel of the next step, and the
attention the panes show), and the re-render of every view, with every pane visible (attention
strip and all heads, KV cache, filter pipeline). Each press continues the text, so every pass is
on a new sequence (the remembered passes never hit). Prints `widget_step_p50_ms: X` (median over
the presses) and `widget_step_p95_ms` (target <= 30), and, to explain them, the median of the
stepper's one-token cached pass, of a full uncached pass over the same text, and of a re-render
alone. ``--sample``: the stepper samples (temperature 0.8, top-k 40, top-p 0.9) instead of
greedy; ``--no-panes``: the panes hidden, for comparison.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from helpers.models import load_model
from helpers.sampling import SamplingSettings
from helpers.timing import timed
from helpers.widgets import PANES, DecodingStepper


def median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def p95_ms(samples: list[float]) -> float:
    return 1000 * statistics.quantiles(samples, n=20)[-1]


def main(steps: int = 60, threads: int | None = None, sample: bool = False, panes=True) -> None:
    if threads is not None:
        torch.set_num_threads(threads)
    model, tok = load_model()
    settings = SamplingSettings("sample", 0.8, 40, 0.9, seed=1) if sample else SamplingSettings()
    stepper = DecodingStepper(
        model, tok, "ROMEO:\nBut soft, what light through yonder window", settings=settings
    )
    assert stepper.show_panes(*(PANES if panes else ()))
    stepper.run(3)  # warm-up: first calls allocate
    step_times, cached_times, forward_times, render_times = [], [], [], []
    for _ in range(steps):
        step_times.append(timed(stepper.step_button.click)[0])
        assert not stepper.error, stepper.status
        ids = stepper.state.ids
        # the same one-token pass again (the cache is cropped by one position first)
        cached_times.append(timed(lambda ids=ids: stepper._runner.run(ids))[0])
        with torch.no_grad():
            forward_times.append(timed(lambda ids=ids: model(torch.tensor([ids])))[0])  # (1, T)
        # the pass is remembered now: only the views are redrawn
        render_times.append(timed(lambda: stepper._render(stepper.status))[0])
    print(
        f"strategy: {settings.strategy}, threads: {torch.get_num_threads()}, steps: {steps}, "
        f"context {len(stepper.state.ids) - steps}..{len(stepper.state.ids)} tokens, "
        f"panes: {'all' if panes else 'hidden'}"
    )
    print(f"cached_pass_p50_ms: {median_ms(cached_times):.2f}")
    print(f"forward_pass_p50_ms: {median_ms(forward_times):.2f}")
    print(f"render_p50_ms: {median_ms(render_times):.2f}")
    print(f"widget_step_p50_ms: {median_ms(step_times):.2f}")
    print(f"widget_step_p95_ms: {p95_ms(step_times):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--sample", action="store_true", help="sample instead of greedy")
    parser.add_argument("--no-panes", action="store_true", help="hide the panes")
    args = parser.parse_args()
    main(args.steps, args.threads, args.sample, not args.no_panes)
