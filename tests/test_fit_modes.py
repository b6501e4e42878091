"""How each retrain fits: a fresh clone, a warm start from the previous solution, or partial_fit."""
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier

from al_widgets.core import ActiveLearningSession, Pool
from al_widgets.core.session.training import fit_model


def _session(small_digits, tmp_path, model, n_seed=40, **kw):
    X, y = small_digits
    labels = np.full(len(y), None, dtype=object)
    labels[:n_seed] = y[:n_seed]
    return ActiveLearningSession(model, Pool(X, labels=labels, classes=list(range(10))), "margin",
                                 store=tmp_path / "s.db", background=False, random_state=0, **kw)


def _label_next(s, y, n=1):
    modes = []
    for _ in range(n):
        item = s.next_item()
        s.submit(item.index, int(y[item.index]))
        modes.append(s.result_.fit)
    return modes


def test_linear_models_warm_start_by_default_with_a_periodic_full_refit(small_digits, tmp_path):
    X, y = small_digits
    s = _session(small_digits, tmp_path, LogisticRegression(max_iter=2000, tol=1e-8), full_refit_every=3)
    s.retrain()
    assert s.result_.fit == "full"
    assert _label_next(s, y, 6) == ["warm", "warm", "full", "warm", "warm", "full"]
    _label_next(s, y, 1)  # a warm fit: the same model as a fresh fit, up to the solver's tolerance
    idx = s.result_.labeled
    fresh = LogisticRegression(max_iter=2000, tol=1e-8).fit(X[idx], y[idx])
    assert s.result_.fit == "warm"
    np.testing.assert_allclose(s.result_.model.predict_proba(X), fresh.predict_proba(X), atol=2e-3)
    assert s.model.get_params()["warm_start"] is False  # the user's model is untouched
    s.close()


def test_a_warm_start_takes_fewer_solver_iterations():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 20))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(0, 1, 3000) > 0).astype(int)
    model = LogisticRegression(max_iter=1000)
    first, how = fit_model(model, None, X[:2990], y[:2990], None)
    warm, how2 = fit_model(model, first, X, y, None)
    cold, _ = fit_model(model, first, X, y, False)
    assert (how, how2) == ("full", "warm")
    assert warm.n_iter_[0] < cold.n_iter_[0]
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-3)


def test_ensembles_are_never_warm_started(small_digits, tmp_path):
    X, y = small_digits  # a forest's warm_start means "add trees": with as many trees it would not refit at all
    s = _session(small_digits, tmp_path, RandomForestClassifier(n_estimators=10, random_state=0, warm_start=True))
    s.retrain()
    assert _label_next(s, y, 3) == ["full", "full", "full"]
    s.close()


def test_a_changed_or_undone_label_forces_a_full_refit(small_digits, tmp_path):
    X, y = small_digits
    s = _session(small_digits, tmp_path, SGDClassifier(loss="log_loss", random_state=0), incremental=True,
                 full_refit_every=100)
    s.retrain()
    assert _label_next(s, y, 2) == ["partial", "partial"]
    item = s.next_item()
    s.submit(item.index, int(y[item.index]))
    assert s.result_.fit == "partial"
    s.submit(item.index, (int(y[item.index]) + 1) % 10, overwrite=True)  # the model learned the old label
    assert s.result_.fit == "full"
    assert _label_next(s, y, 1) == ["partial"]
    s.undo()
    assert s.result_.fit == "full"
    assert _label_next(s, y, 1) == ["partial"]
    s.retrain_every = 2  # a corrected label and a new one in the same retrain: still a full refit
    learned = s.result_.labeled[-1]
    s.submit(int(learned), (int(y[learned]) + 1) % 10, overwrite=True)
    item = s.next_item()
    s.submit(item.index, int(y[item.index]))
    assert s.result_.fit == "full"
    s.close()


@pytest.mark.parametrize("model, incremental", [(LogisticRegression(max_iter=500), None),
                                                (SGDClassifier(loss="log_loss", random_state=0), True)])
def test_a_new_class_means_a_full_fit(small_digits, tmp_path, model, incremental):
    X, y = small_digits
    two = np.flatnonzero(np.isin(y, [0, 1]))[:20]
    labels = np.full(len(y), None, dtype=object)
    labels[two] = y[two]
    s = ActiveLearningSession(model, Pool(X, labels=labels, classes=list(range(10))), "margin",
                              store=tmp_path / "s.db", background=False, random_state=0, incremental=incremental)
    s.retrain()
    seen = int(np.flatnonzero(y == 1)[-1])
    s.submit(seen, 1)
    assert s.result_.fit == ("warm" if incremental is None else "partial")
    other = int(np.flatnonzero(y == 2)[0])
    s.submit(other, 2)  # partial_fit cannot learn a class its first call did not know: a full fit
    assert s.result_.fit == "full" and 2 in s.result_.model.classes_
    seen = int(np.flatnonzero(y == 2)[1])
    s.submit(seen, 2)
    assert s.result_.fit == ("warm" if incremental is None else "partial")
    s.close()


def test_bad_settings_are_named(small_digits, tmp_path):
    with pytest.raises(ValueError, match="full_refit_every"):
        _session(small_digits, tmp_path, LogisticRegression(), full_refit_every=0)
    with pytest.raises(ValueError, match="incremental"):
        _session(small_digits, tmp_path, LogisticRegression(), incremental="yes")


def test_sgd_models_are_not_warm_started_by_default(small_digits, tmp_path):
    X, y = small_digits  # their warm start restarts the epochs: measured slower than a fresh fit
    s = _session(small_digits, tmp_path, SGDClassifier(loss="log_loss", random_state=0))
    s.retrain()
    assert _label_next(s, y, 2) == ["full", "full"]
    s.close()


def test_trained_labels_compare_by_hand():
    from al_widgets.core.session.label_arrays import TrainedLabels
    t = TrainedLabels(np.array([2, 5, 9]), np.array(["a", "b", "b"]))
    new, moved = t.compare(np.array([2, 5, 9, 11]), np.array(["a", "b", "b", "a"]))
    assert new.tolist() == [False, False, False, True] and not moved  # one more label: warm start is fine
    new, moved = t.compare(np.array([2, 5, 7]), np.array(["a", "b", "a"]))
    assert new.tolist() == [False, False, True] and moved  # 9 is gone (undone)
    new, moved = t.compare(np.array([2, 5, 9]), np.array(["a", "a", "b"]))
    assert not new.any() and moved  # 5 was corrected
    new, moved = t.compare(np.array([1, 2, 5, 9, 12]), np.array(["b", "a", "b", "b", "a"]))
    assert new.tolist() == [True, False, False, False, True] and not moved
    assert 5 in t and 6 not in t and 100 not in t and len(t) == 3
    new, moved = TrainedLabels().compare(np.array([3, 4]), np.array([0, 1]))
    assert new.all() and not moved


def test_label_arrays_get_a_proper_dtype():
    from al_widgets.core.session.label_arrays import tidy_labels

    def tidy(values):
        return tidy_labels(np.array(values, dtype=object))
    assert tidy([1, np.int64(2), 3]).dtype.kind == "i"
    assert tidy(["a", "b"]).dtype.kind == "U"
    assert tidy([True, np.bool_(False)]).dtype == bool  # never 0/1 integers
    mixed = tidy([1, "a"])
    assert mixed.dtype == object and mixed.tolist() == [1, "a"]  # never "1"
    assert tidy([1, True]).dtype == object
