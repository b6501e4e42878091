"""Level of detail (issue 25): a zoomed window gets the pool's points inside it, and only those, capped."""
import numpy as np
import pytest

from al_widgets.core.layout.detail import covers, points_in_view


def test_points_in_view_by_hand():
    xy = np.array([[0, 0], [1, 1], [2, 2], [3, 3], [1, 3], [0.5, 0.5]], dtype=float)
    np.testing.assert_array_equal(points_in_view(xy, (0.4, 2), (0.4, 2), 10), [1, 2, 5])  # bounds included
    np.testing.assert_array_equal(points_in_view(xy, (2, 0.4), (2, 0.4), 10), [1, 2, 5])  # reversed bounds
    priority = np.array([0, 0.2, 0.9, 0, 0, 0.5])
    np.testing.assert_array_equal(points_in_view(xy, (0.4, 2), (0.4, 2), 2, priority), [2, 5])  # most uncertain
    np.testing.assert_array_equal(points_in_view(xy, (0, 3), (0, 3), 3, np.zeros(6)), [0, 1, 2])  # ties: index
    assert points_in_view(xy, (10, 11), (10, 11), 5).size == 0
    with pytest.raises(ValueError, match="budget"):
        points_in_view(xy, (0, 1), (0, 1), 0)


def test_a_window_of_a_big_layout_returns_exactly_the_points_inside_capped():
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(200_000, 2)).astype(np.float32)
    unc = rng.random(200_000)
    got = points_in_view(xy, (0.1, 0.3), (-0.2, 0.0), 5_000, unc)
    inside = np.flatnonzero((xy[:, 0] >= 0.1) & (xy[:, 0] <= 0.3) & (xy[:, 1] >= -0.2) & (xy[:, 1] <= 0.0))
    assert 0 < len(inside) < 5_000
    np.testing.assert_array_equal(got, inside)  # all of them, nothing outside
    wide = points_in_view(xy, (-1, 1), (-1, 1), 5_000, unc)
    assert len(wide) == 5_000 and np.all(np.abs(xy[wide]) <= 1)
    everything = np.flatnonzero(np.all(np.abs(xy) <= 1, axis=1))
    assert unc[wide].min() >= np.sort(unc[everything])[-5_000]  # the most uncertain first
    assert covers(None, None, xy.min(0), xy.max(0))
    assert covers((-9, 9), (-9, 9), xy.min(0), xy.max(0)) and not covers((0, 1), (0, 1), xy.min(0), xy.max(0))


def test_zooming_a_big_map_draws_every_sample_in_the_window_and_a_click_opens_it(tmp_path):
    from types import SimpleNamespace

    from sklearn.linear_model import LogisticRegression

    from al_widgets.core import ActiveLearningSession, Pool
    from al_widgets.widgets.map import POOL, UncertaintyMap
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3_000, 2))
    y = (X[:, 0] > 0).astype(int)
    s = ActiveLearningSession(LogisticRegression(), Pool(X, labels=[*y[:20], *[None] * 2_980], classes=[0, 1]),
                              "margin", background=False, random_state=0)
    s.retrain()
    m = UncertaintyMap(s, umap=False, cache_dir=tmp_path, max_points=1_000, sample_size=200, view_budget=150)
    xy = m.embedding.layout
    overview = set(m.shown.tolist())
    x0, x1 = np.quantile(xy[:, 0], [0.4, 0.5])
    y0, y1 = np.quantile(xy[:, 1], [0.4, 0.5])
    with m.figure.batch_update():
        m.figure.layout.xaxis.range, m.figure.layout.yaxis.range = (x0, x1), (y0, y1)
    inside = np.flatnonzero((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
    assert 0 < len(inside) <= 150
    np.testing.assert_array_equal(m.shown, inside)  # every sample in the window, nothing else
    trace = m.figure.data[POOL]
    np.testing.assert_allclose(trace.x, xy[inside, 0]) and np.testing.assert_allclose(trace.y, xy[inside, 1])
    assert [str(v) for v in trace.customdata] == [s.pool.ids[i] for i in inside] and "in view" in trace.name
    assert np.asarray(trace.customdata).dtype.kind == "i"  # default ids go as integers (binary), not strings
    new = [i for i in inside if i not in overview and i not in s.labels]
    assert new  # zooming brought in samples the overview never drew
    j = int(np.flatnonzero(inside == new[0])[0])
    m._on_click(trace, SimpleNamespace(point_inds=[j], xs=[xy[new[0], 0]], ys=[xy[new[0], 1]]), None)
    assert s.queue.current.index == new[0]  # the click opened that very sample
    # a click the page made on its previous markers is refused, not mapped to another sample
    m._on_click(trace, SimpleNamespace(point_inds=[0], xs=[999.0], ys=[999.0]), None)
    assert s.queue.current.index == new[0] and "click the point again" in m.layout_info.value
    with m.figure.batch_update():  # a window with more than the budget: the most uncertain of it
        m.figure.layout.xaxis.range, m.figure.layout.yaxis.range = (xy[:, 0].min(), 0.0), (xy[:, 1].min(), 5.0)
    wide = np.flatnonzero((xy[:, 0] >= xy[:, 0].min()) & (xy[:, 0] <= 0) & (xy[:, 1] <= 5.0))
    assert len(wide) > 150 and len(m.shown) == 150 and set(m.shown) <= set(wide)
    unc = s.result_.uncertainty["uncertainty"]
    assert unc[m.shown].min() >= np.sort(unc[wide])[-150]  # the most uncertain in view
    assert "most uncertain first" in m.figure.data[POOL].name
    with m.figure.batch_update():  # zoomed out again: the stratified overview
        m.figure.layout.xaxis.range = (xy[:, 0].min() - 1, xy[:, 0].max() + 1)
        m.figure.layout.yaxis.range = (xy[:, 1].min() - 1, xy[:, 1].max() + 1)
    assert set(m.shown.tolist()) == overview and "stratified" in m.figure.data[POOL].name
    s.close()
