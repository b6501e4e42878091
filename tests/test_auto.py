"""``auto``: k-center spread where the features carry no class structure, focused CLUE (weighted
toward classes with few labels) otherwise; the typical phase on request; no refitting replays."""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from al_widgets.core import ActiveLearningSession, Pool, ScoringContext
from al_widgets.core.sim.race import Task, initial_set, our_selector, run_loop
from al_widgets.core.strategies.auto import AutoSelector
from al_widgets.core.strategies.catalog import get_strategy


ARM_SEED = int(np.random.default_rng(0).integers(2**31))
"""The seed auto(random_state=0) gives its arm in its first round (new numbers every round)."""


def _ctx(X, y, labeled, classes):
    model = LogisticRegression(max_iter=1000).fit(X[labeled], y[labeled])
    cand = np.setdiff1d(np.arange(len(y)), labeled)
    return ScoringContext(model, X, cand, X[labeled], y[labeled], classes, labeled=labeled, batch_size=5,
                          random_state=0)


def test_the_phase_by_hand():
    """With the typical phase asked for (``typical_per_class=8``; off by default): three balanced blobs
    and 3 labels (1 per class, predictions balanced): typical samples; 30 labels (10 per class): the
    boundary; a 90/5/5 pool with 9 labels: the boundary from the start."""
    X, y = make_classification(600, n_features=4, n_informative=4, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, class_sep=3.0, random_state=0)
    auto = AutoSelector(typical_per_class=8, random_state=0)
    few = np.array([np.flatnonzero(y == c)[0] for c in range(3)])
    phase, reason, arm = auto.decide(_ctx(X, y, few, [0, 1, 2]))
    assert (phase, arm.name) == ("typical", "typiclust") and "1.0 labels per class" in reason
    many = np.concatenate([np.flatnonzero(y == c)[:10] for c in range(3)])
    phase, reason, arm = auto.decide(_ctx(X, y, many, [0, 1, 2]))
    assert (phase, arm.name) == ("boundary", "focused_clue") and "10.0 labels per class" in reason
    Xi, yi = make_classification(1000, n_features=4, n_informative=4, n_redundant=0, n_classes=3,
                                 weights=[0.9, 0.05, 0.05], n_clusters_per_class=1, class_sep=3.0, random_state=1)
    nine = np.concatenate([np.flatnonzero(yi == c)[:3] for c in range(3)])
    phase, reason, arm = auto.decide(_ctx(Xi, yi, nine, [0, 1, 2]))
    assert (phase, arm.name) == ("boundary", "focused_clue") and "imbalanced predictions" in reason
    assert AutoSelector(typical_per_class=8, imbalance=3.0).decide(_ctx(Xi, yi, nine, [0, 1, 2]))[0] == "typical"
    assert AutoSelector().decide(_ctx(X, y, few, [0, 1, 2]))[0] == "boundary"  # the default: no typical phase


def test_auto_queries_what_its_phase_would_and_costs_no_extra_fits():
    X, y = make_classification(600, n_features=4, n_informative=4, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, class_sep=3.0, random_state=0)
    few = np.array([np.flatnonzero(y == c)[0] for c in range(3)])
    ctx = _ctx(X, y, few, [0, 1, 2])
    fits = []
    original = LogisticRegression.fit

    def counting_fit(self, *a, **k):
        fits.append(1)
        return original(self, *a, **k)

    LogisticRegression.fit = counting_fit
    try:
        picked, _ = AutoSelector(typical_per_class=8, random_state=0).query(ctx, 5)
    finally:
        LogisticRegression.fit = original
    expected, _ = get_strategy("typiclust", random_state=ARM_SEED).query(_ctx(X, y, few, [0, 1, 2]), 5)
    np.testing.assert_array_equal(np.sort(picked), np.sort(expected))
    assert fits == []  # no replays: the model in the context is the only one


