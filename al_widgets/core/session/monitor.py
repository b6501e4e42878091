"""The session's quality monitor: audit draws, the accuracy estimate, the stop set and the stop advice.

A part of the session by composition (``session.monitor``): it reads the store, the pool and the
learning curve it is given and keeps its own state (the audit generator, the stop set, caches);
the session's ``accuracy_estimate()`` and ``stop_advice()`` are its façade.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .estimates import (AccuracyEstimate, StabilityTracker, StopAdvice, accuracy_from_audits, advice, forecast,
                        rmse_from_audits)


class QualityMonitor:
    """Estimates and stop advice for one session.

    Parameters
    ----------
    pool : Pool or DaskPool
    store : LabelStore
    curve : LearningCurveTracker
        Its ``estimate`` column is the forecast's history.
    settings : SessionSettings
        ``audit``, ``batch_size`` and ``random_state`` are read.
    """

    def __init__(self, pool: Any, store: Any, curve: Any, settings: Any) -> None:
        self.pool, self.store, self.curve = pool, store, curve
        seed = settings.random_state
        self._rng = np.random.default_rng(None if seed is None else [int(seed), 7])
        self._estimate: tuple[int, AccuracyEstimate | None] = (-1, None)
        self._forecast: tuple[Any, Any] = (None, None)
        # the stop set: predictions on a fixed uniform sample, compared a window of labels apart
        self.stability = None if getattr(pool, "is_distributed", False) else \
            StabilityTracker(pool.n, window=max(10, settings.batch_size), random_state=seed)

    def draw_audit(self, share: float) -> bool:
        """Whether the next sample handed out is an audit (probability ``share``)."""
        return share > 0 and self._rng.random() < share

    def audit_index(self, taken: Callable[[int], bool]) -> int | None:
        """A uniformly drawn pool index for which ``taken(index)`` is false, or ``None`` after 20 tries."""
        for _ in range(20):
            index = int(self._rng.integers(self.pool.n))
            if not taken(index):
                return index
        return None

    def record(self, n_labels: int, prediction: np.ndarray | None) -> None:
        """A retrain's predictions, for the stop set."""
        if self.stability is not None and prediction is not None:
            self.stability.record(n_labels, prediction)

    def estimate(self, window: int = 50) -> AccuracyEstimate:
        """Accuracy (RMSE for regression) from every active audit label in the store."""
        newest = self.store.newest_seq()
        if self._estimate[0] == newest and self._estimate[1] is not None:
            return self._estimate[1]
        checks = self.store.audit_checks()
        if self.pool.task == "regression":
            est = rmse_from_audits([float(p) - float(y) for y, p in checks], window)
        else:
            hits = []
            for y, p in checks:
                try:
                    hits.append(float(self.pool.check_label(y) == self.pool.check_label(p)))
                except ValueError:  # a label of another class list (kept in the store, not counted)
                    continue
            est = accuracy_from_audits(hits, window)
        self._estimate = (newest, est)
        return est

    def advice(self, n_labeled: int) -> StopAdvice:
        """Stabilizing predictions on the stop set, with the estimate and the forecast."""
        est = self.estimate()
        outlook = None
        frame = self.curve.to_frame()
        if est.known and est.metric == "accuracy" and "estimate" in frame:
            points = list(frame[["n_labels", "estimate"]].dropna().itertuples(index=False, name=None))
            target = min(round(est.value + 0.025, 2), 0.99)
            key = (len(points) // 5, target)
            if self._forecast[0] != key:  # fifty curve fits: every fifth new curve point, not per look
                self._forecast = (key, forecast(points, target) if target > est.value else None)
            outlook = self._forecast[1]
        return advice(self.stability, est, n_labeled, outlook)
