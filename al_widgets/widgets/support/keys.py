"""Keyboard shortcuts for classes: one mapping, used both to print the key on a button and to act on it.

A label must never be stored under the wrong class, so the key a button shows and the class a key
writes come from the same dictionary.
"""
from __future__ import annotations

import string
from typing import Any, Sequence

SKIP_KEY = "s"
UNDO_KEY = "z"
_RESERVED = {SKIP_KEY, UNDO_KEY}
_FALLBACK = [*"123456789", "0", *(c for c in string.ascii_lowercase if c not in _RESERVED)]


def class_keys(classes: Sequence[Any] | None) -> dict[str, Any]:
    """Map keyboard keys to classes.

    When every class name is a single character (and none is a reserved key: ``s`` skip,
    ``z`` undo), the key is the class name itself: press ``5`` for class 5, ``0`` for class 0.
    Otherwise keys are given in order ``1``–``9``, ``0``, then letters (without ``s`` and
    ``z``); classes beyond the 34th get no key.

    Parameters
    ----------
    classes : sequence or None
        The pool's classes, in button order.  ``None`` (regression) gives no keys.

    Returns
    -------
    dict
        ``key -> class``, in button order.
    """
    if not classes:
        return {}
    names = [str(c) for c in classes]
    if all(len(n) == 1 for n in names) and len(set(names)) == len(names) and not _RESERVED & set(names):
        return {n: c for n, c in zip(names, classes)}
    return {k: c for k, c in zip(_FALLBACK, classes)}


def key_of(keys: dict[str, Any], cls: Any) -> str | None:
    """The key that writes ``cls``, or ``None``."""
    for k, c in keys.items():
        if c == cls and type(c) is type(cls):
            return k
    return None
