"""What a query strategy sees: a fitted model, the pool, and lazily cached model outputs."""
from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_regressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.pipeline import Pipeline

from .committee import Committee, final_estimator, transform_for_final
from ..data.rows import take_rows
from .tags import tag_proba, tag_summary
from .uncertainty import linear_summary, predict_proba, proba_summary, uncertainty_decomposition


class ScoringContext:
    """Model outputs over the whole pool, computed once per retrain and shared.

    Parameters
    ----------
    model : fitted estimator or None
        ``None`` during a cold start (no model could be trained yet).
    X : pool features (all samples).
    candidates : ndarray of int
        Indices of ``X`` a strategy may choose (unlabeled, not claimed).
    X_labeled, y_labeled : the training data the model was fitted on.
    classes : list or None
        Class order of probability columns (``None`` for regression).
    committee_size : int
        Bootstrap members for committee strategies when the model is not an ensemble.
    random_state : int or None
    labeled : ndarray of int, optional
        Pool indices of the labeled samples (``None``: everything that is not a candidate).
    batch_size : int
        How many samples this round queries (batch-aware strategies size their clusters by it).
    task : {"classification", "regression", "multilabel"} or None
        The pool's task when the caller knows it (a session checked it against the model); ``None``:
        read from the model's scikit-learn tags (slow enough to matter once per retrain).
    """

    def __init__(self, model: Any, X: Any, candidates: np.ndarray, X_labeled: Any = None,
                 y_labeled: np.ndarray | None = None, classes: list | None = None,
                 committee_size: int = 5, random_state: int | None = None, labeled: np.ndarray | None = None,
                 batch_size: int = 1, task: str | None = None) -> None:
        self.model = model
        self.X = X
        self.candidates = np.asarray(candidates, dtype=int)
        self.X_labeled = X_labeled
        self.y_labeled = None if y_labeled is None else np.asarray(y_labeled)
        self.classes = classes
        self.committee_size = committee_size
        self.random_state = random_state
        self.labeled = None if labeled is None else np.asarray(labeled, dtype=int)
        self.batch_size = batch_size
        self.task = task
        self._scratch: dict[int, dict[str, Any]] = {}

    def scratch(self, owner: Any) -> dict[str, Any]:
        """Per-round working state of ``owner`` (a strategy): what its ``score`` computed for its
        ``query_scored``.  It lives and dies with this context (one retrain), never on the strategy,
        so a later round can never read it."""
        return self._scratch.setdefault(id(owner), {})

    @cached_property
    def is_regression(self) -> bool:
        if self.task is not None:
            return self.model is not None and self.task == "regression"
        return self.model is not None and is_regressor(final_estimator(self.model))

    def require_model(self, what: str) -> Any:
        if self.model is None:
            raise RuntimeError(f"{what} needs a trained model; label samples of at least two classes first")
        return self.model

    @property
    def is_multilabel(self) -> bool:
        return self.task == "multilabel"

    def require_classifier(self, what: str) -> Any:
        model = self.require_model(what)
        if self.is_multilabel:
            raise TypeError(f"{what} is for one class per sample; this pool is multi-label (use 'tag_entropy', "
                            "'tag_margin', 'mmc' or 'random')")
        if self.is_regression:
            raise TypeError(f"{what} needs a classifier; {type(final_estimator(model)).__name__} is a regressor "
                            "(use 'max_variance' or 'expected_model_change' for regression)")
        return model

    # --------------------------------------------------------- classifier outputs
    @cached_property
    def _proba_and_calibrated(self) -> tuple[np.ndarray, bool]:
        model = self.require_classifier("probability-based scoring")
        proba, calibrated = predict_proba(model, self.X)
        return self._align(proba, list(final_estimator(model).classes_)), calibrated

    def _align(self, proba: np.ndarray, model_classes: list) -> np.ndarray:
        model_classes = [c.item() if isinstance(c, np.generic) else c for c in model_classes]
        if self.classes is None or model_classes == list(self.classes):
            return proba
        full = np.zeros((proba.shape[0], len(self.classes)))
        for j, c in enumerate(model_classes):
            full[:, list(self.classes).index(c)] = proba[:, j]
        return full

    @property
    def proba(self) -> np.ndarray:
        """``(n_pool, n_classes)`` class probabilities (pseudo-probabilities if uncalibrated)."""
        return self._proba_and_calibrated[0]

    @cached_property
    def summary(self) -> dict[str, np.ndarray]:
        """Margin, least confidence, entropy, top probability and top class (an index into
        ``classes``) for every pool sample, computed once per retrain in one chunked pass; a
        float32 LogisticRegression pool is scored without materializing its probabilities."""
        model = self.require_classifier("probability-based scoring")
        if "_proba_and_calibrated" not in self.__dict__:
            fast = linear_summary(model, self.X)
            if fast is not None:
                model_classes = [c.item() if isinstance(c, np.generic) else c for c in final_estimator(model).classes_]
                if self.classes is not None and model_classes != list(self.classes):
                    position = np.array([list(self.classes).index(c) for c in model_classes], dtype=np.int32)
                    fast["argmax"] = position[fast["argmax"]]
                return fast
        return proba_summary(self.proba)

    def require_tags(self, what: str) -> dict[str, np.ndarray]:
        """:attr:`tag_summary`, or a clear error when there is no model yet or the pool is not multi-label."""
        self.require_model(what)
        if not self.is_multilabel:
            raise TypeError(f"{what} is for multi-label pools (a set of tags per sample); use 'entropy' or "
                            "'margin' for one class per sample")
        return self.tag_summary

    # --------------------------------------------------------- multi-label outputs
    @cached_property
    def tag_proba(self) -> np.ndarray:
        """``(n_pool, n_tags)`` probability of each tag (multi-label pools), columns in ``classes`` order."""
        model = self.require_model("tag probabilities")
        if not self.is_multilabel:
            raise TypeError("tag probabilities are for multi-label pools")
        return tag_proba(model, self.X)

    @cached_property
    def tag_summary(self) -> dict[str, np.ndarray]:
        """Per-sample summaries of :attr:`tag_proba` (:func:`~al_widgets.core.scoring.tags.tag_summary`)."""
        return tag_summary(self.tag_proba)

    @cached_property
    def committee(self) -> Committee:
        """Bootstrap committee (or the model's native ensemble members)."""
        model = self.require_model("a committee")
        return Committee(self.committee_size, self.random_state).fit(
            model, self.X_labeled, self.y_labeled, None if self.is_regression else self.classes)

    @cached_property
    def member_proba(self) -> np.ndarray:
        """``(n_members, n_pool, n_classes)`` committee probabilities."""
        self.require_classifier("a classification committee")
        return self.committee.member_proba(self.X)

    @cached_property
    def decomposition(self) -> dict[str, np.ndarray]:
        """Total/aleatoric/epistemic entropy over the pool (see ``uncertainty_decomposition``)."""
        return uncertainty_decomposition(self.member_proba)

    # --------------------------------------------------------- regressor outputs
    @cached_property
    def regression_std(self) -> np.ndarray:
        """Predictive standard deviation: GP std, tree spread or bootstrap-committee spread."""
        model = self.require_model("predictive variance")
        if not self.is_regression:
            raise TypeError("regression_std is for regressors")
        final = final_estimator(model)
        if isinstance(final, GaussianProcessRegressor):
            _, std = final.predict(transform_for_final(model, self.X), return_std=True)
            return np.asarray(std, dtype=float)
        return self.committee.member_predict(self.X).std(axis=0)

    @cached_property
    def prediction(self) -> np.ndarray:
        """Point predictions over the pool."""
        return np.asarray(self.require_model("prediction").predict(self.X))

    # --------------------------------------------------------- geometry
    @cached_property
    def numeric_features(self) -> np.ndarray | sp.spmatrix:
        """Features as a numeric matrix, for densities and diversity.

        Raw inputs (e.g. text) are passed through the pipeline's transformers.
        """
        return self._vectorize(self.X)

    def rows(self, indices: np.ndarray) -> Any:
        return take_rows(self.X, indices)

    def features_of(self, indices: np.ndarray) -> np.ndarray | sp.spmatrix:
        """:attr:`numeric_features` of the pool rows ``indices`` only: only these rows are converted
        (or, raw rows such as text, vectorized), so a strategy that looks at 5k of 100k documents
        does not transform all of them."""
        if "numeric_features" in self.__dict__:
            return self.numeric_features[indices]
        return self._vectorize(take_rows(self.X, indices))

    def model_space(self, indices: np.ndarray) -> np.ndarray | sp.spmatrix:
        """The pool rows ``indices`` as the model sees them: the final estimator's inputs, each feature
        scaled by its weight in the fitted model (:func:`feature_weights`), so distances follow what
        the model uses and not features it ignores (noise).  :meth:`features_of` for models without
        such weights."""
        model = self.require_model("the model's feature space")
        weights = feature_weights(final_estimator(model))
        if weights is None:
            return self.features_of(indices)
        Z = as_numeric_matrix(transform_for_final(model, self.rows(indices)))
        if Z is None or Z.shape[1] != len(weights):
            return self.features_of(indices)
        return Z.multiply(weights).tocsr() if sp.issparse(Z) else Z * weights

    def _vectorize(self, X: Any) -> np.ndarray | sp.spmatrix:
        direct = as_numeric_matrix(X)
        if direct is not None:
            return direct
        model = self.model
        if isinstance(model, Pipeline) and len(model.steps) > 1:
            return _as_float(transform_for_final(model, X))
        raise TypeError("this strategy needs numeric features; the pool holds raw objects and the model "
                        "is not a fitted Pipeline that can vectorize them")


