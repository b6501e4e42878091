"""Annotation quality: overlap between annotators, agreement, conflict rules, reviewer decisions, label errors."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score

from al_widgets.core import ActiveLearningSession, LabelStore, Pool
from al_widgets.core.review.quality import agreement, annotations, conflicts, label_issues, overlap_mask
from al_widgets.core.store.label_store import resolve


def _two_annotators(tmp_path, n_labels=60, overlap=0.1, disagree=None):
    X, y = load_digits(return_X_y=True)
    X, y = X[:400] / 16, y[:400]
    store = str(tmp_path / "team.sqlite")
    kw = dict(store=store, background=False, batch_size=5, random_state=0, overlap=overlap, overlap_k=2)
    alice = ActiveLearningSession(LogisticRegression(max_iter=500), Pool(X, classes=list(range(10))),
                                  annotator="alice", **kw)
    bob = ActiveLearningSession(LogisticRegression(max_iter=500), Pool(X, classes=list(range(10))),
                                annotator="bob", **kw)
    shared = bob.overlap_mask  # the only samples two annotators may both label
    for i in range(n_labels):  # they take turns, as two people labeling at once would
        s = alice if i % 2 == 0 else bob
        item = s.next_item()
        label = int(y[item.index])
        if disagree is not None and s is bob and shared[item.index] and disagree(item.index):
            label = (label + 1) % 10  # bob's opinion on a shared sample differs (whoever labeled it first)
        s.submit(item.index, label)
    return alice, bob, X, y, store


def test_every_overlap_sample_gets_exactly_two_labels_from_two_annotators(tmp_path):
    alice, bob, X, y, store = _two_annotators(tmp_path, n_labels=120, overlap=0.1)
    try:
        mask = alice.overlap_mask
        assert 0.05 < mask.mean() < 0.15  # about 10 % of the pool, the same set in both sessions
        assert (mask == bob.overlap_mask).all()
        ann = annotations(LabelStore(store, readonly=True))
        per_sample = ann.groupby("sample_id")["annotator"].agg(list)
        ids = np.array(alice.pool.ids)
        overlap_ids = set(ids[mask])
        labeled_overlap = [sid for sid in per_sample.index if sid in overlap_ids]
        assert len(labeled_overlap) >= 3
        completed = [sid for sid in labeled_overlap if len(per_sample[sid]) == 2]
        assert completed and all(sorted(per_sample[sid]) == ["alice", "bob"] for sid in completed)
        assert all(len(per_sample[sid]) <= 2 for sid in labeled_overlap)  # never a third, never twice one person
        assert all(len(per_sample[sid]) == 1 for sid in per_sample.index if sid not in overlap_ids)
        # the second annotator got the open overlap samples first: at most one is left waiting per annotator
        waiting = [sid for sid in labeled_overlap if len(per_sample[sid]) == 1]
        assert len(waiting) <= 2
    finally:
        alice.close()
        bob.close()


def test_kappa_matches_a_hand_computed_table():
    """Two annotators, 10 shared samples: a/a x4, b/b x3, a/b x2, b/a x1.

    p_o = 7/10; p_e = P(A=a)P(B=a) + P(A=b)P(B=b) = (6/10)(5/10) + (4/10)(5/10) = 0.5;
    kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    """
    import pandas as pd
    pairs = [("a", "a")] * 4 + [("b", "b")] * 3 + [("a", "b")] * 2 + [("b", "a")]
    ann = pd.DataFrame([{"sample_id": f"s{i}", "annotator": who, "label": lab}
                        for i, pair in enumerate(pairs) for who, lab in zip(("ann1", "ann2"), pair)])
    ag = agreement(ann)
    assert ag.n_items == 10 and ag.pairs.loc[0, "shared"] == 10
    assert ag.pairs.loc[0, "kappa"] == pytest.approx(0.4)
    assert ag.pairs.loc[0, "kappa"] == pytest.approx(cohen_kappa_score(*zip(*pairs)))
    assert ag.pairs.loc[0, "agreement"] == pytest.approx(0.7)
    assert ag.confusion.loc["a", "b"] == 3 and ag.confusion.loc["a", "a"] == 8  # both orders counted
    # Krippendorff's alpha by hand: 20 values, n_a = 11, n_b = 9; D_o = 6/20 disagreeing pairs
    # (x2 for both orders): alpha = 1 - (n - 1) * o_ab / (n_a * n_b) = 1 - 19 * 3 / 99
    assert ag.alpha == pytest.approx(1 - 19 * 3 / 99)


def test_conflicts_are_left_out_of_training_until_a_reviewer_decides(tmp_path):
    st = LabelStore(tmp_path / "s.sqlite")
    st.add_label("x1", 3, annotator="alice")
    st.add_label("x1", 5, annotator="bob", only_if_unlabeled=True, overlap_k=2)
    st.add_label("x2", 1, annotator="alice")
    st.add_label("x2", 1, annotator="bob", overlap_k=2)
    assert st.labels("newest") == {"x1": 5, "x2": 1}
    assert st.labels("majority") == {"x2": 1}  # a 1-1 split is a conflict: not trained on
    assert st.labels("exclude") == {"x2": 1}
    assert list(conflicts(st)["sample_id"]) == ["x1"]
    st.add_label("x1", 3, annotator="carol", strategy="adjudicated")  # the decision: one more event
    assert st.labels("majority") == {"x1": 3, "x2": 1} and len(conflicts(st)) == 0
    assert len(st.history()) == 5  # nothing deleted
    with pytest.raises(Exception, match="already has your label"):
        st.add_label("x2", 2, annotator="bob", only_if_unlabeled=True, overlap_k=2)
    with pytest.raises(ValueError, match="conflict rule"):
        resolve([], "vote")


def test_three_annotators_majority_wins():
    rows = [(1, "s", "1", "a", 0, None, None), (2, "s", "2", "b", 0, None, None), (3, "s", "1", "c", 0, None, None)]
    assert resolve(rows, "majority") == {"s": 1}
    assert resolve(rows, "exclude") == {"s": None}
    assert resolve(rows, "newest") == {"s": 1}


def test_the_session_trains_on_the_decision(tmp_path):
    alice, bob, X, y, store = _two_annotators(tmp_path, n_labels=80, overlap=0.3, disagree=lambda i: True)
    try:
        st = LabelStore(store)
        conf = conflicts(st)
        assert len(conf) >= 1
        sid = conf["sample_id"].iloc[0]
        idx = alice.pool.index_of(sid)
        alice.retrain()
        assert idx not in alice.labels  # in conflict: not trained on
        st.add_label(sid, int(y[idx]), annotator="reviewer", strategy="adjudicated")
        alice.retrain()
        assert alice.labels[idx] == int(y[idx])  # the next retrain uses the decision
        assert idx in alice.result_.labeled
    finally:
        alice.close()
        bob.close()


def test_overlap_mask_is_stable_and_sized():
    ids = [f"id{i}" for i in range(20000)]
    m = overlap_mask(ids, 0.1)
    assert abs(m.mean() - 0.1) < 0.01 and (m == overlap_mask(list(ids), 0.1)).all()
    assert not overlap_mask(ids, 0).any() and overlap_mask(ids, 1).all()


def test_label_issues_finds_the_obvious_wrong_label():
    """Two tight clusters; one point in the middle of cluster A is labeled B."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.3, (30, 2)), rng.normal(5, 0.3, (30, 2))])
    y = np.array(["A"] * 30 + ["B"] * 30, dtype=object)
    y[7] = "B"
    flags = label_issues(LogisticRegression(), X, y, ["A", "B"])
    assert flags.loc[0, "position"] == 7 and flags.loc[0, "suggested"] == "A" and flags.loc[0, "given"] == "B"
    assert len(flags) <= 2


