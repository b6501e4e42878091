"""Multi-label outputs: one probability per tag, and the uncertainty of a set of tags.

A multi-label model answers, for every sample, a probability for each tag independently (binary
relevance): ``OneVsRestClassifier`` gives an ``(n, n_tags)`` matrix, ``MultiOutputClassifier``
and natively multi-output models (forests, k-NN) a list of ``(n, 2)`` arrays, models without
``predict_proba`` a decision function.  :func:`tag_proba` makes them all one ``(n, n_tags)``
matrix; the scores below read it.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.special import expit

from .committee import final_estimator
from .uncertainty import has_attr

# Early in active learning some tag is on every labeled sample, or on none: OneVsRestClassifier then
# keeps a constant for it and warns on every refit.  Expected here, so not shown (a filter installed
# once, for this message only: warnings.catch_warnings is not thread-safe and retrains run in a thread).
warnings.filterwarnings("ignore", message="Label .* is present in all training examples", category=UserWarning)


def check_multilabel_model(model: Any) -> None:
    """A clear error for a classifier that cannot predict several labels per sample."""
    from sklearn.utils import get_tags
    final = final_estimator(model)
    tags = get_tags(final)
    if not (tags.target_tags.multi_output or getattr(tags.classifier_tags, "multi_label", False)):
        name = type(final).__name__
        raise TypeError(f"{name} predicts one class per sample, but the pool is multi-label; wrap it: "
                        f"OneVsRestClassifier({name}()) (one model per tag) or MultiOutputClassifier({name}())")


def tag_proba(model: Any, X: Any) -> np.ndarray:
    """``(n, n_tags)`` probability that each sample carries each tag (float32).

    Decision functions (models without ``predict_proba``) go through a sigmoid.
    """
    if has_attr(model, "predict_proba"):
        out = model.predict_proba(X)
        if isinstance(out, list):  # one (n, 2) array per tag; a tag never seen as 1 has one column
            cols = [_positive_column(model, j, p) for j, p in enumerate(out)]
            return np.column_stack(cols).astype(np.float32, copy=False)
        return np.asarray(out, dtype=np.float32)
    if has_attr(model, "decision_function"):
        return expit(np.asarray(model.decision_function(X), dtype=np.float32))
    raise TypeError(f"{type(final_estimator(model)).__name__} has neither predict_proba nor decision_function; "
                    "multi-label uncertainty needs one of them")


def _positive_column(model: Any, j: int, p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=np.float32)
    classes = getattr(final_estimator(model), "classes_", None)
    tag_classes = np.asarray(classes[j]).tolist() if isinstance(classes, list) else [0, 1]
    if p.shape[1] == 2:
        return p[:, tag_classes.index(1)] if 1 in tag_classes else p[:, 1]
    return p[:, 0] if tag_classes == [1] else np.zeros(len(p), dtype=np.float32)  # one value seen in training


def binary_entropy(P: np.ndarray) -> np.ndarray:
    """Entropy in bits of each tag's yes/no (0 when sure, 1 at p = 0.5)."""
    P = np.clip(np.asarray(P, dtype=np.float32), 1e-7, 1 - 1e-7)
    return -(P * np.log2(P) + (1 - P) * np.log2(1 - P))


def tag_summary(P: np.ndarray) -> dict[str, np.ndarray]:
    """Per sample: ``entropy`` (mean binary entropy over tags, 0..1), ``max_entropy`` (the most
    uncertain tag's), ``min_margin`` (1 - min |2p - 1|: 1 when some tag is a coin flip),
    ``set_confidence`` (probability that the predicted set is exactly right, tags taken as
    independent) and ``n_tags`` (tags predicted)."""
    P = np.asarray(P, dtype=np.float32)
    if P.ndim != 2 or P.shape[1] == 0:
        raise ValueError(f"tag probabilities must be an (n, n_tags) matrix, got shape {P.shape}")
    H = binary_entropy(P)
    sure = np.maximum(P, 1 - P)
    return {"entropy": H.mean(axis=1), "max_entropy": H.max(axis=1),
            "min_margin": 1 - np.abs(2 * P - 1).min(axis=1),
            "set_confidence": np.exp(np.log(sure).sum(axis=1)).astype(np.float32),
            "n_tags": (P >= 0.5).sum(axis=1)}


def predicted_sets(P: np.ndarray, classes: list, tag_set: Any) -> np.ndarray:
    """Object array of the predicted tag sets (``tag_set`` built once per distinct row, so a pool
    of 100k samples with a handful of distinct predictions holds a handful of objects)."""
    on = np.asarray(P) >= 0.5
    packed = np.packbits(on, axis=1)
    keys, inverse = np.unique(packed, axis=0, return_inverse=True)
    sets = np.empty(len(keys), dtype=object)
    for k, key in enumerate(keys):
        row = np.unpackbits(key)[: len(classes)].astype(bool)
        sets[k] = tag_set(c for c, o in zip(classes, row) if o)
    return sets[np.asarray(inverse).ravel()]
