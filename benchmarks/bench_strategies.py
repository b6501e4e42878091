"""Strategy race: every strategy on identical splits and initial sets, several seeds.

Ours and, when scikit-activeml is installed (``pip install scikit-activeml``; not a dependency),
its counterparts: margin uncertainty sampling, TypiClust, BADGE, CoreSet, FALCUN and CLUE.  Every
method sees the same standardized features, the same LogisticRegression, the same test split and
the same random initial labels per seed.

Printed per task: AUBC (mean test accuracy over the budget curve) mean ± std over seeds, final
accuracy, labels needed to reach 98 % of the full-data accuracy; then the summary the goals are
judged by, and the time per query at 10k and 100k samples x 50 features.

``--text``: the text tasks only, each raced twice, on TF-IDF and on the built-in embedding
(:func:`al_widgets.embed`): ``text4``/``text8`` share their topic words across documents,
``meaning6`` draws two words per document from 30 per topic (documents of a topic share meaning
but few words).

Per seed every method starts from the same initial labels; ``--streams k`` runs each method k
times per seed with independent random streams (shared by the methods, drawn apart from the initial
labels) and averages them, so a paired difference is not one draw of a method's own randomness.

Run: python benchmarks/bench_strategies.py [--seeds 5] [--first-seed 0] [--streams 1] [--quick]
[--text] [--weak] [--tasks a,b] [--methods auto,focused_clue] [--skal coreset] [--no-timing]
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import (load_breast_cancer, load_digits, load_iris, load_wine, make_blobs,
                              make_classification, make_gaussian_quantiles, make_moons)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from al_widgets.core.sim.race import Task, our_selector, per_run, race, summarize  # noqa: E402

OURS = ["random", "margin", "entropy", "typiclust", "badge", "coreset", "clue", "focused_clue", "auto"]
TOPICS = ["match goal team coach season league score player win stadium",
          "cell energy atom theory experiment data lab quantum gene climate",
          "market stock bank rate inflation bond profit loss trade fund",
          "flight hotel beach city museum train island tour passport visa",
          "recipe oven flour sugar butter bake dough salt pepper garlic",
          "court judge law trial jury appeal verdict lawyer crime police",
          "album song band guitar concert stage tour singer lyrics drum",
          "doctor patient hospital nurse surgery vaccine virus clinic dose pain"]


MEANING = {
    "sport": "football soccer goal striker goalkeeper referee penalty league stadium coach tennis racket golf "
             "basketball dribble tournament championship athlete sprinter marathon swimmer medal olympics rugby "
             "cricket batsman pitch fixture midfielder defender",
    "weather": "rain snow storm thunder lightning forecast drizzle hail breeze wind gust fog humidity temperature "
               "heatwave frost blizzard cloudy sunny showers monsoon hurricane tornado drought sleet chilly mild "
               "umbrella meteorologist rainfall",
    "finance": "bank loan mortgage interest inflation stock shares dividend investor bond currency exchange profit "
               "revenue earnings budget tax credit debt deposit portfolio broker hedge fund recession market "
               "trader equity pension savings",
    "food": "recipe bake oven flour sugar butter garlic onion pepper salt soup salad pasta noodles roast grill "
            "dessert chocolate cheese bread pastry sauce spice simmer chef kitchen dinner lunch breakfast cake",
    "health": "doctor nurse hospital patient surgery vaccine virus infection fever cough clinic medicine "
              "prescription therapy diagnosis symptom injury ambulance pharmacy antibiotics illness disease "
              "wellness diet exercise pulse blood allergy headache",
    "travel": "flight airport passport visa hotel resort beach island cruise luggage suitcase tourist sightseeing "
              "museum itinerary journey train station ticket booking holiday vacation destination backpacking "
              "map guidebook hostel passenger",
}


def _meaning_docs(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Short documents: two words of their topic's 30 among six filler words."""
    rng = np.random.default_rng(seed)
    words = [v.split() for v in MEANING.values()]
    filler = "the a of and to in is was for on with that this it today very just really".split()
    y = rng.integers(0, len(words), n)
    docs = [" ".join(rng.permutation([*rng.choice(words[c], 2, replace=False), *rng.choice(filler, 6)]))
            for c in y]
    return docs, y


