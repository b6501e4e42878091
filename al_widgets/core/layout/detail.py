"""Level of detail for a map of a big pool: the pool's points inside a zoomed window.

A map of a million samples draws a stratified sample and a density layer; once zoomed in, the
window holds few enough samples to draw them all, so the view asks for them here.  Pure numpy: a
window over a million 2-D points is two comparisons per point and one partial sort.
"""
from __future__ import annotations

import numpy as np


def points_in_view(xy: np.ndarray, x_range: tuple[float, float], y_range: tuple[float, float], budget: int,
                   priority: np.ndarray | None = None) -> np.ndarray:
    """Pool indices of the points of ``xy`` inside the window, at most ``budget`` of them.

    Parameters
    ----------
    xy : (n, 2) array
        The map's layout.
    x_range, y_range : (low, high)
        The window (bounds included; reversed bounds are accepted).
    budget : int
        The most points returned.  When more are inside, those with the highest ``priority``
        (e.g. the uncertainty) come first, ties by index; without ``priority``, an even spread
        (every k-th point inside).
    priority : (n,) array, optional

    Returns
    -------
    indices : sorted int64 array
    """
    if int(budget) < 1:
        raise ValueError(f"budget must be a positive integer, got {budget!r}")
    (x0, x1), (y0, y1) = sorted(map(float, x_range)), sorted(map(float, y_range))
    x, y = xy[:, 0], xy[:, 1]
    inside = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    if len(inside) <= budget:
        return inside.astype(np.int64)
    if priority is None:
        pick = np.linspace(0, len(inside) - 1, int(budget)).round().astype(np.int64)
        return inside[np.unique(pick)].astype(np.int64)
    p = np.nan_to_num(np.asarray(priority, dtype=np.float64)[inside], nan=-np.inf)
    # the budget highest, ties broken by pool index (a stable order, the same answer every time)
    order = np.lexsort((inside, -p))[: int(budget)]
    return np.sort(inside[order]).astype(np.int64)


def covers(x_range: tuple[float, float] | None, y_range: tuple[float, float] | None, low: np.ndarray,
           high: np.ndarray, share: float = 0.9) -> bool:
    """True when the window shows (almost) the whole layout: no detail is needed."""
    if x_range is None or y_range is None:
        return True
    span = np.where(high > low, high - low, 1.0)
    wx = abs(float(x_range[1]) - float(x_range[0])) / span[0]
    wy = abs(float(y_range[1]) - float(y_range[0])) / span[1]
    return wx >= share and wy >= share
