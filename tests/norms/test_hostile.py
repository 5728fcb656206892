"""Hostile input for randopt.norms (issue 10, hardening; moved beside the norms, issue 17).

Every public name of ``randopt.norms.__all__`` is fed NaN/inf, empty and
one-row/one-column input, every dtype, views, read-only arrays, every scipy.sparse
format (the new sparse arrays included) and malformed CSR, extreme scales and bad
option values.  Required: a ValueError or TypeError whose message names the argument,
or the correct answer checked against a reference; never a crash, a NaN, a silently
wrong number, a broken certified bound, or a write to the caller's arrays.  The
helpers (``readonly``, ``snapshot``/``unchanged``, ``malformed_csr``) are the shared
ones of ``tests/hostile.py``.

Certified brackets are checked in exact rational arithmetic on integer matrices scaled
by ``2**k`` across the exponent range: ``||M||_2**2`` is the largest root of the
characteristic polynomial of ``M^T M`` (computed exactly with fractions), and a Sturm
sequence says whether a root lies above a bound.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from randopt.norms import (
    SOSCertificate,
    SpectralNormalizer,
    conv_normalize,
    conv_operator,
    conv_singular_values,
    conv_spectral_norm,
    hessian_eigenvalues,
    hessian_trace,
    lipschitz_bound,
    sos_upper_bound,
    spectral_clip,
    spectral_density,
    spectral_norm,
    two_to_q_norm,
    verify_sos_certificate,
)
from tests.hostile import malformed_csr, readonly, snapshot, unchanged

METHODS = ["lanczos", "power", "randomized", "exact"]
CONV_METHODS = ["gram", "exact", "power", "lanczos"]
FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --------------------------------------------------------------------------- exact tools
def _charpoly(G: list[list[Fraction]]) -> list[Fraction]:
    """Coefficients (highest degree first) of det(x I - G), exactly (Faddeev-LeVerrier)."""
    n = len(G)
    coeffs = [Fraction(1)]
    M = [[Fraction(0)] * n for _ in range(n)]
    for k in range(1, n + 1):
        # M_k = G M_(k-1) + c_(k-1) I ; c_k = -tr(G M_k) / k
        M = [[sum(G[i][t] * M[t][j] for t in range(n)) + (coeffs[-1] if i == j else 0)
              for j in range(n)] for i in range(n)]
        GM_tr = sum(sum(G[i][t] * M[t][i] for t in range(n)) for i in range(n))
        coeffs.append(-GM_tr / k)
    return coeffs


def _trim(p):
    while len(p) > 1 and p[0] == 0:
        p = p[1:]
    return p


def _rem(a, b):
    a = list(a)
    while len(a) >= len(b) and any(a):
        f = a[0] / b[0]
        for i in range(len(b)):
            a[i] -= f * b[i]
        a = a[1:]
    return _trim(a) if a else [Fraction(0)]


def _sturm(p):
    n = len(p) - 1
    seq = [p, _trim([c * (n - i) for i, c in enumerate(p[:-1])])]
    while len(seq[-1]) > 1 or seq[-1][0] != 0:
        r = _rem(seq[-2], seq[-1])
        if all(c == 0 for c in r):
            break
        seq.append([-c for c in r])
        if len(seq[-1]) == 1:
            break
    return seq


def _sign_changes(values):
    signs = [v for v in values if v != 0]
    return sum(1 for a, b in zip(signs, signs[1:], strict=False) if (a > 0) != (b > 0))


def roots_above(p, x: Fraction) -> int:
    """Number of distinct real roots of p in (x, inf) (Sturm; x may be a root)."""
    seq = _sturm(p)
    at_x = [sum(c * x ** (len(q) - 1 - i) for i, c in enumerate(q)) for q in seq]
    at_inf = [q[0] for q in seq]
    return _sign_changes(at_x) - _sign_changes(at_inf)


def gram_poly(M: np.ndarray):
    """Characteristic polynomial of M^T M (M integer) in fractions."""
    Mi = [[Fraction(int(v)) for v in row] for row in M]
    m, n = len(Mi), len(Mi[0])
    if n > m:  # the smaller Gram matrix has the same non-zero spectrum
        Mi = [list(col) for col in zip(*Mi, strict=True)]
        m, n = n, m
    G = [[sum(Mi[t][i] * Mi[t][j] for t in range(m)) for j in range(n)] for i in range(n)]
    return _charpoly(G)


def bracket_holds_exactly(M: np.ndarray, k: int, lower: float, upper: float) -> bool:
    """lower <= ||2**k M||_2 <= upper, decided in exact arithmetic."""
    p = gram_poly(M)
    lo = Fraction(lower) / Fraction(2) ** k
    up = Fraction(upper) / Fraction(2) ** k if math.isfinite(upper) else None
    ok_up = up is None or roots_above(p, up * up) == 0
    lo_sq = lo * lo
    value_at = sum(c * lo_sq ** (len(p) - 1 - i) for i, c in enumerate(p))
    ok_lo = lo == 0 or value_at == 0 or roots_above(p, lo_sq) >= 1
    return ok_up and ok_lo


def test_exact_tools_on_known_norms():
    M = np.array([[3, 0], [0, 4]])
    assert bracket_holds_exactly(M, 0, 4.0, 4.0)
    assert not bracket_holds_exactly(M, 0, 4.0, 3.999999)
    assert not bracket_holds_exactly(M, 0, 4.000001, 5.0)
    assert bracket_holds_exactly(M, -1000, 2.0**-998, 2.0**-998)


# ------------------------------------------------------------------------ spectral_norm
A0 = np.random.default_rng(0).standard_normal((7, 5))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "bad, err, words",
    [
        (np.array([[np.nan, 1.0], [1.0, 1.0]]), ValueError, "NaN"),
        (np.array([[np.inf, 1.0], [1.0, 1.0]]), ValueError, "NaN or infinity"),
        (np.zeros((0, 3)), ValueError, "empty"),
        (np.zeros((3, 0)), ValueError, "empty"),
        (A0.astype(complex), TypeError, "complex"),
        (A0.astype(object), TypeError, "dtype object"),
        (np.array([["a", "b"]]), TypeError, "real numbers"),
        (np.ones(3), ValueError, "2-D"),
        (np.ones((2, 2, 2)), ValueError, "2-D"),
        (None, TypeError, "None"),
        (3.0, TypeError, "array-like"),
        (malformed_csr(A0, 10**6), ValueError, "column indices"),
        (malformed_csr(A0, -1), ValueError, "column indices"),
        (sp.csr_matrix(np.where(A0 > 1, np.nan, A0)), ValueError, "NaN"),
    ],
)
def test_spectral_norm_refuses_bad_matrices(method, bad, err, words):
    with pytest.raises(err, match="A") as info:
        spectral_norm(bad, method=method, random_state=0)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "option, value, err",
    [("tol", None, TypeError), ("tol", "a", TypeError), ("tol", np.nan, ValueError),
     ("tol", -1, ValueError), ("tol", 0, ValueError), ("tol", True, TypeError),
     ("tol", np.ones(2), TypeError), ("max_iter", 0, ValueError), ("max_iter", 2.5, TypeError),
     ("max_iter", True, TypeError), ("max_iter", "3", TypeError),
     ("failure_probability", 0, ValueError), ("failure_probability", 1, ValueError),
     ("failure_probability", np.nan, ValueError), ("failure_probability", None, TypeError),
     ("block_size", 0, ValueError), ("block_size", 2.5, TypeError),
     ("n_test_vectors", 0, ValueError), ("n_test_vectors", None, TypeError),
     ("random_state", "a", TypeError), ("random_state", -1, ValueError),
     ("random_state", 1.5, TypeError), ("method", None, ValueError),
     ("method", "LANCZOS", ValueError)],
)
def test_spectral_norm_bad_options(option, value, err):
    with pytest.raises(err, match=option):
        spectral_norm(A0, **{"random_state": 0, option: value})


def _inputs_of(A):
    """Every dtype, layout and sparse format of A that must give A's norm."""
    yield "int", np.rint(A * 4).astype(np.int64), np.rint(A * 4)
    yield "bool", A > 0, (A > 0).astype(float)
    yield "float16", A.astype(np.float16), A.astype(np.float16).astype(float)
    yield "float32", A.astype(np.float32), A.astype(np.float32).astype(float)
    yield "fortran", np.asfortranarray(A), A
    yield "view", A[::2, ::-1], A[::2, ::-1]
    yield "readonly", readonly(A), A
    yield "list", A.tolist(), A
    yield "row", A[:1], A[:1]
    yield "column", A[:, :1], A[:, :1]
    for fmt in ("csr", "csc", "coo", "lil", "dok", "dia", "bsr"):
        yield fmt + "_matrix", sp.csr_matrix(A).asformat(fmt), A
    yield "csr_array", sp.csr_array(A), A
    yield "coo_array", sp.coo_array(A), A
    yield "operator", aslinearoperator(A), A


