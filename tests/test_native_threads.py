"""A retrain runs with one OpenMP thread (scikit-learn's k-means otherwise spins one per core) and
gives the thread its own setting back; the served app starts its kernels with one BLAS thread too."""
import threading

import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

from al_widgets import ActiveLearningSession, Pool

SEEN: list[int] = []


def _openmp() -> int:
    """OpenMP threads as the calling thread sees them."""
    return max(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "openmp")


def _fresh_thread_openmp() -> int:
    """What a new thread (a session's worker) gets when nobody limits it."""
    out = []
    t = threading.Thread(target=lambda: out.append(_openmp()))
    t.start()
    t.join()
    return out[0]


class RecordingLR(LogisticRegression):
    """Records the OpenMP threads it is fitted under (and scored: the strategy runs right after)."""

    def fit(self, X, y, sample_weight=None):
        SEEN.append(_openmp())
        return super().fit(X, y, sample_weight)


@pytest.mark.parametrize("background", [False, True])
@pytest.mark.parametrize("limit", [1, None])
def test_a_retrain_runs_with_the_sessions_openmp_limit_and_gives_the_thread_its_own_back(background, limit):
    X, y = load_digits(return_X_y=True)
    before = _openmp()
    SEEN.clear()
    s = ActiveLearningSession(RecordingLR(max_iter=200), Pool(X[:300], classes=list(range(10))),
                              "focused_clue", background=background, native_threads=limit, random_state=0)
    try:
        for i in range(40):
            s.submit(i, int(y[i]))
            if i % 10 == 9:  # several retrains, not one coalesced
                assert s.wait_idle(60)
    finally:
        s.close()
    assert len(SEEN) >= 3, "the model was hardly fitted"
    unlimited = _fresh_thread_openmp() if background else before
    assert set(SEEN) == ({1} if limit == 1 else {unlimited}), (SEEN, [i['filepath'] for i in threadpool_info()])
    assert _openmp() == before  # the caller's thread keeps its own setting


def test_native_threads_must_be_a_positive_integer_or_none():
    X, _ = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match="native_threads"):
        ActiveLearningSession(LogisticRegression(), Pool(X[:50], classes=list(range(10))), native_threads=0)
