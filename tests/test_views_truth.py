"""The views tell the truth: curve without a test set, score order, names, stalled pages, hover."""
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from al_widgets.core import ActiveLearningSession, Pool
from al_widgets.widgets import ALDashboard, LearningCurves, TopKPanel, UncertaintyMap
from al_widgets.widgets.curves import CHANGE, METRIC, UNCERTAINTY


def _no_test_session(small_digits, tmp_path, n_seed=20):
    X, y = small_digits
    labels = np.full(len(y), None, dtype=object)
    labels[:n_seed] = y[:n_seed]
    return ActiveLearningSession(LogisticRegression(max_iter=300), Pool(X, labels=labels, classes=list(range(10))),
                                 "margin", store=tmp_path / "s.db", background=False, random_state=0)


def test_curve_without_a_test_set_is_progressive_validation(small_digits, tmp_path):
    X, y = small_digits
    s = _no_test_session(small_digits, tmp_path)
    curves = LearningCurves(s)
    s.retrain()
    hits = []
    for _ in range(8):
        item = s.next_item()
        hits.append(s.result_.prediction[item.index] == y[item.index])  # checked before training on it
        s.submit(item.index, int(y[item.index]))
    assert curves.metric == "progressive_accuracy" and "before training" in curves.figure.data[METRIC].name
    ys = list(curves.figure.data[METRIC].y)
    assert len(ys) == len(s.curve) == 9 and ys[0] is None  # nothing checked before the first retrain
    assert ys[-1] == pytest.approx(np.mean(hits))  # hand-checkable: the share of correct predictions
    assert "progressive accuracy" in s.status
    change = list(curves.figure.data[CHANGE].y)  # the stopping signal, its own line
    assert change[0] is None and all(0 <= c <= 1 for c in change[1:])
    assert "No test set" in curves.note.value
    s.close()


def test_a_curve_update_sends_only_its_newest_points(small_digits, tmp_path):
    """Each line is older points (sent again only on a roll-over) + the newest <= tail_points."""
    X, y = small_digits
    s = _no_test_session(small_digits, tmp_path)
    curves = LearningCurves(s, tail_points=4)
    sent = []
    original = curves.figure._send_update_msg

    def record(restyle_data, relayout_data, **kw):  # the longest array in each message
        sent.append(max((len(a) for a in restyle_data.get("x", []) if a is not None), default=0))
        return original(restyle_data=restyle_data, relayout_data=relayout_data, **kw)

    curves.figure._send_update_msg = record
    s.retrain()
    for _ in range(14):
        item = s.next_item()
        s.submit(item.index, int(y[item.index]))
    frame = s.curve.to_frame()
    assert len(frame) == 15
    for line, column in ((METRIC, "progressive_accuracy"), (UNCERTAINTY, "mean_uncertainty"),
                         (CHANGE, "prediction_change")):
        xs, ys = curves.series(line)  # the whole line, as drawn, equals the tracker
        assert xs == frame["n_labels"].tolist()
        want = frame[column].to_numpy(dtype=float)
        np.testing.assert_allclose(np.array(ys, dtype=float), want)  # None drawn where the tracker has NaN
    tails = [len(curves.figure.data[i].x) for i in (METRIC, UNCERTAINTY, CHANGE)]
    assert all(t <= 4 + 1 for t in tails)  # the newest points (+ the joining point)
    assert len(sent) == 15 and sent[:4] == [1, 2, 3, 4]  # one message per retrain, growing...
    assert max(sent) < 15 and sorted(sent)[-3:] != [13, 14, 15]  # ... but never the whole line again
    s.close()


def test_topk_cards_are_in_score_order_with_the_ranking_strategy(make_session):
    s = make_session(strategy="diverse")  # the batch comes first in the queue, not in score order
    s.retrain()
    panel = TopKPanel(s, k=8)
    shown = [float(c.children[1].value.split("<b>")[1].split("</b>")[0]) for c in panel.cards.children]
    assert shown == sorted(shown, reverse=True) and len(shown) == 8
    assert all("diverse:" in c.children[1].value for c in panel.cards.children)
    s.set_strategy("entropy")
    panel.refresh()
    assert all("entropy:" in c.children[1].value for c in panel.cards.children)


def test_current_sample_names_the_strategy_that_ranked_it(make_session, tmp_path):
    s = make_session(strategy="margin", background=True)
    d = ALDashboard(s, umap=False, cache_dir=tmp_path / "c")
    s.wait_idle(60)
    assert "margin score" in d.labeling.info.value
    d.controls.strategy.value = "entropy"
    assert s.wait_idle(60)
    assert "entropy score" in d.labeling.info.value and "margin" not in d.labeling.info.value
    d.detach()


