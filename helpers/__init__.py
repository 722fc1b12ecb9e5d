"""Shared helpers for the course notebooks: one small module per concept.

- ``helpers.models``: load the bundled tiny GPT-2 (or real GPT-2) and seed everything.
- ``helpers.generation``: next-token distributions, sampling filters, the stepwise loop.
- ``helpers.training``: the corpus, the tokenizer, the shifted-label loss, the training loop.
- ``helpers.plots``: plotly figure builders with machine-independent output.

``setup_notebook()`` is the first line of every notebook.
"""

from __future__ import annotations


def setup_notebook(seed: int = 0):
    """Quiet transformers, draw plotly figures as portable JSON, seed every random stream.

    It also runs torch on one CPU thread: the course's models are so small that more threads
    mostly add overhead, and a fixed thread count makes float results the same on a laptop with
    8 cores as on the 2-core machine that stored the outputs.
    Returns the seeded ``torch.Generator`` (assign it: a bare call would print its repr).
    """
    import plotly.io as pio
    import torch

    from helpers.models import quiet_transformers, seed_everything

    quiet_transformers()
    # one application/vnd.plotly.v1+json output per figure: no random div ids, no CDN script;
    # JupyterLab draws it with the extension inside the plotly package, offline.
    pio.renderers.default = "plotly_mimetype"
    torch.set_num_threads(1)
    return seed_everything(seed)
