"""Multi-label pools end to end in the engine: tag sets checked, stored, read back, exported; models,
strategies by hand, simulation metrics, agreement on sets (MASI) by hand."""
import io

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier
from sklearn.ensemble import RandomForestClassifier

from al_widgets import ActiveLearningSession, simulate
from al_widgets.core import Pool, ScoringContext, get_strategy
from al_widgets.core.data.labels import TagSet
from al_widgets.core.review.quality import agreement, annotations
from al_widgets.core.review.sets import alpha, masi_distance, tag_kappas
from al_widgets.core.scoring.tags import tag_proba, tag_summary
from al_widgets.core.strategies.multilabel import mmc_scores, predict_tag_counts

TAGS = ["billing", "urgent", "spam"]


def _ovr():
    return OneVsRestClassifier(LogisticRegression(max_iter=300))


def _pool(n=40, labels=None, seed=0):
    X = np.random.default_rng(seed).normal(size=(n, 3))
    return Pool(X, classes=TAGS, task="multilabel", labels=labels)


# ---------------------------------------------------------------- labels
def test_a_tag_set_is_checked_and_written_in_tag_order():
    pool = _pool()
    assert pool.check_label(["urgent", "billing"]) == ("billing", "urgent")
    assert pool.check_label("spam|billing") == ("billing", "spam")
    assert pool.check_label(np.array([0, 1, 1])) == ("urgent", "spam")
    assert pool.check_label([]) == () and pool.check_label("") == ()  # "none of these" is an answer
    assert pool.check_label(["urgent", "urgent"]) == ("urgent",)
    with pytest.raises(ValueError, match="unknown tag 'refund'.*billing"):
        pool.check_label(["billing", "refund"])
    with pytest.raises(ValueError, match="set of tags"):
        pool.check_label(3.5)
    assert str(TagSet(["billing", "urgent"])) == "billing, urgent" and str(TagSet()) == "(none)"


def test_tags_come_from_the_labels_when_not_given_and_a_separator_in_a_tag_is_refused():
    X = np.zeros((4, 2))
    pool = Pool(X, labels=["b|a", None, ["c"], ""], task="multilabel")
    assert pool.classes == ["a", "b", "c"]
    assert list(pool.labels) == [("a", "b"), None, ("c",), ()]
    with pytest.raises(ValueError, match="contains '\\|'"):
        Pool(X, classes=["a|b", "c"], task="multilabel")
    with pytest.raises(ValueError, match="task must be one of"):
        Pool(X, classes=TAGS, task="tags")


def test_a_tag_set_survives_the_store_a_restart_and_the_export_byte_for_byte(tmp_path):
    path = tmp_path / "tags.sqlite"
    s = ActiveLearningSession(_ovr(), _pool(), store=path, background=False)
    s.submit(0, ["urgent", "billing"])
    s.submit(1, [])  # none of these
    s.submit(2, "spam|urgent")
    s.skip(3)  # a skip is not an answer: no row
    s.close()
    again = ActiveLearningSession(_ovr(), _pool(), store=path, background=False)
    assert again.labels == {0: ("billing", "urgent"), 1: (), 2: ("urgent", "spam")}
    assert all(isinstance(v, TagSet) for v in again.labels.values())
    buf = io.StringIO()
    again.store.export_csv(buf)
    again.close()
    exported = pd.read_csv(io.StringIO(buf.getvalue()), dtype=str, keep_default_na=False)
    assert exported[["sample_id", "label"]].values.tolist() == [["0", "billing|urgent"], ["1", ""],
                                                               ["2", "urgent|spam"]]
    lines = buf.getvalue().splitlines()
    assert lines[1].split(",")[:3] == ["1", "0", "billing|urgent"] and lines[2].split(",")[:3] == ["2", "1", ""]


def test_the_training_labels_are_an_indicator_matrix_in_tag_order():
    s = ActiveLearningSession(_ovr(), _pool(), background=False)
    s.submit(5, ["spam"])
    s.submit(2, ["billing", "urgent"])
    s.submit(9, [])
    with s.book.lock:
        idx, y = s.book.arrays()
    assert idx.tolist() == [2, 5, 9]
    assert y.tolist() == [[1, 1, 0], [0, 0, 1], [0, 0, 0]]
    s.submit(7, ["urgent"])  # inserted into the previous arrays
    with s.book.lock:
        idx, y = s.book.arrays()
    assert idx.tolist() == [2, 5, 7, 9] and y.tolist() == [[1, 1, 0], [0, 0, 1], [0, 1, 0], [0, 0, 0]]


