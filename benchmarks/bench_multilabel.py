"""Multi-label strategy race: paired differences against random sampling, on tasks of tag sets.

Every method sees the same data, the same initial labels (10 random samples) and the same model per
task and seed (:mod:`al_widgets.core.sim.race`); the score is the mean micro-F1 (and macro-F1) over
the budget curve, 10 labels a round up to 150.  Tasks: digit properties (six tags a digit may carry:
even, prime, > 4, has a loop, a straight stroke, is eight) with a scaled logistic regression and a
random forest, and generated tag sets (scikit-learn's ``make_multilabel_classification``) with scaled
and raw count features.  The default was chosen on seeds 0-4; ``--first-seed 5`` reports held-out
seeds.

Run: python benchmarks/bench_multilabel.py [--seeds 5] [--first-seed 0] [--methods random,tag_clue,...]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits, make_multilabel_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from al_widgets.core.sim.race import Task, our_selector, race


def _scaled_lr():
    return make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=300)))


def tasks() -> list[Task]:
    """Six multi-label tasks (bundled and generated, three models)."""
    X, y = load_digits(return_X_y=True)
    Y = np.column_stack([y % 2 == 0, np.isin(y, [2, 3, 5, 7]), y > 4, np.isin(y, [0, 6, 8, 9]),
                         np.isin(y, [1, 7]), y == 8]).astype(int)
    out = [Task("digit_props_lr", X[:1300], Y[:1300], X[1300:], Y[1300:], _scaled_lr()),
           Task("digit_props_rf", X[:1300], Y[:1300], X[1300:], Y[1300:],
                RandomForestClassifier(100, random_state=0))]
    raw = lambda: OneVsRestClassifier(LogisticRegression(max_iter=300))  # noqa: E731
    for name, kw, model in [
            ("gen5_scaled", dict(n_samples=2000, n_features=20, n_classes=5, n_labels=2), _scaled_lr),
            ("gen12_scaled", dict(n_samples=2000, n_features=50, n_classes=12, n_labels=2, allow_unlabeled=True),
             _scaled_lr),
            ("gen10_counts", dict(n_samples=1500, n_features=40, n_classes=10, n_labels=3), raw),
            ("gen8_counts", dict(n_samples=1500, n_features=30, n_classes=8, n_labels=1, allow_unlabeled=True), raw)]:
        X, Y = make_multilabel_classification(random_state=2, **kw)
        k = int(len(X) * 0.75)
        out.append(Task(name, X[:k], Y[:k], X[k:], Y[k:], model()))
    return out


def paired(curves: pd.DataFrame, metric: str, baseline: str = "random") -> pd.DataFrame:
    """Per task and method: mean AUBC of ``metric`` and its paired difference to ``baseline`` (mean, s.e.)."""
    per = curves.groupby(["task", "method", "seed"])[metric].mean().unstack("method")
    rows = []
    for task, df in per.groupby(level="task"):
        for method in df.columns:
            d = df[method] - df[baseline]
            rows.append({"task": task, "method": method, "aubc": df[method].mean(), "diff": d.mean(),
                         "se": d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")})
    d = per.sub(per[baseline], axis=0)
    for method in per.columns:
        rows.append({"task": "MEAN", "method": method, "aubc": per[method].mean(), "diff": d[method].mean(),
                     "se": d[method].std(ddof=1) / np.sqrt(len(d))})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--methods", default="random,tag_entropy,tag_margin,mmc,tag_clue")
    args = ap.parse_args()
    names = args.methods.split(",")
    methods = {m: (lambda m: lambda t, s: our_selector(m, t, s))(m) for m in names}
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    t0 = time.perf_counter()
    curves = race(tasks(), methods, seeds, initial=10, budget=150, batch_size=10)
    print(f"# multi-label race: {len(names)} methods, seeds {seeds.start}-{seeds.stop - 1}, "
          f"{time.perf_counter() - t0:.0f} s\n")
    for metric in ("f1_micro", "f1_macro"):
        table = paired(curves, metric)
        wide = table.assign(cell=[f"{a:.3f} ({d:+.3f} ± {s:.3f})" for a, d, s in
                                  zip(table["aubc"], table["diff"], table["se"])]).pivot(
            index="task", columns="method", values="cell")
        print(f"## {metric}: AUBC (paired difference to random ± s.e.)\n")
        print(wide[names].to_string())
        print()
    secs = curves.groupby("method")["query_seconds"].mean()
    print("seconds per query: " + ", ".join(f"{m} {secs[m]:.3f}" for m in names))


if __name__ == "__main__":
    main()
