import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier
from sklearn.pipeline import make_pipeline

from al_widgets.core import ScoringContext, available_strategies, get_strategy
from al_widgets.core.strategies.coldstart import cold_start

ALL = list(available_strategies("classification"))


def _ctx(X, y, model, n_lab=40, seed=0, classes=None):
    rng = np.random.default_rng(seed)
    lab = rng.choice(len(y), n_lab, replace=False)
    cand = np.setdiff1d(np.arange(len(y)), lab)
    model.fit(X[lab], y[lab])
    return ScoringContext(model, X, cand, X[lab], y[lab], classes, committee_size=4, random_state=0), lab


@pytest.fixture
def ctx(small_digits):
    X, y = small_digits
    return _ctx(X, y, LogisticRegression(max_iter=300), classes=list(range(10)))


def test_registry_has_every_strategy_with_a_description():
    expected = {"random", "least_confident", "margin", "entropy", "bald", "qbc", "expected_model_change",
                "max_variance", "density", "diverse"}
    assert expected <= set(ALL)
    assert all(len(d) > 20 for d in available_strategies().values())


@pytest.mark.parametrize("name", ALL)
def test_strategy_returns_k_distinct_unlabeled_and_is_reproducible(ctx, name):
    c, lab = ctx
    idx, scores = get_strategy(name, random_state=3).query(c, 7)
    assert len(idx) == 7 == len(scores) == len(set(idx.tolist()))
    assert not set(idx.tolist()) & set(lab.tolist())
    assert np.isfinite(scores).all()
    idx2, scores2 = get_strategy(name, random_state=3).query(c, 7)
    np.testing.assert_array_equal(idx, idx2)
    np.testing.assert_allclose(scores, scores2)


@pytest.mark.parametrize("name", ALL)
def test_strategy_rejects_bad_k(ctx, name):
    c, _ = ctx
    for bad in (0, -1, 2.5, "3"):
        with pytest.raises(ValueError, match="positive integer"):
            get_strategy(name).query(c, bad)


def test_bad_parameters_and_names(ctx):
    c, _ = ctx
    with pytest.raises(ValueError, match="unknown strategy 'best'"):
        get_strategy("best")
    for name, params, message in [("density", {"beta": -1}, "beta"), ("diverse", {"oversample": 0}, "oversample"),
                                  ("qbc", {"disagreement": "loud"}, "disagreement"),
                                  ("diverse", {"base": "nope"}, "base must be one of")]:
        strategy = get_strategy(name, **params)  # built as given (scikit-learn style) ...
        with pytest.raises(ValueError, match=message):
            strategy.query(c, 3)  # ... and refused, with the parameter named, at query time


def test_strategies_are_scikit_learn_estimators(ctx):
    from sklearn.base import clone
    c, _ = ctx
    s = get_strategy("diverse", oversample=4, random_state=3)
    assert s.get_params() == {"base": "entropy", "oversample": 4, "random_state": 3}
    s2 = clone(s).set_params(oversample=5)
    assert s2.oversample == 5 and s.oversample == 4
    a, b = get_strategy("random", random_state=7), get_strategy("random", random_state=7)
    first, second = a.query(c, 5)[0], a.query(c, 5)[0]
    assert not np.array_equal(first, second)  # fresh randomness every round ...
    np.testing.assert_array_equal(b.query(c, 5)[0], first)  # ... reproducible from the seed


def test_the_menu_offers_only_what_fits_the_task():
    from al_widgets.core import available_strategies
    reg = available_strategies("regression")
    assert set(reg) == {"random", "max_variance", "expected_model_change", "typiclust", "coreset"}
    assert "margin" in available_strategies("classification") and len(available_strategies("classification")) == 16
    assert set(available_strategies("multilabel")) == {"random", "tag_entropy", "tag_margin", "mmc", "tag_clue"}
    assert not {"tag_entropy", "mmc"} & set(available_strategies("classification"))
    with pytest.raises(ValueError, match="task"):
        available_strategies("clustering")


def test_top_k_is_the_highest_entropy(ctx):
    c, _ = ctx
    idx, scores = get_strategy("entropy").query(c, 5)
    from al_widgets.core.scoring.uncertainty import entropy
    all_scores = entropy(c.proba[c.candidates])
    np.testing.assert_allclose(scores, np.sort(all_scores)[::-1][:5])
    assert (np.diff(scores) <= 0).all()


