"""OpenMP threads during a retrain: one unless asked otherwise.

A retrain is many small numerical calls (a fit on hundreds of labels, k-means over the pool,
distances for a batch).  scikit-learn's k-means runs OpenMP with one thread per core, and OpenMP
threads spin while they wait: on a two-core machine a focused-CLUE retrain of digits in a worker
thread took 0.093 s with two threads and 0.053 s with one, and one was at most 5 % slower in our
measurements, up to 300,000 rows (``benchmarks/bench_threads.py``).  OpenMP limits belong to the
calling thread, so each retrain sets its own and restores it.

BLAS threads are not limited here: OpenBLAS ignores a limit set from a worker thread once the main
thread has set and restored one, so a limit from here would hold or not by history.  Where several
kernels share few cores (the served app) the server starts its kernels with one BLAS and one OpenMP
thread instead (``OPENBLAS_NUM_THREADS`` and friends, see :func:`al_widgets.cli.serve`).
"""
from __future__ import annotations

import contextlib
from typing import Iterator


def _openmp():
    """The OpenMP runtimes loaded now (threadpoolctl, a scikit-learn dependency; about 1.4 ms).

    Looked up on every retrain, not once: a process may load a second runtime later (the system's
    libgomp beside scikit-learn's, for numba's parallel loops in UMAP), and a cached list would leave it unlimited."""
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController().select(user_api="openmp")


@contextlib.contextmanager
def native_threads(limit: int | None) -> Iterator[None]:
    """Run the block with at most ``limit`` OpenMP threads in this thread (``None``: as they are)."""
    if limit is None:
        yield
        return
    limiter = _openmp().limit(limits=limit)
    try:
        yield
    finally:
        limiter.restore_original_limits()
