"""The served table once per server (issue 25): the first load writes the features to a cache every
later kernel maps; the pool is the same (identity, rows, labels); a changed file is read again."""
import numpy as np
import pandas as pd
import pytest

from al_widgets.app import AppConfig, load
from al_widgets.app import data as app_data


def _memmapped(frame: pd.DataFrame) -> bool:
    base = frame.to_numpy()
    while base is not None:
        if isinstance(base, np.memmap):
            return True
        base = getattr(base, "base", None)
    return False


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    df["label"] = None
    df.loc[:5, "label"] = ["x", "y"] * 3
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    return path


def test_a_second_kernel_maps_the_features_instead_of_parsing_the_file(table, tmp_path, monkeypatch):
    cfg = AppConfig(dataset=str(table), label_column="label", cache_dir=str(tmp_path / "cache"))
    first = load(cfg)
    assert not _memmapped(first.pool.X)
    monkeypatch.setattr(app_data, "_read_csv", lambda path: (_ for _ in ()).throw(AssertionError("parsed again")))
    second = load(cfg)
    assert _memmapped(second.pool.X)  # the operating system shares these pages between kernels
    assert second.pool.identity() == first.pool.identity()  # the same store opens
    assert list(second.pool.ids) == list(first.pool.ids) and second.pool.classes == ["x", "y"]
    assert second.pool.labels.tolist() == first.pool.labels.tolist()
    pd.testing.assert_series_equal(second.pool.item(7), first.pool.item(7))
    np.testing.assert_array_equal(second.pool.X.to_numpy(), first.pool.X.to_numpy())


def test_a_changed_file_or_other_options_are_read_again(table, tmp_path):
    cfg = AppConfig(dataset=str(table), label_column="label", cache_dir=str(tmp_path / "cache"))
    load(cfg)
    df = pd.read_csv(table)
    df.loc[10, "a"] = 99.0
    df.to_csv(table, index=False)
    again = load(cfg)
    assert again.pool.X["a"].iloc[10] == 99.0  # not the stale cache
    other = load(AppConfig(dataset=str(table), label_column="label", classes=["x", "y", "z"],
                           cache_dir=str(tmp_path / "cache")))
    assert other.pool.classes == ["x", "y", "z"]
    assert len(list((tmp_path / "cache" / "datasets").iterdir())) == 3


@pytest.mark.parametrize("extra", ["note", "count"])
def test_tables_with_more_to_show_or_mixed_types_are_not_cached(table, tmp_path, extra):
    df = pd.read_csv(table)
    df[extra] = [f"row {i}" for i in range(len(df))] if extra == "note" else np.arange(len(df))
    df.to_csv(table, index=False)
    data = load(AppConfig(dataset=str(table), label_column="label", cache_dir=str(tmp_path / "cache")))
    assert not (tmp_path / "cache" / "datasets").exists()
    if extra == "note":
        assert data.pool.item(3)["note"] == "row 3"  # the whole row is still shown


def test_a_warm_kernel_prepares_the_data_and_the_page_starts_from_it_unless_it_changed(table, tmp_path,
                                                                                          monkeypatch):
    import al_widgets.app as app
    cfg = AppConfig(dataset=str(table), label_column="label", cache_dir=str(tmp_path / "cache"))
    assert app.prepare(cfg)
    prepared = next(iter(app._PREPARED.values()))
    calls = []
    monkeypatch.setattr(app, "load", lambda config: calls.append(config) or "fresh")
    assert app._load_once(cfg) is prepared and calls == []  # the page starts from the prepared pool
    assert app._load_once(cfg) == "fresh"  # once: one page per kernel
    assert app.prepare(cfg) is True and app._PREPARED
    df = pd.read_csv(table)
    df.loc[0, "a"] = 5.0
    df.to_csv(table, index=False)  # the data changed after the kernel warmed
    assert app._load_once(cfg) == "fresh"
    app._PREPARED.clear()
    monkeypatch.undo()
    assert not app.prepare(AppConfig(dataset=str(tmp_path / "missing.csv")))  # left for the page to report