@pytest.mark.parametrize("method", METHODS)
def test_spectral_norm_every_input_kind_gives_a_bracket(method):
    for label, X, dense in _inputs_of(A0):
        if method == "exact" and label == "operator":
            continue
        before = None if isinstance(X, LinearOperator) else snapshot(X)
        res = spectral_norm(X, method=method, random_state=0)
        true = np.linalg.svd(dense, compute_uv=False)[0]
        assert res.lower <= true * (1 + 1e-15) and res.upper >= true * (1 - 1e-15), label
        assert np.isfinite([res.lower, res.upper, res.norm]).all(), label
        if before is not None:
            assert unchanged(before, X), label


def test_spectral_norm_sums_duplicates_of_unsorted_csr_on_a_copy():
    # 2 x 2 with a duplicated, unsorted entry (0, 1): A = [[0, 3], [1, 0]], norm 3
    data, indices, indptr = np.array([2.0, 0.0, 1.0, 1.0]), np.array([1, 0, 1, 0]), \
        np.array([0, 3, 4])
    M = sp.csr_matrix((data, indices, indptr), shape=(2, 2))
    saved = (M.data.copy(), M.indices.copy(), M.indptr.copy())
    for method in METHODS:
        res = spectral_norm(M, method=method, random_state=0, tol=1e-10)
        assert res.lower <= 3.0 <= res.upper and res.upper <= 3 * (1 + 1e-9)
    after = (M.data, M.indices, M.indptr)
    assert all(np.array_equal(a, b) for a, b in zip(saved, after, strict=True))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("M, true", [(np.ones((20, 20)), 20.0),
                                     (np.outer(np.arange(1, 31), np.arange(1, 11)),
                                      math.sqrt(sum(i * i for i in range(1, 31))
                                                * sum(j * j for j in range(1, 11))))])
