"""Committees of models: bootstrap clones or the native members of an ensemble."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.ensemble import BaggingClassifier, BaggingRegressor, ExtraTreesClassifier, ExtraTreesRegressor, \
    RandomForestClassifier, RandomForestRegressor
from sklearn.pipeline import Pipeline

from ..data.rows import take_rows
from .uncertainty import predict_proba

_NATIVE = (RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier, ExtraTreesRegressor,
           BaggingClassifier, BaggingRegressor)


def final_estimator(model: Any) -> Any:
    """The last step of a pipeline, or the model itself."""
    return model.steps[-1][1] if isinstance(model, Pipeline) else model


def transform_for_final(model: Any, X: Any) -> Any:
    """``X`` as the final estimator of a (fitted) pipeline sees it."""
    if isinstance(model, Pipeline) and len(model.steps) > 1:
        return model[:-1].transform(X)
    return X


def is_native_ensemble(model: Any) -> bool:
    """True for fitted RandomForest/ExtraTrees/Bagging models (also as the last pipeline step)."""
    final = final_estimator(model)
    return isinstance(final, _NATIVE) and hasattr(final, "estimators_")


class Committee:
    """Members whose disagreement measures epistemic uncertainty.

    Parameters
    ----------
    n_members : int
        Number of bootstrap clones to fit when the model is not a native ensemble.
    random_state : int or None
        Seed of the bootstrap resampling.
    """

    def __init__(self, n_members: int = 5, random_state: int | None = None) -> None:
        if int(n_members) < 2:
            raise ValueError(f"a committee needs at least 2 members, got n_members={n_members}")
        self.n_members = int(n_members)
        self.random_state = random_state

    def fit(self, model: Any, X: Any, y: np.ndarray, classes: list | None = None) -> "Committee":
        """Use ``model``'s native members if it is a fitted ensemble, else fit bootstrap clones."""
        y = np.asarray(y)
        self.classes_ = list(classes) if classes is not None else None
        self.regression_ = is_regressor(final_estimator(model))
        if is_native_ensemble(model):
            self.model_ = model
            self.native_ = True
            self.members_ = list(final_estimator(model).estimators_)
            return self
        self.native_ = False
        rng = np.random.default_rng(self.random_state)
        n = len(y)
        self.members_ = []
        for _ in range(self.n_members):
            idx = self._bootstrap(rng, y, n)
            member = clone(model)
            member.fit(take_rows(X, idx), y[idx])
            self.members_.append(member)
        return self

    def _bootstrap(self, rng: np.random.Generator, y: np.ndarray, n: int) -> np.ndarray:
        """A bootstrap sample that keeps every class present (so each member can predict it)."""
        idx = rng.integers(0, n, size=n)
        if self.regression_:
            return idx
        present = set(y[idx].tolist())
        missing = [c for c in np.unique(y) if c not in present]
        for j, c in enumerate(missing):
            idx[j] = rng.choice(np.flatnonzero(y == c))
        return idx

    def member_proba(self, X: Any) -> np.ndarray:
        """``(n_members, n_samples, n_classes)`` probabilities aligned to ``classes_``."""
        if self.regression_:
            raise TypeError("member_proba is for classifiers; use member_predict for regressors")
        if self.native_:
            return self._native_proba(X)
        out = []
        for member in self.members_:
            proba, _ = predict_proba(member, X)
            out.append(self._align(proba, list(final_estimator(member).classes_)))
        return np.stack(out)

    def _native_proba(self, X: Any) -> np.ndarray:
        ens = final_estimator(self.model_)
        Xt = _member_input(transform_for_final(self.model_, X), self.members_)
        n_classes = len(ens.classes_)
        feats = getattr(ens, "estimators_features_", [None] * len(self.members_))
        out = []
        for member, cols in zip(self.members_, feats):
            Xm = Xt if cols is None else Xt[:, cols]
            p = np.asarray(member.predict_proba(Xm), dtype=float)
            full = np.zeros((p.shape[0], n_classes))
            full[:, np.asarray(member.classes_, dtype=int)] = p
            out.append(full)
        stacked = np.stack(out)
        # ens.classes_ order -> session class order
        return self._align_stack(stacked, list(ens.classes_))

    def _align(self, proba: np.ndarray, member_classes: list) -> np.ndarray:
        if self.classes_ is None or member_classes == self.classes_:
            return proba
        full = np.zeros((proba.shape[0], len(self.classes_)))
        for j, c in enumerate(member_classes):
            full[:, self.classes_.index(c)] = proba[:, j]
        return full

    def _align_stack(self, stacked: np.ndarray, model_classes: list) -> np.ndarray:
        return np.stack([self._align(p, [c.item() if isinstance(c, np.generic) else c for c in model_classes])
                         for p in stacked])

    def member_predict(self, X: Any) -> np.ndarray:
        """``(n_members, n_samples)`` predictions of a regression committee."""
        if self.native_:
            ens = final_estimator(self.model_)
            Xt = _member_input(transform_for_final(self.model_, X), self.members_)
            feats = getattr(ens, "estimators_features_", [None] * len(self.members_))
            return np.stack([m.predict(Xt if c is None else Xt[:, c]) for m, c in zip(self.members_, feats)])
        return np.stack([np.asarray(m.predict(X), dtype=float) for m in self.members_])


def _member_input(X: Any, members: list) -> Any:
    """A forest fitted on a DataFrame fits its trees on the bare array: give them the array (no
    "X has feature names" warning per tree and re-score)."""
    if hasattr(X, "iloc") and members and not hasattr(members[0], "feature_names_in_"):
        return X.to_numpy()
    return X
