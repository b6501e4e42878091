"""Cold start: representative samples to label before any model can be trained."""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans, MiniBatchKMeans

from .base import check_k


def cold_start(features: Any, candidates: np.ndarray, k: int,
               random_state: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Representative samples for when no model can be trained yet.

    k-means on the candidates; the candidate nearest each centre is returned,
    scored by the fraction of candidates in its cluster (bigger clusters first).
    """
    k = check_k(k)
    candidates = np.asarray(candidates, dtype=int)
    if len(candidates) <= k:
        return candidates, np.ones(len(candidates))
    F = features[candidates]
    F = F.toarray() if sp.issparse(F) and F.shape[1] < 2000 else F
    Km = MiniBatchKMeans if len(candidates) > 5000 else KMeans
    km = Km(n_clusters=k, random_state=random_state, n_init=3).fit(F)
    dist = km.transform(F)
    sizes = np.bincount(km.labels_, minlength=k) / len(candidates)
    chosen, scores = [], []
    for c in np.argsort(-sizes, kind="stable"):
        for pos in np.argsort(dist[:, c], kind="stable"):
            if pos not in chosen:
                chosen.append(int(pos))
                scores.append(sizes[c])
                break
    return candidates[np.array(chosen)], np.array(scores)
