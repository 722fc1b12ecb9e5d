"""helpers.speculative: same tokens as greedy, fewer passes; the sampling rule keeps p exactly."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from helpers.drafts import (
    LookupDraft,
    ModelDraft,
    NGramDraft,
    vocab_fingerprint,
)
from helpers.generation import generate_stepwise
from helpers.speculative import (
    Round,
    accept_or_resample,
    acceptance_by_position,
    acceptance_probs,
    check_k,
    crop_cache,
    expected_tokens_per_round,
    first_tokens_distribution,
    residual,
    rule_distribution,
    sampling_round,
    simulate_rule,
    speculative_greedy,
    verify_greedy,
)

PROMPTS = ["ROMEO:\nBut soft, what light", "KING:\nMy", "模型", "O", "To be, or not to be"]


def greedy(model, tokenizer, prompt, n):
    return generate_stepwise(model, tokenizer, prompt, n, strategy="greedy").new_ids


# --------------------------------------------------------------------------- greedy equality
@pytest.mark.parametrize("prompt", PROMPTS)
def test_speculative_equals_greedy_for_every_k(bundled, draft, prompt):
    model, tokenizer = bundled
    expected = greedy(model, tokenizer, prompt, 30)
    for k in range(1, 7):
        result = speculative_greedy(model, tokenizer, prompt, 30, draft=draft, k=k)
        assert result.new_ids == expected, (prompt, k)
        assert result.forward_passes <= 30
        assert sum(len(r.new_tokens) for r in result.rounds) == 30


def test_the_draft_saves_model_passes(bundled, draft):
    model, tokenizer = bundled
    passes = [
        speculative_greedy(model, tokenizer, p, 40, draft=draft, k=4).forward_passes
        for p in PROMPTS
    ]
    assert sum(passes) < 40 * len(PROMPTS)  # plain greedy: one pass per token


def test_rounds_add_up(bundled, draft):
    model, tokenizer = bundled
    r = speculative_greedy(model, tokenizer, PROMPTS[0], 40, draft=draft, k=3)
    assert r.accepted + r.forward_passes == len(r.new_ids)  # accepted guesses + one model token
    assert all(len(x.proposed) <= 3 and 0 <= x.n_accepted <= len(x.proposed) for x in r.rounds)
    assert all((x.kind == "bonus") == (x.n_accepted == len(x.proposed)) for x in r.rounds)
    assert r.acceptance_rate == pytest.approx(r.accepted / r.proposed)
    assert r.passes_per_token == pytest.approx(r.forward_passes / 40)


def test_the_model_as_its_own_draft_is_always_right(bundled):
    model, tokenizer = bundled
    own = ModelDraft(model, tokenizer)
    r = speculative_greedy(model, tokenizer, PROMPTS[1], 20, draft=own, k=4)
    assert r.new_ids == greedy(model, tokenizer, PROMPTS[1], 20)
    assert r.acceptance_rate == 1.0
    assert r.forward_passes == math.ceil(20 / 5)  # k accepted + 1 bonus per pass


def test_a_useless_draft_still_gives_greedy_output(tiny):
    """A random draft (its guesses are almost always wrong): one token per pass, same text."""
    model, tokenizer = tiny
    bad = ModelDraft(_random_gpt2(len(tokenizer), seed=1))
    for prompt in PROMPTS:
        r = speculative_greedy(model, tokenizer, prompt, 12, draft=bad, k=3)
        assert r.new_ids == greedy(model, tokenizer, prompt, 12)


WORDS = ["the", " king", " O", ",", "\n", "ROMEO:", " love", " 生", " and", " thee", "!"]


@given(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), st.integers(1, 6), st.integers(0, 14)
)
def test_equal_to_greedy_for_any_prompt_and_k(tiny, words, k, n_new):
    model, tokenizer = tiny
    prompt = "".join(words)
    if not prompt.strip():
        prompt = "O" + prompt
    draft = ModelDraft(_random_gpt2(len(tokenizer), seed=2))
    r = speculative_greedy(model, tokenizer, prompt, n_new, draft=draft, k=k)
    assert r.new_ids == greedy(model, tokenizer, prompt, n_new)


def test_stops_at_the_context_window_like_greedy(tiny, draft):
    model, tokenizer = tiny  # a 32-token window
    prompt = "KING HENRY:\nOnce more unto the breach, dear friends, once more"
    expected = generate_stepwise(model, tokenizer, prompt, 40, strategy="greedy")
    assert expected.stop_reason == "context_window"
    for k in (1, 4, 6):
        r = speculative_greedy(model, tokenizer, prompt, 40, draft=draft, k=k)
        assert r.new_ids == expected.new_ids and r.stop_reason == "context_window"
        assert len(r.ids) == 33  # a 32-token text still predicts token 33


def test_zero_new_tokens(bundled, draft):
    model, tokenizer = bundled
    r = speculative_greedy(model, tokenizer, "O", 0, draft=draft, k=3)
    assert r.new_ids == [] and r.rounds == [] and r.passes_per_token == 0.0


# --------------------------------------------------------------------------- one round, the cache
def test_verify_greedy_by_hand(bundled):
    model, tokenizer = bundled
    ids = tokenizer("ROMEO:\nBut soft", return_tensors="pt")["input_ids"][0].tolist()
    truth = greedy(model, tokenizer, "ROMEO:\nBut soft", 4)
    wrong = (truth[2] + 1) % model.config.vocab_size
    n, token, cache = verify_greedy(model, ids, truth[:2] + [wrong])
    assert (n, token) == (2, truth[2])  # two right guesses, then the correction
    assert cache.get_seq_length() == len(ids) + 2
    n, token, cache = verify_greedy(model, ids, truth[:3])
    assert (n, token) == (3, truth[3])  # all right: the model's bonus token


def test_crop_cache_keeps_exactly_the_prefix(bundled):
    model, tokenizer = bundled
    ids = tokenizer("To be, or not to be: that is", return_tensors="pt")["input_ids"]  # (1, T)
    with torch.no_grad():
        full = model(ids, use_cache=True).cache
        short = model(ids[:, :4], use_cache=True).cache
    crop_cache(full, 4)
    assert full.get_seq_length() == 4
    for a, b in zip(full.layers, short.layers, strict=True):
        assert torch.allclose(a.keys, b.keys, atol=1e-5)
        assert torch.allclose(a.values, b.values, atol=1e-5)
    with pytest.raises(ValueError, match="keep=9 is out of range: it must be in the range 0..4"):
        crop_cache(full, 9)


# --------------------------------------------------------------------------- the lookup draft
NB06_PROMPTS = [
    "ROMEO:\nBut soft, what light",
    "KING:\nMy",
    "First Citizen:\nWe are",
    "To be, or not to be",
    "O",
    "生存还是毁灭",
]


def test_lookup_draft_gives_greedy_output_in_fewer_passes_than_the_table(bundled, draft):
    """Notebook 06, section 6: on its prompts and every k, the lookup draft's output is greedy's,
    and it needs fewer passes than the n-gram table (the bundled model's greedy text loops)."""
    model, tokenizer = bundled
    lookup = LookupDraft(draft)
    expected = {p: greedy(model, tokenizer, p, 40) for p in NB06_PROMPTS}
    for k in range(1, 7):
        passes = {}
        for name, d in [("lookup", lookup), ("n-gram", draft)]:
            results = {
                p: speculative_greedy(model, tokenizer, p, 40, draft=d, k=k) for p in NB06_PROMPTS
            }
            assert all(r.new_ids == expected[p] for p, r in results.items()), (name, k)
            passes[name] = sum(r.forward_passes for r in results.values())
        assert passes["lookup"] < passes["n-gram"], k


def test_the_tables_later_guesses_fail_and_the_formula_bounds_it(bundled, draft):
    """Notebook 06: with k = 4 the n-gram draft's 4th guess is almost never right, and the
    formula with the first guess's rate is no underestimate of the tokens a round adds."""
    model, tokenizer = bundled
    results = [speculative_greedy(model, tokenizer, p, 40, draft=draft, k=4) for p in NB06_PROMPTS]
    by_pos = acceptance_by_position([r for res in results for r in res.rounds])
    tokens_per_pass = sum(len(r.new_ids) for r in results) / sum(r.forward_passes for r in results)
    assert len(by_pos) == 4 and by_pos[3] < 0.2
    assert expected_tokens_per_round(by_pos[0], 4) >= tokens_per_pass


def test_acceptance_by_position_counts_only_the_rounds_that_judged_a_guess():
    rounds = [
        Round(0, 5, [1, 2, 3], 3, 9),  # all three accepted
        Round(1, 9, [1, 2, 3], 1, 9),  # 1st accepted, 2nd rejected: 3rd never judged
        Round(2, 11, [1, 2, 3], 0, 9),  # 1st rejected
        Round(3, 12, [1], 1, 9),
    ]
    assert acceptance_by_position(rounds) == [3 / 4, 1 / 2, 1.0]
    assert acceptance_by_position([]) == []


@pytest.mark.parametrize("a, k", [(0.0, 3), (0.3, 1), (0.5, 4), (0.9, 6), (1.0, 4)])
def test_expected_tokens_per_round_is_the_mean_of_simulated_rounds(a, k):
    assert expected_tokens_per_round(a, k) == pytest.approx(sum(a**i for i in range(k + 1)))
    gen = torch.Generator().manual_seed(0)
    right = torch.rand(200_000, k, generator=gen) < a  # (rounds, k): is guess i right?
    accepted = right.int().cumprod(dim=1).sum(dim=1)  # the run of right guesses from the start
    assert float((accepted + 1).double().mean()) == pytest.approx(
        expected_tokens_per_round(a, k), rel=0.01
    )


@pytest.mark.parametrize("a", [0.0, 0.3, 0.58, 0.9, 1.0])
def test_the_best_k_shrinks_as_the_draft_costs_more(a):
    """Notebook 06, choosing k: a round costs k c + 1 steps and adds (1 - a^(k+1)) / (1 - a)
    tokens; the k that maximises their ratio never grows with the cost ratio c."""

    def best_k(c):
        speed_up = {k: expected_tokens_per_round(a, k) / (k * c + 1) for k in range(1, 11)}
        return max(speed_up, key=speed_up.get)

    best = [best_k(c) for c in (0.0, 0.01, 0.08, 0.25, 0.5, 1.0)]
    assert best == sorted(best, reverse=True)
    assert a == 0 or best[0] == 10  # free guesses: each one adds a^k more
    assert a == 1 or best[-1] == 1  # a guess as dear as a step pays only when it always holds


@pytest.mark.parametrize("a", [-0.1, 1.5, float("nan")])
def test_expected_tokens_per_round_refuses_a_rate_outside_0_1(a):
    with pytest.raises(ValueError, match="a="):
        expected_tokens_per_round(a, 3)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("k", [0, -1, 32, 100])
def test_k_out_of_range(tiny, draft, k):
    model, tokenizer = tiny  # window 32: k may be 1..31
    with pytest.raises(
        ValueError, match=rf"k={k} is out of range: it must be in the range 1\.\.31"
    ):
        speculative_greedy(model, tokenizer, "O", 5, draft=draft, k=k)


@pytest.mark.parametrize("k", [2.0, "3", True, None])
def test_k_must_be_an_int(k):
    with pytest.raises(TypeError, match="k must be an int"):
        check_k(k)


def test_draft_with_another_vocabulary_size(bundled):
    model, tokenizer = bundled
    small = NGramDraft.from_ids([1, 2, 3, 1, 2], vocab_size=300, order=2)
    with pytest.raises(ValueError, match=r"vocab_size=300 .* 4096 tokens.*ids 0\.\.4095"):
        speculative_greedy(model, tokenizer, "O", 5, draft=small, k=2)


def test_draft_with_another_tokenizer_of_the_same_size(bundled):
    model, tokenizer = bundled

    class Shuffled:  # the same tokens, two ids swapped: same size, different meaning
        def get_vocab(self):
            v = dict(tokenizer.get_vocab())
            a, b = list(v)[:2]
            v[a], v[b] = v[b], v[a]
            return v

    other = NGramDraft.from_ids([1, 2, 3, 1, 2], 4096, 2, fingerprint=vocab_fingerprint(Shuffled()))
    with pytest.raises(ValueError, match="another tokenizer"):
        speculative_greedy(model, tokenizer, "O", 5, draft=other, k=2)


def test_draft_must_have_propose(bundled):
    model, tokenizer = bundled
    with pytest.raises(TypeError, match="draft must have .propose"):
        speculative_greedy(model, tokenizer, "O", 5, draft="ngram", k=2)


@pytest.mark.parametrize(
    "p,msg",
    [
        (torch.tensor([0.5, 0.6]), "sums to 1.1"),
        (torch.tensor([1.5, -0.5]), ">= 0"),
        (torch.ones(2, 2) / 4, "1-D"),
    ],
)
def test_rule_rejects_bad_distributions(p, msg):
    with pytest.raises(ValueError, match=msg):
        rule_distribution(p, torch.tensor([0.5, 0.5]))


def test_rule_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same length, got 2 and 3"):
        rule_distribution(torch.tensor([0.5, 0.5]), torch.ones(3) / 3)


# --------------------------------------------------------------------------- the sampling rule
def _dist(weights, zeros):
    w = torch.tensor(weights, dtype=torch.float64)
    for i in zeros:
        w[i % len(w)] = 0.0
    if w.sum() == 0:
        w[0] = 1.0
    return w / w.sum()


dists = st.integers(2, 12).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(0.0, 10.0), min_size=n, max_size=n),
        st.lists(st.floats(0.0, 10.0), min_size=n, max_size=n),
        st.lists(st.integers(0, n - 1), max_size=n - 1),
        st.lists(st.integers(0, n - 1), max_size=n - 1),
    )
)


