"""The defaults chosen for every shape (issue 18 item 3, issue 19 item 3).

``subproblem_tol="auto"`` (Eisenstat-Walker with the adaptive sample size,
the papers' ``1e-9`` with a numeric size), the rank bound of the sample-size
floor (a row sample of a finite sum cannot span wide data: exact Hessian), and
the priced floor of products-only objectives (a network: never every row when
each product costs passes over them).
"""

import numpy as np
import pytest
import scipy.sparse as sp

from randopt.optimize import AdaptiveSampleSize, arc, trust_region
from randopt.optimize.forcing import PAPERS_TOL, resolve_subproblem_tol
from randopt.optimize.sample_size import FORCING_PRIOR_PRODUCTS
from randopt.oracles import FiniteSum, LogisticLoss, MinibatchObjective


def _logistic(n, d, alpha, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, d, density=0.05, random_state=seed, format="csr")
        X.data = rng.standard_normal(X.nnz)
    else:
        X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + 0.5 * rng.logistic(size=n) > 0).astype(float)
    return X, y, FiniteSum(X, y, LogisticLoss(), alpha=alpha)


def _newton_reference(X, y, alpha, tol=1e-13):
    """Newton's method with numpy.linalg.solve on the d x d Hessian (mean loss + ridge)."""
    X = X.toarray() if sp.issparse(X) else X
    n, d = X.shape
    w = np.zeros(d)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        g = X.T @ (p - y) / n + alpha * w
        if np.linalg.norm(g) <= tol:
            break
        H = (X.T * (p * (1 - p))) @ X / n + alpha * np.eye(d)
        w = w - np.linalg.solve(H, g)
    return w


def test_resolve_subproblem_tol():
    assert resolve_subproblem_tol("auto", "auto") == "ew"
    assert resolve_subproblem_tol("auto", 0.05) == PAPERS_TOL == 1e-9
    assert resolve_subproblem_tol("auto", 100) == 1e-9
    assert resolve_subproblem_tol(1e-4, "auto") == 1e-4
    assert resolve_subproblem_tol("sqrt", 0.05) == "sqrt"


@pytest.mark.parametrize("solver", [trust_region, arc])
def test_default_tolerance_is_eisenstat_walker_on_products(solver):
    # wide data: exact products from the start, solved to the forcing term
    _, _, obj = _logistic(60, 150, 1e-2)
    default = solver(obj, np.zeros(150), random_state=0, gtol=1e-8)
    ew = solver(obj, np.zeros(150), random_state=0, gtol=1e-8, subproblem_tol="ew")
    np.testing.assert_array_equal(default.x, ew.x)
    np.testing.assert_array_equal(default.history["subproblem_tol"],
                                  ew.history["subproblem_tol"])
    assert default.history["subproblem_tol"][1] == 0.5  # eta_0 of Eisenstat-Walker
    assert "products" in default.hessian_sampling


@pytest.mark.parametrize("solver", [trust_region, arc])
def test_default_tolerance_is_tight_on_an_explicit_matrix(solver):
    # tall data, d = 10: the explicit exact Hessian (rule 1), where a product costs
    # d^2: the default solves it to the papers' 1e-9, the run of subproblem_tol=1e-9
    _, _, obj = _logistic(3000, 10, 1e-3)
    default = solver(obj, np.zeros(10), random_state=0, gtol=1e-9)
    fixed = solver(obj, np.zeros(10), random_state=0, gtol=1e-9, subproblem_tol=1e-9)
    assert "explicit" in default.hessian_sampling
    np.testing.assert_array_equal(default.x, fixed.x)
    assert set(default.history["subproblem_tol"][1:].tolist()) == {1e-9}


@pytest.mark.parametrize("solver", [trust_region, arc])
def test_numeric_sample_size_keeps_the_papers_tolerance(solver):
    # what experiments.papers passes: a numeric size, the papers' 1e-9, bit for bit
    _, _, obj = _logistic(2000, 10, 1e-3)
    kw = dict(hessian_sample_size=0.05, random_state=3, gtol=1e-8, max_iter=30)
    default = solver(obj, np.zeros(10), **kw)
    fixed = solver(obj, np.zeros(10), subproblem_tol=1e-9, **kw)
    np.testing.assert_array_equal(default.x, fixed.x)
    np.testing.assert_array_equal(default.history["loss"], fixed.history["loss"])
    assert set(default.history["subproblem_tol"][1:].tolist()) == {1e-9}


@pytest.mark.parametrize("sparse", [False, True])
def test_wide_default_matches_the_newton_reference(sparse):
    n, d, alpha = 60, 150, 1e-2
    X, y, obj = _logistic(n, d, alpha, sparse=sparse)
    res = trust_region(obj, np.zeros(d), gtol=1e-10, random_state=0)
    assert res.success
    w_ref = _newton_reference(X, y, alpha)
    # strongly convex with modulus alpha: ||w - w*|| <= ||g(w)|| / alpha
    assert np.linalg.norm(res.x - w_ref) <= 1e-10 / alpha + 1e-12
    # d > n: a row sample cannot span the data, the run is exact from the start
    assert set(res.history["hessian_rows"][1:].tolist()) == {n}


def test_row_sample_below_the_rank_is_singular_on_the_data():
    # the premise of the rank bound, checked with numpy's rank: s < min(n, p) rows
    # leave the sampled curvature (ridge aside) rank-deficient on the data's span
    from randopt.sketch import Sample

    n, d = 40, 100
    X, y, _ = _logistic(n, d, 0.0)
    obj = FiniteSum(X, y, LogisticLoss())
    s = 25
    sample = Sample(np.arange(s), np.full(s, n / s))
    H_s = obj.hessian(np.zeros(d), sample=sample)
    H = obj.hessian(np.zeros(d))
    assert np.linalg.matrix_rank(H_s) == s < np.linalg.matrix_rank(H) == min(n, d)


