"""Hostile cases of issue 20 for randopt.norms: bounds that failed, non-finite results,
unclear errors.

* The Lanczos upper bound ignored the rounding of the products themselves
  (``gamma_L || |A| ||`` for ``L`` terms per inner product): on tall constant and
  rank-one matrices, whose Ritz value is exact after two steps in exact arithmetic, it
  fell below the true norm on about half of the seeds (3000 x 300) although labelled
  probabilistic with failure probability 1e-6.
* A LinearOperator computing in float32 got float64's rounding margins: its certified
  ``lower`` exceeded the true norm.
* ``two_to_q_norm(np.eye(d), q)`` overflowed for q = 50 and 1000 (multinomial
  coefficients in int64/float, monomial keys past int64).
* ``lipschitz_bound`` returned ``inf`` from finite weights and failed with
  ``AttributeError`` on nested lists; ``MonomialBasis`` accepted ``k = 2.5``.

The true norms are exact: a constant ``c`` matrix of shape ``m x n`` has norm
``|c| sqrt(m n)`` and an integer outer product ``u v^T`` has norm ``||u|| ||v||``, both
evaluated in 50-digit decimal arithmetic.
"""

from __future__ import annotations

import importlib
import math
from decimal import Decimal, getcontext
from fractions import Fraction

import numpy as np
import pytest
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from randopt.norms import (
    NormResult,
    conv_normalize,
    hessian_eigenvalues,
    hessian_trace,
    lipschitz_bound,
    sos_upper_bound,
    spectral_density,
    spectral_norm,
    two_to_q_norm,
)

getcontext().prec = 50


def _decimal(x: float) -> Decimal:
    f = Fraction(x)
    return Decimal(f.numerator) / Decimal(f.denominator)


def constant_norm(c: float, m: int, n: int) -> float:
    """``||c 1 1^T||_2 = |c| sqrt(m n)``, correctly rounded... to 50 digits, then to float."""
    return float(abs(_decimal(c)) * Decimal(m * n).sqrt())


def test_issue_example_tall_constant_matrix():
    A = np.full((3000, 300), 0.1)
    true = constant_norm(0.1, 3000, 300)
    res = spectral_norm(A, method="lanczos", random_state=0)
    assert res.lower <= true <= res.upper, (res.lower, true, res.upper)
    assert res.upper <= true * (1 + 1e-9)


@pytest.mark.parametrize("method", ["lanczos", "power", "randomized"])
def test_probabilistic_bracket_holds_on_every_seed_for_constant_and_rank_one(method):
    # As operators: no Frobenius/Hoelder bound can stand in for the Krylov bound.
    # Stated failure probability 1e-6: not one of these 40 runs may fail.
    rng = np.random.default_rng(7)
    u = rng.integers(1, 10, 20000).astype(float)
    v = rng.integers(1, 10, 20).astype(float) * 0.125
    rank_one = float((_decimal(float(u @ u)) * _decimal(float(v @ v))).sqrt())
    cases = [(np.full((3000, 300), 0.1), constant_norm(0.1, 3000, 300)),
             (np.outer(u, v), rank_one)]
    for A, true in cases:
        for seed in range(20):
            res = spectral_norm(aslinearoperator(A), method=method, random_state=seed)
            assert res.upper_kind == "probabilistic" and res.failure_probability == 1e-6
            assert res.lower <= true <= res.upper, (A.shape, seed, res.lower, true, res.upper)


def test_float32_operator_lower_bound_holds():
    for seed in range(5):
        A = np.random.default_rng(seed).standard_normal((300, 200)).astype(np.float32)
        true = np.linalg.norm(A.astype(np.float64), 2)
        op = LinearOperator(
            (300, 200), dtype=np.float64,
            matvec=lambda x, A=A: (A @ x.astype(np.float32)).astype(np.float64),
            rmatvec=lambda y, A=A: (A.T @ y.astype(np.float32)).astype(np.float64))
        for method in ("lanczos", "power", "randomized"):
            res = spectral_norm(op, method=method, random_state=seed)
            assert res.lower <= true <= res.upper, (seed, method, res.lower, true, res.upper)
            assert res.lower > 0.99 * true


