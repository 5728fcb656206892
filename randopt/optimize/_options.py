"""The options that :func:`trust_region`, :func:`arc` and :func:`gauss_newton` share.

Each solver's docstring holds a ``%(name)s`` line where a shared entry
goes; :func:`fill_doc` puts the entry there at import (as SciPy's
``doccer`` does), so that the three solvers describe every shared option
with the same words. The entries are the section below, written once: a
parameter's entry is keyed by its (first) name; a bare name (``auto_sample_size``,
``result``) keys the indented text under it.

Shared entries
--------------
x0 : array-like of shape (d,)
    Starting point (not modified).
hessian_sampling : {"auto", "uniform", "nonuniform", "full"}, default="auto"
    How the curvature matrix (Hessian, or Gauss-Newton matrix) is estimated at
    each iterate: uniform rows without replacement (averaged), rows drawn with
    replacement with ``p_i`` proportional to the row's curvature weight times
    ``||a_i||^2`` (``|D_i|`` for the Hessian, ``c_i G_i`` for the Gauss-Newton
    matrix; re-weighted by ``1/(s p_i)``), or exact. ``"auto"`` is
    ``"uniform"`` for objectives with rows to sample and ``"full"`` for the
    others (callables, tuples); with ``hessian_sample_size="auto"`` a sampling
    scheme may become exact when the schedule says so.
auto_sample_size
    ``"auto"``: a schedule (:class:`randopt.optimize.AdaptiveSampleSize`)
    that picks the size from a cost model (forming the sampled matrix against
    a pass over the data), grows it as the gradient falls and after rejected
    steps, and switches to the exact matrix where that is no dearer (from the
    start for small problems, e.g. ijcnn1, and whenever ``n`` is below the
    sample-size floor ``~8 d ln(20 d)``; such runs draw nothing and are
    deterministic; the floor is at least ``min(n, p)`` for a finite sum over
    ``p`` data columns, so wide data, ``p >= n``, is exact: a row sample
    cannot span it), unless the exact Hessian exists only as products that
    cost more than 4 passes (a matrix-free objective, e.g. a network: the
    floor is then capped at that price). ``history["hessian_rows"]`` shows
    the sizes used. Ignored by ``"full"``.
gradient_sample_size : int or float, optional
    Estimate the gradient on a fresh uniform sample of this size (a count or a
    fraction) at every evaluation; values stay exact, for the acceptance test.
    Default: the full gradient, as in the papers.
hessian_mode : {"auto", "explicit", "hessp"}, default="auto"
    Form the sampled matrix as a ``d x d`` array (one pass over the sample;
    ``"auto"`` does so for finite sums with ``d <= 1000`` when the inner
    solver takes more products than forming it costs, never for
    ``matrix_free`` objectives unless the solver needs the matrix), or use
    products on the sample.
gtol : float, default=1e-6
    Stop when the gradient norm is at most ``gtol`` (>= 0).
max_iter : int, default=1000
    Maximum iterations (>= 0): trial steps, accepted or not, for
    :func:`trust_region` and :func:`arc`; directions with their line search
    for :func:`gauss_newton`.
max_props : float, default=inf
    Maximum propagations (the papers' cost unit, see Notes; > 0).
max_time : float, default=inf
    Maximum seconds (> 0).
curvature_tol : float, optional
    Also require ``lambda_min(H) >= -curvature_tol`` (second-order stopping);
    otherwise take a step along the leftmost eigenvector (to the boundary, or
    to the cubic model's minimiser on it).
subproblem_tol : "auto", float, "ew", "sqrt" or ForcingTerm, default="auto"
    Relative tolerance of the CG / Lanczos sub-problem solvers on the model
    gradient (``||H s + g|| <= eta_k ||g||``): ``"auto"`` is, with
    ``hessian_sample_size="auto"``, ``"ew"`` on models used through products
    (3x to 10x fewer products than a fixed ``1e-9`` in issue 18's
    measurements, ``docs/solvers.md``) and ``1e-9`` on an explicit matrix
    (whose products are nearly free), and the papers' ``1e-9`` with a
    numeric sample size (their reproduction stays identical); or a fixed
    ``eta`` in ``(0, 1)``, or a forcing term
    that tightens as the gradient falls (inexact Newton-CG,
    :mod:`randopt.optimize.forcing`): ``"ew"``
    (Eisenstat and Walker's choice 2, SIAM J. Sci. Comput. 17, 1996),
    ``"sqrt"`` (``min(0.5, sqrt(||g||))``, Nocedal and Wright eq. (7.3), as
    scikit-learn's newton-cg) or a :class:`~randopt.optimize.forcing.ForcingTerm`.
    ``history["subproblem_tol"]`` shows the value used at each iteration.
preconditioner : None, "nystrom", NystromSchedule or callable, optional
    Preconditioner of the CG solves (``subproblem="cg"``): ``"nystrom"``
    builds a randomized Nystrom preconditioner of the model from products
    (Frangella, Tropp and Udell, SIAM J. Matrix Anal. Appl. 44, 2023; rank
    chosen adaptively against the objective's L2 penalty) once a plain CG
    solve has shown that it pays, reuses it across iterates and rebuilds it
    when CG's convergence rate degrades
    (:mod:`randopt.optimize.preconditioning`, whose
    :class:`~randopt.optimize.preconditioning.NystromSchedule` sets its
    options); a callable ``r -> M r`` is used as is. Its build products count
    in ``nhev`` and ``props``. Default: none (plain CG).
subproblem_max_iter : int, default=250
    Maximum Hessian-vector products per sub-problem (>= 1).
eta1, eta2 : float, default=0.8, 1e-4
    Thresholds of the ratio ``rho`` of actual to predicted decrease
    (``0 < eta2 <= eta1 < 1``): ``rho < eta2`` rejects the step,
    ``rho >= eta1`` is a very successful step.
gamma1, gamma2 : float, default=2.0, 1.2
    Update factors (``gamma1 > 1``, ``gamma2 >= 1``): after a rejection the
    step-size parameter shrinks the step by ``gamma1``, after a successful
    step it lets it grow by ``gamma2``, after a very successful one by
    ``gamma1`` (the table of :mod:`randopt.optimize.policies`).
callback : callable, optional
    ``callback(x, info)`` after every row of the history (``info`` holds that
    row). It returns None, a bool (True stops the solver, status 99) or a dict
    whose items become history columns (e.g. a test accuracy); raising
    ``StopIteration`` stops the solver too.
random_state : None, int or numpy.random.Generator
    Source of every random draw (Hessian and gradient samples, Lanczos
    restarts, the ARPACK start vector); a fixed seed gives the same run.
result
    scipy.optimize.OptimizeResult
        ``x``, ``fun``, ``jac``, ``success``, ``status`` and ``message`` (one
        table for every solver: :data:`randopt.optimize.STATUS_MESSAGES`),
        ``nit`` (iterations), ``nfev`` (values computed), ``njev`` (gradients
        computed: one per value, rejected trials included), ``nhev`` (Hessian- or
        Gauss-Newton-vector products; a matrix formed for an exact solver or an
        eigen-step counts ``d``), ``props``, ``time``, ``hessian_sampling`` (the
        resolved sampler) and ``history``: a dict of equal-length arrays, row 0
        the starting point (``accepted`` False, ``step_norm`` 0), one row per
        iteration after it, keyed ``iteration``, ``loss``, ``grad_norm``, the
        step-size parameter (``radius``, ``sigma`` or ``step_size``),
        ``accepted``, ``step_norm``, ``inner_iterations``, ``hessian_rows``,
        ``hessian_reused``, ``time`` (seconds since the start), ``props``
        (cumulative), ``hessian_products`` (the products this iteration spent,
        preconditioner builds included) and ``subproblem_tol`` (the relative
        tolerance its sub-problem was solved to; NaN in row 0), plus the
        callback's keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["SHARED_OPTIONS", "fill_doc"]


def _entries(text: str) -> dict[str, str]:
    """The entries of the "Shared entries" section of ``text``, by key."""
    lines = text.split("Shared entries\n--------------\n", 1)[1].splitlines()
    out: dict[str, list[str]] = {}
    key = ""
    for line in lines:
        if line and not line[0].isspace():  # a new entry: "name : type" or a bare key
            key = line.split(" : ")[0].split(",")[0].strip()
            out[key] = [line] if " : " in line else []
        elif key:
            out[key].append(line)
    # a parameter's entry whole; a bare key's text dedented to the slot's indentation
    return {k: "\n".join(v if v and " : " in v[0] else (line[4:] for line in v))
            for k, v in out.items()}


#: The shared docstring entries by key (parameter entries whole, others dedented).
SHARED_OPTIONS = _entries(__doc__ or "")


def fill_doc(func: Callable[..., Any]) -> Callable[..., Any]:
    """Put the :data:`SHARED_OPTIONS` entries into ``func``'s ``%(name)s`` lines.

    Parameters
    ----------
    func : callable
        A function whose docstring has lines holding only ``%(name)s``.

    Returns
    -------
    callable
        ``func``, its docstring filled (entries indented like the line).

    Examples
    --------
    >>> def f():
    ...     '''Doc.
    ...
    ...     Parameters
    ...     ----------
    ...     %(gtol)s
    ...     '''
    >>> fill_doc(f).__doc__.splitlines()[4].strip()
    'gtol : float, default=1e-6'
    """
    lines = []
    for line in (func.__doc__ or "").splitlines():
        key = line.strip()
        if key.startswith("%(") and key.endswith(")s") and key[2:-2] in SHARED_OPTIONS:
            indent = line[: len(line) - len(line.lstrip())]
            lines += [indent + part if part else "" for part in
                      SHARED_OPTIONS[key[2:-2]].splitlines()]
        else:
            lines.append(line)
    func.__doc__ = "\n".join(lines)
    return func
