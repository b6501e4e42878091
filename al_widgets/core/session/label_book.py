"""The label book of a session: the labels it trains on, merged from the store, and its own undo steps.

A part of :class:`~al_widgets.core.session.session.ActiveLearningSession` by composition
(``session.book``).  Every write goes to the durable store first (committed before the call
returns), then into the in-memory map the retrainer snapshots.  The book's ``lock`` is the
session's one lock: a label written and counted for a retrain is one step under it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..data.labels import MISSING
from ..store.label_store import BulkWrite, LabelStore
from .label_arrays import LabelMap


@dataclass(frozen=True)
class Undone:
    """One undo step: the pool indices given back (newest first) with the labels cancelled, or a skip."""

    indices: list[int]
    labels: list[Any]
    skip: bool = False


class LabelBook:
    """Pool index -> label for one session, kept in step with the label store.

    Parameters
    ----------
    pool : Pool or DaskPool
        Gives the ids, the labels known from the start and :meth:`check_label`.
    store : LabelStore
        The durable log every write goes to.
    rule : callable
        Returns the conflict rule (``"newest"``, ``"majority"``, …) the store resolves labels by.
    """

    def __init__(self, pool: Any, store: LabelStore, rule: Callable[[], str]) -> None:
        self.pool, self.store, self._rule = pool, store, rule
        self.lock = threading.Condition(threading.RLock())
        encode = pool.indicator if pool.task == "multilabel" else None  # tag sets: a 0/1 matrix
        self._labels = LabelMap(pool.known_labels(), numeric=pool.task == "regression", encode=encode)
        self.skipped: dict[str, str] = {}  # stored labels this pool cannot use, and why
        self._store_seq = 0  # the newest store event merged
        self.epoch = 0  # bumped by every undo: a retrain snapshot from before it is stale
        self._actions: list[tuple] = []  # this session's own labels and skips, newest last

    # ------------------------------------------------------------ reading
    def __contains__(self, index: object) -> bool:
        return index in self._labels

    def __len__(self) -> int:
        return len(self._labels)

    def copy(self) -> dict[int, Any]:
        """Pool index -> label (a copy, taken under the lock)."""
        with self.lock:
            return dict(self._labels)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted labeled indices and their labels (call under :attr:`lock` for a consistent pair)."""
        return self._labels.arrays()

    def keys(self) -> Any:
        """The labeled pool indices (a live view: read under :attr:`lock` when threads write)."""
        return self._labels.keys()

    # ------------------------------------------------------------ the store
    def merge(self) -> int:
        """Merge what changed in the store since the last look (other sessions, undos); returns how many.

        Reads only the samples touched since then (:meth:`LabelStore.changes_since`).
        """
        changed = 0
        with self.lock:
            self._store_seq, changes = self.store.changes_since(self._store_seq, self._rule())
            for sid, label in changes.items():
                try:
                    idx = self.pool.index_of(sid)
                except KeyError:
                    continue  # label for a sample not in this pool
                if label is None:  # undone (here or elsewhere): back to what the pool knew, if anything
                    changed += self._restore(idx)
                    continue
                try:
                    label = self.pool.check_label(label)  # the pool's own class value, whatever JSON gave back
                except ValueError as exc:
                    self.skipped[sid] = str(exc)  # never trained on, never lost: still in the store
                    continue
                if self._labels.get(idx, MISSING) != label:
                    self._labels[idx] = label
                    changed += 1
        return changed

    def _restore(self, idx: int) -> bool:
        """Back to what the pool knew about ``idx`` (nothing, or its original label); True if changed."""
        original = self.pool.labels[idx]
        if original is MISSING:
            return self._labels.pop(idx, MISSING) is not MISSING
        if self._labels.get(idx, MISSING) != original:
            self._labels[idx] = original
            return True
        return False

    def write(self, index: int, label: Any, who: str, *, seconds: float | None, strategy: str, score: float,
              overwrite: bool, overlap_k: int, predicted: Any = None) -> int:
        """Store one label (refused by the store's rules, see :meth:`LabelStore.add_label`); its event seq."""
        with self.lock:
            seq = self.store.add_label(self.pool.ids[index], label, who, seconds, strategy, score,
                                       only_if_unlabeled=not overwrite, overlap_k=overlap_k, predicted=predicted)
            self._labels[index] = label
            if overlap_k > 1:  # a second opinion may put the sample in conflict: the store's rule decides
                self.merge()
            elif seq == self._store_seq + 1 and not overwrite and self._rule() == "newest":
                self._store_seq = seq  # no other event came between: the store holds what the map holds
            self._actions.append(("label", [seq], [index]))
        return seq

    def write_many(self, indices: list[int], labels: list, who: str, overlap: dict[str, int],
                   owner: str, replace_own: bool = False) -> tuple[BulkWrite, list[int]]:
        """``labels[j]`` for ``indices[j]`` in one transaction and one undo step (``replace_own``: see
        :meth:`LabelStore.add_labels`); the result and the indices written."""
        ids = [self.pool.ids[i] for i in indices]
        with self.lock:
            result = self.store.add_labels(list(zip(ids, labels)), who, "bulk", overlap=overlap, owner=owner,
                                           replace_own=replace_own)
            written = [(i, label) for i, sid, label in zip(indices, ids, labels) if str(sid) not in result.skipped]
            for i, label in written:
                self._labels[i] = label
            written = [i for i, _ in written]
            if overlap:
                self.merge()  # a second opinion may put a sample in conflict
            if result.seqs:
                self._actions.append(("label", result.seqs, written))
        return result, written

    def decide(self, index: int, label: Any, who: str, kind: str) -> None:
        """A reviewer's decision: one more event (nothing deleted), the sample's training label from now on."""
        with self.lock:
            self.store.add_label(self.pool.ids[index], label, who, strategy=kind)
            self.merge()

    # ------------------------------------------------------------ undo
    def push_skip(self, index: int) -> None:
        """Remember a skip, so that :meth:`undo` can bring the sample back."""
        with self.lock:
            self._actions.append(("skip", index))

    def undo(self, who: str) -> Undone | None:
        """Take back this session's newest action still in force (``None`` when nothing is left).

        Labels are cancelled by undo events in the store (recorded, never deleted); only labels
        written by ``who`` are cancelled; an action cancelled elsewhere meanwhile is stepped over.
        """
        while True:
            with self.lock:
                if not self._actions:
                    return None
                action = self._actions.pop()
            if action[0] == "skip":
                return Undone([action[1]], [None], skip=True)
            records = self.store.undo_events(action[1], who)
            if records:
                break
        indices = [self.pool.index_of(rec.sample_id) for rec in records]
        with self.lock:
            for index in indices:
                self._restore(index)
            self.epoch += 1
        return Undone(indices, [rec.label for rec in records])


def tag_changes(pool: Any, labels: dict[int, Any], indices: list[int], add: Any, remove: Any,
                skip: np.ndarray) -> dict[int, Any]:
    """The new tag set of each of ``indices`` after adding ``add`` and removing ``remove`` (multi-label
    pools): a labeled sample's own set changed, an unlabeled one given ``add`` (nothing when there is
    nothing to add); samples left as they are, those ``skip`` marks (overlap samples: each annotator's
    own opinion) and those labeled by the data file are left out.  Unknown tags, or a tag both added
    and removed, raise."""
    if pool.task != "multilabel":
        raise ValueError("adding and removing tags is for multi-label pools (tag sets); use submit_many")
    add, remove = set(pool.check_label(list(add))), set(pool.check_label(list(remove)))
    if add & remove:
        raise ValueError(f"tags {sorted(add & remove, key=str)} are both added and removed")
    changes = {}
    for i in dict.fromkeys(indices):
        if skip[i] or pool.labels[i] is not MISSING or (i not in labels and not add):
            continue  # overlap samples, labels from the data file, nothing to add to nothing
        new = pool.check_label(list((set(labels.get(i, ())) | add) - remove))
        if i not in labels or new != labels[i]:
            changes[i] = new
    return changes
