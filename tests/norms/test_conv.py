"""Convolution norms against the explicit matrix of the layer and its dense SVD."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from randopt.norms import (
    NormResult,
    conv_operator,
    conv_singular_values,
    conv_spectral_norm,
)


def explicit_conv(K, n1, n2, pad=None, stride=(1, 1)):
    """The layer's matrix, column by column from unit inputs, by direct summation.

    ``pad=None``: periodic (circular) on the n1 x n2 torus; else zero padding
    (p1, p2) and PyTorch's conv2d (cross-correlation) with the given stride.
    """
    c_out, c_in, kh, kw = K.shape
    cols = []
    for idx in range(c_in * n1 * n2):
        x = np.zeros(c_in * n1 * n2)
        x[idx] = 1.0
        x = x.reshape(c_in, n1, n2)
        if pad is None:
            y = np.zeros((c_out, n1, n2))
            for a in range(kh):
                for b in range(kw):
                    shifted = np.roll(np.roll(x, -a, axis=1), -b, axis=2)
                    y += np.einsum("oc,cij->oij", K[:, :, a, b], shifted)
            y = y[:, :: stride[0], :: stride[1]]
        else:
            xp = np.pad(x, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
            o1 = (xp.shape[1] - kh) // stride[0] + 1
            o2 = (xp.shape[2] - kw) // stride[1] + 1
            y = np.zeros((c_out, o1, o2))
            for i in range(o1):
                for j in range(o2):
                    r0, c0 = i * stride[0], j * stride[1]
                    patch = xp[:, r0 : r0 + kh, c0 : c0 + kw]
                    y[:, i, j] = np.einsum("ocab,cab->o", K, patch)
        cols.append(y.ravel())
    return np.column_stack(cols)


@pytest.mark.parametrize(
    "shape, n", [((3, 2, 3, 3), (5, 6)), ((2, 4, 2, 3), (4, 4)), ((1, 1, 1, 1), (3, 3))]
)
def test_singular_values_match_dense_svd(shape, n, rng):
    K = rng.standard_normal(shape)
    M = explicit_conv(K, *n)
    s = np.linalg.svd(M, compute_uv=False)
    r = min(shape[0], shape[1]) * n[0] * n[1]
    for method in ("gram", "svd"):
        got = conv_singular_values(K, n, method=method)
        assert got.shape == (r,)
        np.testing.assert_allclose(got, s[:r], atol=1e-12 * s[0], rtol=0)
    assert np.all(np.diff(got) <= 0)


def test_hwio_layout_and_three_element_shape(rng):
    K = rng.standard_normal((4, 3, 3, 3))
    ref = conv_singular_values(K, (6, 6))
    hwio = K.transpose(2, 3, 1, 0)
    np.testing.assert_allclose(conv_singular_values(hwio, (3, 6, 6), layout="hwio"), ref)
    np.testing.assert_allclose(conv_singular_values(K.astype(np.float32), (6, 6)), ref, rtol=1e-6)


def test_operator_matches_explicit_matrix(rng):
    K = rng.standard_normal((3, 2, 3, 3))
    for kwargs, ref_kwargs in [
        ({}, {}),
        ({"stride": 2}, {"stride": (2, 2)}),
        ({"padding": "zeros"}, {"pad": (1, 1)}),
        ({"padding": (2, 0), "stride": (2, 1)}, {"pad": (2, 0), "stride": (2, 1)}),
    ]:
        T = conv_operator(K, (6, 5), **kwargs)
        M = explicit_conv(K, 6, 5, **ref_kwargs)
        assert T.shape == M.shape
        np.testing.assert_allclose(T @ np.eye(T.shape[1]), M, atol=1e-12)
        np.testing.assert_allclose(T.T @ np.eye(T.shape[0]), M.T, atol=1e-12)


@pytest.mark.parametrize("method", ["gram", "exact", "power", "lanczos", "reshape"])
def test_spectral_norm_methods_circular(method, rng):
    K = rng.standard_normal((4, 3, 3, 3))
    true = np.linalg.norm(explicit_conv(K, 7, 7), 2)
    res = conv_spectral_norm(K, (7, 7), method=method, random_state=0)
    assert isinstance(res, NormResult) and res.method == method
    # The reference is a dense SVD (relative error a few eps): the margins are larger.
    assert res.lower <= true * (1 + 1e-15)
    assert res.upper >= true * (1 - 1e-15)
    if method in ("gram", "exact", "lanczos"):
        assert abs(res.norm / true - 1) <= 1e-4
        assert res.converged and res.upper - res.lower <= 1e-4 * res.lower
    if method == "exact":
        assert abs(res.norm / true - 1) <= 1e-13
        assert res.upper_kind == "exact" and res.upper - res.lower <= 1e-11 * true
    if method == "reshape":
        assert res.upper_kind == "deterministic" and res.lower == 0.0 and not res.converged


def test_zero_padding_and_stride_bounds(rng):
    K = rng.standard_normal((3, 2, 3, 3))
    for padding, stride, pad in [("zeros", 1, (1, 1)), ("zeros", 2, (1, 1)), (0, 1, (0, 0))]:
        true = np.linalg.norm(explicit_conv(K, 6, 6, pad=pad, stride=(stride, stride)), 2)
        res = conv_spectral_norm(K, (6, 6), method="lanczos", padding=padding, stride=stride,
                                 random_state=0)
        assert abs(res.lower / true - 1) < 1e-6 and res.upper >= true
        for method in ("gram", "exact", "reshape"):
            kw = {"padding": padding, "stride": stride}
            bound = conv_spectral_norm(K, (6, 6), method=method, **kw)
            # The circular operator of the padded grid only bounds this layer from above.
            assert bound.upper >= true and bound.lower == 0.0 and not bound.converged
            assert bound.upper_kind == "deterministic"


@settings(max_examples=20, deadline=None)
@given(
    c_out=st.integers(1, 5),
    c_in=st.integers(1, 5),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    n1=st.integers(3, 8),
    n2=st.integers(3, 8),
    seed=st.integers(0, 2**31 - 1),
)
def test_upper_bounds_never_below_exact(c_out, c_in, kh, kw, n1, n2, seed):
    g = np.random.default_rng(seed)
    K = g.standard_normal((c_out, c_in, kh, kw)) * g.uniform(0.01, 100)
    exact = conv_singular_values(K, (n1, n2), method="svd")[0]
    gram = conv_spectral_norm(K, (n1, n2), method="gram")
    assert gram.upper >= exact * (1 - 1e-15)
    assert gram.upper <= exact * (1 + 1e-4) * (1 + 1e-12)
    assert gram.lower <= exact * (1 + 1e-15)
    assert conv_spectral_norm(K, (n1, n2), method="reshape").upper >= exact * (1 - 1e-15)
    res = conv_spectral_norm(K, (n1, n2), method="exact")
    assert np.isclose(res.norm, exact, rtol=1e-12)
    assert res.lower <= exact * (1 + 1e-15) and res.upper >= exact * (1 - 1e-15)


@settings(max_examples=25, deadline=None)
@given(
    c_out=st.integers(1, 4),
    c_in=st.integers(1, 4),
    k=st.integers(-1000, 1000),
    seed=st.integers(0, 2**31 - 1),
    method=st.sampled_from(["gram", "exact", "reshape", "lanczos"]),
)
def test_bounds_hold_across_the_exponent_range(c_out, c_in, k, seed, method):
    # Scaling by 2**k is exact: the bracket of 2**k K is 2**k times the bracket of K, and
    # holds around the exact norm (regression: 1e-150 floor for tiny, overflow for huge).
    g = np.random.default_rng(seed)
    K = g.standard_normal((c_out, c_in, 3, 3))
    exact = conv_singular_values(K, (5, 6), method="svd")[0]
    res = conv_spectral_norm(np.ldexp(K, k), (5, 6), method=method, random_state=seed)
    for value in (res.norm, res.upper):
        assert np.isfinite(value) and value > 0
    assert np.ldexp(res.lower, -k) <= exact * (1 + 1e-15)
    assert np.ldexp(res.upper, -k) >= exact * (1 - 1e-15)
    if method in ("gram", "exact"):
        assert abs(np.ldexp(res.norm, -k) / exact - 1) <= 1e-4


@pytest.mark.parametrize("scale", [1e-200, 1e-160, 1e160, 1e200])
def test_extreme_kernel_scales(scale, rng):
    K = rng.standard_normal((3, 2, 3, 3))
    exact = conv_singular_values(K, (6, 6), method="svd")[0]
    np.testing.assert_allclose(conv_singular_values(K * scale, (6, 6)) / scale,
                               conv_singular_values(K, (6, 6)), rtol=1e-12, atol=0)
    for method in ("gram", "exact", "reshape"):
        res = conv_spectral_norm(K * scale, (6, 6), method=method)
        assert res.upper / scale >= exact * (1 - 1e-14)
        assert res.lower / scale <= exact * (1 + 1e-14)
        if method != "reshape":
            assert abs(res.norm / scale / exact - 1) < 1e-4


def test_zero_kernel():
    res = conv_spectral_norm(np.zeros((2, 2, 3, 3)), (5, 5))
    assert (res.norm, res.lower, res.upper) == (0.0, 0.0, 0.0) and res.converged


def test_gram_tight_on_larger_layer(rng):
    K = rng.standard_normal((16, 16, 3, 3)) / 12
    exact = conv_singular_values(K, (12, 12), method="svd")[0]
    res = conv_spectral_norm(K, (12, 12), method="gram", tol=1e-6)
    assert exact <= res.upper <= exact * (1 + 1e-6)


class _TensorLike:
    """Stands in for a torch tensor: only __array__."""

    def __init__(self, a):
        self._a = a

    def __array__(self, dtype=None, copy=None):
        return self._a if dtype is None else self._a.astype(dtype)


def test_array_like_kernel(rng):
    K = rng.standard_normal((2, 2, 3, 3))
    assert conv_spectral_norm(_TensorLike(K), (5, 5)).upper == conv_spectral_norm(K, (5, 5)).upper


@pytest.mark.parametrize(
    "kernel, shape, kwargs, err, match",
    [
        (np.ones((3, 3, 3)), (8, 8), {}, ValueError, "4-D"),
        (np.ones((2, 2, 3, 3)), (2, 8), {}, ValueError, "smaller than"),
        (np.ones((2, 3, 3, 3)), (4, 8, 8), {}, ValueError, "channels"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"layout": "nchw"}, ValueError, "layout"),
        (np.full((2, 2, 3, 3), np.nan), (8, 8), {}, ValueError, "NaN"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"method": "fft"}, ValueError, "method"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"padding": "reflect"}, ValueError, "padding"),
        ("kernel", (8, 8), {}, TypeError, "array"),
        (np.ones((2, 2, 3, 3)), (6.9, 5.9), {}, TypeError, "input_shape"),
        (np.ones((2, 2, 3, 3)), (8.0, 8.0), {}, TypeError, "input_shape"),
        (np.ones((2, 2, 3, 3)), "8x8", {}, TypeError, "input_shape"),
        (np.ones((2, 2, 3, 3)), (8, 8, 8, 8), {}, ValueError, "input_shape"),
        (np.ones((2, 2, 3, 3)), (0, 8), {}, ValueError, "input_shape"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"stride": 0}, ValueError, "stride"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"stride": 1.5}, TypeError, "stride"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"padding": -1}, ValueError, "padding"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"padding": (1.5, 1)}, TypeError, "padding"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"tol": 0.0}, ValueError, "tol"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"tol": float("nan")}, ValueError, "tol"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"tol": "small"}, TypeError, "tol"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"max_iter": 0}, ValueError, "max_iter"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"method": None}, ValueError, "method"),
        (np.ones((2, 2, 3, 3)), (8, 8), {"layout": None}, ValueError, "layout"),
    ],
)
def test_bad_input(kernel, shape, kwargs, err, match):
    with pytest.raises(err, match=match):
        conv_spectral_norm(kernel, shape, **kwargs)


def test_kernel_not_written(rng):
    K = rng.standard_normal((3, 3, 3, 3))
    keep = K.copy()
    conv_spectral_norm(K, (6, 6), method="exact")
    conv_singular_values(K, (6, 6))
    np.testing.assert_array_equal(K, keep)


def test_hwio_wrong_layout_is_caught():
    # A (kh, kw, c_in, c_out) kernel read as PyTorch layout has a 3 x 3 "input channel" mismatch.
    K = np.ones((3, 3, 4, 8))
    with pytest.raises(ValueError, match="channels|smaller"):
        conv_singular_values(K, (4, 6, 6))
    assert conv_singular_values(K, (4, 6, 6), layout="hwio").shape == (4 * 36,)