def test_spectral_norm_low_rank_is_not_a_stop_with_a_wrong_answer(method, M, true):
    res = spectral_norm(M, method=method, random_state=0, tol=1e-8)
    assert res.lower <= true * (1 + 1e-15) <= res.upper * (1 + 2e-15)
    assert res.norm == pytest.approx(true, rel=1e-7)
    if res.converged:
        assert res.upper <= (1 + 1e-8) * res.lower


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("k", [-1074, -1060, -1000, -600, 0, 600, 1000])
def test_spectral_norm_zero_and_extreme_single_entry(method, k):
    zero = spectral_norm(np.zeros((4, 3)), method=method, random_state=0)
    assert (zero.lower, zero.upper, zero.norm) == (0.0, 0.0, 0.0) and zero.converged
    A = np.zeros((4, 3))
    A[2, 1] = math.ldexp(1.0, k)  # norm exactly 2**k, also subnormal
    res = spectral_norm(A, method=method, random_state=0)
    assert res.lower <= math.ldexp(1.0, k) <= res.upper
    assert res.upper > 0


@FAST
@given(
    M=st.lists(st.lists(st.integers(-6, 6), min_size=3, max_size=3), min_size=2,
               max_size=4).filter(lambda rows: any(any(r) for r in rows)),
    k=st.integers(-1060, 1000),
    method=st.sampled_from(METHODS),
)
def test_spectral_norm_certified_bracket_in_exact_arithmetic(M, k, method):
    M = np.array(M)
    A = np.ldexp(M.astype(np.float64), k)
    assert np.array_equal(np.ldexp(A, -k), M)  # scaling exact (also when subnormal)
    res = spectral_norm(A, method=method, random_state=0)
    assert bracket_holds_exactly(M, k, res.lower, res.upper), (res.lower, res.upper)
    assert res.failure_probability in (0.0, 1e-6)


@FAST
@given(k=st.integers(-1000, 1000), method=st.sampled_from(METHODS[:3]))
def test_spectral_norm_of_an_operator_across_the_exponent_range(k, method):
    # A LinearOperator's scale comes from one product; np.linalg.norm of it underflowed
    # below ~1e-160, and the bracket [0, 0] was reported for a non-zero operator.
    M = np.rint(A0 * 4)
    L = LinearOperator(M.shape, matvec=lambda v: np.ldexp(M @ v, k),
                       rmatvec=lambda u: np.ldexp(M.T @ u, k), dtype=np.float64)
    res = spectral_norm(L, method=method, random_state=0)
    assert res.upper > 0
    assert bracket_holds_exactly(M, k, res.lower, res.upper), (res.lower, res.upper)


# ------------------------------------------------------------------ convolution norms
K0 = np.random.default_rng(1).standard_normal((2, 3, 3, 3))
CONV_FUNCS = [conv_spectral_norm, conv_singular_values, conv_operator, conv_normalize]


def _nan_kernel():
    K = K0.copy()
    K[0, 0, 0, 0] = np.nan
    return K


@pytest.mark.parametrize("func", CONV_FUNCS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "kernel, shape, err, name",
    [
        (_nan_kernel(), (5, 5), ValueError, "kernel"),
        (K0 * np.inf, (5, 5), ValueError, "kernel"),
        (np.zeros((0, 3, 3, 3)), (5, 5), ValueError, "kernel"),
        (K0[0], (5, 5), ValueError, "kernel"),
        (K0.astype(complex), (5, 5), TypeError, "kernel"),
        (K0.astype(object), (5, 5), TypeError, "kernel"),
        (K0.astype(str), (5, 5), TypeError, "kernel"),
        (None, (5, 5), TypeError, "kernel"),
        (K0, (6.9, 5.9), TypeError, "input_shape"),
        (K0, (-5, 5), ValueError, "input_shape"),
        (K0, (0, 5), ValueError, "input_shape"),
        (K0, None, TypeError, "input_shape"),
        (K0, "ab", TypeError, "input_shape"),
        (K0, (5,), ValueError, "input_shape"),
        (K0, (5, 5, 5), ValueError, "input_shape"),
        (K0, (True, True), TypeError, "input_shape"),
        (K0, (5, np.nan), TypeError, "input_shape"),
        (K0, (2, 2), ValueError, "input_shape"),
    ],
)
def test_conv_functions_refuse_bad_kernels_and_shapes(func, kernel, shape, err, name):
    with pytest.raises(err, match=name):
        func(kernel, shape)


