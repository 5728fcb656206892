"""Hostile inputs for the options added with the new defaults (issue 18 item 3).

``subproblem_tol="auto"`` and the :class:`AdaptiveSampleSize` arguments
``floor_dim``, ``rank`` and ``products_only``: a clear error naming the
argument, never a crash, and nothing written into the caller's arrays.
"""

import numpy as np
import pytest

from randopt.optimize import AdaptiveSampleSize, arc, trust_region
from randopt.optimize.forcing import resolve_subproblem_tol
from randopt.oracles import LogisticObjective


def _objective():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4))
    return LogisticObjective(X, (X[:, 0] > 0).astype(float), alpha=1e-2), X


@pytest.mark.parametrize("solver", [trust_region, arc])
@pytest.mark.parametrize("bad", ["Auto", "AUTO", "", "auto ", "ew2", "1e-9"])
def test_subproblem_tol_bad_strings(solver, bad):
    obj, _ = _objective()
    with pytest.raises(ValueError, match="subproblem_tol.*'auto'"):
        solver(obj, np.zeros(4), subproblem_tol=bad)


@pytest.mark.parametrize("bad", [None, b"auto", ["auto"], object()])
def test_subproblem_tol_bad_types(bad):
    obj, _ = _objective()
    with pytest.raises(TypeError, match="subproblem_tol"):
        trust_region(obj, np.zeros(4), subproblem_tol=bad)


@pytest.mark.parametrize("bad", [0.0, 1.0, -1e-3, np.nan, np.inf])
def test_subproblem_tol_bad_floats_with_auto_size(bad):
    obj, _ = _objective()
    with pytest.raises(ValueError, match="subproblem_tol"):
        trust_region(obj, np.zeros(4), subproblem_tol=bad)


def test_auto_tolerance_leaves_caller_arrays_alone():
    obj, X = _objective()
    X_before = X.copy()
    x0 = np.zeros(4)
    x0.setflags(write=False)  # a read-only start is fine: the solver copies it
    res = trust_region(obj, x0, subproblem_tol="auto", random_state=0)
    assert res.success
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(x0, 0.0)


def test_resolve_subproblem_tol_passes_non_strings_through():
    marker = object()
    assert resolve_subproblem_tol(marker, "auto") is marker  # checked later, by the loop


@pytest.mark.parametrize(("name", "bad", "error"), [
    ("rank", 0, ValueError),
    ("rank", -3, ValueError),
    ("rank", 2.5, TypeError),
    ("rank", True, TypeError),
    ("rank", "n", TypeError),
    ("floor_dim", 0, ValueError),
    ("floor_dim", 1.5, TypeError),
    ("floor_dim", np.nan, TypeError),
    ("products_only", "yes", TypeError),
    ("products_only", 1, TypeError),
    ("products_only", None, TypeError),
])
def test_adaptive_sample_size_new_arguments(name, bad, error):
    with pytest.raises(error, match=f"{name} must"):
        AdaptiveSampleSize(1000, 10, **{name: bad})


def test_adaptive_sample_size_rank_larger_than_n_is_capped():
    s = AdaptiveSampleSize(100, 10_000, rank=10**9)
    assert s.floor == 100
    assert s.start(grad_norm=1.0) is None
