"""A session's labels as arrays: built incrementally for each retrain, compared with what a model learned.

A retrain needs the labeled pool indices (sorted) and their labels as a typed array.  Rebuilding
both from a dict costs a Python step per label on every retrain (8 ms at 50k labels); with labels
arriving one at a time, :class:`LabelMap` inserts only the new ones into the previous arrays.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def tidy_labels(y: np.ndarray) -> np.ndarray:
    """Object label arrays of plain ints/strings/bools to a proper dtype (sklearn dislikes object ints).

    Mixed types stay objects (``[1, "a"]`` never becomes ``["1", "a"]``; booleans never 0/1).
    """
    if y.dtype == object and len(y):
        kinds = set(map(type, y))  # a handful of types, checked once each (not once per label)
        if all(issubclass(k, (int, np.integer)) and not issubclass(k, bool) for k in kinds):
            return y.astype(int)
        if all(issubclass(k, str) for k in kinds):
            return y.astype(str)
        if all(issubclass(k, (bool, np.bool_)) for k in kinds):
            return y.astype(bool)
    return y


class LabelMap(dict):
    """Pool index -> label (a plain dict to read), whose :meth:`arrays` are cheap to ask for again.

    Keys added since the last :meth:`arrays` are inserted into the previous arrays; any other
    change (a label overwritten or removed) rebuilds them.  Not thread-safe by itself: the
    session changes it and reads the arrays under its own lock.

    Parameters
    ----------
    labels : dict, optional
        Initial contents.
    numeric : bool
        Labels are numbers for regression (``float`` arrays); otherwise class values, typed by
        :func:`tidy_labels`.
    encode : callable, optional
        Turns a list of labels into their array (rows), e.g. tag sets into a 0/1 indicator matrix
        for a multi-label pool; overrides ``numeric``.
    """

    def __init__(self, labels: dict | None = None, numeric: bool = False, encode: Any = None) -> None:
        super().__init__(labels or {})
        self._dtype = float if numeric else object
        self._encode = encode
        self._idx: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._added: list[int] | None = None  # keys added since the last arrays(); None: rebuild

    def __setitem__(self, key: int, value: Any) -> None:
        if self._added is not None:
            if key in self:
                self._added = None
            else:
                self._added.append(key)
        super().__setitem__(key, value)

    def _invalidate(self) -> None:
        self._added = None

    def __delitem__(self, key: int) -> None:
        self._invalidate()
        super().__delitem__(key)

    def pop(self, key: int, *default: Any) -> Any:
        if key in self:
            self._invalidate()
        return super().pop(key, *default)

    def popitem(self) -> tuple[int, Any]:
        self._invalidate()
        return super().popitem()

    def clear(self) -> None:
        self._invalidate()
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: int, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def _typed(self, keys: np.ndarray) -> np.ndarray:
        if self._encode is not None:
            return self._encode([self[int(i)] for i in keys])
        y = np.array([self[int(i)] for i in keys], dtype=self._dtype)
        return y if self._dtype is float else tidy_labels(y)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(idx, y)``: the labeled indices, sorted, and their labels; fresh arrays each time a
        label changed (earlier results are never modified, a retrain may still hold them)."""
        if self._idx is None or self._added is None:
            idx = np.fromiter(sorted(self), dtype=int, count=len(self))
            self._idx, self._y = idx, self._typed(idx)
        elif self._added:
            new = np.sort(np.asarray(self._added, dtype=int))
            y_new = self._typed(new)
            dtype = _insertable(self._y.dtype, y_new.dtype)
            if dtype is None:  # the labels' types changed (e.g. a string among integers): retype all
                self._added = None
                return self.arrays()
            pos = np.searchsorted(self._idx, new)
            self._idx = np.insert(self._idx, pos, new)
            self._y = np.insert(self._y.astype(dtype, copy=False), pos, y_new.astype(dtype, copy=False), axis=0)
        self._added = []
        return self._idx, self._y


def _insertable(old: np.dtype, new: np.dtype) -> np.dtype | None:
    """The dtype holding both label arrays, when it is what typing them together would give."""
    if old == new:
        return old
    if old.kind == new.kind and old.kind in "iuUf":  # e.g. longer strings: widen, never truncate
        return np.promote_types(old, new)
    return None


class TrainedLabels:
    """What the applied model learned: its pool indices (sorted) and their labels, as arrays.

    Comparing the next retrain's labels with it is vectorized (no Python work per label), so a
    session with 50k labels does not spend milliseconds per retrain in loops holding the GIL.
    """

    def __init__(self, idx: np.ndarray | None = None, y: np.ndarray | None = None) -> None:
        self.idx = np.empty(0, dtype=int) if idx is None else np.asarray(idx)
        self.y = np.empty(0) if y is None else np.asarray(y)

    def __len__(self) -> int:
        return len(self.idx)

    def __contains__(self, index: Any) -> bool:
        p = int(np.searchsorted(self.idx, index))
        return p < len(self.idx) and int(self.idx[p]) == int(index)

    def compare(self, idx: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, bool]:
        """``(new, moved)``: which of the sorted ``idx`` the model has not learned, and whether a
        label it learned was changed or is gone."""
        if len(self.idx) == 0:
            return np.ones(len(idx), dtype=bool), False
        pos = np.minimum(np.searchsorted(self.idx, idx), len(self.idx) - 1)
        known = self.idx[pos] == idx
        moved = int(known.sum()) != len(self.idx) or bool(np.any(self.y[pos[known]] != y[known]))
        return ~known, moved
