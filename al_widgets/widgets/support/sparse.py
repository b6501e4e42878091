"""Colour values for a pool whose per-sample arrays stay on a Dask cluster."""
from __future__ import annotations

from typing import Any

import numpy as np


class SparseValues:
    """Colour values known for some samples only (a Dask pool's markers and labels): indexing with
    pool indices gives those values and ``fill`` (NaN by default) for the others."""

    def __init__(self, n: int, indices: Any, values: Any, fill: float = float("nan"),
                 density: tuple | None = None) -> None:
        self.n, self.fill, self.density = n, fill, density
        self._idx = np.asarray(indices, dtype=np.int64)
        self._vals = np.asarray(values, dtype=np.float32)
        order = np.argsort(self._idx)
        self._idx, self._vals = self._idx[order], self._vals[order]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: Any) -> np.ndarray:
        index = np.asarray(index, dtype=np.int64)
        pos = np.searchsorted(self._idx, index).clip(0, max(len(self._idx) - 1, 0))
        hit = (self._idx[pos] == index) if len(self._idx) else np.zeros(index.shape, dtype=bool)
        out = np.full(index.shape, self.fill, dtype=np.float32)
        out[hit] = self._vals[pos[hit]]
        return out
