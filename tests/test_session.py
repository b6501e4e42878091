import threading
import time

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier
from sklearn.ensemble import RandomForestClassifier

from al_widgets.core import ActiveLearningSession, Pool


def test_cold_start_shows_diverse_samples_and_says_so(small_digits, tmp_path):
    X, y = small_digits
    s = ActiveLearningSession(LogisticRegression(), Pool(X, classes=list(range(10))), store=tmp_path / "a.db",
                              background=False, batch_size=5, random_state=0)
    item = s.next_item()
    assert item is not None
    assert "need at least two classes" in s.status and s.status_kind == "warning"
    s.submit(item.index, int(y[item.index]))
    assert s.result_.cold_start and s.result_.model is None
    other = next(i for i in range(len(y)) if y[i] != y[item.index] and i != item.index)
    s.submit(other, int(y[other]))
    assert not s.result_.cold_start and s.result_.model is not None
    assert "retrained on 2 labels" in s.status


def test_submit_stores_retrains_and_reranks(make_session):
    s = make_session()
    s.retrain()
    before = s.curve.to_frame()
    item = s.next_item()
    assert item.rank == 0 and item.strategy == "entropy"
    s.submit(item.index, 3, seconds=1.5)
    row = s.store.to_frame().iloc[-1]
    assert row["sample_id"] == item.sample_id and row["label"] == 3 and row["seconds"] == 1.5
    assert row["strategy"] == "entropy" and row["score"] == pytest.approx(item.score)
    assert s.labels[item.index] == 3
    assert len(s.curve) == len(before) + 1 and s.curve.last["n_labels"] == 21
    assert 0 < s.curve.last["accuracy"] <= 1
    nxt = s.next_item()
    assert nxt.index != item.index


def test_undo_is_recorded_and_restores_the_item(make_session):
    s = make_session()
    s.retrain()
    item = s.next_item()
    s.submit(item.index, 4)
    assert s.undo() == (item.index, 4)
    assert item.index not in s.labels and s.n_labeled == 20
    assert s.store.history()["action"].tolist()[-1] == "undo"
    assert s.next_item().index == item.index  # back at the front
    assert s.undo() is None  # nothing of this annotator's left to undo


def test_skip_moves_item_to_the_back(make_session):
    s = make_session()
    s.retrain()
    first = s.next_item()
    s.skip(first.index)
    second = s.next_item()
    assert second.index != first.index
    assert s.queue.peek(1000)[-1].index == first.index


def test_resume_from_store(make_session, tmp_path):
    path = tmp_path / "resume.sqlite"
    s = make_session(store=path)
    s.retrain()
    labeled = []
    for _ in range(3):
        it = s.next_item()
        s.submit(it.index, 1)
        labeled.append(it.index)
    s.close()
    s2 = make_session(store=path)
    assert all(s2.labels[i] == 1 for i in labeled) and s2.n_labeled == 23


def test_two_sessions_on_one_store_never_get_the_same_item(make_session, tmp_path):
    path = tmp_path / "shared.sqlite"
    a, b = make_session(store=path, annotator="ann"), make_session(store=path, annotator="bob")
    a.retrain(); b.retrain()
    seen_a, seen_b = set(), set()
    for _ in range(5):
        ia, ib = a.next_item(), b.next_item()
        assert ia.index != ib.index
        seen_a.add(ia.index); seen_b.add(ib.index)
        a.submit(ia.index, 0); b.submit(ib.index, 1)
    assert not seen_a & seen_b
    a.retrain()  # a picks up b's labels at its next retrain
    assert all(a.labels[i] == 1 for i in seen_b)


