"""pion_update: spectrum-preserving step (test lives here until tests/optimize takes it)."""

import numpy as np
import pytest

from randopt.optimize.pion import pion_update


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (40, 5), (5, 40), (12, 12)])
@pytest.mark.parametrize("lr", [1e-4, 0.3, 30.0])
def test_singular_values_preserved(shape, lr, rng):
    W, G = rng.standard_normal(shape), rng.standard_normal(shape)
    W1, (A, B) = pion_update(W, G, lr, return_generators=True)
    s0 = np.linalg.svd(W, compute_uv=False)
    s1 = np.linalg.svd(W1, compute_uv=False)
    np.testing.assert_allclose(s1, s0, rtol=1e-10, atol=0)
    np.testing.assert_allclose(A, -A.T, atol=1e-12)
    np.testing.assert_allclose(B, -B.T, atol=1e-12)


def test_descent_direction_matches_first_order_prediction(rng):
    W, G = rng.standard_normal((7, 5)), rng.standard_normal((7, 5))
    _, (A, B) = pion_update(W, G, 1e-3, return_generators=True)
    for lr in (1e-4, 1e-5):
        W1 = pion_update(W, G, lr)
        predicted = -lr * 0.5 * (np.sum(A**2) + np.sum(B**2))
        assert np.isclose(np.sum(G * (W1 - W)), predicted, rtol=1e-3)


def test_decreases_a_loss_on_the_orbit(rng):
    T = rng.standard_normal((6, 4))
    U, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    V, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    W = U[:, :4] @ np.diag(np.linalg.svd(T, compute_uv=False)) @ V.T  # same spectrum as T

    def loss(W):
        return 0.5 * np.sum((W - T) ** 2)

    values = [loss(W)]
    for _ in range(600):
        W = pion_update(W, W - T, 0.02)  # below 2 / L for this loss on the orbit
        values.append(loss(W))
    assert np.all(np.diff(values) <= 1e-12)
    assert values[-1] < 1e-6 * values[0]  # the orbit contains T: the minimum is 0


def test_bad_input(rng):
    W = rng.standard_normal((4, 3))
    with pytest.raises(ValueError, match="shape"):
        pion_update(W, np.ones((3, 4)), 0.1)
    with pytest.raises(ValueError, match="lr must lie in"):
        pion_update(W, W, -1.0)
    with pytest.raises(ValueError, match="lr must be a number, got NaN"):
        pion_update(W, W, np.nan)
    with pytest.raises(TypeError, match="lr must be a real number"):
        pion_update(W, W, "0.1")
    with pytest.raises(ValueError, match="NaN"):
        pion_update(W, W * np.nan, 0.1)
