"""transformers' own speculative decoding: assisted generation and prompt lookup.

Taught in notebook 08 (section 6). ``model.generate(..., assistant_model=small)`` lets a small
model (here with the same tokenizer) draft tokens that the model verifies in one pass;
``model.generate(..., prompt_lookup_num_tokens=k)`` drafts by copying what followed the last
few tokens the previous time they occurred in the text itself. Both are notebook 06's loop
(``helpers.speculative``) with another draft, and give exactly the greedy tokens.

- ``first_layers``: a copy of a GPT-2 with only its first layers (same embeddings, same final
  norm and head): an assistant that speaks the model's tokens, built without any training;
- ``PromptLookupDraft``: prompt lookup written as a draft for ``speculative_greedy``, with
  transformers' matching rule (longest n-gram first, earliest match first);
- ``count_passes`` / ``count_passes_each``: the forward passes of the model (and of the assistant)
  a call makes, counted with forward hooks.
"""

from __future__ import annotations

import copy
from contextlib import ExitStack

import torch

from helpers._checks import BadType, check_int, check_model, check_token_ids
from helpers.timing import count_positions


def first_layers(model, n_layer: int = 1):
    """A GPT-2 holding ``model``'s embeddings, its first ``n_layer`` blocks, final norm and head.

    Its weights are the model's own (copied), so it needs no training and no file: a weak
    assistant, free to build (not to run: count its passes with ``count_passes_each``). This is
    the "early exit" draft transformers builds itself with ``assistant_early_exit=n``. In eval
    mode, on the model's device."""
    check_model(model)
    total = model.config.n_layer
    n_layer = check_int("n_layer", n_layer, 1, total)
    config = copy.deepcopy(model.config)
    config.n_layer = n_layer
    small = type(model)(config)
    state = {
        k: v
        for k, v in model.state_dict().items()
        if not k.startswith("transformer.h.") or int(k.split(".")[2]) < n_layer
    }
    small.load_state_dict(state)  # strict: every weight of the small model comes from the model
    return small.to(model.device).eval()


class PromptLookupDraft:
    """Draft the next tokens by looking the text's last n-gram up earlier in the text itself.

    For n = ``max_ngram`` down to 1: find the first earlier place where the last n tokens
    occurred and propose the tokens that followed them there (at most k, never past the end).
    No match: propose nothing (the round then yields the model's own token only)."""

    def __init__(self, vocab_size: int, max_ngram: int = 2):
        self.vocab_size = check_int("vocab_size", vocab_size, 1)
        self.max_ngram = check_int("max_ngram", max_ngram, 1)

    def propose(self, ids, k: int) -> list[int]:
        ids = check_token_ids("ids", ids, self.vocab_size)
        k = check_int("k", k, 1)
        for n in range(min(self.max_ngram, len(ids) - 1), 0, -1):
            tail = ids[-n:]
            for start in range(len(ids) - n):  # earliest first, as transformers does
                if ids[start : start + n] == tail:
                    return ids[start + n : start + n + k]
        return []


@torch.no_grad()
def count_passes_each(models, fn):
    """Run ``fn()`` and count the forward passes of each model in ``models``: (result, counts).

    Count the assistant too: its passes are not free, even if its training was."""
    if not isinstance(models, (list, tuple)) or not models:
        raise BadType(f"models must be a non-empty list or tuple of models, got {models!r}")
    for m in models:
        check_model(m)
    with ExitStack() as stack:  # the course's pass counter (helpers.timing), one per model
        seen = [stack.enter_context(count_positions(m)) for m in models]
        result = fn()
    return result, [len(s) for s in seen]  # one entry per forward pass


def count_passes(model, fn):
    """Run ``fn()`` and count the forward passes of ``model`` it made: (result, passes)."""
    result, (passes,) = count_passes_each([model], fn)
    return result, passes
