"""Uncertainty sampling: least confidence, margin, entropy, and random sampling as the baseline."""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..scoring.context import ScoringContext
from .base import QueryStrategy


class RandomSampling(QueryStrategy):
    name = "random"
    description = "Random sampling: the baseline every strategy must beat."
    supports_regression = True
    supports_multilabel = True

    def score(self, ctx: ScoringContext) -> np.ndarray:
        return self.rng().random(len(ctx.candidates))


class _ProbaScore(QueryStrategy):
    score_name: ClassVar[str] = ""

    def score(self, ctx: ScoringContext) -> np.ndarray:
        ctx.require_classifier(f"'{self.name}'")
        # every score of every row comes from one fused pass per retrain (ScoringContext.summary)
        return ctx.summary[self.score_name][ctx.candidates]


class LeastConfident(_ProbaScore):
    name = "least_confident"
    description = "Least confidence: samples whose most likely class has the lowest probability."
    score_name = "least_confidence"


class Margin(_ProbaScore):
    name = "margin"
    description = "Margin: samples where the two most likely classes are closest."
    score_name = "margin"


class Entropy(_ProbaScore):
    name = "entropy"
    description = "Entropy: samples whose predicted class distribution is most spread out."
    score_name = "entropy"
