"""ActiveLearningSession: model + pool + strategy + queue + store + learning curve, emitting events."""
from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import numpy as np

from ..data.embed import PoolSearch
from ..data.pool import Pool
from ..review.service import ReviewService
from ..scoring.uncertainty import predict_proba, proba_summary
from ..store.label_store import BulkWrite, LabelStore
from ..strategies.base import QueryStrategy, check_k
from ..strategies.catalog import DEFAULTS, check_task, get_strategy
from .curves import LearningCurveTracker, ProgressiveValidation
from .estimates import AccuracyEstimate, StopAdvice
from .events import EventEmitter
from .handout import Handout
from .identity import Identity
from .label_book import LabelBook, tag_changes
from .monitor import QualityMonitor
from .queue import AnnotationQueue, QueueItem
from .retrainer import Retrainer
from .settings import SessionSettings
from ..backends.base import RetrainResult
from ..backends.dask_pool import check_strategy
from .training import InMemoryBackend, check_model, retrain


class ActiveLearningSession(EventEmitter):
    """Active learning end to end, without any UI.

    A façade over its parts: ``book`` (the labels, their store and undo), ``retrainer`` (the
    worker thread and the result in place), ``queue`` (what to label next, claims), ``monitor``
    (audit labels, estimates, stop advice, the learning curve), ``review`` (conflicts, likely
    errors, decisions) and ``finder`` (search by meaning).

    Parameters
    ----------
    model : scikit-learn estimator or Pipeline
        Cloned before every full refit; never fitted in place.
    pool : Pool
        The samples, their ids and any labels already known.
    strategy : str or QueryStrategy, optional
        A name from :func:`available_strategies` or an instance; default per task
        (:data:`~al_widgets.core.strategies.catalog.DEFAULTS`: entropy, max variance, tag CLUE).
    store : LabelStore, path or None
        Durable label log.  Labels already in it are loaded (resume).  ``None``
        keeps labels in memory.
    X_test, y_test : held-out data for the learning curve (optional: without them the curve is
        progressive validation, each new label checked before the model trained on it).
    settings : SessionSettings, optional
        Batch size, retrain cadence, budget, committee size, epistemic display, queue length,
        claim lease, incremental fitting and random state (see :class:`SessionSettings`).
    annotator : str
        Name recorded with every label.
    signed_in : bool
        ``annotator`` comes from a sign-in (the served app): it can never change, and no call may
        write under another name (:class:`PermissionError`), whatever a client sends.
    role : {"admin", "annotator"}
        What the person may do: only an ``admin`` decides conflicts, corrects flagged labels and
        changes the strategy.
    allow_mismatch : bool
        Reuse a label store written for another dataset (refused by default).
    background : bool
        Retrain in a worker thread (UI use) or synchronously (scripts, simulation).
    **setting_values
        Any :class:`SessionSettings` field, overriding ``settings`` (``batch_size=8``).

    Events
    ------
    ``labeled``, ``undone``, ``skipped``, ``unskipped``, ``retrain_started``, ``retrained``,
    ``status``, ``error``, ``strategy_changed``, ``current_changed``, ``decided``.
    """

    def __init__(self, model: Any, pool: Pool, strategy: str | QueryStrategy | None = None,
                 store: LabelStore | str | None = None, X_test: Any = None, y_test: Any = None, *,
                 settings: SessionSettings | None = None, annotator: str = "annotator", background: bool = True,
                 allow_mismatch: bool = False, signed_in: bool = False, role: str = "admin",
                 **setting_values: Any) -> None:
        super().__init__()
        check_model(model, pool.task)
        if (X_test is None) != (y_test is None):
            raise ValueError("give both X_test and y_test, or neither")
        unknown = set(setting_values) - SessionSettings.names()
        if unknown:
            raise TypeError(f"unknown session setting {sorted(unknown)[0]!r}; settings are "
                            f"{sorted(SessionSettings.names())}")
        self.settings = (settings or SessionSettings()).replace(**setting_values)
        if pool.task == "multilabel" and y_test is not None and np.ndim(y_test) != 2:
            y_test = pool.indicator([pool.check_label(v) for v in y_test])  # tag sets: an indicator matrix
        self.model, self.pool, self.X_test, self.y_test = model, pool, X_test, y_test
        self.identity = Identity(annotator, signed_in, role)
        strategy = DEFAULTS[pool.task] if strategy is None else strategy
        self.strategy = check_task(get_strategy(strategy, random_state=self.settings.random_state)
                                   if isinstance(strategy, str) else strategy, pool.task)
        if getattr(pool, "is_distributed", False):  # ranked on the cluster: per-sample scores only
            check_strategy(self.strategy)
        self.store = store if isinstance(store, LabelStore) else LabelStore(store)
        # a store belongs to one dataset: labels never land on another pool's rows
        self.store.bind(pool.identity(), pool.name, pool.classes, allow_mismatch)
        self.store.release_dead()  # claims of a killed kernel are free again now, not after the lease
        self.owner = f"{annotator}-{uuid.uuid4().hex[:8]}"
        self.finder = PoolSearch(pool)  # search by meaning (embedded on first use), class coverage
        # where the rows live and how they are ranked: here, or on a Dask cluster (pool.backend())
        self._backend = pool.backend() if hasattr(pool, "backend") else InMemoryBackend(pool, self.finder)
        self.queue = AnnotationQueue(pool.ids, self.store, self.owner, self.settings.lease_seconds)
        self.book = LabelBook(pool, self.store, lambda: self.settings.rule)
        resumed = self.book.merge()
        self.curve = LearningCurveTracker()
        self.progressive = ProgressiveValidation(task=pool.task)
        # the curve so far (this page's earlier visits, teammates' kernels), then every new row kept
        self.curve.load(self.store.curve_points(), up_to=len(self.book))
        self.curve.on_record = self._keep_curve_row
        self.monitor = QualityMonitor(pool, self.store, self.curve, self.settings, self.progressive)
        self.handout = Handout(pool, self.store, self.queue, self.monitor, lambda: self.settings)
        self.review = ReviewService(pool, self.book, lambda: self.model, lambda: self.random_state)
        self.retrainer = Retrainer(self.book, self._train, lambda: self.strategy,
                                   lambda: self.settings.full_refit_every, self._applied, self._set_status,
                                   self.emit, background)
        self.status, self.status_kind = "not trained yet", "info"
        if self.store.path is not None:  # say so: a re-run notebook continues, it does not restart
            self.status = (f"resumed {resumed} labels from {self.store.path} (use another store, or delete it, "
                           "to start fresh)") if resumed else f"no labels yet; every label is saved to {self.store.path}"

    def _keep_curve_row(self, row: dict) -> None:
        try:
            self.store.add_curve_point(row)
        except sqlite3.Error:  # a full disk loses a curve point, never a label (those are refused loudly)
            pass

    # ------------------------------------------------------------ settings (see SessionSettings)
    def _setting(name: str) -> property:  # type: ignore[misc]
        def get(self: "ActiveLearningSession") -> Any:
            return getattr(self.settings, name)

        def set_(self: "ActiveLearningSession", value: Any) -> None:
            self.settings = self.settings.replace(**{name: value})
        return property(get, set_, doc=f"``settings.{name}`` (validated when set).")

    batch_size = _setting("batch_size")
    retrain_every = _setting("retrain_every")
    budget = _setting("budget")
    committee_size = _setting("committee_size")
    epistemic = _setting("epistemic")
    queue_length = _setting("queue_length")
    incremental = _setting("incremental")
    full_refit_every = _setting("full_refit_every")
    random_state = _setting("random_state")
    del _setting

    # ------------------------------------------------------------ identity (see Identity)
    @property
    def annotator(self) -> str:
        """The name every label of this session is stored under."""
        return self.identity.name

    @annotator.setter
    def annotator(self, name: str) -> None:
        self.identity.rename(name)

    @property
    def signed_in(self) -> bool:
        return self.identity.signed_in

    @property
    def role(self) -> str:
        return self.identity.role

    # ------------------------------------------------------------ state
    @property
    def labels(self) -> dict[int, Any]:
        """Pool index -> label, for every labeled sample (a copy)."""
        return self.book.copy()

    @property
    def n_labeled(self) -> int:
        return len(self.book)

    @property
    def labeled_mask(self) -> np.ndarray:
        mask = np.zeros(self.pool.n, dtype=bool)
        with self.book.lock:  # a label arriving from another thread must not change the dict mid-copy
            idx, _ = self.book.arrays()
        mask[idx] = True
        return mask

    @property
    def busy(self) -> bool:
        """True while a retrain runs or is requested."""
        return self.retrainer.busy

    @property
    def classes(self) -> list | None:
        return self.pool.classes

    def progress(self) -> dict[str, Any]:
        return self.queue.progress(self.n_labeled, self.budget)

    def _set_status(self, text: str, kind: str = "info") -> None:
        self.status, self.status_kind = text, kind
        self.emit("status", text=text, kind=kind)

    # ------------------------------------------------------------ labeling
    def next_item(self) -> QueueItem | None:
        """The sample to label now (claimed for this session), or ``None`` when nothing is left.

        With ``overlap``, an overlap sample another annotator labeled comes first (never to an
        annotator who labeled it already), until it has ``overlap_k`` labels.
        """
        res = self.result_
        item = self.handout.next(self.book, res is not None and not res.cold_start, self.annotator)
        if item is None and res is None and not self.busy:
            self.retrain()
            item = self.queue.next(exclude=self.book)
        return item

    def accuracy_estimate(self, window: int = 50) -> AccuracyEstimate:
        """The current model's quality without a test set, from audit labels (see
        :mod:`al_widgets.core.session.estimates`): accuracy, or RMSE for regression, with a 90 %
        interval.  Every annotator's audit labels in the store count; a reload keeps them."""
        return self.monitor.estimate(window)

    def search(self, text: str, k: int = 10, unlabeled: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Pool indices of the ``k`` samples closest in meaning to ``text`` (best first) and their cosine
        similarity; ``unlabeled``: only samples without a label.  Text pools: the built-in offline
        model (:mod:`al_widgets.core.data.embed`), embedded once and cached."""
        return self.finder.search(text, k, list(self.book.keys()) if unlabeled else ())

    def similar(self, index: int, k: int = 10, unlabeled: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` samples most like sample ``index`` ("more like this")."""
        return self.finder.similar(self._check_index(index), k, list(self.book.keys()) if unlabeled else ())

    def stop_advice(self) -> StopAdvice:
        """Do more labels still pay off?  Stabilizing predictions on a fixed stop set, the estimate and
        a forecast of the labels the next step up would take."""
        return self.monitor.advice(self.n_labeled)

    def request_epistemic(self) -> None:
        """A view wants the epistemic/aleatoric split: computed from the next re-score on (now)."""
        if self.settings.epistemic is not True:
            self.settings = self.settings.replace(epistemic=True)
        self.request_retrain()

    def request_map_statistics(self, low: np.ndarray, span: np.ndarray, grid: int, markers: np.ndarray) -> None:
        """A map of a Dask pool wants, from every re-score on the cluster, the per-cell score sums of
        its ``grid`` x ``grid`` density layer (cells from ``low`` and ``span``) and the scores of its
        ``markers`` (pool indices).  In-memory pools have every score already: nothing to do."""
        if hasattr(self.pool, "set_grid"):
            self.pool.set_grid(low, span, grid)
            self.pool.track(markers)

    def uncertainty_of(self, indices: Any) -> np.ndarray:
        """The uncertainty the views show (entropy) of the model in place on pool samples ``indices``
        (float32; NaN before a model).  For views of a pool held elsewhere: a zoomed map of a Dask pool
        asks for the samples in view, whose rows are fetched from the workers and scored here."""
        idx = np.asarray(indices, dtype=np.int64)
        res = self.result_
        if res is None or res.cold_start or res.model is None or not len(idx):
            return np.full(len(idx), np.nan, dtype=np.float32)
        known = res.uncertainty.get("uncertainty")
        if known is not None:
            return np.asarray(known[idx], dtype=np.float32)
        proba, _ = predict_proba(res.model, self._backend.rows(idx))
        return proba_summary(proba.astype(np.float32))["entropy"].astype(np.float32)

    def preview(self) -> QueueItem | None:
        """The sample :meth:`next_item` would most likely hand out, without claiming it."""
        items = self.queue.peek(1, exclude=self.book)
        return items[0] if items else None

    @property
    def skipped_labels(self) -> dict[str, str]:
        """Labels in the store this pool cannot use (sample id -> why); never trained on, never lost."""
        return dict(self.book.skipped)

    @property
    def overlap_mask(self) -> np.ndarray:
        """Which pool samples are overlap samples (a copy; all False without ``overlap``)."""
        return self.handout.mask()

    def focus(self, index: int) -> QueueItem | None:
        """Make ``index`` the current sample (clicked on the map or the top-k panel)."""
        if index in self.book:
            raise ValueError(f"sample {self.pool.ids[index]!r} is already labeled")
        item = self.queue.focus(index, self._score_of(index))
        if item is not None:
            self.emit("current_changed", item=item)
        return item

    def _check_progressive(self, indices: list[int], label: Any) -> None:
        for i in indices:
            guess = self.retrainer.guess(i)
            if guess is not None:
                self.progressive.check(guess, label)

    def _score_of(self, index: int) -> float:
        return float(self.result_.scores[index]) if self.result_ is not None else float("nan")

    def submit(self, index: int, label: Any, seconds: float | None = None, annotator: str | None = None,
               overwrite: bool = False) -> None:
        """Store ``label`` for pool ``index`` (committed before returning) and schedule a retrain.

        A sample that already has a label in the store (someone labeled it while it was on
        screen here) is refused with :class:`~al_widgets.core.store.label_store.AlreadyLabeled`; pass
        ``overwrite=True`` to correct a label on purpose (the old one stays in the log).
        """
        index = self._check_index(index)
        label = self.pool.check_label(label)
        who = self.identity.writer(annotator)
        current = self.queue.current
        on_screen = current is not None and current.index == index
        strategy = current.picked_by if on_screen else "user-choice"  # provenance: who picked it, then
        predicted = self.retrainer.guess(index) if strategy == "audit" else None  # before it trains on it
        overlap_k = self.handout.overlap_k(index)
        with self.book.lock:  # stored and counted in one step: a retrain snapshot sees both or neither
            self.book.write(index, label, who, seconds=seconds, strategy=strategy, score=self._score_of(index),
                            overwrite=overwrite, overlap_k=overlap_k, predicted=predicted)
            self._check_progressive([index], label)
            due = self.retrainer.labels_added(1, self.retrain_every)
        self.queue.done(index)
        self.emit("labeled", index=index, label=label, n_labeled=self.n_labeled)
        if due:
            self.retrainer.wake()

    def submit_many(self, indices: Any, label: Any, annotator: str | None = None) -> BulkWrite:
        """Give every index the same label (bulk labeling), then one retrain.

        The store applies the rules of a single label to each sample (labeled meanwhile, in
        conflict, overlap samples' ``overlap_k``, claims of other annotators): such samples are
        skipped and reported in the returned :class:`~al_widgets.core.store.label_store.BulkWrite`.
        """
        indices = list(dict.fromkeys(self._check_index(i) for i in indices))
        label = self.pool.check_label(label)
        who = self.identity.writer(annotator)
        if not indices:
            return BulkWrite([], [], {})
        overlap = {str(self.pool.ids[i]): self.settings.overlap_k for i in indices if self.handout.overlap[i]}
        with self.book.lock:  # one transaction, one action: a single undo takes the whole batch back
            result, written = self.book.write_many(indices, [label] * len(indices), who, overlap, self.owner)
            self._check_progressive(written, label)
            self.retrainer.labels_added(len(written), self.retrain_every)
        self._bulk_written(written, label)
        return result

    def retag_many(self, indices: Any, add: Any = (), remove: Any = (), annotator: str | None = None) -> BulkWrite:
        """Multi-label pools: add tags to, or remove tags from, many samples in one transaction and one
        undo step.  A labeled sample gets its own set changed (only a sample labeled by this session's
        annotator alone: another person's label, a conflict, a decision or an overlap sample is
        skipped and reported); an unlabeled one gets the set ``add`` (with tags to add).  A tag both
        added and removed is refused."""
        who = self.identity.writer(annotator)
        indices = [self._check_index(i) for i in indices]
        changes = tag_changes(self.pool, self.book.copy(), indices, add, remove, skip=self.handout.overlap)
        if not changes:
            return BulkWrite([], [], {})
        with self.book.lock:
            result, written = self.book.write_many(list(changes), list(changes.values()), who, {}, self.owner,
                                                   replace_own=True)
            for i in written:
                self._check_progressive([i], changes[i])
            self.retrainer.labels_added(len(written), self.retrain_every)
        self._bulk_written(written, add)
        return result

    def _bulk_written(self, written: list[int], label: Any) -> None:
        for i in written:
            self.queue.done(i)
        if written:
            self.emit("labeled", index=written[-1], label=label, n_labeled=self.n_labeled, indices=written)
            self.retrainer.wake()

    def undo(self) -> tuple[int, Any] | None:
        """Step back through this session's own actions: a label, a bulk label or a skip.

        Labels are cancelled by an undo event (recorded, never deleted); only labels this
        session stored are ever cancelled.  Returns ``(index, label)`` of the sample brought back
        (``label`` is ``None`` for an undone skip), or ``None`` when there is nothing to undo.
        """
        step = self.book.undo(self.annotator)
        if step is None:
            return None
        if step.skip:
            self.queue.unskip(step.indices[0])
            self.emit("unskipped", index=step.indices[0])
            return step.indices[0], None
        for index, label in zip(reversed(step.indices), reversed(step.labels)):
            # oldest first, so the newest ends at the queue's front
            self.queue.restore(index, self._score_of(index))
            self.emit("undone", index=index, label=label, n_labeled=self.n_labeled)
        self.request_retrain()
        return step.indices[0], step.labels[0]

    def skip(self, index: int) -> None:
        """Move ``index`` to the back of the queue; the next item becomes current.  Undo brings it back."""
        index = self._check_index(index)
        self.queue.skip(index)
        self.book.push_skip(index)
        self.emit("skipped", index=index)

    def _check_index(self, index: Any) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < self.pool.n:
            raise IndexError(f"pool index must be an integer in [0, {self.pool.n}), got {index!r}")
        return int(index)

    def query(self, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The current top-``k`` (default ``batch_size``) unlabeled, unclaimed samples and their scores."""
        if self.result_ is None:
            self.retrain()
        items = self.queue.peek(check_k(k or self.batch_size), exclude=self.book)
        return np.array([it.index for it in items], dtype=int), np.array([it.score for it in items])

    def set_strategy(self, strategy: str | QueryStrategy, **params: Any) -> None:
        """Switch the query strategy; the pool is re-scored (and the model refitted) in the background."""
        self.identity.require_admin("change the query strategy")
        chosen = check_task(get_strategy(strategy, random_state=self.random_state, **params)
                            if isinstance(strategy, str) else strategy, self.pool.task)
        if getattr(self.pool, "is_distributed", False):
            check_strategy(chosen)
        self.strategy = chosen
        self.emit("strategy_changed", strategy=self.strategy.name)
        self.request_retrain()


    # ------------------------------------------------------------ retraining (see Retrainer)
    @property
    def result_(self) -> RetrainResult | None:
        """The result in place: the fitted model, the pool's scores and the queue's ranking."""
        return self.retrainer.result_

    @property
    def last_error(self) -> BaseException | None:
        """The exception of the last failed retrain, if any."""
        return self.retrainer.last_error

    def retrain(self, force: bool = True) -> RetrainResult | None:
        """Fit on every label, re-score the pool, re-rank the queue and record the learning curve.

        Serialized, newest wins (see :meth:`Retrainer.run`); returns the applied result or ``None``.
        """
        return self.retrainer.run(force)

    def request_retrain(self) -> None:
        """Retrain now (foreground) or wake the worker; requests during a retrain coalesce into one."""
        self.retrainer.request()

    def wait_idle(self, timeout: float | None = 60.0) -> bool:
        """Block until no retrain is running or requested; ``False`` on timeout."""
        return self.retrainer.wait_idle(timeout)

    def _train(self, previous: Any, strategy: QueryStrategy, idx: np.ndarray, y: np.ndarray,
               new_mask: np.ndarray, full: bool) -> RetrainResult:
        return retrain(self.model, previous, strategy, self._backend, idx, y, self.settings, X_test=self.X_test,
                       y_test=self.y_test, new_mask=new_mask, full=full)

    def _applied(self, res: RetrainResult) -> None:
        self.queue.rerank(res.order, res.order_scores, res.strategy)
        self._set_status(*self.monitor.record_retrain(res))
        self.emit("retrained", result=res)

    def close(self, timeout: float = 30.0) -> None:
        """Stop the worker and wait for it, release this session's claims and close the store.

        Labels are already stored; a retrain in progress finishes but is not applied.
        """
        self.retrainer.close(timeout, then=self._release)

    def _release(self) -> None:
        try:
            self.queue.release_all()
        except Exception:  # noqa: BLE001 - the store may already be closed
            pass
        self.store.close()

    @property
    def closed(self) -> bool:
        return self.retrainer.closed

    # ------------------------------------------------------------ review (see ReviewService)
    def conflicts(self, events: Any = None) -> Any:
        """Samples whose annotators disagree and that nobody decided yet (:meth:`ReviewService.conflicts`)."""
        return self.review.conflicts(events)

    def suspicious_labels(self, top: int = 50, cv: int = 5, events: Any = None) -> Any:
        """Labels most likely to be wrong (:meth:`ReviewService.suspicious_labels`)."""
        return self.review.suspicious_labels(top, cv, events)

    def decide(self, index: int, label: Any, kind: str = "adjudicated") -> None:
        """Record a reviewer's decision on ``index`` (admins only) and retrain (:meth:`ReviewService.decide`)."""
        self.identity.require_admin("decide labels")
        index = self._check_index(index)
        label = self.review.decide(index, label, self.annotator, kind)
        self.emit("decided", index=index, label=label, kind=kind)
        self.request_retrain()
