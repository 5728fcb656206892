"""Per-iteration records of the solvers, as a dict of equal-length arrays.

Row 0 is the starting point, so curves start at ``x0``; each later row is one
trial step (accepted or not). ``pandas.DataFrame(result.history)`` works
as is. The table lives with the solver state in :mod:`randopt.optimize.loop`;
this module keeps its public path.
"""

from .loop import History, apply_callback

__all__ = ["History", "apply_callback"]