@given(dists)
def test_rule_output_distribution_is_exactly_p(pq):
    wp, wq, zp, zq = pq
    p, q = _dist(wp, zp), _dist(wq, zq)  # zeros on both sides: q misses tokens p has, and back
    out = rule_distribution(p, q)
    assert torch.allclose(out, p, atol=1e-12)
    accept = (q * acceptance_probs(p, q)).sum()
    assert float(accept) == pytest.approx(float(torch.minimum(p, q).sum()), abs=1e-12)
    assert float(residual(p, q).sum()) == pytest.approx(1.0)


def test_accepting_every_draft_token_would_give_q_not_p():
    p, q = torch.tensor([0.7, 0.2, 0.1]), torch.tensor([0.1, 0.3, 0.6])
    assert not torch.allclose(q, p)  # the naive rule's output is q
    assert torch.allclose(rule_distribution(p, q), p)


def test_rule_frequencies_match_p_with_a_fixed_seed():
    g = torch.Generator().manual_seed(0)
    p = torch.tensor([0.5, 0.25, 0.15, 0.1, 0.0], dtype=torch.float64)
    q = torch.tensor([0.1, 0.1, 0.3, 0.2, 0.3], dtype=torch.float64)
    tokens, accepted = simulate_rule(p, q, 200_000, g)
    freq = torch.bincount(tokens, minlength=5).double() / tokens.numel()
    assert float((freq - p).abs().sum()) / 2 < 0.005  # total variation distance
    assert float(accepted.double().mean()) == pytest.approx(
        float(torch.minimum(p, q).sum()), abs=0.005
    )
    assert int((tokens == 4).sum()) == 0  # p(4) = 0: never output, though q proposes it often


