"""CoreSet, TypiClust and BADGE: small cases checked by hand, reproducibility, clear errors."""
import numpy as np
import pytest
from sklearn.datasets import load_digits, make_blobs
from sklearn.linear_model import LogisticRegression

from al_widgets.core.scoring.context import ScoringContext
from al_widgets.core.strategies.catalog import available_strategies, get_strategy
from al_widgets.core.strategies.batch import BADGE, CoreSet, TypiClust, gradient_embedding_factors

NEW = ["coreset", "typiclust", "badge", "clue", "focused_clue"]


def _ctx(X, labeled, y=None, k=1, model=None):
    labeled = np.asarray(labeled, dtype=int)
    cand = np.setdiff1d(np.arange(len(X)), labeled)
    y_l = None if y is None else y[labeled]
    classes = None if y is None else np.unique(y).tolist()
    return ScoringContext(model, X, cand, X[labeled], y_l, classes, labeled=labeled, batch_size=k)


@pytest.fixture(scope="module")
def digits_fit():
    X, y = load_digits(return_X_y=True)
    X = X[:600] / 16.0
    y = y[:600]
    labeled = np.random.default_rng(0).choice(len(X), 40, replace=False)
    model = LogisticRegression(max_iter=1000).fit(X[labeled], y[labeled])
    return X, y, labeled, model


@pytest.mark.parametrize("name", NEW)
def test_k_distinct_unlabeled_and_reproducible(name, digits_fit):
    X, y, labeled, model = digits_fit
    picks = []
    for _ in range(2):
        idx, scores = get_strategy(name, random_state=3).query(_ctx(X, labeled, y, 12, model), 12)
        assert len(idx) == 12 and len(set(idx.tolist())) == 12 and not set(idx.tolist()) & set(labeled.tolist())
        assert len(scores) == 12 and np.all(np.isfinite(scores))
        picks.append(idx.tolist())
    assert picks[0] == picks[1]  # same random_state, same picks
    assert name in available_strategies("classification", every_class_seen=False)


@pytest.mark.parametrize("name", NEW)
def test_bad_k_is_a_clear_error(name, digits_fit):
    X, y, labeled, model = digits_fit
    for k in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="k .*positive integer"):
            get_strategy(name).query(_ctx(X, labeled, y, 1, model), k)


@pytest.mark.parametrize("param", ["n_neighbors", "max_clusters", "max_reference"])
def test_typiclust_rejects_bad_parameters(param, digits_fit):
    X, y, labeled, model = digits_fit
    for bad in (0, -1, 2.5, "3"):
        with pytest.raises(ValueError, match=param):
            TypiClust(**{param: bad}).query(_ctx(X, labeled, y, 2, model), 2)


def test_badge_needs_a_classifier_and_numeric_features():
    from sklearn.linear_model import Ridge
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.arange(10, dtype=float)
    ctx = _ctx(X, [0, 1, 2], y, 1, Ridge().fit(X[:3], y[:3]))
    with pytest.raises(TypeError, match="needs a classifier"):
        BADGE().query(ctx, 1)
    with pytest.raises(RuntimeError, match="needs a trained model"):
        BADGE().query(_ctx(X, [0], None, 1, None), 1)


def test_k_center_greedy_on_a_line():
    """Points 0..10 on a line, 0 labeled: the farthest is 10, then the middle, 5."""
    X = np.arange(11, dtype=float).reshape(-1, 1)
    idx, scores = CoreSet(random_state=0).query(_ctx(X, [0], k=2), 2)
    assert idx.tolist() == [10, 5]
    assert scores.tolist() == [10.0, 5.0]  # distance to the nearest labeled point
    idx, _ = CoreSet(random_state=0).query(_ctx(X, [0, 10], k=3), 3)
    assert idx.tolist()[0] == 5 and sorted(idx.tolist()[1:]) in ([2, 7], [2, 8], [3, 7], [3, 8])


def test_typiclust_picks_the_densest_point_of_each_uncovered_cluster():
    """Cluster A = -1, -0.1, 0, 0.1, 1 (its most typical point is 0); cluster B = 99, 100, 101."""
    X = np.array([-1, -0.1, 0, 0.1, 1, 99, 100, 101], dtype=float).reshape(-1, 1)
    idx, _ = TypiClust(n_neighbors=2, random_state=0).query(_ctx(X, [], k=2), 2)
    assert X[idx, 0].tolist() == [0.0, 100.0]  # larger cluster first
    idx, _ = TypiClust(n_neighbors=2, random_state=0).query(_ctx(X, [0], k=1), 1)
    assert X[idx, 0].tolist() == [100.0]  # cluster A holds a label: it is covered