@pytest.mark.parametrize(
    "func, option, value, err",
    [(f, "layout", v, ValueError) for f in CONV_FUNCS for v in ("x", None)]
    + [(f, "padding", v, e) for f in (conv_spectral_norm, conv_operator)
       for v, e in (("x", ValueError), (None, TypeError), (-1, ValueError),
                    (1.5, TypeError), ("same", ValueError))]
    + [(f, "stride", v, e) for f in (conv_spectral_norm, conv_operator)
       for v, e in ((0, ValueError), (-1, ValueError), (1.5, TypeError), (None, TypeError),
                    ("a", TypeError), (True, TypeError))]
    + [(conv_spectral_norm, "method", "x", ValueError), (conv_spectral_norm, "tol", np.nan,
                                                         ValueError),
       (conv_spectral_norm, "tol", 0, ValueError), (conv_singular_values, "method", "x",
                                                    ValueError),
       (conv_normalize, "eps", -1, ValueError), (conv_normalize, "eps", np.nan, ValueError),
       (conv_normalize, "eps", None, TypeError)],
    ids=str,
)
def test_conv_bad_options(func, option, value, err):
    with pytest.raises(err, match=option):
        func(K0, (5, 5), **{option: value})


def _conv_dense(K, shape, **kw):
    op = conv_operator(K, shape, **kw)
    return op @ np.eye(op.shape[1])


@pytest.mark.parametrize("method", CONV_METHODS)
def test_conv_spectral_norm_dtypes_views_and_readonly(method):
    for K in (K0.astype(np.float16), np.rint(K0 * 3).astype(int), K0 > 0, K0.astype(np.float32),
              readonly(K0), K0[:, :, ::-1, :], np.asfortranarray(K0)):
        before = np.array(K, copy=True)
        ref = np.asarray(K, dtype=np.float64)
        true = np.linalg.svd(_conv_dense(ref, (5, 5)), compute_uv=False)[0]
        res = conv_spectral_norm(K, (5, 5), method=method, random_state=0)
        assert res.lower <= true * (1 + 1e-13) and res.upper >= true * (1 - 1e-13)
        assert np.array_equal(before, K)


@FAST
@given(k=st.integers(-1040, 1000), method=st.sampled_from(CONV_METHODS),
       padding=st.sampled_from(["circular", "zeros"]))
def test_conv_spectral_norm_bracket_across_the_exponent_range(k, method, padding):
    K = np.rint(K0 * 4)  # integer kernel: 2**k K exact
    dense = _conv_dense(K, (4, 5), padding=padding)
    true = np.linalg.svd(dense, compute_uv=False)[0]
    res = conv_spectral_norm(np.ldexp(K, k), (4, 5), method=method, padding=padding,
                             random_state=0)
    lo, up = math.ldexp(res.lower, -k), math.ldexp(res.upper, -k) if math.isfinite(
        res.upper) else math.inf
    # Dense SVD of the integer operator is accurate to a few ulps; the margins are larger.
    assert lo <= true * (1 + 1e-13) and up >= true * (1 - 1e-13), (lo, true, up)
    assert res.upper > 0 and np.isfinite(res.lower)


@pytest.mark.parametrize("k", [-1040, -600, 0, 600, 1000])
def test_conv_singular_values_scale_exactly(k):
    K = np.rint(K0 * 4)
    ref = np.sort(np.linalg.svd(_conv_dense(K, (5, 5)), compute_uv=False))[::-1]
    sv = conv_singular_values(np.ldexp(K, k), (5, 5))
    assert np.isfinite(sv).all()
    np.testing.assert_allclose(np.ldexp(sv, -k)[: ref.size], ref, rtol=1e-12,
                               atol=1e-12 * ref[0])


def test_conv_zero_kernel_gives_zero_bracket():
    res = conv_spectral_norm(np.zeros_like(K0), (5, 5))
    assert res.lower == res.upper == 0.0
    assert not conv_singular_values(np.zeros_like(K0), (5, 5)).any()


@pytest.mark.parametrize("scale", [2.0**-1040, 1e-300, 1e-150, 1.0, 1e150, 1e300])
def test_conv_normalize_does_not_depend_on_the_kernel_scale(scale):
    # eps scaled with the kernel: the normalised layer is the same (was: a zero kernel
    # for 1e300, an unnormalised one for 1e-300).
    K = np.rint(K0 * 4)  # integer: exact at every scale, subnormal included
    ref = conv_normalize(K, (5, 5), eps=0.0)
    res = conv_normalize(K * scale, (5, 5), eps=0.0)
    np.testing.assert_allclose(res.kernel, ref.kernel, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.singular_values, ref.singular_values, rtol=1e-12)
    assert res.condition_number == pytest.approx(ref.condition_number, rel=1e-10)
    assert np.isfinite(res.scale).all() or scale < 1e-300


def test_conv_normalize_tiny_kernel_with_eps_is_regularised_not_zeroed():
    # |P|^2 << eps: the layer is P / sqrt(eps), of norm ||K|| / 1e-6 (not 0).
    res = conv_normalize(K0 * 1e-300, (5, 5), eps=1e-12)
    top = conv_singular_values(K0, (5, 5))[0]
    assert res.norm == pytest.approx(top * 1e-300 / 1e-6, rel=1e-9)


def test_conv_normalize_vanishing_channel_with_eps_zero_is_finite():
    K = K0.copy()
    K[0] = 0.0
    res = conv_normalize(K, (5, 5), eps=0.0)
    assert np.isfinite(res.kernel).all() and np.isfinite(res.scale).all()
    assert res.norm == pytest.approx(1.0, rel=1e-12)


