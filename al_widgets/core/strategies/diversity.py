"""Strategies that look at the pool's geometry: information density and diversity-aware batches."""
from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics.pairwise import cosine_similarity

from ..scoring.context import ScoringContext
from .uncertainty_sampling import Entropy, LeastConfident, Margin
from .base import QueryStrategy, check_k, top_k

_BASES = {cls.name: cls for cls in (Entropy, Margin, LeastConfident)}


def _base_strategy(name: str, random_state: int | None = None) -> QueryStrategy:
    """The per-sample uncertainty a density or diversity strategy builds on."""
    if name not in _BASES:
        raise ValueError(f"base must be one of {sorted(_BASES)}, got {name!r}")
    return _BASES[name](random_state=random_state)


class InformationDensity(QueryStrategy):
    name = "density"
    description = ("Information density: uncertainty weighted by how similar a sample is to the rest of the "
                   "pool, so outliers are not queried first.")

    def __init__(self, base: str = "entropy", beta: float = 1.0, n_reference: int = 2000,
                 random_state: int | None = None) -> None:
        self.base = base
        self.beta = beta
        self.n_reference = n_reference
        self.random_state = random_state

    def validate(self) -> None:
        if not np.isfinite(self.beta) or self.beta < 0:
            raise ValueError(f"beta must be a non-negative number, got {self.beta!r}")
        if int(self.n_reference) < 1:
            raise ValueError(f"n_reference must be >= 1, got {self.n_reference!r}")
        _base_strategy(self.base)

    def density(self, ctx: ScoringContext) -> np.ndarray:
        """Mean cosine similarity (clipped at 0) of every pool sample to a reference sample of the pool."""
        key = (id(ctx.X), ctx.X.shape if hasattr(ctx.X, "shape") else len(ctx.X))
        if getattr(self, "_density_key_", None) != key:
            F = ctx.numeric_features
            n = F.shape[0]
            rng = np.random.default_rng(self.random_state)  # one reference sample per pool, not per round
            ref = rng.choice(n, size=min(int(self.n_reference), n), replace=False)
            sim = np.clip(cosine_similarity(F, F[ref]), 0, None)
            self.density_ = np.asarray(sim.mean(axis=1)).ravel()
            self._density_key_ = key
        return self.density_

    def score(self, ctx: ScoringContext) -> np.ndarray:
        self.validate()
        base = _base_strategy(self.base, self.random_state).score(ctx)
        return base * self.density(ctx)[ctx.candidates] ** self.beta


class DiverseBatch(QueryStrategy):
    name = "diverse"
    description = ("Diverse batch: the most uncertain candidates clustered with k-means, one per cluster, so a "
                   "batch is not k near-duplicates.")

    def __init__(self, base: str = "entropy", oversample: int = 10, random_state: int | None = None) -> None:
        self.base = base
        self.oversample = oversample
        self.random_state = random_state

    def validate(self) -> None:
        if int(self.oversample) < 1:
            raise ValueError(f"oversample must be >= 1, got {self.oversample!r}")
        _base_strategy(self.base)

    def score(self, ctx: ScoringContext) -> np.ndarray:
        return _base_strategy(self.base, self.random_state).score(ctx)

    def query_scored(self, ctx: ScoringContext, k: int, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = check_k(k)
        rng = self.rng()
        top = top_k(scores, min(len(scores), k * int(self.oversample)), rng)
        if len(top) <= k:
            return ctx.candidates[top], scores[top]
        F = ctx.numeric_features[ctx.candidates[top]]
        weights = scores[top] - scores[top].min() + 1e-9
        km = KMeans(n_clusters=k, n_init=3, random_state=int(rng.integers(2**31))).fit(F, sample_weight=weights)
        chosen = []
        for c in range(k):
            members = np.flatnonzero(km.labels_ == c)
            if len(members):
                chosen.append(members[np.argmax(scores[top][members])])
        chosen = np.array(chosen, dtype=int)
        if len(chosen) < k:  # empty clusters: fill with the next best not yet chosen
            rest = np.setdiff1d(np.arange(len(top)), chosen)
            chosen = np.concatenate([chosen, rest[: k - len(chosen)]])
        chosen = chosen[np.argsort(-scores[top][chosen], kind="stable")]
        return ctx.candidates[top[chosen]], scores[top[chosen]]