def test_accept_or_resample_one_step():
    p = torch.tensor([0.0, 1.0])
    q = torch.tensor([1.0, 0.0])
    g = torch.Generator().manual_seed(0)
    assert accept_or_resample(p, q, 0, g) == (1, False)  # p(0)=0: always rejected, then 1
    assert accept_or_resample(q, q, 0, g) == (0, True)  # p == q: always accepted


def _bigram_pair(vocab_size=5, seed=1):
    """A target and a draft that depend on the last token: rows of next-token distributions
    (row vocab_size: at the start), each with a token the other never gives."""
    g = torch.Generator().manual_seed(seed)
    P = torch.rand(vocab_size + 1, vocab_size, generator=g, dtype=torch.float64)
    Q = torch.rand(vocab_size + 1, vocab_size, generator=g, dtype=torch.float64)
    P[:, 0], Q[:, 3] = 0, 0  # the model never writes 0; the draft never guesses 3
    P, Q = P / P.sum(1, keepdim=True), Q / Q.sum(1, keepdim=True)
    return (lambda c: P[c[-1] if c else vocab_size]), (lambda c: Q[c[-1] if c else vocab_size])


def _sampling_twice(p_at, vocab_size):
    return {
        (a, b): float(p_at([])[a] * p_at([a])[b])
        for a in range(vocab_size)
        for b in range(vocab_size)
    }


