"""2-D layouts of the pool: PCA at once, UMAP in the background, cached on disk.

umap-learn (and numba) is imported only inside :meth:`PoolEmbedding.compute_umap`.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from .umap_fit import UMAP_FIT_SAMPLE, umap_layout
from sklearn.decomposition import PCA, TruncatedSVD

DEFAULT_CACHE = Path(os.environ.get("AL_WIDGETS_CACHE", Path.home() / ".cache" / "al_widgets"))


def reduce(features: Any, n_components: int, random_state: int | None = 0) -> np.ndarray:
    """PCA (dense) or truncated SVD (sparse) to at most ``n_components`` dimensions."""
    n, d = features.shape
    k = max(1, min(n_components, d, n))
    if sp.issparse(features):
        if k >= d:
            return features.toarray()
        return TruncatedSVD(k, random_state=random_state).fit_transform(features)
    features = np.asarray(features, dtype=float)
    if k >= d:
        return features
    return PCA(k, random_state=random_state).fit_transform(features)


def pca_layout(features: Any, random_state: int | None = 0) -> np.ndarray:
    """2-D PCA layout (padded with zeros for 1-D data)."""
    out = reduce(features, 2, random_state)
    if out.shape[1] < 2:
        out = np.column_stack([out, np.zeros(len(out))])
    return out.astype(np.float32)


def load_layout(path: Path | None, n: int) -> np.ndarray | None:
    """A cached ``(n, 2)`` layout, or ``None`` (no cache, missing, unreadable or another shape)."""
    if path is None or not path.exists():
        return None
    try:
        arr = np.load(path)
    except (OSError, ValueError):
        return None
    return arr if arr.shape == (n, 2) else None


def save_layout(path: Path | None, layout: np.ndarray) -> None:
    """Write a layout to the cache atomically (a reader never sees half a file); kept if present."""
    if path is None or path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, layout)
    os.replace(tmp, path)


class _BackgroundUMAP:
    """What both layouts share: the UMAP computed in a background thread, callbacks when it lands."""

    method: str

    def __init__(self, cache_dir: str | os.PathLike | None) -> None:
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.umap_seconds: float | None = None
        self.error: BaseException | None = None
        self.started_at: float | None = None
        self._thread: threading.Thread | None = None

    def compute_umap(self, **options: Any) -> np.ndarray:
        raise NotImplementedError

    _pca = "PCA"  # how the page names the first layout, briefly and in full
    _pca_full = "PCA"
    _umap_ready = "UMAP ready (computed in {seconds:.1f} s)"
    _where = ""  # where UMAP runs, if worth saying

    def describe(self) -> str:
        """What the map shows and what it is doing, in words (for the page)."""
        if self.error is not None:
            return f"layout: {self._pca} (UMAP failed: {type(self.error).__name__}: {self.error})"
        if self.method == "umap (cached)":
            return "layout: UMAP (from cache)"
        if self.method == "umap":
            return "layout: " + self._umap_ready.format(seconds=self.umap_seconds or 0.0)
        if self.computing and self.started_at is not None:
            return (f"layout: {self._pca}; UMAP computing{self._where}, "
                    f"{time.monotonic() - self.started_at:.0f} s so far (the map switches by itself)")
        return f"layout: {self._pca_full}"

    @property
    def is_umap(self) -> bool:
        return self.method.startswith("umap")

    @property
    def computing(self) -> bool:
        """True while a background UMAP runs."""
        return self._thread is not None and self._thread.is_alive()

    def _start(self, on_done: Callable[[np.ndarray], Any] | None, on_error: Callable[[BaseException], Any] | None,
               **options: Any) -> threading.Thread | None:
        if self.is_umap or self.computing:
            return self._thread

        def run() -> None:
            try:
                layout = self.compute_umap(**options)
            except Exception as exc:  # noqa: BLE001 - reported through on_error
                self.error = exc
                if on_error is not None:
                    on_error(exc)
                return
            if on_done is not None:
                on_done(layout)

        self.started_at = time.monotonic()
        self._thread = threading.Thread(target=run, name="al-umap", daemon=True)
        self._thread.start()
        return self._thread


class PoolEmbedding(_BackgroundUMAP):
    """The pool's 2-D map: ``layout`` starts as PCA and becomes UMAP when ready.

    Parameters
    ----------
    features : numeric matrix (dense or sparse), one row per pool sample
    key : str
        Identity of the data (e.g. ``Pool.fingerprint()``) for the disk cache.
    cache_dir : path or None
        Where UMAP layouts are cached; ``None`` disables the cache.
    n_neighbors, min_dist, random_state : UMAP parameters.
    fit_sample : int
        Pools larger than this are fitted on a sample of this many rows and the rest transformed.
    """

    def __init__(self, features: Any, key: str, cache_dir: str | os.PathLike | None = DEFAULT_CACHE,
                 n_neighbors: int = 15, min_dist: float = 0.1, random_state: int | None = 0,
                 fit_sample: int = UMAP_FIT_SAMPLE) -> None:
        if isinstance(fit_sample, bool) or not isinstance(fit_sample, int) or fit_sample < 10:
            raise ValueError(f"fit_sample must be an integer >= 10, got {fit_sample!r}")
        self.fit_sample = fit_sample
        self.features = features
        self.key = key
        super().__init__(cache_dir)
        self.n_neighbors, self.min_dist, self.random_state = n_neighbors, min_dist, random_state
        self.layout = pca_layout(features, random_state)
        self.method = "pca"
        cached = self._load_cache()
        if cached is not None:
            self.layout, self.method = cached, "umap (cached)"

    @property
    def cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        params = f"{self.key}-{self.features.shape}-{self.n_neighbors}-{self.min_dist}-{self.random_state}"
        if self.features.shape[0] > self.fit_sample:  # a sampled fit is another layout
            params += f"-sample{self.fit_sample}"
        return self.cache_dir / f"umap-{hashlib.sha1(params.encode()).hexdigest()[:20]}.npy"

    def _load_cache(self) -> np.ndarray | None:
        return load_layout(self.cache_path, self.features.shape[0])

    def compute_umap(self, in_subprocess: bool = False) -> np.ndarray:
        """Run UMAP now (blocking), cache and adopt the result.

        With ``in_subprocess=True`` UMAP runs in a spawned process so that numba's
        compilation does not hold this process's GIL (the kernel stays responsive).
        """
        t0 = time.perf_counter()
        X = reduce(self.features, 50, self.random_state)
        args = (X, self.n_neighbors, self.min_dist, self.random_state, self.fit_sample)
        if in_subprocess:  # adopt another process's result as soon as it lands in the cache
            from .background import run_in_subprocess
            layout = run_in_subprocess(umap_layout, *args, _poll=self._load_cache)
        else:
            layout = umap_layout(*args)
        self.umap_seconds = time.perf_counter() - t0
        save_layout(self.cache_path, layout)
        self.layout, self.method = layout, "umap"
        return layout

    def start_umap(self, on_done: Callable[[np.ndarray], Any] | None = None,
                   on_error: Callable[[BaseException], Any] | None = None,
                   in_subprocess: bool = True) -> threading.Thread | None:
        """Compute UMAP in the background unless already done; callbacks run in a watcher thread."""
        return self._start(on_done, on_error, in_subprocess=in_subprocess)


class ClusterLayout(_BackgroundUMAP):
    """The map layout of a pool held by a Dask cluster: PCA at once (fitted on a sample, every row
    projected on the cluster), then UMAP fitted on a sample by a worker and every row block placed
    on the cluster (:mod:`~al_widgets.core.layout.dask_umap`), cached on disk like
    :class:`PoolEmbedding`'s.  Same interface as :class:`PoolEmbedding`.

    The UMAP runs in a thread of the kernel that only waits for the cluster (the fit and the
    placing run on the workers).
    """

    _pca = "PCA on the cluster"
    _pca_full = "PCA fitted on a sample, every row projected on the cluster"
    _umap_ready = "UMAP fitted on a sample, every row placed on the cluster ({seconds:.1f} s)"
    _where = " on the cluster"

    def __init__(self, pool: Any, random_state: int | None = 0, cache_dir: str | os.PathLike | None = DEFAULT_CACHE,
                 n_neighbors: int = 15, min_dist: float = 0.1, fit_sample: int = UMAP_FIT_SAMPLE) -> None:
        self.pool, self.random_state = pool, random_state
        self.n_neighbors, self.min_dist, self.fit_sample = n_neighbors, min_dist, fit_sample
        super().__init__(cache_dir)
        cached = self._load_cache()
        if cached is not None:
            self.layout, self.method = cached, "umap (cached)"
            pool.use_layout(cached)
        else:
            self.layout, self.method = pool.layout(random_state), "pca"

    @property
    def cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        params = (f"dask-{self.pool.fingerprint()}-{self.pool.n}-{self.n_neighbors}-{self.min_dist}-"
                  f"{self.random_state}-sample{self.fit_sample}")
        return self.cache_dir / f"umap-{hashlib.sha1(params.encode()).hexdigest()[:20]}.npy"

    def _load_cache(self) -> np.ndarray | None:
        return load_layout(self.cache_path, self.pool.n)

    def compute_umap(self) -> np.ndarray:
        """Run UMAP on the cluster now (blocking), cache and adopt the result."""
        from .dask_umap import cluster_umap
        t0 = time.perf_counter()
        layout, persisted = cluster_umap(self.pool, self.n_neighbors, self.min_dist, self.random_state,
                                         self.fit_sample)
        self.umap_seconds = time.perf_counter() - t0
        save_layout(self.cache_path, layout)
        self.pool.use_layout(layout, persisted)
        self.layout, self.method = layout, "umap"
        return layout

    def start_umap(self, on_done: Callable[[np.ndarray], Any] | None = None,
                   on_error: Callable[[BaseException], Any] | None = None, **_: Any) -> threading.Thread | None:
        """Compute UMAP on the cluster in the background unless done; callbacks run in a watcher thread."""
        return self._start(on_done, on_error)