def test_badge_embedding_is_the_cross_entropy_gradient():
    """Against a finite-difference gradient of -log softmax(W z + b)[y_hat] with respect to W."""
    X, y = make_blobs(60, n_features=3, centers=3, random_state=0)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    ctx = _ctx(X, np.arange(30), y, 1, model)
    A, Z = gradient_embedding_factors(ctx)
    W, b = model.coef_.copy(), model.intercept_
    for i in (31, 45, 59):
        z = X[i]
        y_hat = int(np.argmax(model.predict_proba(z[None])[0]))

        def loss(Wm):
            logits = Wm @ z + b
            return -(logits[y_hat] - np.log(np.exp(logits).sum()))

        eps = 1e-6
        num = np.zeros_like(W)
        for r in range(W.shape[0]):
            for c in range(W.shape[1]):
                Wp, Wm = W.copy(), W.copy()
                Wp[r, c] += eps
                Wm[r, c] -= eps
                num[r, c] = (loss(Wp) - loss(Wm)) / (2 * eps)
        assert np.allclose(np.outer(A[i], Z[i]), num, atol=1e-5)


def test_badge_batch_is_diverse_not_near_duplicates():
    """Twenty copies of the most uncertain point: margin takes five of them, BADGE at most one."""
    X, y = make_blobs(200, n_features=2, centers=[[-3, 0], [3, 0]], cluster_std=1.0, random_state=0)
    labeled = np.r_[np.flatnonzero(y == 0)[:5], np.flatnonzero(y == 1)[:5]]
    model = LogisticRegression().fit(X[labeled], y[labeled])
    p = model.predict_proba(X)
    p[labeled] = 0
    worst = int(np.argmin(np.abs(p[:, 0] - p[:, 1]) + (p.sum(axis=1) == 0)))
    X2 = np.vstack([X, np.repeat(X[[worst]], 20, axis=0)])
    y2 = np.r_[y, np.full(20, y[worst])]
    badge, _ = BADGE(random_state=0).query(_ctx(X2, labeled, y2, 5, model), 5)
    margin, _ = get_strategy("margin", random_state=0).query(_ctx(X2, labeled, y2, 5, model), 5)
    copies = set(range(200, 220)) | {worst}
    assert sum(i in copies for i in margin) == 5
    assert sum(i in copies for i in badge) == 1


def test_clue_picks_the_sample_nearest_the_uncertainty_weighted_centre():
    from al_widgets.core.strategies.batch import CLUE
    X = np.array([0.0, 1.0, 2.0, 3.0, 10.0]).reshape(-1, 1)
    ctx = _ctx(X, [], k=1)
    idx, _ = CLUE(random_state=0).query_scored(ctx, 1, np.ones(5))  # centre 3.2: nearest is 3
    assert idx.tolist() == [3]
    idx, _ = CLUE(random_state=0).query_scored(ctx, 1, np.array([1.0, 1.0, 1.0, 1e-9, 1e-9]))  # centre ~1
    assert idx.tolist() == [1]


def test_focused_clue_stays_on_the_boundary_where_clue_follows_the_mass():
    """1-D pool: labels at 0 (class 0) and 10 (class 1), a dense cluster of confident samples near 1
    and three samples around the boundary (4, 5, 6).  The paper's entropy weights leave the dense
    cluster enough weight to pull the one centre into it; margin weights cubed keep it at the boundary."""
    from al_widgets.core.strategies.batch import CLUE, FocusedCLUE
    from al_widgets.core.scoring.uncertainty import margin
    X = np.array([0.0, 10.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 4.0, 5.0, 6.0]).reshape(-1, 1)
    y = np.array([0, 1] + [0] * 8 + [1, 1])
    model = LogisticRegression(C=0.1).fit(X[:2], y[:2])
    clue_pick, _ = CLUE(random_state=0).query(_ctx(X, [0, 1], y, 1, model), 1)
    focused_pick, _ = FocusedCLUE(random_state=0).query(_ctx(X, [0, 1], y, 1, model), 1)
    assert 0.5 <= X[clue_pick[0], 0] <= 1.1
    assert X[focused_pick[0], 0] in (4.0, 5.0, 6.0)
    u = margin(model.predict_proba(X[2:]))
    assert np.allclose(FocusedCLUE().score(_ctx(X, [0, 1], y, 1, model)), (u / u.max()) ** 3)


