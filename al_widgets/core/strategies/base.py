"""Query strategies: scikit-learn-style estimators that rank the pool.

Every strategy scores the candidate samples of a :class:`ScoringContext`
(higher = more informative) and :meth:`QueryStrategy.query` returns the chosen
pool indices and their scores.  Strategies follow scikit-learn's conventions:
hyper-parameters in ``__init__`` (stored as given), validation at query time,
``get_params``/``set_params``/``clone``.  Randomness (tie-breaking, sampling) is fresh in
every round yet reproducible from ``random_state``.  The names the UI offers live in
:mod:`al_widgets.core.strategies.catalog`.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from ..params import check_k, check_positive_ints  # noqa: F401 - re-exported for the strategies
from ..scoring.context import ScoringContext


def top_k(scores: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of the ``k`` highest ``scores``; ties broken by ``rng``.

    Uses ``argpartition`` so the cost is O(n + m log m) where m counts the
    scores tied with or above the k-th largest.
    """
    n = len(scores)
    k = min(k, n)
    if k <= 0:
        return np.empty(0, dtype=int)
    if k < n:
        kth = np.partition(scores, n - k)[n - k]
        cand = np.flatnonzero(scores >= kth)
    else:
        cand = np.arange(n)
    tiebreak = rng.random(len(cand))  # drawn even without ties: the stream does not depend on them
    neg = -scores[cand]
    order = np.argsort(neg, kind="stable")
    ranked = neg[order]
    if np.any(ranked[1:] == ranked[:-1]):  # tied scores: broken at random
        order = np.lexsort((tiebreak, neg))
    return cand[order[:k]]


class QueryStrategy(BaseEstimator):
    """Base class: subclasses set ``name``, ``description`` and implement :meth:`score`.

    Parameters
    ----------
    random_state : int or None
        Seed for tie-breaking (and any randomness of the strategy).  :meth:`rng` is one
        reproducible stream, so two rounds never break ties the same way while two runs with one
        seed choose the same samples.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    supports_regression: ClassVar[bool] = False
    supports_multilabel: ClassVar[bool] = False
    """Scores multi-label pools (sets of tags; see :mod:`~al_widgets.core.strategies.multilabel`)."""
    supports_classification: ClassVar[bool] = True
    needs_committee: ClassVar[bool] = False
    needs_every_class: ClassVar[bool] = False
    """A bootstrap committee agrees that classes nobody labeled yet are impossible, so this score
    is blind to them until every class has a label (BALD's blind spot; see the teaching notebook)."""

    def __init__(self, random_state: int | None = None) -> None:
        self.random_state = random_state

    def rng(self) -> np.random.Generator:
        """This strategy's generator: one stream, made from ``random_state`` at first use (and again
        when ``random_state`` is set), so successive rounds draw new numbers while two runs with one
        seed draw the same.  Made once, not per call: seeding costs more than a round's draws."""
        state = self.__dict__.get("_rng_state")
        if state is None or state[0] is not self.random_state:
            seed = None if self.random_state is None else int(self.random_state)
            state = self._rng_state = (self.random_state, np.random.default_rng(seed))
        return state[1]

    def validate(self) -> None:
        """Check the hyper-parameters (called at query time, as scikit-learn does at fit time)."""

    def score(self, ctx: ScoringContext) -> np.ndarray:
        """Informativeness of each of ``ctx.candidates`` (higher = query first)."""
        raise NotImplementedError

    def query(self, ctx: ScoringContext, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Choose ``k`` candidates.

        Returns
        -------
        indices : ndarray of int
            Pool indices, most informative first.
        scores : ndarray of float
            Their scores.
        """
        k = check_k(k)
        self.validate()
        ctx.batch_size = k
        return self.query_scored(ctx, k, np.asarray(self.score(ctx), dtype=float))

    def query_scored(self, ctx: ScoringContext, k: int, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`query`, with the candidates' ``scores`` already computed (scored once per retrain)."""
        pos = top_k(scores, k, self.rng())
        return ctx.candidates[pos], scores[pos]
