"""Headless widget tests: click from Python, assert on traits, store and session state."""
import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import al_widgets
from al_widgets.core import ActiveLearningSession, Pool
from al_widgets.widgets import ALDashboard, LabelingPanel, TopKPanel, UncertaintyMap, render_sample, sample_html
from al_widgets.widgets.map import COLOR_MODES, CURRENT, LABELED, POOL, TOPK


@pytest.fixture
def dash(make_session, tmp_path):
    s = make_session(background=True)
    d = ALDashboard(s, umap=False, cache_dir=tmp_path / "cache")
    yield d
    d.detach()


def _click_true_label(panel, y):
    item = panel.item
    panel.class_buttons[int(y[item.index])].click()
    return item


def test_clicking_class_buttons_stores_labels_and_refreshes_views(dash, small_digits):
    X, y = small_digits
    s = dash.session
    s.wait_idle(60)
    n_curve = len(s.curve)
    topk_before = list(dash.topk.indices)
    colours_before = np.array(dash.map.figure.data[POOL].marker.color, dtype=float)
    shown = []
    for _ in range(4):
        item = _click_true_label(dash.labeling, y)
        shown.append(item.index)
        assert dash.labeling.item is not None and dash.labeling.item.index != item.index  # next one at once
    assert len(set(shown)) == 4
    assert s.wait_idle(60)
    stored = s.store.labels()
    assert {s.pool.ids[i]: int(y[i]) for i in shown}.items() <= stored.items()
    assert all(s.labels[i] == y[i] for i in shown)
    assert len(s.curve) > n_curve and s.curve.last["n_labels"] == 24
    assert dash.topk.indices != topk_before and not set(dash.topk.indices) & set(shown)
    colours = np.array(dash.map.figure.data[POOL].marker.color, dtype=float)
    assert colours.shape == (len(y),) and not np.allclose(colours, colours_before)
    np.testing.assert_allclose(colours, s.result_.uncertainty["entropy"], rtol=1e-6)
    curve = dash.curves.figure.data[0]
    assert list(curve.x)[-1] == 24 and len(curve.y) == len(s.curve)
    labeled_overlay = dash.map.figure.data[LABELED]
    assert len(labeled_overlay.x) == 24
    assert "retrained on 24 labels" in dash.labeling.status.value


def test_skip_and_undo_buttons(dash, small_digits):
    _, y = small_digits
    s, panel = dash.session, dash.labeling
    s.wait_idle(60)
    first = panel.item
    panel.skip_button.click()
    assert panel.item.index != first.index and s.queue.n_skips == 1
    labeled = _click_true_label(panel, y)
    panel.undo_button.click()
    assert panel.item.index == labeled.index and labeled.index not in s.labels
    assert s.store.history()["action"].tolist()[-1] == "undo"
    assert s.wait_idle(60)


def _key_from_frontend(keyboard, key):
    """Deliver a key the way the browser does: a comm message with method 'custom'."""
    keyboard._handle_msg({"content": {"data": {"method": "custom", "content": {"key": key}}}, "buffers": []})


def test_every_key_writes_the_class_printed_on_its_button(dash):
    s, panel = dash.session, dash.labeling
    s.wait_idle(60)
    assert panel.keyboard.shortcut_keys == [str(i) for i in range(10)] + ["s", "z"]
    for button in panel.class_buttons:  # "[5] 5": the key in brackets, then the class it writes
        key, name = button.description[1:].split("] ")
        item = panel.item
        _key_from_frontend(panel.keyboard, key)
        assert str(s.labels[item.index]) == name
        assert s.store.labels()[item.sample_id] == s.pool.classes[panel.class_buttons.index(button)]
    s.wait_idle(60)


