"""No label on the wrong sample or under the wrong class: one test per integrity finding."""
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from al_widgets.app import AppConfig, load
from al_widgets.cli import main
from al_widgets.core import ActiveLearningSession, AlreadyLabeled, LabelStore, Pool, StoreMismatch


def _pool(n=60, classes=(0, 1), name="pool", seed=0, ids=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    labels = [None] * n
    labels[0], labels[1] = classes[0], classes[1]
    return Pool(X, ids=ids, labels=labels, classes=list(classes), name=name)


def _session(pool, store, **kw):
    return ActiveLearningSession(LogisticRegression(), pool, "margin", store=store, background=False, **kw)


# ------------------------------------------------------------------ 3. label types
def test_csv_zero_one_with_blanks_gives_int_classes_and_trains(tmp_path, capsys):
    path = tmp_path / "t.csv"
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    df["y"] = [0, 1] * 5 + [None] * 30  # pandas reads this as 0.0 / 1.0 / NaN
    df.to_csv(path, index=False)
    data = load(AppConfig(dataset=str(path), label_column="y"))
    assert data.pool.classes == [0, 1] and all(type(v) is int for v in data.pool.labels if v is not None)
    assert main(["serve", str(path), "--label-column", "y", "--check"]) == 0
    assert "trained on 10 labels" in capsys.readouterr().out
    assert main(["serve", str(path), "--label-column", "y", "--classes", "0,1", "--check"]) == 0
    assert "classes ['0', '1']; trained on 10 labels" in capsys.readouterr().out


def test_any_spelling_of_a_class_is_stored_as_the_class_and_booleans_are_refused(tmp_path):
    s = _session(_pool(), tmp_path / "s.db")
    s.retrain()
    a, b = s.next_item(), None
    s.submit(a.index, np.float64(1.0))
    b = s.next_item()
    s.submit(b.index, "0")
    stored = s.store.labels()
    assert stored[a.sample_id] == 1 and type(stored[a.sample_id]) is int and stored[b.sample_id] == 0
    c = s.next_item()
    with pytest.raises(ValueError, match="boolean"):
        s.submit(c.index, True)
    with pytest.raises(ValueError, match="unknown class 2"):
        s.submit(c.index, 2.0)
    assert s.retrain() is not None and "failed" not in s.status  # every later retrain still works
    s.close()


def test_bad_labels_already_in_a_store_are_skipped_not_fatal(tmp_path):
    store = tmp_path / "s.db"
    pool = _pool()
    with LabelStore(store) as st:
        st.bind(pool.identity(), pool.name, pool.classes)
        st.add_label(pool.ids[5], 1.0)  # written by an older version as a float
        st.add_label(pool.ids[6], True)  # written by a bug
        st.add_label(pool.ids[7], "cat")
    s = _session(pool, store)
    assert s.labels[5] == 1 and 6 not in s.labels and 7 not in s.labels
    assert set(s.skipped_labels) == {pool.ids[6], pool.ids[7]}
    assert s.retrain() is not None and not s.retrain().cold_start
    s.close()


# ------------------------------------------------------------------ 4. a store belongs to its dataset
def test_a_store_written_for_another_dataset_is_refused(tmp_path):
    store = tmp_path / "labels.sqlite"
    a = _session(_pool(name="reviews.csv", seed=0), store)
    a.retrain()
    item = a.next_item()
    a.submit(item.index, 1)
    a.close()
    other = _pool(name="digits", seed=1)  # same row-number ids 0..59, other data
    with pytest.raises(StoreMismatch, match="belongs to dataset 'reviews.csv'.*not 'digits'"):
        _session(other, store)
    with pytest.raises(StoreMismatch, match="classes"):
        _session(_pool(name="reviews.csv", seed=0, classes=("a", "b")), store)
    forced = _session(other, store, allow_mismatch=True)  # on purpose
    assert forced.labels[item.index] == 1
    forced.close()


def test_two_datasets_never_share_the_default_store(tmp_path, capsys):
    assert AppConfig().store != AppConfig(dataset="reviews.csv").store
    assert AppConfig(dataset="/data/x/reviews.csv").store == os.path.join("data", "reviews.csv.labels.sqlite")
    csv = tmp_path / "r.csv"
    pd.DataFrame({"t": ["a", "b", "c"], "y": ["p", "n", None]}).to_csv(csv, index=False)
    store = tmp_path / "shared.sqlite"
    s = _session(load(AppConfig()).pool, store)  # digits used this store first
    s.close()
    code = main(["serve", str(csv), "--text-column", "t", "--label-column", "y", "--store", str(store),
                 "--port", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "belongs to dataset 'digits'" in err and "'r.csv'" in err and len(err.splitlines()) == 1


# ------------------------------------------------------------------ 5. undo and late submits
def test_undo_never_cancels_another_sessions_label(tmp_path):
    store = tmp_path / "s.db"
    pool = _pool()
    a, b = _session(pool, store, annotator="same-name"), _session(pool, store, annotator="same-name")
    a.retrain(), b.retrain()
    ia = a.next_item()
    a.submit(ia.index, 1)
    assert b.undo() is None  # b labeled nothing: nothing of b's to undo
    assert LabelStore(store).labels()[ia.sample_id] == 1
    a.close(), b.close()


def test_labels_of_two_sessions_interleaved_reach_both_models(tmp_path):
    # a session skips re-reading its own label only when no other event came in between
    store = tmp_path / "s.db"
    pool = _pool()
    a, b = _session(pool, store, annotator="alice"), _session(pool, store, annotator="bob")
    a.retrain(), b.retrain()
    for _ in range(3):
        ia = a.next_item()
        a.submit(ia.index, 0)
        ib = b.next_item()
        b.submit(ib.index, 1)
        assert a.retrain() is not None and b.retrain() is not None
        assert a.labels == b.labels and a.labels[ia.index] == 0 and a.labels[ib.index] == 1
    assert a.result_.n_labels == b.result_.n_labels == 2 + 6
    ia = a.next_item()
    a.submit(ia.index, 1)  # alone: the shortcut, and the next retrain still trains on it
    assert a.retrain().n_labels == 9 and b.retrain().n_labels == 9
    a.close(), b.close()


def test_a_late_submit_never_overwrites_someone_elses_label(tmp_path):
    store = tmp_path / "s.db"
    pool = _pool()
    a = _session(pool, store, annotator="alice", lease_seconds=0.05)
    b = _session(pool, store, annotator="bob")
    a.retrain(), b.retrain()
    item = a.next_item()  # on alice's screen ...
    time.sleep(0.1)  # ... her claim expires ...
    b.submit(item.index, 0)  # ... bob labels it meanwhile
    with pytest.raises(AlreadyLabeled, match="by bob"):
        a.submit(item.index, 1)
    frame = LabelStore(store).to_frame().set_index("sample_id")
    assert frame.loc[item.sample_id, "label"] == 0 and frame.loc[item.sample_id, "annotator"] == "bob"
    a.close(), b.close()


def test_a_killed_kernels_claims_are_free_at_restart(tmp_path):
    store = tmp_path / "s.db"
    code = textwrap.dedent(f"""
        import sys, time
        from al_widgets.core import LabelStore
        st = LabelStore({str(store)!r})
        st.claim("kernel-1", ["7", "8"], 2, lease_seconds=600)
        print("claimed", flush=True)
        time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "claimed"
    with LabelStore(store) as st:
        assert st.claimed_by_others("me") == {"7", "8"}
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    s = _session(_pool(), store)  # a restarted app: the dead kernel's claims go at once
    assert s.store.claimed_by_others("me") == set()
    s.close()


# ------------------------------------------------------------------ 7. CSV export
def test_export_neutralizes_spreadsheet_formulas(tmp_path, capsys):
    store = tmp_path / "s.db"
    with LabelStore(store) as st:
        st.add_label("a", "=1+1", annotator='=HYPERLINK("http://evil","x")')
        st.add_label("b", "pos", annotator="@sum")
        st.add_label("-c", "neg", annotator="\tbob")
        st.add_label("d", "ok", annotator="plain")
    out = tmp_path / "out.csv"
    with LabelStore(store) as st:
        st.export_csv(out)
    df = pd.read_csv(out, keep_default_na=False)
    assert df["annotator"].tolist() == ["'=HYPERLINK(\"http://evil\",\"x\")", "'@sum", "'\tbob", "plain"]
    assert df["label"].tolist()[0] == "'=1+1" and df["sample_id"].tolist()[2] == "'-c"
    assert main(["export", str(store)]) == 0
    assert "'=HYPERLINK" in capsys.readouterr().out


def test_export_of_a_garbage_or_read_only_store_is_one_line(tmp_path, capsys):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    assert main(["export", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "not an al_widgets label store" in err and len(err.strip().splitlines()) == 1
    store = tmp_path / "ro.sqlite"
    with LabelStore(store) as st:
        st.add_label("a", 1)
    os.chmod(store, 0o444)
    os.chmod(tmp_path, 0o555)
    try:
        assert main(["export", str(store), "-o", "-"]) == 0
        assert "a,1" in capsys.readouterr().out
    finally:
        os.chmod(tmp_path, 0o755)
        os.chmod(store, 0o644)


# ------------------------------------------------------------------ 8. smaller findings
def test_skip_and_undo_failures_reach_the_expert(make_session, tmp_path):
    from al_widgets.widgets import LabelingPanel
    s = make_session()
    s.retrain()
    panel = LabelingPanel(s)
    item = panel.item
    panel.class_buttons[1].click()
    broken = sqlite3.OperationalError("database or disk is full")

    def fail(*a, **k):
        raise broken
    s.store.release = fail
    s.store.undo_events = fail
    panel.skip()
    assert "could not skip (database or disk is full)" in panel.status.value
    panel.undo()
    assert "could not undo (database or disk is full)" in panel.status.value
    assert s.store.labels()[item.sample_id] == 1  # nothing lost