@pytest.mark.parametrize("k", [1, 2, 3])
def test_first_two_tokens_of_speculative_sampling_are_the_model_sampled_twice(k):
    p_at, q_at = _bigram_pair()
    exact = first_tokens_distribution(p_at, q_at, [], k, n=2)
    target = _sampling_twice(p_at, 5)
    assert sum(exact.values()) == pytest.approx(1.0, abs=1e-12)
    assert all(exact.get(ab, 0.0) == pytest.approx(pab, abs=1e-12) for ab, pab in target.items())
    three = first_tokens_distribution(p_at, q_at, [], k, n=3)  # and a third token, for k = 1..3
    assert all(
        three.get((a, b, c), 0.0) == pytest.approx(pab * float(p_at([b])[c]), abs=1e-12)
        for (a, b), pab in target.items()
        for c in range(5)
    )


def test_any_draft_gives_the_model_but_the_draft_alone_does_not():
    """Whatever the draft (here its own q, or the model itself, when every guess is kept), the
    first two tokens are the model's; keeping the draft's guesses unchecked would be far off."""
    p_at, q_at = _bigram_pair()
    honest = first_tokens_distribution(p_at, q_at, [], 2, n=2)
    assert first_tokens_distribution(p_at, p_at, [], 2, n=2) == pytest.approx(honest, abs=1e-12)
    target = _sampling_twice(p_at, 5)
    draft_twice = {(a, b): float(q_at([])[a] * q_at([a])[b]) for a in range(5) for b in range(5)}
    assert sum(abs(draft_twice[ab] - target[ab]) for ab in target) / 2 > 0.1


