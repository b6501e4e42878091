import os
import signal
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from al_widgets.core import LabelStore


def test_labels_undo_and_resume(tmp_path):
    path = tmp_path / "s.sqlite"
    with LabelStore(path) as st:
        first = st.add_label("a", 1, "ann", 2.5, "entropy", 0.9)
        second = st.add_label("b", "cat", "ann")
        st.add_label("a", 2, "bob")
        assert st.labels() == {"a": 2, "b": "cat"}
        [rec] = st.undo_events([second], "ann")
        assert rec.sample_id == "b" and rec.label == "cat"
        assert st.labels() == {"a": 2}
        assert st.undo_events([second], "ann") == []  # undone once: nothing more to undo
        assert [r.sample_id for r in st.undo_events([first], "ann")] == ["a"]  # ann's first label of a
        assert st.labels() == {"a": 2}  # bob's label stands
    with LabelStore(path) as st:  # reopen: everything is there, undo is recorded, not destructive
        assert st.labels() == {"a": 2}
        hist = st.history()
        assert hist["action"].tolist() == ["label", "label", "label", "undo", "undo"]
        assert hist.loc[0, "seconds"] == 2.5 and hist.loc[0, "strategy"] == "entropy"
        frame = st.to_frame()
        assert frame["sample_id"].tolist() == ["a"] and frame["annotator"].tolist() == ["bob"]
        out = tmp_path / "labels.csv"
        assert st.export_csv(out) == 1
        assert pd.read_csv(out)["label"].tolist() == [2]


def test_wal_mode(tmp_path):
    st = LabelStore(tmp_path / "w.sqlite")
    assert st._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    st.close()


def _child(code: str) -> str:
    return textwrap.dedent(code)


def test_labels_flushed_to_disk_claims_not(tmp_path):
    """sync="full": each label's commit waits for the disk (SQLite synchronous=FULL, 2); claims are
    leases and commit without waiting (NORMAL, 1); sync="normal" commits labels that way too."""
    def level(st):
        return st._conn.execute("PRAGMA synchronous").fetchone()[0]
    with LabelStore(tmp_path / "f.sqlite") as st:
        st.claim("me", ["a", "b"], 1)
        assert level(st) == 1
        st.add_label("a", 1, "me")
        assert level(st) == 2
        st.release("me")
        assert level(st) == 1
        st.add_labels([("b", 2)], "me")
        assert level(st) == 2 and st.labels() == {"a": 1, "b": 2}
    with LabelStore(tmp_path / "n.sqlite", sync="normal") as st:
        st.add_label("a", 1, "me")
        assert level(st) == 1
    with pytest.raises(ValueError, match="sync must be one of"):
        LabelStore(tmp_path / "x.sqlite", sync="fast")


