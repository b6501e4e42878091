"""Strategy races: many strategies, identical splits and initial sets, a simulated oracle.

The race harness (``benchmarks/bench_strategies.py``) and the teaching notebook both use this
module.  A *selector* is any callable ``select(labeled, model, k) -> pool indices`` (our strategies
are wrapped by :func:`our_selector`; the benchmark wraps scikit-activeml's the same way), so every
method sees exactly the same data, initial labels and model.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..data.pool import Pool
from ..scoring.context import ScoringContext
from ..session.training import InMemoryBackend
from ..data.rows import take_rows
from ..strategies.catalog import get_strategy

Selector = Callable[[np.ndarray, Any, int], np.ndarray]


@dataclass
class Task:
    """One race task: a pool with its hidden labels and a held-out test set."""

    name: str
    X: Any
    y: np.ndarray
    X_test: Any
    y_test: np.ndarray
    model: Any

    @property
    def multilabel(self) -> bool:
        """A multi-label task: ``y`` is an ``(n, n_tags)`` 0/1 matrix."""
        return np.ndim(self.y) == 2


def initial_set(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """The seed's random initial labels (the same for every method)."""
    return np.random.default_rng(seed).choice(len(y), size=min(size, len(y)), replace=False)


def stream_seed(seed: int, stream: int) -> int:
    """The methods' random seed for run ``stream`` of ``seed``.

    Drawn apart from :func:`initial_set`'s stream: a method seeded with the seed of the initial
    labels would replay the draws that chose them (its k-means starts, its random picks), one
    fixed and correlated draw per seed instead of an independent one.
    """
    return int(np.random.SeedSequence([seed, 1 + stream]).generate_state(1)[0])


def our_selector(strategy: str, task: Task, seed: int, cover: bool = False, **params: Any) -> Selector:
    """Wrap one of our registered strategies (a fresh instance per run, seeded).

    ``cover=True`` adds what a session does on top of its strategy: until every class has a label,
    samples for the unseen classes go first (the session's class coverage,
    :meth:`~al_widgets.core.session.training.InMemoryBackend.cover`, the same code).
    """
    strat = get_strategy(strategy, random_state=seed, **params)
    kind = "multilabel" if task.multilabel else None
    classes = list(range(task.y.shape[1])) if task.multilabel else np.unique(task.y).tolist()
    n = len(task.y)
    backend = InMemoryBackend(Pool(task.X, classes=classes, task=kind or "classification")) if cover else None

    def select(labeled: np.ndarray, model: Any, k: int) -> np.ndarray:
        cand = np.setdiff1d(np.arange(n), labeled)
        ctx = ScoringContext(model, task.X, cand, take_rows(task.X, labeled), task.y[labeled], classes,
                             random_state=seed, labeled=labeled, batch_size=k, task=kind)
        picks, scores = strat.query(ctx, k)
        if backend is not None:
            picks, _ = backend.cover(np.asarray(picks), np.asarray(scores, dtype=float), labeled,
                                     task.y[labeled], model, k, seed)
        return np.asarray(picks)[:k]

    select.strategy = strat  # type: ignore[attr-defined]
    return select


def run_loop(task: Task, select: Selector, initial: np.ndarray, budget: int, batch_size: int,
             seed: int) -> pd.DataFrame:
    """Fit, evaluate, query ``batch_size``, repeat until ``budget`` labels; one row per fit.

    While the labels hold a single class no model can be fitted: the batch is then drawn at
    random (the same rule for every method).
    """
    labeled = np.asarray(initial, dtype=int)
    rows = []
    rng = np.random.default_rng([seed, 7])
    while True:
        y_l = task.y[labeled]
        model = None
        if task.multilabel:
            model, row = _multilabel_round(task, labeled)
        else:
            if len(np.unique(y_l)) >= 2:
                model = clone(task.model).fit(take_rows(task.X, labeled), y_l)
                predicted = model.predict(task.X_test)
            else:
                predicted = np.full(len(task.y_test), y_l[0])  # what a constant guess scores
            row = {"accuracy": float(np.mean(predicted == task.y_test)),
                   "balanced_accuracy": _balanced(task.y_test, predicted), "classes_seen": len(np.unique(y_l))}
        rows.append({"n_labels": len(labeled), **row})
        k = min(batch_size, budget - len(labeled))
        if k <= 0:
            break
        t0 = time.perf_counter()
        if model is None:
            picks = rng.choice(np.setdiff1d(np.arange(len(task.y)), labeled), k, replace=False)
        else:
            picks = np.asarray(select(labeled, model, k), dtype=int)
        rows[-1]["query_seconds"] = time.perf_counter() - t0
        if len(picks) != k or len(set(picks.tolist()) | set(labeled.tolist())) != len(labeled) + k:
            raise RuntimeError(f"selector returned {picks!r}: not {k} new distinct samples")
        labeled = np.concatenate([labeled, picks])
    return pd.DataFrame(rows)


