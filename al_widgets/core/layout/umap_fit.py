"""UMAP itself: fitted on at most a sample, the other rows placed among their nearest fitted neighbours.

umap-learn (and numba) is imported only when :func:`umap_layout` runs.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np


UMAP_FIT_SAMPLE = 50_000
"""Pools larger than this get UMAP fitted on a uniform sample of this many rows; the rest are
placed among their nearest sampled neighbours (:func:`place_rest`), in chunks."""


def umap_layout(X: np.ndarray, n_neighbors: int, min_dist: float, random_state: int | None,
                fit_sample: int = UMAP_FIT_SAMPLE, chunk: int = 100_000) -> np.ndarray:
    """UMAP of ``X`` to 2-D (imports umap-learn, which compiles with numba on first use).

    Above ``fit_sample`` rows UMAP is fitted on a uniform sample and the other rows are placed
    into that layout (:func:`place_rest`).
    """
    import umap

    n = X.shape[0]
    fit_rows = None
    if n > fit_sample:
        fit_rows = np.sort(np.random.default_rng(random_state).choice(n, fit_sample, replace=False))
    m = n if fit_rows is None else fit_sample
    n_neighbors = max(2, min(n_neighbors, m - 1))
    n_epochs = 200 if m <= 10_000 else None  # umap's default is 500 below 10k samples
    reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, random_state=random_state,
                        n_jobs=1 if random_state is not None else -1, n_epochs=n_epochs)
    if fit_rows is None:
        return reducer.fit_transform(X).astype(np.float32)
    out = np.empty((n, 2), dtype=np.float32)
    out[fit_rows] = reducer.fit_transform(X[fit_rows])
    rest = np.ones(n, dtype=bool)
    rest[fit_rows] = False
    rest = np.flatnonzero(rest)
    for s in range(0, len(rest), chunk):
        rows = rest[s:s + chunk]
        out[rows] = place_rest(reducer, X[rows])
    return out


_QUERY_LOCK = threading.Lock()
"""Two row blocks placed at once by one Dask worker's threads queried the same index concurrently and
got each other's neighbours (seen as a flaky layout under load); the queries hold the GIL anyway."""


def place_rest(reducer: Any, X: np.ndarray) -> np.ndarray:
    """Positions of rows UMAP was not fitted on: the distance-weighted mean of their ``n_neighbors``
    nearest fitted rows' positions (UMAP's own starting point for ``transform``), found with the
    nearest-neighbour index the fit built.  About 20x faster than ``transform`` (which then runs
    its optimisation epochs per row) and within 2 % of the layout's span of it on generated blobs;
    ``transform`` when the fit kept no index (small samples use exact neighbours)."""
    index = getattr(reducer, "_knn_search_index", None)
    if index is None:
        return reducer.transform(X).astype(np.float32)
    with _QUERY_LOCK:  # pynndescent's query reuses one "visited" array per index: never two at once
        idx, dist = index.query(X, k=reducer.n_neighbors)
    weight = 1.0 / np.maximum(dist, 1e-6)
    placed = (reducer.embedding_[idx] * weight[..., None]).sum(axis=1) / weight.sum(axis=1, keepdims=True)
    return placed.astype(np.float32)
