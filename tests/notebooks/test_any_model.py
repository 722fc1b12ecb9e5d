"""Every notebook runs to the end with another GPT-2 model (outputs not compared).

The README promises that ``GPT_COURSE_MODEL`` switches the whole course to another GPT-2. Real
GPT-2 cannot be downloaded here, so the test builds two stand-ins with ``save_pretrained``:

- ``gpt2-like``: its own byte-level BPE tokenizer of 2,000 tokens with no pad token (like GPT-2's),
  a 1024-token window, 12 heads (GPT-2 124M's count) of width 8, randomly initialised;
- ``short-window``: the bundled tokenizer and a 64-token window, a quarter of the bundled model's.

Each notebook is executed top to bottom with each stand-in; every cell must run. These 14 runs
take about three minutes, so they are kept out of the README's test command (``-m "not
any_model"`` in pyproject.toml) and run by ``.ci/run``: ``python -m pytest -m any_model``.
"""

from pathlib import Path

import nbformat
import pytest
import torch
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

pytestmark = pytest.mark.any_model


def gpt2_like_tokenizer(vocab_size: int = 2000):
    """A byte-level BPE tokenizer trained on two plays, saved GPT-2 style: no pad token."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    from helpers.corpus import load_play

    text = load_play("hamlet") + load_play("macbeth")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([text], vocab_size=vocab_size, special_tokens=["<|endoftext|>"])
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )


def save_stand_in(
    folder: Path, tokenizer, n_positions: int, n_head: int = 4, n_embd: int = 64
) -> Path:
    from transformers import GPT2Config, GPT2LMHeadModel

    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=2,
        n_head=n_head,
        bos_token_id=eos,
        eos_token_id=eos,
    )
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory, bundled):
    _, bundled_tokenizer = bundled
    root = tmp_path_factory.mktemp("stand-ins")
    like = gpt2_like_tokenizer()
    assert like.pad_token is None and len(like) == 2000
    return {
        "gpt2-like": save_stand_in(
            root / "gpt2-like", like, n_positions=1024, n_head=12, n_embd=96
        ),
        "short-window": save_stand_in(root / "short-window", bundled_tokenizer, n_positions=64),
    }


@pytest.mark.parametrize("stand_in", ["gpt2-like", "short-window"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_another_model(path, stand_in, stand_ins, monkeypatch):
    monkeypatch.setenv("GPT_COURSE_MODEL", str(stand_ins[stand_in]))
    monkeypatch.delenv("GPT_COURSE_DEVICE", raising=False)
    nb = nbformat.read(path, as_version=4)
    probe = "print('PROBE', model.config.n_positions, model.config.vocab_size)"
    nb.cells.append(nbformat.v4.new_code_cell(probe))  # the notebook really used the stand-in
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError naming the cell if any cell fails
    expected = {"gpt2-like": "PROBE 1024 2000", "short-window": "PROBE 64 4096"}[stand_in]
    assert nb.cells[-1].outputs[0].text.strip() == expected
