"""Shared fixtures: the bundled model (once per session) and a tiny random GPT-2."""

import pytest
import torch
from hypothesis import settings

from helpers.models import load_model, quiet_transformers

settings.register_profile("course", deadline=None, derandomize=True, max_examples=60)
settings.load_profile("course")
quiet_transformers()
torch.set_num_threads(1)  # as in the notebooks (helpers.setup_notebook): same floats everywhere


@pytest.fixture(scope="session")
def bundled():
    """(model, tokenizer) of the bundled tiny GPT-2, on the CPU, in eval mode."""
    return load_model(None, "cpu")


@pytest.fixture(scope="session")
def tiny(bundled):
    """A randomly initialised 2-layer GPT-2 with the bundled tokenizer and a 32-token window."""
    from transformers import GPT2LMHeadModel

    from helpers.models import tiny_gpt2_config

    _, tokenizer = bundled
    torch.manual_seed(0)
    config = tiny_gpt2_config(len(tokenizer), n_layer=2, n_head=2, n_embd=32, n_positions=32)
    return GPT2LMHeadModel(config).eval(), tokenizer


@pytest.fixture(scope="session")
def draft(bundled):
    """The bundled n-gram draft (counted from the training text with the bundled tokenizer)."""
    from helpers.drafts import draft_for

    return draft_for(bundled[1])


@pytest.fixture(scope="session")
def eager():
    """The bundled model with eager attention (returns attention weights)."""
    return load_model(None, "cpu", attn_implementation="eager")


@pytest.fixture
def stepper(bundled):
    """A fresh decoding widget on the bundled model, at the prompt of notebook 02."""
    from helpers.widgets import DecodingStepper

    model, tok = bundled
    return DecodingStepper(model, tok, "To be, or not to be")


@pytest.fixture
def english_after():
    """The course's language set back to English after the test (one that sets lang="zh")."""
    from helpers import messages

    yield
    messages.set_lang("en")