def _multilabel_round(task: Task, labeled: np.ndarray) -> tuple[Any, dict[str, float]]:
    """Fit on the labeled tag sets (when some tag varies among them) and score the test set:
    micro- and macro-F1 and Hamming loss; before a fit, the empty prediction's scores."""
    from sklearn.metrics import f1_score, hamming_loss
    y_l = task.y[labeled]
    model = None
    if len(y_l) >= 2 and np.any(y_l.min(axis=0) != y_l.max(axis=0)):
        model = clone(task.model).fit(take_rows(task.X, labeled), y_l)
        predicted = np.asarray(model.predict(task.X_test))
    else:
        predicted = np.zeros_like(task.y_test)
    return model, {"f1_micro": float(f1_score(task.y_test, predicted, average="micro", zero_division=0)),
                   "f1_macro": float(f1_score(task.y_test, predicted, average="macro", zero_division=0)),
                   "hamming_loss": float(hamming_loss(task.y_test, predicted)),
                   "tags_seen": int(np.count_nonzero(y_l.max(axis=0)))}


def _balanced(y: np.ndarray, predicted: np.ndarray) -> float:
    """Mean recall over the classes of ``y`` (scikit-learn's balanced accuracy, without its warnings)."""
    return float(np.mean([np.mean(predicted[y == c] == c) for c in np.unique(y)]))


def race(tasks: list[Task], methods: dict[str, Callable[[Task, int], Selector]], seeds: range | list[int],
         initial: int = 10, budget: int = 100, batch_size: int = 10,
         progress: Callable[[str], Any] | None = None, streams: int = 1) -> pd.DataFrame:
    """Every method on every task and seed, from the same initial labels.

    ``methods`` maps a display name to ``make(task, method_seed) -> selector``.  Per seed, every
    method starts from the same initial labels and runs ``streams`` times, each time with its own
    random stream (:func:`stream_seed`, the same for every method, independent of the initial
    labels): a method's own randomness then averages out instead of being one fixed draw per seed.
    Returns the long table of curves (task, method, seed, stream, n_labels, accuracy,
    query_seconds); :func:`per_run` averages the streams of a seed.
    """
    frames = []
    for task in tasks:
        for seed in seeds:
            init = initial_set(task.y, initial, seed)
            for stream in range(streams):
                method_seed = stream_seed(seed, stream)
                for name, make in methods.items():
                    df = run_loop(task, make(task, method_seed), init, budget, batch_size, method_seed)
                    df["task"], df["method"], df["seed"], df["stream"] = task.name, name, seed, stream
                    frames.append(df)
                    if progress is not None:
                        metric = "f1_micro" if task.multilabel else "accuracy"
                        progress(f"{task.name} {name} seed {seed}.{stream}: AUBC {df[metric].mean():.3f}")
    return pd.concat(frames, ignore_index=True)


def per_run(curves: pd.DataFrame, **aggregations: tuple[str, str]) -> pd.DataFrame:
    """``aggregations`` (pandas named aggregations) per run, then averaged over the streams of each
    seed: one row per (task, method, seed), the unit of paired comparisons."""
    runs = [c for c in ("task", "method", "seed", "stream") if c in curves]
    return curves.groupby(runs).agg(**aggregations).groupby(["task", "method", "seed"]).mean()


def summarize(curves: pd.DataFrame, full_accuracy: dict[str, float] | None = None,
              metric: str = "accuracy") -> pd.DataFrame:
    """Per task and method: AUBC (mean ``metric`` over the budget curve, e.g. ``"f1_micro"`` for
    multi-label tasks) mean and std over seeds, final value, labels needed to reach 98 % of the
    full-data accuracy, seconds per query."""
    runs = per_run(curves, aubc=(metric, "mean"), final=(metric, "last"), query_seconds=("query_seconds", "mean"),
                   **({"balanced_aubc": ("balanced_accuracy", "mean")} if "balanced_accuracy" in curves else {}))
    if full_accuracy:
        target = curves["task"].map({t: 0.98 * a for t, a in full_accuracy.items()})
        reached = curves.assign(reached=curves["n_labels"].where(curves["accuracy"] >= target))
        runs["labels_to_98"] = per_run(reached, labels_to_98=("reached", "min"))["labels_to_98"]
    out = runs.groupby(["task", "method"]).agg(["mean", "std"])
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    return out.reset_index()
