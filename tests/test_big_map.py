"""The map of a pool of a million: density layer plus markers, small recolours, lasso over the whole pool."""
import types

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from al_widgets.core import ActiveLearningSession, Pool
from al_widgets.widgets.support.geometry import inside, stratified_sample
from al_widgets.widgets.map import DENSITY, POOL, UncertaintyMap


def test_point_in_lasso_and_box():
    xy = np.array([[0.6, 0.6], [2.0, 2.0], [0.8, 0.1], [0.1, 0.95], [-1, 0], [0.2, 0.2]])
    lasso = types.SimpleNamespace(xs=[0, 1, 1, 0], ys=[0, 0, 1, 1])  # the unit square
    assert inside(xy, lasso).tolist() == [0, 2, 3, 5]
    triangle = types.SimpleNamespace(xs=[0, 1, 0], ys=[0, 0, 1])  # below x + y = 1
    assert inside(xy, triangle).tolist() == [2, 5]
    box = types.SimpleNamespace(xs=None, xrange=[1.5, 2.5], yrange=[1.5, 2.5])
    assert inside(xy, box).tolist() == [1]


def test_stratified_sample_reaches_sparse_cells():
    rng = np.random.default_rng(0)
    cell = np.r_[np.zeros(100_000, dtype=int), np.arange(1, 51)]  # one crowded cell, fifty lonely points
    picked = stratified_sample(cell, 1_000, rng)
    assert len(picked) == 1_000 and len(set(picked.tolist())) == 1_000
    assert set(range(100_000, 100_050)) <= set(picked.tolist())  # every lonely point is drawn


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 1_000_000
    centres = rng.normal(0, 3, (4, 10)).astype(np.float32)
    y = rng.integers(0, 4, n)
    X = centres[y] + rng.normal(0, 1, (n, 10)).astype(np.float32)
    s = ActiveLearningSession(LogisticRegression(max_iter=300), Pool(X, classes=[0, 1, 2, 3]), "margin",
                              store=tmp_path_factory.mktemp("big") / "s.sqlite", background=False, batch_size=10,
                              retrain_every=10**9, epistemic=False, random_state=0)
    for i in rng.choice(n, 40, replace=False):
        s.submit(int(i), int(y[i]))
    s.retrain()
    m = UncertaintyMap(s, umap=False, cache_dir=tmp_path_factory.mktemp("cache"))
    yield s, m, y
    m.detach()
    s.close()


def test_a_million_point_map_builds_with_a_density_layer(big):
    s, m, _ = big
    assert m.big and len(m.figure.data[POOL].x) <= 20_000
    den = m.figure.data[DENSITY]
    assert den.type == "heatmap" and np.asarray(den.z).shape == (120, 120)
    z = np.asarray(den.z, dtype=float)
    ent = s.result_.uncertainty["uncertainty"]
    assert np.nanmin(z) >= ent.min() - 1e-6 and np.nanmax(z) <= ent.max() + 1e-6  # means of the pool's values


def test_recolouring_sends_less_than_a_megabyte(big):
    s, m, y = big
    before = np.asarray(m.figure.data[DENSITY].z, dtype=float).copy()
    for i in s.result_.order[:10]:
        s.submit(int(i), int(y[i]))
    s.retrain()  # the map recolours on the session's "retrained" event
    marker = np.asarray(m.figure.data[POOL].marker.color)
    z = np.asarray(m.figure.data[DENSITY].z)
    assert marker.nbytes + z.nbytes < 1_000_000
    assert not np.allclose(np.nan_to_num(z), np.nan_to_num(before))  # the new scores reached the layer
    np.testing.assert_allclose(marker, s.result_.uncertainty["uncertainty"][m.shown], rtol=1e-6)


