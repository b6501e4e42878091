"""Geometry on the 2-D layout of a pool: a sample spread over grid cells, points inside a lasso."""
from __future__ import annotations

from typing import Any

import numpy as np


def stratified_sample(cell: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """About ``size`` indices spread over the grid cells: the same number from every occupied cell
    (all of a cell's samples if it has fewer), so sparse regions are drawn too."""
    n = len(cell)
    if size >= n:
        return np.arange(n)
    order = np.lexsort((rng.random(n), cell))
    sorted_cells = cell[order]
    first = np.searchsorted(sorted_cells, sorted_cells, side="left")
    rank = np.arange(n) - first
    occupied = np.unique(sorted_cells)
    per_cell, keep = max(size // len(occupied), 1), None
    while per_cell >= 1:  # the largest per-cell quota that stays within size
        keep = order[rank < per_cell]
        if len(keep) <= size or per_cell == 1:
            break
        per_cell -= 1
    if len(keep) > size:
        keep = rng.choice(keep, size, replace=False)
    quota = size - len(keep)
    if quota > 0:  # fill up uniformly from the rest
        rest = np.setdiff1d(np.arange(n), keep, assume_unique=False)
        keep = np.concatenate([keep, rng.choice(rest, min(quota, len(rest)), replace=False)])
    return np.sort(keep)


def inside(xy: np.ndarray, selector: Any) -> np.ndarray:
    """Pool indices whose layout point lies in a plotly lasso (``xs``/``ys``) or box (``xrange``/``yrange``)."""
    x, y = xy[:, 0], xy[:, 1]
    if getattr(selector, "xrange", None) is not None and getattr(selector, "xs", None) is None:
        (x0, x1), (y0, y1) = sorted(selector.xrange), sorted(selector.yrange)
        return np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    px, py = np.asarray(selector.xs, dtype=float), np.asarray(selector.ys, dtype=float)
    box = (x >= px.min()) & (x <= px.max()) & (y >= py.min()) & (y <= py.max())
    cand = np.flatnonzero(box)
    cx, cy = x[cand], y[cand]
    odd = np.zeros(len(cand), dtype=bool)
    for i in range(len(px)):  # ray casting, one polygon edge at a time over all candidates
        x1, y1, x2, y2 = px[i - 1], py[i - 1], px[i], py[i]
        crosses = (y1 > cy) != (y2 > cy)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x1 + (cy - y1) * (x2 - x1) / (y2 - y1)
        odd ^= crosses & (cx < at)
    return cand[odd]

