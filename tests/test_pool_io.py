"""Pools from tables: pandas, Arrow, Parquet, an embeddings column or a .npy beside a CSV."""
import numpy as np
import pandas as pd
import pytest

from al_widgets.core import Pool


def _frame(n=6, d=3):
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(n, d))
    return pd.DataFrame({"doc": [f"d{i}" for i in range(n)], "text": [f"text {i}" for i in range(n)],
                         "vec": [list(r) for r in emb], "label": ["a", None, "b", None, None, "a"]}), emb


def test_an_embedding_column_becomes_one_float32_matrix():
    df, emb = _frame()
    pool = Pool.from_frame(df, embedding_column="vec", id_column="doc", label_column="label", classes=["a", "b"])
    assert pool.X.dtype == np.float32 and pool.X.shape == (6, 3)
    np.testing.assert_allclose(pool.X, emb.astype(np.float32))
    assert list(pool.ids) == [f"d{i}" for i in range(6)]
    assert pool.labels[0] == "a" and pool.labels[1] is None and pool.labels[2] == "b"
    assert pool.item(3)["text"] == "text 3" and "vec" not in pool.item(3)  # shown as its table row


@pytest.mark.parametrize("cells, message", [
    ([[1.0, 2.0], [1.0], [0.0, 0.0]], "row 1 has 1 numbers, row 0 has 2"),
    ([[1.0, 2.0], None, [0.0, 0.0]], "row 1 is not a list of numbers"),
    ([[1.0, 2.0], "1,2", [0.0, 0.0]], "row 1 is not a list of numbers"),
    ([[1.0, 2.0], [np.nan, 1.0], [0.0, 0.0]], "row 1 has NaN or infinite"),
    ([[1.0, 2.0], ["x", 1.0], [0.0, 0.0]], "something other than numbers"),
])
def test_bad_embeddings_are_named_by_row(cells, message):
    with pytest.raises(ValueError, match=message):
        Pool.from_frame(pd.DataFrame({"vec": cells}), embedding_column="vec", classes=["a", "b"])


def test_numeric_columns_by_default_and_unknown_columns_named():
    df = pd.DataFrame({"x1": [1, 2, 3], "x2": [0.5, 0.1, 0.2], "id": ["p", "q", "r"], "y": [0, None, 1]})
    pool = Pool.from_frame(df, id_column="id", label_column="y", classes=[0, 1])
    assert pool.X.shape == (3, 2) and pool.X.dtype == np.float32  # the label column is not a feature
    with pytest.raises(ValueError, match="unknown column 'nope'"):
        Pool.from_frame(df, embedding_column="nope")
    with pytest.raises(ValueError, match="one of feature_columns, embedding_column or embeddings"):
        Pool.from_frame(df, feature_columns=["x1"], embeddings=np.zeros((3, 2)))


def test_parquet_and_arrow_round_trip(tmp_path):
    import pyarrow as pa
    df, emb = _frame()
    path = tmp_path / "docs.parquet"
    df.to_parquet(path)
    pool = Pool.from_parquet(path, embedding_column="vec", id_column="doc", classes=["a", "b"])
    np.testing.assert_allclose(pool.X, emb.astype(np.float32))
    assert pool.name == "docs.parquet"
    table = pa.Table.from_pandas(df)
    np.testing.assert_allclose(Pool.from_arrow(table, embedding_column="vec", classes=["a", "b"]).X, pool.X)
    with pytest.raises(FileNotFoundError, match="not found"):
        Pool.from_parquet(tmp_path / "missing.parquet", classes=["a", "b"])


def test_an_embeddings_matrix_must_match_the_rows():
    df, emb = _frame()
    pool = Pool.from_frame(df.drop(columns=["vec"]), embeddings=emb, classes=["a", "b"])
    assert pool.X.shape == (6, 3)
    with pytest.raises(ValueError, match=r"need \(6, d\)"):
        Pool.from_frame(df, embeddings=emb[:4], classes=["a", "b"])
