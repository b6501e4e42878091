"""Query Strategy Selector: small scikit-learn-style strategy objects and their registry.

Every strategy scores the candidate samples of a :class:`ScoringContext`
(higher = more informative) and :meth:`QueryStrategy.query` returns the chosen
pool indices and their scores.  Ties are broken reproducibly from
``random_state``.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .context import ScoringContext
from .uncertainty import SCORES, committee_variance, consensus_kl, vote_entropy

REGISTRY: dict[str, type["QueryStrategy"]] = {}


def register(cls: type["QueryStrategy"]) -> type["QueryStrategy"]:
    """Class decorator adding a strategy to :data:`REGISTRY` under ``cls.name``."""
    REGISTRY[cls.name] = cls
    return cls


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
    tiebreak = rng.random(len(cand))
    order = np.lexsort((tiebreak, -scores[cand]))
    return cand[order[:k]]


class QueryStrategy:
    """Base class: subclasses set ``name``, ``description`` and implement :meth:`score`.

    Parameters
    ----------
    random_state : int or None
        Seed for tie-breaking (and any randomness of the strategy).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    supports_regression: ClassVar[bool] = False
    needs_committee: ClassVar[bool] = False

    def __init__(self, random_state: int | None = None) -> None:
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

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
        k = _check_k(k)
        scores = np.asarray(self.score(ctx), dtype=float)
        pos = top_k(scores, k, np.random.default_rng(self.random_state))
        return ctx.candidates[pos], scores[pos]


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k (the number of samples to query) must be a positive integer, got {k!r}")
    return int(k)


@register
class RandomSampling(QueryStrategy):
    name = "random"
    description = "Random sampling: the baseline every strategy must beat."
    supports_regression = True

    def score(self, ctx: ScoringContext) -> np.ndarray:
        return np.random.default_rng(self.random_state).random(len(ctx.candidates))


class _ProbaScore(QueryStrategy):
    score_name: ClassVar[str] = ""

    def score(self, ctx: ScoringContext) -> np.ndarray:
        ctx.require_classifier(f"'{self.name}'")
        return SCORES[self.score_name](ctx.proba[ctx.candidates])


@register
class LeastConfident(_ProbaScore):
    name = "least_confident"
    description = "Least confidence: samples whose most likely class has the lowest probability."
    score_name = "least_confidence"


@register
class Margin(_ProbaScore):
    name = "margin"
    description = "Margin: samples where the two most likely classes are closest."
    score_name = "margin"


@register
class Entropy(_ProbaScore):
    name = "entropy"
    description = "Entropy: samples whose predicted class distribution is most spread out."
    score_name = "entropy"


class _CommitteeStrategy(QueryStrategy):
    needs_committee = True


@register
class BALD(_CommitteeStrategy):
    name = "bald"
    description = ("BALD: epistemic uncertainty, the mutual information between the label and the model "
                   "(where committee members disagree, not where the classes overlap).")

    def score(self, ctx: ScoringContext) -> np.ndarray:
        ctx.require_classifier("'bald'")
        return ctx.decomposition["epistemic"][ctx.candidates]


@register
class QueryByCommittee(_CommitteeStrategy):
    name = "qbc"
    description = "Query by committee: samples on which a committee of models' votes disagree most."

    def __init__(self, disagreement: str = "vote_entropy", random_state: int | None = None) -> None:
        if disagreement not in ("vote_entropy", "consensus_kl"):
            raise ValueError(f"disagreement must be 'vote_entropy' or 'consensus_kl', got {disagreement!r}")
        self.disagreement = disagreement
        super().__init__(random_state)

    def score(self, ctx: ScoringContext) -> np.ndarray:
        ctx.require_classifier("'qbc'")
        members = ctx.member_proba[:, ctx.candidates]
        return vote_entropy(members) if self.disagreement == "vote_entropy" else consensus_kl(members)


@register
class MaxVariance(_CommitteeStrategy):
    name = "max_variance"
    description = ("Max variance: samples with the largest predictive variance (regression: GP, tree or "
                   "bootstrap spread; classifiers: spread of the ensemble's probabilities).")
    supports_regression = True

    def score(self, ctx: ScoringContext) -> np.ndarray:
        ctx.require_model("'max_variance'")
        if ctx.is_regression:
            return ctx.regression_std[ctx.candidates] ** 2
        return committee_variance(ctx.member_proba[:, ctx.candidates])


def available_strategies() -> dict[str, str]:
    """Strategy names mapped to their one-line descriptions, in registry order."""
    from . import strategies_batch  # noqa: F401 - registers the remaining strategies
    return {name: cls.description for name, cls in REGISTRY.items()}


def get_strategy(strategy: str | QueryStrategy, **params: Any) -> QueryStrategy:
    """A strategy instance from its registered name (or the instance itself)."""
    from . import strategies_batch  # noqa: F401
    if isinstance(strategy, QueryStrategy):
        return strategy
    if strategy not in REGISTRY:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {sorted(REGISTRY)}")
    return REGISTRY[strategy](**params)