def test_random_ties_depend_on_seed_only(ctx):
    c, _ = ctx
    a = get_strategy("random", random_state=1).query(c, 10)[0]
    b = get_strategy("random", random_state=2).query(c, 10)[0]
    assert not np.array_equal(a, b)


def test_egl_binary_logistic_by_hand():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [3.0, 4.0]])
    y = np.array([0, 1, 0, 1, 0])
    model = LogisticRegression().fit(X[:4], y[:4])
    c = ScoringContext(model, X, np.array([4]), X[:4], y[:4], [0, 1])
    p = model.predict_proba(X[4:])[0]
    expected = 2 * p[0] * p[1] * np.sqrt(3.0 ** 2 + 4.0 ** 2 + 1.0)  # intercept adds 1
    assert get_strategy("expected_model_change").score(c)[0] == pytest.approx(expected)


def test_egl_multinomial_by_hand(ctx):
    c, _ = ctx
    x = c.X[c.candidates[0]]
    p = c.proba[c.candidates[0]]
    norm = np.sqrt(x @ x + 1)
    expected = sum(p[k] * np.linalg.norm(p - np.eye(10)[k]) * norm for k in range(10))
    assert get_strategy("expected_model_change").score(c)[0] == pytest.approx(expected)


def test_emc_works_for_ovr_sgd_and_regression_and_rejects_trees(small_digits):
    X, y = small_digits
    c, _ = _ctx(X, y, SGDClassifier(loss="log_loss", random_state=0), classes=list(range(10)))
    assert (get_strategy("expected_model_change").score(c) > 0).all()
    yr = X[:, 20] * 3 + X[:, 30]
    cr, _ = _ctx(X, yr, LinearRegression())
    idx, s = get_strategy("expected_model_change").query(cr, 4)
    assert len(idx) == 4 and (s >= 0).all()
    ct, _ = _ctx(X, y, RandomForestClassifier(n_estimators=5, random_state=0), classes=list(range(10)))
    with pytest.raises(TypeError, match="needs a linear model"):
        get_strategy("expected_model_change").score(ct)


def test_max_variance_for_gp_trees_and_classifier_ensembles(small_digits):
    X, y = small_digits
    yr = X[:, 20] * 3 + X[:, 30]
    for model in (GaussianProcessRegressor(), RandomForestRegressor(n_estimators=8, random_state=0),
                  LinearRegression()):
        c, lab = _ctx(X, yr, model)
        idx, s = get_strategy("max_variance").query(c, 5)
        assert len(set(idx.tolist())) == 5 and (s >= 0).all()
    gp_ctx, lab = _ctx(X, yr, GaussianProcessRegressor())
    _, std = gp_ctx.model.predict(X, return_std=True)
    np.testing.assert_allclose(gp_ctx.regression_std, std)
    rf, _ = _ctx(X, y, RandomForestClassifier(n_estimators=8, random_state=0), classes=list(range(10)))
    assert rf.committee.native_ and len(rf.committee.members_) == 8
    np.testing.assert_allclose(rf.member_proba.mean(axis=0), rf.model.predict_proba(X), atol=1e-9)


def test_classifier_strategies_reject_regressors(small_digits):
    X, y = small_digits
    c, _ = _ctx(X, X[:, 20], LinearRegression())
    with pytest.raises(TypeError, match="needs a classifier"):
        get_strategy("entropy").score(c)


def test_diverse_batch_is_more_spread_than_top_k(ctx):
    c, _ = ctx
    F = c.X
    def mean_pairwise(ix):
        d = np.linalg.norm(F[ix][:, None] - F[ix][None], axis=2)
        return d[np.triu_indices(len(ix), 1)].mean()
    top, _ = get_strategy("entropy").query(c, 8)
    div, _ = get_strategy("diverse", random_state=0).query(c, 8)
    assert mean_pairwise(div) > mean_pairwise(top)


def test_density_downweights_outliers(small_digits):
    X, y = small_digits
    Xo = np.vstack([X, np.full((1, X.shape[1]), 1.0) * np.eye(1, X.shape[1], 0)])  # a lone odd vector
    yo = np.append(y, 0)
    c, _ = _ctx(Xo, yo, LogisticRegression(max_iter=300), classes=list(range(10)))
    dens = get_strategy("density").density(c)
    assert dens[-1] < np.median(dens)


