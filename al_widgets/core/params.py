"""One way to check a parameter, used by strategies and settings alike.

Built on scikit-learn's :func:`sklearn.utils.check_scalar`: an integer may be a Python ``int`` or
any numpy integer, a real number any of those or a float; ``True``/``False`` are never numbers.
Every failure is a ``ValueError`` naming the parameter, what it must be, and what it got.
"""
from __future__ import annotations

import numbers
from typing import Any

from sklearn.utils import check_scalar


def check_number(value: Any, name: str, kind: str = "int", low: float | None = None, high: float | None = None,
                 closed: str = "both", allow_none: bool = False, what: str | None = None) -> Any:
    """``value`` if it is an integer (``kind="int"``) or a real number (``kind="real"``) in the range.

    Parameters
    ----------
    value : the parameter's value
    name : its name, for the message
    kind : {"int", "real"}
    low, high : bounds (``None``: unbounded)
    closed : {"both", "left", "right", "neither"}
        Which bounds belong to the range.
    allow_none : bool
        ``None`` passes (an optional parameter).
    what : str, optional
        The range in words for the message (default: from the bounds).
    """
    if value is None and allow_none:
        return None
    words = what or _describe(kind, low, high, closed)
    target = numbers.Integral if kind == "int" else numbers.Real
    if isinstance(value, bool):
        raise ValueError(f"{name} must be {words}, got {value!r}")
    try:
        check_scalar(value, name, target, min_val=low, max_val=high, include_boundaries=closed)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {words}, got {value!r}") from None
    if kind == "real" and value != value:
        raise ValueError(f"{name} must be {words}, got {value!r}")
    return int(value) if kind == "int" else value


def check_positive_ints(obj: Any, *names: str) -> None:
    """Each of ``obj``'s attributes ``names`` is a positive integer (``ValueError`` naming the first that is not)."""
    for name in names:
        check_number(getattr(obj, name), name, "int", 1)


def check_k(k: Any) -> int:
    """``k``, the number of samples to query, as a positive ``int``."""
    return check_number(k, "k (the number of samples to query)", "int", 1)


def _describe(kind: str, low: float | None, high: float | None, closed: str) -> str:
    noun = "an integer" if kind == "int" else "a number"
    if kind == "int" and low == 1 and high is None:
        return "a positive integer"
    parts = []
    if low is not None:
        parts.append(f">= {low}" if closed in ("both", "left") else f"> {low}")
    if high is not None:
        parts.append(f"<= {high}" if closed in ("both", "right") else f"< {high}")
    return noun + (" " + " and ".join(parts) if parts else "")
