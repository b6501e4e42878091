"""Accuracy without a test set, and when to stop: the audit estimate and the stop advice measured.

Eight tasks (bundled and generated data, four kinds of model).  Each run starts from 10 random
labels and labels from the true labels with the app's default strategy (focused CLUE) and
``audit=0.1``, retraining every 5 labels,
up to ``--budget``; a held-out test set (never shown to the session) gives the truth.  Printed:

* **coverage**: at 40, 80, 120 and ``--budget`` labels, how often the estimate's 90 % interval holds
  the current model's test accuracy, the mean width, and the mean error (estimate − truth);
* **stop**: the first label count at which ``stop_advice()`` says stop, against the oracle's stop (the
  first count whose test accuracy is within 0.01 of the accuracy at the budget): labels saved against
  the budget, accuracy given up against the budget's.

Run: python benchmarks/bench_stopping.py [--seeds 3] [--budget 160]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_blobs, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from al_widgets.core import ActiveLearningSession, Pool  # noqa: E402

CHECKPOINTS = (40, 80, 120)


def tasks() -> dict:
    lr = lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))  # noqa: E731
    X_d, y_d = load_digits(return_X_y=True)
    X_b, y_b = make_blobs(3000, centers=4, cluster_std=2.5, random_state=0)
    X_i, y_i = make_classification(3000, n_features=20, n_informative=6, n_classes=3, weights=[0.7, 0.2, 0.1],
                                   random_state=0)
    X_h, y_h = make_classification(3000, n_features=10, n_informative=5, n_classes=2, flip_y=0.05, random_state=1)
    return {
        "iris (LR)": (*load_iris(return_X_y=True), lr),
        "wine (LR)": (*load_wine(return_X_y=True), lr),
        "breast_cancer (RF)": (*load_breast_cancer(return_X_y=True),
                               lambda: RandomForestClassifier(100, random_state=0)),
        "digits (LR)": (X_d / 16.0, y_d, lambda: LogisticRegression(max_iter=1000)),
        "digits (kNN)": (X_d / 16.0, y_d, lambda: KNeighborsClassifier(5)),
        "blobs 4 (NB)": (X_b, y_b, GaussianNB),
        "imbalanced 3 (LR)": (X_i, y_i, lr),
        "noisy binary (RF)": (X_h, y_h, lambda: RandomForestClassifier(100, random_state=0)),
    }


def run(X, y, make_model, seed: int, budget: int) -> list[dict]:
    Xp, Xt, yp, yt = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    labels = np.full(len(yp), None, dtype=object)
    rng = np.random.default_rng(seed)
    start = rng.choice(len(yp), 10, replace=False)
    labels[start] = yp[start]
    classes = sorted(set(y.tolist()))
    s = ActiveLearningSession(make_model(), Pool(Xp, labels=labels, classes=classes), "focused_clue", store=None,
                              background=False, random_state=seed, audit=0.1, batch_size=5, retrain_every=5)
    rows = []
    s.retrain()
    while s.n_labeled < min(budget, len(yp)):
        item = s.next_item()
        if item is None:
            break
        s.submit(item.index, yp[item.index].item())
        res = s.result_
        if res is None or res.cold_start or res.n_labels != s.n_labeled or (rows and rows[-1]["n"] == s.n_labeled):
            continue  # a row per retrain (every 5 labels)
        est, adv = s.accuracy_estimate(), s.stop_advice()
        rows.append({"n": s.n_labeled, "truth": float(np.mean(res.model.predict(Xt) == yt)), "value": est.value,
                     "low": est.low, "high": est.high, "n_audit": est.n, "stop": adv.stop,
                     "kappas": [k for _, k in adv.kappas]})
    s.close()
    return rows


def summarize(name: str, runs: list[list[dict]], budget: int) -> tuple[list[dict], dict]:
    cover = []
    for cp in (*CHECKPOINTS, budget):
        hits, widths, errors = [], [], []
        for rows in runs:
            at = [r for r in rows if r["n"] <= cp and r["n_audit"] > 0]
            if not at:
                continue
            r = at[-1]
            hits.append(r["low"] <= r["truth"] <= r["high"])
            widths.append(r["high"] - r["low"])
            errors.append(r["value"] - r["truth"])
        if hits:
            cover.append({"task": name, "labels": cp, "coverage": np.mean(hits), "width": np.mean(widths),
                          "error": np.mean(errors), "runs": len(hits)})
    saved, given_up, oracle_at, stop_at = [], [], [], []
    runs = [rows for rows in runs if rows]
    if not runs:
        return cover, {"task": name}
    for rows in runs:
        final = rows[-1]["truth"]
        oracle = next(r["n"] for r in rows if r["truth"] >= final - 0.01)
        stop = next((r for r in rows if r["stop"]), rows[-1])
        oracle_at.append(oracle)
        stop_at.append(stop["n"])
        saved.append(rows[-1]["n"] - stop["n"])
        given_up.append(final - stop["truth"])
    stop_row = {"task": name, "stop at": np.mean(stop_at), "oracle stop": np.mean(oracle_at),
                "labels saved": np.mean(saved), "accuracy given up": np.mean(given_up),
                "stopped before budget": np.mean([s < budget for s in stop_at])}
    return cover, stop_row


RULES = [(0.99, 3), (0.99, 2), (0.98, 3), (0.98, 2), (0.97, 3), (0.95, 3)]
"""(kappa threshold, comparisons in a row) tried against the same runs: the rule is a function of the
kappa series each run recorded, so every rule is judged on identical models."""


def rule_table(all_runs: dict, budget: int) -> pd.DataFrame:
    """Per rule: mean stop point, labels saved and accuracy given up (against the budget's accuracy),
    and the worst accuracy given up in any run."""
    out = []
    for threshold, in_a_row in RULES:
        saved, given_up, stopped = [], [], []
        for runs in all_runs.values():
            for rows in runs:
                if not rows:
                    continue
                final = rows[-1]["truth"]
                stop = next((r for r in rows if len(r["kappas"]) >= in_a_row
                             and min(r["kappas"][-in_a_row:]) >= threshold), rows[-1])
                saved.append(rows[-1]["n"] - stop["n"])
                given_up.append(final - stop["truth"])
                stopped.append(stop is not rows[-1])
        out.append({"kappa >=": threshold, "in a row": in_a_row, "runs stopped early": np.mean(stopped),
                    "labels saved": np.mean(saved), "accuracy given up": np.mean(given_up),
                    "worst given up": np.max(given_up)})
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=160)
    ap.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1 "
                                                              "(held-out checks of a rule chosen on others)")
    args = ap.parse_args()
    covers, stops, all_runs = [], [], {}
    t0 = time.perf_counter()
    for name, (X, y, make_model) in tasks().items():
        runs = [run(X, y, make_model, seed, args.budget)
                for seed in range(args.first_seed, args.first_seed + args.seeds)]
        all_runs[name] = runs
        cover, stop = summarize(name, runs, args.budget)
        covers += cover
        stops.append(stop)
        print(f"{name}: done ({time.perf_counter() - t0:.0f} s)", flush=True)
    cover = pd.DataFrame(covers)
    print("\nCoverage of the 90 % interval (audit=0.1; estimate at that many labels vs the model's test accuracy)")
    print(cover.pivot(index="task", columns="labels", values="coverage").round(2).to_string())
    print("\nmean interval width / mean error (estimate - truth), all tasks, by labels")
    print(cover.groupby("labels")[["coverage", "width", "error"]].mean().round(3).to_string())
    print("\nStop advice against the oracle's stop (within 0.01 of the budget's accuracy)")
    print(pd.DataFrame(stops).set_index("task").round(3).to_string())
    print("\nStop rules on the same runs (the session's: kappa >= 0.99, 3 in a row)")
    print(rule_table(all_runs, args.budget).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
