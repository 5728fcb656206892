"""The native multiclass losses: SoftmaxLoss and OneHotSigmoidLeastSquaresLoss.

References are independent of the kernels: SciPy's ``logsumexp``/``softmax``/``expit``
on the logits, the per-row ``K x K`` curvature as dense matrices and the Hessian as a
dense einsum ``sum_i c_i (a_i a_i^T) kron C_i``; finite differences; scikit-learn's
multinomial logistic regression. Tolerances of the exact comparisons are rounding
bounds (``gamma_m = m eps`` times the sum of the absolute terms, Higham's bound for a
sum of ``m`` terms, with ``m`` counting the products inside each term); those of
finite differences are the truncation-plus-rounding error of the central difference.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, logsumexp, softmax
from threadpoolctl import threadpool_limits

from randopt.operands import as_operand
from randopt.optimize import trust_region
from randopt.oracles import (
    FiniteSum,
    HessianSampler,
    LogisticLoss,
    OneHotSigmoidLeastSquaresLoss,
    SoftmaxLoss,
)

EPS = np.finfo(np.float64).eps
LOSSES = {"softmax": SoftmaxLoss, "one_hot_sls": OneHotSigmoidLeastSquaresLoss}


# --------------------------------------------------------------------------- #
# independent references
# --------------------------------------------------------------------------- #
def reference_rows(name, T, y):
    """Per-row loss, dl/dt, the K x K Hessian in t, and the Gauss-Newton K x K matrix."""
    n, K = T.shape
    Y = np.eye(K)[y]
    if name == "softmax":
        P = softmax(T, axis=1)
        C = np.einsum("ik,kl->ikl", P, np.eye(K)) - P[:, :, None] * P[:, None, :]
        return logsumexp(T, axis=1) - T[np.arange(n), y], P - Y, C, C
    S = expit(T)
    R = S - Y
    D = S * (1 - S)
    second = 2 * (R * D * (1 - 2 * S) + D * D)
    eye = np.eye(K)
    return (R**2).sum(1), 2 * R * D, second[:, :, None] * eye, (2 * D * D)[:, :, None] * eye


def reference_objective(name, X, y, K, w, alpha, sw):
    """Value, gradient and Hessian of the finite sum, with rounding magnitudes."""
    n, d = X.shape
    W = w.reshape(d, K)
    loss, first, C, _ = reference_rows(name, X @ W, y)
    c = sw / sw.sum()
    value = c @ loss + 0.5 * alpha * w @ w
    grad = (X.T @ (c[:, None] * first)).ravel() + alpha * w
    H = np.einsum("i,ia,ikl,ib->akbl", c, X, C, X).reshape(d * K, d * K) + alpha * np.eye(d * K)
    # sums of absolute terms (the logits' own rounding enters through dl/dt and C)
    absT = np.abs(X) @ np.abs(W)
    mag_v = c @ (np.abs(loss) + np.sum(np.abs(first) * absT, axis=1)) + 0.5 * alpha * w @ w
    mag_g = (np.abs(X).T @ (c[:, None] * np.abs(first))).ravel() + alpha * np.abs(w)
    mag_h = np.einsum("i,ia,ikl,ib->akbl", c, np.abs(X), np.abs(C), np.abs(X)).reshape(H.shape)
    return value, grad, H, (mag_v, mag_g, mag_h + alpha * np.eye(d * K))


def assert_rounding_close(actual, expected, magnitude, terms):
    """``|actual - expected| <= 16 terms eps magnitude`` entrywise (a rounding bound)."""
    bound = 16 * terms * EPS * np.asarray(magnitude) + 1e-300
    err = np.abs(np.asarray(actual) - np.asarray(expected))
    ratio = np.max(err / bound)
    assert ratio <= 1, f"max error {err.max():.3g} exceeds the rounding bound {ratio:.3g} times"


def problem(rng, kind="dense", n=60, d=4, K=3, scale=1.0):
    X = rng.standard_normal((n, d))
    y = np.argmax(X @ rng.standard_normal((d, K)) + rng.gumbel(size=(n, K)), axis=1)
    if kind == "csr":
        X[rng.random(X.shape) < 0.5] = 0.0
        return sp.csr_matrix(X), X, y
    if kind == "f32":
        X = X.astype(np.float32)
        return X, X.astype(np.float64), y
    if kind == "fortran":
        return np.asfortranarray(X), X, y
    return X, X, y


# --------------------------------------------------------------------------- #
# derivatives and the explicit forms
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", LOSSES)
def test_pointwise_matches_scipy_reference(rng, name):
    K = 4
    T = 3 * rng.standard_normal((50, K))
    y = rng.integers(0, K, 50)
    loss, first, second = LOSSES[name](K).pointwise(T, y)
    ref_loss, ref_first, ref_C, _ = reference_rows(name, T, y)
    # per row: a few exp/log and K-term sums of terms of size |t|
    mag = np.abs(ref_loss) + np.abs(T).max(axis=1)
    assert_rounding_close(loss, ref_loss, mag, 4 * K)
    assert_rounding_close(first, ref_first, 1.0 + np.abs(ref_first), 4 * K)
    if name == "softmax":
        P = second
        np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=4 * K * EPS)
        C = np.einsum("ik,kl->ikl", P, np.eye(K)) - P[:, :, None] * P[:, None, :]
    else:
        C = second[:, :, None] * np.eye(K)
    assert_rounding_close(C, ref_C, 1.0, 4 * K)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("kind", ["dense", "csr", "f32"])
def test_oracles_match_dense_reference(rng, name, kind):
    X, X64, y = problem(rng, kind)
    n, d = X64.shape
    K = 3
    sw = rng.uniform(0.0, 2.0, n)
    f = FiniteSum(X, y, LOSSES[name](K), alpha=0.1, sample_weight=sw)
    assert f.n_features == d * K
    w = 0.5 * rng.standard_normal(d * K)
    value, grad, H, (mag_v, mag_g, mag_h) = reference_objective(name, X64, y, K, w, 0.1, sw)
    ev = f.evaluate(w)
    terms = n + d * K
    assert_rounding_close(ev.fun, value, mag_v, terms)
    assert_rounding_close(ev.grad, grad, mag_g, terms)
    assert_rounding_close(f.hessian(w), H, mag_h, terms)
    assert ev.curvature.shape == (n, K)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_finite_differences_of_value_gradient_hessian(rng, name, kind):
    X, _, y = problem(rng, kind, n=40)
    K, d = 3, 4
    f = FiniteSum(X, y, LOSSES[name](K), alpha=0.05, sample_weight=rng.uniform(0, 2, 40))
    w = 0.4 * rng.standard_normal(d * K)
    # central differences: truncation h^2 |f'''| / 6 plus rounding eps |f| / h; with
    # h = 1e-5, |f| ~ 1 and third derivatives ~ max ||a||^3 < 50 here, both < 1e-9.
    h = 1e-5
    eye = np.eye(d * K)
    fd_g = np.array([(f.value(w + h * e) - f.value(w - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(f.gradient(w), fd_g, rtol=0, atol=1e-8)
    fd_h = np.column_stack([(f.gradient(w + h * e) - f.gradient(w - h * e)) / (2 * h)
                            for e in eye])
    np.testing.assert_allclose(f.hessian(w), fd_h, rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_sampled_hessian_products_equal_matrix_columns(rng, name, kind):
    X, X64, y = problem(rng, kind, n=80)
    K, d = 3, 4
    f = FiniteSum(X, y, LOSSES[name](K), alpha=0.1, sample_weight=rng.uniform(0, 2, 80))
    w = rng.standard_normal(d * K)
    idx = rng.integers(0, 80, 25)  # repeats allowed
    sample = (idx, rng.uniform(1.0, 4.0, 25))
    H = f.hessian(w, sample=sample)
    model = f.hessian_model(w, sample=sample, explicit=False)
    cols = np.column_stack([model.matvec(e) for e in np.eye(d * K)])
    # same sums in another order: products X_S^T (C (X_S e)) of 25 rows
    np.testing.assert_allclose(cols, H, rtol=0, atol=64 * 25 * EPS * np.abs(H).max())
    np.testing.assert_array_equal(H, H.T)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_hessian_forms_against_einsum_with_rows_and_weights(rng, name):
    """hessian_matrix / hessian_matvec of a loss on selected rows of dense and CSR data."""
    K, d, n = 4, 5, 30
    X = rng.standard_normal((n, d))
    X[rng.random(X.shape) < 0.3] = 0.0
    loss = LOSSES[name](K)
    T = X @ rng.standard_normal((d, K))
    _, _, C, _ = reference_rows(name, T, rng.integers(0, K, n))
    curv = np.diagonal(C, axis1=1, axis2=2).copy() if name != "softmax" else softmax(T, axis=1)
    idx = np.array([3, 3, 0, 29, 7])
    h = rng.uniform(0.1, 2.0, idx.size)
    Q = curv[idx] * h[:, None]
    A = X[idx]
    ref = np.einsum("i,ia,ikl,ib->akbl", h, A, C[idx], A).reshape(d * K, d * K)
    absA = np.abs(A)
    mag = np.einsum("i,ia,ikl,ib->akbl", h, absA, np.abs(C[idx]), absA).reshape(ref.shape)
    v = rng.standard_normal(d * K)
    for rows in (as_operand(X), as_operand(sp.csr_matrix(X))):
        assert_rounding_close(loss.hessian_matrix(rows, idx, Q), ref, mag, 4 * K + idx.size)
        assert_rounding_close(loss.hessian_matvec(rows, idx, Q, v), ref @ v, mag @ np.abs(v),
                              4 * K + d * K + idx.size)


def test_block_pass_formats_agree(rng):
    """Dense blocks longer than one cache block, CSR, CSC and F-ordered rows: one answer."""
    n, d, K = 700, 300, 5  # 700 rows of 300 columns: several blocks of the dense pass
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    X[rng.random(X.shape) < 0.7] = 0.0
    y = rng.integers(0, K, n)
    w = rng.standard_normal(d * K)
    r = rng.uniform(0, 2, n)
    for name, cls in LOSSES.items():
        loss = cls(K)
        outs = []
        for data in (X, sp.csr_matrix(X), sp.csc_matrix(X), np.asfortranarray(X)):
            C = np.empty((n, K))
            total, g = loss.block_pass(as_operand(data), y, w, r, True, C)
            outs.append((total, g, C))
        ref_loss, ref_first, _, _ = reference_rows(name, X @ w.reshape(d, K), y)
        for total, g, C in outs:
            np.testing.assert_allclose(total, r @ ref_loss, rtol=1e-12)
            np.testing.assert_allclose(g, (X.T @ (r[:, None] * ref_first)).ravel(), rtol=1e-11,
                                       atol=1e-12 * np.abs(g).max())
            np.testing.assert_allclose(C, outs[0][2], rtol=1e-13, atol=1e-16)


# --------------------------------------------------------------------------- #
# numerical safety and invariances
# --------------------------------------------------------------------------- #
def test_softmax_huge_logits_are_exact():
    X = np.array([[1.0], [1.0], [2.0]])
    y = np.array([2, 0, 1])
    w = np.array([1e300, 0.0, -1e300])  # logits (1e300, 0, -1e300) and twice that
    loss = SoftmaxLoss(3)
    C = np.empty((3, 3))
    with np.errstate(all="raise"):  # exp(-2e300) underflows to 0 silently, nothing else
        total, g = loss.block_pass(as_operand(X), y, w, None, True, C)
        total_csr, g_csr = loss.block_pass(as_operand(sp.csr_matrix(X)), y, w, None, True, None)
    assert (total_csr, g_csr.tolist()) == (total, g.tolist())
    # row 0: 1e300 - (-1e300); row 1: 0; row 2: 2e300 - 0 (in float64: all exact)
    assert total == 4e300
    np.testing.assert_array_equal(C, [[1, 0, 0]] * 3)
    np.testing.assert_array_equal(g, [1 + 0 + 2, 0 - 0 - 2, -1 + 0 + 0])
    # tiny losses keep their relative accuracy: log1p(2 e^-40), not 0
    small, first, _ = loss.pointwise(np.array([[40.0, 0.0, 0.0]]), [0])
    np.testing.assert_allclose(small[0], 2 * np.exp(-40.0), rtol=4 * EPS)
    np.testing.assert_allclose(first[0, 0], -2 * np.exp(-40.0) / (1 + 2 * np.exp(-40.0)),
                               rtol=4 * EPS)


def test_softmax_curvature_of_confident_rows_keeps_relative_accuracy():
    """1 - p_0 of p = (1 - 2e-20, 1e-20, 1e-20) is summed from the others, not 1 - p_0 = 0."""
    loss = SoftmaxLoss(3)
    p = np.array([[1.0, 1e-20, 1e-20]])  # what the softmax of (46.05, 0, 0) rounds to
    H = loss.hessian_matrix(as_operand(np.ones((1, 1))), None, p)
    # C = diag(p) - p p^T: C_00 = p_0 (p_1 + p_2), C_11 = p_1 (p_0 + p_2), C_01 = -p_0 p_1
    np.testing.assert_allclose(np.diag(H), [2e-20, 1e-20, 1e-20], rtol=4 * EPS)
    np.testing.assert_allclose(H[0, 1], -1e-20, rtol=4 * EPS)
    np.testing.assert_allclose(loss.curvature_magnitude(p), [4e-20], rtol=4 * EPS)


def test_one_hot_sigmoid_huge_logits_stay_finite():
    with np.errstate(all="raise"):
        loss, first, second = OneHotSigmoidLeastSquaresLoss(3).pointwise(
            np.array([[1e300, -1e300, 1e300], [-745.0, 800.0, 0.0]]), [0, 0])
    # row 0: class 0 right (residual 0), class 1 right (0), class 2 wrong (1)
    np.testing.assert_array_equal(loss[:1], [1.0])
    assert np.isfinite(loss).all() and np.isfinite(first).all() and np.isfinite(second).all()
    np.testing.assert_array_equal(first[0], [0.0, 0.0, 0.0])


def test_softmax_null_direction(rng):
    """Adding one vector to every class's weights changes nothing but the penalty."""
    X, _, y = problem(rng, n=50)
    d, K = 4, 3
    f = FiniteSum(X, y, SoftmaxLoss(K))
    w = rng.standard_normal(d * K)
    u = rng.standard_normal(d)
    shift = np.repeat(u, K)  # W + u 1^T in the (d, K) layout
    ev, ev2 = f.evaluate(w), f.evaluate(w + shift)
    # the logits move by a_i^T u in every class: rounding of |t| + |a^T u| per row
    mag = np.mean(np.abs(X) @ (np.abs(w.reshape(d, K)).max(axis=1) + np.abs(u)))
    assert abs(ev2.fun - ev.fun) <= 16 * (d + K) * EPS * (ev.fun + mag)
    np.testing.assert_allclose(ev2.grad, ev.grad, rtol=0, atol=64 * (d + K) * EPS * (1 + mag))
    H = f.hessian(w)
    # the data part has the null direction u kron 1, and the gradient is orthogonal to it
    assert np.abs(H @ shift).max() <= 64 * d * K * EPS * np.abs(H).max() * np.abs(shift).max()
    assert abs(ev.grad @ shift) <= 64 * d * K * EPS * np.abs(ev.grad).sum() * np.abs(u).max()
    assert np.linalg.eigvalsh(H).min() >= -64 * d * K * EPS * np.abs(H).max()


