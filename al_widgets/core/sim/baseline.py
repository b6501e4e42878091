"""The random-sampling baseline of a session (teaching mode), simulated in a spawned process."""
from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np
import pandas as pd


def start_random_baseline(session: Any, true_labels: Any, budget: int = 200,
                          on_done: Callable[[pd.DataFrame], Any] | None = None,
                          on_error: Callable[[BaseException], Any] | None = None) -> threading.Thread:
    """Simulate random sampling on the session's pool from its current labels, in the background.

    The simulation runs in a spawned process (the kernel keeps its GIL for the UI); ``on_done``
    receives the learning curve (one row per retrain, as :func:`simulate` returns) in a
    watcher thread.

    Parameters
    ----------
    session : ActiveLearningSession
    true_labels : array-like
        The pool's true labels (the simulated oracle answers from them).
    budget : int
        Labels the baseline goes up to.
    """
    from ..layout.background import run_in_subprocess
    from .oracle import simulate
    s = session
    y = np.asarray(true_labels)
    if len(y) != s.pool.n:
        raise ValueError(f"length mismatch: true_labels has {len(y)} entries but the pool has {s.pool.n} samples")
    labeled = np.flatnonzero(s.labeled_mask)

    def run() -> None:
        try:
            df = run_in_subprocess(simulate, s.model, s.pool.X, y, "random",
                                   initial=labeled if len(labeled) else 10, budget=min(budget, s.pool.n),
                                   batch_size=max(s.batch_size, 5), X_test=s.X_test, y_test=s.y_test,
                                   random_state=s.random_state, classes=s.pool.classes)
        except Exception as exc:  # noqa: BLE001 - reported through on_error
            if on_error is not None:
                on_error(exc)
            return
        if on_done is not None:
            on_done(df)

    thread = threading.Thread(target=run, name="al-baseline", daemon=True)
    thread.start()
    return thread
