"""How long one press of Step takes in the decoding stepper of notebook 02.

    python benchmarks/bench_widget.py [--steps 60] [--threads N]

One Step = the chosen token appended to the state, one forward pass of the bundled model for the
new sequence (the candidate panel of the next step), and the re-render of every view. Each
press continues the text, so every forward pass is on a new sequence (the logits cache never
hits). Prints `widget_step_p50_ms: X` (median over the presses; target <= 30) and, to explain
it, the median of a bare forward pass and of a re-render alone.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from helpers.models import load_model
from helpers.timing import timed
from helpers.widgets import DecodingStepper


def median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def main(steps: int = 60, threads: int | None = None) -> None:
    if threads is not None:
        torch.set_num_threads(threads)
    model, tok = load_model()
    stepper = DecodingStepper(model, tok, "ROMEO:\nBut soft, what light through yonder window")
    stepper.run(3)  # warm-up: first calls allocate
    step_times, forward_times, render_times = [], [], []
    for _ in range(steps):
        step_times.append(timed(stepper.step_button.click)[0])
        assert not stepper.error, stepper.status
        ids = torch.tensor([stepper.state.ids])  # (1, T)
        with torch.no_grad():
            forward_times.append(timed(lambda ids=ids: model(ids))[0])
        # logits cached now: only the views are redrawn
        render_times.append(timed(lambda: stepper._render(stepper.status))[0])
    print(f"threads: {torch.get_num_threads()}, steps: {steps}, "
          f"context {len(stepper.state.ids) - steps}..{len(stepper.state.ids)} tokens")  # fmt: skip
    print(f"forward_pass_p50_ms: {median_ms(forward_times):.2f}")
    print(f"render_p50_ms: {median_ms(render_times):.2f}")
    print(f"widget_step_p50_ms: {median_ms(step_times):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args()
    main(args.steps, args.threads)
