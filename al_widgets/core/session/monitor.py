"""The session's quality monitor: audit draws, the accuracy estimate, the stop set and the stop advice.

A part of the session by composition (``session.monitor``): it reads the store, the pool and the
learning curve it is given and keeps its own state (the audit generator, the stop set, caches);
the session's ``accuracy_estimate()`` and ``stop_advice()`` are its façade.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .curves import set_f1
from .estimates import (AccuracyEstimate, StabilityTracker, StopAdvice, accuracy_from_audits, advice, forecast,
                        rmse_from_audits)


QUALITIES = ("accuracy", "f1")
"""Estimates on a 0..1 scale, higher better: the forecast extrapolates them."""


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

    def __init__(self, pool: Any, store: Any, curve: Any, settings: Any, progressive: Any = None) -> None:
        self.pool, self.store, self.curve, self.progressive = pool, store, curve, progressive
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
        else:  # each audit label against the prediction made before training on it: a hit, or a set's F1
            tags = self.pool.task == "multilabel"
            agree = set_f1 if tags else (lambda p, y: float(p == y))
            scores = []
            for y, p in checks:
                try:
                    scores.append(agree(self.pool.check_label(p), self.pool.check_label(y)))
                except ValueError:  # a label of another class list (kept in the store, not counted)
                    continue
            est = accuracy_from_audits(scores, window, metric="f1" if tags else "accuracy")
        self._estimate = (newest, est)
        return est

    def advice(self, n_labeled: int) -> StopAdvice:
        """Stabilizing predictions on the stop set, with the estimate and the forecast.

        Cheap (a view asks on every retrain, on the kernel's main thread): the forecast is fitted by
        :meth:`record_retrain`, in the retrain's thread, and only read here."""
        est = self.estimate()
        outlook = self._forecast[1] if est.known and est.metric in QUALITIES else None
        return advice(self.stability, est, n_labeled, outlook)

    def _update_forecast(self) -> None:
        """Refit the learning-curve forecast (fifty bootstrap fits, ~0.1 s): every fifth curve point."""
        est = self.estimate()
        frame = self.curve.to_frame()
        if not (est.known and est.metric in QUALITIES and "estimate" in frame):
            return
        points = list(frame[["n_labels", "estimate"]].dropna().itertuples(index=False, name=None))
        target = min(round(est.value + 0.025, 2), 0.99)
        key = (len(points) // 5, target)
        if self._forecast[0] != key:
            self._forecast = (key, forecast(points, target) if target > est.value else None)

    def record_retrain(self, res: Any) -> tuple[str, str]:
        """Record an adopted retrain (stop set, learning curve); returns the status line and its kind."""
        if res.cold_start:
            return f"{res.message}; showing {res.cold_start_picks} samples", "warning"
        unc = res.uncertainty.get("uncertainty")
        if unc is None:  # a Dask pool: the cluster sent the mean along with the top candidates
            mean_unc = res.cluster.mean_uncertainty if res.cluster is not None else float("nan")
        else:  # over the unlabeled samples: the whole sum minus the labeled ones (no pool-sized mask)
            n_unlabeled = len(unc) - len(res.labeled)
            mean_unc = (float(unc.sum(dtype=float)) - float(unc[res.labeled].sum(dtype=float))) / n_unlabeled \
                if n_unlabeled > 0 else 0.0
        prog = self.progressive
        columns = {prog.metric: prog.value(), "n_progressive": len(prog)}
        self.record(res.n_labels, res.prediction)
        est = self.estimate()
        if est.known:
            columns.update(estimate=est.value, estimate_low=est.low, estimate_high=est.high, estimate_n=est.n)
        change = res.prediction_change
        self.curve.record(res.n_labels, res.metrics, mean_unc, **columns, strategy=res.strategy,
                          fit_seconds=res.fit_seconds, score_seconds=res.score_seconds, prediction_change=change)
        self._update_forecast()  # here, in the retrain's thread: never on the page's main thread
        ms = (res.fit_seconds + res.score_seconds) * 1000
        metric = ", ".join(f"{k} {v:.3f}" for k, v in res.metrics.items())
        if not metric:
            value = columns[prog.metric]
            metric = "no test set" if value != value else \
                f"{prog.metric.replace('_', ' ')} {value:.3f} (last {prog.window} labels)"
        moved = "" if change != change else f"; {change:.1%} of pool predictions changed"
        choice = f"; {res.strategy_choice}" if res.strategy_choice else ""
        return f"retrained on {res.n_labels} labels in {ms:.0f} ms; {metric}{moved}{choice}", "ok"
