"""The map's UMAP layout: PCA first, UMAP in the background, cached on disk (slow: numba compiles)."""
import numpy as np
import pytest

from al_widgets.widgets import UncertaintyMap
from al_widgets.widgets.map import POOL


@pytest.mark.slow
def test_pca_first_then_umap_then_cache(make_session, tmp_path):
    s = make_session()
    s.retrain()
    cache = tmp_path / "umap-cache"
    m = UncertaintyMap(s, umap=True, cache_dir=cache)
    pca_x = np.array(m.figure.data[POOL].x)
    assert m.embedding.method == "pca" and "UMAP computing, 0 s so far" in m.layout_info.value  # PCA shown first
    m.embedding._thread.join(600)
    assert m.embedding.method == "umap" and m.embedding.error is None
    umap_x = np.array(m.figure.data[POOL].x)
    assert not np.allclose(umap_x, pca_x)
    np.testing.assert_allclose(umap_x, m.embedding.layout[:, 0])
    assert "UMAP ready (computed in" in m.layout_info.value
    assert list(cache.glob("umap-*.npy"))
    m2 = UncertaintyMap(s, umap=True, cache_dir=cache)  # a restarted kernel: instant, from cache
    assert m2.embedding.method == "umap (cached)" and m2.embedding._thread is None
    np.testing.assert_allclose(np.array(m2.figure.data[POOL].x), umap_x)

