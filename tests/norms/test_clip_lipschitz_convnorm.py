"""spectral_clip, SpectralNormalizer, lipschitz_bound and conv_normalize."""

import numpy as np
import pytest

from randopt.norms import (
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
    assert exact_conv <= res.layer_norms[0] <= exact_conv * (1 + 1e-4)
    assert np.isclose(res.layer_norms[1], np.linalg.norm(dense, 2), rtol=1e-13)
    assert np.isclose(res.bound, np.prod(res.layer_norms))
    assert [e["kind"] for e in res.layers] == ["conv", "dense", "conv"]
    assert res.failure_probability == 0.0
    with pytest.raises(ValueError, match="empty"):
        lipschitz_bound([])


def test_lipschitz_bounds_a_real_network(rng):
    # A two-layer ReLU net on 1 x 6 x 6 images: the empirical Lipschitz ratio stays below.
    K = rng.standard_normal((3, 1, 3, 3))
    W = rng.standard_normal((5, 3 * 36))
    from randopt.norms import conv_operator

    T = conv_operator(K, (6, 6))

    def net(x):
        return W @ np.maximum(T @ x, 0)

    bound = lipschitz_bound([(K, (6, 6)), W]).bound
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
    assert np.isclose(conv_spectral_norm(single.kernel, (5, 5), method="exact"), 1.0)