def _topic_docs(n: int, n_topics: int, noise: int, seed: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    words = [t.split() for t in TOPICS[:n_topics]]
    common = "the a of and to in is was for on with that this it".split()
    y = rng.integers(0, n_topics, n)
    docs = [" ".join(rng.permutation([*rng.choice(words[c], 3), *rng.choice(words[rng.integers(n_topics)], noise),
                                      *rng.choice(common, 5)])) for c in y]
    return docs, y


def text_tasks() -> list[tuple[str, np.ndarray, np.ndarray, int, int]]:
    """Each text task twice: TF-IDF features and the built-in embedding."""
    from al_widgets import embed
    out = []
    for name, (docs, y) in (("text4", _topic_docs(800, 4, 2, 7)), ("text8", _topic_docs(1200, 8, 3, 8)),
                            ("meaning6", _meaning_docs(1200, 9))):
        out.append((f"{name}_tfidf", TfidfVectorizer().fit_transform(docs).toarray(), y, 100, 10))
        out.append((f"{name}_embed", embed(docs, cache_dir=None), y, 100, 10))
    return out


def _text(n: int, n_topics: int, noise: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    docs, y = _topic_docs(n, n_topics, noise, seed)
    return TfidfVectorizer().fit_transform(docs).toarray(), y


def tasks(quick: bool = False, text: bool = False) -> list[tuple[str, np.ndarray, np.ndarray, int, int]]:
    """(name, X, y, budget, batch size): bundled and generated, tabular and text."""
    if text:
        return text_tasks()
    out = [("iris", *load_iris(return_X_y=True), 50, 5), ("wine", *load_wine(return_X_y=True), 50, 5),
           ("breast_cancer", *load_breast_cancer(return_X_y=True), 100, 10),
           ("digits", *load_digits(return_X_y=True), 100, 10)]
    if quick:
        return out
    Xb, yb = make_blobs(1000, n_features=10, centers=5, cluster_std=3.0, random_state=1)
    Xc, yc = make_classification(1000, n_features=20, n_informative=5, random_state=2)
    X4, y4 = make_classification(1500, n_features=20, n_informative=8, n_classes=4, n_clusters_per_class=2,
                                 random_state=3)
    Xi, yi = make_classification(1000, n_features=10, n_informative=5, n_classes=3, weights=[0.8, 0.15, 0.05],
                                 random_state=4)
    Xm, ym = make_moons(1000, noise=0.3, random_state=5)
    Xq, yq = make_gaussian_quantiles(n_samples=1000, n_features=2, n_classes=3, random_state=6)
    poly = PolynomialFeatures(3, include_bias=False)
    out += [("blobs5", Xb, yb, 100, 10), ("binary20", Xc, yc, 100, 10), ("four_class", X4, y4, 100, 10),
            ("imbalanced3", Xi, yi, 100, 10), ("moons_poly", poly.fit_transform(Xm), ym, 100, 10),
            ("rings_poly", poly.fit_transform(Xq), yq, 100, 10),
            ("text4", *_text(800, 4, 2, 7), 100, 10), ("text8", *_text(1200, 8, 3, 8), 100, 10)]
    return out


def weak_tasks() -> list[tuple[Task, int, int, int]]:
    """Where focused CLUE was weak in an independent race: (task, budget, batch, initial labels).

    ``rare3``: 90/5/5 classes from 2 random labels; ``trees``: digits with boosted trees (step-shaped
    probabilities); ``many20``: 20 classes, 5-7 labels per class; ``noisy200``: 6 informative
    features among 200.  Balanced accuracy is reported beside accuracy.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    Xr, yr = make_classification(3000, n_features=10, n_informative=5, n_classes=3, weights=[0.9, 0.05, 0.05],
                                 n_clusters_per_class=1, class_sep=1.5, random_state=11)
    Xm, ym = make_classification(3000, n_features=30, n_informative=15, n_classes=20, n_clusters_per_class=1,
                                 class_sep=2.0, random_state=12)
    Xn, yn = make_classification(1500, n_features=200, n_informative=6, n_redundant=0, n_classes=3,
                                 n_clusters_per_class=1, random_state=13)
    Xd, yd = load_digits(return_X_y=True)
    trees = make_task("trees", Xd, yd)
    trees.model = HistGradientBoostingClassifier(max_iter=40, random_state=0)
    return [(make_task("rare3", Xr, yr), 60, 5, 2), (trees, 100, 10, 10), (make_task("many20", Xm, ym), 140, 10, 20),
            (make_task("noisy200", Xn, yn), 100, 10, 10)]


def make_task(name: str, X: np.ndarray, y: np.ndarray) -> Task:
    X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_pool)
    return Task(name, scaler.transform(X_pool), y_pool, scaler.transform(X_test), y_test,
                LogisticRegression(max_iter=1000))


def skactiveml_methods() -> dict:
    """scikit-activeml's counterparts as selectors (empty when it is not installed)."""
    try:
        from skactiveml.classifier import SklearnClassifier
        from skactiveml.pool import Badge, Clue, CoreSet, Falcun, TypiClust, UncertaintySampling
    except ImportError:
        return {}

    def wrap(factory, needs_clf: bool):
        def make(task: Task, seed: int):
            qs = factory(seed)
            classes = np.unique(task.y)

            def select(labeled, model, k):
                y = np.full(len(task.y), np.nan)
                y[labeled] = task.y[labeled]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if needs_clf:
                        clf = SklearnClassifier(LogisticRegression(max_iter=1000), classes=classes,
                                                missing_label=np.nan, random_state=seed)
                        if isinstance(qs, Clue):
                            return qs.query(task.X, y, clf, batch_size=k)
                        return qs.query(task.X, y, clf=clf, batch_size=k)
                    return qs.query(task.X, y, batch_size=k)
            return select
        return make

    return {"skal:margin": wrap(lambda s: UncertaintySampling(method="margin_sampling", missing_label=np.nan,
                                                              random_state=s), True),
            "skal:typiclust": wrap(lambda s: TypiClust(missing_label=np.nan, random_state=s), False),
            "skal:badge": wrap(lambda s: Badge(missing_label=np.nan, random_state=s), True),
            "skal:coreset": wrap(lambda s: CoreSet(missing_label=np.nan, random_state=s), False),
            "skal:falcun": wrap(lambda s: Falcun(missing_label=np.nan, random_state=s), True),
            "skal:clue": wrap(lambda s: Clue(missing_label=np.nan, random_state=s), True)}


def full_accuracy(task: Task) -> float:
    model = LogisticRegression(max_iter=1000).fit(task.X, task.y)
    return float(np.mean(model.predict(task.X_test) == task.y_test))


def timing(methods: dict, sizes=(10_000, 100_000)) -> pd.DataFrame:
    """Seconds for one query of 10 samples with 200 labeled, 50 features, 10 classes."""
    rows = []
    for n in sizes:
        X, y = make_classification(n, n_features=50, n_informative=20, n_classes=10, random_state=0)
        task = Task(f"{n}", X.astype(np.float64), y, X[:10], y[:10], LogisticRegression(max_iter=1000))
        labeled = np.random.default_rng(0).choice(n, 200, replace=False)
        model = LogisticRegression(max_iter=1000).fit(X[labeled], y[labeled])
        for name, make in methods.items():
            if name in ("random", "entropy"):
                continue
            select = make(task, 0)
            t0 = time.perf_counter()
            select(labeled, model, 10)
            rows.append({"method": name, "pool": n, "seconds": time.perf_counter() - t0})
    return pd.DataFrame(rows).pivot(index="method", columns="pool", values="seconds")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0, help="held-out seeds: e.g. 5 (tuned on 0-4)")
    ap.add_argument("--streams", type=int, default=1,
                    help="runs per seed, each with its own random stream for the methods (averaged)")
    ap.add_argument("--quick", action="store_true", help="the four bundled datasets only")
    ap.add_argument("--text", action="store_true", help="the text tasks only, on TF-IDF and on the embedding")
    ap.add_argument("--weak", action="store_true", help="the weak-spot tasks only (rare classes, trees, many "
                                                          "classes, noisy features), with balanced accuracy")
    ap.add_argument("--tasks", default="", help="only these tasks (comma-separated names)")
    ap.add_argument("--skal", default="", help="only these scikit-activeml methods (e.g. badge,coreset)")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--methods", default=",".join(OURS), help="our strategies to race (comma-separated)")
    args, _ = ap.parse_known_args()
    # "name+cover": the strategy with the session's class coverage on top (what the app does)
    methods = {name: (lambda task, seed, _n=name: our_selector(_n.removesuffix("+cover"), task, seed,
                                                               cover=_n.endswith("+cover")))
               for name in args.methods.split(",")}
    skal = skactiveml_methods()
    keep = [m for m in args.skal.split(",") if m] or [k.split(":")[1] for k in skal]
    methods.update({k: v for k, v in skal.items() if k.split(":")[1] in keep})
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if args.weak:
        weak(methods, seeds, [t for t in args.tasks.split(",") if t], args.streams)
        return
    only = [t for t in args.tasks.split(",") if t]
    chosen = [t for t in tasks(args.quick, args.text) if not only or t[0] in only]
    all_tasks = [make_task(name, X, y) for name, X, y, _, _ in chosen]
    settings = {name: (budget, batch) for name, _, _, budget, batch in chosen}
    frames = []
    t0 = time.perf_counter()
    for task in all_tasks:
        budget, batch = settings[task.name]
        frames.append(race([task], methods, seeds, initial=10, budget=budget, batch_size=batch,
                           streams=args.streams))
        print(f"  {task.name}: done ({time.perf_counter() - t0:.0f} s)", flush=True)
    curves = pd.concat(frames, ignore_index=True)
    full = {t.name: full_accuracy(t) for t in all_tasks}
    table = summarize(curves, full)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)
    for task_name, df in table.groupby("task", sort=False):
        print(f"\n{task_name} (full-data accuracy {full[task_name]:.3f})")
        view = df.set_index("method")[["aubc_mean", "aubc_std", "final_mean", "labels_to_98_mean"]]
        print(view.sort_values("aubc_mean", ascending=False).round(3).to_string())
    print("\n" + verdict(table).to_string())
    if not args.no_timing:
        print("\nseconds per query (10 samples, 200 labeled, 50 features, 10 classes)")
        print(timing(methods).round(3).to_string())


