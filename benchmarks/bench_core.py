"""Core engine benchmark: per-label cost of al_widgets vs the common AL-library loop.

Baseline (measured in the same run): after every single label, refit a fresh clone from
scratch, predict_proba over the whole pool, entropy, full argsort; labels kept in a Python list.

Rows, per pool size and model (both sides warmed up first, same model, same float64 data):

* ``equal work``: al_widgets also refits a fresh clone after every label (``incremental=False``)
  and keeps its labels in memory (``store=None``), as the baseline does; it still keeps the
  queue, the claims, the learning curve and the display arrays (entropy, prediction, confidence);
* ``+ durable labels``: the same, every label committed to SQLite and flushed to the disk (fsync)
  before ``submit`` returns: what the app does, and what it costs;
* ``+ warm start``: the session's default, still after every label: the solver restarts from the
  previous solution (the same model up to the solver's tolerance);
* ``+ coalescing``: al_widgets retrains once per batch of 10 labels (the strategy's batch, what
  the UI does while labels stream in), against the same every-label baseline: what the trick adds,
  not a faster engine;
* ``+ coalescing + partial_fit`` (SGDClassifier): the new labels only, every 10;
* ``app``: the session's defaults, coalescing and durable labels together: what a user of the
  app gets.

Run: python benchmarks/bench_core.py [--sizes 1000 10000 100000]
"""
from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier

from al_widgets.core import ActiveLearningSession, Pool
from al_widgets.core.session.training import _warm_start_param
from al_widgets.core.scoring.uncertainty import entropy

N_SEED, N_LABELS, REPEATS = 200, 40, 3


def make_pool(n: int, seed: int = 0):
    X, y = make_classification(n_samples=n, n_features=20, n_informative=10, n_classes=5, random_state=seed)
    return X, y


def baseline_per_label(model, X, y, seed_idx, rng, n_labels: int = N_LABELS) -> float:
    labeled = list(seed_idx)
    t0 = time.perf_counter()
    for _ in range(n_labels):
        m = clone(model).fit(X[labeled], y[labeled])
        scores = entropy(m.predict_proba(X))
        scores[labeled] = -np.inf
        order = np.argsort(-scores)
        labeled.append(int(order[0]))
    return (time.perf_counter() - t0) / n_labels


def ours(model, X, y, seed_idx, incremental, folder, every: int = 1, n_labels: int = N_LABELS,
         durable: bool = True) -> dict:
    labels = np.full(len(y), None, dtype=object)
    labels[seed_idx] = y[seed_idx]
    pool = Pool(X, labels=labels, classes=sorted(set(y.tolist())))
    store = Path(folder) / f"b{time.time_ns()}.sqlite" if durable else None
    s = ActiveLearningSession(model, pool, "entropy", store=store,
                              background=False, retrain_every=10 ** 9, epistemic=False, incremental=incremental,
                              random_state=0)
    s.retrain()
    submit_t, fit_t, score_t = [], [], []
    t_loop = time.perf_counter()
    for i in range(n_labels):
        item = s.next_item()
        t0 = time.perf_counter()
        s.submit(item.index, int(y[item.index]))
        submit_t.append(time.perf_counter() - t0)
        if (i + 1) % every == 0:
            res = s.retrain()
            fit_t.append(res.fit_seconds)
            score_t.append(res.score_seconds)
    per_label = (time.perf_counter() - t_loop) / n_labels
    s.close()
    return {"submit_ms": 1e3 * np.median(submit_t), "retrain_ms": 1e3 * np.median(fit_t),
            "rescore_topk_ms": 1e3 * np.median(score_t), "per_label_ms": 1e3 * per_label}


def peak_mb(fn, *args) -> float:
    """Peak Python/numpy memory allocated while ``fn`` runs (tracemalloc), in MB."""
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


def variants(warm: bool, partial: bool) -> list[tuple[str, bool | None, int, bool]]:
    """``(row label, incremental, retrain every, durable store)``: equal work first, then one change a row."""
    rows = [("equal work (fresh refit/label)", False, 1, False),
            ("+ durable labels (fsync/label)", False, 1, True)]
    if warm:
        rows.append(("+ warm start (default), /label", None, 1, False))
    rows.append(("+ coalescing (fresh, every 10)", False, 10, False))
    if warm:
        rows.append(("+ warm start + coalescing", None, 10, False))
    if partial:
        rows.append(("+ coalescing + partial_fit", True, 10, False))
    rows.append(("app: defaults, coalescing, durable", None, 10, True))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    args = ap.parse_args()
    models = {"LogisticRegression": (LogisticRegression(max_iter=200), False),
              "SGDClassifier": (SGDClassifier(loss="log_loss", random_state=0), True)}
    print(f"seed labels {N_SEED}, {N_LABELS} labels per run; baseline refits after every label")
    head = f"{'pool':>7} {'model':<19} {'al_widgets variant':<34} {'submit ms':>9} {'retrain ms':>10} " \
           f"{'ours/label ms':>13} {'baseline/label ms':>17} {'baseline/ours':>13}"
    print(head)
    print("-" * len(head))
    with tempfile.TemporaryDirectory() as folder:
        for n in args.sizes:
            X, y = make_pool(n)
            rng = np.random.default_rng(0)
            seed_idx = rng.choice(n, N_SEED, replace=False)
            for name, (model, inc) in models.items():
                baseline_per_label(model, X, y, seed_idx, rng, n_labels=3)  # warm-up, both sides
                ours(model, X, y, seed_idx, False, folder, every=1, n_labels=3)
                warm = _warm_start_param(model) is not None  # SGD-type models: no warm start by default
                for label, incremental, every, durable in variants(warm, inc):
                    # median of REPEATS runs each, the baseline re-measured beside every variant
                    base = float(np.median([baseline_per_label(model, X, y, seed_idx, rng) for _ in range(REPEATS)]))
                    runs = [ours(model, X, y, seed_idx, incremental, folder, every=every, durable=durable)
                            for _ in range(REPEATS)]
                    r = {k: float(np.median([x[k] for x in runs])) for k in runs[0]}
                    print(f"{n:>7} {name:<19} {label:<34} {r['submit_ms']:>9.2f} {r['retrain_ms']:>10.1f} "
                          f"{r['per_label_ms']:>13.2f} {1e3 * base:>17.2f} {1e3 * base / r['per_label_ms']:>12.2f}x")
        print()
        print("peak memory allocated during the equal-work loop (tracemalloc; the pool's own X is excluded)")
        head = f"{'pool':>7} {'model':<19} {'ours MB':>8} {'baseline MB':>11} {'ratio':>6} {'X itself MB':>11}"
        print(head)
        print("-" * len(head))
        for n in args.sizes:
            X, y = make_pool(n)
            seed_idx = np.random.default_rng(0).choice(n, N_SEED, replace=False)
            for name, (model, inc) in models.items():
                mine = peak_mb(ours, model, X, y, seed_idx, inc, folder)
                base = peak_mb(baseline_per_label, model, X, y, seed_idx, None)
                print(f"{n:>7} {name:<19} {mine:>8.1f} {base:>11.1f} {mine / base:>5.1f}x {X.nbytes / 2 ** 20:>11.1f}")


if __name__ == "__main__":
    main()