def test_caller_arrays_are_not_written(rng):
    X, _, y = problem(rng, n=30)
    sw = rng.uniform(0, 1, 30)
    w = rng.standard_normal(12)
    copies = [a.copy() for a in (X, y, sw, w)]
    f = FiniteSum(X, y, SoftmaxLoss(3), alpha=0.1, sample_weight=sw)
    f.evaluate(w)
    f.hessian(w, sample=[0, 1, 2])
    f.hessp(w, np.ones(12), sample=[4, 4])
    for a, b in zip((X, y, sw, w), copies, strict=True):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- #
# sampling, Gauss-Newton, fit
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", LOSSES)
def test_nonuniform_probabilities_and_unbiased_sampled_hessian(rng, name):
    X, _, y = problem(rng, n=80)
    d, K = 4, 3
    sw = rng.uniform(0, 2, 80)
    f = FiniteSum(X, y, LOSSES[name](K), alpha=0.1, sample_weight=sw)
    w = 0.3 * rng.standard_normal(d * K)
    ev = f.evaluate(w)
    # p_i ~ sw_i ||a_i||^2 size(C_i): the trace of the softmax C, sum |C_kk| for the diagonal
    _, _, C, _ = reference_rows(name, X @ w.reshape(d, K), y)
    size = np.trace(C, axis1=1, axis2=2) if name == "softmax" else np.abs(C).sum(axis=(1, 2))
    p_ref = sw * (X**2).sum(1) * size
    np.testing.assert_allclose(f.hessian_probabilities(ev), p_ref / p_ref.sum(), rtol=1e-12)
    H = f.hessian(w)
    sampler = HessianSampler(f, "nonuniform", 10)
    draws = np.array([f.hessian(ev.x, sample=sampler.draw(ev, rng)) for _ in range(1500)])
    se = draws.std(axis=0) / np.sqrt(len(draws))
    # each entry's mean within 5 standard errors (a normal tail of 6e-7 per entry)
    assert np.all(np.abs(draws.mean(axis=0) - H) <= 5 * se + 1e-12)


