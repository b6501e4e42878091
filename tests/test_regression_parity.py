"""Regression at parity with classification where it makes sense: a default strategy that needs no
naming, review of outlying numbers, agreement for numbers, export."""
import io

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, Ridge

from al_widgets import ActiveLearningSession
from al_widgets.core import LabelStore, Pool
from al_widgets.core.review.numbers import outlying_labels
from al_widgets.core.review.quality import agreement, annotations


def _line(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 10, size=(n, 1))
    return X, 2 * X[:, 0] + 1 + rng.normal(0, 0.1, n)


def test_a_regression_session_needs_no_strategy_name_and_reports_r2_and_rmse():
    X, y = _line()
    s = ActiveLearningSession(Ridge(), Pool(X, task="regression"), X_test=X, y_test=y, background=False)
    assert s.strategy.name == "max_variance"
    for i in range(8):
        s.submit(i, float(y[i]))
    res = s.retrain()
    assert set(res.metrics) == {"r2", "rmse"} and res.metrics["r2"] > 0.99
    assert s.curve.to_frame()["rmse"].iloc[-1] < 0.5
    s.close()


def test_outlying_numbers_are_found_and_ranked_farthest_first():
    X, y = _line(80)
    y = y.copy()
    y[[5, 40]] = y[[5, 40]] + np.array([12.0, -30.0])  # two typos
    flags = outlying_labels(LinearRegression(), X, y)
    assert flags["position"].tolist()[:2] == [40, 5]
    assert set(flags["position"]) == {5, 40}  # nobody else is three robust SDs away
    assert flags.loc[0, "suggested"] == pytest.approx(2 * X[40, 0] + 1, abs=1.0)
    assert flags.loc[0, "residual_z"] > flags.loc[1, "residual_z"] > 3


def test_the_review_panel_offers_keep_or_change_for_a_suspicious_number(tmp_path):
    from al_widgets.widgets.review import ReviewPanel
    X, y = _line(40)
    s = ActiveLearningSession(LinearRegression(), Pool(X, task="regression"), store=tmp_path / "r.sqlite",
                              background=False)
    for i in range(30):
        s.submit(i, float(y[i]) + (25.0 if i == 7 else 0.0))
    flagged = s.suspicious_labels()
    assert flagged["index"].tolist() == [7] and "residual_z" in flagged
    panel = ReviewPanel(s)
    panel.mode.value = "suspicious"
    assert panel.current["index"] == 7 and "robust standard deviations away" in panel.detail.value
    panel.change.click()  # take the model's suggestion
    assert s.labels[7] == pytest.approx(2 * X[7, 0] + 1, abs=1.0)
    s.close()


def test_agreement_for_numbers_is_interval_alpha(tmp_path):
    import krippendorff
    store = LabelStore(tmp_path / "n.sqlite")
    values = {"ana": [1.0, 2.0, 3.0, 10.0], "ben": [1.1, 2.1, 2.9, 9.5], "cy": [0.9, 2.0, 3.2, 4.0]}
    for who, vals in values.items():
        store.add_labels([(str(i), v) for i, v in enumerate(vals)], who, overlap={str(i): 3 for i in range(4)})
    ag = agreement(annotations(store), "interval")
    expected = krippendorff.alpha(reliability_data=np.array(list(values.values())), level_of_measurement="interval")
    assert ag.alpha == pytest.approx(expected)
    nominal = agreement(annotations(store))  # as categories every value differs: far lower
    assert nominal.alpha < ag.alpha
    ana_ben = ag.pairs.set_index(["a", "b"]).loc[("ana", "ben"), "kappa"]
    assert ana_ben == pytest.approx(np.corrcoef(values["ana"], values["ben"])[0, 1])
    assert ag.confusion.empty  # no table of every distinct number
    buf = io.StringIO()
    store.export_csv(buf, all_annotators=True)
    rows = pd.read_csv(io.StringIO(buf.getvalue()))
    assert rows.groupby("annotator")["label"].apply(list).to_dict() == values
    store.close()


def test_successive_regression_models_are_compared_by_concordance_and_advice_turns_on():
    from al_widgets.core.session.estimates import concordance
    a = np.array([1.0, 2.0, 3.0])
    assert concordance(a, a) == 1.0 and concordance(a, a + 1) == pytest.approx(4 / 7)  # 2 var / (2 var + 1)
    X, y = _line(400)
    s = ActiveLearningSession(LinearRegression(), Pool(X, task="regression"), background=False, audit=0.2,
                              random_state=0)
    for _ in range(60):  # a line is learned at once: successive models agree
        item = s.next_item()
        s.submit(item.index, float(y[item.index]))
    advice = s.stop_advice()
    assert len(advice.kappas) >= 3 and all(k > 0.99 for _, k in advice.kappas[-3:])
    assert advice.stop
    s.close()
