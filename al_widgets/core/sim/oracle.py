"""Simulated oracle: run active learning against known labels (teaching, benchmarks)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import is_regressor

from ..scoring.committee import final_estimator
from ..data.pool import Pool
from ..session.session import ActiveLearningSession
from ..strategies.base import QueryStrategy


def initial_indices(y: np.ndarray, initial: int | Any, rng: np.random.Generator) -> np.ndarray:
    """``initial`` random indices (an int) or the given indices (an array)."""
    if isinstance(initial, (int, np.integer)) and not isinstance(initial, bool):
        if not 0 <= initial <= len(y):
            raise ValueError(f"initial must be between 0 and {len(y)}, got {initial}")
        return rng.choice(len(y), size=int(initial), replace=False)
    idx = np.asarray(initial, dtype=int)
    if idx.ndim != 1 or (len(idx) and (idx.min() < 0 or idx.max() >= len(y))):
        raise ValueError("initial must be an int or a 1-D array of pool indices")
    return idx


def simulate(model: Any, X: Any, y: Any, strategy: str | QueryStrategy = "entropy", initial: int | Any = 10,
             budget: int = 100, batch_size: int = 10, X_test: Any = None, y_test: Any = None,
             random_state: int | None = None, classes: list | None = None, committee_size: int = 5,
             **strategy_params: Any) -> pd.DataFrame:
    """Active learning with an oracle that answers from ``y``.

    Parameters
    ----------
    model : scikit-learn estimator or Pipeline
    X, y : the pool and its true labels (hidden from the learner until queried).
    strategy : name or instance
    initial : int or array of int
        Random labeled seed set size, or the seed indices.
    budget : int
        Total number of labels at the end, seed included.
    batch_size : int
        Labels acquired between two retrains.
    X_test, y_test : held-out evaluation set; defaults to the pool itself.
    random_state : int or None

    Returns
    -------
    DataFrame
        One row per retrain: ``n_labels``, ``accuracy`` (or ``r2``/``rmse``),
        ``mean_uncertainty``, ``strategy``, ``fit_seconds``, ``score_seconds``.
    """
    y = np.asarray(y)
    if len(y) != (X.shape[0] if hasattr(X, "shape") else len(X)):
        raise ValueError("length mismatch: X and y must have the same number of samples")
    if budget < 1 or batch_size < 1:
        raise ValueError(f"budget and batch_size must be positive, got {budget} and {batch_size}")
    task = "regression" if is_regressor(final_estimator(model)) else "classification"
    if classes is None and task == "classification":
        classes = np.unique(y).tolist()
    pool = Pool(X, classes=classes, task=task)
    if X_test is None:
        X_test, y_test = X, y
    session = ActiveLearningSession(model, pool, strategy, None, X_test, y_test, batch_size=batch_size,
                                    retrain_every=10 ** 9, background=False, epistemic=False,
                                    committee_size=committee_size, queue_length=batch_size,
                                    random_state=random_state)
    if strategy_params and isinstance(strategy, str):
        session.set_strategy(strategy, **strategy_params)
    rng = np.random.default_rng(random_state)
    for i in initial_indices(y, initial, rng)[:budget]:
        session.submit(int(i), y[i].item())
    while True:
        res = session.retrain()
        if res is None:
            raise RuntimeError(f"simulation retrain failed: {session.status}")
        left = budget - session.n_labeled
        batch = [i for i in res.order if i not in session.labels][: min(batch_size, left)]
        if left <= 0 or not batch:
            break
        for i in batch:
            session.submit(int(i), y[i].item())
    df = session.curve.to_frame()
    df["seed"] = random_state
    return df
