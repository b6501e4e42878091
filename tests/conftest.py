import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from al_widgets.core import ActiveLearningSession, Pool


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture
def small_digits(digits):
    X, y = digits
    rng = np.random.default_rng(0)
    idx = rng.choice(len(y), 300, replace=False)
    return X[idx], y[idx]


@pytest.fixture
def make_session(small_digits, tmp_path):
    made = []

    def make(strategy="entropy", n_seed=20, store=None, background=False, **kw):
        X, y = small_digits
        labels = np.full(len(y), None, dtype=object)
        labels[:n_seed] = y[:n_seed]
        pool = Pool(X, labels=labels, classes=list(range(10)))
        s = ActiveLearningSession(LogisticRegression(max_iter=300), pool, strategy,
                                  store=store if store is not None else tmp_path / "labels.sqlite",
                                  X_test=X[200:], y_test=y[200:], background=background, random_state=0, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