def test_text_pipeline_strategies_use_vectorized_features():
    docs = ["good great fine", "bad awful poor", "great good", "poor bad", "fine good", "awful bad",
            "good film", "bad film", "great plot", "awful plot"] * 3
    y = np.array(["pos", "neg"] * 15)
    X = np.array(docs, dtype=object)
    c, lab = _ctx(X, y, make_pipeline(TfidfVectorizer(), LogisticRegression()), n_lab=10, classes=["neg", "pos"])
    for name in ("diverse", "density", "expected_model_change", "entropy"):
        idx, _ = get_strategy(name, random_state=0).query(c, 3)
        assert len(set(idx.tolist())) == 3


def test_cold_start_picks_one_sample_per_cluster():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    F = np.vstack([c + rng.normal(0, 0.3, (30, 2)) for c in centres])
    idx, scores = cold_start(F, np.arange(90), 3, random_state=0)
    assert sorted((idx // 30).tolist()) == [0, 1, 2]
    assert np.all(np.diff(scores) < 0)  # the order, as a score


def test_coverage_reaches_the_cluster_farthest_from_the_labels_first():
    """Three blobs, labels in two of them: the first pick is in the third, far one; then the rest spread."""
    from al_widgets.core.strategies.coldstart import coverage
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [3, 0], [30, 30]])
    sizes = [400, 400, 20]  # the far blob is rare
    F = np.vstack([c + rng.normal(0, 0.5, (n, 2)) for c, n in zip(centres, sizes)])
    labeled = np.array([0, 1, 400, 401])
    cand = np.setdiff1d(np.arange(len(F)), labeled)
    idx, _ = coverage(F, cand, labeled, 3, random_state=0)
    assert idx[0] >= 800  # the rare, far blob first
    assert len(set(idx.tolist())) == 3 and not set(idx.tolist()) & set(labeled.tolist())


def test_class_coverage_takes_turns_with_the_strategy():
    """While a class has no label, the spread picks (P) and the strategy's order (S) alternate, the
    spread first after an even number of labels: with picks [7, 8] and order [1, 7, 2, 3] (7 is both),
    4 labels give 7 1 8 2 3 and 5 labels give 1 7 2 8 3; once every class has a label, the order
    alone."""
    from al_widgets.core.data.pool import Pool
    from al_widgets.core.session.training import InMemoryBackend, _alternating
    assert _alternating(2, 3, 0).tolist() == [0, 2, 1, 3, 4]
    assert _alternating(2, 3, 1).tolist() == [2, 0, 3, 1, 4]
    assert _alternating(3, 1, 0).tolist() == [0, 3, 1, 2]
    backend = InMemoryBackend(Pool(np.arange(20.0).reshape(10, 2), classes=[0, 1, 2]))
    backend._spread = lambda labeled, model, k, random_state: [7, 8]
    order, scores = np.array([1, 7, 2, 3]), np.array([0.9, 0.8, 0.7, 0.6])
    got, got_scores = backend.cover(order, scores, np.array([0, 4, 5, 6]), np.array([0, 0, 1, 1]))
    assert got.tolist() == [7, 1, 8, 2, 3] and got_scores.tolist() == [1.0, 0.9, 1.0, 0.7, 0.6]
    got, _ = backend.cover(order, scores, np.array([0, 4, 5, 6, 9]), np.array([0, 0, 1, 1, 0]))
    assert got.tolist() == [1, 7, 2, 8, 3]
    got, _ = backend.cover(order, scores, np.array([0, 4, 5]), np.array([0, 1, 2]))
    assert got.tolist() == order.tolist()


def test_every_strategy_keeps_its_parameters():
    """Each registered strategy stores what it was given (scikit-learn's get_params / clone contract):
    a subclass passing its parameters on by position once put ``random_state`` into another slot."""
    import inspect
    from sklearn.base import clone
    from al_widgets.core.strategies.catalog import REGISTRY
    for name, cls in REGISTRY.items():
        if "random_state" not in inspect.signature(cls.__init__).parameters:
            continue
        strategy = get_strategy(name, random_state=5)
        assert strategy.get_params()["random_state"] == 5, name
        assert clone(strategy).get_params() == strategy.get_params(), name