def test_skip_then_undo_steps_back_through_the_skip_first(dash):
    s, panel = dash.session, dash.labeling
    s.wait_idle(60)
    item = panel.item
    _key_from_frontend(panel.keyboard, "2")
    labeled, shown = item, panel.item
    panel.keyboard.press("s")
    assert panel.item.index != shown.index and s.queue.n_skips == 1
    panel.keyboard.press("z")  # undo the skip: the skipped sample is back, the label stays
    assert panel.item.index == shown.index and s.labels[labeled.index] == 2 and s.queue.n_skips == 0
    panel.keyboard.press("z")  # then the label
    assert labeled.index not in s.labels and panel.item.index == labeled.index
    panel.keyboard.press("z")
    assert "nothing to undo" in panel.status.value
    panel.keyboard.press("x")  # not a shortcut: ignored
    s.wait_idle(60)


def test_topk_card_opens_sample_in_labeling_panel(dash):
    s = dash.session
    s.wait_idle(60)
    target = dash.topk.indices[3]
    card = dash.topk.cards.children[3]
    card.children[-1].click()
    assert dash.labeling.item.index == target
    first_cards = list(dash.topk.cards.children)
    dash.labeling.label(0)
    s.wait_idle(60)
    assert all(a is b for a, b in zip(first_cards, dash.topk.cards.children))  # updated in place
    card = dash.topk.cards.children[0]
    target = dash.topk.indices[0]
    card.children[-1].click()
    assert dash.labeling.item.index == target
    assert list(dash.map.figure.data[CURRENT].x) == [dash.map.embedding.layout[target, 0]]


def test_topk_k_is_adjustable(dash):
    dash.session.wait_idle(60)
    dash.topk.k.value = 3
    assert len(dash.topk.cards.children) == 3
    assert len(dash.map.figure.data[TOPK].x) == dash.session.batch_size


def test_map_click_loads_point_and_colour_modes(dash):
    s, m = dash.session, dash.map
    s.wait_idle(60)
    target = int(np.flatnonzero(~s.labeled_mask)[7])
    m.figure._js2py_pointsCallback = {
        "event_type": "plotly_click", "device_state": None, "selector": None,
        "points": {"trace_indexes": [POOL], "point_indexes": [target], "xs": [0.0], "ys": [0.0]}}
    assert dash.labeling.item.index == target
    for mode in COLOR_MODES:
        m.color_by.value = mode
        vals = np.asarray(m.figure.data[POOL].marker.color, dtype=float)
        assert vals.shape == (s.pool.n,)
    m.color_by.value = "given label"
    vals = np.asarray(m.figure.data[POOL].marker.color, dtype=float)
    labeled = np.flatnonzero(s.labeled_mask)
    assert (vals[labeled] == np.array([s.labels[i] + 1 for i in labeled])).all()
    assert (np.delete(vals, labeled) == 0).all()
    assert "epistemic" not in s.result_.uncertainty  # computed only when asked for
    m.color_by.value = "epistemic"
    assert s.wait_idle(60) and s.epistemic is True
    np.testing.assert_allclose(np.asarray(m.figure.data[POOL].marker.color, dtype=float),
                               s.result_.uncertainty["epistemic"], rtol=1e-5, atol=1e-7)


def _select(m, indices):
    m.figure._js2py_pointsCallback = {
        "event_type": "plotly_selected", "device_state": None,
        "selector": {"type": "lasso", "selector_state": {"xs": [0, 1, 1], "ys": [0, 0, 1]}},
        "points": {"trace_indexes": [POOL] * len(indices), "point_indexes": list(indices),
                   "xs": [0.0] * len(indices), "ys": [0.0] * len(indices)}}


