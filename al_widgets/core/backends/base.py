"""What every pool backend shares: the typed result of a retrain, the backend protocol and the cold start.

A backend says where a pool's rows live and how they are ranked: in this process
(:class:`~al_widgets.core.session.training.InMemoryBackend`) or on a Dask cluster
(:class:`~al_widgets.core.backends.dask_pool.DaskBackend`);
:func:`~al_widgets.core.session.training.retrain` is the one retrain of every pool.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ..data.rows import n_rows, take_rows
from ..scoring.context import as_numeric_matrix
from ..strategies.base import QueryStrategy
from ..strategies.coldstart import cold_start


@dataclass(frozen=True)
class ClusterStats:
    """What a re-score on a Dask cluster returns besides the ranking (the pool never comes back).

    Attributes
    ----------
    mean_uncertainty : float
        Mean score over the unlabeled pool.
    density : tuple or None
        Per grid cell of the map: the sum of scores and the count of unlabeled samples.
    tracked : tuple or None
        The map's marker samples: their pool indices and scores.
    """

    mean_uncertainty: float = float("nan")
    density: tuple | None = None
    tracked: tuple | None = None


@dataclass(frozen=True)
class RetrainResult:
    """Everything a retrain produces: immutable, applied to the session in one step and handed to the
    views as it is (``dataclasses.replace`` makes a changed copy)."""

    model: Any
    order: np.ndarray
    order_scores: np.ndarray
    scores: np.ndarray
    uncertainty: dict[str, np.ndarray]
    prediction: np.ndarray | None
    confidence: np.ndarray | None
    metrics: dict[str, float]
    cold_start: bool
    n_labels: int
    fit_seconds: float = 0.0
    score_seconds: float = 0.0
    message: str = ""
    """Why no model could be trained yet (a cold start), in plain words."""
    cold_start_picks: str = ""
    """A cold start's queue: ``"representative"`` (k-means on the features) or ``"random"``."""
    fit: str = "full"
    """How the model was fitted: ``"full"``, ``"warm"`` or ``"partial"`` (see :func:`fit_model`)."""
    seq: int = 0
    """Monotonic number of the retrain that produced this result (set by the session)."""
    strategy: str = ""
    """Name of the strategy that ranked ``order``."""
    labeled: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    """Pool indices of the labels the model was trained on."""
    trained: Any = None
    """The labels the model learned (a :class:`~al_widgets.core.session.label_arrays.TrainedLabels`)."""
    strategy_choice: str = ""
    """For ``auto``: which strategy ranked this result, and why (plain words)."""
    prediction_change: float = float("nan")
    """Share of pool predictions that changed since the previous result (the stopping signal)."""
    cluster: ClusterStats | None = None
    """A Dask pool's statistics for the views (``None`` in memory)."""
    tag_proba: np.ndarray | None = None
    """Multi-label pools: ``(n_pool, n_tags)`` probability of each tag (the map colours by one)."""


COLD_START_SAMPLE = 2000
"""Cold-start k-means looks at most this many candidates (a uniform sample): representative
picks for k of a few dozen do not need the whole pool, and a 100k-document pool is then ready in a
fraction of a second instead of vectorizing every document before the first page shows."""


def cold_start_features(model: Any, X: Any, rows: np.ndarray | None = None) -> Any:
    """Numeric features for a cold start: ``X`` itself, or the pipeline's transformers fitted unsupervised.

    ``rows``: only these rows of ``X`` (the transformers are fitted on them alone).
    """
    if rows is not None:
        X = take_rows(X, rows)
    direct = as_numeric_matrix(X)
    if direct is not None:
        return direct
    if isinstance(model, Pipeline) and len(model.steps) > 1:
        return clone(model[:-1]).fit_transform(X)
    return None


def cold_start_result(model: Any, X: Any, candidates: np.ndarray, n_labels: int, k: int, queue_length: int,
                      random_state: int | None, message: str) -> RetrainResult:
    """Result used before a model can be trained: representative (k-means) samples first.

    Pools larger than :data:`COLD_START_SAMPLE` are clustered on a uniform sample of the candidates.
    """
    rng = np.random.default_rng(random_state)
    sample = candidates
    if len(candidates) > COLD_START_SAMPLE:
        sample = np.sort(rng.choice(candidates, COLD_START_SAMPLE, replace=False))
    features = cold_start_features(model, X, sample) if len(sample) else None
    if features is not None:
        order, scores = cold_start(features, np.arange(len(sample)), min(k, len(sample)), random_state)
        order = sample[order]
    else:
        order, scores = np.empty(0, dtype=int), np.empty(0)
    picks = "representative" if len(order) else "random"
    n_rest = max(queue_length - len(order), 0)
    pick = rng.choice(len(candidates), min(n_rest + len(order), len(candidates)), replace=False)
    rest = candidates[pick]
    rest = rest[~np.isin(rest, order)][:n_rest]
    order = np.concatenate([order, rest]).astype(int)
    scores = np.concatenate([scores, np.zeros(len(rest))])
    full = np.full(n_rows(X), np.nan)
    return RetrainResult(None, order, scores, full, {}, None, None, {}, True, n_labels, message=message,
                         cold_start_picks=picks)


@dataclass(frozen=True)
class Ranking:
    """What a pool backend computes from a fitted model: the queue's order and the views' arrays."""

    order: np.ndarray
    order_scores: np.ndarray
    scores: Any
    uncertainty: dict[str, np.ndarray]
    prediction: np.ndarray | None
    confidence: np.ndarray | None
    cluster: ClusterStats | None = None
    tag_proba: np.ndarray | None = None


class PoolBackend(Protocol):
    """Where a pool's rows live and how they are scored: in this process, or on a Dask cluster
    (:class:`~al_widgets.core.backends.dask_pool.DaskBackend`).  :func:`retrain` is the one retrain
    of every pool; a backend provides only what differs."""

    task: str

    def rows(self, indices: np.ndarray) -> Any:
        """The feature rows ``indices`` (the labeled rows a model is fitted on)."""

    def cold_start(self, model: Any, labeled: np.ndarray, n_labels: int, settings: Any,
                   reason: str) -> RetrainResult:
        """The result before a model can be trained: representative samples first."""

    def rank(self, fitted: Any, X_labeled: Any, labeled: np.ndarray, y: np.ndarray, strategy: QueryStrategy,
             settings: Any) -> Ranking:
        """Score and rank the unlabeled pool with ``fitted``."""