def test_background_retrains_coalesce_and_submit_is_thread_safe(make_session):
    s = make_session(background=True)
    s.request_retrain(); assert s.wait_idle(60)
    started = []
    s.on("retrain_started", lambda n_labels, **_: started.append(n_labels))
    order = [it.index for it in s.queue.peek(40)]
    errors = []

    def label_many():
        try:
            for i in order[:30]:
                s.submit(i, int(i % 10))
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    t = threading.Thread(target=label_many)
    t.start(); t.join(60)
    assert s.wait_idle(60)
    assert not errors
    assert s.n_labeled == 50 and len(s.store.labels()) == 30
    assert 1 <= len(started) < 30  # coalesced: far fewer retrains than labels
    assert s.curve.last["n_labels"] == 50  # the last retrain saw every label


def test_retrain_error_is_reported_not_lost(small_digits, tmp_path):
    X, y = small_digits

    class Broken(LogisticRegression):
        def fit(self, X, y):
            raise RuntimeError("solver exploded")

    s = ActiveLearningSession(Broken(), Pool(X, labels=list(y[:20]) + [None] * 280, classes=list(range(10))),
                              store=tmp_path / "b.db", background=True)
    errors = []
    s.on("error", lambda error: errors.append(error))
    s.request_retrain(); s.wait_idle(30)
    assert "retrain failed: RuntimeError: solver exploded" in s.status and s.status_kind == "error"
    assert len(errors) == 1
    s.close()


class _Gate:
    """Wraps ``session.retrainer._fit``: the first call waits until released; records overlap of calls."""

    def __init__(self, session, block_first=True):
        self.session, self.original = session, session.retrainer._fit
        self.started, self.release = threading.Event(), threading.Event()
        self.active = self.max_active = self.calls = 0
        self.block_first = block_first
        self.lock = threading.Lock()
        session.retrainer._fit = self

    def __call__(self, *a, **k):
        with self.lock:
            self.calls += 1
            first = self.calls == 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            self.started.set()
            if first and self.block_first:
                assert self.release.wait(30)
            else:
                time.sleep(0.05)
            return self.original(*a, **k)
        finally:
            with self.lock:
                self.active -= 1


def _applied(session):
    out = []
    session.on("retrained", lambda result: out.append(result))
    return out


def test_stale_retrain_is_discarded(make_session):
    s = make_session(background=True)
    s.retrain()
    item = s.next_item()
    s.submit(item.index, 2)  # requests a retrain on 21 labels
    gate = _Gate(s)
    applied = _applied(s)
    assert gate.started.wait(30)  # the 21-label retrain is running ...
    s.undo()  # ... when its newest label is undone
    gate.release.set()
    assert s.wait_idle(60)
    assert applied, "the retrain requested by the undo must be applied"
    assert all(item.index not in r.labeled for r in applied)  # the stale one never was
    assert s.result_.n_labels == 20 and item.index not in s.labels


def test_retrains_never_overlap_and_the_newest_wins(make_session):
    s = make_session(background=True)
    gate = _Gate(s, block_first=False)
    applied = _applied(s)
    errors = []

    def foreground():
        try:
            for _ in range(5):
                s.retrain()  # a foreground retrain racing the worker
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=foreground)
    t.start()
    for _ in range(12):
        item = s.next_item()
        s.submit(item.index, 1)
    t.join(60)
    assert s.wait_idle(60) and not errors
    assert gate.max_active == 1  # serialized
    seqs = [r.seq for r in applied]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # monotonic
    assert s.result_.n_labels == s.n_labeled == 32
    assert s.curve.to_frame()["n_labels"].is_monotonic_increasing


def test_an_older_result_is_dropped_even_without_the_lock(make_session):
    import contextlib
    s = make_session()
    s.retrainer._train_lock = contextlib.nullcontext()  # only the sequence guard is left
    gate = _Gate(s)
    applied = _applied(s)
    slow = threading.Thread(target=s.retrain)  # seq 1, on 20 labels: blocked
    slow.start()
    assert gate.started.wait(30)
    s.store.add_label(s.pool.ids[299], 3)  # one more label, then a fast retrain (seq 2) finishes first
    fast = s.retrain()
    gate.release.set()
    slow.join(30)
    assert fast is not None and fast.seq == 2 and s.result_ is fast and fast.n_labels == 21
    assert [r.seq for r in applied] == [2]  # seq 1 came back later and was dropped
    assert "dropped retrain #1" in s.status


