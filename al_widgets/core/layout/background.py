"""Run CPU-heavy work (UMAP, baseline simulations) in a spawned process.

A thread in the kernel would hold the GIL for long stretches (numba compiling,
scikit-learn fitting in Python) and make the notebook or Voila app sluggish;
a separate process keeps the kernel responsive on a 2-core machine.  The child
exits as soon as its parent (the kernel) is gone, so a closed tab or a killed
kernel leaves no orphan computing on.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, TimeoutError
from typing import Any, Callable


def _exit_with_parent(parent: int, period: float) -> None:
    while True:
        time.sleep(period)
        if os.getppid() != parent:
            os._exit(1)


def _guarded(fn: Callable[..., Any], parent: int, period: float, args: tuple, kwargs: dict) -> Any:
    threading.Thread(target=_exit_with_parent, args=(parent, period), daemon=True).start()
    return fn(*args, **kwargs)


def run_in_subprocess(fn: Callable[..., Any], *args: Any, _watch_period: float = 1.0,
                      _poll: Callable[[], Any] | None = None, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a fresh spawned process; blocks until it returns (or raises).

    ``_poll``, if given, is called about once a second while the child works; as soon as it
    returns something other than ``None`` the child is stopped and that value is returned
    (e.g. another process already wrote the result to a shared cache).
    """
    ex = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        future = ex.submit(_guarded, fn, os.getpid(), _watch_period, args, kwargs)
        while True:
            try:
                return future.result(timeout=1.0 if _poll is not None else None)
            except TimeoutError:
                found = _poll()
                if found is not None:
                    for proc in list(getattr(ex, "_processes", {}).values()):
                        proc.terminate()
                    return found
    finally:
        ex.shutdown(wait=False, cancel_futures=True)
