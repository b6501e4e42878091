"""UMAP of a pool held by a Dask cluster: fitted on a sample by a worker, every row block placed where it lives.

The kernel fetches a uniform sample of rows (at most :data:`~al_widgets.core.layout.embedding.UMAP_FIT_SAMPLE`),
a worker fits PCA (to 50 dimensions) and UMAP on it, and the fitted pair is handed to every row
block as a future: each block is reduced and placed among its nearest sampled neighbours
(:func:`~al_widgets.core.layout.embedding.place_rest`) on the worker that holds it.  The ``(n, 2)``
float32 layout comes back to the kernel (the map needs it) and stays persisted on the cluster
for the map's density grid.  umap-learn is imported on the worker that fits, never at import time.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .umap_fit import UMAP_FIT_SAMPLE, place_rest


def fit_sample_umap(sample: np.ndarray, rows: np.ndarray, n_neighbors: int, min_dist: float,
                    random_state: int | None) -> dict[str, Any]:
    """PCA (to at most 50 dimensions) and UMAP fitted on ``sample`` (runs on a worker).

    ``rows``: the pool indices of the sample, kept so that each block puts its sampled rows
    exactly where the fit put them.
    """
    import umap
    from sklearn.decomposition import PCA

    sample = np.asarray(sample, dtype=np.float32)
    m, d = sample.shape
    pca = PCA(min(50, m), random_state=random_state).fit(sample) if d > 50 else None
    Z = pca.transform(sample) if pca is not None else sample
    reducer = umap.UMAP(n_neighbors=max(2, min(n_neighbors, m - 1)), min_dist=min_dist,
                        random_state=random_state, n_jobs=1 if random_state is not None else -1,
                        n_epochs=200 if m <= 10_000 else None)
    embedding = reducer.fit_transform(Z).astype(np.float32)
    index = getattr(reducer, "_knn_search_index", None)
    if index is not None:  # build the search graph now: a first query would build it in place, and the
        index.prepare()  # worker may be pickling the index for another worker at that moment (seen at 2M rows)
    return {"pca": pca, "reducer": reducer, "rows": np.asarray(rows, dtype=np.int64), "embedding": embedding}


def place_block(block: np.ndarray, fitted: dict[str, Any], block_info: dict | None = None) -> np.ndarray:
    """2-D positions of one row block (runs on the worker holding it)."""
    block = np.asarray(block, dtype=np.float32)
    Z = fitted["pca"].transform(block) if fitted["pca"] is not None else block
    out = place_rest(fitted["reducer"], np.asarray(Z, dtype=np.float32))
    start = block_info[0]["array-location"][0][0] if block_info else 0
    rows = fitted["rows"]
    lo, hi = np.searchsorted(rows, [start, start + len(block)])
    out[rows[lo:hi] - start] = fitted["embedding"][lo:hi]  # sampled rows: exactly where UMAP put them
    return out


def cluster_umap(pool: Any, n_neighbors: int = 15, min_dist: float = 0.1, random_state: int | None = 0,
                 sample: int = UMAP_FIT_SAMPLE) -> tuple[np.ndarray, Any]:
    """UMAP layout of a :class:`~al_widgets.core.backends.dask_pool.DaskPool`.

    Returns the ``(n, 2)`` float32 layout and the same layout as a dask array persisted on the
    cluster (row blocks like the pool's).
    """
    client = pool.client
    rng = np.random.default_rng(random_state)
    rows = np.sort(rng.choice(pool.n, min(sample, pool.n), replace=False))
    data = client.scatter(pool.rows(rows))
    fitted = client.submit(fit_sample_umap, data, rows, n_neighbors, min_dist, random_state, pure=False)
    xy = pool.X.map_blocks(place_block, fitted, dtype=np.float32, chunks=(pool.X.chunks[0], (2,)))
    xy = client.persist(xy)
    return np.asarray(client.compute(xy).result(), dtype=np.float32), xy
