"""The served table once per server: its features in a memory-mapped ``.npy`` every kernel maps.

Every page of the app runs in its own kernel, and each used to parse the whole CSV or Parquet file
(2.7 s and ~600 MB for a million rows of 16 features).  ``al-widgets serve`` loads the data once
in its own process and writes the numeric features here; a page's kernel maps that file
(``np.load(mmap_mode="r")``), so the operating system keeps one copy of the pages for all kernels,
and reads only the labels and ids beside it.  The pool is the same as a parse would give (the same
identity, the same rows); the cache is keyed by the file's path, size and modification time and the
options that shape the pool, and written atomically (a crash leaves no half cache).

Tables with columns that are neither features, labels nor ids (a free-text note) are not cached:
their rows are shown whole, which needs the table.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

VERSION = 1


def cache_folder(root: str | os.PathLike, path: Path, options: dict) -> Path:
    """Where the cache of ``path`` read with ``options`` lives (changes when the file changes)."""
    st = path.stat()
    key = json.dumps({"path": str(path.resolve()), "size": st.st_size, "mtime": st.st_mtime_ns,
                      "options": options, "version": VERSION}, sort_keys=True, default=str)
    return Path(root) / "datasets" / hashlib.sha1(key.encode()).hexdigest()[:20]


def write(folder: Path, features: pd.DataFrame, ids: list | None, labels: list | None, classes: list) -> None:
    """Cache a numeric table's features, ids and labels (atomically; an existing cache is kept)."""
    if folder.exists():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        X = np.ascontiguousarray(features.to_numpy())
        np.save(tmp / "X.npy", X, allow_pickle=False)
        known = [(i, v) for i, v in enumerate(labels or []) if v is not None]
        meta = {"columns": [str(c) for c in features.columns], "n": len(features), "classes": classes,
                "ids": ids, "labels": {"index": [i for i, _ in known], "value": [v for _, v in known]}}
        (tmp / "meta.json").write_text(json.dumps(meta))
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another process won the race, or a full disk: no cache
        if not (folder / "meta.json").exists():
            raise


def read(folder: Path) -> tuple[pd.DataFrame, list | None, list | None, list] | None:
    """``(features, ids, labels, classes)`` from a cache, the features mapped, or ``None`` if absent."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
        X = np.load(folder / "X.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return None
    if X.shape[0] != meta["n"]:
        return None
    features = pd.DataFrame(X, columns=meta["columns"], copy=False)  # no copy: the mapped pages
    labels: list | None = None
    if meta["labels"]["index"]:
        labels = [None] * meta["n"]
        for i, v in zip(meta["labels"]["index"], meta["labels"]["value"]):
            labels[i] = v
    return features, meta["ids"], labels, meta["classes"]


def usable(df: pd.DataFrame, feature_columns: list, used: list[Any]) -> bool:
    """A table whose every column is a feature, the label or the id (nothing else to show), and whose
    features share one type (a mapped matrix keeps it, and with it the pool's identity)."""
    return set(df.columns) <= set(feature_columns) | {c for c in used if c} \
        and df[feature_columns].dtypes.nunique() == 1
