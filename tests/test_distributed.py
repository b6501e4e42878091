"""The Dask path ranks exactly as the in-memory path, on a LocalCluster, with labels arriving between re-scores."""
import pickle

import numpy as np
import pytest

pytest.importorskip("distributed")
import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from al_widgets.core.backends.dask_pool import DaskPool, merge_top_k  # noqa: E402
from al_widgets.core.session.dask_learner import DaskActiveLearner  # noqa: E402
from al_widgets.core.scoring.uncertainty import SCORES  # noqa: E402


@pytest.fixture(scope="module")
def client():
    # in-process and loopback only (the default HTTP endpoints listen on 0.0.0.0:8787 even "without" a dashboard)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="inproc",
                      dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(20_000, n_features=20, n_informative=8, n_classes=4, random_state=0)
    return X.astype(np.float32), y


def _in_memory_top(model, X, exclude, k, score):
    s = SCORES[score](model.predict_proba(X)).astype(np.float64)
    s[exclude] = -np.inf
    order = np.lexsort((np.arange(len(s)), -s))[:k]
    return order, s[order]


@pytest.mark.parametrize("strategy, score", [("margin", "margin"), ("entropy", "entropy")])
def test_dask_top_k_equals_in_memory_with_labels_arriving(client, data, strategy, score):
    X, y = data
    pool = DaskPool(da.from_array(X, chunks=(3_000, 5)), classes=[0, 1, 2, 3], client=client)
    assert pool.n == len(X) and len(pool.X.chunks[0]) == 7  # row blocks, all columns together
    learner = DaskActiveLearner(LogisticRegression(max_iter=500), pool, strategy, batch_size=15)
    rng = np.random.default_rng(0)
    first = rng.choice(len(X), 40, replace=False)
    learner.teach(first, y[first])
    for _ in range(3):  # labels arrive between re-scores
        top, scores = learner.retrain()
        labeled = np.array(sorted(learner.labels))
        ref = LogisticRegression(max_iter=500).fit(X[labeled], y[labeled])
        want, want_scores = _in_memory_top(ref, X, labeled, 15, score)
        assert top.tolist() == want.tolist()
        np.testing.assert_allclose(scores, want_scores, rtol=1e-5)
        assert not set(top.tolist()) & set(labeled.tolist())
        learner.teach(top, y[top])


def test_rows_come_back_in_the_order_asked(client, data):
    X, _ = data
    pool = DaskPool(da.from_array(X, chunks=(4_000, 20)), classes=[0, 1, 2, 3], client=client)
    idx = np.array([19_999, 3, 4_001, 3, 0])
    np.testing.assert_array_equal(pool.rows(idx), X[idx])
    with pytest.raises(IndexError, match="out of range"):
        pool.rows(np.array([20_000]))


