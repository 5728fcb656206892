"""spectral_clip, SpectralNormalizer, lipschitz_bound and conv_normalize."""

import numpy as np
import pytest

from randopt.norms import (
    NormResult,
    SpectralNormalizer,
    conv_normalize,
    conv_singular_values,
    conv_spectral_norm,
    lipschitz_bound,
    spectral_clip,
)


def test_clip_dense_scale_and_svd(rng):
    W = rng.standard_normal((30, 20))
    s = np.linalg.svd(W, compute_uv=False)
    scaled = spectral_clip(W, 2.0)
    np.testing.assert_allclose(np.linalg.svd(scaled, compute_uv=False), s * 2.0 / s[0])
    proj = spectral_clip(W, 2.0, mode="svd")
    np.testing.assert_allclose(np.linalg.svd(proj, compute_uv=False), np.minimum(s, 2.0),
                               atol=1e-12)
    np.testing.assert_array_equal(spectral_clip(W, 100.0), W)


def test_clip_conv_kernel(rng):
    K = rng.standard_normal((4, 3, 3, 3))
    clipped = spectral_clip(K, 1.0, input_shape=(8, 8))
    assert np.isclose(conv_singular_values(clipped, (8, 8), method="svd")[0], 1.0, rtol=1e-12)
    with pytest.raises(ValueError, match="input_shape"):
        spectral_clip(K, 1.0)


def test_normalizer_dense_and_conv(rng):
    W = rng.standard_normal((40, 25))
    sn = SpectralNormalizer(random_state=0)
    for _ in range(200):
        Wn = sn(W)
    true = np.linalg.norm(W, 2)
    assert sn.sigma_ <= true * (1 + 1e-12)
    assert abs(sn.sigma_ / true - 1) < 1e-4
    assert np.isclose(np.linalg.norm(Wn, 2), true / sn.sigma_)
    K = rng.standard_normal((4, 3, 3, 3))
    snc = SpectralNormalizer(input_shape=(8, 8), random_state=0)
    sigmas = [snc.estimate(K) for _ in range(300)]
    exact = conv_singular_values(K, (8, 8), method="svd")[0]
    assert np.all(np.array(sigmas) <= exact * (1 + 1e-12))
    assert np.all(np.diff(sigmas) >= -1e-12 * exact)  # power iteration never decreases
    assert abs(sigmas[-1] / exact - 1) < 1e-3
    # torch's reshape estimate is not a bound on the layer: they differ here.
    assert not np.isclose(np.linalg.norm(K.reshape(4, -1), 2), exact, rtol=1e-2)
    with pytest.raises(ValueError, match="input_shape"):
        SpectralNormalizer()(K)


def test_lipschitz_product(rng):
    conv = rng.standard_normal((3, 2, 3, 3))
    dense = rng.standard_normal((10, 3 * 8 * 8))
    res = lipschitz_bound([(conv, (8, 8)), dense, (conv[:2, :3], (6, 6), {"padding": "zeros"})])
    exact_conv = conv_singular_values(conv, (8, 8), method="svd")[0]
    assert isinstance(res, NormResult) and res.method == "product"
    assert exact_conv <= res.layer_norms[0] <= exact_conv * (1 + 1e-4)
    assert np.isclose(res.layer_norms[1], np.linalg.norm(dense, 2), rtol=1e-13)
    assert res.layer_norms[1] >= np.linalg.norm(dense, 2) * (1 - 1e-15)
    assert np.prod(res.layer_norms) <= res.upper <= np.prod(res.layer_norms) * (1 + 1e-15)
    assert res.norm == res.upper and res.lower == 0.0
    assert [e["kind"] for e in res.layers] == ["conv", "dense", "conv"]
    assert res.failure_probability == 0.0 and res.upper_kind == "deterministic"
    # The zero-padded conv layer has no lower bound from the circular Gram iteration.
    assert not res.converged
    with pytest.raises(ValueError, match="empty"):
        lipschitz_bound([])


def test_lipschitz_probabilistic_factor_adds_failure_probability(rng):
    dense = rng.standard_normal((40, 30))
    res = lipschitz_bound([dense, dense.T], exact_limit=100, random_state=0)
    assert res.upper_kind == "probabilistic"
    assert res.failure_probability == pytest.approx(2e-6)
    true = np.linalg.norm(dense, 2) ** 2
    assert res.upper >= true and res.n_matvec > 0