def test_label_issues_on_digits_with_flipped_labels():
    X, y = load_digits(return_X_y=True)
    X, y = X[:600] / 16, y[:600].astype(object)
    rng = np.random.default_rng(1)
    flipped = rng.choice(len(y), 60, replace=False)
    noisy = y.copy()
    noisy[flipped] = [(v + rng.integers(1, 10)) % 10 for v in y[flipped]]
    flags = label_issues(LogisticRegression(max_iter=1000), X, noisy, list(range(10)))
    top = set(flags["position"][:50])
    precision = len(top & set(flipped)) / 50
    assert precision >= 0.7  # random flags would be right 10 % of the time


def test_review_panel_settles_a_conflict_and_checks_a_flagged_label(tmp_path):
    from al_widgets.widgets import ALDashboard
    alice, bob, X, y, store = _two_annotators(tmp_path, n_labels=80, overlap=0.3, disagree=lambda i: True)
    dash = ALDashboard(alice, umap=False, cache_dir=tmp_path / "cache", defer_figures=True)
    try:
        assert dash.review is None  # built when the admin opens it
        dash.review_box.selected_index = 0
        panel = dash.review
        first = panel.current
        assert first is not None and set(first["labels"]) == {"alice", "bob"}
        assert "<td>alice</td>" in panel.stats.value and "<td>bob</td>" in panel.stats.value
        assert "0% (" in panel.stats.value  # bob contradicted alice on every shared sample
        assert "<td>–</td>" in panel.stats.value  # flags not computed yet: not "0 %"
        assert f"(1 of {len(panel.items)} conflicts)" in panel.sample.value
        assert "alw-confusion" in panel.summary.value
        truth = int(y[first["index"]])
        n_before = len(panel.items)
        button = next(b for b in panel.class_buttons if b.description == f"decide: {truth}")
        button.click()
        assert len(panel.items) == n_before - 1
        st = LabelStore(store)
        dec = st.to_frame_all()
        decision = dec[(dec["sample_id"] == alice.pool.ids[first["index"]]) & (dec["strategy"] == "adjudicated")]
        assert list(decision["label"]) == [truth] and list(decision["annotator"]) == ["alice"]
        alice.wait_idle(30)
        assert alice.labels[first["index"]] == truth and first["index"] in alice.result_.labeled
        # suspicious labels: three slips by alice; the panel shows them with the model's suggestion
        unlabeled = [i for i in range(len(y)) if i not in alice.labels and not alice.overlap_mask[i]][:3]
        for i in unlabeled:
            alice.submit(i, int((y[i] + 1) % 10))
        alice.wait_idle(30)
        panel.mode.value = "suspicious"
        flagged = {it["index"]: it for it in panel.items}
        slips = [i for i in unlabeled if i in flagged]
        assert slips, (unlabeled, list(flagged))
        while panel.current["index"] != slips[0]:
            panel.next_button.click()
        cur = panel.current
        assert cur["suggested"] == int(y[cur["index"]])  # the model knows better
        assert f"Given <b>{cur['given']}</b> by alice;" in panel.detail.value  # who gave the label
        assert panel._class_box.layout.display == "none"  # keep or change: no conflict buttons here
        assert "alice" in panel.stats.value and "<td>–</td>" not in panel.stats.value  # flags now computed
        assert panel.keep.description == f"Keep {cur['given']}"
        assert panel.change.description == f"Change to {cur['suggested']}"
        panel.change.click()
        assert f"changed {alice.pool.ids[cur['index']]} from <b>{cur['given']}</b> to <b>{cur['suggested']}</b>" \
            in panel.status.value
        alice.wait_idle(30)
        assert alice.labels[cur["index"]] == int(y[cur["index"]])
        assert cur["index"] not in [it["index"] for it in panel.items]
    finally:
        dash.detach()
        alice.close()
        bob.close()
