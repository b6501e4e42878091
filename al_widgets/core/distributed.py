"""Pools too big for one machine: score a Dask array on a ``dask.distributed`` cluster.

The pool stays on the workers (a persisted ``dask.array``, row blocks); the kernel holds the
labels, the fitted model and the top candidates.  Every re-score scatters the fitted model to the
workers once, each row block computes its probabilities and scores where it lives and sends back
only its own top ``k``; the kernel merges those into the global top ``k``.  Training rows are
fetched by index (a few hundred to a few thousand labeled rows).

Only per-sample scores work this way (``margin``, ``entropy``, ``least_confidence``): committee
strategies (BALD, QBC, max variance) and the geometry strategies (density, TypiClust, CoreSet,
BADGE, CLUE) need the whole pool in one place and are refused with a clear error.

Requires the ``scale`` extra (``pip install al_widgets[scale]``: dask, distributed, pyarrow).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from .uncertainty import SCORES

SUPPORTED = {"margin": "margin", "entropy": "entropy", "least_confident": "least_confidence",
             "least_confidence": "least_confidence"}


def _block_top_k(block: np.ndarray, model: Any, offset: int, exclude: np.ndarray, k: int,
                 score: str) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` of one row block (runs on a worker): global indices and scores."""
    proba = model.predict_proba(np.asarray(block, dtype=np.float32))
    s = SCORES[score](proba).astype(np.float64)
    if len(exclude):
        s[exclude - offset] = -np.inf
    k = min(k, len(s))
    pos = np.argpartition(-s, k - 1)[:k] if k < len(s) else np.arange(len(s))
    pos = pos[np.isfinite(s[pos])]
    return pos.astype(np.int64) + offset, s[pos]


def merge_top_k(parts: list[tuple[np.ndarray, np.ndarray]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Global top ``k`` from per-block results; ties broken by the lower index (deterministic)."""
    idx = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, dtype=np.int64)
    sc = np.concatenate([p[1] for p in parts]) if parts else np.empty(0)
    order = np.lexsort((idx, -sc))[:k]
    return idx[order], sc[order]


class DaskPool:
    """A pool held by a Dask cluster: rows of a 2-D ``dask.array`` of numbers, integer ids.

    Parameters
    ----------
    X : dask.array.Array
        ``(n_samples, n_features)``; rechunked to row blocks (all columns in one chunk) and persisted.
    classes : list
        The class names labels must come from.
    client : distributed.Client, optional
        Where to compute (default: the current client).
    """

    def __init__(self, X: Any, classes: list, client: Any = None) -> None:
        import dask.array as da
        from distributed import default_client
        if not isinstance(X, da.Array) or X.ndim != 2:
            raise TypeError(f"X must be a 2-D dask.array, got {type(X).__name__}")
        if any(np.isnan(c) for c in X.chunks[0]):
            raise ValueError("X has unknown chunk sizes; build it with lengths=True (to_dask_array(lengths=True))")
        if not classes or len(set(map(str, classes))) != len(classes):
            raise ValueError("classes must be a non-empty list of distinct class names")
        self.client = client or default_client()
        self.X = self.client.persist(X.rechunk({1: -1}).astype(np.float32))
        self.classes = list(classes)
        self.offsets = np.concatenate([[0], np.cumsum(self.X.chunks[0])]).astype(np.int64)
        self.n = int(self.offsets[-1])

    @classmethod
    def from_parquet(cls, path: str, columns: list[str], classes: list, client: Any = None,
                     blocksize: str | None = None) -> "DaskPool":
        """Feature ``columns`` of a Parquet file or folder (read by the workers, never by the kernel)."""
        import dask.dataframe as dd
        df = dd.read_parquet(path, columns=columns, **({"blocksize": blocksize} if blocksize else {}))
        return cls(df.to_dask_array(lengths=True), classes, client)

    def rows(self, indices: np.ndarray) -> np.ndarray:
        """The feature rows of ``indices`` (in the order given), fetched from the workers."""
        indices = np.asarray(indices, dtype=np.int64)
        if len(indices) and (indices.min() < 0 or indices.max() >= self.n):
            raise IndexError(f"pool index out of range [0, {self.n})")
        order = np.argsort(indices, kind="stable")
        fetched = self.client.compute(self.X[indices[order]]).result()
        out = np.empty_like(fetched)
        out[order] = fetched
        return out

    def top_k(self, model: Any, k: int, exclude: np.ndarray, score: str = "margin") -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best-scored samples not in ``exclude``, computed block by block on the workers."""
        exclude = np.unique(np.asarray(exclude, dtype=np.int64))
        model_f = self.client.scatter(model, broadcast=True, hash=False)  # a fresh key: never a released one
        blocks = self.client.compute(list(self.X.to_delayed().ravel()))
        futures = []
        for b, (lo, hi) in enumerate(zip(self.offsets[:-1], self.offsets[1:])):
            ex = exclude[(exclude >= lo) & (exclude < hi)]
            futures.append(self.client.submit(_block_top_k, blocks[b], model_f, int(lo), ex, k, score,
                                              pure=False))
        return merge_top_k(self.client.gather(futures), k)


class DaskActiveLearner:
    """Active learning on a :class:`DaskPool`: fit on the labeled rows, rank the pool on the cluster.

    Parameters
    ----------
    model : scikit-learn classifier with ``predict_proba``
    pool : DaskPool
    strategy : {"margin", "entropy", "least_confident"}
    batch_size : int
        Samples per query.
    """

    def __init__(self, model: Any, pool: DaskPool, strategy: str = "margin", batch_size: int = 10) -> None:
        if strategy not in SUPPORTED:
            raise ValueError(f"strategy {strategy!r} needs the whole pool in one place; on a Dask pool use one "
                             f"of {sorted(set(SUPPORTED) - {'least_confidence'})}")
        if not hasattr(model, "predict_proba"):
            raise TypeError(f"{type(model).__name__} has no predict_proba; a Dask pool is scored by probabilities")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.model, self.pool, self.strategy, self.batch_size = model, pool, strategy, batch_size
        self.labels: dict[int, Any] = {}
        self.model_: Any = None
        self.top_: tuple[np.ndarray, np.ndarray] | None = None

    def teach(self, indices: Any, labels: Any) -> None:
        """Record labels for pool ``indices`` (the next :meth:`retrain` uses them)."""
        indices, labels = list(indices), list(labels)
        if len(indices) != len(labels):
            raise ValueError("indices and labels must have the same length")
        for i, lab in zip(indices, labels):
            if not 0 <= int(i) < self.pool.n:
                raise IndexError(f"pool index out of range [0, {self.pool.n}): {i}")
            if lab not in self.pool.classes:
                raise ValueError(f"unknown class {lab!r}; classes are {self.pool.classes}")
            self.labels[int(i)] = lab

    def retrain(self) -> tuple[np.ndarray, np.ndarray]:
        """Fit a clone of the model on the labeled rows, then re-rank the pool; returns the top batch."""
        idx = np.array(sorted(self.labels), dtype=np.int64)
        y = np.array([self.labels[i] for i in idx])
        if len(set(y.tolist())) < 2:
            raise ValueError("label samples of at least two classes before training")
        self.model_ = clone(self.model).fit(self.pool.rows(idx), y)
        self.top_ = self.pool.top_k(self.model_, self.batch_size, idx, SUPPORTED[self.strategy])
        return self.top_

    def query(self) -> tuple[np.ndarray, np.ndarray]:
        """The current top batch (indices, scores)."""
        return self.top_ if self.top_ is not None else self.retrain()