@pytest.mark.parametrize("params, match", [({"uncertainty": "bald"}, "uncertainty must be one of"),
                                           ({"power": 0}, "power must be"), ({"power": "3"}, "power must be")])
def test_clue_parameters_are_checked(params, match, digits_fit):
    from al_widgets.core.strategies.batch import FocusedCLUE
    X, y, labeled, model = digits_fit
    with pytest.raises(ValueError, match=match):
        FocusedCLUE(**params).query(_ctx(X, labeled, y, 3, model), 3)


def test_features_of_rows_vectorizes_only_those_rows():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    docs = np.array(["red apple", "green apple", "red car", "blue car", "green tree", "blue sky"], dtype=object)
    y = np.array([0, 0, 1, 1, 0, 1])
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(docs, y)
    seen = []
    tfidf = pipe[0]
    original = tfidf.transform
    tfidf.transform = lambda rows: (seen.append(len(rows)), original(rows))[1]
    ctx = ScoringContext(pipe, docs, np.arange(2, 6), docs[:2], y[:2], [0, 1], labeled=np.arange(2))
    part = ctx.features_of(np.array([3, 5]))
    assert seen == [2]  # two documents vectorized, not six
    np.testing.assert_allclose(part.toarray(), original(docs[[3, 5]]).toarray())
    idx, _ = get_strategy("focused_clue", random_state=0).query(ctx, 2)
    assert len(set(idx.tolist())) == 2 and sorted(seen[1:]) == [4, 6]  # scoring saw all 6, k-means its 4 candidates


@pytest.mark.parametrize("name", ["coreset", "typiclust", "badge"])
def test_a_strategy_keeps_no_state_between_rounds(name, digits_fit):
    """Issue 21: per-round state lived on the strategy (CoreSet.min_dist_, BADGE.A_) and was read by a
    later round's ``query_scored`` whenever it had as many candidates.  It lives in the round's context."""
    X, y, labeled, model = digits_fit
    s = get_strategy(name, random_state=0)
    s.score(_ctx(X, labeled, y, k=5, model=model))  # round 1 scored ...
    assert set(vars(s)) - {"_rng_state"} == set(s.get_params())  # ... and left nothing on the strategy
    X2 = np.random.default_rng(1).permutation(X)  # round 2: as many candidates, other data
    s.set_params(random_state=7)  # (a new random stream, to compare with a fresh strategy)
    fresh = get_strategy(name, random_state=7)
    scores = np.ones(len(X) - len(labeled))
    got = s.query_scored(_ctx(X2, labeled, y, k=5, model=model), 5, scores)
    want = fresh.query_scored(_ctx(X2, labeled, y, k=5, model=model), 5, scores)
    np.testing.assert_array_equal(got[0], want[0])


def test_one_rule_for_integer_and_number_parameters():
    from al_widgets.core import SessionSettings
    from al_widgets.core.params import check_k
    assert check_k(np.int64(3)) == 3 and type(check_k(np.int32(3))) is int
    for bad in (True, 0, -1, 2.0, "3", None):
        with pytest.raises(ValueError, match="k .*must be a positive integer"):
            check_k(bad)
    assert SessionSettings(batch_size=np.int64(4), overlap=np.float32(0.5)).batch_size == 4  # numpy numbers pass
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got True"):
        SessionSettings(batch_size=True)
    with pytest.raises(ValueError, match="overlap must be a share between 0 and 1, got 1.5"):
        SessionSettings(overlap=1.5)
    with pytest.raises(ValueError, match="n_neighbors must be a positive integer"):
        get_strategy("typiclust", n_neighbors=np.float64(2.5)).validate()
    get_strategy("typiclust", n_neighbors=np.int64(5)).validate()
    get_strategy("auto", typical_per_class=np.int32(2), imbalance=np.float32(1.5)).validate()


