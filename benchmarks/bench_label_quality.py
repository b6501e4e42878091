"""Label-error flags (confident learning, out-of-fold) against injected label noise.

For digits and a generated 8-topic text set, a labeled set of ``--labeled`` samples gets 5 %, 10 %
and 20 % of its labels flipped to a random other class.  ``label_issues`` (what the review panel's
"suspicious labels" queue shows) ranks the labels; printed per setting:

* precision@50: share of the top-50 flags that are real flips; recall@50: share of the flips
  among the top 50; all flags: how many labels are flagged in total and their precision/recall;
* test accuracy of LogisticRegression trained on the raw noisy labels, after a reviewer checked
  the top-50 flagged labels (and corrected the wrong ones), and after the same 50 reviews spent
  on labels picked at random; with the clean-label accuracy as the ceiling.

Mean over ``--seeds`` seeds.  Run: python benchmarks/bench_label_quality.py [--seeds 3]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from al_widgets.core.review.quality import label_issues  # noqa: E402
from bench_strategies import _text  # noqa: E402


def datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    X, y = load_digits(return_X_y=True)
    Xt, yt = _text(3000, 8, 2, 11)
    return {"digits": (X / 16.0, y), "text8": (Xt, yt)}


def run(X: np.ndarray, y: np.ndarray, noise: float, n_labeled: int, reviews: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    X_l, X_test, y_l, y_test = train_test_split(X, y, train_size=n_labeled, random_state=seed, stratify=y)
    classes = sorted(set(y.tolist()))
    flips = rng.choice(len(y_l), int(round(noise * len(y_l))), replace=False)
    noisy = y_l.astype(object).copy()
    for i in flips:
        noisy[i] = rng.choice([c for c in classes if c != y_l[i]])
    model = LogisticRegression(max_iter=2000)
    flags = label_issues(model, X_l, noisy, classes, random_state=seed)
    flipped = set(flips.tolist())
    top = flags["position"].to_numpy()[:reviews]
    all_flags = set(flags["position"].tolist())

    def accuracy(labels: np.ndarray) -> float:
        return float(np.mean(LogisticRegression(max_iter=2000).fit(X_l, labels.astype(int)).predict(X_test) == y_test))

    reviewed, random_reviewed = noisy.copy(), noisy.copy()
    reviewed[top] = y_l[top]  # the reviewer corrects what is wrong among the flags (keeps the rest)
    rand = rng.choice(len(y_l), reviews, replace=False)
    random_reviewed[rand] = y_l[rand]
    return {"precision@50": len(set(top.tolist()) & flipped) / max(len(top), 1),
            "recall@50": len(set(top.tolist()) & flipped) / max(len(flipped), 1),
            "flags": len(all_flags), "precision(all)": len(all_flags & flipped) / max(len(all_flags), 1),
            "recall(all)": len(all_flags & flipped) / max(len(flipped), 1),
            "acc raw": accuracy(noisy), "acc flags reviewed": accuracy(reviewed),
            "acc random reviewed": accuracy(random_reviewed), "acc clean": accuracy(y_l.astype(object))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--labeled", type=int, default=600)
    ap.add_argument("--reviews", type=int, default=50)
    args, _ = ap.parse_known_args()
    rows = []
    for name, (X, y) in datasets().items():
        for noise in (0.05, 0.10, 0.20):
            res = pd.DataFrame([run(X, y, noise, args.labeled, args.reviews, s) for s in range(args.seeds)]).mean()
            rows.append({"data": name, "noise": f"{noise:.0%}", **res.to_dict()})
    table = pd.DataFrame(rows).set_index(["data", "noise"])
    pd.set_option("display.width", 200)
    print(f"{args.labeled} labeled samples, {args.reviews} reviews, mean of {args.seeds} seeds")
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