def test_one_hot_gauss_newton_equals_residual_jacobian(rng):
    """sum_i c_i 2 J_i^T J_i with J_i the finite-difference Jacobian of sigmoid(W^T a_i) - e_y."""
    X, _, y = problem(rng, n=30)
    d, K = 4, 3
    sw = rng.uniform(0.5, 2, 30)
    loss = OneHotSigmoidLeastSquaresLoss(K)
    f = FiniteSum(X, y, loss, alpha=0.0, sample_weight=sw)
    w = rng.standard_normal(d * K)

    def residuals(v):
        return expit(X @ v.reshape(d, K)) - np.eye(K)[y]

    h = 1e-6
    J = np.stack([(residuals(w + h * e) - residuals(w - h * e)) / (2 * h)
                  for e in np.eye(d * K)], axis=-1)  # (n, K, dK)
    c = sw / sw.sum()
    gn_ref = 2 * np.einsum("i,ika,ikb->ab", c, J, J)
    GN = f.gauss_newton_model(w).toarray()
    # central-difference error of J: h^2 |sigmoid'''| |a|^3 / 6 < 1e-11, rounding eps/h ~ 2e-10
    np.testing.assert_allclose(GN, gn_ref, rtol=0, atol=1e-8)
    assert np.linalg.eigvalsh(GN).min() >= -64 * d * K * EPS * np.abs(GN).max()
    G = loss.gauss_newton_block(as_operand(sp.csr_matrix(X)), y, w)
    np.testing.assert_allclose(G, loss.gauss_newton_block(as_operand(X), y, w), rtol=1e-14)
    assert G.shape == (30, K) and (G >= 0).all()
    # the residuals do not vanish here: the Hessian has the extra term, GN drops it
    assert not np.allclose(GN, f.hessian(w))