def test_cold_start_says_so_instead_of_a_score(make_session, tmp_path):
    s = make_session(n_seed=0)
    d = ALDashboard(s, umap=False, cache_dir=tmp_path / "c")
    assert "cold start" in d.labeling.info.value and "score" not in d.labeling.info.value
    assert all("cold start" in c.children[1].value for c in d.topk.cards.children)
    d.detach()


def test_a_page_that_stops_applying_updates_is_told(make_session, tmp_path):
    s = make_session()
    s.retrain()
    m = UncertaintyMap(s, umap=False, cache_dir=tmp_path / "c")
    h = m.health
    h.timeout = 0.0
    m.figure._view_count = 1  # a page is open ...
    m.recolor()  # ... and gets an edit it never acknowledges
    assert not h.check() and "stopped updating" in m.health.warning.value and "labels are saved" in h.warning.value
    m.figure._js2py_traceDeltas = {"trace_deltas": [], "trace_edit_id": m.figure._last_trace_edit_id}
    assert h.check() and h.warning.value == ""  # the answer came: the warning goes
    m.figure._view_count = 0
    m.recolor()  # no page open: nothing to wait for
    assert h.check() and h.warning.value == ""


def test_hover_shows_the_sample_escaped_and_bounded(tmp_path):
    texts = ["<a href='http://x'>click</a> " + "long " * 5000, "plain text"] + [f"doc {i}" for i in range(20)]
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    pool = Pool(np.array(texts, dtype=object), ids=["<b>id</b>" + "x" * 20000] + [f"t{i}" for i in range(21)],
                labels=["a", "b"] + [None] * 20, classes=["a", "b"])
    s = ActiveLearningSession(make_pipeline(TfidfVectorizer(), LogisticRegression()), pool, store=None,
                              background=False)
    s.retrain()
    m = UncertaintyMap(s, umap=False, cache_dir=tmp_path / "c")
    hover = list(m.figure.data[0].hovertext)
    ids = list(m.figure.data[0].customdata)
    assert "<a" not in hover[0] and "&lt;a href=" in hover[0] and len(hover[0]) < 200
    assert "<b>" not in ids[0] and len(ids[0]) < 120
    m._on_hover(None, type("P", (), {"point_inds": [0]})(), None)
    assert "&lt;a href=" in m.hovered.value and "<a href" not in m.hovered.value


def test_map_redraw_interval_follows_the_pages_answer_time(make_session, tmp_path):
    s = make_session()
    s.retrain()
    m = UncertaintyMap(s, umap=False, cache_dir=tmp_path / "c", min_interval=1.5)
    assert m.interval() == 1.5  # nothing measured yet: the cautious default
    m.figure._view_count = 1
    m.recolor()
    edit = m.figure._last_trace_edit_id
    m.health._pending[edit] -= 0.05  # the page answers 50 ms after the edit left
    m.figure._js2py_traceDeltas = {"trace_deltas": [], "trace_edit_id": edit}
    assert 0.05 <= m.health.latency < 0.2 and m.interval() == 0.25  # a fast page: redraw at most every 0.25 s
    m.health.latency = 0.6
    assert m.interval() == 1.2
    m.health.latency = 5.0
    assert m.interval() == 1.5  # a very busy page: never wait longer than min_interval


def test_large_photos_are_sent_as_thumbnails_and_bombs_as_text(tmp_path):
    from PIL import Image

    from al_widgets.widgets.render import sample_html
    rng = np.random.default_rng(0)
    big = tmp_path / "big.jpg"
    Image.fromarray(rng.integers(0, 255, size=(3000, 4000, 3), dtype=np.uint8)).save(big, quality=95)
    assert big.stat().st_size > 5_000_000
    html = sample_html(big, size=200)
    assert "<img" in html and len(html) < 600_000  # a 400 px thumbnail, not the 5+ MB file
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 1000  # stands in for a decompression bomb
    try:
        html = sample_html(big, size=200)
    finally:
        Image.MAX_IMAGE_PIXELS = old
    assert "cannot show image big.jpg: DecompressionBombError" in html and "<img" not in html


def test_admins_see_everyones_progress_annotators_do_not(make_session, tmp_path):
    s = make_session(background=False)
    s.retrain()
    for name in ("alice", "alice", "bob"):
        item = s.next_item()
        s.submit(item.index, 1, annotator=name, seconds=2.0)
    admin = ALDashboard(s, umap=False, cache_dir=tmp_path / "c")
    assert "3 labels by 2 annotators" in admin.team.value
    assert "<td>alice</td><td style='text-align:right'>2</td>" in admin.team.value
    plain = ALDashboard(s, umap=False, cache_dir=tmp_path / "c", role="annotator")
    assert plain.team is None and plain.controls is None
    admin.detach(), plain.detach()