def test_map_lasso_shows_the_samples_and_needs_a_chosen_class(dash):
    s, m = dash.session, dash.map
    s.wait_idle(60)
    b = m.bulk
    unl = np.flatnonzero(~s.labeled_mask)[:5].tolist()
    lab = int(np.flatnonzero(s.labeled_mask)[0])
    _select(m, unl + [lab])
    assert b.selected == unl and "<b>5</b> unlabeled points selected" in b.info.value
    assert "the model predicts" in b.info.value and len(b.preview.children) == 5
    assert all("<img" in c.value and "model:" in c.value for c in b.preview.children)  # the samples themselves
    assert b.label_as.value is None and b.label_as.label == "choose a class…" and b.button.disabled  # no default
    b.ask_confirmation()
    assert b.confirm_box.layout.display == "none"
    b.label_as.value = 7
    assert b.button.description == "Label 5 points" and not b.button.disabled
    b.button.click()  # step 1: asks, labels nothing yet
    assert "Label <b>5</b> points as <b>7</b>?" in b.confirm_text.value and b.confirm_box.layout.display == "flex"
    assert not any(i in s.labels for i in unl)
    b.cancel_button.click()
    assert b.confirm_box.layout.display == "none" and not any(i in s.labels for i in unl)
    b.button.click()
    # another annotator labels one of them while the confirm is on screen: it is skipped, and said
    s.store.add_label(s.pool.ids[unl[0]], 3, "bob")
    with m.figure.batch_update():
        m.figure.data[POOL].selectedpoints = unl  # what the page's lasso left on the map
    b.confirm_button.click()  # step 2
    assert all(s.labels[i] == 7 for i in unl[1:]) and b.label_as.value is None
    assert b.info.value.startswith("labeled 4 as 7, skipped 1: ") and "labeled 3 meanwhile by bob" in b.info.value
    assert m.figure.data[POOL].selectedpoints is None and m.figure.layout.selections == ()  # box gone
    assert s.store.labels()[str(s.pool.ids[unl[0]])] == 3
    assert s.undo()[1] == 7 and not any(i in s.labels for i in unl[1:])  # one undo takes the batch back
    assert b.info.value == ""  # "labeled 4 as 7" is no longer true
    s.wait_idle(60)


def test_crafted_selection_is_validated_on_the_server(dash):
    s, m = dash.session, dash.map
    s.wait_idle(60)
    b = m.bulk
    unl = int(np.flatnonzero(~s.labeled_mask)[0])
    lab = int(np.flatnonzero(s.labeled_mask)[0])
    assert b.select([unl, unl, lab, -1, s.pool.n, 10**9, True]) == [unl]  # only the one valid index
    b.limit = 3
    many = np.flatnonzero(~s.labeled_mask)[:4].tolist()
    _select(m, many)
    b.label_as.value = 1
    assert b.button.disabled and "more than 3" in b.info.value
    b.confirm_button.click()  # even a forged confirm labels nothing above the limit
    assert not any(i in s.labels for i in many)


def test_strategy_control_rescores(dash):
    s = dash.session
    s.wait_idle(60)
    dash.controls.strategy.value = "margin"
    assert s.strategy.name == "margin" and "two most likely" in dash.controls.description.value
    s.wait_idle(60)
    assert s.queue.peek(1)[0].strategy == "margin"
    dash.controls.batch_size.value = 4
    s.wait_idle(60)
    assert s.batch_size == 4 and len(dash.map.figure.data[TOPK].x) == 4
    dash.controls.retrain_every.value = 5
    assert s.retrain_every == 5


def test_retrain_error_shows_in_status_line(small_digits, tmp_path):
    X, y = small_digits

    class Flaky(LogisticRegression):
        def fit(self, X, y):
            if len(y) > 20:
                raise ValueError("<b>bad</b> data")
            return super().fit(X, y)

    s = ActiveLearningSession(Flaky(max_iter=200), Pool(X, labels=list(y[:20]) + [None] * 280,
                                                        classes=list(range(10))), background=True)
    panel = LabelingPanel(s)
    s.wait_idle(30)
    panel.class_buttons[0].click()
    s.wait_idle(30)
    assert "retrain failed: ValueError: &lt;b&gt;bad&lt;/b&gt; data" in panel.status.value
    s.close()


