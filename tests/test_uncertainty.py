import numpy as np
import pytest
from sklearn.svm import LinearSVC

from al_widgets.core import uncertainty as U

P = np.array([[0.7, 0.2, 0.1],
              [0.4, 0.4, 0.2],
              [1.0, 0.0, 0.0]])


def test_least_confidence_by_hand():
    np.testing.assert_allclose(U.least_confidence(P), [0.3, 0.6, 0.0])


def test_margin_by_hand():
    # 1 - (p1 - p2): 1 - 0.5, 1 - 0.0, 1 - 1.0
    np.testing.assert_allclose(U.margin(P), [0.5, 1.0, 0.0])


def test_entropy_by_hand():
    h0 = -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1))
    h1 = -(2 * 0.4 * np.log(0.4) + 0.2 * np.log(0.2))
    np.testing.assert_allclose(U.entropy(P), [h0, h1, 0.0], atol=1e-9)
    assert U.entropy(np.array([[0.5, 0.5]]))[0] == pytest.approx(np.log(2))


def test_decomposition_by_hand_and_sums_to_total():
    # two members: confident and opposite -> all uncertainty is epistemic
    members = np.array([[[1.0, 0.0], [0.5, 0.5]],
                        [[0.0, 1.0], [0.5, 0.5]]])
    d = U.uncertainty_decomposition(members)
    np.testing.assert_allclose(d["total"], [np.log(2), np.log(2)], atol=1e-9)
    np.testing.assert_allclose(d["aleatoric"], [0.0, np.log(2)], atol=1e-9)
    np.testing.assert_allclose(d["epistemic"], [np.log(2), 0.0], atol=1e-9)
    rng = np.random.default_rng(1)
    m = rng.dirichlet(np.ones(4), size=(7, 50))
    d = U.uncertainty_decomposition(m)
    np.testing.assert_allclose(d["aleatoric"] + d["epistemic"], d["total"], atol=1e-12)
    assert (d["epistemic"] >= 0).all()
    np.testing.assert_allclose(U.bald(m), d["epistemic"])


def test_vote_entropy_and_consensus_kl_by_hand():
    members = np.array([[[0.9, 0.1]], [[0.8, 0.2]], [[0.3, 0.7]], [[0.6, 0.4]]])
    # votes: 0, 0, 1, 0 -> distribution (3/4, 1/4)
    assert U.vote_entropy(members)[0] == pytest.approx(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))
    mean = members.mean(axis=0)[0]
    kl = np.mean([np.sum(p * np.log(p / mean)) for p in members[:, 0]])
    assert U.consensus_kl(members)[0] == pytest.approx(kl)
    agree = np.array([[[0.9, 0.1]], [[0.9, 0.1]]])
    assert U.vote_entropy(agree)[0] == pytest.approx(0.0)
    assert U.consensus_kl(agree)[0] == pytest.approx(0.0, abs=1e-12)


def test_committee_variance_by_hand():
    preds = np.array([[1.0, 2.0], [3.0, 2.0]])
    np.testing.assert_allclose(U.committee_variance(preds), [1.0, 0.0])


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="2-D"):
        U.entropy(np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="3-D"):
        U.bald(P)


def test_decision_function_fallback_gives_probabilities(digits):
    X, y = digits
    model = LinearSVC().fit(X[:200], y[:200])
    proba, calibrated = U.predict_proba(model, X[200:260])
    assert not calibrated
    assert proba.shape == (60, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba.argmax(axis=1) == model.predict(X[200:260])).all()


def test_model_without_scores_gets_clear_error():
    class Dummy:
        pass
    with pytest.raises(TypeError, match="neither predict_proba nor decision_function"):
        U.predict_proba(Dummy(), P)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_float32_logistic_path_matches_scikit_learn(n_classes):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from al_widgets.core.scoring.uncertainty import predict_proba
    X, y = make_classification(5000, n_features=12, n_informative=6, n_classes=n_classes, random_state=0)
    X32 = X.astype(np.float32)
    model = LogisticRegression(max_iter=1000).fit(X32[:500], y[:500])
    fast, calibrated = predict_proba(model, X32)
    assert fast.dtype == np.float32 and calibrated
    np.testing.assert_allclose(fast, model.predict_proba(X32), rtol=1e-4, atol=1e-6)
    slow, _ = predict_proba(model, X)  # float64 input: scikit-learn's own path
    assert slow.dtype == np.float64


