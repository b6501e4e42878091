"""Expected model change: how far a label would move the model (expected gradient length, EMCM)."""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from ..scoring.committee import final_estimator, transform_for_final
from ..scoring.context import ScoringContext, row_norms
from .base import QueryStrategy


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
