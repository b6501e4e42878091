"""ActiveLearningSession: model + pool + strategy + queue + store + learning curve, emitting events."""
from __future__ import annotations

import sqlite3
import threading

import uuid
from typing import Any

import numpy as np
from sklearn.base import is_classifier, is_regressor

from ..scoring.committee import final_estimator
from .curves import LearningCurveTracker, ProgressiveValidation
from .events import EventEmitter
from ..data.pool import MISSING, Pool
from ..review.quality import overlap_mask
from .queue import AnnotationQueue, QueueItem
from .settings import SessionSettings

ROLES = ("admin", "annotator")
from ..store.label_store import BulkWrite, LabelStore
from ..strategies.catalog import get_strategy
from .label_arrays import LabelMap, TrainedLabels
from .retrainer import RetrainLoop
from ..review.service import ReviewMixin
from ..strategies.base import QueryStrategy, check_k
from .estimates import AccuracyEstimate, StopAdvice
from .monitor import QualityMonitor
from ..data.embed import PoolSearch
from .training import InMemoryBackend, RetrainResult


class ActiveLearningSession(ReviewMixin, EventEmitter, RetrainLoop):
    """Active learning end to end, without any UI.

    Parameters
    ----------
    model : scikit-learn estimator or Pipeline
        Cloned before every full refit; never fitted in place.
    pool : Pool
        The samples, their ids and any labels already known.
    strategy : str or QueryStrategy
        A name from :func:`available_strategies` or an instance.
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

    def __init__(self, model: Any, pool: Pool, strategy: str | QueryStrategy = "entropy",
                 store: LabelStore | str | None = None, X_test: Any = None, y_test: Any = None, *,
                 settings: SessionSettings | None = None, annotator: str = "annotator", background: bool = True,
                 allow_mismatch: bool = False, signed_in: bool = False, role: str = "admin",
                 **setting_values: Any) -> None:
        super().__init__()
        self._check_model(model, pool)
        if (X_test is None) != (y_test is None):
            raise ValueError("give both X_test and y_test, or neither")
        unknown = set(setting_values) - SessionSettings.names()
        if unknown:
            raise TypeError(f"unknown session setting {sorted(unknown)[0]!r}; settings are "
                            f"{sorted(SessionSettings.names())}")
        self.settings = (settings or SessionSettings()).replace(**setting_values)
        self.model, self.pool, self.X_test, self.y_test = model, pool, X_test, y_test
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        if not isinstance(annotator, str) or not annotator.strip():
            raise ValueError(f"annotator must be a non-empty name, got {annotator!r}")
        self._annotator, self.signed_in, self.role = annotator, bool(signed_in), role
        self.background = background
        self.strategy = get_strategy(strategy, random_state=self.settings.random_state) \
            if isinstance(strategy, str) else strategy
        _check_pool_strategy(pool, self.strategy)
        self.store = store if isinstance(store, LabelStore) else LabelStore(store)
        # a store belongs to one dataset: labels never land on another pool's rows
        self.store.bind(pool.identity(), pool.name, pool.classes, allow_mismatch)
        self.store.release_dead()  # claims of a killed kernel are free again now, not after the lease
        self.owner = f"{annotator}-{uuid.uuid4().hex[:8]}"
        self.finder = PoolSearch(pool)  # search by meaning (embedded on first use), class coverage
        # where the rows live and how they are ranked: here, or on a Dask cluster (pool.backend())
        self._backend = pool.backend() if hasattr(pool, "backend") else InMemoryBackend(pool, self.finder)
        self.queue = AnnotationQueue(pool.ids, self.store, self.owner, self.settings.lease_seconds)
        self.curve = LearningCurveTracker()
        self.progressive = ProgressiveValidation(task=pool.task)
        self._labels = LabelMap(pool.known_labels(), numeric=pool.task != "classification")
        self.skipped_labels: dict[str, str] = {}  # stored labels this pool cannot use, and why
        self._store_seq = 0  # the newest store event merged into _labels
        self._overlap = overlap_mask(pool.ids, self.settings.overlap)

        self._overlap_cache: tuple[int, list[str]] = (-1, [])
        resumed = self._load_store_labels()
        # the curve so far (this page's earlier visits, teammates' kernels), then every new row kept
        self.curve.load(self.store.curve_points(), up_to=len(self._labels))
        self.curve.on_record = self._keep_curve_row
        self.monitor = QualityMonitor(pool, self.store, self.curve, self.settings)  # estimates, stop advice
        self._cond = threading.Condition(threading.RLock())
        self._requested = self._busy = self._closed = False
        self._worker: threading.Thread | None = None
        self._train_lock = threading.RLock()
        self._dirty = True  # labels or settings changed since the last retrain snapshot
        self._seq = 0
        self._epoch = 0
        self._pending = 0
        self._trained_labels = TrainedLabels()  # what the applied model learned (indices and labels)
        self._fits_since_full = 0
        self._actions: list[tuple] = []  # this session's own labels and skips, for undo
        self.result_: RetrainResult | None = None
        self.status, self.status_kind = "not trained yet", "info"
        if self.store.path is not None:  # say so: a re-run notebook continues, it does not restart
            self.status = (f"resumed {resumed} labels from {self.store.path} (use another store, or delete it, "
                           "to start fresh)") if resumed else f"no labels yet; every label is saved to {self.store.path}"
        self.last_error: BaseException | None = None

    # ------------------------------------------------------------ setup
    @staticmethod
    def _check_model(model: Any, pool: Pool) -> None:
        if not (hasattr(model, "fit") and hasattr(model, "get_params")):
            raise TypeError(f"model must be a scikit-learn estimator or Pipeline, got {type(model).__name__}")
        final = final_estimator(model)
        if pool.task == "classification" and is_regressor(final):
            raise TypeError(f"{type(final).__name__} is a regressor but the pool is a classification task "
                            "(build the Pool with task='regression')")
        if pool.task == "regression" and is_classifier(final):
            raise TypeError(f"{type(final).__name__} is a classifier but the pool is a regression task")

    def _load_store_labels(self) -> int:
        """Merge what changed in the store since the last look (other sessions, undos); returns how many.

        Reads only the samples touched since then (:meth:`LabelStore.changes_since`).
        """
        changed = 0
        self._store_seq, changes = self.store.changes_since(self._store_seq, self.settings.rule)
        for sid, label in changes.items():
            try:
                idx = self.pool.index_of(sid)
            except KeyError:
                continue  # label for a sample not in this pool
            if label is None:  # undone (here or elsewhere): back to what the pool knew, if anything
                original = self.pool.labels[idx]
                if original is MISSING:
                    changed += self._labels.pop(idx, MISSING) is not MISSING
                elif self._labels.get(idx, MISSING) != original:
                    self._labels[idx] = original
                    changed += 1
                continue
            try:
                label = self.pool.check_label(label)  # the pool's own class value, whatever JSON gave back
            except ValueError as exc:
                self.skipped_labels[sid] = str(exc)  # never trained on, never lost: still in the store
                continue
            if self._labels.get(idx, MISSING) != label:
                self._labels[idx] = label
                changed += 1
        return changed

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

    # ------------------------------------------------------------ identity
    @property
    def annotator(self) -> str:
        """The name every label of this session is stored under."""
        return self._annotator

    @annotator.setter
    def annotator(self, name: str) -> None:
        if self.signed_in:
            if name == self._annotator:
                return
            raise PermissionError(f"signed in as {self._annotator!r}: the name cannot be changed to {name!r}")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"annotator must be a non-empty name, got {name!r}")
        self._annotator = name.strip()

    def _writer(self, annotator: str | None) -> str:
        """The name a write is stored under: this session's, or ``annotator`` when not signed in."""
        if annotator is None or annotator == self._annotator:
            return self._annotator
        if self.signed_in:
            raise PermissionError(f"signed in as {self._annotator!r}: cannot write as {annotator!r}")
        return annotator

    def _require_admin(self, what: str) -> None:
        if self.role != "admin":
            raise PermissionError(f"{self._annotator!r} is an annotator: only an admin may {what}")

    # ------------------------------------------------------------ state
    @property
    def labels(self) -> dict[int, Any]:
        """Pool index -> label, for every labeled sample (a copy)."""
        with self._cond:
            return dict(self._labels)

    @property
    def n_labeled(self) -> int:
        return len(self._labels)

    @property
    def labeled_mask(self) -> np.ndarray:
        mask = np.zeros(self.pool.n, dtype=bool)
        with self._cond:  # a label arriving from another thread must not change the dict mid-copy
            idx, _ = self._labels.arrays()
        mask[idx] = True
        return mask

    @property
    def busy(self) -> bool:
        """True while a retrain runs or is requested."""
        return self._busy or self._requested

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
        if self.settings.overlap > 0 and (self.queue.current is None or self.queue.current.strategy != "overlap"):
            for sid in self._open_overlap():
                try:
                    index = self.pool.index_of(sid)
                except KeyError:
                    continue
                if self._overlap[index]:
                    item = self.queue.offer(index, "overlap")
                    if item is not None:
                        return item
        if self.queue.current is None and self.result_ is not None and not self.result_.cold_start \
                and self.monitor.draw_audit(self.settings.audit):
            # never a labeled sample, nor an overlap sample (those wait for their second opinion)
            index = self.monitor.audit_index(lambda i: i in self._labels or bool(self._overlap[i]))
            item = self.queue.offer(index, "audit") if index is not None else None
            if item is not None:  # a uniform draw, handed out like any other (the annotator cannot tell)
                return item
        item = self.queue.next(exclude=self._labels)
        if item is None and self.result_ is None and not self.busy:
            self.retrain()
            item = self.queue.next(exclude=self._labels)
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
        return self.finder.search(text, k, list(self._labels) if unlabeled else ())

    def similar(self, index: int, k: int = 10, unlabeled: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` samples most like sample ``index`` ("more like this")."""
        return self.finder.similar(self._check_index(index), k, list(self._labels) if unlabeled else ())

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

    def preview(self) -> QueueItem | None:
        """The sample :meth:`next_item` would most likely hand out, without claiming it."""
        items = self.queue.peek(1, exclude=self._labels)
        return items[0] if items else None

    def _open_overlap(self) -> list[str]:
        """Overlap samples waiting for this annotator's label; the store is asked again only after a
        new event (a cheap MAX(seq)), not on every sample handed out."""
        newest = self.store.newest_seq()
        if self._overlap_cache[0] != newest:
            self._overlap_cache = (newest, self.store.open_overlap(self.annotator, self.settings.overlap_k))
        return self._overlap_cache[1]

    @property
    def overlap_mask(self) -> np.ndarray:
        """Which pool samples are overlap samples (a copy; all False without ``overlap``)."""
        return self._overlap.copy()

    def focus(self, index: int) -> QueueItem | None:
        """Make ``index`` the current sample (clicked on the map or the top-k panel)."""
        if index in self._labels:
            raise ValueError(f"sample {self.pool.ids[index]!r} is already labeled")
        item = self.queue.focus(index, self._score_of(index))
        if item is not None:
            self.emit("current_changed", item=item)
        return item

    def _check_progressive(self, indices: list[int], label: Any) -> None:
        res = self.result_
        if res is None or res.prediction is None:
            return
        for i in indices:
            if i not in self._trained_labels:
                self.progressive.check(res.prediction[i], label)

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
        who = self._writer(annotator)
        current = self.queue.current
        on_screen = current is not None and current.index == index
        strategy = current.picked_by if on_screen else "user-choice"  # provenance: who picked it, then
        predicted = None
        if strategy == "audit" and self.result_ is not None and self.result_.prediction is not None \
                and index not in self._trained_labels:  # checked before the model trains on it
            predicted = self.result_.prediction[index]
            predicted = predicted.item() if isinstance(predicted, np.generic) else predicted
        overlap_k = self.settings.overlap_k if self._overlap[index] else 1
        with self._cond:  # stored and counted in one step: a retrain snapshot sees both or neither
            seq = self.store.add_label(self.pool.ids[index], label, who, seconds, strategy,
                                       self._score_of(index), only_if_unlabeled=not overwrite, overlap_k=overlap_k,
                                       predicted=predicted)
            self._check_progressive([index], label)
            self._labels[index] = label
            if overlap_k > 1:  # a second opinion may put the sample in conflict: the store's rule decides
                self._load_store_labels()
            elif seq == self._store_seq + 1 and not overwrite and self.settings.rule == "newest":
                self._store_seq = seq  # no other event came between: the store holds what _labels holds
            self._actions.append(("label", [seq], [index]))
            self._pending += 1
            self._dirty = True
            due = self._pending >= self.retrain_every
        self.queue.done(index)
        self.emit("labeled", index=index, label=label, n_labeled=self.n_labeled)
        if due:
            self._wake()

    def submit_many(self, indices: Any, label: Any, annotator: str | None = None) -> BulkWrite:
        """Give every index the same label (bulk labeling), then one retrain.

        The store applies the rules of a single label to each sample (labeled meanwhile, in
        conflict, overlap samples' ``overlap_k``, claims of other annotators): such samples are
        skipped and reported in the returned :class:`~al_widgets.core.store.label_store.BulkWrite`.
        """
        indices = list(dict.fromkeys(self._check_index(i) for i in indices))
        label = self.pool.check_label(label)
        who = self._writer(annotator)
        if not indices:
            return BulkWrite([], [], {})
        ids = [self.pool.ids[i] for i in indices]
        overlap = {str(sid): self.settings.overlap_k for i, sid in zip(indices, ids) if self._overlap[i]}
        # one transaction, one action: a single undo takes the whole batch back
        with self._cond:
            result = self.store.add_labels([(sid, label) for sid in ids], who, "bulk", overlap=overlap,
                                           owner=self.owner)
            written = [i for i, sid in zip(indices, ids) if str(sid) not in result.skipped]
            self._check_progressive(written, label)
            for i in written:
                self._labels[i] = label
            if overlap:
                self._load_store_labels()  # a second opinion may put a sample in conflict
            if result.seqs:
                self._actions.append(("label", result.seqs, written))
            self._dirty = True
        for i in written:
            self.queue.done(i)
        if written:
            self.emit("labeled", index=written[-1], label=label, n_labeled=self.n_labeled, indices=written)
            self._wake()
        return result

    def undo(self) -> tuple[int, Any] | None:
        """Step back through this session's own actions: a label, a bulk label or a skip.

        Labels are cancelled by an undo event (recorded, never deleted); only labels this
        session stored are ever cancelled.  Returns ``(index, label)`` of the sample brought back
        (``label`` is ``None`` for an undone skip), or ``None`` when there is nothing to undo.
        """
        with self._cond:
            if not self._actions:
                return None
            action = self._actions.pop()
        if action[0] == "skip":
            index = action[1]
            self.queue.unskip(index)
            self.emit("unskipped", index=index)
            return index, None
        records = self.store.undo_events(action[1], self.annotator)
        if not records:
            return self.undo()  # cancelled elsewhere meanwhile: step further back
        for rec in reversed(records):  # oldest first, so the newest ends at the queue's front
            index = self.pool.index_of(rec.sample_id)
            with self._cond:
                original = self.pool.labels[index]
                if original is MISSING:
                    self._labels.pop(index, None)
                else:
                    self._labels[index] = original
                self._epoch += 1
            self.queue.restore(index, self._score_of(index))
            self.emit("undone", index=index, label=rec.label, n_labeled=self.n_labeled)
        self.request_retrain()
        newest = records[0]
        return self.pool.index_of(newest.sample_id), newest.label

    def skip(self, index: int) -> None:
        """Move ``index`` to the back of the queue; the next item becomes current.  Undo brings it back."""
        index = self._check_index(index)
        self.queue.skip(index)
        with self._cond:
            self._actions.append(("skip", index))
        self.emit("skipped", index=index)

    def _check_index(self, index: Any) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < self.pool.n:
            raise IndexError(f"pool index must be an integer in [0, {self.pool.n}), got {index!r}")
        return int(index)

    def query(self, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The current top-``k`` (default ``batch_size``) unlabeled, unclaimed samples and their scores."""
        if self.result_ is None:
            self.retrain()
        items = self.queue.peek(check_k(k or self.batch_size), exclude=self._labels)
        return np.array([it.index for it in items], dtype=int), np.array([it.score for it in items])

    def set_strategy(self, strategy: str | QueryStrategy, **params: Any) -> None:
        """Switch the query strategy; the pool is re-scored (and the model refitted) in the background."""
        self._require_admin("change the query strategy")
        chosen = get_strategy(strategy, random_state=self.random_state, **params) \
            if isinstance(strategy, str) else strategy
        _check_pool_strategy(self.pool, chosen)
        self.strategy = chosen
        self.emit("strategy_changed", strategy=self.strategy.name)
        self.request_retrain()


def _check_pool_strategy(pool: Any, strategy: QueryStrategy) -> None:
    """A pool held by a Dask cluster is ranked by per-sample scores only (clear error otherwise)."""
    if getattr(pool, "is_distributed", False):
        from ..backends.dask_pool import check_strategy
        check_strategy(strategy)

