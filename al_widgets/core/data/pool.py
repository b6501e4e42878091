"""The pool of samples an active learner chooses from."""
from __future__ import annotations

import hashlib
from typing import Any, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .labels import (MISSING, TAG_SEPARATOR, LabelCoercer, TagCoercer, canonical, check_label, is_missing,
                     normalize_classes, plain)
from .rows import RangeIds, n_rows, take_rows


IMAGE_TYPES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".gif": "gif", ".bmp": "bmp", ".webp": "webp"}
"""Image file endings the app serves and the widgets render (one list for both)."""
IMAGE_EXT = tuple(IMAGE_TYPES)
TASKS = ("classification", "regression", "multilabel")


class Pool:
    """Samples, their stable ids, the labels already known and the class list.

    Parameters
    ----------
    X : array-like, DataFrame, sparse matrix or sequence
        Model inputs.  Raw objects (e.g. strings) are allowed when the model is
        a pipeline that vectorizes them.
    ids : sequence, optional
        Stable, unique sample ids.  Defaults to the DataFrame index or ``0..n-1``.
    items : sequence, optional
        What to show a human for each sample (image path, text, array).
        Defaults to ``X`` rows.
    labels : sequence, optional
        Known labels, ``None``/NaN where missing.
    classes : sequence, optional
        The label set (the tags of a multi-label pool).  Required for classification unless
        ``labels`` already contain at least two classes.  ``None`` for regression.
    task : {"classification", "regression", "multilabel"}
        ``"multilabel"``: a label is a set of classes (``["billing", "urgent"]``, ``"billing|urgent"``
        or an indicator row), the empty set meaning "none of these"; see :class:`~.labels.TagSet`.
    name : str
        The dataset's name, shown when a label store written for another dataset is refused.
    """

    def __init__(self, X: Any, ids: Sequence | None = None, items: Sequence | None = None,
                 labels: Sequence | None = None, classes: Sequence | None = None,
                 task: str = "classification", name: str = "pool", content: Sequence | None = None) -> None:
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        n = n_rows(X)
        if n == 0:
            raise ValueError("the pool is empty: give at least one sample")
        self.X = X
        self.task = task
        self.name = str(name)
        self.n = n
        self.ids = self._check_ids(X, ids, n)
        self._id_to_index = None if isinstance(self.ids, RangeIds) else {sid: i for i, sid in enumerate(self.ids)}
        self.items = self._check_len(items, n, "items") if items is not None else None
        self.content = self._check_len(content, n, "content") if content is not None else None
        self._check_finite(X)
        self.labels = self._check_labels(labels, n)
        self.classes = self._check_classes(classes)

    @staticmethod
    def _check_len(seq: Sequence, n: int, name: str) -> Sequence:
        if n_rows(seq) != n:
            raise ValueError(f"length mismatch: {name} has {n_rows(seq)} entries but the pool has {n} samples")
        return seq

    def _check_ids(self, X: Any, ids: Sequence | None, n: int) -> Sequence[str]:
        if ids is None:
            index = X.index if isinstance(X, (pd.DataFrame, pd.Series)) else None
            if index is None or (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
                return RangeIds(n)  # "0".."n-1" without n strings and an n-entry dict
            ids = list(index)
        ids = [str(i) for i in self._check_len(list(ids), n, "ids")]
        if len(set(ids)) != n:
            dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
            raise ValueError(f"duplicate sample id {dup!r}: ids must be unique")
        return ids

    @staticmethod
    def _check_finite(X: Any) -> None:
        if isinstance(X, pd.DataFrame):
            numeric = X.select_dtypes(include="number").to_numpy(dtype=float)
        elif sp.issparse(X):
            numeric = X.data if np.issubdtype(X.dtype, np.number) else None
        elif isinstance(X, np.ndarray) and np.issubdtype(X.dtype, np.number):
            numeric = X
        elif isinstance(X, (list, tuple, pd.Series)) or (isinstance(X, np.ndarray) and X.dtype == object):
            rows = pd.Series(list(X.tolist() if isinstance(X, (np.ndarray, pd.Series)) else X), dtype=object)
            missing = np.flatnonzero(pd.isna(rows).to_numpy())  # vectorized; a row that is a list is never NA
            if len(missing):
                raise ValueError(f"sample {missing[0]} is missing (None or NaN); drop it or fill it in before "
                                 "building the pool")
            try:
                numeric = np.asarray(X, dtype=float)
            except (TypeError, ValueError):
                numeric = None  # raw objects (text, paths): a pipeline vectorizes them
        else:
            numeric = None
        if numeric is not None and numeric.size and not np.all(np.isfinite(numeric)):
            bad = np.argwhere(~np.isfinite(np.asarray(numeric, dtype=float)))[0]
            raise ValueError(f"features contain NaN or inf (first at position {tuple(int(b) for b in bad)}); "
                             "impute or drop them before building the pool")

    def _check_labels(self, labels: Sequence | None, n: int) -> np.ndarray:
        out = np.empty(n, dtype=object)
        out[:] = MISSING
        if labels is None:
            return out
        labels = list(labels.tolist() if isinstance(labels, (np.ndarray, pd.Series)) else labels)
        self._check_len(labels, n, "labels")
        for i, value in enumerate(labels):
            out[i] = MISSING if is_missing(value) else plain(value)
        return out

    def _check_classes(self, classes: Sequence | None) -> list | None:
        known = [v for v in self.labels if v is not MISSING]
        if self.task == "regression":
            for v in known:
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
                    raise ValueError(f"regression labels must be finite numbers, got {v!r}")
            self._coerce = None
            return None
        if self.task == "multilabel":
            return self._check_tags(known, classes)
        if classes is None:
            classes = sorted({canonical(v): v for v in normalize_classes(known)}.values(), key=str)
            if len(classes) < 2:
                raise ValueError("classes must be given when fewer than two classes are already labeled")
        classes = normalize_classes(classes)
        if len({isinstance(c, str) for c in classes}) > 1:
            raise ValueError(f"classes mix text and numbers: {classes}; write them all as text or all as numbers")
        if len(classes) < 2:
            raise ValueError(f"classification needs at least two classes, got {classes}")
        self._coerce = LabelCoercer(classes)  # also refuses duplicates such as [1, "1"]
        for i, v in enumerate(self.labels):  # every known label as the class value itself
            if v is not MISSING:
                self.labels[i] = self._coerce(v)
        return classes

    def _check_tags(self, known: list, classes: Sequence | None) -> list:
        if classes is None:  # the tags the labels name
            named = [t for v in known for t in (v.split(TAG_SEPARATOR) if isinstance(v, str) else v)]
            classes = sorted({canonical(t): t for t in normalize_classes([t.strip() if isinstance(t, str) else t
                                                                          for t in named if str(t).strip()])}.values(),
                             key=str)
            if not classes:
                raise ValueError("tags must be given (classes=[...]) when no sample is tagged yet")
        classes = normalize_classes(classes)
        if len({isinstance(c, str) for c in classes}) > 1:
            raise ValueError(f"tags mix text and numbers: {classes}; write them all as text or all as numbers")
        self._coerce = TagCoercer(classes)
        for i, v in enumerate(self.labels):
            if v is not MISSING:
                self.labels[i] = self._coerce(v)
        return classes

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_frame(cls, df: pd.DataFrame, **kwargs: Any) -> "Pool":
        """A pool from a DataFrame: features from ``feature_columns`` (default: the numeric columns),
        an ``embedding_column`` of equal-length lists of floats, or an ``embeddings`` matrix; ids,
        labels from ``id_column`` / ``label_column``; every row shown to people as its table row.
        Features are stored as one float32 matrix.  See :mod:`al_widgets.core.data.readers`."""
        from .readers import from_frame
        return from_frame(df, pool_class=cls, **kwargs)

    @classmethod
    def from_arrow(cls, table: Any, **kwargs: Any) -> "Pool":
        """A pool from a ``pyarrow.Table`` (options of :meth:`from_frame`)."""
        from .readers import from_arrow
        return from_arrow(table, pool_class=cls, **kwargs)

    @classmethod
    def from_parquet(cls, path: Any, client: Any = None, **kwargs: Any) -> Any:
        """A pool from Parquet; with a ``distributed.Client`` a ``DaskPool`` kept on the cluster."""
        from .readers import from_parquet
        return from_parquet(path, client=client, pool_class=cls, **kwargs)

    @classmethod
    def from_dask(cls, X: Any, classes: list, client: Any = None) -> Any:
        """A ``DaskPool`` over a 2-D ``dask.array`` (scored block by block on the cluster)."""
        from ..backends.dask_pool import DaskPool
        return DaskPool(X, classes, client)

    # ------------------------------------------------------------------ API
    def __len__(self) -> int:
        return self.n

    def known_labels(self) -> dict[int, Any]:
        """Pool index -> label, for the samples the data came labeled."""
        return {i: v for i, v in enumerate(self.labels) if v is not MISSING}

    def index_of(self, sample_id: Any) -> int:
        """Position of ``sample_id`` in the pool (raises ``KeyError`` if unknown)."""
        try:
            if self._id_to_index is None:
                return self.ids.index(str(sample_id))
            return self._id_to_index[str(sample_id)]
        except (KeyError, ValueError):
            raise KeyError(f"unknown sample id {sample_id!r}") from None

    def has_id(self, sample_id: Any) -> bool:
        """True when ``sample_id`` is one of this pool's ids."""
        try:
            self.index_of(sample_id)
        except KeyError:
            return False
        return True

    def item(self, index: int) -> Any:
        """What to display for sample ``index``."""
        if self.items is not None:
            return self.items[index] if not isinstance(self.items, (pd.Series, pd.DataFrame)) else self.items.iloc[index]
        if isinstance(self.X, pd.DataFrame):
            return self.X.iloc[index]
        return take_rows(self.X, np.array([index]))[0]

    def check_label(self, label: Any) -> Any:
        """Validate one label for this pool and return it as the pool's own value.

        Classification: any spelling of a class (``1``, ``1.0``, ``"1"``) becomes that class;
        anything else raises ``ValueError`` naming the label and the classes.
        """
        return check_label(label, self.task, self._coerce)

    def indicator(self, tag_sets: Sequence) -> np.ndarray:
        """Multi-label pools: ``(len(tag_sets), n_tags)`` 0/1 matrix (uint8) of checked tag sets, columns
        in :attr:`classes` order (what a scikit-learn multi-label estimator trains on)."""
        if self.task != "multilabel":
            raise ValueError(f"indicator() is for multi-label pools; this pool's task is {self.task!r}")
        return self._coerce.indicator(tag_sets)

    def identity(self) -> str:
        """A hash of the data (``content``, else the features), the sample ids and the task: which
        dataset a label store belongs to.  Features derived from the content (an embedding of the
        texts) may change without the store changing hands."""
        source = self.fingerprint() if self.content is None else _hash_rows(self.content)
        h = hashlib.sha1(source.encode())
        h.update(self.task.encode())
        h.update("\0".join(self.ids).encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:20]

    def fingerprint(self) -> str:
        """A hash of the features, used to key caches (e.g. the UMAP layout)."""
        return _hash_rows(self.X)


def _hash_rows(X: Any) -> str:
    """A short hash of a feature matrix or a sequence of rows (texts, paths)."""
    h = hashlib.sha1()
    if isinstance(X, pd.DataFrame):
        h.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    elif sp.issparse(X):
        X = X.tocsr()
        for part in (X.data, X.indices, X.indptr):
            h.update(np.ascontiguousarray(part).tobytes())
    elif isinstance(X, np.ndarray) and X.dtype != object:
        h.update(np.ascontiguousarray(X).tobytes())
        h.update(str(X.shape).encode())
    else:
        for row in X:
            h.update(repr(row).encode())
    return h.hexdigest()[:16]
