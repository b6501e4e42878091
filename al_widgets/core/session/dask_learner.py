"""The bare active-learning loop on a Dask pool, without a session: teach labels, retrain, query.

It runs the session's one :func:`~al_widgets.core.session.training.retrain` with the Dask backend
(:class:`~al_widgets.core.backends.dask_pool.DaskBackend`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backends.dask_pool import SUPPORTED, DaskBackend, DaskPool
from ..strategies.catalog import get_strategy
from .settings import SessionSettings
from .training import retrain


class DaskActiveLearner:
    """Active learning on a :class:`DaskPool`: fit on the labeled rows, rank the pool on the cluster.

    Parameters
    ----------
    model : scikit-learn classifier with ``predict_proba``
    pool : DaskPool
    strategy : {"margin", "entropy", "least_confident"}
    batch_size : int
        Samples per query.
    """

    def __init__(self, model: Any, pool: DaskPool, strategy: str = "margin", batch_size: int = 10) -> None:
        if strategy not in SUPPORTED:
            raise ValueError(f"strategy {strategy!r} needs the whole pool in one place; on a Dask pool use one "
                             f"of {sorted(set(SUPPORTED) - {'least_confidence'})}")
        if not hasattr(model, "predict_proba"):
            raise TypeError(f"{type(model).__name__} has no predict_proba; a Dask pool is scored by probabilities")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.model, self.pool, self.strategy, self.batch_size = model, pool, strategy, batch_size
        self.labels: dict[int, Any] = {}
        self.model_: Any = None
        self.top_: tuple[np.ndarray, np.ndarray] | None = None

    def teach(self, indices: Any, labels: Any) -> None:
        """Record labels for pool ``indices`` (the next :meth:`retrain` uses them)."""
        indices, labels = list(indices), list(labels)
        if len(indices) != len(labels):
            raise ValueError("indices and labels must have the same length")
        for i, lab in zip(indices, labels):
            if not 0 <= int(i) < self.pool.n:
                raise IndexError(f"pool index out of range [0, {self.pool.n}): {i}")
            if lab not in self.pool.classes:
                raise ValueError(f"unknown class {lab!r}; classes are {self.pool.classes}")
            self.labels[int(i)] = lab

    def retrain(self) -> tuple[np.ndarray, np.ndarray]:
        """Fit a clone of the model on the labeled rows, then re-rank the pool; returns the top batch.

        The same retrain a session runs (:func:`~al_widgets.core.session.training.retrain`)."""
        idx = np.array(sorted(self.labels), dtype=np.int64)
        y = np.array([self.labels[i] for i in idx])
        if len(set(y.tolist())) < 2:
            raise ValueError("label samples of at least two classes before training")
        settings = SessionSettings(batch_size=self.batch_size, queue_length=self.batch_size, incremental=False)
        name = "least_confident" if self.strategy == "least_confidence" else self.strategy
        res = retrain(self.model, None, get_strategy(name), DaskBackend(self.pool), idx, y, settings)
        self.model_ = res.model
        self.top_ = (res.order[: self.batch_size], res.order_scores[: self.batch_size])
        return self.top_

    def query(self) -> tuple[np.ndarray, np.ndarray]:
        """The current top batch (indices, scores)."""
        return self.top_ if self.top_ is not None else self.retrain()
