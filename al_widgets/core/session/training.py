"""One retrain: fit, re-score the pool, rank the queue, evaluate.

Functions of their arguments, with two exceptions stated where they are: a small cache of the
last fitted feature pipeline (``functools.lru_cache``), and the scoring context's ``batch_size``,
which :func:`rank_queue` sets for the strategy it calls.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import time
from typing import Any

import numpy as np
from sklearn import config_context
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.pipeline import Pipeline

from ..scoring.committee import final_estimator, is_native_ensemble
from ..scoring.uncertainty import has_attr
from ..scoring.context import ScoringContext
from ..scoring.tags import check_multilabel_model, predicted_sets
from ..data.labels import TagSet
from .curves import evaluate
from ..data.rows import n_rows, take_rows
from ..strategies.base import QueryStrategy, top_k
from ..backends.base import (COLD_START_SAMPLE, PoolBackend, Ranking, RetrainResult, cold_start_features,
                             cold_start_result)
from ..strategies.coldstart import coverage
from .native_threads import native_threads
from .settings import SessionSettings


def check_model(model: Any, task: str) -> None:
    """A clear error for what cannot be trained on a ``task`` pool (not an estimator; the wrong kind)."""
    if not (hasattr(model, "fit") and hasattr(model, "get_params")):
        raise TypeError(f"model must be a scikit-learn estimator or Pipeline, got {type(model).__name__}")
    final = final_estimator(model)
    if task == "multilabel":
        if is_regressor(final):
            raise TypeError(f"{type(final).__name__} is a regressor but the pool is a multi-label task")
        check_multilabel_model(model)
    if task == "classification" and is_regressor(final):
        raise TypeError(f"{type(final).__name__} is a regressor but the pool is a classification task "
                        "(build the Pool with task='regression')")
    if task == "regression" and is_classifier(final):
        raise TypeError(f"{type(final).__name__} is a classifier but the pool is a regression task")


def can_train(y: np.ndarray, task: str) -> str | None:
    """``None`` if a model can be fitted on labels ``y``, else the reason in words."""
    if task == "regression":
        return None if len(y) >= 2 else "need at least two labels to train"
    if task == "multilabel":  # an indicator matrix: some tag must be given to some samples and not others
        y = np.asarray(y)
        varies = len(y) >= 2 and bool(np.any(y.min(axis=0) != y.max(axis=0)))
        return None if varies else "need a tag that some labeled samples carry and others do not"
    y = np.asarray(y)
    if not len(y) or not np.any(y != y[0]):  # fewer than two distinct classes
        return "need at least two classes to train"
    return None


def fit_model(model: Any, previous: Any, X: Any, y: np.ndarray, incremental: bool | None,
              X_new: Any = None, y_new: Any = None, full: bool = False) -> tuple[Any, str]:
    """Fit for a retrain; returns the fitted model and how: ``"full"``, ``"warm"`` or ``"partial"``.

    ``"full"``: a fresh ``clone`` fitted on every label (always with ``full``, without a previous
    model, or with ``incremental=False``).  ``"warm"``: a copy of ``previous`` re-fitted on every
    label from its own solution (models whose ``warm_start`` re-optimises the same objective, the
    class set unchanged; a warm start the model refuses falls back to a full fit).
    ``"partial"`` (``incremental=True`` only): ``partial_fit`` of the new labels alone, with the
    classes the model already knows (a new class means a full fit).
    """
    if np.ndim(y) == 2:  # multi-label: one-vs-rest refits every tag (see scoring.tags on constant tags)
        return clone(model).fit(X, y), "full"
    if previous is None or full or incremental is False:
        return clone(model).fit(X, y), "full"
    if incremental and X_new is not None and hasattr(final_estimator(model), "partial_fit") \
            and not isinstance(model, Pipeline) and _same_classes(previous, y):
        # a class the model has not seen yet needs a full fit: partial_fit keeps the first call's classes
        fitted = copy.deepcopy(previous)
        known = getattr(final_estimator(previous), "classes_", None)
        fitted.partial_fit(X_new, y_new, classes=known) if known is not None else fitted.partial_fit(X_new, y_new)
        return fitted, "partial"
    param = _warm_start_param(model)
    if param is not None and _same_classes(previous, y):
        fitted = copy.deepcopy(previous).set_params(**{param: True})
        try:
            return fitted.fit(X, y), "warm"
        except ValueError:  # e.g. a pipeline whose features changed shape: start from scratch
            pass
    return clone(model).fit(X, y), "full"


def _warm_start_param(model: Any) -> str | None:
    """The ``warm_start`` parameter's name when warm starting re-optimises the same objective.

    Linear models fitted by a solver (LogisticRegression, ElasticNet, ...) and MLPs restart it
    from the previous solution; ensembles' warm start means "add estimators" (no refit at all)
    and SGD-type models restart their epochs, so they are left out.
    """
    est = final_estimator(model)
    module = type(est).__module__
    if module.startswith("sklearn.linear_model"):
        if has_attr(est, "partial_fit"):  # SGD, perceptron, passive-aggressive: a warm start restarts the
            return None  # epochs and their stopping rule; measured slower than a fresh fit (bench_core)
    elif not module.startswith("sklearn.neural_network"):
        return None
    if "warm_start" not in est.get_params(deep=False):
        return None
    if isinstance(model, Pipeline):
        return f"{model.steps[-1][0]}__warm_start"
    return "warm_start" if est is model else None


def _same_classes(previous: Any, y: np.ndarray) -> bool:
    classes = getattr(final_estimator(previous), "classes_", None)
    if classes is None:  # a regressor
        return True
    return set(np.asarray(classes).tolist()) == set(np.asarray(y).tolist())


def class_array(classes: list) -> np.ndarray:
    """``classes`` as an array to index predicted class positions with: numeric when every class is a
    number (indexing and comparing it never holds the GIL for long; integers in the smallest integer
    type that holds them, 1 byte per sample for up to 256 classes), object otherwise.  Read-only,
    made once per class list."""
    try:  # keyed by the types too: 1, 1.0 and True are equal as dict keys
        return _class_array(tuple(classes), tuple(map(type, classes)))
    except TypeError:  # an unhashable class value
        return _make_class_array(list(classes))


@functools.lru_cache(maxsize=32)
def _class_array(classes: tuple, types: tuple) -> np.ndarray:
    out = _make_class_array(list(classes))
    out.setflags(write=False)
    return out


def _make_class_array(classes: list) -> np.ndarray:
    if classes and all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in classes):
        return np.asarray(classes, dtype=np.result_type(np.min_scalar_type(min(classes)),
                                                        np.min_scalar_type(max(classes))))
    if all(isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, bool) for c in classes):
        return np.asarray(classes, dtype=float)
    return np.asarray(classes, dtype=object)


def pool_uncertainty(ctx: ScoringContext, epistemic: bool) -> dict[str, np.ndarray]:
    """Uncertainty arrays over the whole pool for display (map colours, top-k panel)."""
    if ctx.is_regression:
        return {"std": ctx.regression_std, "uncertainty": ctx.regression_std}
    entropy = ctx.summary["entropy"].astype(np.float32, copy=False)  # the one the views show (map colours); margin etc. are the
    out = {"entropy": entropy, "uncertainty": entropy}  # strategies' business, scored once by them
    if epistemic:
        dec = ctx.decomposition
        out["epistemic"], out["aleatoric"] = dec["epistemic"], dec["aleatoric"]
    return out


def rank_queue(strategy: QueryStrategy, ctx: ScoringContext, batch_size: int,
               queue_length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Queue order: the strategy's batch first, then the best remaining by score.

    Returns the ordered pool indices, their scores and the score array over the
    whole pool (NaN where not a candidate).
    """
    n_cand = len(ctx.candidates)
    ctx.batch_size = max(min(batch_size, n_cand), 1)
    full = np.full(n_rows(ctx.X), np.nan, dtype=np.float32)  # per-pool scores for display: float32
    if n_cand == 0:
        return np.empty(0, dtype=int), np.empty(0), full
    strategy.validate()
    scores = np.asarray(strategy.score(ctx), dtype=float)  # once per retrain
    full[ctx.candidates] = scores
    k = min(batch_size, n_cand)
    if type(strategy).query_scored is QueryStrategy.query_scored:  # its batch is the top k: one ranking
        pos = top_k(scores, max(min(queue_length, n_cand), k), strategy.rng())
        order = ctx.candidates[pos]
        return order, scores[pos], full
    batch, batch_scores = strategy.query_scored(ctx, k, scores)
    rest = ctx.candidates[top_k(scores, min(queue_length + len(batch), n_cand), strategy.rng())]
    rest = rest[~np.isin(rest, batch)][: max(queue_length - len(batch), 0)]
    order = np.concatenate([batch, rest]).astype(int)
    return order, np.concatenate([batch_scores, full[rest]]), full


