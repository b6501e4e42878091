"""Learning-curve tracker: metrics after every retrain."""
from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, hamming_loss, mean_squared_error, r2_score


def evaluate(model: Any, X_test: Any, y_test: Any, task: str) -> dict[str, float]:
    """Held-out metrics: accuracy and macro-F1 for classifiers, R^2 and RMSE for regressors; micro-
    and macro-F1, Hamming loss and exact-set accuracy for multi-label models (``y_test`` an
    indicator matrix)."""
    pred = model.predict(X_test)
    if task == "multilabel":
        y_test, pred = np.asarray(y_test), np.asarray(pred)
        return {"f1_micro": float(f1_score(y_test, pred, average="micro", zero_division=0)),
                "f1_macro": float(f1_score(y_test, pred, average="macro", zero_division=0)),
                "hamming_loss": float(hamming_loss(y_test, pred)),
                "subset_accuracy": float(accuracy_score(y_test, pred))}
    if task == "regression":
        return {"r2": float(r2_score(y_test, pred)),
                "rmse": float(np.sqrt(mean_squared_error(y_test, pred)))}
    return {"accuracy": float(accuracy_score(y_test, pred)),
            "f1_macro": float(f1_score(y_test, pred, average="macro", zero_division=0))}


def set_counts(predicted: Any, label: Any) -> tuple[int, int, int]:
    """True positives, false positives and misses of a predicted tag set against the given one."""
    p, t = set(predicted), set(label)
    return len(p & t), len(p - t), len(t - p)


def set_f1(predicted: Any, label: Any) -> float:
    """F1 of one predicted tag set against the given one (1.0 when both are empty)."""
    tp, fp, fn = set_counts(predicted, label)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


class ProgressiveValidation:
    """Accuracy on each new label *before* the model trained on it (progressive validation).

    Without a held-out set this is an honest estimate from the labels alone: every label is
    checked against the prediction the model made for that sample while it had not yet seen it.
    The samples a strategy queries are the hard ones, so with an uncertainty strategy the
    estimate is pessimistic; with random sampling it is unbiased.

    Parameters
    ----------
    window : int
        How many of the newest checks the reported value averages.
    task : {"classification", "regression", "multilabel"}
        Classification counts hits; regression reports the mean absolute error; multi-label the
        micro-F1 of the window's tag sets (true and false positives and misses summed over them).
    """

    def __init__(self, window: int = 20, task: str = "classification") -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window!r}")
        self.window, self.task = window, task
        self._checks: list[float] = []
        self._lock = threading.Lock()

    @property
    def metric(self) -> str:
        return {"classification": "progressive_accuracy", "multilabel": "progressive_f1_micro"}.get(
            self.task, "progressive_mae")

    def check(self, predicted: Any, label: Any) -> None:
        """Record one label against the prediction made before training on it."""
        if self.task == "multilabel":
            value: Any = set_counts(predicted, label)
        elif self.task == "classification":
            value = float(predicted == label)
        else:
            value = abs(float(predicted) - float(label))
        with self._lock:
            self._checks.append(value)

    def value(self) -> float:
        """Mean over the newest ``window`` checks (micro-F1 for tag sets; NaN before the first)."""
        with self._lock:
            recent = self._checks[-self.window:]
        if not recent:
            return float("nan")
        if self.task == "multilabel":
            tp, fp, fn = np.sum(recent, axis=0)
            return float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 1.0
        return sum(recent) / len(recent)

    def __len__(self) -> int:
        return len(self._checks)


class LearningCurveTracker:
    """The learning curve as a function of the label count: one row per number of labels.

    A retrain on ``n`` labels replaces the row for ``n`` and drops every row for more labels:
    those labels were undone, or left training (a conflict between annotators), so the curve
    never runs backwards or zigzags.  ``on_record`` (e.g. the label store) keeps each row, and
    :meth:`load` replays kept rows by the same rule, so a reloaded page shows the whole curve.
    """

    def __init__(self, on_record: Any = None) -> None:
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.on_record = on_record
        self.revision = 0
        """Incremented whenever rows are replaced or dropped (views then redraw the whole curve)."""

    def _put(self, row: dict[str, Any]) -> None:
        n = row["n_labels"]
        with self._lock:
            keep = [r for r in self._rows if r["n_labels"] < n]
            if len(keep) != len(self._rows):
                self.revision += 1
            self._rows = keep + [row]

    def record(self, n_labels: int, metrics: dict[str, float], mean_uncertainty: float,
               **extra: Any) -> dict[str, Any]:
        row = {"n_labels": int(n_labels), **metrics, "mean_uncertainty": float(mean_uncertainty),
               "time": time.time(), **extra}
        self._put(row)
        if self.on_record is not None:
            self.on_record(row)
        return row

    def load(self, rows: list[dict[str, Any]], up_to: int | None = None) -> None:
        """Replay kept rows (oldest first); ``up_to``: drop rows for more labels than there are now."""
        for row in rows:
            self._put(dict(row))
        if up_to is not None:
            with self._lock:
                self._rows = [r for r in self._rows if r["n_labels"] <= up_to]
        self.revision += 1

    def to_frame(self) -> pd.DataFrame:
        """One row per label count, in increasing order."""
        with self._lock:
            return pd.DataFrame(list(self._rows))

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def last(self) -> dict[str, Any] | None:
        return self._rows[-1] if self._rows else None