def test_conv_operator_products_match_the_definition():
    K = np.rint(K0 * 3)
    op = conv_operator(readonly(K), (4, 4))
    x = np.random.default_rng(2).standard_normal(op.shape[1])
    X = x.reshape(3, 4, 4)
    got = (op @ x).reshape(2, 4, 4)

    def circular(sign, centre):
        y = np.zeros((2, 4, 4))
        for o in range(2):
            for i in range(3):
                for a in range(3):
                    for b in range(3):
                        shift = (sign * (a - centre), sign * (b - centre))
                        y[o] += K[o, i, a, b] * np.roll(X[i], shift, axis=(0, 1))
        return y

    # one of the circular conventions (correlation or convolution, centred or not)
    assert any(np.allclose(got, circular(sg, ct), rtol=1e-12, atol=1e-12)
               for sg in (1, -1) for ct in (0, 1))
    z = np.random.default_rng(3).standard_normal(op.shape[0])
    assert (op @ x) @ z == pytest.approx(x @ (op.T @ z), rel=1e-12)


# ------------------------------------------------------------------------ lipschitz
W0 = np.random.default_rng(4).standard_normal((5, 4))


@pytest.mark.parametrize(
    "layers, err, words",
    [([], ValueError, "layers is empty"), (None, TypeError, "layers"),
     ("ab", TypeError, "layers"), (W0, TypeError, "layers"),
     ([W0 * np.nan], ValueError, "layers[0]"), ([{"a": 1}], TypeError, "layers[0]"),
     ([W0, (_nan_kernel(), (5, 5))], ValueError, "layers[1]"),
     ([(K0, (6.9, 5.9))], TypeError, "input_shape")],
)
def test_lipschitz_bad_layers(layers, err, words):
    with pytest.raises(err) as info:
        lipschitz_bound(layers)
    assert words in str(info.value)


@pytest.mark.parametrize("option, value, err", [
    ("conv_method", "x", ValueError), ("conv_method", None, ValueError),
    ("exact_limit", -1, ValueError), ("exact_limit", 1.5, TypeError),
    ("tol", np.nan, ValueError), ("tol", 0, ValueError), ("random_state", "a", TypeError)])
def test_lipschitz_bad_options(option, value, err):
    with pytest.raises(err, match=option):
        lipschitz_bound([W0], **{option: value})


@pytest.mark.parametrize("s1, s2", [(1e-300, 1e-300), (1e300, 1e-300), (1e-300, 1e300),
                                    (1e200, 1e200), (2.0**-1070, 1.0), (1.0, 1.0)])
def test_lipschitz_product_is_an_upper_bound_over_the_whole_range(s1, s2):
    if s1 * s2 == math.inf:
        # No float64 holds the product: a clear error, never inf (issue 20).
        with pytest.raises(ValueError, match="float64 range"):
            lipschitz_bound([W0 * s1, W0.T * s2])
        return
    res = lipschitz_bound([W0 * s1, W0.T * s2])
    exact = Fraction(1)
    for f in res.layer_norms:
        exact *= Fraction(f)
    assert res.upper > 0  # was 0.0 for two layers of norm 1e-300
    assert math.isfinite(res.upper)
    assert Fraction(res.upper) >= exact
    assert Fraction(res.upper) <= exact * Fraction(1 + 1e-14) + Fraction(2.0**-1073)


# ------------------------------------------------------------------------ two_to_q_norm
X0 = np.random.default_rng(5).standard_normal((8, 3))


def _exact_q4_value(X: np.ndarray, v: np.ndarray) -> Fraction:
    """||X v||_4**4 / ||v||_2**4 in fractions (v, X exact floats)."""
    Xf = [[Fraction(float(a)) for a in row] for row in X]
    vf = [Fraction(float(a)) for a in v]
    num = sum(sum(a * b for a, b in zip(row, vf, strict=True)) ** 4 for row in Xf)
    return num / sum(b * b for b in vf) ** 2


@pytest.mark.parametrize("q", [4, 3.0, 7, np.inf])
@pytest.mark.parametrize("X", [np.vstack([X0, np.zeros((1, 3))]),
                               np.vstack([np.zeros((6, 3)), X0[:2]]),
                               (X0 > 0).astype(float), X0 > 0])
def test_two_to_q_zero_rows_among_the_heaviest_rows(q, X):
    res = two_to_q_norm(X, q, random_state=0, n_starts=10)
    assert np.isfinite([res.lower, res.upper, res.norm]).all()
    assert np.isfinite(res.v).all() and 0 < res.lower <= res.upper
    Xd = np.asarray(X, dtype=float)
    sampled = np.random.default_rng(0).standard_normal((3, 4000))
    sampled /= np.linalg.norm(sampled, axis=0)
    vals = np.linalg.norm(Xd @ sampled, ord=q, axis=0)
    assert vals.max() <= res.upper * (1 + 1e-12)