def weak(methods: dict, seeds: range, only: list[str] | None = None, streams: int = 1) -> None:
    """The weak-spot race: AUBC and balanced AUBC per task, paired differences against random and,
    when scikit-activeml is installed, against its best method on each task (``only``: these tasks)."""
    frames = []
    for task, budget, batch, initial in weak_tasks():
        if only and task.name not in only:
            continue
        t0 = time.perf_counter()
        frames.append(race([task], methods, seeds, initial=initial, budget=budget, batch_size=batch,
                           streams=streams))
        print(f"  {task.name}: done ({time.perf_counter() - t0:.0f} s)", flush=True)
    curves = pd.concat(frames, ignore_index=True)
    full = curves.groupby("task")["classes_seen"].transform("max") == curves["classes_seen"]
    curves = curves.assign(all_seen_at=curves["n_labels"].where(full))
    runs = per_run(curves, aubc=("accuracy", "mean"), balanced=("balanced_accuracy", "mean"),
                   seconds=("query_seconds", "mean"), all_classes_at=("all_seen_at", "min"))
    print(runs.groupby(["task", "method"]).mean().round(3).to_string())
    for col in ("aubc", "balanced"):
        wide = runs[col].unstack("method")  # rows: (task, seed); paired: same seed, same start
        diff = wide.sub(wide["random"], axis=0)
        mean, sem = diff.groupby(level="task").mean(), diff.groupby(level="task").sem()
        cells = mean.round(3).astype(str) + " ± " + sem.round(3).astype(str)
        print(f"\n{col}: paired difference against random (mean ± standard error over seeds)")
        print(cells.to_string())
        skal = [c for c in wide.columns if c.startswith("skal:")]
        if skal:  # the best scikit-activeml method of each task (by its mean), paired seed by seed
            best = wide[skal].groupby(level="task").mean().idxmax(axis=1)
            rows = {}
            for task, method in best.items():
                part = wide.xs(task, level="task")
                d = part.sub(part[method], axis=0)
                rows[f"{task} (vs {method})"] = d.mean().round(3).astype(str) + " ± " + d.sem().round(3).astype(str)
            print(f"\n{col}: paired difference against the best scikit-activeml method of each task")
            print(pd.DataFrame(rows).T[[c for c in wide.columns if not c.startswith("skal:")]].to_string())


def verdict(table: pd.DataFrame) -> pd.DataFrame:
    """Per our method: tasks within 0.005 of the best scikit-activeml AUBC, tasks below random by > 1 std."""
    aubc = table.pivot(index="task", columns="method", values="aubc_mean")
    std = table.pivot(index="task", columns="method", values="aubc_std")
    skal = [c for c in aubc.columns if c.startswith("skal:")]
    rows = []
    for m in [c for c in aubc.columns if not c.startswith("skal:")]:
        row = {"method": m, "mean AUBC": aubc[m].mean(),
               "tasks below random by > 1 std": int((aubc[m] < aubc["random"] - std["random"]).sum()),
               "tasks below random": int((aubc[m] < aubc["random"]).sum())}
        if skal:
            best = aubc[skal].max(axis=1)
            row["tasks >= best skal - 0.005"] = f"{int((aubc[m] >= best - 0.005).sum())}/{len(aubc)}"
            row["mean gap to best skal"] = (aubc[m] - best).mean()
        rows.append(row)
    return pd.DataFrame(rows).set_index("method").round(4)


if __name__ == "__main__":
    main()