def test_softmax_gauss_newton_is_the_hessian(rng):
    X, _, y = problem(rng, n=40)
    f = FiniteSum(X, y, SoftmaxLoss(3), alpha=0.1)
    w = rng.standard_normal(12)
    np.testing.assert_array_equal(f.gauss_newton_model(w).toarray(), f.hessian(w))
    loss = SoftmaxLoss(3)
    C = np.empty((40, 3))
    loss.block_pass(as_operand(X), y, w, None, False, C)
    np.testing.assert_array_equal(loss.gauss_newton_block(as_operand(X), y, w), C)


def test_trust_region_fit_equals_sklearn_multinomial_on_digits():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    X, y = load_digits(return_X_y=True)
    X = X[::2] / 16.0
    y = y[::2]
    n, alpha = X.shape[0], 1e-2
    f = FiniteSum(X, y, SoftmaxLoss(10), alpha=alpha)
    res = trust_region(f, np.zeros(f.n_features), hessian_sampling="uniform",
                       hessian_sample_size=0.2, gtol=1e-10, random_state=0)
    assert res.status == 0
    with threadpool_limits(1):  # the shared machine: BLAS/OpenMP threads only slow it down
        ref = LogisticRegression(C=1 / (alpha * n), fit_intercept=False, tol=1e-12,
                                 max_iter=10_000).fit(X, y)
    w_ref = ref.coef_.T.ravel()  # coef_ (K, d) is W.T in our (d, K) layout
    g_ours, g_ref = np.linalg.norm(f.gradient(res.x)), np.linalg.norm(f.gradient(w_ref))
    # scikit-learn's point is stationary for our objective (it minimises the same loss) ...
    assert g_ref <= 1e-6
    # ... and alpha-strong convexity bounds the distance between the two points by the
    # gradient norms: ||w - w*|| <= ||grad f(w)|| / alpha for each.
    assert np.linalg.norm(res.x - w_ref) <= (g_ours + g_ref) / alpha
    assert f.value(res.x) <= f.value(w_ref) + 16 * EPS * f.value(w_ref)
    # the minimiser has W 1 = 0 (the penalty removes the softmax's null direction)
    np.testing.assert_allclose(res.x.reshape(-1, 10).sum(axis=1), 0.0, atol=g_ours / alpha)