# ---------------------------------------------------------------- models
def test_a_single_label_model_or_strategy_is_refused_with_what_to_use_instead():
    with pytest.raises(TypeError, match=r"OneVsRestClassifier\(LogisticRegression\(\)\)"):
        ActiveLearningSession(LogisticRegression(), _pool(), background=False)
    with pytest.raises(ValueError, match="cannot rank a multi-label pool.*tag_clue"):
        ActiveLearningSession(_ovr(), _pool(), "margin", background=False)
    with pytest.raises(ValueError, match="cannot rank a single-label pool"):
        ActiveLearningSession(LogisticRegression(), Pool(np.zeros((4, 2)), classes=[0, 1]), "mmc", background=False)


@pytest.mark.parametrize("model", [_ovr(), MultiOutputClassifier(LogisticRegression(max_iter=300)),
                                   RandomForestClassifier(n_estimators=20, random_state=0)],
                         ids=["one-vs-rest", "multi-output", "native"])
def test_any_multilabel_estimator_trains_and_gives_one_probability_per_tag(model):
    X, Y = make_multilabel_classification(n_samples=200, n_features=6, n_classes=3, random_state=0)
    s = ActiveLearningSession(model, Pool(X, classes=TAGS, task="multilabel"), background=False)
    for i in range(20):
        s.submit(i, Y[i])
    res = s.retrain()
    assert not res.cold_start and res.tag_proba.shape == (200, 3)
    assert np.all((res.tag_proba >= 0) & (res.tag_proba <= 1))
    assert res.prediction[25] == tuple(t for t, p in zip(TAGS, res.tag_proba[25]) if p >= 0.5)
    s.close()


def test_before_some_tag_varies_the_session_waits_with_a_cold_start():
    s = ActiveLearningSession(_ovr(), _pool(), background=False)
    s.submit(0, ["billing"])
    s.submit(1, ["billing"])
    res = s.retrain()
    assert res.cold_start and "tag that some labeled samples carry and others do not" in res.message
    s.submit(2, [])
    assert not s.retrain().cold_start


def test_tag_probabilities_of_a_multi_output_list_are_the_positive_columns():
    X, Y = make_multilabel_classification(n_samples=80, n_features=4, n_classes=3, random_state=1)
    Y[:, 2] = 0  # a tag nobody carries: its forest sees one value only
    rf = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, Y)
    P = tag_proba(rf, X)
    expected = [p[:, 1] for p in rf.predict_proba(X)[:2]]
    np.testing.assert_allclose(P[:, :2], np.column_stack(expected), rtol=1e-6)
    assert np.all(P[:, 2] == 0)


# ---------------------------------------------------------------- strategies by hand
def test_tag_summaries_by_hand():
    P = np.array([[0.5, 0.0, 1.0], [0.9, 0.1, 0.9], [0.5, 0.5, 0.5]])
    s = tag_summary(P)
    np.testing.assert_allclose(s["entropy"], [1 / 3, 0.469 * 3 / 3 * 1, 1.0], atol=1e-3)
    np.testing.assert_allclose(s["min_margin"], [1.0, 0.2, 1.0], atol=1e-6)
    np.testing.assert_allclose(s["set_confidence"], [0.5, 0.729, 0.125], atol=1e-6)
    assert s["n_tags"].tolist() == [2, 2, 3]


def _ctx_with(P, labeled=None, y=None):
    class Fixed:
        classes_ = np.arange(P.shape[1])

        def predict_proba(self, X):
            return P[np.asarray(X, dtype=int).ravel()]
    n = len(P)
    labeled = np.array([] if labeled is None else labeled, dtype=int)
    cand = np.setdiff1d(np.arange(n), labeled)
    return ScoringContext(Fixed(), np.arange(n).reshape(-1, 1), cand, None, y, list(range(P.shape[1])),
                          labeled=labeled, task="multilabel")