@pytest.mark.parametrize(("n", "d", "rank", "exact"), [
    (20_000, 47_000, 20_000, True),   # rcv1-like: wide
    (200, 500, 200, True),            # dense wide
    (10_000, 40_000, 10_000, True),
    (500_000, 201, 201, False),       # tall: the Chernoff floor, sampled
    (1_000_000, 50, 50, False),
])
def test_rank_bound_on_shapes(n, d, rank, exact):
    s = AdaptiveSampleSize(n, d, explicit=d <= 1000, products=min(d, 250), rank=rank)
    first = s.start(grad_norm=1.0)
    assert (first is None) == exact
    assert s.floor >= min(rank, n)


def test_rank_bound_only_raises_the_floor():
    # a tall problem's floor is the Chernoff one, rank or not
    with_rank = AdaptiveSampleSize(500_000, 201, rank=201)
    assert with_rank.floor == AdaptiveSampleSize(500_000, 201).floor == 13345
    # wide with products on a numeric prior: exact only through the rank
    no_rank = AdaptiveSampleSize(20_000, 47_000, explicit=False, products=250)
    assert no_rank.start(grad_norm=1.0) is not None
    assert AdaptiveSampleSize(20_000, 47_000, explicit=False, products=250,
                              rank=20_000).start(grad_norm=1.0) is None


def test_products_only_floor_is_priced():
    # issue 19 item 3: n = 10,000 is below the floor of a d = 100,000 network
    # (8 q ln(20 q) = 17,034 rows for q = 250); each exact product costs a pass
    kw = dict(explicit=False, products=FORCING_PRIOR_PRODUCTS, floor_dim=250)
    legacy = AdaptiveSampleSize(10_000, 100_000, **kw)
    assert legacy.floor == 10_000 and legacy.start(grad_norm=1.0) is None  # all rows
    priced = AdaptiveSampleSize(10_000, 100_000, products_only=True, **kw)
    rows = priced.start(grad_norm=1.0)
    assert rows is not None
    # the floor cannot be met at any size: the sample costs the budget, 1/4 pass; a
    # matrix-free objective pays no gather: k s 2 m <= n (2 m + 20) / 4
    m = priced.row_length
    assert FORCING_PRIOR_PRODUCTS * (rows - 1) * 2 * m <= 10_000 * (2 * m + 20) / 4  # ceil
    # and sampled products cost the same per row as exact ones: no switch to every
    # row before the sample is every row (rule 6)
    assert priced.hessian_cost(rows) == pytest.approx(priced.hessian_cost(None) * rows / 10_000)
    assert rows <= 0.1 * 10_000  # a few percent of n, never every row
    # rule 1 still applies: exact where its products cost at most 4 passes
    assert AdaptiveSampleSize(50, 20, explicit=False, products=2, floor_dim=250,
                              products_only=True).start(grad_norm=1.0) is None


def test_products_only_objective_in_the_loop_samples_a_few_percent():
    # a products-only objective whose product on s rows costs 2 s row evaluations:
    # count the rows the run's curvature products touch
    rng = np.random.default_rng(0)
    n, d = 10_000, 300
    A = rng.standard_normal((n, d)) / np.sqrt(d)
    b = A @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    touched = []

    def fun(x, idx):
        r = A[idx] @ x - b[idx]
        return 0.5 * float(r @ r) / len(idx)

    def grad(x, idx):
        return A[idx].T @ (A[idx] @ x - b[idx]) / len(idx)

    def hvp(x, v, idx):
        touched.append(len(idx))
        return A[idx].T @ (A[idx] @ v) / len(idx)

    obj = MinibatchObjective(fun, grad, hvp=hvp, n_samples=n, n_features=d, alpha=1e-3)
    # d = 300 puts n below the floor (8 q ln(20 q) = 20,873 rows for q = 250)
    res = trust_region(obj, np.zeros(d), max_iter=5, random_state=0)
    assert touched, "no curvature product was taken"
    rows = res.history["hessian_rows"][1:]
    # the first model samples a few percent (today's rule 2 took all n rows); the
    # schedule may switch to exact later, once the products it observes make
    # exact no dearer than the sample
    assert rows[0] <= 0.1 * n
    assert touched[0] == rows[0]


def test_products_only_growth_stays_under_max_cost():
    # issue 19 item 3: rejections (rule 5) and slow steps double a sample without a
    # cap; a matrix-free sample stops at the size whose k products cost max_cost
    # passes (k s 2 m <= max_cost n (2 m + 20)), never every row
    n, d, k = 10_000, 100_000, 10
    s = AdaptiveSampleSize(n, d, explicit=False, products=k, floor_dim=250, products_only=True)
    first = s.start(grad_norm=1.0)
    for _ in range(20):
        s.observe(rho=-1.0, accepted=False, grad_norm=1.0, n_products=k)
    m = s.row_length
    cap = s.max_cost * n * (2 * m + 20) / (2 * k * m)
    assert first <= s.rows <= cap + 1
    assert s.rows < n
    # the same schedule on a finite sum (gather priced, growth uncapped) reaches n
    t = AdaptiveSampleSize(n, d, explicit=False, products=k, floor_dim=250)
    t.start(grad_norm=1.0)
    for _ in range(20):
        t.observe(rho=-1.0, accepted=False, grad_norm=1.0, n_products=k)
    assert t.rows is None