def test_store_failure_is_shown_and_sample_kept(dash, monkeypatch):
    import sqlite3
    dash.session.wait_idle(60)
    item = dash.labeling.item

    def locked(*a, **k):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(dash.session.store, "add_label", locked)
    dash.labeling.class_buttons[1].click()
    assert "could not save the label (database is locked)" in dash.labeling.status.value
    assert dash.labeling.item.index == item.index and item.index not in dash.session.labels


def test_map_pick_is_recorded_as_user_choice(dash):
    s = dash.session
    s.wait_idle(60)
    queued = {it.index for it in s.queue.peek(1000)}
    target = next(int(i) for i in np.flatnonzero(~s.labeled_mask) if int(i) not in queued)
    s.focus(target)
    dash.labeling.class_buttons[2].click()
    assert s.store.to_frame().iloc[-1]["strategy"] == "user-choice"
    s.wait_idle(60)


def test_cold_start_message_in_panel(small_digits):
    X, _ = small_digits
    s = ActiveLearningSession(LogisticRegression(), Pool(X, classes=list(range(10))), background=False)
    panel = LabelingPanel(s)
    assert "need at least two classes" in panel.status.value and panel.item is not None


def test_hostile_text_is_escaped(tmp_path):
    docs = ["<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "fine text", "more text"] * 5
    y = ["a", "b"] * 10
    pool = Pool(np.array(docs, dtype=object), labels=y[:4] + [None] * 16, classes=["a", "b"])
    s = ActiveLearningSession(make_pipeline(TfidfVectorizer(), LogisticRegression()), pool, background=False)
    panel = LabelingPanel(s)
    top = TopKPanel(s, k=20)
    htmls = [panel.sample.value] + [c.children[0].value for c in top.cards.children]
    joined = "".join(htmls)
    assert "<script>" not in joined and "<img src=x" not in joined
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in joined
    assert "&lt;img src=x onerror=alert(1)&gt;" in joined
    m = UncertaintyMap(s, umap=False, cache_dir=None)  # text pipeline: TF-IDF layout
    assert len(m.figure.data[POOL].x) == 20


def test_render_sample_types(tmp_path):
    digit = sample_html(np.arange(64.0))
    assert digit.startswith("<img") and "image/png" in digit
    assert "<img" in sample_html(np.ones((10, 12)))
    import pandas as pd
    row = sample_html(pd.Series({"<b>age</b>": 31.5, "city": "<i>Oslo</i>"}))
    assert "&lt;b&gt;age&lt;/b&gt;" in row and "&lt;i&gt;Oslo&lt;/i&gt;" in row and "<table" in row
    png = tmp_path / "x.png"
    from al_widgets.widgets.render import png_bytes
    png.write_bytes(png_bytes(np.eye(8)))
    assert "base64" in sample_html(png) and "base64" not in sample_html(str(png))  # a str is text
    assert sample_html("x", renderer=lambda item: "<u>custom</u>") == "<u>custom</u>"
    assert render_sample("<b>t</b>").value.count("&lt;b&gt;") == 1


def test_teaching_mode_draws_random_baseline(make_session, small_digits, tmp_path):
    _, y = small_digits
    s = make_session(background=True)
    from al_widgets.widgets import LearningCurves
    curves = LearningCurves(s, true_labels=y, baseline_budget=60)
    curves._baseline_thread.join(60)
    b = curves.figure.data[2]
    assert b.visible and list(b.x)[0] == 20 and list(b.x)[-1] == 60
    s.wait_idle(30)


def test_teaching_mode_draws_the_true_accuracy_beside_the_estimate(small_digits):
    """Issue 23: without a test set, a teacher sees the model's true accuracy on the pool next to the
    estimate from audit labels (each point is the retrained model's predictions against the truth)."""
    from sklearn.linear_model import LogisticRegression

    from al_widgets.widgets import LearningCurves
    from al_widgets.widgets.curves import TRUTH
    X, y = small_digits
    s = ActiveLearningSession(LogisticRegression(max_iter=500), Pool(X, classes=list(range(10))), "margin",
                              background=False, audit=0.3, random_state=0)
    curves = LearningCurves(s, true_labels=y, baseline_delay=0, baseline_budget=12)
    expected = {}
    for _ in range(40):
        item = s.next_item()
        s.submit(item.index, int(y[item.index]))
        if s.result_ is not None and s.result_.prediction is not None:
            expected[s.result_.n_labels] = float(np.mean(s.result_.prediction == y))
    truth = curves.figure.data[TRUTH]
    assert truth.visible and dict(zip(truth.x, truth.y)) == expected and len(expected) >= 5
    assert truth.y[-1] > 0.5  # 40 labels of digits: the true accuracy the estimate is judged against
    with pytest.raises(ValueError, match="true_labels has 3 entries"):
        LearningCurves(s, true_labels=[0, 1, 2])
    curves._baseline_thread.join(60)
    s.close()


def test_lazy_widget_import():
    assert al_widgets.ALDashboard is ALDashboard
    with pytest.raises(AttributeError):
        al_widgets.NoSuchThing


def test_regression_dashboard_numeric_input(small_digits, tmp_path):
    from sklearn.linear_model import Ridge
    X, _ = small_digits
    yr = X[:, 20] * 3 + X[:, 30]
    pool = Pool(X, labels=list(yr[:10]) + [None] * 290, task="regression")
    s = ActiveLearningSession(Ridge(), pool, "max_variance", X_test=X, y_test=yr, background=True,
                              store=tmp_path / "r.sqlite")
    d = ALDashboard(s, umap=False, cache_dir=None)
    s.wait_idle(60)
    assert d.labeling.class_buttons == [] and d.curves.metric == "r2"
    item = d.labeling.item
    d.labeling.value.value = 2.5
    d.labeling.submit_value.click()
    assert s.labels[item.index] == 2.5 and s.store.labels()[item.sample_id] == 2.5
    assert s.wait_idle(60) and s.curve.last["n_labels"] == 11 and "r2" in s.curve.last
    d.map.color_by.value = "predicted class"  # continuous predictions for a regressor
    np.testing.assert_allclose(np.asarray(d.map.figure.data[0].marker.color, dtype=float),
                               s.result_.prediction, rtol=1e-5, atol=1e-6)
    d.detach()
    s.close()


def test_deferred_figures_are_built_once_a_page_shows_the_panel(make_session, tmp_path):
    s = make_session(background=False)
    d = ALDashboard(s, umap=False, cache_dir=tmp_path / "cache", defer_figures=True)
    try:
        assert d.map is None and d.curves is None  # the labeling panel alone goes to the page first
        assert "loading" in d._right.children[0].value
        shown = d.labeling.item
        assert shown is not None and s.store.open_claims() == []  # a plain GET holds no sample (issue 20)
        d.labeling.keyboard._on_custom_msg(None, {"event": "rendered"}, [])  # what the page sends on render
        assert [c[0] for c in s.store.open_claims()] == [shown.sample_id] == [d.labeling.item.sample_id]
        assert isinstance(d.map, UncertaintyMap) and list(d._right.children) == [d.map, d.curves]
        first = (d.map, d.curves)
        d.labeling.keyboard._on_custom_msg(None, {"event": "rendered"}, [])  # a second view: nothing rebuilt
        assert (d.map, d.curves) == first
    finally:
        d.detach()


def test_the_app_imports_plotly_only_after_the_panel_is_shown(tmp_path):
    import subprocess
    import sys
    code = ("import sys\nfrom al_widgets.app import AppConfig, build_app\n"
            f"app = build_app(AppConfig(store={str(tmp_path / 's.sqlite')!r}, umap=False))\n"
            "assert 'plotly' not in sys.modules, 'plotly imported before the panel was shown'\n"
            "app.dashboard.labeling.keyboard._on_custom_msg(None, {'event': 'rendered'}, [])\n"
            "assert 'plotly' in sys.modules and app.dashboard.map is not None\n"
            "app.session.close()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "AL_WIDGETS_CACHE": str(tmp_path / "cache")})
    assert out.returncode == 0, out.stderr[-2000:]


def test_the_single_user_app_remembers_the_name_across_reloads(tmp_path):
    """Issue 20: every reload reset the name box to a random "expert-cfab"."""
    from al_widgets.app import AppConfig, build_app
    cfg = AppConfig(store=str(tmp_path / "s.sqlite"), umap=False)
    first = build_app(cfg)
    assert first.session.annotator.startswith("expert-")
    panel = first.dashboard.labeling
    panel.annotator.value = "dr_ana"
    panel.label(first.session.pool.classes[0])
    first.session.close()
    again = build_app(cfg)  # a reload
    assert again.session.annotator == "dr_ana" and again.dashboard.labeling.annotator.value == "dr_ana"
    again.session.close()


def test_wide_rows_show_every_value_in_panels_and_cards():
    """Issue 20: 31 columns showed 12 then "… 19 more" with no way to open; cards lost the values."""
    import re

    from al_widgets.widgets.render import sample_html
    import pandas as pd_
    row = pd_.Series({f"a_rather_long_column_name_{i}": i * 1.5 for i in range(31)})
    big = sample_html(row, size=200)
    assert big.count("<tr>") == 31 and "<details class='alw-more'><summary>19 more</summary>" in big
    card = sample_html(row, size=72)
    values = re.findall(r"</small> ([^<]+)</div>", card)
    assert values == [f"{i * 1.5:.4g}" for i in range(31)]  # every value, next to its name
    assert "overflow-wrap:anywhere" in card
    evil = sample_html(pd_.Series({"<b>x</b>": "<script>1</script>"}), size=72)
    assert "<script>" not in evil and "&lt;script&gt;" in evil and "&lt;b&gt;" in evil


def test_blind_pages_never_show_the_models_guess(make_session, tmp_path):
    """Issue 20: annotators read "model says benign (97 %)"; blind mode hides every guess and the curve."""
    s = make_session(background=False)
    s.retrain()
    d = ALDashboard(s, umap=False, cache_dir=tmp_path / "cache", role="annotator", blind=True)
    try:
        assert d.curves is None and "predicted class" not in d.map.color_by.options
        assert "model says" not in d.labeling.info.value and "model says" not in d.labeling.sample.value
        assert all("pred" not in slot["text"].value for slot in d.topk._slots)
        assert all("predicted" not in h for h in d.map.figure.data[POOL].hovertext)
        free = [int(i) for i in np.flatnonzero(~s.labeled_mask)[:3]]
        d.map.bulk.select(free)
        assert "the model predicts" not in d.map.bulk.info.value
        assert all("model:" not in c.value for c in d.map.bulk.preview.children)
    finally:
        d.detach()
    seeing = ALDashboard(s, umap=False, cache_dir=tmp_path / "cache")  # the admin's page shows the guess
    try:
        assert "model says" in seeing.labeling.info.value
        # a second opinion on an overlap sample never shows it: agreement measures people, not the model
        item = s.queue.offer(int(np.flatnonzero(~s.labeled_mask)[5]), "overlap")
        seeing.labeling.show(item)
        assert "model says" not in seeing.labeling.info.value
    finally:
        seeing.detach()


def test_a_sample_labeled_elsewhere_while_on_screen_is_replaced_not_refused(make_session):
    """Issue 20: the first click in notebook 03 was refused after a cell labeled the sample shown."""
    s = make_session(background=False)
    s.retrain()
    panel = LabelingPanel(s)
    shown = panel.item.index
    s.submit(shown, 4)  # a notebook cell (or another view of this session) labels it
    assert panel.item is not None and panel.item.index != shown
    other = panel.item.index
    panel.label(5)  # the next click is a plain label, not "labeled … while it was on screen"
    assert s.labels[other] == 5 and "while it was on screen" not in panel.status.value
    bulk = [panel.item.index] + [int(i) for i in np.flatnonzero(~s.labeled_mask)[:3] if i != panel.item.index]
    s.submit_many(bulk, 2)  # a lasso including the sample on screen
    assert panel.item.index not in bulk
    panel.detach()


def test_a_label_costs_its_own_write_not_a_round_of_store_reads(make_session, tmp_path):
    """Issue 21: per label the views read the other annotators' claims twice (top-k and the map's
    overlay); one read is reused for a second now."""
    s = make_session(store=tmp_path / "s.sqlite", retrain_every=10**6)
    s.retrain()
    d = ALDashboard(s, umap=False, cache_dir=tmp_path / "cache")
    statements = []
    s.store._conn.set_trace_callback(statements.append)
    try:
        for _ in range(3):
            d.labeling.label(s.pool.classes[0])
        reads = [q for q in statements if "FROM claims WHERE owner !=" in q and "expires >=" in q]  # not claim()'s own
        writes = [q for q in statements if q.lstrip().upper().startswith("INSERT INTO EVENTS")]
        assert len(writes) == 3 and len(reads) <= 1, (len(reads), len(writes))
    finally:
        s.store._conn.set_trace_callback(None)
        d.detach()


def test_the_next_sample_goes_to_the_page_before_any_other_views_update():
    """A label's next sample is sent first, whatever order the views were built in: the page applies
    messages in order, and another view's redraw (a map's) must not stand before it."""
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    s = ActiveLearningSession(LogisticRegression(max_iter=200), Pool(X[:300] / 16, classes=list(range(10))),
                              "margin", background=False)
    m = UncertaintyMap(s, umap=False)  # built before the panel: subscribed first
    topk = TopKPanel(s)
    panel = LabelingPanel(s)
    order = []
    panel.sample.observe(lambda _c: order.append("next sample"), "value")
    topk.observe(lambda _c: order.append("top-k"), "children")
    m.figure.data[LABELED].on_change(lambda *_: order.append("map"), "x")  # the labeled overlay
    first = panel.item.index
    panel.class_buttons[int(y[first])].click()
    assert panel.item.index != first
    assert order and order[0] == "next sample", order
    assert "map" in order  # the map did update, after
    for view in (m, topk, panel):
        view.detach()
    s.close()


def test_the_page_claims_the_sample_it_shows_even_when_the_next_in_line_differs(tmp_path):
    """The Voila page shows a preview, then claims on render: it must claim that very sample.  With
    audit labels the next handed-out sample is often another (a random draw); before, the page swapped
    samples right after showing one, and a key pressed then labeled a sample nobody had looked at."""
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    pool = Pool(X[:400] / 16, labels=[*y[:20], *[None] * 380], classes=list(range(10)))
    swapped = 0
    for seed in range(6):
        s = ActiveLearningSession(LogisticRegression(max_iter=200), pool, "margin", background=False,
                                  audit=0.5, random_state=seed, store=tmp_path / f"s{seed}.sqlite")
        s.retrain()
        panel = LabelingPanel(s, claim_when_shown=True)
        shown = panel.item
        panel.keyboard._on_custom_msg(None, {"event": "rendered"}, [])
        assert panel.item.index == shown.index  # the sample on the page is the one held
        assert [c[0] for c in s.store.open_claims()] == [shown.sample_id]
        panel.keyboard.press(str(int(y[shown.index])))
        assert s.labels[shown.index] == int(y[shown.index])  # the key labeled the sample that was shown
        swapped += panel.item.picked_by == "audit"  # later samples still come from the handout
        panel.detach()
        s.close()
    assert swapped >= 1
