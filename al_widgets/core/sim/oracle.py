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


def simulate(model: Any, X: Any, y: Any, strategy: str | QueryStrategy | None = None, initial: int | Any = 10,
             budget: int = 100, batch_size: int = 10, X_test: Any = None, y_test: Any = None,
             random_state: int | None = None, classes: list | None = None, committee_size: int = 5,
             **strategy_params: Any) -> pd.DataFrame:
    """Active learning with an oracle that answers from ``y``.

    Parameters
    ----------
    model : scikit-learn estimator or Pipeline
    X, y : the pool and its true labels (hidden from the learner until queried).  Multi-label:
        ``y`` an ``(n, n_tags)`` 0/1 matrix or a sequence of tag sets (lists, ``"a|b"`` text), with
        ``classes`` naming the tags (default: ``0..n_tags-1`` for a matrix, the tags the sets use).
    strategy : name or instance, optional
        Default: the task's default (:data:`~al_widgets.core.strategies.catalog.DEFAULTS`).
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
        One row per retrain: ``n_labels``, ``accuracy`` (or ``r2``/``rmse``; multi-label:
        ``f1_micro``, ``f1_macro``, ``hamming_loss``, ``subset_accuracy``), ``mean_uncertainty``,
        ``strategy``, ``fit_seconds``, ``score_seconds``.
    """
    multilabel = _is_multilabel(y)
    y = _as_label_array(y)
    if len(y) != (X.shape[0] if hasattr(X, "shape") else len(X)):
        raise ValueError("length mismatch: X and y must have the same number of samples")
    if budget < 1 or batch_size < 1:
        raise ValueError(f"budget and batch_size must be positive, got {budget} and {batch_size}")
    task = "regression" if is_regressor(final_estimator(model)) else "multilabel" if multilabel else "classification"
    if classes is None and task == "classification":
        classes = np.unique(y).tolist()
    if classes is None and task == "multilabel" and np.ndim(y) == 2:
        classes = list(range(y.shape[1]))
    pool = Pool(X, classes=classes, task=task, labels=None if classes is not None or task != "multilabel" else y)
    if task == "multilabel":  # the oracle answers tag sets; held-out data as an indicator matrix
        y = np.array([pool.check_label(v) for v in y] + [None], dtype=object)[:-1]
        pool = Pool(X, classes=pool.classes, task=task)
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
        session.submit(int(i), _answer(y[i]))
    while True:
        res = session.retrain()
        if res is None:
            raise RuntimeError(f"simulation retrain failed: {session.status}")
        left = budget - session.n_labeled
        batch = [i for i in res.order if i not in session.labels][: min(batch_size, left)]
        if left <= 0 or not batch:
            break
        for i in batch:
            session.submit(int(i), _answer(y[i]))
    df = session.curve.to_frame()
    df["seed"] = random_state
    return df


def _is_multilabel(y: Any) -> bool:
    """A 2-D 0/1 matrix, or a sequence whose labels are lists, sets or tuples of tags."""
    if isinstance(y, np.ndarray) and y.ndim == 2:
        return True
    first = next(iter(y), None) if not isinstance(y, np.ndarray) or y.dtype == object else None
    return isinstance(first, (list, set, tuple, frozenset))


def _as_label_array(y: Any) -> np.ndarray:
    """``y`` as an array without numpy turning a sequence of tag lists into a 2-D array."""
    if isinstance(y, np.ndarray):
        return y
    if _is_multilabel(y):
        out = np.empty(len(y), dtype=object)
        out[:] = [list(v) for v in y]
        return out
    return np.asarray(y)


def _answer(value: Any) -> Any:
    """The oracle's answer: a plain value, or a tag set as it is."""
    return value.item() if isinstance(value, np.generic) else value