def test_tag_margin_picks_the_sample_with_a_coin_flip_tag_and_tag_entropy_the_most_uncertain_overall():
    P = np.array([[0.5, 0.99, 0.99], [0.3, 0.3, 0.3], [0.9, 0.9, 0.9]])
    ctx = _ctx_with(P)
    assert get_strategy("tag_margin").query(ctx, 1)[0].tolist() == [0]
    assert get_strategy("tag_entropy").query(ctx, 1)[0].tolist() == [1]


def test_mmc_by_hand():
    # two tags predicted for the row: the loss reduction sums (1 - y f) / 2 with f = 2p - 1
    P = np.array([[0.9, 0.6, 0.2]])
    # top-2 tags are +1: (1 - 0.8)/2 + (1 - 0.2)/2 + (1 - 0.6)/2 = 0.1 + 0.4 + 0.2
    np.testing.assert_allclose(mmc_scores(P, np.array([2])), [0.7])
    # one tag: (1 - 0.8)/2 + (1 + 0.2)/2 + (1 - 0.6)/2 = 0.1 + 0.6 + 0.2
    np.testing.assert_allclose(mmc_scores(P, np.array([1])), [0.9])
    # the count model: rows with one clear tag carry one, rows with two clear tags carry two
    P_lab = np.array([[0.95, 0.05, 0.05], [0.9, 0.1, 0.1], [0.9, 0.9, 0.1], [0.95, 0.85, 0.05]])
    counts = np.array([1, 1, 2, 2])
    assert predict_tag_counts(P_lab, counts, np.array([[0.97, 0.02, 0.03], [0.9, 0.92, 0.1]])).tolist() == [1, 2]
    # a sample whose second tag is unsure loses more when the model expects two tags
    P = np.array([[0.95, 0.05, 0.05], [0.9, 0.9, 0.1], [0.9, 0.1, 0.1], [0.92, 0.88, 0.05],
                  [0.9, 0.55, 0.05], [0.6, 0.5, 0.4]])
    ctx = _ctx_with(P, labeled=[0, 1, 2, 3], y=np.array([[1, 0, 0], [1, 1, 0], [1, 0, 0], [1, 1, 0]]))
    idx, scores = get_strategy("mmc").query(ctx, 2)
    assert idx.tolist() == [5, 4]


# ---------------------------------------------------------------- simulation
@pytest.mark.parametrize("as_sets", [False, True], ids=["indicator", "tag-sets"])
def test_simulate_reports_set_metrics_per_retrain(as_sets):
    X, Y = make_multilabel_classification(n_samples=300, n_features=8, n_classes=4, random_state=0)
    y = [[t for t, on in zip("abcd", row) if on] for row in Y] if as_sets else Y
    df = simulate(_ovr(), X, y, budget=40, batch_size=10, random_state=0)
    assert {"f1_micro", "f1_macro", "hamming_loss", "subset_accuracy"} <= set(df.columns)
    assert df["n_labels"].tolist() == [10, 20, 30, 40]
    assert df["f1_micro"].between(0, 1).all() and df["hamming_loss"].between(0, 1).all()
    assert (df["strategy"] == "tag_clue").all()  # the default for tag sets
    assert df["f1_micro"].iloc[-1] > 0.5


# ---------------------------------------------------------------- agreement on sets
def test_masi_distance_by_hand():
    assert masi_distance({"a"}, {"a"}) == 0 and masi_distance(set(), set()) == 0
    assert masi_distance({"a", "b"}, {"a"}) == pytest.approx(1 - 0.5 * 2 / 3)
    assert masi_distance({"a", "b"}, {"b", "c"}) == pytest.approx(1 - (1 / 3) * (1 / 3))
    assert masi_distance({"a"}, {"c"}) == 1.0


def test_masi_alpha_by_hand_on_a_small_table():
    # samples: {a}/{a}, {a,b}/{a}, {b}/{c}: D_o = 10/18, D_e = 64/90 -> alpha = 1 - 50/64
    units = [[{"a"}, {"a"}], [{"a", "b"}, {"a"}], [{"b"}, {"c"}], [{"a"}]]  # the last: not pairable
    assert alpha(units) == pytest.approx(14 / 64)
    assert alpha([[{"a"}, {"a"}], [{"b"}, {"b"}]]) == 1.0
    assert np.isnan(alpha([[{"a"}]]))