def test_feature_weights_follow_the_fitted_model():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.svm import SVC
    from al_widgets.core.scoring.context import feature_weights
    lr = LogisticRegression().fit(np.array([[0.0, 0], [1, 0], [0, 1], [1, 1]]), [0, 1, 0, 1])
    lr.coef_ = np.array([[2.0, 0.0, -1.0]])  # by hand: the weight is |coef| scaled to a maximum of 1
    np.testing.assert_allclose(feature_weights(lr), [1.0, 0.0, 0.5])
    lr.coef_ = np.array([[3.0, 0.0], [0.0, 4.0], [0.0, 0.0]])  # classes: root mean square per feature
    np.testing.assert_allclose(feature_weights(lr), [np.sqrt(3.0), np.sqrt(16 / 3)] / np.sqrt(16 / 3))
    rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(np.c_[np.arange(20), np.zeros(20)],
                                                                    np.arange(20) > 9)
    np.testing.assert_allclose(feature_weights(rf), [1.0, 0.0])  # the constant column is never used
    assert feature_weights(SVC(kernel="rbf").fit(np.eye(4), [0, 1, 0, 1])) is None


def test_clue_in_the_models_space_ignores_a_feature_the_model_does_not_use():
    """Two classes told apart by feature 0; feature 1 is wide noise.  In the raw features k-means with
    k=2 splits along the noise; in the model's space it splits along feature 0."""
    rng = np.random.default_rng(0)
    n = 400
    x0 = np.r_[rng.normal(-1, 0.2, n // 2), rng.normal(1, 0.2, n // 2)]
    X = np.c_[x0, rng.normal(0, 20, n)]
    y = (x0 > 0).astype(int)
    lab = np.r_[0, 1, n - 2, n - 1, 5, n - 6]
    model = LogisticRegression().fit(X[lab], y[lab])
    model.coef_ = np.array([[3.0, 0.0]])  # a model that uses feature 0 only
    model.intercept_ = np.array([0.0])
    cand = np.setdiff1d(np.arange(n), lab)
    picks = {}
    for space in ("features", "model"):
        ctx = ScoringContext(model, X, cand, X[lab], y[lab], [0, 1], random_state=0, labeled=lab,
                             task="classification")
        strat = get_strategy("clue", space=space, power=1e-3, random_state=0)  # weights ~ equal: geometry only
        picks[space] = strat.query(ctx, 2)[0]
    assert sorted(np.sign(X[picks["model"], 0]).tolist()) == [-1.0, 1.0]  # one per class
    assert abs(X[picks["features"], 1]).max() > 5  # the raw split follows the noise
    with pytest.raises(ValueError, match="space must be one of"):
        get_strategy("clue", space="pixels").validate()


def test_clue_balance_weighs_samples_of_classes_with_few_labels():
    """Labels: four of class 0, one of class 1.  With ``balance`` b, each weight is multiplied by
    ``(mean count / count of the predicted class) ** b`` on counts + 1 = [5, 2] (mean 3.5): 0.7 ** b
    for samples predicted 0, 1.75 ** b for samples predicted 1, then normalized to a maximum of 1."""
    from al_widgets.core.strategies.batch import FocusedCLUE
    X = np.array([0.0, 0.5, 1.0, 1.5, 10.0, 3.9, 4.0, 4.1, 5.0, 5.9, 6.0, 6.1]).reshape(-1, 1)
    y = np.array([0, 0, 0, 0, 1] + [0] * 4 + [1] * 3)
    labeled = np.arange(5)
    model = LogisticRegression().fit(X[labeled], y[labeled])
    model.coef_, model.intercept_ = np.array([[1.0]]), np.array([-5.02])  # the boundary just right of 5
    plain = FocusedCLUE(random_state=0).score(_ctx(X, labeled, y, 1, model))
    for b in (1.0, 2.0):
        boosted = FocusedCLUE(balance=b, random_state=0).score(_ctx(X, labeled, y, 1, model))
        predicted = (X[5:, 0] > 5.02).astype(int)
        expected = plain * np.where(predicted == 1, 1.75 ** b, 0.7 ** b)
        np.testing.assert_allclose(boosted, expected / expected.max())
    # one pick: the plain weights centre it on the boundary sample (5.0); with the boost it moves to
    # the side the model gives to the class with one label
    assert X[FocusedCLUE(random_state=0).query(_ctx(X, labeled, y, 1, model), 1)[0][0], 0] == 5.0
    pick = FocusedCLUE(balance=2.0, random_state=0).query(_ctx(X, labeled, y, 1, model), 1)[0][0]
    assert X[pick, 0] > 5.02
    with pytest.raises(ValueError, match="balance"):
        FocusedCLUE(balance=-1).query(_ctx(X, labeled, y, 1, model), 1)
