import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from al_widgets.core import Pool


def test_ids_default_and_from_dataframe():
    assert Pool(np.zeros((3, 2)), classes=["a", "b"]).ids == ["0", "1", "2"]
    df = pd.DataFrame({"x": [1.0, 2.0]}, index=["u", "v"])
    pool = Pool(df, classes=["a", "b"])
    assert pool.ids == ["u", "v"] and pool.index_of("v") == 1


@pytest.mark.parametrize("kwargs, match", [
    (dict(X=np.zeros((3, 2)), ids=[1, 2], classes=[0, 1]), "length mismatch: ids"),
    (dict(X=np.zeros((3, 2)), labels=[0, 1], classes=[0, 1]), "length mismatch: labels"),
    (dict(X=np.array([[0.0], [np.nan]]), classes=[0, 1]), "NaN or inf"),
    (dict(X=np.array([[0.0], [np.inf]]), classes=[0, 1]), "NaN or inf"),
    (dict(X=np.zeros((3, 1)), ids=["a", "b", "a"], classes=[0, 1]), "duplicate sample id 'a'"),
    (dict(X=np.zeros((2, 1)), labels=[0, 7], classes=[0, 1]), "unknown class 7"),
    (dict(X=np.zeros((0, 2)), classes=[0, 1]), "pool is empty"),
    (dict(X=np.zeros((2, 1))), "classes must be given"),
    (dict(X=np.zeros((2, 1)), classes=[1]), "at least two classes"),
    (dict(X=np.zeros((2, 1)), task="clustering"), "task must be"),
])
def test_validation_errors_name_the_problem(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Pool(**kwargs)


def test_nan_in_dataframe_and_sparse_are_caught():
    with pytest.raises(ValueError, match="NaN"):
        Pool(pd.DataFrame({"a": [1.0, None], "t": ["x", "y"]}), classes=[0, 1])
    with pytest.raises(ValueError, match="NaN"):
        Pool(sp.csr_matrix(np.array([[0.0, np.nan]])), classes=[0, 1])


def test_missing_labels_and_raw_text():
    pool = Pool(["good film", "bad film", "meh"], labels=["pos", np.nan, None], classes=["pos", "neg"])
    assert pool.labels.tolist() == ["pos", None, None]
    assert pool.item(1) == "bad film"
    assert pool.check_label("neg") == "neg"
    with pytest.raises(ValueError, match="unknown class 'maybe'"):
        pool.check_label("maybe")


def test_regression_labels_are_checked():
    pool = Pool(np.zeros((3, 1)), labels=[1.5, None, 2], task="regression")
    assert pool.classes is None
    assert pool.check_label(np.float32(3.0)) == 3.0
    with pytest.raises(ValueError, match="must be a number"):
        pool.check_label("high")
    with pytest.raises(ValueError, match="finite"):
        pool.check_label(float("inf"))


def test_fingerprint_depends_on_data():
    a = Pool(np.arange(6.0).reshape(3, 2), classes=[0, 1]).fingerprint()
    b = Pool(np.arange(6.0).reshape(3, 2), classes=[0, 1]).fingerprint()
    c = Pool(np.arange(6.0).reshape(3, 2) + 1, classes=[0, 1]).fingerprint()
    assert a == b != c


def test_default_ids_are_a_range_that_behaves_like_the_list_of_strings():
    from al_widgets.core.data.pool import RangeIds
    X = np.arange(20.0).reshape(10, 2)
    default, explicit = Pool(X, classes=[0, 1]), Pool(X, ids=[str(i) for i in range(10)], classes=[0, 1])
    assert isinstance(default.ids, RangeIds) and list(default.ids) == explicit.ids
    assert default.identity() == explicit.identity()  # stores written before keep working
    assert default.ids[3] == "3" and default.ids[-1] == "9" and default.ids[2:4] == ["2", "3"]
    assert default.index_of("7") == 7 and default.index_of(7) == 7
    for bad in ("07", "-1", "10", "x", "٣"):  # only the canonical spelling of an id in range
        with pytest.raises(KeyError):
            default.index_of(bad)
        assert not default.has_id(bad)
    with pytest.raises(IndexError):
        default.ids[10]