@pytest.mark.parametrize("k", [-1000, -500, 0, 500, 900])
def test_two_to_q_bracket_in_exact_arithmetic_across_scales(k):
    M = np.rint(X0 * 3)
    X = np.ldexp(M, k)
    res = two_to_q_norm(X, 4, method="interpolation", random_state=0)
    # lower <= ||M v||_4 / ||v|| (attained, in fractions), scaled by 2**k exactly.
    lo = Fraction(res.lower) / Fraction(2) ** k
    assert lo**4 <= _exact_q4_value(M, res.v)
    up = Fraction(res.upper) / Fraction(2) ** k
    sampled = np.random.default_rng(1).standard_normal((3, 200))
    assert all(_exact_q4_value(M, s) <= up**4 for s in sampled.T[:50])


def test_two_to_q_zero_matrix_and_result_repr():
    res = two_to_q_norm(np.zeros((4, 3)), 4)
    assert (res.lower, res.upper) == (0.0, 0.0)
    assert "upper" in repr(res)  # was: ValueError from repr() (an empty dict field)


@pytest.mark.parametrize("bad, err, name", [
    (np.where(X0 > 1, np.nan, X0), ValueError, "X"), (np.zeros((0, 3)), ValueError, "X"),
    (X0 + 0j, TypeError, "X"), (X0.astype(object), TypeError, "X"),
    (sp.csr_matrix(X0), TypeError, "X"), (np.ones(3), ValueError, "X")])
def test_two_to_q_bad_matrices(bad, err, name):
    with pytest.raises(err, match=name):
        two_to_q_norm(bad, 4)


@pytest.mark.parametrize("option, value, err", [
    ("q", None, TypeError), ("q", "a", TypeError), ("q", np.nan, ValueError),
    ("q", 2, ValueError), ("q", 1.5, ValueError), ("q", -2, ValueError), ("q", True, TypeError),
    ("method", "x", ValueError), ("n_starts", 0, ValueError), ("n_starts", 1.5, TypeError),
    ("max_iter", 0, ValueError), ("tol", np.nan, ValueError), ("tol", -1, ValueError),
    ("subproblem_max_iter", 0, ValueError), ("failure_probability", 0, ValueError),
    ("failure_probability", 2, ValueError), ("random_state", "a", TypeError)])
def test_two_to_q_bad_options(option, value, err):
    kwargs = {"q": 4, option: value}
    with pytest.raises(err, match=option):
        two_to_q_norm(X0, kwargs.pop("q"), **kwargs)


def test_two_to_q_does_not_write_its_input():
    X = readonly(X0)
    res = two_to_q_norm(X, 4, method="interpolation", random_state=0)
    assert np.array_equal(X, X0) and res.lower > 0


# ------------------------------------------------------------------------ SoS bound
@pytest.fixture(scope="module")
def sos_solution():
    pytest.importorskip("scs")
    return sos_upper_bound(X0, 4)


@pytest.mark.parametrize("option, value, err", [
    ("q", 3, ValueError), ("q", 5, ValueError), ("q", 4.0, TypeError), ("q", None, TypeError),
    ("q", True, TypeError), ("lower", np.nan, ValueError), ("lower", -1, ValueError),
    ("v", np.zeros(3), ValueError), ("v", np.ones(2), ValueError),
    ("v", np.array([np.nan, 1, 1]), ValueError), ("v", "a", TypeError),
    ("v", [1, [2]], TypeError), ("tol", 0, ValueError), ("max_iter", 0, ValueError),
    ("max_iter", 1.5, TypeError), ("verbose", "no", TypeError)])
def test_sos_upper_bound_bad_options(option, value, err):
    kwargs = {"q": 4, option: value}
    with pytest.raises(err, match=option):
        sos_upper_bound(X0, kwargs.pop("q"), **kwargs)


def test_sos_upper_bound_hostile_data(sos_solution):
    pytest.importorskip("scs")
    with pytest.raises(ValueError, match="X"):
        sos_upper_bound(X0 * np.nan, 4)
    with pytest.raises(TypeError, match="X"):
        sos_upper_bound(X0 + 0j, 4)
    assert sos_upper_bound(np.zeros((4, 3)), 4).upper == 0.0
    # a tiny start vector (its norm underflows) is accepted
    res = sos_upper_bound(X0, 4, v=np.full(3, 1e-200))
    assert np.isfinite(res.upper) and res.upper >= sos_solution.upper * (1 - 1e-3)
    sampled = np.random.default_rng(0).standard_normal((3, 2000))
    sampled /= np.linalg.norm(sampled, axis=0)
    assert np.linalg.norm(X0 @ sampled, 4, axis=0).max() <= sos_solution.upper


def test_verify_sos_certificate_hostile(sos_solution):
    cert = sos_solution.certificate
    assert verify_sos_certificate(X0, cert) == sos_solution.upper
    with pytest.raises(ValueError, match="certificate does not fit X"):
        verify_sos_certificate(X0 * 1e300, cert)  # was: NaN
    bad = [((3, 1, 1.0, cert.gram), ValueError, "certificate.q"),
           ((4.5, 1, 1.0, cert.gram), TypeError, "certificate.q"),
           ((4, 1.5, 1.0, cert.gram), TypeError, "certificate.exponent"),
           ((4, None, 1.0, cert.gram), TypeError, "certificate.exponent"),
           ((4, 1, np.nan, cert.gram), ValueError, "certificate.lam"),
           ((4, 1, 1.0, cert.gram * np.nan), ValueError, "certificate.gram"),
           ((4, 1, 1.0, "a"), TypeError, "certificate.gram"),
           ((4, 1, 1.0, cert.gram[:2]), ValueError, "certificate.gram")]
    for args, err, words in bad:
        with pytest.raises(err) as info:
            verify_sos_certificate(X0, SOSCertificate(*args))
        assert words in str(info.value)
    for value in (None, "x", 1.0):
        with pytest.raises(TypeError, match="certificate"):
            verify_sos_certificate(X0, value)