def test_sampling_round_counts_match_the_exact_distribution():
    """sampling_round itself, 4000 seeded runs: the first two tokens it emits (rounds chained as
    the sampler does) follow p(a) p(b | a), and rounds that keep both guesses add a bonus token."""
    p_at, q_at = _bigram_pair()
    g = torch.Generator().manual_seed(0)
    counts, lengths = {}, []
    for _ in range(4000):
        out = []
        while len(out) < 2:
            emitted = sampling_round(p_at, q_at, out, 2, g)
            lengths.append(len(emitted))
            out += emitted
        counts[tuple(out[:2])] = counts.get(tuple(out[:2]), 0) + 1
    target = _sampling_twice(p_at, 5)
    tv = sum(abs(counts.get(ab, 0) / 4000 - pab) for ab, pab in target.items()) / 2
    assert tv < 0.05  # sampling noise of 4000 draws over 25 pairs is about 0.02
    assert all(a != 0 and b != 0 for a, b in counts)  # the model never writes token 0
    assert set(lengths) == {1, 2, 3}  # a rejection at guess 1 or 2, or both kept plus the bonus


def test_sampling_round_rejects_bad_k():
    p_at, q_at = _bigram_pair()
    with pytest.raises(ValueError, match="k"):
        sampling_round(p_at, q_at, [], 0, torch.Generator())
    with pytest.raises(ValueError, match="n"):
        first_tokens_distribution(p_at, q_at, [], 1, n=0)


def _random_gpt2(vocab_size, seed):
    from transformers import GPT2LMHeadModel

    from helpers.models import tiny_gpt2_config

    torch.manual_seed(seed)
    cfg = tiny_gpt2_config(vocab_size, n_layer=1, n_head=2, n_embd=16, n_positions=64)
    return GPT2LMHeadModel(cfg).eval()
