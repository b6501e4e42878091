"""Run CPU-heavy work (UMAP, baseline simulations) in a spawned process.

A thread in the kernel would hold the GIL for long stretches (numba compiling,
scikit-learn fitting in Python) and make the notebook or Voila app sluggish;
a separate process keeps the kernel responsive on a 2-core machine.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable


def run_in_subprocess(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a fresh spawned process; blocks until it returns (or raises)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
        return ex.submit(fn, *args, **kwargs).result()