def test_committee_strategies_are_offered_once_every_class_is_labeled(make_session):
    from al_widgets.widgets import Controls
    s = make_session(strategy="margin", n_seed=5)  # 5 labels: not every one of the 10 digits has one
    s.retrain()
    c = Controls(s)
    changes = []
    s.on("strategy_changed", lambda strategy: changes.append(strategy))
    assert "bald" not in c.strategy.options and "max_variance" not in c.strategy.options
    assert "offered once every class has a label" in c.menu_note.value
    labeled = set(s.labels.values())
    for cls in s.pool.classes:  # label one sample of every missing class
        if cls in labeled:
            continue
        item = s.next_item()
        s.submit(item.index, cls)
    s.retrain()
    c._refresh_menu()
    assert "bald" in c.strategy.options and "max_variance" in c.strategy.options and c.menu_note.value == ""
    assert c.strategy.value == s.strategy.name == "margin" and changes == []  # the menu changed, not the choice


def test_plain_page_still_says_when_someone_else_labeled_the_sample(make_session, tmp_path):
    from al_widgets.core import LabelStore
    s = make_session(background=False)
    s.retrain()
    d = ALDashboard(s, umap=False, cache_dir=tmp_path / "c", role="annotator")
    assert "margin" not in d.labeling.status.value and "accuracy" not in d.labeling.status.value
    item = d.labeling.item
    with LabelStore(s.store.path) as other:  # another expert labels it while it is on screen here
        other.add_label(item.sample_id, 3, "bob")
    d.labeling.label(1)
    assert "by bob" in d.labeling.status.value and d.labeling.item.index != item.index
    d.detach()


def test_the_uncertainty_scale_follows_the_values_after_class_colours(small_digits, tmp_path):
    """Issue 20: colour by predicted class, then back: the bar spans the uncertainties, not -0.5…9.5."""
    s = _no_test_session(small_digits, tmp_path)
    s.retrain()
    m = UncertaintyMap(s, umap=False)
    marker = m.figure.data[0].marker

    def span():
        u = np.asarray(s.result_.uncertainty["uncertainty"], dtype=float)
        return pytest.approx(u.min()), pytest.approx(u.max())

    assert (marker.cmin, marker.cmax) == span() and marker.colorbar.title.text == "uncertainty"
    m.color_by.value = "predicted class"
    assert (marker.cmin, marker.cmax) == (-0.5, 9.5) and marker.colorbar.title.text == "predicted class"
    assert list(marker.colorbar.tickvals) == list(range(10)) and list(marker.colorbar.ticktext) == list("0123456789")
    m.color_by.value = "given label"  # a legend of the classes, and the unlabeled named
    assert marker.colorbar.ticktext[0] == "not labeled" and len(marker.colorbar.ticktext) == 11
    m.color_by.value = "uncertainty"
    assert (marker.cmin, marker.cmax) == span() and marker.colorbar.tickvals is None
    assert "uncertainty %{marker.color" in m.figure.data[0].hovertemplate
    item = s.next_item()
    s.submit(item.index, int(small_digits[1][item.index]))
    s.retrain()
    m.recolor()
    assert (marker.cmin, marker.cmax) == span()  # follows a new model's values too
    s.close()


def test_the_curve_is_a_function_of_the_label_count_through_undo_and_reload(small_digits, tmp_path):
    """Issue 20: after undos the curve read 2, 3, 4, 5, 6, 4, 5; a reload kept only the newest point."""
    X, y = small_digits
    s = _no_test_session(small_digits, tmp_path, n_seed=0)
    s.submit(0, int(y[0]))
    s.submit(1, int(y[1]))
    s.retrain()
    curves = LearningCurves(s)
    for i in range(2, 6):
        s.submit(i, int(y[i]))
        s.retrain()
    assert curves.series()[0] == [2, 3, 4, 5, 6]
    s.undo()
    s.undo()
    s.retrain()  # 4 labels now: the points for 5 and 6 described labels that are gone
    assert curves.series()[0] == [2, 3, 4]
    s.submit(4, int(y[4]))
    s.retrain()
    xs, ys = curves.series()
    assert xs == [2, 3, 4, 5] and len(ys) == 4
    bulk = [int(i) for i in range(10, 40)]
    s.submit_many(bulk, 3)
    s.retrain()
    assert curves.series()[0][-1] == 35
    s.undo()
    s.retrain()
    assert curves.series()[0] == [2, 3, 4, 5]  # never 35 -> 5 drawn back across the plot
    s.close()
    again = _no_test_session(small_digits, tmp_path, n_seed=0)  # a reload: the curve comes back whole
    assert again.curve.to_frame()["n_labels"].tolist() == [2, 3, 4, 5]
    view = LearningCurves(again)
    assert view.series()[0] == [2, 3, 4, 5]
    assert view.figure.layout.yaxis.range == (0, 1.02) and view.figure.layout.xaxis.rangemode == "tozero"
    again.close()