# ------------------------------------------------------------------------ Hessian spectra
H0 = np.diag([3.0, 1.0, -2.0, 0.5])
HESS = [hessian_eigenvalues, hessian_trace, spectral_density]


def _bad_csr_hessian():
    M = sp.csr_matrix(H0)
    M.indices[0] = 10**6
    return M


@pytest.mark.parametrize("func", HESS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "hvp, dim, err, words",
    [
        (lambda v: v * np.nan, 4, ValueError, "hvp returned NaN"),
        (lambda v: 1, 4, ValueError, "hvp returned a vector of length 1"),
        (lambda v: np.ones(3), 4, ValueError, "hvp returned a vector of length 3"),
        (lambda v: None, 4, TypeError, "hvp must return a real vector"),
        (lambda v: "a", 4, TypeError, "hvp must return a real vector"),
        (lambda v: v + 1j, 4, TypeError, "complex"),
        (lambda v: [1, [2]], 4, TypeError, "hvp must return"),
        (lambda v: np.outer(v, v), 4, ValueError, "hvp returned a vector of length 16"),
        ("x", 4, TypeError, "hvp must be a callable"),
        (None, 4, TypeError, "hvp must be a callable"),
        (lambda v: H0 @ v, None, ValueError, "dim is required"),
        (lambda v: H0 @ v, 0, ValueError, "dim"),
        (lambda v: H0 @ v, 4.5, TypeError, "dim"),
        (lambda v: H0 @ v, True, TypeError, "dim"),
        (np.ones((3, 4)), None, ValueError, "square"),
        (H0.astype(object), None, TypeError, "hvp"),
        (H0.astype(complex), None, TypeError, "hvp"),
        (H0 * np.nan, None, ValueError, "hvp"),
        (sp.csr_matrix(H0) * np.nan, None, ValueError, "hvp"),
        (_bad_csr_hessian(), None, ValueError, "hvp is malformed"),
        (H0, 5, ValueError, "dim"),
        (np.triu(np.ones((4, 4))), None, ValueError, "hvp must be symmetric"),
        (sp.csr_array(np.triu(np.ones((4, 4)))), None, ValueError, "hvp must be symmetric"),
    ],
)
def test_hessian_functions_refuse_bad_hvps(func, hvp, dim, err, words):
    with pytest.raises(err) as info:
        func(hvp, dim, random_state=0)
    assert words in str(info.value)


@pytest.mark.parametrize("func, option, value, err", [
    (hessian_eigenvalues, "k", 0, ValueError), (hessian_eigenvalues, "k", 5, ValueError),
    (hessian_eigenvalues, "k", 1.5, TypeError), (hessian_eigenvalues, "which", "x", ValueError),
    (hessian_eigenvalues, "tol", np.nan, ValueError), (hessian_eigenvalues, "max_iter", 0,
                                                      ValueError),
    (hessian_eigenvalues, "return_eigenvectors", "no", TypeError),
    (hessian_trace, "method", "x", ValueError), (hessian_trace, "n_probes", 1, ValueError),
    (hessian_trace, "n_probes", 1.5, TypeError), (hessian_trace, "confidence", 1, ValueError),
    (hessian_trace, "confidence", np.nan, ValueError), (hessian_trace, "rtol", -1, ValueError),
    (hessian_trace, "rtol", "a", TypeError), (spectral_density, "n_vectors", 0, ValueError),
    (spectral_density, "n_steps", 0, ValueError), (spectral_density, "sigma", 0, ValueError),
    (spectral_density, "sigma", np.nan, ValueError), (spectral_density, "sigma", "a", TypeError),
    (spectral_density, "grid", np.array([np.nan]), ValueError),
    (spectral_density, "grid", np.array([]), ValueError),
    (spectral_density, "grid", np.ones((2, 2)), ValueError),
    (spectral_density, "n_grid", 1, ValueError), (spectral_density, "n_grid", 1.5, TypeError)],
    ids=str)
def test_hessian_bad_options(func, option, value, err):
    with pytest.raises(err, match=option):
        func(lambda v: H0 @ v, 4, **{option: value})


@pytest.mark.parametrize("k", [-1000, -500, 0, 500, 1000])
def test_hessian_spectra_scale_exactly(k):
    H = np.ldexp(H0, k)
    for hvp, dim in ((lambda v: H @ v, 4), (H, None), (sp.csr_array(H), None),
                     (aslinearoperator(H), None), (readonly(H), None)):
        ev = hessian_eigenvalues(hvp, dim, k=2, which="LM", random_state=0).eigenvalues
        np.testing.assert_allclose(np.sort(np.ldexp(ev, -k)), [-2.0, 3.0], rtol=1e-10)
        tr = hessian_trace(hvp, dim, n_probes=4, random_state=0)
        lo, hi = tr.ci
        assert lo <= math.ldexp(2.5, k) <= hi and np.isfinite(tr.trace)
        dens = spectral_density(hvp, dim, n_vectors=2, n_steps=4, random_state=0)
        assert np.isfinite(dens.density).all() and np.isfinite(dens.grid).all()