def test_set_strategy_during_a_retrain_never_ranks_under_the_wrong_name(make_session):
    s = make_session(strategy="margin", background=True)
    gate = _Gate(s)
    applied = []
    s.request_retrain()
    assert gate.started.wait(30)  # a margin retrain is running
    s.on("retrained", lambda result: applied.append(result))
    s.set_strategy("entropy")
    gate.release.set()
    assert s.wait_idle(60)
    assert [r.strategy for r in applied] == ["entropy"]  # the margin ranking was discarded
    assert s.queue.peek(1)[0].strategy == "entropy" and s.result_.strategy == "entropy"


def test_close_stops_the_worker_and_closes_the_store(make_session):
    import sqlite3
    s = make_session(background=True)
    gate = _Gate(s)
    s.request_retrain()
    assert gate.started.wait(30)
    closer = threading.Thread(target=s.close)
    closer.start()
    gate.release.set()  # the running retrain finishes; close waits for it
    closer.join(30)
    assert not closer.is_alive() and not s.retrainer._worker.is_alive() and s.closed
    with pytest.raises(sqlite3.ProgrammingError):
        s.store.labels()
    s.request_retrain()  # after close: no new worker, no error
    assert not s.retrainer._worker.is_alive()
    s.close()  # twice is fine


def test_model_checks_and_parameters(small_digits, tmp_path):
    X, y = small_digits
    pool = Pool(X, classes=list(range(10)))
    with pytest.raises(TypeError, match="is a regressor"):
        ActiveLearningSession(LinearRegression(), pool)
    with pytest.raises(TypeError, match="scikit-learn estimator"):
        ActiveLearningSession(object(), pool)
    with pytest.raises(ValueError, match="retrain_every"):
        ActiveLearningSession(LogisticRegression(), pool, retrain_every=0)
    with pytest.raises(ValueError, match="X_test and y_test"):
        ActiveLearningSession(LogisticRegression(), pool, X_test=X)
    s = ActiveLearningSession(LogisticRegression(), pool, background=False)
    with pytest.raises(ValueError, match="unknown class 11"):
        s.submit(0, 11)
    with pytest.raises(IndexError, match="pool index"):
        s.submit(10_000, 1)
    assert s.store.labels() == {}


def test_incremental_and_warm_start_models(small_digits, tmp_path):
    X, y = small_digits
    labels = list(y[:30]) + [None] * 270
    for model, inc in ((SGDClassifier(loss="log_loss", random_state=0), True),
                       (LogisticRegression(warm_start=True, max_iter=200), False)):
        s = ActiveLearningSession(model, Pool(X, labels=labels, classes=list(range(10))), background=False,
                                  incremental=inc, X_test=X, y_test=y)
        s.retrain()
        first = s.result_.model
        it = s.next_item()
        s.submit(it.index, int(y[it.index]))
        assert s.result_.model is not first and s.curve.last["n_labels"] == 31
        assert model.__dict__.get("coef_") is None  # the user's model is never fitted in place


def test_regression_session(small_digits):
    X, _ = small_digits
    yr = X[:, 20] * 3 + X[:, 30]
    labels = list(yr[:10]) + [None] * 290
    s = ActiveLearningSession(LinearRegression(), Pool(X, labels=labels, task="regression"), "max_variance",
                              X_test=X, y_test=yr, background=False)
    s.retrain()
    assert "r2" in s.curve.last and "std" in s.result_.uncertainty
    it = s.next_item()
    s.submit(it.index, 1.25)
    assert s.labels[it.index] == 1.25


def test_native_ensemble_epistemic(small_digits):
    X, y = small_digits
    s = ActiveLearningSession(RandomForestClassifier(n_estimators=10, random_state=0),
                              Pool(X, labels=list(y[:40]) + [None] * 260, classes=list(range(10))),
                              "bald", background=False)
    res = s.retrain()
    u = res.uncertainty
    np.testing.assert_allclose(u["epistemic"] + u["aleatoric"], u["entropy"], atol=1e-9)


