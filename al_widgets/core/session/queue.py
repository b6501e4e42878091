"""Annotation Queue Manager: what to label next, ranked by score, with skip and claims."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Container

import numpy as np

from ..store.label_store import LabelStore


@dataclass(frozen=True)
class QueueItem:
    """A sample handed to an annotator."""

    index: int
    sample_id: str
    score: float
    strategy: str
    rank: int
    picked_by: str = "user-choice"
    """Who put it on screen, kept through re-rankings: the strategy that ranked it then,
    ``"overlap"`` (a second opinion) or ``"user-choice"`` (clicked on the map or the top-k).
    This is what the store records as the label's provenance."""


class AnnotationQueue:
    """Priority queue over pool indices, re-ranked after every re-score.

    Parameters
    ----------
    ids : list of str
        Sample ids of the pool (position = pool index).
    store : LabelStore
        Where claims are kept, shared by every annotator of the store.
    owner : str
        This queue's claim owner (one per session / browser tab).
    lease_seconds : float
        How long a claim holds before another annotator may get the item.
    """

    def __init__(self, ids: list[str], store: LabelStore, owner: str, lease_seconds: float = 600.0) -> None:
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, got {lease_seconds!r}")
        self.ids = ids
        self.store = store
        self.owner = owner
        self.lease_seconds = lease_seconds
        self._lock = threading.RLock()
        self._order: list[int] = []
        self._scores: dict[int, float] = {}
        self._strategy = ""
        self._skipped: list[int] = []
        self._current: QueueItem | None = None
        self.n_skips = 0
        self._others: tuple[float, set[str]] = (-1e18, set())
        self.others_ttl = 1.0
        """Seconds a read of the other annotators' claims is reused by :meth:`peek` (views call it after
        every label; a claim made meanwhile only means a card may show a sample someone just took)."""

    def rerank(self, indices: np.ndarray, scores: np.ndarray, strategy: str) -> None:
        """Replace the ranking (most informative first); skipped items stay at the back."""
        order = np.asarray(indices).tolist()  # Python ints and floats in one C loop each
        scores_by_index = dict(zip(order, np.asarray(scores, dtype=float).tolist()))
        with self._lock:
            self._scores = scores_by_index
            if self._skipped:
                skipped = set(self._skipped)
                order = [i for i in order if i not in skipped] + [i for i in self._skipped if i in scores_by_index]
            self._order = order
            self._strategy = strategy
            cur = self._current
            if cur is not None:  # the sample on screen now carries the new ranking's score and name
                rank = self._order.index(cur.index) if cur.index in self._scores else -1
                self._current = QueueItem(cur.index, cur.sample_id, self._scores.get(cur.index, float("nan")),
                                          strategy, rank, cur.picked_by)

    def peek(self, k: int, exclude: Container[int] = frozenset()) -> list[QueueItem]:
        """The next ``k`` items in rank order, without claiming them."""
        with self._lock:
            taken = self._claimed_by_others()
            out = []
            for rank, i in enumerate(self._order):
                if i in exclude or self.ids[i] in taken:
                    continue
                out.append(QueueItem(i, self.ids[i], self._scores.get(i, float("nan")), self._strategy, rank))
                if len(out) >= k:
                    break
            return out

    def next(self, exclude: Container[int] = frozenset()) -> QueueItem | None:
        """Claim and return the best item not labeled, excluded or claimed by another owner."""
        with self._lock:
            if self._current is not None and self._current.index not in exclude:
                if self.store.claim(self.owner, [self._current.sample_id], 1, self.lease_seconds):
                    return self._current
            candidates = (self.ids[i] for i in self._order if i not in exclude)
            got = self.store.claim(self.owner, candidates, 1, self.lease_seconds)
            if not got:
                self._current = None
                return None
            sid = got[0]
            idx = self._order_index(sid)
            score = self._scores.get(idx, float("nan"))
            self._current = QueueItem(idx, sid, score, self._strategy, self._order.index(idx), self._strategy)
            return self._current

    def _claimed_by_others(self) -> set[str]:
        now = time.monotonic()
        read_at, ids = self._others
        if now - read_at > self.others_ttl:
            ids = self.store.claimed_by_others(self.owner)
            self._others = (now, ids)
        return ids

    def _order_index(self, sample_id: str) -> int:
        for i in self._order:
            if self.ids[i] == sample_id:
                return i
        raise KeyError(sample_id)

    def focus(self, index: int, score: float | None = None) -> QueueItem | None:
        """Make ``index`` the current item (e.g. clicked on the map) if it can be claimed."""
        with self._lock:
            if not self.store.claim(self.owner, [self.ids[index]], 1, self.lease_seconds):
                return None
            if self._current is not None and self._current.index != index:
                self.store.release(self.owner, [self._current.sample_id])
            sc = self._scores.get(index, float("nan")) if score is None else score
            rank = self._order.index(index) if index in self._order else -1
            self._current = QueueItem(index, self.ids[index], sc, self._strategy, rank)
            return self._current

    def offer(self, index: int, strategy: str) -> QueueItem | None:
        """Make ``index`` the current item, chosen by ``strategy`` (e.g. "overlap"), if it can be claimed."""
        with self._lock:
            if not self.store.claim(self.owner, [self.ids[index]], 1, self.lease_seconds, allow_labeled=True):
                return None
            if self._current is not None and self._current.index != index:
                self.store.release(self.owner, [self._current.sample_id])
            self._current = QueueItem(index, self.ids[index], float("nan"), strategy, 0, strategy)
            return self._current

    @property
    def current(self) -> QueueItem | None:
        return self._current

    def done(self, index: int) -> None:
        """Remove a labeled item from the ranking."""
        with self._lock:
            if index in self._order:
                self._order.remove(index)
            if index in self._skipped:
                self._skipped.remove(index)
            if self._current is not None and self._current.index == index:
                self._current = None

    def restore(self, index: int, score: float | None = None) -> None:
        """Put an item back at the front (after an undo)."""
        with self._lock:
            if index in self._order:
                self._order.remove(index)
            self._order.insert(0, index)
            if score is not None:
                self._scores[index] = score
            self._current = None

    def skip(self, index: int) -> None:
        """Move ``index`` to the back of the queue and release its claim."""
        with self._lock:
            if index in self._order:
                self._order.remove(index)
                self._order.append(index)
            if index not in self._skipped:
                self._skipped.append(index)
            self.n_skips += 1
            self.store.release(self.owner, [self.ids[index]])
            if self._current is not None and self._current.index == index:
                self._current = None

    def unskip(self, index: int) -> None:
        """Take a skip back: ``index`` returns to the front of the queue."""
        with self._lock:
            if index in self._skipped:
                self._skipped.remove(index)
            self.n_skips = max(self.n_skips - 1, 0)
        self.restore(index)

    def release_all(self) -> None:
        """Give up every claim of this owner (e.g. when the session closes)."""
        self.store.release(self.owner)
        self._current = None

    def __len__(self) -> int:
        return len(self._order)

    def progress(self, n_labeled: int, budget: int | None) -> dict[str, Any]:
        """Counts for progress displays."""
        return {"labeled": n_labeled, "queued": len(self._order), "skipped": len(self._skipped),
                "budget": budget, "remaining": None if budget is None else max(budget - n_labeled, 0)}
