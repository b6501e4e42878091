"""Review for numbers (regression pools): labels far from what the other labels imply.

A label is judged by a model that never saw it (out-of-fold predictions), as confident learning
does for classes; "far" is measured in robust standard deviations of the residuals (1.4826 times
their median absolute deviation), so a few gross errors cannot hide by inflating the scale.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

COLUMNS = ["position", "given", "suggested", "residual_z"]


def outlying_labels(model: Any, X: Any, y: Any, cv: int = 5, threshold: float = 3.0,
                    random_state: int | None = 0) -> pd.DataFrame:
    """Numeric labels at least ``threshold`` robust standard deviations from their out-of-fold prediction.

    The suspects of a first pass get a second look by models trained without them (a gross error
    pulls a least-squares fit, and its neighbours' residuals, towards itself).

    Returns
    -------
    DataFrame
        Flagged rows only, farthest first: ``position`` (row of ``X``), ``given``, ``suggested`` (the
        out-of-fold prediction), ``residual_z`` (the residual in robust standard deviations).
    """
    y = np.asarray(y, dtype=float)
    if min(cv, len(y)) < 2 or len(y) < 4:
        return pd.DataFrame(columns=COLUMNS)
    everyone = np.arange(len(y))
    predicted = _out_of_fold(model, X, y, everyone, cv, random_state)
    z = _robust_z(y - predicted)
    suspects = np.flatnonzero(z >= threshold)
    if 0 < len(suspects) < len(y) // 2:  # a second look, trained without the suspects: a gross error
        clean = np.setdiff1d(everyone, suspects)  # pulls a least-squares fit towards itself, and every
        predicted = _out_of_fold(model, X, y, clean, cv, random_state)  # neighbour's residual with it
        z = np.abs(y - predicted) / _scale(y[clean] - predicted[clean])
    flagged = np.flatnonzero(z >= threshold)
    df = pd.DataFrame({"position": flagged, "given": y[flagged], "suggested": predicted[flagged],
                       "residual_z": z[flagged]})
    return df.sort_values("residual_z", ascending=False, kind="stable").reset_index(drop=True)


def _out_of_fold(model: Any, X: Any, y: np.ndarray, train: np.ndarray, cv: int,
                 random_state: int | None) -> np.ndarray:
    """Predictions for every row: out-of-fold for the rows of ``train``; the others by a model fitted
    on all of ``train``."""
    from sklearn.model_selection import KFold, cross_val_predict
    from ..data.rows import take_rows
    out = np.empty(len(y))
    folds = KFold(n_splits=int(min(cv, len(train))), shuffle=True, random_state=random_state)
    X_train = take_rows(X, train)
    out[train] = cross_val_predict(clone(model), X_train, y[train], cv=folds)
    rest = np.setdiff1d(np.arange(len(y)), train)
    if len(rest):
        out[rest] = clone(model).fit(X_train, y[train]).predict(take_rows(X, rest))
    return out


def _scale(residual: np.ndarray) -> float:
    """1.4826 x the median absolute deviation (the standard deviation for normal residuals)."""
    scale = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    return scale if scale > 0 else (float(np.std(residual)) or 1.0)


def _robust_z(residual: np.ndarray) -> np.ndarray:
    return np.abs(residual) / _scale(residual)
