"""Strategies that need more than per-sample probabilities.

Expected model change (gradient length), information density and
diversity-aware batches, plus the cold-start selection used before any model
can be trained.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import cosine_similarity

from .committee import final_estimator, transform_for_final
from .context import ScoringContext, row_norms
from .strategies import QueryStrategy, _check_k, get_strategy, register, top_k


@register
class ExpectedModelChange(QueryStrategy):
    name = "expected_model_change"
    description = ("Expected model change: samples whose label would move the model's weights the most "
                   "(expected gradient length; linear and logistic models).")
    supports_regression = True

    def score(self, ctx: ScoringContext) -> np.ndarray:
        model = ctx.require_model("'expected_model_change'")
        final = final_estimator(model)
        if not hasattr(final, "coef_"):
            raise TypeError(f"expected_model_change needs a linear model with coef_ (e.g. LogisticRegression, "
                            f"SGDClassifier, Ridge); {type(final).__name__} has no gradient to measure")
        Xc = ctx.rows(ctx.candidates)
        xnorm = _augmented_norms(transform_for_final(model, Xc), final)
        if ctx.is_regression:
            # EMCM (Cai et al. 2013): label drawn from a bootstrap committee's predictions.
            members = ctx.committee.member_predict(Xc)
            f = np.asarray(model.predict(Xc), dtype=float)
            return np.mean(np.abs(members - f), axis=0) * xnorm
        proba = ctx.proba[ctx.candidates]
        return _classifier_gradient_norm(model, final, Xc, proba) * xnorm


def _augmented_norms(Xt: Any, final: Any) -> np.ndarray:
    norms_sq = row_norms(Xt) ** 2
    if getattr(final, "fit_intercept", False):
        norms_sq = norms_sq + 1.0
    return np.sqrt(norms_sq)


def _classifier_gradient_norm(model: Any, final: Any, Xc: Any, proba: np.ndarray) -> np.ndarray:
    """``E_y ||d loss / d w||`` divided by ``||x~||`` for a log-loss linear classifier."""
    n_classes = proba.shape[1]
    coef = np.atleast_2d(final.coef_)
    if coef.shape[0] == 1:
        # binary: gradient (p1 - y) x  ->  E = p0*p1 + p1*p0
        return 2.0 * proba[:, 0] * proba[:, 1]
    if isinstance(final, LogisticRegression):
        # multinomial: gradient (p - e_y) x^T ; ||p - e_y||^2 = sum p^2 - 2 p_y + 1
        sq = np.sum(proba ** 2, axis=1, keepdims=True) - 2 * proba + 1
        return np.sum(proba * np.sqrt(np.maximum(sq, 0)), axis=1)
    # one-vs-rest log-loss: per-class sigmoid sigma_c, gradient rows (sigma_c - [y=c]) x
    sigma = expit(np.asarray(model.decision_function(Xc), dtype=float)).reshape(-1, n_classes)
    base = np.sum(sigma ** 2, axis=1, keepdims=True)
    sq = base - 2 * sigma + 1
    return np.sum(proba * np.sqrt(np.maximum(sq, 0)), axis=1)


@register
class InformationDensity(QueryStrategy):
    name = "density"
    description = ("Information density: uncertainty weighted by how similar a sample is to the rest of the "
                   "pool, so outliers are not queried first.")

    def __init__(self, base: str = "entropy", beta: float = 1.0, n_reference: int = 2000,
                 random_state: int | None = None) -> None:
        if not np.isfinite(beta) or beta < 0:
            raise ValueError(f"beta must be a non-negative number, got {beta!r}")
        if int(n_reference) < 1:
            raise ValueError(f"n_reference must be >= 1, got {n_reference!r}")
        self.base = base
        self.beta = beta
        self.n_reference = n_reference
        super().__init__(random_state)
        get_strategy(base)  # validate the name now

    def density(self, ctx: ScoringContext) -> np.ndarray:
        """Mean cosine similarity (clipped at 0) of every pool sample to a reference sample of the pool."""
        key = (id(ctx.X), ctx.X.shape if hasattr(ctx.X, "shape") else len(ctx.X))
        if getattr(self, "_density_key_", None) != key:
            F = ctx.numeric_features
            n = F.shape[0]
            rng = np.random.default_rng(self.random_state)
            ref = rng.choice(n, size=min(int(self.n_reference), n), replace=False)
            sim = np.clip(cosine_similarity(F, F[ref]), 0, None)
            self.density_ = np.asarray(sim.mean(axis=1)).ravel()
            self._density_key_ = key
        return self.density_

    def score(self, ctx: ScoringContext) -> np.ndarray:
        base = get_strategy(self.base, random_state=self.random_state).score(ctx)
        return base * self.density(ctx)[ctx.candidates] ** self.beta


@register
class DiverseBatch(QueryStrategy):
    name = "diverse"
    description = ("Diverse batch: the most uncertain candidates clustered with k-means, one per cluster, so a "
                   "batch is not k near-duplicates.")

    def __init__(self, base: str = "entropy", oversample: int = 10, random_state: int | None = None) -> None:
        if int(oversample) < 1:
            raise ValueError(f"oversample must be >= 1, got {oversample!r}")
        self.base = base
        self.oversample = oversample
        super().__init__(random_state)
        get_strategy(base)

    def score(self, ctx: ScoringContext) -> np.ndarray:
        return get_strategy(self.base, random_state=self.random_state).score(ctx)

    def query(self, ctx: ScoringContext, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = _check_k(k)
        scores = np.asarray(self.score(ctx), dtype=float)
        rng = np.random.default_rng(self.random_state)
        top = top_k(scores, min(len(scores), k * int(self.oversample)), rng)
        if len(top) <= k:
            return ctx.candidates[top], scores[top]
        F = ctx.numeric_features[ctx.candidates[top]]
        weights = scores[top] - scores[top].min() + 1e-9
        km = KMeans(n_clusters=k, n_init=3, random_state=self.random_state).fit(F, sample_weight=weights)
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


def cold_start(features: Any, candidates: np.ndarray, k: int,
               random_state: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Representative samples for when no model can be trained yet.

    k-means on the candidates; the candidate nearest each centre is returned,
    scored by the fraction of candidates in its cluster (bigger clusters first).
    """
    k = _check_k(k)
    candidates = np.asarray(candidates, dtype=int)
    if len(candidates) <= k:
        return candidates, np.ones(len(candidates))
    F = features[candidates]
    F = F.toarray() if sp.issparse(F) and F.shape[1] < 2000 else F
    Km = MiniBatchKMeans if len(candidates) > 5000 else KMeans
    km = Km(n_clusters=k, random_state=random_state, n_init=3).fit(F)
    dist = km.transform(F)
    sizes = np.bincount(km.labels_, minlength=k) / len(candidates)
    chosen, scores = [], []
    for c in np.argsort(-sizes, kind="stable"):
        for pos in np.argsort(dist[:, c], kind="stable"):
            if pos not in chosen:
                chosen.append(int(pos))
                scores.append(sizes[c])
                break
    return candidates[np.array(chosen)], np.array(scores)