def feature_weights(estimator: Any) -> np.ndarray | None:
    """How much a fitted estimator uses each input feature, scaled to a maximum of 1: the root mean
    square of a linear model's coefficients over classes, the square root of a tree ensemble's
    impurity importances (so squared distances weigh features by importance); ``None`` otherwise."""
    coef = getattr(estimator, "coef_", None)
    if coef is not None and not sp.issparse(coef):
        w = np.sqrt(np.mean(np.atleast_2d(np.asarray(coef, dtype=float)) ** 2, axis=0))
    elif getattr(estimator, "feature_importances_", None) is not None:
        w = np.sqrt(np.asarray(estimator.feature_importances_, dtype=float))
    else:
        return None
    top = w.max() if w.size else 0.0
    return w / top if top > 0 and np.all(np.isfinite(w)) else None


def _as_float(X: Any) -> Any:
    return X.tocsr().astype(float) if sp.issparse(X) else np.asarray(X, dtype=float)


def row_norms(X: Any) -> np.ndarray:
    """Euclidean norm of every row of a dense or sparse matrix."""
    if sp.issparse(X):
        return np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    return np.linalg.norm(np.asarray(X, dtype=float), axis=1)


def as_numeric_matrix(X: Any) -> Any:
    """``X`` as a float matrix (CSR if sparse), or ``None`` when it holds raw objects such as text."""
    if sp.issparse(X):
        return X.tocsr().astype(float)
    try:
        arr = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr if arr.ndim == 2 else None
