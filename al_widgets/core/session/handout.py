"""What a session hands out next: an overlap sample waiting for this annotator's opinion, an audit
draw, or the queue's best sample."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..review.quality import overlap_mask
from .queue import AnnotationQueue, QueueItem


class Handout:
    """The hand-out rules of one session.

    Parameters
    ----------
    pool : Pool or DaskPool
    store : LabelStore
    queue : AnnotationQueue
    monitor : QualityMonitor
        Draws audit samples (uniform over the pool) with probability ``settings.audit``.
    settings : callable
        Returns the session's :class:`SessionSettings` (``overlap``, ``overlap_k``, ``audit``).
    """

    def __init__(self, pool: Any, store: Any, queue: AnnotationQueue, monitor: Any,
                 settings: Callable[[], Any]) -> None:
        self.pool, self.store, self.queue, self.monitor, self._settings = pool, store, queue, monitor, settings
        self.overlap = overlap_mask(pool.ids, settings().overlap)  # fixed per pool: every kernel agrees
        self._open: tuple[int, list[str]] = (-1, [])

    def overlap_k(self, index: int) -> int:
        """How many annotators must label ``index`` (``overlap_k`` for overlap samples, else 1)."""
        return self._settings().overlap_k if self.overlap[index] else 1

    def next(self, labeled: Any, trained: bool, annotator: str) -> QueueItem | None:
        """Claim and return the sample to label now, or ``None`` when the queue is empty.

        With ``overlap``, an overlap sample another annotator labeled comes first (never to an
        annotator who labeled it already), until it has ``overlap_k`` labels.  Once a model is
        ``trained``, a share ``audit`` of the samples are uniform draws, handed out like any other
        (the annotator cannot tell); never a labeled sample, nor an overlap sample.
        """
        settings = self._settings()
        current = self.queue.current
        if settings.overlap > 0 and (current is None or current.strategy != "overlap"):
            for sid in self._open_overlap(annotator, settings.overlap_k):
                index = self.pool.index_of(sid) if self.pool.has_id(sid) else None
                if index is not None and self.overlap[index]:
                    item = self.queue.offer(index, "overlap")
                    if item is not None:
                        return item
        if current is None and trained and self.monitor.draw_audit(settings.audit):
            index = self.monitor.audit_index(lambda i: i in labeled or bool(self.overlap[i]))
            item = self.queue.offer(index, "audit") if index is not None else None
            if item is not None:
                return item
        return self.queue.next(exclude=labeled)

    def _open_overlap(self, annotator: str, overlap_k: int) -> list[str]:
        """Overlap samples waiting for ``annotator``'s label; the store is asked again only after a new
        event (a cheap MAX(seq)), not on every sample handed out."""
        newest = self.store.newest_seq()
        if self._open[0] != newest:
            self._open = (newest, self.store.open_overlap(annotator, overlap_k))
        return self._open[1]

    def mask(self) -> np.ndarray:
        """Which pool samples are overlap samples (a copy)."""
        return self.overlap.copy()
