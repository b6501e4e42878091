"""Rows of any feature container (arrays, DataFrames, sparse matrices, sequences) and compact ids."""
from __future__ import annotations

import operator
from collections import abc
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp


def n_rows(X: Any) -> int:
    """Number of rows of ``X``."""
    if sp.issparse(X) or isinstance(X, (np.ndarray, pd.DataFrame, pd.Series)):
        return X.shape[0]
    try:
        return len(X)
    except TypeError as exc:
        raise TypeError(f"features must be an array, DataFrame, sparse matrix or sequence, got {type(X).__name__}") from exc


def take_rows(X: Any, indices: np.ndarray) -> Any:
    """Rows ``indices`` of ``X`` in the same container type."""
    indices = np.asarray(indices, dtype=int)
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return X.iloc[indices]
    if sp.issparse(X):
        return X[indices]
    if isinstance(X, np.ndarray):
        return X[indices]
    return [X[i] for i in indices]


class RangeIds(abc.Sequence):
    """The default sample ids ``"0"``, ``"1"``, … ``str(n - 1)`` as a read-only sequence.

    Same values as ``[str(i) for i in range(n)]`` (so label stores and caches keyed by them are
    unchanged), without a million Python strings and an id -> index dict (about 150 bytes a sample).
    """

    def __init__(self, n: int) -> None:
        self.n = int(n)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [str(j) for j in range(self.n)[i]]
        j = operator.index(i)
        if j < 0:
            j += self.n
        if not 0 <= j < self.n:
            raise IndexError(f"sample position {i} out of range for {self.n} samples")
        return str(j)

    def __iter__(self) -> Any:
        return (str(i) for i in range(self.n))

    def __contains__(self, sid: Any) -> bool:
        try:
            self.index(sid)
        except ValueError:
            return False
        return True

    def index(self, sid: Any, *args: Any) -> int:
        s = str(sid)
        if s.isdigit() and s.isascii() and (s == "0" or s[0] != "0") and int(s) < self.n:
            return int(s)
        raise ValueError(f"{sid!r} is not a sample id")

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, RangeIds) and other.n == self.n or (
            isinstance(other, (list, tuple)) and len(other) == self.n and list(self) == list(other))

    def __repr__(self) -> str:
        return f"RangeIds({self.n})"
