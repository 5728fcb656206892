"""Leverage scores against dense QR/SVD, and the approximation's documented accuracy."""

import numpy as np
import pytest
import scipy.sparse as sp

from randopt.sketch import leverage_scores


def reference_scores(A):
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    r = int(np.sum(s > s[0] * max(A.shape) * np.finfo(float).eps))
    return (U[:, :r] ** 2).sum(axis=1), r


def coherent_matrix(rng, n=3000, d=20):
    A = rng.standard_normal((n, d))
    A[:5] *= 1e4  # five rows with leverage near one
    return A


@pytest.mark.parametrize("kind", ["gaussian", "coherent", "rank_deficient", "wide"])
def test_exact_matches_dense_svd(kind, rng):
    if kind == "gaussian":
        A = rng.standard_normal((500, 12))
    elif kind == "coherent":
        A = coherent_matrix(rng, 500, 12)
    elif kind == "rank_deficient":
        B = rng.standard_normal((500, 5))
        A = B @ rng.standard_normal((5, 12))
    else:
        A = rng.standard_normal((8, 30))
    ref, r = reference_scores(A)
    got = leverage_scores(A)
    np.testing.assert_allclose(got, ref, atol=1e-10)
    np.testing.assert_allclose(got.sum(), r, atol=1e-8)
    assert np.all(got <= 1 + 1e-10)


def test_exact_sparse_equals_dense(rng):
    A = sp.random(400, 15, density=0.3, random_state=1, format="csr") + sp.eye(400, 15)
    np.testing.assert_allclose(leverage_scores(A), reference_scores(A.toarray())[0], atol=1e-10)


@pytest.mark.parametrize("kind", ["gaussian", "coherent", "sparse"])
def test_approx_within_documented_accuracy(kind, rng):
    if kind == "sparse":
        A = sp.random(4000, 20, density=0.2, random_state=2, format="csr")
    elif kind == "coherent":
        A = coherent_matrix(rng, 4000, 20)
    else:
        A = rng.standard_normal((4000, 20)) * rng.exponential(size=(4000, 1))
    ref = reference_scores(A.toarray() if sp.issparse(A) else A)[0]
    approx = leverage_scores(A, method="approx", random_state=0)
    empty = ref == 0  # all-zero rows of the sparse matrix have score zero, exactly
    np.testing.assert_array_equal(approx[empty], 0.0)
    approx, ref = approx[~empty], ref[~empty]
    rel = np.abs(approx - ref) / ref
    assert np.median(rel) < 0.2  # documented: 0.105 to 0.139 at the defaults
    ratio = approx / ref
    assert ratio.min() > 0.4 and ratio.max() < 2.5  # documented: [0.52, 2.09] at d=100
    big = leverage_scores(A, method="approx", sketch_size=40 * 20, jl_dim=256, random_state=0)
    ratio = big[~empty] / ref
    assert ratio.min() > 0.75 and ratio.max() < 1.33  # documented: [0.84, 1.21]
    # The five coherent rows are found: their scores are the largest.
    if kind == "coherent":
        assert set(np.argsort(approx)[-5:]) == set(range(5))  # no row is empty here


def test_approx_rank_deficient_sums_to_rank(rng):
    A = rng.standard_normal((3000, 4)) @ rng.standard_normal((4, 10))
    approx = leverage_scores(A, method="approx", jl_dim=512, random_state=0)
    assert abs(approx.sum() - 4) < 0.4


def test_bad_input(rng):
    with pytest.raises(ValueError, match="method"):
        leverage_scores(np.ones((3, 2)), method="fast")
    with pytest.raises(ValueError, match="NaN"):
        leverage_scores(np.array([[1.0, np.nan], [0, 1]]))
    with pytest.raises(ValueError, match="sketch_size"):
        leverage_scores(rng.standard_normal((100, 10)), method="approx", sketch_size=5)
    with pytest.raises(TypeError, match="complex"):
        leverage_scores(np.ones((3, 2), dtype=complex))


@pytest.mark.parametrize("n", [30, 200])
def test_approx_never_exceeds_one_even_when_n_is_at_most_the_sketch_size(n, rng):
    # n <= sketch_size (10 d = 200): no sketch can shrink A, the exact scores are
    # returned; above it the estimates are clipped to the valid range [0, 1].
    A = rng.standard_normal((n, 20))
    A[:3] *= 1e3
    approx = leverage_scores(A, method="approx", random_state=0)
    assert approx.max() <= 1.0 and approx.min() >= 0.0
    np.testing.assert_allclose(approx, reference_scores(A)[0], atol=1e-10)


def test_approx_is_clipped_at_one_for_coherent_rows(rng):
    A = coherent_matrix(rng, 3000, 20)
    raw_max = 0.0
    for seed in range(5):
        approx = leverage_scores(A, method="approx", jl_dim=8, random_state=seed)
        assert approx.max() <= 1.0
        raw_max = max(raw_max, approx.max())
    assert raw_max == 1.0  # the JL estimate of a leverage-one row overshoots: clipped


def test_sketch_size_error_states_the_true_default(rng):
    with pytest.raises(ValueError, match=r"min\(n, 10 d\) = 100"):
        leverage_scores(rng.standard_normal((1000, 10)), method="approx", sketch_size=5)


def test_operator_is_refused():
    from scipy.sparse.linalg import aslinearoperator

    with pytest.raises(TypeError, match="LinearOperator"):
        leverage_scores(aslinearoperator(np.eye(3)))
