"""The race harness: shared initial labels, independent random streams, per-seed averages."""
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from al_widgets.core.sim.race import Task, initial_set, per_run, race, stream_seed


def _task() -> Task:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] > 0).astype(int)
    return Task("toy", X, y, X[:40], y[:40], LogisticRegression())


def test_each_stream_gets_its_own_seed_shared_by_the_methods_and_apart_from_the_initial_labels():
    task, given, firsts = _task(), [], {}

    def method(name):
        def make(t, method_seed):
            given.append((name, method_seed))
            rng = np.random.default_rng(method_seed)

            def select(labeled, model, k):
                firsts.setdefault((name, method_seed), np.sort(labeled[:6]))
                return rng.choice(np.setdiff1d(np.arange(len(t.y)), labeled), k, replace=False)
            return select
        return make

    curves = race([task], {"a": method("a"), "b": method("b")}, seeds=[3, 4], initial=6, budget=16,
                  batch_size=5, streams=3)
    seeds_a = [s for name, s in given if name == "a"]
    assert seeds_a == [s for name, s in given if name == "b"]  # every method sees the same streams
    assert len(set(seeds_a)) == 6 and not {3, 4} & set(seeds_a)  # 2 seeds x 3 streams, none is a seed
    assert seeds_a[:3] == [stream_seed(3, k) for k in range(3)]
    for (name, s), first in firsts.items():  # every stream of a seed starts from that seed's labels
        seed = 3 if s in seeds_a[:3] else 4
        assert np.array_equal(first, np.sort(initial_set(task.y, 6, seed)))
    assert sorted(curves["stream"].unique()) == [0, 1, 2]
    assert len(curves) == 2 * 2 * 3 * 3  # methods x seeds x streams x fits (6, 11, 16 labels)


def test_per_run_averages_the_streams_of_a_seed():
    curves = pd.DataFrame({"task": "t", "method": "m", "seed": [0, 0, 0, 0, 1, 1],
                           "stream": [0, 0, 1, 1, 0, 0], "accuracy": [0.2, 0.4, 0.6, 1.0, 0.5, 0.7]})
    out = per_run(curves, aubc=("accuracy", "mean"), final=("accuracy", "last"))
    # seed 0: streams' AUBC 0.3 and 0.8 -> 0.55; finals 0.4 and 1.0 -> 0.7; seed 1: 0.6 and 0.7
    assert np.allclose(out.loc[("t", "m", 0)].to_numpy(), [0.55, 0.7])
    assert np.allclose(out.loc[("t", "m", 1)].to_numpy(), [0.6, 0.7])