def test_lasso_selects_every_pool_sample_inside_not_only_drawn_ones(big):
    s, m, _ = big
    xy = m.embedding.layout
    cx, cy = np.median(xy, axis=0)
    r = 0.02 * (xy[:, 0].max() - xy[:, 0].min())
    lasso = types.SimpleNamespace(xs=[cx - r, cx + r, cx + r, cx - r], ys=[cy - r, cy - r, cy + r, cy + r])
    got = []
    m.bulk.select = lambda idx: got.extend(idx)
    m._on_selection(m.figure.data[POOL], types.SimpleNamespace(point_inds=[0]), lasso)
    want = np.flatnonzero((xy[:, 0] > cx - r) & (xy[:, 0] < cx + r) & (xy[:, 1] > cy - r) & (xy[:, 1] < cy + r))
    assert sorted(got) == want.tolist() and len(want) > len(set(want.tolist()) & set(m.shown.tolist()))


def test_a_click_on_a_drawn_point_focuses_that_pool_sample(big):
    s, m, _ = big
    unlabeled = next(j for j, i in enumerate(m.shown) if int(i) not in s.labels)
    m._on_click(m.figure.data[POOL], types.SimpleNamespace(point_inds=[unlabeled]), None)
    assert s.queue.current.index == int(m.shown[unlabeled])


def test_a_big_map_waits_for_a_pause_in_the_labels_before_it_redraws(big):
    """Issue 25: redrawing 20,000 WebGL markers takes the page 100-300 ms; drawn after every label it
    sat between a click and the next sample (p95 933 ms at 1M).  While labels keep coming the redraw
    is postponed; once labels pause for ``PAUSE`` seconds it happens."""
    _, m, _ = big

    class Loop:
        def __init__(self):
            self.scheduled = []

        def is_running(self):
            return True

        def call_later(self, delay, fn):
            self.scheduled.append(delay)
            return object()

    loop = Loop()
    m._dispatcher.loop = loop
    sent = []
    m.update_markers, m.recolor = (lambda: sent.append("markers")), (lambda: sent.append("colours"))
    try:
        m._on_labeled()  # a label now: the redraw waits
        m._timer = None
        m._redraw()
        assert sent == [] and loop.scheduled and 0 < loop.scheduled[-1] <= m.pause
        m._last_label -= m.pause + 0.1  # the person paused
        m._redraw()
        assert sent == ["markers"]
    finally:
        del m.update_markers, m.recolor
        m._dispatcher.loop = None
        m._timer = None


def test_the_learning_curve_of_a_big_pool_waits_for_a_pause_in_the_labels(tmp_path):
    """Redrawn after every retrain, the chart stood between clicks and the next sample on a 1M page
    (p95 214 ms against 132-137 ms with it waiting).  With ``pause`` a retrain's point waits while
    labels keep coming and is drawn once they pause; without it, at once."""
    from al_widgets.widgets.curves import LearningCurves
    X = np.random.default_rng(0).normal(size=(300, 3))
    s = ActiveLearningSession(LogisticRegression(), Pool(X, labels=[0, 1] * 5 + [None] * 290, classes=[0, 1]),
                              "margin", background=False)

    class Loop:
        def __init__(self):
            self.scheduled = []

        def is_running(self):
            return True

        def call_later(self, delay, fn, *args):
            self.scheduled.append((delay, fn, args))
            return object()

        def call_soon_threadsafe(self, fn, *args):  # the page's loop runs a view update at once
            fn(*args)

    curves = LearningCurves(s, pause=1.0, baseline_delay=0)
    curves._dispatcher.loop = loop = Loop()
    drawn = []
    curves.refresh = lambda: drawn.append(len(s.labels))
    s.submit(20, 0)
    s.retrain()
    assert drawn == [] and len(loop.scheduled) == 1 and 0 < loop.scheduled[0][0] <= 1.0
    s.submit(21, 1)
    s.retrain()
    assert drawn == [] and len(loop.scheduled) == 1  # one timer, however many retrains
    curves._last_label -= 1.1  # the person paused
    _, fn, args = loop.scheduled[0]
    fn(*args)
    assert drawn == [12]
    eager = LearningCurves(s, baseline_delay=0)  # pause 0 (small pools): every retrain drawn at once
    eager._dispatcher.loop = loop
    eager.refresh = lambda: drawn.append("eager")
    s.submit(22, 0)
    s.retrain()
    assert drawn[-1] == "eager"
    s.close()
