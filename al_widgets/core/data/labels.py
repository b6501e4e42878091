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
    """One label as the pool's own value (``coerce``: the pool's :class:`LabelCoercer`, or its
    :class:`TagCoercer` for a multi-label pool), or a ``ValueError`` naming the problem; regression
    labels are finite floats, multi-label answers :class:`TagSet` values (the empty set included)."""
    if not isinstance(label, (list, tuple, set, frozenset, np.ndarray)) and is_missing(label):
        raise ValueError("label is missing")
    label = plain(label)
    if task == "multilabel":
        return coerce(label)
    if task == "regression":
        if isinstance(label, bool) or not isinstance(label, (int, float)):
            raise ValueError(f"regression label must be a number, got {label!r}")
        if not np.isfinite(label):
            raise ValueError(f"regression label must be finite, got {label!r}")
        return float(label)
    return coerce(label)


TAG_SEPARATOR = "|"
"""How a set of tags is written in one CSV cell (``billing|urgent``) and in exports."""


class TagSet(tuple):
    """A multi-label answer: the tags a sample carries, in the pool's class order (``()``: none of them).

    A tuple, so it is hashable, compares equal to the same tags and is stored in JSON as a list;
    its string form is what people read (``billing, urgent`` or ``(none)``).
    """

    __slots__ = ()

    def __str__(self) -> str:
        return ", ".join(map(str, self)) if self else "(none)"

    def __repr__(self) -> str:
        return f"TagSet({list(self)!r})"

    def cell(self) -> str:
        """The CSV form: tags joined by ``|`` (the empty set is an empty cell)."""
        return TAG_SEPARATOR.join(map(str, self))


class TagCoercer:
    """Maps a set of tags (a list, a set, an indicator row or ``"a|b"``) to a :class:`TagSet`.

    Parameters
    ----------
    classes : sequence
        The pool's tags (already normalized).  A tag containing ``|`` is refused: it is the separator.
    """

    def __init__(self, classes: Sequence[Any]) -> None:
        bad = [c for c in classes if TAG_SEPARATOR in str(c)]
        if bad:
            raise ValueError(f"tag {bad[0]!r} contains {TAG_SEPARATOR!r}, which separates tags in a cell; rename it")
        self.one = LabelCoercer(classes)
        self.classes = self.one.classes
        self._position = {canonical(c): j for j, c in enumerate(self.classes)}

    def __call__(self, label: Any) -> TagSet:
        """The tag set ``label`` stands for; ``ValueError`` naming an unknown tag otherwise."""
        if isinstance(label, str):
            parts = [p.strip() for p in label.split(TAG_SEPARATOR)] if label.strip() else []
            label = [p for p in parts if p]
        elif isinstance(label, np.ndarray) and label.ndim == 1 and label.dtype.kind in "biuf" \
                and len(label) == len(self.classes) and set(np.unique(label).tolist()) <= {0, 1}:
            label = [c for c, on in zip(self.classes, label) if on]
        elif not isinstance(label, (list, tuple, set, frozenset, np.ndarray, pd.Series)):
            raise ValueError(f"a multi-label answer is a set of tags (a list, or text such as 'a|b'), got {label!r}; "
                             f"tags are {self.classes}")
        tags = set()
        for tag in label:
            try:
                tags.add(self.one(tag))
            except ValueError:
                raise ValueError(f"unknown tag {plain(tag)!r}; tags are {self.classes}") from None
        return TagSet(sorted(tags, key=lambda c: self._position[canonical(c)]))

    def indicator(self, sets: Sequence[TagSet]) -> np.ndarray:
        """``(len(sets), n_tags)`` 0/1 matrix (uint8) of tag sets already coerced."""
        out = np.zeros((len(sets), len(self.classes)), dtype=np.uint8)
        for i, tags in enumerate(sets):
            for tag in tags:
                out[i, self._position[canonical(tag)]] = 1
        return out
