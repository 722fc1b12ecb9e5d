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

    Returns the seeded ``torch.Generator`` (assign it: a bare call would print its repr).
    """
    import plotly.io as pio

    from helpers.models import quiet_transformers, seed_everything

    quiet_transformers()
    # one application/vnd.plotly.v1+json output per figure: no random div ids, no CDN script;
    # JupyterLab draws it with the extension inside the plotly package, offline.
    pio.renderers.default = "plotly_mimetype"
    return seed_everything(seed)
