"""The Dask path ranks exactly as the in-memory path, on a LocalCluster, with labels arriving between re-scores."""
import numpy as np
import pytest

pytest.importorskip("distributed")
import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from al_widgets.core.distributed import DaskActiveLearner, DaskPool, merge_top_k  # noqa: E402
from al_widgets.core.uncertainty import SCORES  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
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
