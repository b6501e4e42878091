"""Strategies for multi-label pools, where a label is a set of tags.

Every tag is a yes/no question the model answers with a probability (binary relevance).  The
strategies here read those probabilities (:attr:`ScoringContext.tag_proba`):

- ``tag_entropy``: the mean binary entropy over tags, the set's total uncertainty spread out;
- ``tag_margin``: the tag closest to a coin flip decides (Brinker 2006, "BinMin");
- ``mmc``: maximum loss reduction with maximal confidence (Yang et al., KDD 2009): the expected
  reduction of the SVM-style loss, with the number of tags a sample carries predicted from its
  sorted tag probabilities by a logistic regression fitted on the labeled samples.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..scoring.context import ScoringContext
from .base import QueryStrategy
from .batch import CLUE, uncertainty_weights


class _TagScore(QueryStrategy):
    supports_multilabel: ClassVar[bool] = True
    supports_classification: ClassVar[bool] = False
    score_name: ClassVar[str] = ""
    """The per-sample summary of the tag probabilities this strategy ranks by (:func:`tag_summary`)."""

    def score(self, ctx: ScoringContext) -> np.ndarray:
        return ctx.require_tags(f"'{self.name}'")[self.score_name][ctx.candidates]


class TagEntropy(_TagScore):
    name = "tag_entropy"
    description = "Tag entropy: samples whose tags are, on average over tags, most uncertain (binary relevance)."
    score_name = "entropy"


class TagMargin(_TagScore):
    name = "tag_margin"
    description = "Tag margin: samples with the one tag closest to a coin flip (binary minimum)."
    score_name = "min_margin"


def predict_tag_counts(P_labeled: np.ndarray, counts: np.ndarray, P: np.ndarray) -> np.ndarray:
    """How many tags each row of ``P`` carries, predicted from its sorted, normalized tag
    probabilities by a logistic regression fitted on labeled rows (``P_labeled``, their ``counts``)."""
    def features(Q: np.ndarray) -> np.ndarray:
        Q = -np.sort(-np.asarray(Q, dtype=float), axis=1)
        return Q / np.maximum(Q.sum(axis=1, keepdims=True), 1e-12)
    counts = np.asarray(counts, dtype=int)
    if len(np.unique(counts)) < 2:
        return np.full(len(P), counts[0] if len(counts) else 1, dtype=int)
    lr = LogisticRegression(max_iter=500).fit(features(P_labeled), counts)
    return lr.predict(features(P)).astype(int)


def mmc_scores(P: np.ndarray, n_tags: np.ndarray) -> np.ndarray:
    """Expected loss reduction of each row: ``sum_j (1 - y_j f_j) / 2`` with ``f_j = 2 p_j - 1`` and
    ``y_j = +1`` for the ``n_tags`` most probable tags, ``-1`` for the others."""
    P = np.asarray(P, dtype=float)
    ranks = np.argsort(np.argsort(-P, axis=1, kind="stable"), axis=1)
    y = np.where(ranks < np.asarray(n_tags)[:, None], 1.0, -1.0)
    return ((1 - y * (2 * P - 1)) / 2).sum(axis=1)


class MaxLossReduction(_TagScore):
    name = "mmc"
    description = ("Maximum loss reduction with maximal confidence (Yang et al. 2009): the expected loss "
                   "reduction, with each sample's number of tags predicted.")

    def score(self, ctx: ScoringContext) -> np.ndarray:
        summary = ctx.require_tags(f"'{self.name}'")
        P = ctx.tag_proba
        if ctx.labeled is None or ctx.y_labeled is None or not len(ctx.labeled):
            return summary["entropy"][ctx.candidates]
        counts = np.asarray(ctx.y_labeled).sum(axis=1)
        n_tags = predict_tag_counts(P[ctx.labeled], counts, P[ctx.candidates])
        return mmc_scores(P[ctx.candidates], n_tags)


class TagCLUE(CLUE):
    """CLUE (Prabhu et al., 2021) for tag sets: k-means over the pool weighted by a tag uncertainty,
    one sample per cluster, so a batch is uncertain and spread over the pool at once.

    Parameters
    ----------
    n_init, max_candidates, random_state : as :class:`~al_widgets.core.strategies.batch.CLUE`.
    uncertainty : {"entropy", "min_margin", "max_entropy"}
        The per-sample tag uncertainty (:func:`~al_widgets.core.scoring.tags.tag_summary`).
    power : float
        Weights are ``(u / max u) ** power``.
    """

    name = "tag_clue"
    description = ("Tag CLUE: k-means over the pool weighted by tag uncertainty, one sample per cluster: "
                   "uncertain and representative tag sets.")
    supports_multilabel = True
    supports_classification = False

    def __init__(self, n_init: int = 3, max_candidates: int = 20000, uncertainty: str = "entropy",
                 power: float = 1.0, space: str = "features", random_state: int | None = None) -> None:
        super().__init__(n_init=n_init, max_candidates=max_candidates, uncertainty=uncertainty, power=power,
                         space=space, random_state=random_state)

    def validate(self) -> None:
        if self.uncertainty not in TAG_SCORES:
            raise ValueError(f"uncertainty must be one of {TAG_SCORES}, got {self.uncertainty!r}")
        CLUE(self.n_init, self.max_candidates, "entropy", self.power, self.space).validate()

    def score(self, ctx: ScoringContext) -> np.ndarray:
        self.validate()
        u = np.asarray(ctx.require_tags(f"'{self.name}'")[self.uncertainty][ctx.candidates], dtype=float)
        return uncertainty_weights(u, self.power)


TAG_SCORES = ("entropy", "min_margin", "max_entropy")
