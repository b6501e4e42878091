"""The retrain loop of a session: one retrain at a time, newest wins, in a worker or in the foreground.

A mixin of :class:`~al_widgets.core.session.session.ActiveLearningSession` (kept apart so each file stays
small); it relies on the session's pool, store, queue, curve, settings, locks and events.
"""
from __future__ import annotations

import dataclasses

import threading
from typing import Any

import numpy as np

from .label_arrays import TrainedLabels
from ..strategies.base import QueryStrategy
from .training import RetrainResult, retrain


class RetrainLoop:
    """Retraining for a session (see :meth:`retrain` for the guarantees)."""

    _cond: threading.Condition
    _train_lock: Any

    # ------------------------------------------------------------ training
    def request_retrain(self) -> None:
        """Retrain now (foreground) or wake the worker; requests during a retrain coalesce into one."""
        with self._cond:
            self._dirty = True
        self._wake()

    def _wake(self) -> None:
        """Run the pending retrain: now (foreground) or in the worker (skipped if nothing changed)."""
        if not self.background:
            self.retrain(force=False)
            return
        with self._cond:
            if self._closed:
                return
            self._requested = True
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="al-retrain", daemon=True)
                self._worker.start()
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._requested and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                self._requested, self._busy = False, True
            try:
                self.retrain(force=False)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def wait_idle(self, timeout: float | None = 60.0) -> bool:
        """Block until no retrain is running or requested; ``False`` on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._requested and not self._busy, timeout)

    def retrain(self, force: bool = True) -> RetrainResult | None:
        """Fit on every label, re-score the pool, re-rank the queue and record the learning curve.

        Retrains are serialized (one at a time, foreground or worker).  Each one takes a
        sequence number; its result is applied only if it is newer than the result in place,
        no undo happened meanwhile and the strategy is still the one it ranked with.
        Returns the applied result, or ``None`` (failed, stale or dropped).  With
        ``force=False`` (requests from labels) nothing happens when no label, strategy or setting
        changed since the last snapshot: a request that an earlier retrain already served.
        """
        with self._train_lock:
            with self._cond:
                if self._closed or not (force or self._dirty or self.result_ is None):
                    return None
                self._dirty = False
                self._load_store_labels()
                self._seq += 1
                seq, epoch, strategy = self._seq, self._epoch, self.strategy
                idx, y = self._labels.arrays()  # only the labels new since the last retrain are added
                self._pending = 0
            self.emit("retrain_started", n_labels=len(idx), seq=seq)
            self._set_status(f"training on {len(idx)} labels…", "busy")
            try:
                res = self._fit(idx, y, strategy)
            except Exception as exc:  # noqa: BLE001 - shown to the user, never lost
                self.last_error = exc
                self._set_status(f"retrain failed: {type(exc).__name__}: {exc}", "error")
                self.emit("error", error=exc)
                return None
            res = dataclasses.replace(
                res, seq=seq, labeled=idx, trained=TrainedLabels(idx, y),
                strategy="cold start" if res.cold_start else getattr(strategy, "chosen_name", strategy.name),
                # auto: which strategy it chose, and why
                strategy_choice=strategy.explain() if not res.cold_start and hasattr(strategy, "explain") else "")
            return self._apply(res, epoch, strategy)

    def _apply(self, res: RetrainResult, epoch: int, strategy: QueryStrategy) -> RetrainResult | None:
        """Adopt ``res`` unless it is stale; events are emitted outside the session lock."""
        with self._cond:
            applied = self.result_.seq if self.result_ is not None else 0
            if self._closed:
                reason = "session closed"
            elif res.seq <= applied:
                reason = f"dropped retrain #{res.seq}: #{applied} is newer"
            elif epoch != self._epoch:
                reason = "discarded a stale retrain (labels were undone meanwhile)"
            elif strategy is not self.strategy:
                reason = f"discarded a retrain ranked by {strategy.name!r} (strategy changed)"
            else:
                reason = None
                res = dataclasses.replace(res, prediction_change=_prediction_change(self.result_, res))
                self.result_ = res
                self._trained_labels = res.trained if res.trained is not None else TrainedLabels()
                self._fits_since_full = 0 if res.fit == "full" else self._fits_since_full + 1
        if reason is not None:
            self._set_status(reason, "info")
            return None
        self.queue.rerank(res.order, res.order_scores, res.strategy)
        self._record(res)
        self.emit("retrained", result=res)
        return res

    def _fit(self, idx: np.ndarray, y: np.ndarray, strategy: QueryStrategy) -> RetrainResult:
        previous = self.result_.model if self.result_ is not None else None
        new_mask, moved = self._trained_labels.compare(idx, y)  # a learned label changed or taken back: refit in full
        full = moved or self._fits_since_full + 1 >= self.settings.full_refit_every
        return retrain(self.model, previous, strategy, self._backend, idx, y, self.settings, X_test=self.X_test,
                       y_test=self.y_test, new_mask=new_mask, full=full)

    def _record(self, res: RetrainResult) -> None:
        if res.cold_start:
            self._set_status(res.message, "warning")
            return
        unc = res.uncertainty.get("uncertainty")
        if unc is None:  # a Dask pool: the cluster sent the mean along with the top candidates
            mean_unc = res.cluster.mean_uncertainty if res.cluster is not None else float("nan")
        else:  # over the unlabeled samples: the whole sum minus the labeled ones (no pool-sized mask)
            n_unlabeled = len(unc) - len(res.labeled)
            mean_unc = (float(unc.sum(dtype=float)) - float(unc[res.labeled].sum(dtype=float))) / n_unlabeled \
                if n_unlabeled > 0 else 0.0
        change = res.prediction_change
        progressive = {self.progressive.metric: self.progressive.value(), "n_progressive": len(self.progressive)}
        self.monitor.record(res.n_labels, res.prediction)
        est = self.accuracy_estimate()
        if est.known:
            progressive.update(estimate=est.value, estimate_low=est.low, estimate_high=est.high, estimate_n=est.n)
        self.curve.record(res.n_labels, res.metrics, mean_unc, **progressive, strategy=res.strategy,
                          fit_seconds=res.fit_seconds, score_seconds=res.score_seconds, prediction_change=change)
        ms = (res.fit_seconds + res.score_seconds) * 1000
        metric = ", ".join(f"{k} {v:.3f}" for k, v in res.metrics.items())
        if not metric:
            value = progressive[self.progressive.metric]
            metric = "no test set" if value != value else \
                f"{self.progressive.metric.replace('_', ' ')} {value:.3f} (last {self.progressive.window} labels)"
        moved = "" if change != change else f"; {change:.1%} of pool predictions changed"
        choice = f"; {res.strategy_choice}" if res.strategy_choice else ""
        self._set_status(f"retrained on {res.n_labels} labels in {ms:.0f} ms; {metric}{moved}{choice}", "ok")

    def close(self, timeout: float = 30.0) -> None:
        """Stop the worker and wait for it, release this session's claims and close the store.

        Labels are already stored; a retrain in progress finishes but is not applied.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._requested = False
            self._cond.notify_all()
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)
        with self._train_lock:
            try:
                self.queue.release_all()
            except Exception:  # noqa: BLE001 - the store may already be closed
                pass
            self.store.close()

    @property
    def closed(self) -> bool:
        return self._closed


def _prediction_change(previous: RetrainResult | None, current: RetrainResult) -> float:
    """Share of the pool whose predicted class changed since the previous model (NaN if none).

    A stopping signal ("stabilizing predictions", Bloodgood & Vijay-Shanker 2009): when it stays
    near zero, more labels barely change the model.  For regressors: the mean absolute change of
    the prediction relative to the spread of the predictions.
    """
    if previous is None or previous.prediction is None or current.prediction is None:
        return float("nan")
    a, b = previous.prediction, current.prediction
    if current.confidence is None:  # regression
        spread = float(np.std(b)) or 1.0
        return float(np.mean(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))) / spread)
    return np.count_nonzero(a != b) / len(b) if len(b) else 0.0