def test_alpha_with_the_nominal_distance_equals_the_krippendorff_package():
    import krippendorff
    rng = np.random.default_rng(3)
    data = rng.integers(0, 3, size=(3, 30)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    units = [[v for v in col if v == v] for col in data.T]
    ours = alpha(units, distance=lambda a, b: float(a != b))
    assert ours == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def test_agreement_on_tag_sets_from_a_store_with_three_annotators(tmp_path):
    from al_widgets.core import LabelStore
    store = LabelStore(tmp_path / "team.sqlite")
    given = {"ana": [["a"], ["a", "b"], ["b"], []], "ben": [["a"], ["a"], ["c"], []],
             "cy": [["a"], ["a", "b"], ["b"], ["c"]]}
    for who, sets in given.items():
        written = store.add_labels([(str(i), s) for i, s in enumerate(sets)], who, overlap={str(i): 3 for i in range(4)})
        assert len(written.written) == 4
    result = agreement(annotations(store))
    units = [[set(given[w][i]) for w in given] for i in range(4)]
    assert result.masi_alpha == pytest.approx(alpha(units))
    kappa = tag_kappas(pd.DataFrame({w: [list(s) for s in given[w]] for w in given}), ["a", "b", "c"])
    assert result.tag_kappa.to_dict() == pytest.approx(kappa.to_dict())
    assert kappa["a"] == 1.0  # everybody agrees on "a"
    assert "MASI" in result.summary() and "kappa per tag" in result.summary()
    store.close()


def test_the_default_multilabel_strategy_beats_random_in_the_race():
    """Mean micro-F1 over the budget curve, paired over five seeds (same initial labels and model),
    each seed the mean of two independent random streams of the methods."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from al_widgets.core.sim.race import Task, our_selector, race
    from al_widgets.core.strategies.catalog import DEFAULTS
    X, Y = make_multilabel_classification(n_samples=2000, n_features=50, n_classes=12, n_labels=2,
                                          allow_unlabeled=True, random_state=2)
    model = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=300)))
    task = Task("ml12", X[:1500], Y[:1500], X[1500:], Y[1500:], model)
    default = DEFAULTS["multilabel"]
    methods = {name: (lambda name: lambda t, s: our_selector(name, t, s))(name) for name in ("random", default)}
    curves = race([task], methods, range(5), initial=10, budget=120, batch_size=10, streams=2)
    aubc = curves.groupby(["method", "seed"])["f1_micro"].mean().unstack("method")
    diff = aubc[default] - aubc["random"]
    assert diff.mean() > 0 and diff.mean() / (diff.std(ddof=1) / np.sqrt(len(diff))) > 2, diff.tolist()


@pytest.mark.parametrize("name", ["tag_entropy", "tag_margin", "mmc", "tag_clue"])
def test_a_tag_strategy_on_a_single_label_context_says_what_to_use(name):
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(X[:10], y[:10])
    ctx = ScoringContext(model, X, np.arange(10, 40), X[:10], y[:10], [0, 1], labeled=np.arange(10),
                         task="classification")
    with pytest.raises(TypeError, match="is for multi-label pools.*'entropy'"):
        get_strategy(name).query(ctx, 2)


def test_the_estimate_for_tag_sets_is_the_mean_f1_of_the_audit_sets_by_hand():
    s = ActiveLearningSession(_ovr(), _pool(), background=False)
    ids = s.pool.ids
    for sid, given, predicted in [(ids[0], ["billing", "urgent"], ["billing"]),  # F1 2/3
                                  (ids[1], [], []),                             # both empty: 1
                                  (ids[2], ["billing"], ["spam"])]:             # disjoint: 0
        s.store.add_label(sid, given, "ana", strategy="audit", predicted=predicted)
    est = s.accuracy_estimate()
    assert est.metric == "f1" and est.n == 3 and est.value == pytest.approx(5 / 9)
    assert est.low <= 5 / 9 <= est.high and "tag-set F1" in str(est)
    s.close()
