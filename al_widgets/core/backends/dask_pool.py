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

import dataclasses

from typing import Any

import numpy as np

from .base import COLD_START_SAMPLE, ClusterStats, Ranking, cold_start_result
from ..data.labels import LabelCoercer
from ..data.labels import MISSING, check_label
from ..data.rows import RangeIds
from ..scoring.uncertainty import linear_summary, predict_proba, proba_summary

SUPPORTED = {"margin": "margin", "entropy": "entropy", "least_confident": "least_confidence",
             "least_confidence": "least_confidence"}


def _block_scores(block: np.ndarray, model: Any) -> dict[str, np.ndarray]:
    """Every per-row score of one row block: the same fused pass as the in-memory engine."""
    block = np.asarray(block, dtype=np.float32)
    summary = linear_summary(model, block)
    return summary if summary is not None else proba_summary(predict_proba(model, block)[0])


def _block_top_k(block: np.ndarray, model: Any, offset: int, exclude: np.ndarray, k: int, score: str,
                 xy: np.ndarray | None = None, grid: tuple | None = None,
                 tracked: np.ndarray | None = None) -> dict[str, Any]:
    """Top ``k`` of one row block by ``score`` (runs on a worker): global indices and scores; the
    sum and count of the unlabeled rows' entropy (the uncertainty the views show) and, when asked,
    its per-cell sums over the map's grid (``xy``: the block's 2-D layout; ``grid``:
    ``(lo, span, size)``) and its value for the ``tracked`` rows (global indices in this block)."""
    summary = _block_scores(block, model)
    s = summary[score].astype(np.float64)
    unc = summary["entropy"].astype(np.float64)  # what the views show (as in memory): entropy
    if len(exclude):
        s[exclude - offset] = -np.inf
        unc[exclude - offset] = np.nan
    finite = np.isfinite(s)
    out: dict[str, Any] = {"total": float(unc[finite].sum()), "count": int(finite.sum())}
    kk = min(k, len(s))
    pos = np.argpartition(-s, kk - 1)[:kk] if kk < len(s) else np.arange(len(s))
    pos = pos[np.isfinite(s[pos])]
    out["top"] = (pos.astype(np.int64) + offset, s[pos])
    if xy is not None and grid is not None:
        lo, span, size = grid
        cells = np.minimum(((np.asarray(xy) - lo) / span * size).astype(np.int64), size - 1).clip(0)
        flat = cells[:, 0] * size + cells[:, 1]
        out["cell_sum"] = np.bincount(flat[finite], weights=unc[finite], minlength=size * size)
        out["cell_count"] = np.bincount(flat[finite], minlength=size * size)
    if tracked is not None and len(tracked):
        out["tracked"] = (tracked, unc[tracked - offset])  # NaN for labeled samples
    return out


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

    task = "classification"
    is_distributed = True

    def __init__(self, X: Any, classes: list, client: Any = None, name: str = "dask pool") -> None:
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
        self.name = str(name)
        self.ids = RangeIds(self.n)  # integer ids: nothing per sample is kept in the kernel
        self.labels = _NoLabels(self.n)
        self.items = None
        self._coerce = LabelCoercer(self.classes)
        self._xy: Any = None  # the 2-D layout, persisted on the cluster once the map asked for it
        self._grid: tuple | None = None
        self._tracked: np.ndarray | None = None

    @classmethod
    def from_parquet(cls, path: str, columns: list[str], classes: list, client: Any = None,
                     blocksize: str | None = None) -> "DaskPool":
        """Feature ``columns`` of a Parquet file or folder (read by the workers, never by the kernel)."""
        import dask.dataframe as dd
        df = dd.read_parquet(path, columns=columns, **({"blocksize": blocksize} if blocksize else {}))
        return cls(df.to_dask_array(lengths=True), classes, client, name=str(path).rstrip("/").split("/")[-1])

    @classmethod
    def from_text_parquet(cls, path: str, text_column: str, classes: list, client: Any = None,
                          embedder: Any = "auto", blocksize: str | None = None) -> "DaskPool":
        """A pool of the texts in ``text_column``, embedded by the workers partition by partition
        (:func:`embed_partitions`); the texts never come to the kernel."""
        import dask.dataframe as dd
        df = dd.read_parquet(path, columns=[text_column], **({"blocksize": blocksize} if blocksize else {}))
        return cls(embed_partitions(df[text_column], embedder), classes, client,
                   name=str(path).rstrip("/").split("/")[-1])

    # -- the Pool interface the session and the views use ------------------------------------
    def __len__(self) -> int:
        return self.n

    def known_labels(self) -> dict[int, Any]:
        """Labels the data came with: none (labels live in the store)."""
        return {}

    def index_of(self, sample_id: Any) -> int:
        """Position of ``sample_id`` (ids are ``"0"``..``"n-1"``); ``KeyError`` if unknown."""
        try:
            return self.ids.index(str(sample_id))
        except ValueError:
            raise KeyError(f"unknown sample id {sample_id!r}") from None

    def has_id(self, sample_id: Any) -> bool:
        return str(sample_id) in self.ids

    def backend(self) -> "DaskBackend":
        """How the one retrain reaches this pool (:class:`DaskBackend`)."""
        return DaskBackend(self)

    def check_label(self, label: Any) -> Any:
        """The rules of :meth:`Pool.check_label`: any spelling of a class, a clear error otherwise."""
        return check_label(label, self.task, self._coerce)

    def item(self, index: int) -> np.ndarray:
        """The feature row of sample ``index``, fetched from the cluster (what is shown)."""
        return self.rows(np.array([index]))[0]

    def fingerprint(self) -> str:
        """Shape and the first and last rows (read from the cluster), for caches and the store."""
        import hashlib
        h = hashlib.sha1(f"{self.n}x{self.X.shape[1]}".encode())
        ends = np.unique(np.r_[np.arange(min(64, self.n)), np.arange(max(self.n - 64, 0), self.n)])
        h.update(np.ascontiguousarray(self.rows(ends)).tobytes())
        return h.hexdigest()[:16]

    def identity(self) -> str:
        """Which dataset a label store belongs to (see ``Pool.identity``)."""
        return f"dask-{self.fingerprint()}"

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

    def top_k(self, model: Any, k: int, exclude: np.ndarray, score: str = "margin",
              stats: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best-scored samples not in ``exclude``, computed block by block on the workers.

        ``stats`` (a dict), if given, receives ``mean_score`` (the mean entropy of the unlabeled
        pool) and, once the map asked (:meth:`set_grid`, :meth:`track`), ``density`` (per-cell
        entropy sums and counts) and ``tracked`` (indices and entropies of the map's markers).
        """
        exclude = np.unique(np.asarray(exclude, dtype=np.int64))
        model_f = self.client.scatter(model, broadcast=True, hash=False)  # a fresh key: never a released one
        blocks = self.client.compute(list(self.X.to_delayed().ravel()))
        xy = self.client.compute(list(self._xy.to_delayed().ravel())) if self._xy is not None else None
        futures = []
        for b, (lo, hi) in enumerate(zip(self.offsets[:-1], self.offsets[1:])):
            ex = exclude[(exclude >= lo) & (exclude < hi)]
            tr = self._tracked[(self._tracked >= lo) & (self._tracked < hi)] if self._tracked is not None else None
            futures.append(self.client.submit(_block_top_k, blocks[b], model_f, int(lo), ex, k, score,
                                              xy[b] if xy is not None and self._grid else None, self._grid, tr,
                                              pure=False))
        parts = self.client.gather(futures)
        if stats is not None:
            count = sum(p["count"] for p in parts)
            stats["mean_score"] = sum(p["total"] for p in parts) / count if count else float("nan")
            if parts and "cell_sum" in parts[0]:
                stats["density"] = (sum(p["cell_sum"] for p in parts), sum(p["cell_count"] for p in parts))
            tracked = [p["tracked"] for p in parts if "tracked" in p]
            if tracked:
                stats["tracked"] = (np.concatenate([t[0] for t in tracked]), np.concatenate([t[1] for t in tracked]))
        return merge_top_k([p["top"] for p in parts], k)

    # -- what the map asks of the cluster -----------------------------------------------------
    def layout(self, random_state: int | None = 0, sample: int = 20_000) -> np.ndarray:
        """A 2-D PCA layout of the whole pool: PCA fitted on a uniform sample of at most ``sample``
        rows fetched to the kernel, every row block projected where it lives; the ``(n, 2)``
        float32 result comes back (the only per-sample array the kernel keeps) and stays
        persisted on the cluster for the map's density grid."""
        from sklearn.decomposition import PCA
        rows = np.sort(np.random.default_rng(random_state).choice(self.n, min(sample, self.n), replace=False))
        pca = PCA(2, random_state=random_state).fit(self.rows(rows))
        comp, mean = pca.components_.astype(np.float32), pca.mean_.astype(np.float32)
        self._xy = self.client.persist(((self.X - mean) @ comp.T).astype(np.float32))
        return np.asarray(self.client.compute(self._xy).result(), dtype=np.float32)

    def use_layout(self, layout: np.ndarray, persisted: Any = None) -> None:
        """Make ``layout`` (``(n, 2)``, e.g. UMAP's) the one the density grid is summed over; sent to
        the cluster in row blocks like the pool's unless ``persisted`` already holds it there."""
        if persisted is None:
            import dask.array as da
            persisted = self.client.persist(da.from_array(np.asarray(layout, dtype=np.float32),
                                                          chunks=(self.X.chunks[0], (2,))))
        self._xy = persisted

    def set_grid(self, lo: np.ndarray, span: np.ndarray, size: int) -> None:
        """From now on each re-score also sums the scores per cell of this grid over the layout."""
        self._grid = (np.asarray(lo, dtype=np.float32), np.asarray(span, dtype=np.float32), int(size))

    def track(self, indices: np.ndarray) -> None:
        """From now on each re-score also sends back the scores of these samples (the map's markers)."""
        self._tracked = np.unique(np.asarray(indices, dtype=np.int64))


class _NoLabels:
    """``pool.labels`` of a Dask pool: every sample starts unlabeled (no n-long list in the kernel)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> Any:
        return MISSING


class TopScores:
    """Scores of the top candidates only (NaN for any other sample), indexable like a pool array."""

    def __init__(self, n: int, indices: np.ndarray, scores: np.ndarray) -> None:
        self.n, self._scores = n, dict(zip(np.asarray(indices).tolist(), np.asarray(scores, dtype=float).tolist()))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> float:
        return self._scores.get(int(index), float("nan"))


class DaskBackend:
    """How :func:`~al_widgets.core.session.training.retrain` reaches a :class:`DaskPool`: the labeled rows
    are fetched, the model is fitted in the kernel, and the pool is ranked on the cluster (only the
    top ``queue_length`` candidates, the mean score and the map's statistics come back).  The
    result has no per-sample arrays: ``scores`` holds the candidates' scores only, ``prediction`` and
    ``uncertainty`` are empty (the views show what they can without them)."""

    def __init__(self, pool: DaskPool) -> None:
        self.pool, self.task, self.classes = pool, pool.task, pool.classes

    def rows(self, indices: np.ndarray) -> np.ndarray:
        return self.pool.rows(indices)

    def cold_start(self, model: Any, labeled: np.ndarray, n_labels: int, settings: Any, reason: str) -> Any:
        """Representative samples of a uniform sample of at most 2,000 fetched rows."""
        pool = self.pool
        rng = np.random.default_rng(settings.random_state)
        free = np.setdiff1d(rng.choice(pool.n, min(COLD_START_SAMPLE + len(labeled), pool.n), replace=False),
                            labeled)[:COLD_START_SAMPLE]
        res = cold_start_result(model, pool.rows(free), np.arange(len(free)), n_labels, settings.batch_size,
                                min(settings.queue_length, len(free)), settings.random_state, reason)
        order = free[res.order]
        return dataclasses.replace(res, order=order, scores=TopScores(pool.n, order, res.order_scores))

    def rank(self, fitted: Any, X_labeled: Any, labeled: np.ndarray, y: np.ndarray, strategy: Any,
             settings: Any) -> Any:
        score = check_strategy(strategy)
        stats: dict = {}
        order, order_scores = self.pool.top_k(fitted, settings.queue_length, labeled, score, stats=stats)
        return Ranking(order, order_scores, TopScores(self.pool.n, order, order_scores), {}, None, None,
                       ClusterStats(stats.get("mean_score", float("nan")), stats.get("density"), stats.get("tracked")))


def check_strategy(strategy: Any) -> str:
    """The per-sample score a strategy ranks by on a Dask pool; ``ValueError`` for the others."""
    name = getattr(strategy, "name", strategy)
    if name not in SUPPORTED:
        raise ValueError(f"strategy {name!r} needs the whole pool in one place; on a Dask pool use one of "
                         f"{sorted(set(SUPPORTED) - {'least_confidence'})}")
    return SUPPORTED[name]


def embed_partitions(texts: Any, embedder: Any = "auto", cache_dir: Any = None) -> Any:
    """A ``dask.array`` of the embedding of a ``dask`` Series of texts, one block per partition.

    Each worker embeds its own partitions (:func:`~al_widgets.core.data.embed.embed`; the built-in
    model loads once per worker process, from the installed package); the rows equal an in-memory
    ``embed`` of the same texts.
    """
    import dask
    import dask.array as da

    from ..data.embed import embed
    dim = embed(["probe"], embedder, cache_dir=None).shape[1]  # a bad embedder fails here, in the kernel
    lengths = texts.map_partitions(len).compute()

    def block(part: Any) -> np.ndarray:
        return embed([str(t) for t in part.fillna("").tolist()], embedder, cache_dir=cache_dir)

    blocks = [da.from_delayed(dask.delayed(block)(part), shape=(int(n), dim), dtype=np.float32)
              for part, n in zip(texts.to_delayed(), lengths)]
    return da.concatenate(blocks) if blocks else da.zeros((0, dim), dtype=np.float32)
