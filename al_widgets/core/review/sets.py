"""Agreement on sets of tags (multi-label pools): MASI distance, Krippendorff's alpha over it, per-tag kappa.

MASI (Passonneau 2006, "Measuring agreement on set-valued items") weighs the Jaccard overlap of
two sets by how they relate: ``1 - J * M`` with ``M`` = 1 for equal sets, 2/3 when one contains
the other, 1/3 when they only overlap, 0 when disjoint.  Krippendorff's alpha takes any distance:
``1 - D_o / D_e`` with the observed disagreement within samples and the expected one between all
values given.
"""
from __future__ import annotations

import itertools
from typing import Any, Sequence

import numpy as np
import pandas as pd


def masi_distance(a: Any, b: Any) -> float:
    """MASI distance of two tag sets (0 for equal sets, two empty sets included; 1 for disjoint ones)."""
    a, b = set(a), set(b)
    if a == b:
        return 0.0
    union = a | b
    jaccard = len(a & b) / len(union)
    monotonicity = 2 / 3 if (a <= b or b <= a) else (1 / 3 if a & b else 0.0)
    return 1.0 - jaccard * monotonicity


def alpha(units: Sequence[Sequence[Any]], distance: Any = masi_distance) -> float:
    """Krippendorff's alpha of ``units`` (each the values the annotators gave one sample; samples with
    fewer than two values are not pairable and are left out) under ``distance``.

    ``1.0`` when every value given is the same (no disagreement is possible to measure), NaN when no
    sample has two values.
    """
    units = [list(u) for u in units if len(u) >= 2]
    values = [v for u in units for v in u]
    n = len(values)
    if n == 0:
        return float("nan")
    observed = sum(sum(distance(x, y) for x, y in itertools.permutations(u, 2)) / (len(u) - 1)
                   for u in units) / n
    expected = sum(distance(x, y) for x, y in itertools.permutations(values, 2)) / (n * (n - 1))
    return 1.0 if expected == 0 else 1.0 - observed / expected


def tag_kappas(wide: pd.DataFrame, tags: Sequence[Any]) -> pd.Series:
    """Per tag: Cohen's kappa of "carries the tag" between annotators, averaged over every pair of
    annotators with shared samples (``wide``: samples x annotators of tag lists, NaN where not given).

    A pair that agrees on every shared sample about a tag counts 1.0 (kappa itself is undefined there).
    """
    from sklearn.metrics import cohen_kappa_score
    out = {}
    for tag in tags:
        kappas = []
        for a, b in itertools.combinations(wide.columns, 2):
            both = wide[[a, b]].dropna()
            if not len(both):
                continue
            x = np.array([tag in v for v in both[a]])
            y = np.array([tag in v for v in both[b]])
            kappas.append(1.0 if np.array_equal(x, y) else float(cohen_kappa_score(x, y)))
        out[tag] = float(np.mean(kappas)) if kappas else float("nan")
    return pd.Series(out, name="kappa", dtype=float)