def test_parquet_pool(client, data, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    X, y = data
    cols = [f"f{i}" for i in range(X.shape[1])]
    pd.DataFrame(X[:5000], columns=cols).to_parquet(tmp_path / "pool.parquet")
    pool = DaskPool.from_parquet(str(tmp_path / "pool.parquet"), cols, classes=[0, 1, 2, 3], client=client)
    np.testing.assert_array_equal(pool.rows(np.array([0, 4999])), X[[0, 4999]])


def test_clear_errors(client, data):
    X, _ = data
    pool = DaskPool(da.from_array(X[:1000], chunks=(500, 20)), classes=[0, 1, 2, 3], client=client)
    with pytest.raises(ValueError, match="whole pool in one place"):
        DaskActiveLearner(LogisticRegression(), pool, "bald")
    from sklearn.svm import LinearSVC
    with pytest.raises(TypeError, match="predict_proba"):
        DaskActiveLearner(LinearSVC(), pool)
    learner = DaskActiveLearner(LogisticRegression(), pool)
    with pytest.raises(ValueError, match="unknown class"):
        learner.teach([1], [7])
    learner.teach([1, 2], [0, 0])
    with pytest.raises(ValueError, match="two classes"):
        learner.retrain()
    with pytest.raises(TypeError, match="dask.array"):
        DaskPool(X, classes=[0, 1], client=client)


def test_merge_breaks_ties_by_index():
    parts = [(np.array([5, 9]), np.array([1.0, 0.5])), (np.array([2, 7]), np.array([1.0, 0.9]))]
    idx, sc = merge_top_k(parts, 3)
    assert idx.tolist() == [2, 5, 7] and sc.tolist() == [1.0, 1.0, 0.9]


def test_excluded_samples_never_come_back(client, data):
    X, y = data
    pool = DaskPool(da.from_array(X, chunks=(3_000, 20)), classes=[0, 1, 2, 3], client=client)
    model = LogisticRegression(max_iter=500).fit(X[:200], y[:200])
    best, _ = pool.top_k(model, 10, np.array([], dtype=np.int64))
    again, _ = pool.top_k(model, 10, best[:5])
    assert not set(again.tolist()) & set(best[:5].tolist())
    assert again[:5].tolist() == best[5:].tolist()


def _same_ranking(a_idx, a_sc, b_idx, b_sc, atol=1e-5):
    """Equal scores, and equal indices wherever a score is not within ``atol`` of another (float32 ties)."""
    np.testing.assert_allclose(a_sc, b_sc, atol=atol)
    for i, s in enumerate(a_sc):
        near = np.abs(np.asarray(a_sc) - s) < atol
        if near.sum() == 1:
            assert a_idx[i] == b_idx[i], (i, a_idx, b_idx)
        else:
            assert set(np.asarray(a_idx)[near]) & set(b_idx)


def test_the_session_on_a_dask_pool_ranks_like_the_in_memory_session(client, data, tmp_path):
    from al_widgets.core import ActiveLearningSession, Pool
    from al_widgets.core.backends.dask_pool import TopScores
    X, y = data
    dpool = Pool.from_dask(da.from_array(X, chunks=(3_000, 5)), classes=[0, 1, 2, 3], client=client)
    kw = dict(background=False, random_state=0, batch_size=10)
    s_d = ActiveLearningSession(LogisticRegression(max_iter=500), dpool, "margin", store=tmp_path / "d.db", **kw)
    s_m = ActiveLearningSession(LogisticRegression(max_iter=500), Pool(X, classes=[0, 1, 2, 3]), "margin",
                                store=tmp_path / "m.db", **kw)
    s_d.retrain()  # no labels yet: the cold start clusters a sample fetched from the cluster
    first = s_d.next_item()
    assert s_d.result_.cold_start and 0 <= first.index < len(X)
    np.testing.assert_allclose(dpool.item(first.index), X[first.index])
    seeds = np.random.default_rng(0).choice(len(X), 30, replace=False)
    for i in seeds:
        s_d.submit(int(i), int(y[i]))
        s_m.submit(int(i), int(y[i]))
    for _ in range(2):  # labels arrive between re-scores: the top of both queues stays the same
        d, m = s_d.result_, s_m.result_
        assert not d.cold_start and d.n_labels == m.n_labels
        _same_ranking(d.order[:10], d.order_scores[:10], m.order[:10], m.order_scores[:10])
        assert isinstance(d.scores, TopScores) and d.prediction is None  # no per-sample arrays in the kernel
        assert d.scores[int(d.order[0])] == pytest.approx(d.order_scores[0]) and np.isnan(d.scores[int(seeds[0])])
        for i in d.order[:5]:
            s_d.submit(int(i), int(y[i]))
            s_m.submit(int(i), int(y[i]))
    assert s_d.curve.last["n_labels"] == 40 and 0 < s_d.curve.last["mean_uncertainty"] < 1
    shown = s_d.next_item()  # still the cold-start sample on screen; once labeled, the cluster's top one
    s_d.submit(shown.index, int(y[shown.index]))
    assert s_d.next_item().index == int(s_d.result_.order[0])
    s_d.close()
    s_m.close()


def test_a_dask_pool_refuses_strategies_that_need_the_whole_pool(client, data, tmp_path):
    from al_widgets.core import ActiveLearningSession, Pool
    X, _ = data
    dpool = Pool.from_dask(da.from_array(X[:2000], chunks=(1_000, 20)), classes=[0, 1, 2, 3], client=client)
    with pytest.raises(ValueError, match="'badge' needs the whole pool in one place"):
        ActiveLearningSession(LogisticRegression(), dpool, "badge", store=tmp_path / "s.db", background=False)
    s = ActiveLearningSession(LogisticRegression(), dpool, "entropy", store=tmp_path / "s.db", background=False)
    with pytest.raises(ValueError, match="'coreset' needs the whole pool"):
        s.set_strategy("coreset")
    assert s.strategy.name == "entropy"
    s.close()


def test_the_map_of_a_dask_pool_colours_from_the_cluster_and_lassoes_pool_ids(client, data, tmp_path):
    import types

    from al_widgets.core import ActiveLearningSession, Pool
    from al_widgets.core.scoring.uncertainty import entropy
    from al_widgets.widgets.map import DENSITY, GRID, POOL, UncertaintyMap
    X, y = data
    dpool = Pool.from_dask(da.from_array(X, chunks=(3_000, 5)), classes=[0, 1, 2, 3], client=client)
    s = ActiveLearningSession(LogisticRegression(max_iter=500), dpool, "margin", store=tmp_path / "d.db",
                              background=False, random_state=0, retrain_every=10**9)
    for i in np.random.default_rng(1).choice(len(X), 30, replace=False):
        s.submit(int(i), int(y[i]))
    m = UncertaintyMap(s, umap=False, sample_size=2_000)
    xy = m.embedding.layout
    assert m.big and xy.shape == (len(X), 2) and xy.dtype == np.float32 and len(m.figure.data[POOL].x) == 2_000
    s.retrain()  # the first re-score since the map asked: per-cell sums and the markers' values come back
    ent = entropy(s.result_.model.predict_proba(X)).astype(np.float64)
    labeled = np.zeros(len(X), dtype=bool)
    labeled[list(s.labels)] = True
    ent[labeled] = np.nan
    marker = np.asarray(m.figure.data[POOL].marker.color, dtype=float)
    np.testing.assert_allclose(marker, ent[m.shown], atol=2e-5)  # the markers: their own entropy
    free = ~labeled
    total = np.bincount(m._cell[free], weights=ent[free], minlength=GRID * GRID)
    count = np.bincount(m._cell[free], minlength=GRID * GRID)
    want = np.where(count > 0, total / np.maximum(count, 1), np.nan).reshape(GRID, GRID).T
    np.testing.assert_allclose(np.asarray(m.figure.data[DENSITY].z, dtype=float), want, atol=2e-5)
    cx, cy = np.median(xy, axis=0)
    lasso = types.SimpleNamespace(xs=[cx - 0.5, cx + 0.5, cx + 0.5, cx - 0.5], ys=[cy - 0.5, cy - 0.5, cy + 0.5, cy + 0.5])
    m._on_selection(m.figure.data[POOL], types.SimpleNamespace(point_inds=[0]), lasso)
    inside_box = np.flatnonzero((np.abs(xy[:, 0] - cx) <= 0.5) & (np.abs(xy[:, 1] - cy) <= 0.5))
    assert sorted(m.bulk.selected) == sorted(set(inside_box.tolist()) - set(s.labels))
    m.detach()
    s.close()


def test_the_dashboard_labels_a_dask_pool_from_its_buttons(client, data, tmp_path):
    from al_widgets.core import ActiveLearningSession, LabelStore, Pool
    from al_widgets.widgets import ALDashboard
    from al_widgets.widgets.map import LABELED
    X, y = data
    dpool = Pool.from_dask(da.from_array(X, chunks=(4_000, 20)), classes=[0, 1, 2, 3], client=client)
    s = ActiveLearningSession(LogisticRegression(max_iter=300), dpool, "entropy", store=tmp_path / "d.db",
                              background=True, random_state=0)
    dash = ALDashboard(s, umap=False)
    panel = dash.labeling
    given = {}
    for _ in range(8):  # click the true class of whatever the panel shows
        item = panel.item
        panel.class_buttons[int(y[item.index])].click()
        given[item.sample_id] = int(y[item.index])
        assert s.wait_idle(120)
    assert LabelStore(tmp_path / "d.db", readonly=True).labels() == given
    assert not s.result_.cold_start and s.result_.n_labels == 8  # ranked on the cluster
    dash.map.request_redraw()
    assert len(dash.map.figure.data[LABELED].x) == 8  # the labels on the map, from the cluster's layout
    # "given label" paints the given labels (the mode was tested under another name: all grey)
    dash.map.color_by.value = "given label"
    colours = np.asarray(dash.map.figure.data[0].marker.color, dtype=float)
    shown = list(dash.map.shown)
    want = np.zeros(len(shown))
    for sid, label in given.items():
        if int(sid) in shown:
            want[shown.index(int(sid))] = label + 1  # 0: not labeled, then the classes in order
    np.testing.assert_array_equal(colours, want)
    assert dash.map.figure.data[0].marker.colorbar.ticktext[0] == "not labeled"
    dash.detach()
    s.close()


@pytest.mark.slow
def test_umap_of_a_dask_pool_is_fitted_on_a_sample_and_placed_on_the_cluster(client, data, tmp_path):
    from al_widgets.core import ActiveLearningSession, Pool
    from al_widgets.core.layout.dask_umap import fit_sample_umap, place_block
    from al_widgets.core.layout.embedding import ClusterLayout
    from al_widgets.core.scoring.uncertainty import entropy
    from al_widgets.widgets.map import DENSITY, GRID, POOL, UncertaintyMap
    X, y = data
    X, y = X[:6_000], y[:6_000]
    dpool = Pool.from_dask(da.from_array(X, chunks=(1_500, 20)), classes=[0, 1, 2, 3], client=client)
    s = ActiveLearningSession(LogisticRegression(max_iter=500), dpool, "margin", store=tmp_path / "d.db",
                              background=False, random_state=0, retrain_every=10**9)
    for i in np.random.default_rng(1).choice(len(X), 30, replace=False):
        s.submit(int(i), int(y[i]))
    cache = tmp_path / "cache"
    m = UncertaintyMap(s, umap=False, sample_size=1_000, cache_dir=cache)
    m.embedding.fit_sample = 4_500  # UMAP fitted on 4500 of the 6000 rows (with a search index), the rest placed
    pca = m.embedding.layout.copy()
    assert m.embedding.method == "pca" and "PCA" in m.embedding.describe()
    thread = m.embedding.start_umap(m._on_umap)
    thread.join(600)
    emb = m.embedding
    assert emb.method == "umap" and emb.error is None, emb.error
    xy = emb.layout
    assert xy.shape == (6_000, 2) and xy.dtype == np.float32 and np.isfinite(xy).all()
    assert not np.allclose(xy, pca)
    np.testing.assert_allclose(np.asarray(m.figure.data[POOL].x, dtype=float), xy[m.shown, 0], rtol=1e-6)
    # the same computation by hand: the sample's own UMAP positions, the other rows placed among them
    rows = np.sort(np.random.default_rng(0).choice(6_000, 4_500, replace=False))
    fitted = fit_sample_umap(X[rows], rows, 15, 0.1, 0)
    np.testing.assert_allclose(xy[rows], fitted["embedding"], atol=1e-4)
    where = {0: {"array-location": [(1_500, 3_000), (0, 20)]}}
    block = place_block(X[1_500:3_000], fitted, where)
    np.testing.assert_allclose(xy[1_500:3_000], block, atol=1e-3)
    # the fitted pair travels between worker processes: its index is built before it is shared
    assert hasattr(fitted["reducer"]._knn_search_index, "_search_graph")
    np.testing.assert_allclose(place_block(X[1_500:3_000], pickle.loads(pickle.dumps(fitted)), where), block)
    # samples of one class sit closer to each other than to the rest (a layout, not noise)
    centre = np.array([xy[y == c].mean(axis=0) for c in range(4)])
    spread = np.mean([np.linalg.norm(xy[y == c] - centre[c], axis=1).mean() for c in range(4)])
    assert spread < np.linalg.norm(xy - xy.mean(axis=0), axis=1).mean()
    # the cluster sums the density grid over the new layout's cells
    s.retrain()
    ent = entropy(s.result_.model.predict_proba(X)).astype(np.float64)
    free = np.ones(len(X), dtype=bool)
    free[list(s.labels)] = False
    cells = m._cell
    assert np.array_equal(cells, _cells_of(xy))
    total = np.bincount(cells[free], weights=ent[free], minlength=GRID * GRID)
    count = np.bincount(cells[free], minlength=GRID * GRID)
    want = np.where(count > 0, total / np.maximum(count, 1), np.nan).reshape(GRID, GRID).T
    np.testing.assert_allclose(np.asarray(m.figure.data[DENSITY].z, dtype=float), want, atol=2e-5)
    # a restarted kernel reads the layout from the cache and sends it to the cluster
    dpool._xy = None
    again = ClusterLayout(dpool, 0, cache, fit_sample=4_500)
    assert again.method == "umap (cached)" and again.computing is False
    np.testing.assert_array_equal(again.layout, xy)
    np.testing.assert_allclose(np.asarray(dpool._xy.compute()), xy)
    m.detach()
    s.close()


def _cells_of(xy):
    from al_widgets.widgets.map import GRID
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    cells = np.minimum(((xy - lo) / span * GRID).astype(np.int32), GRID - 1)
    return cells[:, 0] * GRID + cells[:, 1]


def test_one_retrain_for_every_pool(client, data):
    """Issue 21: in-memory and Dask pools (and DaskActiveLearner) go through one ``retrain``; the Dask
    backend ranks by the same margin as the in-memory one."""
    import inspect

    from al_widgets.core import Pool, SessionSettings, get_strategy
    from al_widgets.core.backends import dask_pool
    from al_widgets.core.session.training import InMemoryBackend, retrain
    X, y = data
    X, y = X[:3_000], y[:3_000]
    labeled = np.arange(0, 3_000, 100)
    settings = SessionSettings(batch_size=5, queue_length=20, incremental=False, random_state=0)
    model = LogisticRegression(max_iter=500)
    mem = retrain(model, None, get_strategy("margin"), InMemoryBackend(Pool(X, classes=[0, 1, 2, 3])),
                  labeled, y[labeled], settings)
    dpool = Pool.from_dask(da.from_array(X, chunks=(1_000, 20)), classes=[0, 1, 2, 3], client=client)
    dsk = retrain(model, None, get_strategy("margin"), dpool.backend(), labeled, y[labeled], settings)
    np.testing.assert_array_equal(mem.order[:20], dsk.order[:20])
    np.testing.assert_allclose(mem.order_scores[:20], dsk.order_scores[:20], atol=1e-5)
    assert dsk.cluster is not None and mem.cluster is None
    assert not hasattr(dask_pool, "distributed_retrain")  # the second path is gone
    assert "retrain(" in inspect.getsource(DaskActiveLearner.retrain)  # and the third one's loop


def test_texts_on_a_cluster_are_embedded_partition_by_partition(client, tmp_path):
    """Issue 22: a Dask pool of texts is embedded by the workers; the rows equal an in-memory embed."""
    pytest.importorskip("wordllama")
    import pandas as pd

    from al_widgets.core.data.embed import embed
    texts = [f"{w} report number {i}" for i, w in enumerate(["storm", "goal", "bank", "recipe"] * 50)]
    pd.DataFrame({"text": texts}).to_parquet(tmp_path / "t.parquet", row_group_size=50)
    pool = DaskPool.from_text_parquet(str(tmp_path / "t.parquet"), "text", ["weather", "sport", "money", "food"],
                                      client, blocksize=None)
    assert pool.n == 200 and pool.X.shape == (200, 256)
    np.testing.assert_allclose(pool.X.compute(), embed(texts, cache_dir=None), atol=1e-6)
    learner = DaskActiveLearner(LogisticRegression(max_iter=500), pool)
    learner.teach([0, 1, 2, 3], ["weather", "sport", "money", "food"])
    idx, scores = learner.retrain()
    assert len(idx) == 10 and np.all(np.diff(scores) <= 1e-9)


def _parquet(tmp_path, X, labels=None):
    import pandas as pd
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    df.insert(0, "row_id", np.arange(len(df)))  # an id column: never a feature
    df["label"] = labels
    path = tmp_path / "big.parquet"
    df.to_parquet(path)
    return path


def test_the_app_serves_a_parquet_pool_held_by_the_cluster(client, data, tmp_path):
    """Issue 25: `serve big.parquet --dask ADDRESS`: the pages' kernels build a DaskPool on that cluster."""
    from al_widgets.app import AppConfig, build_session, load
    from al_widgets.core import LabelStore
    from al_widgets.widgets import ALDashboard
    X, y = data
    path = _parquet(tmp_path, X[:6000])
    cfg = AppConfig(dataset=str(path), dask=client.scheduler.address, classes=["0", "1", "2", "3"],
                    id_column="row_id", label_column="label", store=str(tmp_path / "s.sqlite"))
    app = load(cfg)
    assert app.pool.is_distributed and app.pool.n == 6000 and app.pool.X.shape[1] == 20  # no id, no label
    assert "held by a Dask cluster" in app.features
    s = build_session(cfg, app, annotator="ana", background=True)
    assert s.strategy.name == "margin"  # the app's default needs the whole pool: one that ranks per sample
    dash = ALDashboard(s, umap=False)
    given = {}
    for _ in range(6):
        item = dash.labeling.item
        dash.labeling.class_buttons[int(y[item.index])].click()
        given[item.sample_id] = str(y[item.index])
        assert s.wait_idle(120)
    assert LabelStore(cfg.store, readonly=True).labels() == given
    assert not s.result_.cold_start and s.result_.n_labels == 6
    dash.map.request_redraw()
    assert len(dash.map.figure.data[0].x) > 0  # the map, laid out on the cluster
    dash.detach()
    s.close()


def test_serve_dask_local_checks_on_its_own_cluster_and_refuses_what_it_cannot_serve(data, tmp_path, capsys):
    from al_widgets.cli import main
    X, _ = data
    path = _parquet(tmp_path, X[:2000])
    assert main(["serve", str(path), "--dask", "local", "--classes", "a,b", "--id-column", "row_id",
                 "--label-column", "label", "--check"]) == 0
    out = capsys.readouterr().out
    assert "ok: 2000 samples, classes ['a', 'b']" in out and "20 numeric columns, held by a Dask cluster" in out
    assert main(["serve", str(path), "--dask", "local", "--check"]) == 2
    assert "--dask needs --classes" in capsys.readouterr().err
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n1,2\n")
    assert main(["serve", str(csv), "--dask", "local", "--classes", "a,b", "--check"]) == 2
    assert "--dask reads Parquet" in capsys.readouterr().err


def test_the_local_cluster_of_serve_listens_on_the_loopback_only():
    import psutil
    from al_widgets.app.cluster import start_local
    cluster = start_local(workers=1)
    try:
        me = psutil.Process()
        listening = [c.laddr for p in (me, *me.children(recursive=True))
                     for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        assert len(listening) >= 3  # the scheduler, its HTTP endpoints, the worker (and its nanny)
        assert {a.ip for a in listening} == {"127.0.0.1"}, listening
    finally:
        cluster.close()


def test_zooming_the_map_of_a_dask_pool_shows_every_sample_in_view_coloured(client, data, tmp_path):
    """Issue 25: level of detail on a cluster's pool: the window's own samples (the layout is in the
    kernel), coloured at once by their rows scored in the kernel, tracked by the cluster afterwards."""
    from al_widgets.core import ActiveLearningSession, Pool
    from al_widgets.core.scoring.uncertainty import entropy
    from al_widgets.widgets.map import POOL, UncertaintyMap
    X, y = data
    dpool = Pool.from_dask(da.from_array(X, chunks=(3_000, 20)), classes=[0, 1, 2, 3], client=client)
    s = ActiveLearningSession(LogisticRegression(max_iter=500), dpool, "margin", background=False, random_state=0,
                              retrain_every=10**9)
    for i in np.random.default_rng(2).choice(len(X), 30, replace=False):
        s.submit(int(i), int(y[i]))
    m = UncertaintyMap(s, umap=False, sample_size=2_000, view_budget=500)
    s.retrain()
    xy = m.embedding.layout
    overview = set(m.shown.tolist())
    (x0, x1), (y0, y1) = np.quantile(xy[:, 0], [0.45, 0.5]), np.quantile(xy[:, 1], [0.45, 0.5])
    with m.figure.batch_update():
        m.figure.layout.xaxis.range, m.figure.layout.yaxis.range = (x0, x1), (y0, y1)
    inside = np.flatnonzero((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
    assert 0 < len(inside) <= 500
    np.testing.assert_array_equal(m.shown, inside)  # every sample of the window, nothing else
    assert set(inside.tolist()) - overview  # samples the overview never drew
    want = entropy(s.result_.model.predict_proba(X[inside])).astype(np.float64)
    want[np.isin(inside, list(s.labels))] = np.nan
    np.testing.assert_allclose(np.asarray(m.figure.data[POOL].marker.color, dtype=float), want, atol=2e-5)
    s.retrain(force=True)  # the next re-score: the cluster scores the zoomed markers itself
    tracked = s.result_.cluster.tracked
    assert set(np.asarray(tracked[0]).tolist()) == set(inside.tolist())
    m.detach()
    s.close()