def test_prediction_change_is_a_stopping_signal(make_session, small_digits):
    _, y = small_digits
    s = make_session()
    s.retrain()
    assert np.isnan(s.curve.last["prediction_change"])  # nothing to compare with yet
    for _ in range(5):
        it = s.next_item()
        s.submit(it.index, int(y[it.index]))
    change = s.curve.last["prediction_change"]
    assert 0 <= change <= 1 and "pool predictions changed" in s.status
    s.retrain()  # same labels: same model, nothing moves
    assert s.curve.last["prediction_change"] == 0.0


def test_bulk_label_is_one_action_for_undo(make_session):
    s = make_session()
    s.retrain()
    single = s.next_item()
    s.submit(single.index, 5)
    bulk = [int(i) for i in np.flatnonzero(~s.labeled_mask)[:4]]
    assert len(s.submit_many(bulk, 8).written) == 4
    assert all(s.labels[i] == 8 for i in bulk)
    assert s.store.history()["batch"].dropna().nunique() == 1
    idx, label = s.undo()  # takes the whole bulk action back ...
    assert label == 8 and idx in bulk
    assert not any(i in s.labels for i in bulk) and s.labels[single.index] == 5
    assert s.undo() == (single.index, 5)  # ... then the single label before it
    assert s.store.history()["action"].tolist().count("undo") == 5


def test_close_joins_an_idle_worker(make_session):
    s = make_session(background=True)
    s.request_retrain()
    assert s.wait_idle(60)
    worker = s.retrainer._worker
    assert worker.is_alive()  # idle, waiting for work
    s.close()
    assert not worker.is_alive()  # close returned only after the worker ended


def test_a_request_an_earlier_retrain_already_served_runs_nothing(make_session):
    s = make_session(background=True)
    s.retrain()
    applied = _applied(s)
    item = s.next_item()
    with s.retrainer._train_lock:  # the worker will wait here with the request from the label below
        s.submit(item.index, 4)
        deadline = time.monotonic() + 30
        while not s.retrainer._busy and time.monotonic() < deadline:
            time.sleep(0.01)
        assert s.retrainer._busy
        s.retrain()  # a foreground retrain takes the new label first
    assert s.wait_idle(60)
    assert len(applied) == 1 and applied[0].n_labels == 21  # the worker found nothing new to train on
    assert s.curve.to_frame()["n_labels"].tolist()[-1:] == [21] and len(s.curve) == 2


class _RowCounter:
    """A transformer that remembers how many rows it was fitted on; turns "x y" texts into numbers."""

    fitted_rows: list = []

    def fit(self, X, y=None):
        _RowCounter.fitted_rows.append(len(X))
        return self

    def transform(self, X):
        return np.array([[float(v) for v in t.split()] for t in X])

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self


