"""Pools from tables: pandas, Arrow and Parquet, with precomputed embeddings.

Users bring embeddings of text or images computed elsewhere (a sentence encoder, a CNN): as a
column of equal-length lists of floats, as numeric columns, or as an ``.npy`` matrix beside a CSV.
Features become one float32 matrix (what the engine scores fastest), and the table's other columns
stay available to show each sample.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd


def embedding_matrix(values: Sequence, name: str = "embedding") -> np.ndarray:
    """A column of equal-length lists (or arrays) of numbers as an ``(n, d)`` float32 matrix.

    Raises ``ValueError`` naming the first row that is missing, not a list of numbers, of another
    length or not finite.
    """
    values = list(values)
    if not values:
        raise ValueError(f"the {name} column is empty")
    first = None
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and v != v) or isinstance(v, (str, bytes)) or not hasattr(v, "__len__"):
            raise ValueError(f"{name} of row {i} is not a list of numbers: {str(v)[:40]!r}")
        if first is None:
            first = len(v)
        elif len(v) != first:
            raise ValueError(f"{name} of row {i} has {len(v)} numbers, row 0 has {first}: all must have the same length")
    if not first:
        raise ValueError(f"{name} vectors are empty")
    try:
        out = np.asarray(np.stack([np.asarray(v, dtype=np.float32) for v in values]), dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} holds something other than numbers: {exc}") from None
    bad = ~np.isfinite(out).all(axis=1)
    if bad.any():
        raise ValueError(f"{name} of row {int(np.flatnonzero(bad)[0])} has NaN or infinite values")
    return out


def from_frame(df: pd.DataFrame, feature_columns: Sequence[str] | None = None, embedding_column: str | None = None,
               id_column: str | None = None, label_column: str | None = None, classes: Sequence | None = None,
               embeddings: np.ndarray | None = None, name: str = "pool", pool_class: Any = None,
               **kwargs: Any) -> Any:
    """A pool (``pool_class``, :class:`~al_widgets.core.Pool` when called through it) from a DataFrame;
    see :meth:`Pool.from_frame`."""
    if pool_class is None:
        raise TypeError("call Pool.from_frame (this reader builds the Pool class it is given)")
    df = df.reset_index(drop=True)
    for col in [c for c in (embedding_column, id_column, label_column) if c] + list(feature_columns or []):
        if col not in df.columns:
            raise ValueError(f"unknown column {col!r}; columns are {list(df.columns)}")
    chosen = sum(x is not None for x in (feature_columns, embedding_column, embeddings))
    if chosen > 1:
        raise ValueError("give one of feature_columns, embedding_column or embeddings")
    if embeddings is not None:
        X = np.asarray(embeddings, dtype=np.float32)
        if X.ndim != 2 or X.shape[0] != len(df):
            raise ValueError(f"embeddings have shape {X.shape}; need ({len(df)}, d): one row per table row")
        if not np.isfinite(X).all():
            raise ValueError("embeddings have NaN or infinite values")
    elif embedding_column is not None:
        X = embedding_matrix(df[embedding_column].tolist(), f"column {embedding_column!r}")
    else:
        meta = {c for c in (id_column, label_column) if c}
        cols = list(feature_columns) if feature_columns is not None else \
            [c for c in df.select_dtypes(include="number").columns if c not in meta]
        if not cols:
            raise ValueError("no numeric feature columns: give feature_columns, embedding_column or embeddings")
        bad = [c for c in cols if not pd.api.types.is_numeric_dtype(df[c])]
        if bad:
            raise ValueError(f"feature column {bad[0]!r} is not numeric")
        X = df[cols].to_numpy(dtype=np.float32)
    ids = df[id_column].astype(str).tolist() if id_column else None
    labels = kwargs.pop("labels", None)
    if label_column:
        labels = [None if pd.isna(v) else (v.item() if isinstance(v, np.generic) else v) for v in df[label_column]]
    shown = df.drop(columns=[c for c in (embedding_column,) if c])
    items = shown if len(shown.columns) else None  # each sample shown as its row (Pool.item: .iloc)
    return pool_class(X, ids=ids, items=items, labels=labels, classes=classes, name=name, **kwargs)


def from_arrow(table: Any, **kwargs: Any) -> Any:
    """A :class:`~al_widgets.core.Pool` from a ``pyarrow.Table`` (same options as :func:`from_frame`)."""
    return from_frame(table.to_pandas(), **kwargs)


def from_parquet(path: str | Path, client: Any = None, **kwargs: Any) -> Any:
    """A pool from a Parquet file or folder.

    Without ``client``: read into this process (:func:`from_frame` options).  With a
    ``distributed.Client``: a :class:`~al_widgets.core.backends.dask_pool.DaskPool` whose rows stay on
    the cluster (``feature_columns`` and ``classes`` required).
    """
    if client is not None:
        from ..backends.dask_pool import DaskPool
        kwargs.pop("pool_class", None)
        if not kwargs.get("feature_columns") or not kwargs.get("classes"):
            raise ValueError("a Parquet pool on a cluster needs feature_columns and classes")
        return DaskPool.from_parquet(str(path), list(kwargs["feature_columns"]), list(kwargs["classes"]), client)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Parquet data not found: {path}")
    kwargs.setdefault("name", path.name)
    return from_frame(pd.read_parquet(path), **kwargs)


def sidecar_embeddings(csv_path: str | Path) -> Path | None:
    """``data.npy`` or ``data.embeddings.npy`` beside ``data.csv``, if there is one."""
    p = Path(csv_path)
    for cand in (p.with_suffix(".npy"), p.with_suffix(".embeddings.npy")):
        if cand.exists():
            return cand
    return None
