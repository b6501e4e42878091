"""Disagreement of a committee: BALD (mutual information), query by committee, max variance."""
from __future__ import annotations

import numpy as np

from ..scoring.context import ScoringContext
from ..scoring.uncertainty import committee_variance, consensus_kl, vote_entropy
from .base import QueryStrategy


class _CommitteeStrategy(QueryStrategy):
    needs_committee = True


class BALD(_CommitteeStrategy):
    name = "bald"
    needs_every_class = True
    description = ("BALD: epistemic uncertainty, the mutual information between the label and the model "
                   "(where committee members disagree, not where the classes overlap).")

    def score(self, ctx: ScoringContext) -> np.ndarray:
        ctx.require_classifier("'bald'")
        return ctx.decomposition["epistemic"][ctx.candidates]


class QueryByCommittee(_CommitteeStrategy):
    name = "qbc"
    description = "Query by committee: samples on which a committee of models' votes disagree most."

    def __init__(self, disagreement: str = "vote_entropy", random_state: int | None = None) -> None:
        self.disagreement = disagreement
        self.random_state = random_state

    def validate(self) -> None:
        if self.disagreement not in ("vote_entropy", "consensus_kl"):
            raise ValueError(f"disagreement must be 'vote_entropy' or 'consensus_kl', got {self.disagreement!r}")

    def score(self, ctx: ScoringContext) -> np.ndarray:
        self.validate()
        ctx.require_classifier("'qbc'")
        members = ctx.member_proba[:, ctx.candidates]
        return vote_entropy(members) if self.disagreement == "vote_entropy" else consensus_kl(members)


class MaxVariance(_CommitteeStrategy):
    name = "max_variance"
    needs_every_class = True
    description = ("Max variance: samples with the largest predictive variance (regression: GP, tree or "
                   "bootstrap spread; classifiers: spread of the ensemble's probabilities).")
    supports_regression = True

    def score(self, ctx: ScoringContext) -> np.ndarray:
        ctx.require_model("'max_variance'")
        if ctx.is_regression:
            return ctx.regression_std[ctx.candidates] ** 2
        return committee_variance(ctx.member_proba[:, ctx.candidates])