def test_cold_start_on_a_big_pool_clusters_a_sample_not_the_whole_pool(tmp_path):
    from al_widgets.core.backends.base import COLD_START_SAMPLE
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    rng = np.random.default_rng(0)
    n = 3 * COLD_START_SAMPLE
    X = np.concatenate([rng.normal(c, 0.1, size=(n // 3, 2)) for c in (0, 5, 10)])
    texts = [f"{a:.4f} {b:.4f}" for a, b in X]  # text: the pipeline's transformer makes the features
    pool = Pool(texts, ids=[f"s{i}" for i in range(n)], classes=["a", "b", "c"])
    _RowCounter.fitted_rows = []
    s = ActiveLearningSession(make_pipeline(_RowCounter(), LogisticRegression()), pool, "margin",
                              store=str(tmp_path / "s.sqlite"), batch_size=3, random_state=0,
                              background=False)
    try:
        s.submit(0, "a")
        res = s.result_
        assert res.cold_start and _RowCounter.fitted_rows and max(_RowCounter.fitted_rows) == COLD_START_SAMPLE
        picked = res.order[:3]
        assert len(set(picked.tolist())) == 3 and 0 not in res.order  # distinct, never the labeled one
        assert sorted(int(round(X[i, 0] / 5)) for i in picked) == [0, 1, 2]  # one from each of the three blobs
    finally:
        s.close()


def test_a_signed_in_session_writes_only_under_its_own_name(small_digits, tmp_path):
    """Issue 19: the name comes from the sign-in; no call (and so no widget message) changes it."""
    X, y = small_digits
    pool = Pool(X, classes=list(range(10)))
    s = ActiveLearningSession(LogisticRegression(max_iter=200), pool, "margin", store=tmp_path / "s.sqlite",
                              annotator="alice", signed_in=True, role="annotator", background=False)
    with pytest.raises(PermissionError, match="signed in as 'alice'"):
        s.annotator = "bob"
    s.annotator = "alice"  # setting the same name is harmless
    free = [int(i) for i in np.flatnonzero(~s.labeled_mask)[:3]]
    with pytest.raises(PermissionError, match="cannot write as 'lead'"):
        s.submit(free[0], pool.classes[0], annotator="lead")
    with pytest.raises(PermissionError, match="cannot write as 'lead'"):
        s.submit_many(free[1:], pool.classes[0], annotator="lead")
    with pytest.raises(PermissionError, match="only an admin may decide"):
        s.decide(free[0], pool.classes[0])
    with pytest.raises(PermissionError, match="only an admin may change the query strategy"):
        s.set_strategy("entropy")
    s.submit(free[0], pool.classes[0])
    assert s.submit_many(free[1:], pool.classes[1]).written == [pool.ids[i] for i in free[1:]]
    assert set(s.store.history()["annotator"]) == {"alice"}
    s.close()
    with pytest.raises(ValueError, match="role must be one of"):
        ActiveLearningSession(LogisticRegression(), pool, store=None, role="root")


def test_bulk_label_skips_what_another_annotator_labeled_meanwhile(make_session):
    s = make_session()
    s.retrain()
    free = [int(i) for i in np.flatnonzero(~s.labeled_mask)[:4]]
    s.store.add_label(s.pool.ids[free[0]], 3, "bob")  # another kernel, after the lasso was drawn
    out = s.submit_many(free, 8)
    assert out.skipped == {str(s.pool.ids[free[0]]): "labeled 3 meanwhile by bob"}
    assert [s.labels[i] for i in free[1:]] == [8, 8, 8]
    assert s.undo()[0] in free[1:]  # one undo takes back what was written, and only that
    assert s.store.labels()[str(s.pool.ids[free[0]])] == 3


def test_provenance_is_who_picked_the_sample_even_after_a_rerank(make_session):
    """Issue 20: a queue-picked sample that a newer ranking left out was stored as "user-choice"."""
    s = make_session("margin")
    s.retrain()
    item = s.next_item()
    others = [int(i) for i in np.flatnonzero(~s.labeled_mask) if i != item.index][:5]
    s.queue.rerank(np.array(others), np.linspace(0.9, 0.5, 5), "margin")  # a top-k batch without it
    assert s.queue.current.rank == -1 and s.queue.current.picked_by == "margin"
    s.submit(item.index, 1)
    clicked = others[-1]
    s.focus(clicked)  # clicked on the map
    s.submit(clicked, 2)
    assert s.store.to_frame()["strategy"].tolist()[-2:] == ["margin", "user-choice"]


def test_a_retrain_result_is_immutable_with_typed_fields(make_session):
    """Issue 21: the result was a grab-bag (an untyped ``extra`` dict, fields set after construction)."""
    import dataclasses
    s = make_session()
    s.retrain()
    item = s.next_item()
    s.submit(item.index, 3)
    res = s.retrain()
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.order = np.arange(3)
    assert not hasattr(res, "extra") and res.fit in ("full", "warm", "partial")
    assert 0 <= res.prediction_change <= 1 and res.cluster is None
    assert len(res.trained) == res.n_labels == s.n_labeled