def test_auto_explains_its_choice_in_the_session_status(tmp_path):
    X, y = make_classification(300, n_features=6, n_informative=4, n_classes=3, random_state=1)
    s = ActiveLearningSession(LogisticRegression(max_iter=1000), Pool(X, classes=[0, 1, 2]),
                              AutoSelector(typical_per_class=8, random_state=0),
                              store=tmp_path / "a.db", background=False, batch_size=5, random_state=0)
    try:
        phases = set()
        for _ in range(40):
            item = s.next_item()
            s.submit(item.index, int(y[item.index]))
            if s.result_ is not None and not s.result_.cold_start:
                phases.add(s.result_.strategy)
        assert "auto chose focused_clue (boundary:" in s.status  # 40 labels, 3 classes: past the typical phase
        assert {"auto: typiclust", "auto: focused_clue"} <= phases
        assert s.next_item().strategy.startswith("auto: ")  # the queue says which strategy ranked it
    finally:
        s.close()


@pytest.mark.parametrize("params, match", [({"typical_per_class": -1}, "typical_per_class"),
                                           ({"imbalance": 0.5}, "imbalance"), ({"imbalance": "x"}, "imbalance")])
def test_auto_rejects_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        AutoSelector(**params).validate()


def test_auto_is_reproducible_and_queries_k_distinct_unlabeled():
    X, y = make_classification(900, n_features=10, n_informative=5, class_sep=1.0, flip_y=0.01, random_state=0)
    task = Task("synthetic", X[:600], y[:600], X[600:], y[600:], LogisticRegression(max_iter=1000))
    runs = []
    for _ in range(2):
        select = our_selector("auto", task, 5)
        runs.append(run_loop(task, select, initial_set(task.y, 20, 5), budget=60, batch_size=10,
                             seed=5)["accuracy"].tolist())
    assert runs[0] == runs[1]
    assert isinstance(get_strategy("auto"), AutoSelector) and clone(get_strategy("auto")).name == "auto"


def test_neighbour_agreement_by_hand():
    """Two pairs, each pair one class: every nearest neighbour agrees (1.0); shuffled labels would
    agree with chance sum n_c (n_c - 1) / (n (n - 1)) = (2 + 2) / 12 = 1/3; standard error
    sqrt(1/3 * 2/3 / 4) = 0.2357, so z = (2/3) / 0.2357 = 2.83."""
    from al_widgets.core.strategies.auto import neighbour_agreement
    agreement, chance, z = neighbour_agreement(np.array([[0.0], [0.1], [5.0], [5.1]]), np.array([0, 0, 1, 1]))
    assert agreement == 1.0 and chance == pytest.approx(1 / 3) and z == pytest.approx(2.828, abs=1e-3)
    agreement, _, z = neighbour_agreement(np.array([[0.0], [0.1], [5.0], [5.1]]), np.array([0, 1, 0, 1]))
    assert agreement == 0.0 and z < 0
    import scipy.sparse as sp  # text pools: the vectorized rows stay sparse (never a dense vocabulary)
    assert neighbour_agreement(sp.csr_matrix([[0.0], [0.1], [5.0], [5.1]]), np.array([0, 0, 1, 1]))[0] == 1.0


def _noisy(n_noise, seed):
    """Three classes told apart by 3 informative features, with ``n_noise`` noise features beside them."""
    X, y = make_classification(900, n_features=3 + n_noise, n_informative=3, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, shuffle=False, random_state=seed)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def test_auto_spreads_by_k_center_where_the_features_carry_no_class_structure():
    """30 labels (10 per class).  With 3 informative features among 300 noise features, nearest
    labeled neighbours share a class no more often than chance on most seeds: auto spreads the batch
    by k-center (CoreSet's picks exactly); on the informative features alone it takes the boundary."""
    phases = {"noisy": [], "clean": []}
    for seed in range(6):
        X, y = _noisy(300, seed)
        labeled = np.concatenate([np.flatnonzero(y == c)[:10] for c in range(3)])
        for kind, F in (("noisy", X), ("clean", X[:, :3])):
            ctx = _ctx(F, y, labeled, [0, 1, 2])
            phase, reason, arm = AutoSelector(random_state=0).decide(ctx)
            phases[kind].append(phase)
            if phase == "spread":
                assert arm.name == "coreset" and "chance" in reason
                picked, _ = AutoSelector(random_state=0).query(_ctx(F, y, labeled, [0, 1, 2]), 5)
                expected, _ = get_strategy("coreset", random_state=0).query(_ctx(F, y, labeled, [0, 1, 2]), 5)
                np.testing.assert_array_equal(picked, expected)
    assert phases["noisy"].count("spread") >= 5 and set(phases["clean"]) == {"boundary"}
    X, y = _noisy(300, 0)
    two = np.concatenate([np.flatnonzero(y == c)[:2] for c in range(3)])  # below 3 per class: no check
    assert AutoSelector(random_state=0).decide(_ctx(X, y, two, [0, 1, 2]))[0] != "spread"
    assert AutoSelector(structure_per_class=0, random_state=0).decide(
        _ctx(X, y, np.concatenate([np.flatnonzero(y == c)[:10] for c in range(3)]), [0, 1, 2]))[0] != "spread"


