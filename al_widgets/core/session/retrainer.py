"""The retrainer of a session: one retrain at a time, newest wins, in its own worker or in the foreground.

A part of :class:`~al_widgets.core.session.session.ActiveLearningSession` by composition
(``session.retrainer``).  It owns the worker thread, the request/busy flags, the sequence numbers
that keep a stale result out, the result in place and what that model learned.  What a retrain
does is given to it: ``train`` fits and re-scores, ``applied`` publishes an adopted result.
"""
from __future__ import annotations

import dataclasses
import threading
from typing import Any, Callable

import numpy as np

from .label_arrays import TrainedLabels
from .label_book import LabelBook
from ..strategies.base import QueryStrategy
from ..backends.base import RetrainResult

Train = Callable[[Any, QueryStrategy, np.ndarray, np.ndarray, np.ndarray, bool], RetrainResult]


class Retrainer:
    """Retraining for one session (see :meth:`run` for the guarantees).

    Parameters
    ----------
    book : LabelBook
        The labels a retrain snapshots; its lock is the retrainer's condition.
    train : callable
        ``train(previous_model, strategy, idx, y, new_mask, full)`` -> :class:`RetrainResult`.
    strategy : callable
        Returns the strategy in force (a result ranked by another one is dropped).
    full_refit_every : callable
        Returns how many incremental fits may follow a full one.
    applied : callable
        ``applied(result)``: called (outside the lock) with each adopted result.
    status : callable
        ``status(text, kind)``: progress and failures in plain words.
    emit : callable
        ``emit(event, **payload)``: ``retrain_started`` and ``error``.
    background : bool
        Retrain in a worker thread (UI use) or synchronously (scripts, simulation).
    """

    def __init__(self, book: LabelBook, train: Train, strategy: Callable[[], QueryStrategy],
                 full_refit_every: Callable[[], int], applied: Callable[[RetrainResult], None],
                 status: Callable[[str, str], None], emit: Callable[..., None], background: bool = True) -> None:
        self.book, self._train, self._strategy = book, train, strategy
        self._full_refit_every, self._applied, self._status, self._emit = full_refit_every, applied, status, emit
        self.background = background
        self._cond = book.lock
        self._train_lock = threading.RLock()  # one retrain at a time
        self._requested = self._busy = self._closed = False
        self._worker: threading.Thread | None = None
        self._dirty = True  # labels or settings changed since the last retrain snapshot
        self._seq = 0
        self._pending = 0  # labels since the last snapshot
        self.result_: RetrainResult | None = None
        self.trained = TrainedLabels()  # what the applied model learned (indices and labels)
        self._fits_since_full = 0
        self.last_error: BaseException | None = None

    # ------------------------------------------------------------ requests
    def labels_added(self, n: int, every: int) -> bool:
        """Count ``n`` new labels (call under the book's lock); True when ``every`` are pending."""
        self._pending += n
        self._dirty = True
        return self._pending >= every

    def request(self) -> None:
        """Retrain now (foreground) or wake the worker; requests during a retrain coalesce into one."""
        with self._cond:
            self._dirty = True
        self.wake()

    def wake(self) -> None:
        """Run the pending retrain: now (foreground) or in the worker (skipped if nothing changed)."""
        if not self.background:
            self.run(force=False)
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
                self.run(force=False)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    @property
    def busy(self) -> bool:
        """True while a retrain runs or is requested."""
        return self._busy or self._requested

    def wait_idle(self, timeout: float | None = 60.0) -> bool:
        """Block until no retrain is running or requested; ``False`` on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._requested and not self._busy, timeout)

    # ------------------------------------------------------------ one retrain
    def run(self, force: bool = True) -> RetrainResult | None:
        """Fit on every label, re-score the pool and hand the result to ``applied``.

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
                self.book.merge()
                self._seq += 1
                seq, epoch, strategy = self._seq, self.book.epoch, self._strategy()
                idx, y = self.book.arrays()  # only the labels new since the last retrain are added
                self._pending = 0
            self._emit("retrain_started", n_labels=len(idx), seq=seq)
            self._status(f"training on {len(idx)} labels…", "busy")
            try:
                res = self._fit(idx, y, strategy)
            except Exception as exc:  # noqa: BLE001 - shown to the user, never lost
                self.last_error = exc
                self._status(f"retrain failed: {type(exc).__name__}: {exc}", "error")
                self._emit("error", error=exc)
                return None
            res = dataclasses.replace(
                res, seq=seq, labeled=idx, trained=TrainedLabels(idx, y),
                strategy="cold start" if res.cold_start else getattr(strategy, "chosen_name", strategy.name),
                # auto: which strategy it chose, and why
                strategy_choice=strategy.explain() if not res.cold_start and hasattr(strategy, "explain") else "")
            return self._adopt(res, epoch, strategy)

    def _fit(self, idx: np.ndarray, y: np.ndarray, strategy: QueryStrategy) -> RetrainResult:
        previous = self.result_.model if self.result_ is not None else None
        new_mask, moved = self.trained.compare(idx, y)  # a learned label changed or taken back: refit in full
        full = moved or self._fits_since_full + 1 >= self._full_refit_every()
        return self._train(previous, strategy, idx, y, new_mask, full)

    def _adopt(self, res: RetrainResult, epoch: int, strategy: QueryStrategy) -> RetrainResult | None:
        """Adopt ``res`` unless it is stale; ``applied`` runs outside the lock."""
        with self._cond:
            applied = self.result_.seq if self.result_ is not None else 0
            if self._closed:
                reason = "session closed"
            elif res.seq <= applied:
                reason = f"dropped retrain #{res.seq}: #{applied} is newer"
            elif epoch != self.book.epoch:
                reason = "discarded a stale retrain (labels were undone meanwhile)"
            elif strategy is not self._strategy():
                reason = f"discarded a retrain ranked by {strategy.name!r} (strategy changed)"
            else:
                reason = None
                res = dataclasses.replace(res, prediction_change=prediction_change(self.result_, res))
                self.result_ = res
                self.trained = res.trained if res.trained is not None else TrainedLabels()
                self._fits_since_full = 0 if res.fit == "full" else self._fits_since_full + 1
        if reason is not None:
            self._status(reason, "info")
            return None
        self._applied(res)
        return res

    def guess(self, index: int) -> Any:
        """The prediction for ``index`` of the model in place, if it did not learn that sample's label
        (a fair check of a new label); ``None`` otherwise or before a model exists."""
        res = self.result_
        if res is None or res.prediction is None or index in self.trained:
            return None
        value = res.prediction[index]
        return value.item() if isinstance(value, np.generic) else value

    # ------------------------------------------------------------ the end
    def close(self, timeout: float = 30.0, then: Callable[[], None] | None = None) -> None:
        """Stop the worker and wait for it; ``then`` runs once no retrain can be running.

        A retrain in progress finishes but is not applied.
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
        if then is not None:
            with self._train_lock:
                then()

    @property
    def closed(self) -> bool:
        return self._closed


def prediction_change(previous: RetrainResult | None, current: RetrainResult) -> float:
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