def test_hessian_matrix_input_is_not_written():
    M = sp.csr_matrix(H0)
    saved = (M.data.copy(), M.indices.copy(), M.indptr.copy())
    H = readonly(H0)
    for func in HESS:
        func(M, random_state=0)
        func(H, random_state=0)
    after = (M.data, M.indices, M.indptr)
    assert all(np.array_equal(a, b) for a, b in zip(saved, after, strict=True))


# ------------------------------------------------------------ spectral_clip, normalizer
@pytest.mark.parametrize("bad, err, words", [
    (W0 * np.nan, ValueError, "W contains NaN"), (np.zeros((0, 3)), ValueError, "W is empty"),
    (np.ones(3), ValueError, "W must be 2-D"), (W0 + 0j, TypeError, "W has complex"),
    (W0.astype(object), TypeError, "W has dtype object"), (sp.csr_matrix(W0), TypeError, "W"),
    (None, TypeError, "W")])
def test_spectral_clip_bad_weights(bad, err, words):
    with pytest.raises(err) as info:
        spectral_clip(bad, 1.0)
    assert words in str(info.value)


@pytest.mark.parametrize("value, err", [(0.0, ValueError), (-1.0, ValueError),
                                        (np.nan, ValueError), (None, TypeError),
                                        ("a", TypeError), (True, TypeError),
                                        (np.inf, ValueError)])
def test_spectral_clip_bad_max_norm(value, err):
    with pytest.raises(err, match="max_norm"):
        spectral_clip(W0, value)
    with pytest.raises(ValueError, match="mode"):
        spectral_clip(W0, 1.0, mode="clip")


@pytest.mark.parametrize("mode", ["scale", "svd"])
@pytest.mark.parametrize("scale, c", [(1.0, 1.0), (1.0, 100.0), (1e-300, 1e-300),
                                      (1e300, 1e300), (1e307, 1e300), (1e307, 1e-300),
                                      (2.0**-1070, 2.0**-1072)])
def test_spectral_clip_constraint_holds_over_the_range(mode, scale, c):
    W = np.full((6, 6), scale) if scale > 1e306 else W0 * scale
    before = W.copy()
    out = spectral_clip(readonly(W), c, mode=mode)
    assert np.isfinite(out).all() and np.array_equal(before, W)
    e = -math.frexp(max(np.abs(W).max(), c))[1]
    s_out = np.linalg.svd(np.ldexp(out, e), compute_uv=False)[0]
    s_in = np.linalg.svd(np.ldexp(W, e), compute_uv=False)[0]
    c_s = math.ldexp(c, e)
    assert s_out <= c_s * (1 + 1e-12) + 2.0**-1000  # the constraint
    if c < 2.0**-1060:
        return  # the projection is not representable in a few subnormal ulps; 0 is allowed
    # and the result is the projection, not a zero matrix (was: 0 for 1e307 x 6 x 6)
    assert s_out == pytest.approx(min(s_in, c_s), rel=1e-9)


def test_spectral_clip_conv_kernel_extreme_scale():
    for s in (1e-300, 1e300):
        out = spectral_clip(K0 * s, s, input_shape=(5, 5))
        top = conv_singular_values(out / s, (5, 5))[0]
        assert np.isfinite(out).all() and top <= 1 + 1e-12 and top > 0.99


@pytest.mark.parametrize("option, value, err", [
    ("n_power_iterations", 0, ValueError), ("n_power_iterations", 1.5, TypeError),
    ("n_power_iterations", None, TypeError), ("eps", -1, ValueError),
    ("eps", np.nan, ValueError), ("random_state", "a", TypeError),
    ("input_shape", (6.9, 5.9), TypeError), ("input_shape", "ab", TypeError),
    ("input_shape", (0, 3), ValueError), ("layout", "x", ValueError)])
def test_spectral_normalizer_bad_options(option, value, err):
    with pytest.raises(err, match=option):
        SpectralNormalizer(**{option: value})


@pytest.mark.parametrize("s", [1e-300, 1.0, 1e300])
def test_spectral_normalizer_extreme_scales(s):
    sn = SpectralNormalizer(n_power_iterations=30, eps=0.0, random_state=0)
    for W in (W0 * s, np.full((6, 6), 1e308)):
        before = W.copy()
        out = sn(readonly(W))
        assert np.isfinite(out).all() and np.array_equal(before, W)
        assert np.linalg.norm(out, 2) == pytest.approx(1.0, rel=1e-6)  # was OverflowError
    with pytest.raises(ValueError, match="W"):
        sn(W0 * np.nan)
    # with the default eps = 1e-12, weights of norm below eps are scaled by 1 / eps
    tiny = SpectralNormalizer(n_power_iterations=30, random_state=0)(W0 * s)
    expected = 1.0 if s >= 1.0 else np.linalg.norm(W0, 2) * s / 1e-12
    assert np.linalg.norm(tiny, 2) == pytest.approx(expected, rel=1e-6)
