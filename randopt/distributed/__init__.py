"""Row-partitioned (out-of-core and cluster) data through Dask: ``pip install 'randopt[dask]'``.

A ``dask.array.Array`` chunked by rows can be passed wherever the sketching
layer takes a matrix: ``S @ A`` for every sketch of :mod:`randopt.sketch`,
:func:`randopt.lstsq`, :func:`randopt.sketch.leverage_scores` and
:func:`randopt.norms.spectral_norm`. Each row chunk's share of the work runs
where the chunk lives, and only ``d``-sized results come back to the client;
the random sketch is regenerated on the workers from ``(seed, block index)``.

Modules: :mod:`.sketch` (``S A`` as a sum of per-chunk sketches),
:mod:`.rowmatrix` (products, fused normal-equation passes and reductions over
row chunks). Importing this package does not import Dask; the modules import
it when first used.
"""

from __future__ import annotations

from ._detect import is_dask_array

__all__ = ["is_dask_array", "sketch_dask", "RowMatrix"]


def __getattr__(name):
    # Lazy: the sketching layer imports this package, and these modules import it back.
    if name == "sketch_dask":
        from .sketch import sketch_dask

        return sketch_dask
    if name == "RowMatrix":
        from .rowmatrix import RowMatrix

        return RowMatrix
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
