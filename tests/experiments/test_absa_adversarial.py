"""The ABSA experiment's adversarial settings and its small conv net."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")

from experiments.networks.absa import (  # noqa: E402
    CONV_FILTERS,
    CONV_KERNEL,
    CONV_STRIDE,
    absa_settings,
    conv_apply,
    conv_objective,
    parse_args,
)


def test_only_absa_gets_the_adversarial_options_and_only_when_both_are_positive():
    for method in ("small", "large"):
        s = absa_settings(method, 32, 512, 0.05, adversarial_fraction=0.2, epsilon=0.005)
        assert "adversarial_fraction" not in s and "patience" not in s
    s = absa_settings("absa", 32, 512, 0.05, adversarial_fraction=0.2, epsilon=0.005,
                      patience=10)
    assert (s["adversarial_fraction"], s["adversarial_epsilon"], s["patience"]) == (
        0.2, 0.005, 10)
    plain = absa_settings("absa", 32, 512, 0.05, adversarial_fraction=0.0, epsilon=0.005)
    assert "adversarial_fraction" not in plain


def test_the_cli_defaults_are_the_authors():
    a = parse_args([])
    assert (a.adversarial_fraction, a.epsilon, a.patience, a.model) == (0.2, 0.005, 10, "mlp")


def test_conv_net_against_a_direct_convolution():
    # an independent reference: the strided 'valid' cross-correlation written out in NumPy
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 81))
    f = conv_objective(X, np.array([0, 1, 2]), n_classes=3, random_state=1)
    p = {k: np.asarray(v) for k, v in f.unravel(f.x0).items()}
    side, out = 9, (9 - CONV_KERNEL) // CONV_STRIDE + 1
    images = X.reshape(3, side, side)
    h = np.zeros((3, out, out, CONV_FILTERS))
    for i in range(out):
        for j in range(out):
            patch = images[:, CONV_STRIDE * i:CONV_STRIDE * i + CONV_KERNEL,
                           CONV_STRIDE * j:CONV_STRIDE * j + CONV_KERNEL]
            h[:, i, j, :] = np.einsum("nab,abf->nf", patch, p["kernel"][:, :, 0, :])
    expected = np.tanh(h + p["bias"]).reshape(3, -1) @ p["W"] + p["b"]
    got = np.asarray(conv_apply(f.unravel(f.x0), X))
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-5)  # float32 unless x64 is on
    assert f.supports_gauss_newton and f.input_gradient(f.x0, [0, 1]).shape == (2, 81)


def test_conv_net_refuses_non_square_or_small_images():
    with pytest.raises(ValueError, match="square images"):
        conv_objective(np.zeros((2, 10)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="square images"):
        conv_objective(np.zeros((2, 16)), np.zeros(2, dtype=int))