class InMemoryBackend:
    """A :class:`~al_widgets.core.data.pool.Pool` in this process: every candidate is scored here.

    ``finder`` (a :class:`~al_widgets.core.data.embed.PoolSearch`), for a pool of texts with named
    classes: until every class has a label, the sample closest in meaning to each unseen class's
    name goes first (:meth:`cover`), so the first labels reach every class, rare ones included.
    """

    def __init__(self, pool: Any, finder: Any = None) -> None:
        self.pool, self.task, self.classes = pool, pool.task, pool.classes
        self.finder = finder

    def cover(self, order: np.ndarray, order_scores: np.ndarray, labeled: np.ndarray, y: np.ndarray,
              model: Any = None, k: int = 5, random_state: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``order`` with samples for the classes nobody has labeled yet in front: for a text pool with
        class names, the sample closest in meaning to each name; otherwise ``k`` samples of the
        clusters farthest from the labels (:func:`~al_widgets.core.strategies.coldstart.coverage`),
        taking turns with the strategy's order (:func:`_alternating`): a strategy that explores finds
        unseen classes itself (on digits focused CLUE saw all ten classes within one batch, where the
        spread picks alone took two or three and cost 0.06 of the race's AUBC), while on a 90/5/5 pool
        the spread picks find the rare classes the boundary never reaches.
        Only in the first rounds (fewer than ten labels per class): a class the data lacks must not
        hold the queue forever."""
        if self.task != "classification" or not self.classes or len(y) >= 10 * len(self.classes):
            return order, order_scores
        seen = set(np.asarray(y).tolist())
        unseen = [c for c in self.classes if c not in seen]
        if not unseen:
            return order, order_scores
        labeled = np.asarray(labeled, dtype=int)
        picks: list[int] = []
        if self.finder is not None and _named(self.classes) and self.finder.is_text():
            picks = list(self.finder.class_picks(unseen, labeled).values())
        alternate = not picks
        if not picks:
            picks = self._spread(labeled, model, k, random_state)
        if not len(picks):
            return order, order_scores
        keep = ~np.isin(order, picks)
        front = np.asarray(picks, dtype=int)
        merged = np.concatenate([front, order[keep]])
        merged_scores = np.concatenate([np.ones(len(front)), order_scores[keep]])
        if alternate:
            position = _alternating(len(front), int(keep.sum()), len(y))
            merged, merged_scores = merged[position], merged_scores[position]
        return merged, merged_scores

    def _spread(self, labeled: np.ndarray, model: Any, k: int, random_state: int | None) -> list[int]:
        """Samples of the clusters farthest from the labels (a uniform sample of the pool is clustered)."""
        rng = np.random.default_rng(random_state)
        free = self.candidates(labeled)
        if len(free) > COLD_START_SAMPLE:
            free = np.sort(rng.choice(free, COLD_START_SAMPLE, replace=False))
        rows = np.concatenate([free, labeled])
        features = cold_start_features(model, self.pool.X, rows)
        if features is None:
            return []
        local, _ = coverage(features, np.arange(len(free)), np.arange(len(free), len(rows)), k, random_state)
        return free[local].tolist()

    def candidates(self, labeled: np.ndarray) -> np.ndarray:
        unlabeled = np.ones(self.pool.n, dtype=bool)
        unlabeled[labeled] = False
        return np.flatnonzero(unlabeled)

    def rows(self, indices: np.ndarray) -> Any:
        return take_rows(self.pool.X, indices)

    def cold_start(self, model: Any, labeled: np.ndarray, n_labels: int, settings: SessionSettings,
                   reason: str) -> RetrainResult:
        return cold_start_result(model, self.pool.X, self.candidates(labeled), n_labels, settings.batch_size,
                                 settings.queue_length, settings.random_state, reason)

    def rank(self, fitted: Any, X_labeled: Any, labeled: np.ndarray, y: np.ndarray, strategy: QueryStrategy,
             settings: SessionSettings) -> Ranking:
        """``settings.epistemic=None`` computes the committee split only when it is cheap or already
        needed: a native ensemble, or a strategy that uses a committee."""
        task, classes = self.task, self.classes
        ctx = ScoringContext(fitted, self.pool.X, self.candidates(labeled), X_labeled, y, classes,
                             settings.committee_size, settings.random_state, labeled=labeled,
                             batch_size=settings.batch_size, task=task)
        order, order_scores, scores = rank_queue(strategy, ctx, settings.batch_size, settings.queue_length)
        epistemic = settings.epistemic
        if epistemic is None:
            epistemic = is_native_ensemble(fitted) or strategy.needs_committee
        if task == "multilabel":
            summary = ctx.tag_summary
            unc = {"entropy": summary["entropy"], "uncertainty": summary["entropy"]}
            prediction = predicted_sets(ctx.tag_proba, classes, TagSet)
            return Ranking(order, order_scores, scores, unc, prediction, summary["set_confidence"],
                           tag_proba=ctx.tag_proba)
        unc = pool_uncertainty(ctx, epistemic and task == "classification")
        if task == "classification":
            prediction = class_array(classes)[ctx.summary["argmax"]]
            confidence = ctx.summary["max"].astype(np.float32, copy=False)  # display only: float32 halves it
        else:
            prediction, confidence = ctx.prediction, None
        return Ranking(order, order_scores, scores, unc, prediction, confidence)


def retrain(model: Any, previous: Any, strategy: QueryStrategy, backend: PoolBackend, labeled: np.ndarray,
            y: np.ndarray, settings: SessionSettings, *, X_test: Any = None, y_test: Any = None,
            new_mask: np.ndarray | None = None, full: bool = False) -> RetrainResult:
    """The one retrain of every pool: fit on the labeled rows, rank the rest, evaluate.

    Before a model can be trained (:func:`can_train`) the backend's cold start decides; then the
    model is fitted here (:func:`fit_model`: full, warm or partial), the backend ranks the pool
    (:meth:`PoolBackend.rank`), and a held-out set, if any, gives the metrics.  All of it runs with
    ``settings.native_threads`` OpenMP threads (:func:`native_threads`).
    """
    with native_threads(settings.native_threads):
        return _retrain(model, previous, strategy, backend, labeled, y, settings, X_test=X_test, y_test=y_test,
                        new_mask=new_mask, full=full)


def _retrain(model: Any, previous: Any, strategy: QueryStrategy, backend: PoolBackend, labeled: np.ndarray,
             y: np.ndarray, settings: SessionSettings, *, X_test: Any, y_test: Any,
             new_mask: np.ndarray | None, full: bool) -> RetrainResult:
    reason = can_train(y, backend.task)
    if reason is not None:
        res = backend.cold_start(model, labeled, len(y), settings, reason)
        return _covered(backend, res, labeled, y, settings.batch_size, settings.random_state, strategy)
    t0 = time.perf_counter()
    # The pool's features were checked finite when it was built, and a model that fitted once has
    # valid parameters: scikit-learn need not check either again on every refit and re-score.
    with config_context(assume_finite=True, skip_parameter_validation=previous is not None):
        X_l = backend.rows(labeled)
        X_new = y_new = None
        if new_mask is not None and new_mask.any():
            X_new, y_new = take_rows(X_l, np.flatnonzero(new_mask)), y[new_mask]
        fitted, how = fit_model(model, previous, X_l, y, settings.incremental, X_new, y_new, full=full)
        t1 = time.perf_counter()
        r = backend.rank(fitted, X_l, labeled, y, strategy, settings)
    metrics = evaluate(fitted, X_test, y_test, backend.task) if X_test is not None else {}  # user data: checked
    t2 = time.perf_counter()
    res = RetrainResult(fitted, r.order, r.order_scores, r.scores, r.uncertainty, r.prediction, r.confidence,
                        metrics, False, len(y), t1 - t0, t2 - t1, fit=how, cluster=r.cluster, tag_proba=r.tag_proba)
    return _covered(backend, res, labeled, y, settings.batch_size, settings.random_state, strategy)


def _alternating(n_front: int, n_rest: int, n_labels: int) -> np.ndarray:
    """Positions that interleave ``n_front`` coverage picks with the strategy's order (``n_rest``):
    one of each in turn, the strategy's first when ``n_labels`` is odd, so a session that retrains
    after every label takes every other label for class discovery."""
    front, rest = np.arange(n_front), np.arange(n_front, n_front + n_rest)
    first, second = (front, rest) if n_labels % 2 == 0 else (rest, front)
    m = min(len(first), len(second))
    pairs = np.column_stack([first[:m], second[:m]]).ravel()
    return np.concatenate([pairs, first[m:], second[m:]]).astype(int)


def _named(classes: Any) -> bool:
    """Class names that mean something to a text model: words of three letters or more
    ("sport", "billing_issue"), not codes such as "a", "c3" or 1."""
    return bool(classes) and all(isinstance(c, str) and len(c) >= 3 and c.replace("_", " ").replace("-", " ")
                                 .replace(" ", "").isalpha() for c in classes)


def _covered(backend: Any, res: RetrainResult, labeled: np.ndarray, y: np.ndarray, k: int = 5,
             random_state: int | None = None, strategy: Any = None) -> RetrainResult:
    """The backend's class coverage, if it has one (see :meth:`InMemoryBackend.cover`); never for
    ``random`` (a baseline stays uniform)."""
    if not hasattr(backend, "cover") or getattr(strategy, "name", None) == "random":
        return res
    order, order_scores = backend.cover(res.order, res.order_scores, labeled, y, res.model, k, random_state)
    return res if order is res.order else dataclasses.replace(res, order=order, order_scores=order_scores)
