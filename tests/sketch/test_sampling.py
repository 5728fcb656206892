"""Row sampling: unbiased importance weights (statistical tests) and argument checks."""

import numpy as np
import pytest

from randopt.sketch import (
    inclusion_probabilities,
    leverage_sample,
    row_norm_probabilities,
    row_norm_sample,
    sample_rows,
    uniform_sample,
)


def _replicates(draw, f, reps):
    return np.array([np.sum(w * f[i]) for i, w in (draw(r) for r in range(reps))])


@pytest.mark.parametrize("replace", [True, False])
def test_sample_rows_is_unbiased(replace):
    rng = np.random.default_rng(0)
    n = 400
    f = rng.standard_normal(n) * rng.exponential(size=n)
    p = rng.exponential(size=n)
    p[:20] = 0.0  # rows of zero probability are never drawn
    f[:20] = 0.0
    p /= p.sum()
    est = _replicates(lambda r: sample_rows(p, 40, replace=replace, random_state=r), f, 4000)
    se = est.std(ddof=1) / np.sqrt(est.size)
    # Five standard errors: a false alarm has probability below 1e-6.
    assert abs(est.mean() - f.sum()) <= 5 * se


def test_with_replacement_variance_matches_closed_form():
    rng = np.random.default_rng(1)
    n, s = 200, 25
    f = rng.standard_normal(n)
    p = rng.uniform(0.2, 1.0, n)
    p /= p.sum()
    est = _replicates(lambda r: sample_rows(p, s, random_state=r), f, 6000)
    var = (np.sum(f**2 / p) - f.sum() ** 2) / s
    # The sample variance of 6000 draws is within 10% of the truth with overwhelming probability.
    assert abs(est.var(ddof=1) / var - 1) < 0.1


def test_poisson_sampling_expected_size_and_certain_rows():
    p = np.array([0.5, 0.3] + [0.2 / 98] * 98)
    pi = inclusion_probabilities(p, 10)
    np.testing.assert_allclose(pi.sum(), 10)
    assert pi[0] == 1.0 and pi[1] == 1.0  # capped rows are always kept
    sizes = [sample_rows(p, 10, replace=False, random_state=r).indices.size for r in range(500)]
    assert abs(np.mean(sizes) - 10) < 0.3
    idx, w = sample_rows(p, 10, replace=False, random_state=0)
    assert 0 in idx and np.all(np.diff(idx) > 0)


def test_uniform_sample_exact_size_without_replacement():
    idx, w = uniform_sample(1000, 0.05, random_state=0)
    assert idx.size == 50 and np.unique(idx).size == 50
    np.testing.assert_allclose(w, 1000 / 50)
    a, _ = uniform_sample(1000, 50, random_state=3)
    b, _ = uniform_sample(1000, 50, random_state=3)
    np.testing.assert_array_equal(a, b)


def test_row_norm_and_leverage_samples(rng):
    A = rng.standard_normal((300, 4)) * rng.exponential(size=(300, 1))
    p = row_norm_probabilities(A)
    np.testing.assert_allclose(p, (A**2).sum(1) / (A**2).sum())
    f = rng.standard_normal(300)
    est = _replicates(lambda r: row_norm_sample(A, 30, random_state=r), f, 3000)
    assert abs(est.mean() - f.sum()) <= 5 * est.std(ddof=1) / np.sqrt(est.size)
    idx, w = leverage_sample(A, 0.1, random_state=0)
    assert idx.size == 30


@pytest.mark.parametrize(
    "p, size, match",
    [
        ([0.5, 0.6], 1, "sum to"),
        ([-0.5, 1.5], 1, "negative"),
        ([np.nan, 1.0], 1, "NaN"),
        ([], 1, "empty"),
        ([[0.5, 0.5]], 1, "1-D"),
        ([0.5, 0.5], 0, "size"),
    ],
)
def test_bad_probabilities(p, size, match):
    with pytest.raises(ValueError, match=match):
        sample_rows(p, size)


def test_bad_sizes():
    with pytest.raises(ValueError, match="at most"):
        sample_rows([0.5, 0.5], 3, replace=False)
    with pytest.raises(ValueError, match="between 1 and"):
        uniform_sample(10, 11)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        uniform_sample(10, 0.0)
    with pytest.raises(TypeError, match="random_state"):
        uniform_sample(10, 2, random_state="seed")