@pytest.mark.parametrize("sync", ["full", "normal"])
def test_label_survives_sigkill_right_after_submit(tmp_path, sync):
    path = tmp_path / "k.sqlite"
    code = _child(f"""
        import os, sys
        from al_widgets.core import LabelStore
        st = LabelStore({str(path)!r}, sync={sync!r})
        st.add_label("s1", 7, "ann")
        sys.stdout.write("submitted\\n"); sys.stdout.flush()
        import time; time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "submitted"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert LabelStore(path).labels() == {"s1": 7}


def test_session_submit_survives_sigkill(tmp_path):
    path = tmp_path / "sess.sqlite"
    code = _child(f"""
        import sys, time, numpy as np
        from sklearn.linear_model import LogisticRegression
        from al_widgets.core import ActiveLearningSession, Pool
        X = np.random.default_rng(0).normal(size=(50, 3))
        s = ActiveLearningSession(LogisticRegression(), Pool(X, classes=[0, 1]), store={str(path)!r}, background=True)
        item = s.next_item()
        s.submit(item.index, 1)
        print(item.sample_id, flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        sid = proc.stdout.readline().strip()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert LabelStore(path).labels() == {sid: 1}


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "c.sqlite"
    LabelStore(path).close()
    code = _child("""
        import sys
        from al_widgets.core import LabelStore
        who = sys.argv[1]
        st = LabelStore(sys.argv[2])
        for i in range(200):
            st.add_label(f"{who}-{i}", i, who)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, who, str(path)]) for who in ("p1", "p2")]
    for p in procs:
        assert p.wait(120) == 0
    labels = LabelStore(path).labels()
    assert len(labels) == 400
    assert labels["p1-199"] == 199 and labels["p2-0"] == 0


def test_claims_are_exclusive_until_the_lease_expires(tmp_path):
    path = tmp_path / "cl.sqlite"
    a, b = LabelStore(path), LabelStore(path)
    assert a.claim("A", ["1", "2", "3"], 2) == ["1", "2"]
    assert b.claim("B", ["1", "2", "3"], 2) == ["3"]
    assert a.claim("A", ["1"], 1) == ["1"]  # renewing one's own claim is fine
    a.add_label("3", 0, "A")  # labeling drops the claim, and labeled ids are never claimed
    assert b.claim("B", ["3"], 1) == []
    a.release("A", ["2"])
    assert b.claim("B", ["2"], 1) == ["2"]
    assert b.claim("B", ["9"], 1, lease_seconds=-1) == ["9"]  # expired lease
    assert a.claim("A", ["9"], 1) == ["9"]
    assert a.claimed_by_others("A") == {"2"}
    seq = a.add_label("4", 1, "A")
    a.undo_events([seq], "A")  # an undone label makes the sample claimable again
    assert b.claim("B", ["4"], 1) == ["4"]


def test_old_store_without_batch_column_is_upgraded(tmp_path):
    import sqlite3
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, sample_id TEXT NOT NULL,
        action TEXT NOT NULL, label TEXT, annotator TEXT NOT NULL, ts REAL NOT NULL, seconds REAL,
        strategy TEXT, score REAL, undoes INTEGER);
        INSERT INTO events (sample_id, action, label, annotator, ts) VALUES ('a', 'label', '1', 'x', 0);""")
    conn.commit()
    conn.close()
    with LabelStore(path) as st:
        assert st.labels() == {"a": 1}
        bulk = st.add_labels([("b", 2), ("c", 3)], "y")
        assert [r.sample_id for r in st.undo_events(bulk.seqs, "y")] == ["c", "b"]
        assert st.labels() == {"a": 1}


def test_changes_since_reads_only_what_changed(tmp_path):
    with LabelStore(tmp_path / "c.db") as st:
        st.add_label("a", 1)
        seq_b = st.add_label("b", 2)
        newest, changes = st.changes_since(0)
        assert newest == seq_b and changes == {"a": 1, "b": 2}
        assert st.changes_since(newest) == (newest, {})  # nothing new: nothing read
        st.add_label("c", 3)
        st.undo_events([seq_b], "x")
        newest2, changes = st.changes_since(newest)
        assert changes == {"b": None, "c": 3} and newest2 > newest  # b undone, c new; a untouched


def test_bulk_labels_keep_every_rule_of_a_single_label(tmp_path):
    """Issue 19: a lasso (or a forged selection) decides no conflict, adds no third opinion and
    overwrites no sample labeled meanwhile or claimed by someone else."""
    with LabelStore(tmp_path / "b.sqlite") as st:
        st.add_label("s", 1, "bob", overlap_k=2, only_if_unlabeled=True)
        st.add_label("s", 2, "carol", overlap_k=2, only_if_unlabeled=True)  # a 1-1 conflict
        st.add_label("t", 1, "bob", overlap_k=2, only_if_unlabeled=True)  # an overlap sample, one opinion
        st.add_label("u", 3, "bob")  # labeled meanwhile
        st.add_label("v", 3, "alice")  # alice's own, not an overlap sample
        st.claim("carol-1234", ["w"], 1)  # on carol's screen
        out = st.add_labels([("s", 1), ("t", 1), ("u", 1), ("v", 1), ("w", 1), ("x", 1), ("x", 2)], "alice",
                            "bulk", overlap={"s": 2, "t": 2}, owner="alice-5678")
        assert out.written == ["t", "x"]  # t's second opinion is allowed, x is new
        assert out.skipped == {"s": "already has its 2 labels", "u": "labeled 3 meanwhile by bob",
                               "v": "labeled 3 meanwhile by alice", "w": "on another annotator's screen",
                               "x": "given twice in one bulk action"}
        assert len(out.seqs) == 2
        assert "s" not in st.labels("majority") and st.labels()["u"] == 3 and st.labels()["v"] == 3
        # without an overlap k the conflicted sample is refused as a conflict, and the summary says so
        out = st.add_labels([("s", 1)], "alice", "bulk")
        assert out.written == [] and out.skipped == {"s": "in conflict, waiting for review"}
        assert out.summary(1) == "labeled 0 as 1, skipped 1: s (in conflict, waiting for review)"
        st.add_label("s", 2, "lead", strategy="adjudicated")
        assert st.add_labels([("s", 1)], "alice").skipped == {"s": "decided by a reviewer"}
        # the store's own reproduction from the issue
        assert st.labels("majority")["s"] == 2
