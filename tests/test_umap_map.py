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



@pytest.mark.slow
def test_umap_for_a_big_pool_is_fitted_on_a_sample_and_places_the_rest(tmp_path, monkeypatch):
    import umap
    from sklearn.datasets import make_blobs

    from al_widgets.core.layout.embedding import PoolEmbedding
    X, y = make_blobs(6_000, n_features=10, centers=6, random_state=0)
    emb = PoolEmbedding(X, "blobs-6000", tmp_path, random_state=0, fit_sample=4_500)
    full = PoolEmbedding(X, "blobs-6000", tmp_path, random_state=0, fit_sample=10_000)
    assert emb.cache_path != full.cache_path  # a sampled layout is cached under its own name
    fitted, transformed = [], []
    transform, fit_transform = umap.UMAP.transform, umap.UMAP.fit_transform
    monkeypatch.setattr(umap.UMAP, "transform", lambda self, A: transformed.append(len(A)) or transform(self, A))
    monkeypatch.setattr(umap.UMAP, "fit_transform",
                        lambda self, A, *a, **k: fitted.append(len(A)) or fit_transform(self, A, *a, **k))
    layout = emb.compute_umap()
    assert fitted == [4_500] and transformed == []  # fitted on the sample; the rest placed from its index
    assert layout.shape == (6_000, 2) and np.isfinite(layout).all()
    # the placed rows land among their own blob: the nearest blob centre in the layout is theirs
    centres = np.array([np.median(layout[y == c], axis=0) for c in range(6)])
    nearest = np.argmin(((layout[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    assert (nearest == y).mean() > 0.95
    again = PoolEmbedding(X, "blobs-6000", tmp_path, random_state=0, fit_sample=4_500)
    assert again.method == "umap (cached)"
    np.testing.assert_allclose(again.layout, layout)


def test_umap_fit_sample_is_checked(tmp_path):
    from al_widgets.core.layout.embedding import PoolEmbedding
    with pytest.raises(ValueError, match="fit_sample"):
        PoolEmbedding(np.zeros((20, 3)), "k", tmp_path, fit_sample=0)