@pytest.mark.parametrize(
    "kwargs, err",
    [({"conv_method": "power"}, ValueError), ({"exact_limit": -1}, ValueError),
     ({"exact_limit": 1.5}, TypeError), ({"tol": 0}, ValueError), ({"tol": None}, TypeError)],
)
def test_lipschitz_bad_options(kwargs, err, rng):
    with pytest.raises(err, match=next(iter(kwargs))):
        lipschitz_bound([rng.standard_normal((3, 3))], **kwargs)


def test_lipschitz_bounds_a_real_network(rng):
    # A two-layer ReLU net on 1 x 6 x 6 images: the empirical Lipschitz ratio stays below.
    K = rng.standard_normal((3, 1, 3, 3))
    W = rng.standard_normal((5, 3 * 36))
    from randopt.norms import conv_operator

    T = conv_operator(K, (6, 6))

    def net(x):
        return W @ np.maximum(T @ x, 0)

    bound = lipschitz_bound([(K, (6, 6)), W]).upper
    for _ in range(50):
        x, y = rng.standard_normal(36), rng.standard_normal(36)
        assert np.linalg.norm(net(x) - net(y)) <= bound * np.linalg.norm(x - y)


def test_conv_normalize(rng):
    K = rng.standard_normal((3, 4, 3, 3))
    res = conv_normalize(K, (6, 6))
    # The returned full-size kernel is the normalised layer: same singular values.
    np.testing.assert_allclose(conv_singular_values(res.kernel, (6, 6), method="svd"),
                               res.singular_values, atol=1e-12)
    # Unit rows per frequency: sum of squared singular values = c_out per frequency.
    assert np.isclose(np.sum(res.singular_values**2), 3 * 36)
    np.testing.assert_allclose(res.singular_values_before,
                               conv_singular_values(K, (6, 6), method="svd"), atol=1e-12)
    assert res.condition_number >= 1
    single = conv_normalize(rng.standard_normal((1, 2, 3, 3)), (5, 5))
    np.testing.assert_allclose(single.singular_values, 1.0, atol=1e-10)
    assert np.isclose(conv_spectral_norm(single.kernel, (5, 5), method="exact").norm, 1.0)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_clip_and_normalizer_at_extreme_scales(scale, rng):
    W = rng.standard_normal((20, 10)) * scale
    clipped = spectral_clip(W, 1.0)
    if scale > 1:
        assert np.linalg.norm(clipped, 2) <= 1.0 + 1e-12
    else:
        np.testing.assert_array_equal(clipped, W)
    sn = SpectralNormalizer(eps=0.0, random_state=0)  # no floor: sigma is ~1e-199
    for _ in range(100):
        Wn = sn(W)
    assert np.isfinite(sn.sigma_) and sn.sigma_ > 0
    assert abs(sn.sigma_ / (np.linalg.norm(W / scale, 2) * scale) - 1) < 1e-6
    assert abs(np.linalg.norm(Wn, 2) - 1) < 1e-6


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda W: spectral_clip(W, 0.0), ValueError, "max_norm"),
        (lambda W: spectral_clip(W, float("nan")), ValueError, "max_norm"),
        (lambda W: spectral_clip(W, "1"), TypeError, "max_norm"),
        (lambda W: spectral_clip(W, 1.0, mode="clip"), ValueError, "mode"),
        (lambda W: SpectralNormalizer(0), ValueError, "n_power_iterations"),
        (lambda W: SpectralNormalizer(1.5), TypeError, "n_power_iterations"),
        (lambda W: SpectralNormalizer(eps=-1.0), ValueError, "eps"),
        (lambda W: conv_normalize(np.ones((2, 2, 3, 3)), (6, 6), eps=-1.0), ValueError, "eps"),
        (lambda W: conv_normalize(np.ones((2, 2, 3, 3)), (6.5, 6)), TypeError, "input_shape"),
    ],
)
def test_bad_options(call, err, match, rng):
    with pytest.raises(err, match=match):
        call(rng.standard_normal((4, 3)))
