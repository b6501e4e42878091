"""``auto``: replayed races on the labels so far choose the arm that picks the next batch."""
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from al_widgets.core import ActiveLearningSession, Pool
from al_widgets.core.sim.race import Task, initial_set, our_selector, run_loop
from al_widgets.core.strategies.catalog import REGISTRY, get_strategy
from al_widgets.core.strategies import Margin
from al_widgets.core.strategies.auto import AutoSelector
from al_widgets.core.scoring.uncertainty import SCORES


class MostConfident(Margin):
    """A deliberately bad arm: the samples the model is surest about (they teach it little)."""

    name = "most_confident"
    description = "test arm"

    def score(self, ctx):
        return -SCORES["margin"](ctx.proba[ctx.candidates])


@pytest.fixture
def bad_arm(monkeypatch):
    monkeypatch.setitem(REGISTRY, MostConfident.name, MostConfident)
    return MostConfident.name


def _task():
    X, y = make_classification(900, n_features=10, n_informative=5, class_sep=1.0, flip_y=0.01, random_state=0)
    return Task("synthetic", X[:600], y[:600], X[600:], y[600:], LogisticRegression(max_iter=1000))


def test_auto_picks_the_arm_known_to_be_best_most_often(bad_arm):
    """Told to start with the bad arm, the replays overrule it: margin chooses most batches.

    The default gate (two standard errors) needs a few rounds of evidence before it switches, so the
    run is 20 batches long (a short one is decided by the start arm)."""
    task = _task()
    picks = []
    for seed in range(3):
        select = our_selector("auto", task, seed, arms=("margin", bad_arm), start=bad_arm, warmup=1)
        run_loop(task, select, initial_set(task.y, 10, seed), budget=210, batch_size=10, seed=seed)
        picks += [row["arm"] for row in select.strategy.log_]
    assert picks.count("auto: margin") > 0.6 * len(picks), picks


def test_auto_explains_its_choice_in_the_session_status(tmp_path):
    X, y = make_classification(300, n_features=6, n_informative=4, n_classes=3, random_state=1)
    s = ActiveLearningSession(LogisticRegression(max_iter=1000), Pool(X, classes=[0, 1, 2]), "auto",
                              store=tmp_path / "a.db", background=False, batch_size=5, random_state=0)
    try:
        for _ in range(30):
            item = s.next_item()
            s.submit(item.index, int(y[item.index]))
        assert "auto chose" in s.status and "replay advantage" in s.status
        assert s.result_.strategy.startswith("auto: ")
        assert s.next_item().strategy.startswith("auto: ")  # the queue says which arm ranked it
    finally:
        s.close()


@pytest.mark.parametrize("params, match", [
    ({"arms": ()}, "arms"), ({"arms": ("margin", "nope")}, "arms"), ({"arms": ("auto", "margin")}, "arms"),
    ({"arms": ("margin", "margin")}, "arms"), ({"repeats": 0}, "repeats"),
    ({"warmup": -1}, "warmup"), ({"forget": 2.0}, "forget"), ({"start": "coreset"}, "start"),
    ({"z": -1}, "z")])
def test_auto_rejects_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        AutoSelector(**params).validate()


def test_auto_is_reproducible_and_queries_k_distinct_unlabeled():
    task = _task()
    runs = []
    for _ in range(2):
        select = our_selector("auto", task, 5)
        init = initial_set(task.y, 20, 5)
        runs.append(run_loop(task, select, init, budget=60, batch_size=10, seed=5)["accuracy"].tolist())
    assert runs[0] == runs[1]
    assert isinstance(get_strategy("auto"), AutoSelector)
