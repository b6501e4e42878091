"""Compute the app's UMAP layout into the shared cache before (or while) the first page loads.

``al-widgets serve``/``demo`` start this next to Voila: every kernel's map polls the cache
while its own UMAP runs and switches as soon as the layout lands, so the first expert does
not wait for numba to compile inside their kernel.  ``python -m al_widgets.app.precompute CONFIG``
"""
from __future__ import annotations

import sys
import time


def precompute(config_path: str) -> float:
    """Compute (or find) the layout for the app configured in ``config_path``; returns seconds spent."""
    import os
    os.environ["AL_WIDGETS_CONFIG"] = config_path
    from ..core.layout.embedding import DEFAULT_CACHE, PoolEmbedding
    from ..core.backends.base import cold_start_features
    from .config import AppConfig
    from .data import load
    t0 = time.perf_counter()
    config = AppConfig.from_env()
    data = load(config)
    features = cold_start_features(data.model, data.pool.X)
    if features is None:
        return 0.0
    emb = PoolEmbedding(features, data.pool.fingerprint(), config.cache_dir or DEFAULT_CACHE, random_state=0)
    if not emb.is_umap:
        emb.compute_umap(in_subprocess=False)
    return time.perf_counter() - t0


if __name__ == "__main__":
    import os
    import threading

    from ..core.layout.background import _exit_with_parent
    threading.Thread(target=_exit_with_parent, args=(os.getppid(), 1.0), daemon=True).start()  # no orphan
    seconds = precompute(sys.argv[1])
    print(f"al_widgets: map layout ready in the cache ({seconds:.1f} s)", flush=True)