def test_the_fused_summary_equals_each_score_by_hand():
    from al_widgets.core.scoring.uncertainty import proba_summary
    p = np.array([[0.5, 0.3, 0.2], [0.4, 0.4, 0.2], [0.1, 0.1, 0.8], [1.0, 0.0, 0.0]])
    s = proba_summary(p, chunk=3)  # two chunks
    np.testing.assert_allclose(s["margin"], [0.8, 1.0, 0.3, 0.0])  # 1 - (top - second); a tie scores 1
    np.testing.assert_allclose(s["least_confidence"], [0.5, 0.6, 0.2, 0.0])
    np.testing.assert_allclose(s["entropy"][0], -(0.5 * np.log(0.5) + 0.3 * np.log(0.3) + 0.2 * np.log(0.2)))
    np.testing.assert_allclose(s["max"], [0.5, 0.4, 0.8, 1.0])
    assert s["argmax"].tolist() == [0, 0, 2, 0]  # ties go to the first class, as argmax does
    rng = np.random.default_rng(0)
    q = rng.dirichlet(np.ones(7), 1000)
    t = proba_summary(q, chunk=128)
    for name, f in (("margin", U.margin), ("least_confidence", U.least_confidence), ("entropy", U.entropy)):
        np.testing.assert_allclose(t[name], f(q), rtol=1e-12, atol=1e-12)
    assert (t["argmax"] == q.argmax(1)).all()


@pytest.mark.parametrize("kind", ["logistic", "sgd"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_the_fused_logistic_pass_equals_predict_proba(n_classes, kind):
    from sklearn.linear_model import LogisticRegression, SGDClassifier

    from al_widgets.core.scoring.uncertainty import linear_summary, proba_summary
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5000, 6)).astype(np.float32)
    y = rng.integers(0, n_classes, 5000)
    X[np.arange(5000), y] += 2
    # SGD with the log loss: one-vs-rest sigmoids normalized, not a softmax (would differ by ~0.1)
    model = LogisticRegression(max_iter=500) if kind == "logistic" else SGDClassifier(loss="log_loss", random_state=0)
    model.fit(X[:400], y[:400])
    fused = linear_summary(model, X, chunk=1000)
    want = proba_summary(model.predict_proba(X.astype(np.float64)))
    for k in ("margin", "least_confidence", "entropy", "max"):
        np.testing.assert_allclose(fused[k], want[k], atol=2e-5)
    assert (fused["argmax"] == model.predict(X)).mean() > 0.999
    exact = linear_summary(model, X.astype(np.float64))  # float64 pools: the same pass in float64
    assert exact["margin"].dtype == np.float64
    for k in ("margin", "least_confidence", "entropy", "max"):
        np.testing.assert_allclose(exact[k], want[k], atol=1e-12)
    assert (exact["argmax"] == model.predict(X.astype(np.float64))).all()
    assert linear_summary(model, X.astype(np.float16)) is None


def test_one_vs_rest_probabilities_where_every_sigmoid_underflows_are_uniform():
    from sklearn.linear_model import SGDClassifier

    from al_widgets.core.scoring.uncertainty import linear_summary, predict_proba
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    model = SGDClassifier(loss="log_loss", random_state=0).fit(X, rng.integers(0, 3, 300))
    model.coef_[:] = 0.0
    model.intercept_[:] = -1000.0  # every class's sigmoid is exactly 0 (also in float64)
    far = X.astype(np.float32)
    proba, _ = predict_proba(model, far)
    np.testing.assert_allclose(proba, np.full((300, 3), 1 / 3), rtol=1e-6)
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=1e-6)
    assert np.allclose(linear_summary(model, X)["max"], 1 / 3)


def test_summary_classes_follow_the_pool_when_the_model_saw_only_some():
    from sklearn.linear_model import LogisticRegression

    from al_widgets.core.scoring.context import ScoringContext
    rng = np.random.default_rng(2)
    X = rng.normal(size=(600, 4)).astype(np.float32)
    y = np.array(["b", "d", "e"])[rng.integers(0, 3, 600)]
    model = LogisticRegression(max_iter=500).fit(X, y)
    ctx = ScoringContext(model, X, np.arange(600), classes=["a", "b", "c", "d", "e"])
    codes = ctx.summary["argmax"]
    assert (np.array(["a", "b", "c", "d", "e"])[codes] == model.predict(X)).all()