def test_dask_rows_give_the_in_memory_answer(rng):
    da = pytest.importorskip("dask.array")
    import dask

    X, _, y = problem(rng, n=90)
    w = rng.standard_normal(12)
    local = FiniteSum(X, y, SoftmaxLoss(3), alpha=0.1)
    with dask.config.set(scheduler="synchronous"):
        remote = FiniteSum(da.from_array(X, chunks=(30, 4)), da.from_array(y, chunks=30),
                           SoftmaxLoss(3), alpha=0.1)
        ev = remote.evaluate(w)
        H = remote.hessian(w)
        Hs = remote.hessian(w, sample=[1, 50, 50])
    np.testing.assert_allclose(ev.fun, local.value(w), rtol=1e-13)
    np.testing.assert_allclose(ev.grad, local.gradient(w), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(H, local.hessian(w), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(Hs, local.hessian(w, sample=[1, 50, 50]), rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("bad", [1, 0, 1.5, True, "3", None])
def test_n_classes_is_checked(bad):
    with pytest.raises((TypeError, ValueError), match="n_classes"):
        SoftmaxLoss(bad)


@pytest.mark.parametrize(
    "y, match",
    [
        ([0, 3, 1], r"integers in \[0, 2\]"),
        ([0, -1, 1], r"integers in \[0, 2\]"),
        ([0, 1.5, 1], "not all integers"),
        ([[0, 1, 0]] * 3, "1-D"),
        ([0, np.nan, 1], "NaN"),
        (["a", "b", "c"], "real numbers"),
    ],
)
def test_targets_are_checked(y, match):
    X = np.eye(3)
    with pytest.raises((TypeError, ValueError), match=match):
        FiniteSum(X, y, OneHotSigmoidLeastSquaresLoss(3))


def test_bad_arguments_of_the_loss_methods(rng):
    loss = SoftmaxLoss(3)
    rows = as_operand(rng.standard_normal((5, 2)))
    y = np.array([0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match=r"coef must have shape \(6,\)"):
        loss.block_pass(rows, y, np.zeros(5), None, True, None)
    with pytest.raises(ValueError, match="class indices"):
        # an already-encoded (intp) target out of range: refused, never read out of bounds
        loss.block_pass(rows, np.array([0, 1, 3, 0, 1], dtype=np.intp), np.zeros(6), None,
                        True, None)
    with pytest.raises(ValueError, match="curvature_out"):
        loss.block_pass(rows, y, np.zeros(6), None, False, np.empty(5))
    with pytest.raises(ValueError, match="row_weight"):
        loss.block_pass(rows, y, np.zeros(6), np.ones(4), False, None)
    with pytest.raises(ValueError, match=r"weighted_curvature must have shape \(2, 3\)"):
        loss.hessian_matrix(rows, np.array([0, 1]), np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"v must have shape \(6,\)"):
        loss.hessian_matvec(rows, None, np.ones((5, 3)), np.ones(3))
    with pytest.raises(ValueError, match="t must have shape"):
        loss.pointwise(np.zeros(3), [0, 1, 2])
    with pytest.raises(ValueError, match="curvature"):
        loss.curvature_magnitude(np.ones((4, 2)))


def test_repr_and_binary_losses_untouched():
    assert repr(SoftmaxLoss(4)) == "SoftmaxLoss(n_classes=4)"
    assert repr(OneHotSigmoidLeastSquaresLoss(2)) == "OneHotSigmoidLeastSquaresLoss(n_classes=2)"
    # two classes: the softmax of logits (t0, t1) is the logistic loss of t1 - t0
    X = np.array([[1.0, 2.0], [-1.0, 0.5]])
    y = np.array([1, 0])
    w = np.array([0.3, -0.2, 0.1, 0.4])  # W (2, 2)
    W = w.reshape(2, 2)
    soft = FiniteSum(X, y, SoftmaxLoss(2)).value(w)
    logit = FiniteSum(X, y, LogisticLoss()).value(W[:, 1] - W[:, 0])
    assert soft == pytest.approx(logit, rel=1e-14)