@pytest.mark.parametrize("q", [50, 1000])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_two_to_q_norm_of_the_identity_for_large_q(q, d):
    res = two_to_q_norm(np.eye(d), q)  # ||I||_(2->q) = 1 (attained at e_1)
    assert np.isfinite([res.lower, res.upper, res.norm]).all()
    assert res.lower <= 1.0 <= res.upper <= 1 + 1e-9


def test_monomial_basis_indexes_high_degrees_without_collisions():
    try:
        basis_module = importlib.import_module("randopt.norms._sos_basis")
    except ImportError:  # the original tree's module name
        basis_module = importlib.import_module("randopt.norms.sos_basis")
    basis = basis_module.MonomialBasis(3, 25)  # forms of degree 50 in 3 variables
    assert basis.n_coefficients == math.comb(52, 2)
    for bad in (2.5, True, "2", None):
        with pytest.raises(TypeError, match="k"):
            basis_module.MonomialBasis(2, bad)
    with pytest.raises(ValueError, match="d"):
        basis_module.MonomialBasis(0, 2)


def test_lipschitz_bound_never_returns_inf_from_finite_weights():
    eye = np.eye(3)
    with pytest.raises(ValueError, match="float64 range"):
        lipschitz_bound([1e200 * eye, 1e200 * eye])
    res = lipschitz_bound([1e150 * eye, 1e150 * eye])
    assert math.isfinite(res.upper) and res.upper >= 1e300


def test_lipschitz_bound_accepts_nested_lists_and_refuses_garbage():
    W = np.random.default_rng(0).standard_normal((4, 3))
    assert lipschitz_bound([W.tolist()]).upper == lipschitz_bound([W]).upper
    with pytest.raises(TypeError, match=r"layers\[0\]"):
        lipschitz_bound([[[1.0, "a"]]])
    with pytest.raises(TypeError, match=r"layers\[1\]"):
        lipschitz_bound([W, [[None]]])


def test_every_norm_and_spectral_estimator_returns_the_result_family():
    rng = np.random.default_rng(0)
    H = rng.standard_normal((30, 30))
    H = H + H.T
    results = {
        "hessian_eigenvalues": hessian_eigenvalues(H, k=2, random_state=0),
        "hessian_trace": hessian_trace(H, n_probes=10, random_state=0),
        "spectral_density": spectral_density(H, n_vectors=2, n_steps=10, random_state=0),
        "conv_normalize": conv_normalize(rng.standard_normal((2, 2, 3, 3)), (6, 6)),
        "sos_upper_bound": sos_upper_bound(rng.standard_normal((10, 2)), 4),
    }
    for name, res in results.items():
        assert isinstance(res, NormResult), name
        assert isinstance(res.n_matvec, int) and isinstance(res.status if "status" in res
                                                            else 0, int), name
        assert res.lower <= res.upper, name
    trace = results["hessian_trace"]
    assert (trace.lower, trace.upper) == trace.ci and trace.norm == trace.trace
    sos = results["sos_upper_bound"]
    assert sos.message.startswith("solved") and sos.status == 0 and sos.upper_kind == (
        "deterministic")


@pytest.mark.parametrize("func", [
    lambda tol: two_to_q_norm(np.eye(3)[:, :2], 4, tol=tol),
    lambda tol: sos_upper_bound(np.eye(3)[:, :2], 4, tol=tol)])
def test_sos_tolerance_is_relative_and_checked_at_entry(func):
    for tol in (1e300, 1.0, np.inf):  # was OverflowError at 1e300
        with pytest.raises(ValueError, match="tol"):
            func(tol)
