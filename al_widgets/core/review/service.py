"""Review: conflicts between annotators, labels the model flags as likely wrong, and reviewers' decisions.

A part of :class:`~al_widgets.core.session.session.ActiveLearningSession` by composition
(``session.review``); the session's ``conflicts``, ``suspicious_labels`` and ``decide`` are its
façade and add the admin check and the retrain.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from ..data.rows import take_rows
from .quality import conflicts, decisions, label_issues
from .numbers import outlying_labels


class ReviewService:
    """Review for one session.

    Parameters
    ----------
    pool : Pool or DaskPool
    book : LabelBook
        The session's labels (and through it the store).
    model : callable
        Returns the session's (unfitted) model; cross-validated clones flag likely errors.
    random_state : callable
        Returns the session's random state.
    """

    def __init__(self, pool: Any, book: Any, model: Callable[[], Any], random_state: Callable[[], Any]) -> None:
        self.pool, self.book, self.store = pool, book, book.store
        self._model, self._random_state = model, random_state

    def conflicts(self, events: pd.DataFrame | None = None) -> pd.DataFrame:
        """Samples of this pool whose annotators disagree and that nobody has decided yet.

        Adds the pool ``index`` column to :func:`al_widgets.core.review.quality.conflicts`; ``events``: the
        store's :meth:`~LabelStore.to_frame_all` if the caller already read it.
        """
        df = conflicts(self.store if events is None else events)
        known = [self.pool.has_id(sid) for sid in df["sample_id"]] if len(df) else []
        df = df[known] if len(df) else df
        return df.assign(index=[self.pool.index_of(s) for s in df["sample_id"]])

    def suspicious_labels(self, top: int = 50, cv: int = 5, events: pd.DataFrame | None = None) -> pd.DataFrame:
        """Labels most likely to be wrong (confident learning on out-of-fold predictions; numbers:
        residuals of at least three robust standard deviations, :func:`~.numbers.outlying_labels`).

        Samples a reviewer already decided are left out.  Columns: ``index``, ``sample_id``,
        ``given``, ``suggested``, then ``self_confidence`` and ``suggested_proba`` (classes) or
        ``residual_z`` (numbers).  Multi-label pools: none yet (conflicts between annotators are reviewed).
        """
        labels = self.book.copy()
        numbers = self.pool.task == "regression"
        if self.pool.task == "multilabel" or len(labels) < 4:
            return pd.DataFrame(columns=["index", "sample_id", "given", "suggested",
                                         *(["residual_z"] if numbers else ["self_confidence", "suggested_proba"])])
        decided = set(decisions(self.store if events is None else events)["sample_id"])
        idx = np.array([i for i in labels if self.pool.ids[i] not in decided], dtype=int)
        y = np.array([labels[i] for i in idx], dtype=object)
        if numbers:  # far from what the other labels imply, in robust standard deviations
            flags = outlying_labels(self._model(), take_rows(self.pool.X, idx), y.astype(float), cv=cv,
                                    random_state=self._random_state())
        else:
            flags = label_issues(self._model(), take_rows(self.pool.X, idx), y, list(self.pool.classes), cv=cv,
                                 random_state=self._random_state())
        flags = flags.head(top)
        pos = flags["position"].to_numpy(dtype=int)
        return flags.drop(columns="position").assign(index=idx[pos], sample_id=[self.pool.ids[i] for i in idx[pos]])

    def decide(self, index: int, label: Any, who: str, kind: str = "adjudicated") -> Any:
        """Record a reviewer's decision on pool ``index`` (one more event; nothing is deleted).

        ``kind``: ``"adjudicated"`` (a conflict between annotators) or ``"review"`` (a flagged label
        confirmed or corrected).  The decision is the sample's training label from now on.
        Returns the label as the pool holds it.
        """
        if kind not in ("adjudicated", "review"):
            raise ValueError(f"kind must be 'adjudicated' or 'review', got {kind!r}")
        label = self.pool.check_label(label)
        self.book.decide(index, label, who, kind)
        return label
