"""The grid of the reproduction: methods (solver x Hessian sampling x sample size, baselines),
their budget, and the runs (each sub-sampled method once per seed).

Solvers: trust region (``"tr"``) and cubic regularisation (``"arc"``), as
:func:`randopt.optimize.trust_region` and :func:`~randopt.optimize.arc`, and
Gauss-Newton with a line search (``"gn"``, :func:`randopt.optimize.gauss_newton`).
Sample sizes are fractions of the rows (the papers' 5%) or ``"auto"``, the
adaptive schedule of TR and ARC (their default; Gauss-Newton has none, so the
grid gives it the fractions only).

A run is identified by its ``run_id`` (the method's slug, plus ``_seed<k>`` for
the sub-sampled methods); its files are ``runs/<run_id>.csv`` / ``.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "BASELINES",
    "AUTO",
    "AUTO_SOLVERS",
    "FIRST_ORDER_ITER_FACTOR",
    "SAMPLINGS",
    "SOLVERS",
    "Budget",
    "Method",
    "build_grid",
    "grid_runs",
    "run_id",
]

SOLVERS = ("tr", "arc", "gn")
#: Solvers with an adaptive sample size (``hessian_sample_size="auto"``).
AUTO_SOLVERS = ("tr", "arc")
#: The sample size that asks for the adaptive schedule.
AUTO = "auto"
SAMPLINGS = ("full", "uniform", "nonuniform")
BASELINES = ("trust-ncg", "trust-exact", "L-BFGS-B", "GD")
#: First-order methods get this many times the iteration budget of the Newton-type ones.
FIRST_ORDER_ITER_FACTOR = 20


@dataclass(frozen=True)
class Method:
    """One method of the grid: TR/ARC/GN with a Hessian sampling scheme, or a baseline.

    Parameters
    ----------
    kind : {"tr", "arc", "gn", "baseline"}
        The solver family.
    name : str
        ``"TR"``, ``"ARC"``, ``"GN"``, or the baseline's name (one of :data:`BASELINES`).
    sampling : {"full", "uniform", "nonuniform"} or None
        Hessian (Gauss-Newton) sampling scheme; None for a baseline.
    sample_size : float, "auto" or None
        Fraction of rows in a sub-sampled Hessian, or ``"auto"`` (the adaptive
        schedule of TR and ARC); None otherwise.

    Examples
    --------
    >>> from experiments.papers.grid import Method
    >>> m = Method("tr", "TR", "uniform", 0.05)
    >>> m.label, m.slug, m.stochastic
    ('TR uniform 5%', 'tr_uniform_0.05', True)
    >>> Method("arc", "ARC", "uniform", "auto").label, Method("gn", "GN", "full").slug
    ('ARC uniform auto', 'gn_full')
    >>> Method("baseline", "L-BFGS-B").slug
    'l_bfgs_b'
    """

    kind: str
    name: str
    sampling: str | None = None
    sample_size: float | str | None = None

    @property
    def stochastic(self) -> bool:
        """Whether the method draws samples (and so runs once per seed)."""
        return self.sampling in ("uniform", "nonuniform")

    @property
    def label(self) -> str:
        """Name in tables and legends."""
        if self.kind == "baseline":
            return {"GD": "GD (Armijo)"}.get(self.name, f"scipy {self.name}")
        if self.sampling == "full":
            return f"{self.name} full"
        if self.sample_size == AUTO:
            return f"{self.name} {self.sampling} auto"
        return f"{self.name} {self.sampling} {100 * self.sample_size:g}%"

    @property
    def slug(self) -> str:
        """Name in file names and JSON keys."""
        if self.kind == "baseline":
            return self.name.lower().replace("-", "_")
        if self.sampling == "full":
            return f"{self.kind}_full"
        if self.sample_size == AUTO:
            return f"{self.kind}_{self.sampling}_auto"
        return f"{self.kind}_{self.sampling}_{self.sample_size:g}"

    def as_dict(self) -> dict[str, Any]:
        """The fields with ``label`` and ``slug``, as stored in the run files."""
        return {**asdict(self), "label": self.label, "slug": self.slug}


@dataclass(frozen=True)
class Budget:
    """Stopping rules of every run (first-order methods: ``FIRST_ORDER_ITER_FACTOR`` x
    ``max_iter``).

    Parameters
    ----------
    max_iter : int
        Iterations.
    max_passes : float
        Passes over the data (props / n).
    max_time : float
        Seconds.
    gtol : float
        Gradient-norm tolerance.

    Examples
    --------
    >>> from experiments.papers.grid import Budget
    >>> Budget(max_iter=60, max_passes=300.0, max_time=10.0, gtol=1e-10).max_passes
    300.0
    """

    max_iter: int
    max_passes: float
    max_time: float
    gtol: float


def build_grid(
    solvers: Sequence[str],
    samplings: Sequence[str],
    sizes: Sequence[float | str],
    baselines: Sequence[str],
) -> list[Method]:
    """Every solver with every sampling (sub-sampled ones at every size), then the baselines.

    ``"auto"`` sizes go to the solvers that have the schedule
    (:data:`AUTO_SOLVERS`) only.

    Parameters
    ----------
    solvers : sequence of {"tr", "arc", "gn"}
        Second-order solvers.
    samplings : sequence of {"full", "uniform", "nonuniform"}
        Hessian sampling schemes.
    sizes : sequence of float or "auto"
        Hessian sample fractions of the sub-sampled schemes, or ``"auto"``.
    baselines : sequence of str
        Names from :data:`BASELINES`.

    Returns
    -------
    list of Method
        In table order.

    Examples
    --------
    >>> from experiments.papers.grid import build_grid
    >>> [m.slug for m in build_grid(["tr"], ["full", "uniform"], [0.01, 0.05], ["GD"])]
    ['tr_full', 'tr_uniform_0.01', 'tr_uniform_0.05', 'gd']
    >>> [m.slug for m in build_grid(["tr", "gn"], ["uniform"], [0.05, "auto"], [])]
    ['tr_uniform_0.05', 'tr_uniform_auto', 'gn_uniform_0.05']
    """
    grid = []
    for solver in solvers:
        for sampling in samplings:
            if sampling == "full":
                grid.append(Method(solver, solver.upper(), "full"))
            else:
                grid.extend(Method(solver, solver.upper(), sampling, s) for s in sizes
                            if s != AUTO or solver in AUTO_SOLVERS)
    grid.extend(Method("baseline", b) for b in baselines)
    return grid


def run_id(method: Method, seed: int | None) -> str:
    """File-name stem of one run: the method's slug, plus ``_seed<k>`` when sub-sampled.

    Parameters
    ----------
    method : Method
        The method.
    seed : int or None
        The seed of a sub-sampled method's run; None for deterministic methods.

    Returns
    -------
    str

    Examples
    --------
    >>> from experiments.papers.grid import Method, run_id
    >>> run_id(Method("arc", "ARC", "nonuniform", 0.05), 2)
    'arc_nonuniform_0.05_seed2'
    """
    return method.slug + ("" if seed is None else f"_seed{seed}")


def grid_runs(grid: Sequence[Method], n_seeds: int) -> list[tuple[Method, int | None]]:
    """The runs of a grid: each sub-sampled method with seeds ``0..n_seeds-1``, the others once.

    Parameters
    ----------
    grid : sequence of Method
        From :func:`build_grid`.
    n_seeds : int
        Seeds per sub-sampled method.

    Returns
    -------
    list of (Method, int or None)
        ``(method, seed)`` pairs; the seed is None for deterministic methods.

    Examples
    --------
    >>> from experiments.papers.grid import build_grid, grid_runs, run_id
    >>> runs = grid_runs(build_grid(["tr"], ["full", "uniform"], [0.05], []), 2)
    >>> [run_id(m, s) for m, s in runs]
    ['tr_full', 'tr_uniform_0.05_seed0', 'tr_uniform_0.05_seed1']
    """
    return [(m, s) for m in grid for s in (range(n_seeds) if m.stochastic else [None])]
