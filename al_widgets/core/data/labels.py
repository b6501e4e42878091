"""Labels as the pool's own class values: ``1``, ``1.0``, ``np.int64(1)`` and ``"1"`` are one class.

Labels arrive from CSV columns (floats when a column has blanks), from JSON in the store, from
widgets and from user code.  Every one is converted to the pool's class value at the boundary
(:class:`Pool`, ``submit``, store reload), or refused with a one-line error, so a model never
sees ``[0.0, 1, "1"]`` and a retrain never fails with "Unknown label type".
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

MISSING = None
"""Marker for "no label yet" in :attr:`Pool.labels`."""


def canonical(value: Any) -> str:
    """A type-blind key: integral numbers in integer form, everything else as its string."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return f"bool:{value}"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"label {value!r} is not a finite number")
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


def normalize_classes(classes: Sequence[Any]) -> list[Any]:
    """Classes as plain Python values; integral floats become ints (a CSV column with blanks)."""
    out = []
    for c in classes:
        c = c.item() if isinstance(c, np.generic) else c
        if isinstance(c, float) and math.isfinite(c) and c.is_integer():
            c = int(c)
        out.append(c)
    return out


class LabelCoercer:
    """Maps any spelling of a class to the class value itself.

    Parameters
    ----------
    classes : sequence
        The pool's classes (already normalized).
    """

    def __init__(self, classes: Sequence[Any]) -> None:
        self.classes = list(classes)
        self._by_key: dict[str, Any] = {}
        for c in self.classes:
            key = canonical(c)
            if key in self._by_key:
                raise ValueError(f"classes {self._by_key[key]!r} and {c!r} are the same class written twice")
            self._by_key[key] = c

    def __call__(self, label: Any) -> Any:
        """The class ``label`` stands for; ``ValueError`` naming the label and the classes otherwise."""
        raw = label.item() if isinstance(label, np.generic) else label
        if isinstance(raw, bool) and not any(isinstance(c, bool) for c in self.classes):
            raise ValueError(f"label {raw!r} is a boolean but the classes are {self.classes}")
        if isinstance(raw, (list, dict, tuple, set)):
            raise ValueError(f"label {raw!r} is not a single value; classes are {self.classes}")
        try:
            key = canonical(raw)
        except ValueError as exc:
            raise ValueError(f"{exc}; classes are {self.classes}") from None
        if key not in self._by_key:
            raise ValueError(f"unknown class {raw!r}; classes are {self.classes}")
        return self._by_key[key]


def is_missing(value: Any) -> bool:
    """True for ``None`` and every spelling of a missing value (NaN, ``pd.NA``, NaT)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def plain(value: Any) -> Any:
    """numpy scalars to Python scalars so labels round-trip through JSON."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_label(label: Any, task: str, coerce: Any) -> Any:
    """One label as the pool's own value (``coerce``: the pool's :class:`LabelCoercer`), or a
    ``ValueError`` naming the problem; regression labels are finite floats."""
    if is_missing(label):
        raise ValueError("label is missing")
    label = plain(label)
    if task == "regression":
        if isinstance(label, bool) or not isinstance(label, (int, float)):
            raise ValueError(f"regression label must be a number, got {label!r}")
        if not np.isfinite(label):
            raise ValueError(f"regression label must be finite, got {label!r}")
        return float(label)
    return coerce(label)