def test_auto_takes_typical_samples_while_the_model_ranks_nothing():
    """Boosted trees on 12 labels cannot split (20 samples a leaf): every candidate gets the same
    probabilities, so nothing ranks them and auto takes TypiClust's typical samples (its exact picks);
    a logistic regression on the same labels ranks them: not the typical phase."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    X, y = _noisy(0, 3)
    labeled = np.concatenate([np.flatnonzero(y == c)[:4] for c in range(3)])
    trees = HistGradientBoostingClassifier(max_iter=10).fit(X[labeled], y[labeled])
    cand = np.setdiff1d(np.arange(len(y)), labeled)

    def ctx(model):
        return ScoringContext(model, X, cand, X[labeled], y[labeled], [0, 1, 2], labeled=labeled, batch_size=5,
                              random_state=0)
    assert np.ptp(trees.predict_proba(X), axis=0).max() == 0  # the premise: one probability row for all
    phase, reason, arm = AutoSelector(random_state=0).decide(ctx(trees))
    assert (phase, arm.name) == ("typical", "typiclust") and "same probabilities" in reason
    picked, _ = AutoSelector(random_state=0).query(ctx(trees), 5)
    np.testing.assert_array_equal(picked, get_strategy("typiclust", random_state=ARM_SEED).query(ctx(trees), 5)[0])
    lr = LogisticRegression(max_iter=1000).fit(X[labeled], y[labeled])
    assert AutoSelector(random_state=0).decide(ctx(lr))[0] != "typical"


def test_auto_spreads_only_where_the_features_outnumber_the_labels():
    """9 labels (3 per class): with 303 features (more than the labels) the check runs and spreads on
    noise; with 8 features (fewer than the labels) the model's boundary is followed."""
    wide = []
    for seed in range(6):
        X, y = _noisy(300, seed)
        nine = np.concatenate([np.flatnonzero(y == c)[:3] for c in range(3)])
        wide.append(AutoSelector(random_state=0).decide(_ctx(X, y, nine, [0, 1, 2]))[0])
        Xn, yn = _noisy(5, seed)
        nine = np.concatenate([np.flatnonzero(yn == c)[:3] for c in range(3)])
        assert AutoSelector(random_state=0).decide(_ctx(Xn, yn, nine, [0, 1, 2]))[0] == "boundary"
    assert wide.count("spread") >= 4, wide


def test_auto_spreads_only_where_features_strictly_outnumber_the_labels():
    """Pure noise features and 30 labels: with 31 features the check runs and finds no structure
    (spread); with exactly 30 a linear model is already constrained as much as by more labels: the
    boundary is followed (on the race's 20-feature tasks a spread at 20 labels cost four_class)."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 100)
    labeled = np.concatenate([np.flatnonzero(y == c)[:10] for c in range(3)])
    X = rng.normal(size=(300, 31))
    assert AutoSelector(random_state=0).decide(_ctx(X, y, labeled, [0, 1, 2]))[0] == "spread"
    assert AutoSelector(random_state=0).decide(_ctx(X[:, :30], y, labeled, [0, 1, 2]))[0] == "boundary"


def test_auto_arms_draw_new_numbers_every_round_reproducibly():
    """Each round's arm gets a new seed from auto's own stream (an arm seeded alike every round would
    start k-means from the same draws each time); two autos with one seed give the same seeds."""
    X, y = _noisy(0, 1)
    labeled = np.concatenate([np.flatnonzero(y == c)[:6] for c in range(3)])
    a, b = AutoSelector(random_state=7), AutoSelector(random_state=7)
    seeds_a = [a.decide(_ctx(X, y, labeled, [0, 1, 2]))[2].random_state for _ in range(3)]
    seeds_b = [b.decide(_ctx(X, y, labeled, [0, 1, 2]))[2].random_state for _ in range(3)]
    assert seeds_a == seeds_b and len(set(seeds_a)) == 3
