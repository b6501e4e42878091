"""Regenerate the tutorial notebooks (outputs stripped): python notebooks/tools/make_notebooks.py"""
import os
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import nbformat
from nbformat.v4 import new_notebook, new_markdown_cell as md, new_code_cell as code

def save(cells, path):
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i:02d}"  # stable ids: regenerating gives clean diffs
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)

save([
md("""# Quickstart: label digits with al_widgets

This notebook goes from an unlabeled pool to a trained model inside JupyterLab:

1. wrap the data in a `Pool` and pick a scikit-learn model,
2. start an `ActiveLearningSession` (labels go to a SQLite file as you give them),
3. open the `ALDashboard` and label: click a class (or click the panel, then press the key shown in
   brackets on its button), *Skip*, *Undo*,
4. watch the map, the top-k panel and the learning curve update after every retrain,
5. export the labels and use the model."""),
code("""import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from al_widgets import ActiveLearningSession, ALDashboard, Pool, available_strategies

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
pool = Pool(X_pool, ids=[f"digit-{i}" for i in range(len(X_pool))], classes=list(range(10)))
len(pool), pool.classes"""),
md("Every strategy the selector offers, with the one-line description the UI shows:"),
code("available_strategies()"),
code("""session = ActiveLearningSession(
    LogisticRegression(max_iter=500), pool, strategy="margin",
    store="data/quickstart.sqlite",      # every label is committed here before the click returns
    X_test=X_test, y_test=y_test,        # held-out set for the learning curve
    batch_size=8, budget=100, annotator="me", random_state=0)
print(session.status)   # a re-run says "resumed … labels": the store keeps every label between runs
dashboard = ALDashboard(session)
dashboard"""),
md("""Label in the panel above. With no labels yet the session is in **cold start**: it cannot train a
model, so it shows representative samples (k-means centres) and says so in the status line.

The cell below plays the human until 40 samples are labeled (answering from `y_pool`) so that this
notebook runs unattended; in real use you click instead. The dashboard above updates while it runs.
Run the notebook again and the session *resumes* `data/quickstart.sqlite` (the status line says
"resumed 40 labels"): the loop then has nothing to do. Delete that file, or pass another `store=`, to
start fresh."""),
code("""while session.n_labeled < 40:
    item = session.next_item()
    dashboard.labeling.label(int(y_pool[item.index]))   # same path as a button click
session.wait_idle()
session.status"""),
code("session.curve.to_frame()[['n_labels', 'accuracy', 'mean_uncertainty', 'fit_seconds']].tail()"),
md("The most informative samples right now, and the labels with who gave them, when and why:"),
code("""indices, scores = session.query(5)
list(zip([pool.ids[i] for i in indices], scores.round(3)))"""),
code("""labels = session.store.to_frame()
labels[['sample_id', 'label', 'annotator', 'seconds', 'strategy', 'score']].head()"""),
code("""n = session.store.export_csv("data/quickstart_labels.csv")
model = session.result_.model
print(f"exported {n} labels; test accuracy {model.score(X_test, y_test):.3f} with {session.n_labeled} labels")"""),
], "notebooks/01_quickstart.ipynb")

save([
md("""# Teaching active learning

For a class: what an active learner does, step by step, on data you can see.

* **Part 1**: the loop on a 2-D toy problem: which points get queried and how the boundary moves.
* **Part 2**: a race: strategies against random sampling with a simulated oracle.
* **Part 3**: two kinds of uncertainty: *aleatoric* (the classes overlap) and *epistemic* (the model has not seen enough).
* **Part 4**: a cold start, and what sampling bias looks like.
* **Part 5**: `auto`, a strategy that chooses strategies, and what it can and cannot see.
* **Part 6**: the dashboard in teaching mode, with random sampling drawn beside your labels.
* **Part 7**: how good is the model without a test set, and when can labeling stop?"""),
code("""import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn.datasets import make_moons
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.pipeline import make_pipeline

from al_widgets import ActiveLearningSession, Pool, simulate, available_strategies
from al_widgets.core import ScoringContext
from al_widgets.core.sim.race import Task, our_selector, race, run_loop, summarize
from al_widgets.core.scoring.uncertainty import uncertainty_decomposition

rng = np.random.default_rng(0)
X, y = make_moons(n_samples=400, noise=0.25, random_state=0)
X_test, y_test = make_moons(n_samples=400, noise=0.25, random_state=1)
model = make_pipeline(PolynomialFeatures(3), StandardScaler(), LogisticRegression(max_iter=2000))
grid_x, grid_y = np.meshgrid(np.linspace(-1.6, 2.6, 80), np.linspace(-1.2, 1.7, 60))
grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])"""),
md("""## Part 1: the loop, step by step

Start from 4 labels. At each step the model is retrained, every unlabeled point is scored by
**entropy**, and the 5 highest are sent to the oracle (here: the true labels). Queried points sit
on the decision boundary, where the model is least sure."""),
code("""labels = np.full(len(y), None, dtype=object)
seed = [int(np.flatnonzero(y == c)[i]) for c in (0, 1) for i in (0, 1)]
labels[seed] = y[seed]
session = ActiveLearningSession(model, Pool(X, labels=labels, classes=[0, 1]), "entropy",
                                X_test=X_test, y_test=y_test, batch_size=5, background=False, random_state=0,
                                retrain_every=10**6)   # we retrain by hand, once per step
fig = make_subplots(rows=1, cols=4, subplot_titles=[f"step {s}" for s in range(1, 5)], shared_yaxes=True)
for step in range(4):
    res = session.retrain()
    batch = res.order[:5]
    p = res.model.predict_proba(grid)[:, 1].reshape(grid_x.shape)
    col = step + 1
    fig.add_contour(x=grid_x[0], y=grid_y[:, 0], z=p, contours=dict(start=0.5, end=0.5, coloring="lines"),
                    line=dict(width=3), showscale=False, row=1, col=col)
    fig.add_scatter(x=X[:, 0], y=X[:, 1], mode="markers", marker=dict(color="lightgrey", size=4),
                    showlegend=False, row=1, col=col)
    lab = np.array(sorted(session.labels))
    fig.add_scatter(x=X[lab, 0], y=X[lab, 1], mode="markers", showlegend=False, row=1, col=col,
                    marker=dict(color=y[lab], colorscale=[[0, "royalblue"], [1, "crimson"]], size=8))
    fig.add_scatter(x=X[batch, 0], y=X[batch, 1], mode="markers", showlegend=False, row=1, col=col,
                    marker=dict(symbol="star", size=14, color="orange", line=dict(width=1)))
    for i in batch:
        session.submit(int(i), int(y[i]))
fig.update_layout(height=320, title="boundary (line), labeled points, and the next 5 queries (stars)")
fig"""),
code("""session.curve.to_frame()[['n_labels', 'accuracy', 'mean_uncertainty']]"""),
md("""## Part 2: the race

A simulated oracle answers from the true labels. Every strategy starts from the same 10 random
labels, acquires 10 per round up to 80, and is repeated over three seeds. The race uses the same
code as `benchmarks/bench_strategies.py` (`al_widgets.core.sim.race`), which races every strategy,
and scikit-activeml's counterparts, over 12 tasks. The grey line is **random sampling**: the
baseline every strategy has to beat.

*Two classes:* entropy, margin and least confidence all rank samples by how close the predicted
probability is to 0.5, so they choose exactly the same samples; only `margin` is drawn.

`clue` clusters the pool with k-means, each sample weighted by its uncertainty, and labels the
sample nearest each centre: uncertain *and* representative. `focused_clue` does the same with the
margin uncertainty **cubed**: a region the model has settled keeps almost no weight, so the batch
spreads along the decision boundary instead of following the mass of the pool. Over the 12 tasks
of the race harness it has the best mean of every method we raced, ours or scikit-activeml's."""),
code("""strategies = ["random", "margin", "badge", "typiclust", "clue", "focused_clue", "auto"]
task = Task("moons", X, y, X_test, y_test, model)
methods = {s: (lambda t, seed, _s=s: our_selector(_s, t, seed)) for s in strategies}
curves_long = race([task], methods, seeds=range(3), initial=10, budget=80, batch_size=10)
curves = curves_long.groupby(["method", "n_labels"])["accuracy"].mean().unstack(0)
same = np.allclose(curves["auto"], curves["focused_clue"])
fig = go.Figure()
for strategy in strategies:
    name = "auto (= focused_clue here: it never switched)" if strategy == "auto" and same else strategy
    line = dict(color="grey", dash="dash") if strategy == "random" else \
        dict(dash="dot", width=5) if strategy == "auto" else None   # wide and dotted: visible over its twin
    fig.add_scatter(x=curves.index, y=curves[strategy], name=name, mode="lines+markers", line=line,
                    opacity=0.6 if strategy == "auto" else 1.0)
fig.update_layout(height=350, xaxis_title="labels", yaxis_title="test accuracy (mean of 3 seeds)")
fig"""),
code("""table = summarize(curves_long).set_index("method")[["aubc_mean", "aubc_std", "final_mean"]]
table = table.sort_values("aubc_mean", ascending=False)
best = table.index[0]
print(f"On the two moons {best} has the best mean accuracy over the budget"
      + ("." if best == "focused_clue" else "; over the 12 tasks of the race harness focused CLUE does. "
         "No strategy wins everywhere: that is what `auto` (Part 5) is for."))
table.rename(columns={"aubc_mean": "mean accuracy over the budget (AUBC)", "aubc_std": "± std over seeds",
                      "final_mean": "final accuracy"})"""),
code("""with pd.option_context("display.max_colwidth", None):   # every description in full, never cut with "…"
    display(pd.Series(available_strategies()).to_frame('what it does'))"""),
md("""## Part 3: aleatoric vs epistemic uncertainty

A committee of models trained on bootstrap resamples predicts each point. The total entropy of their
mean splits exactly into

* **aleatoric** = the mean of each member's entropy: noise in the data itself. More labels do not remove it;
* **epistemic** = total − aleatoric (mutual information, BALD): the members *disagree*. More labels do remove it.

Below: aleatoric uncertainty sits where the two moons overlap, and epistemic uncertainty sits away from the labeled data."""),
code("""few = np.r_[np.flatnonzero(y == 0)[:15], np.flatnonzero(y == 1)[:15]]
fitted = model.fit(X[few], y[few])
ctx = ScoringContext(fitted, grid, np.arange(len(grid)), X[few], y[few], [0, 1], committee_size=8, random_state=0)
dec = ctx.decomposition
assert np.allclose(dec["aleatoric"] + dec["epistemic"], dec["total"])
fig = make_subplots(rows=1, cols=2, subplot_titles=["aleatoric (expected entropy)", "epistemic (mutual information)"])
for col, key in ((1, "aleatoric"), (2, "epistemic")):
    fig.add_heatmap(x=grid_x[0], y=grid_y[:, 0], z=dec[key].reshape(grid_x.shape), colorscale="Viridis",
                    colorbar=dict(x=0.45 if col == 1 else 1.0, len=0.9, title="nats"), row=1, col=col)
    fig.add_scatter(x=X[few, 0], y=X[few, 1], mode="markers", showlegend=False, row=1, col=col,
                    marker=dict(color=y[few], colorscale=[[0, "white"], [1, "black"]], size=7))
fig.update_layout(height=330)
fig"""),
md("""In the dashboard's map the same split is one click away (colour → *epistemic*). The `bald`
strategy queries by epistemic uncertainty only; `entropy` queries by the total.

A caveat for class: epistemic uncertainty is only as good as the committee. When some classes have
no label yet, every member gives them a probability near zero, so the members *agree* there and the
mutual information is low. With a handful of labels on 10-class digits, BALD on a bootstrap
committee of logistic regressions does worse than random for exactly this reason. Query by
committee (`qbc`, vote entropy) and `diverse` batches are more robust early on."""),
md("""## Part 4a: cold start

With fewer than two classes labeled no classifier can be trained. The session does not fail: it
picks representative samples (k-means centres of the pool) and says so."""),
code("""cold = ActiveLearningSession(model, Pool(X, classes=[0, 1]), "entropy", batch_size=6, background=False,
                             random_state=0)
first = cold.next_item()
print(cold.status)
picks = cold.result_.order[:6]
go.Figure([go.Scatter(x=X[:, 0], y=X[:, 1], mode="markers", marker=dict(color="lightgrey"), name="pool"),
           go.Scatter(x=X[picks, 0], y=X[picks, 1], mode="markers", name="cold-start picks",
                      marker=dict(symbol="star", size=16, color="orange"))]).update_layout(height=300)"""),
md("""## Part 4b: sampling bias

Uncertainty sampling only looks where the *current* model is unsure. A cluster that the model
confidently gets wrong is never queried. Here class 0 has a second cluster far away at (8, 8); the
first labels come only from the two clusters near the origin. A linear model calls the far cluster
class 1 *with confidence*, so entropy sampling never looks there, while random sampling stumbles on it."""),
code("""rs = np.random.default_rng(0)
Xb = np.vstack([rs.normal([0, 0], 0.6, (150, 2)), rs.normal([3, 0], 0.6, (150, 2)), rs.normal([8, 8], 0.6, (60, 2))])
yb = np.r_[np.zeros(150), np.ones(150), np.zeros(60)].astype(int)
start = np.r_[0, 1, 2, 150, 151, 152]   # no label from the far cluster
rows = []
for strategy in ("entropy", "random"):
    for seed in range(5):
        df = simulate(LogisticRegression(), Xb, yb, strategy, initial=start, budget=40, batch_size=5,
                      random_state=seed)
        rows.append({"strategy": strategy, "seed": seed, "final accuracy": df["accuracy"].iloc[-1]})
bias = pd.DataFrame(rows)
display(bias.groupby("strategy")["final accuracy"].agg(["mean", "min", "max"]))   # final accuracy over 5 seeds

# where did they look? the samples each strategy queried in one run (seed 0)
bias_task = Task("bias", Xb, yb, Xb, yb, LogisticRegression())
picked = {}
for strategy in ("entropy", "random"):
    select, chosen = our_selector(strategy, bias_task, 0), []
    def record(labeled, fitted, k, _select=select, _chosen=chosen):
        idx = _select(labeled, fitted, k)
        _chosen.extend(idx.tolist())
        return idx
    run_loop(bias_task, record, start, budget=40, batch_size=5, seed=0)
    picked[strategy] = np.array(chosen)
fig = make_subplots(rows=1, cols=2, subplot_titles=["entropy: never looks at the far cluster", "random"])
for col, strategy in enumerate(("entropy", "random"), start=1):
    fig.add_scatter(x=Xb[:, 0], y=Xb[:, 1], mode="markers", showlegend=False, row=1, col=col,
                    marker=dict(color=np.where(yb == 0, "#6baed6", "#fd8d3c"), size=5))
    fig.add_scatter(x=Xb[picked[strategy], 0], y=Xb[picked[strategy], 1], mode="markers", row=1, col=col,
                    name="queried", showlegend=col == 1, marker=dict(symbol="x", color="black", size=8))
    fig.add_annotation(x=8, y=10, text="class 0, far cluster", showarrow=False, row=1, col=col)
print("queried in the far cluster:", {s: int((Xb[picked[s], 0] > 5).sum()) for s in picked})
fig.update_layout(height=330)
fig"""),
md("""Blue is class 0, orange class 1. Entropy sampling spends every label on the boundary between
the two near clusters; random sampling stumbles on the far cluster and learns it is class 0.
Mixing in exploration (`typiclust`, `clue`, `diverse`, `density`, or a share of random picks) is
the usual remedy. Try it: change `"entropy"` above to `"typiclust"`."""),
md("""## Part 5: `auto`, a strategy that chooses strategies

No strategy wins everywhere: in the race harness margin wins on iris and the two-moons, focused CLUE
on rings, digits and text, TypiClust on many classes at a small budget and on boosted trees, CoreSet
on noisy features, and TypiClust falls below random on a pool with rare classes. `auto` decides by
what the session knows, each round, without any extra model fit:

1. while the model gives every sample the **same probabilities** (boosted trees do not split before
   about 40 labels), nothing ranks the pool: it takes TypiClust's **typical** samples;
2. from 3 labels per class on, while the features outnumber the labels (a linear model can then
   separate any labeling, noise included), it checks whether the features carry the classes at all:
   if the labeled samples' nearest labeled neighbours share their class no more often than shuffled
   labels would, the model's boundary is fitted to noise, and it **spreads** the batch by k-center
   (CoreSet);
3. otherwise it takes focused CLUE's uncertain and diverse batches.

Why not learn the choice from the labels? An earlier `auto` replayed a small race of its strategies
on the labels so far, every round: it refit the model 24 times a round and still chose focused CLUE
for most batches. A bandit rewarded by audit labels sees ten to thirty rewards in a budget, too few
to separate strategies a few points apart. A rule that uses what is known beats both, at no cost.
`auto` is the labeling app's default: over the 12 tasks of the race it matches focused CLUE, and on
noisy features and boosted trees it does better (see `docs/strategies.md`).

Below: the session's status line says what `auto` chose and why; the curve records every round."""),
code("""auto_session = ActiveLearningSession(model, Pool(X, classes=[0, 1]), "auto", batch_size=10, background=False,
                                    random_state=0, X_test=X_test, y_test=y_test)
for _ in range(60):
    item = auto_session.next_item()
    auto_session.submit(item.index, int(y[item.index]))
rounds = auto_session.curve.to_frame()[["n_labels", "strategy", "accuracy"]]
phases = rounds.groupby("strategy", sort=False)["n_labels"].agg(["min", "max"])
print(auto_session.strategy.explain())
print("rounds per choice:", rounds["strategy"].value_counts().to_dict())
phases   # which strategy ranked the queue, from which label count to which"""),
md("""## Part 6: the dashboard in teaching mode

Everything above, live: give the dashboard the pool's true labels and it simulates **random
sampling** on the same pool in the background and draws it on the learning curve (grey), so a class
sees at every label whether the strategy is beating the baseline. Label in the panel, or let the cell
below answer for you."""),
code("""from al_widgets import ALDashboard

teach = ActiveLearningSession(model, Pool(X, classes=[0, 1]), "margin", X_test=X_test, y_test=y_test,
                              batch_size=5, random_state=0)
teaching_dashboard = ALDashboard(teach, true_labels=y)
teaching_dashboard"""),
code("""for _ in range(20):   # a student answering (from the true labels)
    item = teach.next_item()
    teaching_dashboard.labeling.label(int(y[item.index]))
teach.wait_idle()
print(teach.status)   # the grey baseline appears on the curve above a few seconds later"""),
md("""## Part 7: how good is the model without a test set, and when to stop

Real projects rarely have a test set. Checking each new label against the prediction made before
training on it (*progressive validation*) is honest but pessimistic under active learning: the
strategy picks the hard samples. **Audit labels** fix that: with `audit=0.15`, about one sample in
seven is drawn uniformly at random from the pool (the annotator cannot tell). A random sample
checked by a model that has not seen it is an unbiased test, so the share of audits the model got
right estimates its accuracy, with a 90 % interval (Wilson). The audit labels then train the model
like any other.

**When to stop?** When the model stops changing: its predictions on a fixed random *stop set*
agree with those of the model ten labels earlier (Cohen's kappa ≥ 0.99) three times in a row
(*stabilizing predictions*, Bloodgood & Vijay-Shanker 2009). Here the session has a test set only
so that we can check the estimate against the truth."""),
code("""audit_session = ActiveLearningSession(model, Pool(X, classes=[0, 1]), "margin", X_test=X_test, y_test=y_test,
                                     batch_size=5, background=False, random_state=0, audit=0.15)
rows = []
for _ in range(120):
    item = audit_session.next_item()
    audit_session.submit(item.index, int(y[item.index]))
    est = audit_session.accuracy_estimate()
    res = audit_session.result_
    if est.known and res is not None and not res.cold_start:
        rows.append({"labels": audit_session.n_labeled, "test accuracy": res.metrics["accuracy"],
                     "estimate": est.value, "low": est.low, "high": est.high,
                     "stop": audit_session.stop_advice().stop})
est_curve = pd.DataFrame(rows)
fig = go.Figure([
    go.Scatter(x=est_curve["labels"], y=est_curve["low"], line=dict(width=0), showlegend=False),
    go.Scatter(x=est_curve["labels"], y=est_curve["high"], line=dict(width=0), fill="tonexty",
               fillcolor="rgba(26,127,55,0.2)", name="90 % interval"),
    go.Scatter(x=est_curve["labels"], y=est_curve["estimate"], name="estimate from audit labels",
               line=dict(color="#1a7f37", width=3)),
    go.Scatter(x=est_curve["labels"], y=est_curve["test accuracy"], name="test accuracy (the truth)",
               line=dict(color="black", dash="dot"))])
first_stop = est_curve.loc[est_curve["stop"], "labels"].min() if est_curve["stop"].any() else None
if first_stop is not None:
    fig.add_vline(x=first_stop, line_dash="dash", annotation_text="stop advice")
fig.update_layout(height=330, xaxis_title="labels", yaxis_title="accuracy", yaxis_range=[0.5, 1.02])
inside = ((est_curve["low"] <= est_curve["test accuracy"]) & (est_curve["test accuracy"] <= est_curve["high"])).mean()
print(f"the interval held the test accuracy at {inside:.0%} of the retrains; "
      f"{len(audit_session.store.audit_checks())} of {audit_session.n_labeled} labels were audits")
print(audit_session.stop_advice().reason)
fig"""),
], "notebooks/02_teaching_active_learning.ipynb")

save([
md("""# Bring your own data

Patterns that cover most projects:

1. **text in a CSV**: raw strings in the pool, a TF-IDF + logistic regression pipeline as the model,
   then the same texts **by meaning**: the built-in offline embedding (`al_widgets.embed`),
2. **a tabular DataFrame**: rows shown as feature tables, a random forest whose trees give epistemic uncertainty,
3. **precomputed embeddings** in Parquet (a column of float vectors) or an `.npy` beside a CSV,
4. **export** the labels, and serve the same data to domain experts with the `al-widgets` command."""),
code("""from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from al_widgets import ActiveLearningSession, ALDashboard, Pool

Path("data").mkdir(exist_ok=True)"""),
md("""## 1. Text from a CSV

We generate a small review CSV here (no downloads); replace the path with your own file. A few rows
already carry a label; the rest are empty. Note the hostile row: sample text is always shown
escaped, never as HTML."""),
code("""rng = np.random.default_rng(0)
good = ["great", "lovely", "excellent", "fun", "moving", "brilliant"]
bad = ["boring", "awful", "dull", "terrible", "slow", "weak"]
nouns = ["plot", "acting", "film", "ending", "music", "cast"]
rows, truth = [], {"r-html": "neg"}
for i in range(300):
    pos = i % 2 == 0
    words = rng.choice(good if pos else bad, 2).tolist() + rng.choice(nouns, 2).tolist() + rng.choice(good + bad, 1).tolist()
    truth[f"r{i:03d}"] = "pos" if pos else "neg"
    rows.append({"id": f"r{i:03d}", "review": "The " + " ".join(rng.permutation(words)),
                 "label": ("pos" if pos else "neg") if i < 6 else None})
rows.append({"id": "r-html", "review": "<script>alert('hi')</script> <b>bold</b> claim", "label": None})
pd.DataFrame(rows).to_csv("data/reviews.csv", index=False)
reviews = pd.read_csv("data/reviews.csv")
reviews.head()"""),
code("""text_pool = Pool(reviews["review"].to_numpy(dtype=object), ids=reviews["id"], labels=reviews["label"],
                 classes=["pos", "neg"])
text_model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=1000))
text_session = ActiveLearningSession(text_model, text_pool, strategy="entropy", store="data/reviews.sqlite",
                                     batch_size=6, annotator="me", random_state=0)
ALDashboard(text_session)"""),
md("The pipeline's TF-IDF step also gives the map its coordinates and the `diverse`/`density` strategies their geometry."),
code("""for _ in range(10):   # stand-in for clicks so the notebook runs unattended
    item = text_session.next_item()
    text_session.submit(item.index, truth[text_pool.ids[item.index]])
text_session.wait_idle()
text_session.status"""),
md("""### Text by meaning

TF-IDF knows only the words it has seen labeled. `al_widgets.embed` turns each text into a 256-number
vector with a small model that ships inside the `wordllama` package (nothing is downloaded; rows are
cached on disk), so "superb" lands near "excellent" before anyone labels either. `al-widgets serve`
uses it for text by default (`--embedder tfidf` for the words-only features). Below: eight labeled
reviews, then ten whose adjectives none of them uses."""),
code("""from al_widgets import embed

labeled = ["a great film", "lovely acting", "an excellent ending", "a fun story",
           "a boring film", "awful acting", "a dull ending", "a weak story"]
labeled_y = ["pos"] * 4 + ["neg"] * 4
unseen = ["a superb film", "wonderful acting", "a delightful ending", "a brilliant story", "a marvellous plot",
          "a tedious film", "dreadful acting", "a bland ending", "a terrible story", "a poor plot"]
unseen_y = ["pos"] * 5 + ["neg"] * 5
by_words = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(labeled, labeled_y)
by_meaning = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(embed(labeled), labeled_y)
print(f"accuracy on the unseen adjectives: TF-IDF {by_words.score(unseen, unseen_y):.1f}, "
      f"embedding {by_meaning.score(embed(unseen), unseen_y):.1f}")
# a pool on the embedding: the model learns from the vectors, people see the texts
texts = reviews["review"].tolist()
meaning_pool = Pool(embed(texts), ids=reviews["id"], items=texts, labels=reviews["label"], classes=["pos", "neg"])
meaning_pool.X.shape"""),
md("""## 2. A tabular DataFrame with a custom model

The DataFrame's index becomes the sample ids; each row is displayed as a small feature table. A
random forest's own trees form the committee, so `bald` (epistemic uncertainty) costs no extra fits.
A custom renderer shows only the columns an expert needs."""),
code("""data = load_breast_cancer(as_frame=True)
frame = data.frame.drop(columns="target")
frame.index = [f"patient-{i}" for i in range(len(frame))]
target = data.target.map({0: "malignant", 1: "benign"}).to_numpy()
known = np.full(len(frame), None, dtype=object)
known[:4] = target[:4]
known[20:24] = target[20:24]
tab_pool = Pool(frame, labels=known, classes=["malignant", "benign"])

from al_widgets.widgets.render import table_html
def renderer(row):
    return table_html(row[["mean radius", "mean texture", "worst area", "worst concavity"]])

tab_session = ActiveLearningSession(RandomForestClassifier(n_estimators=50, random_state=0), tab_pool, strategy="bald",
                                    store="data/tabular.sqlite", batch_size=5, random_state=0)
ALDashboard(tab_session, renderer=renderer)"""),
code("""for _ in range(6):
    item = tab_session.next_item()
    tab_session.submit(item.index, target[item.index])
tab_session.wait_idle()
res = tab_session.result_
print(tab_session.status)
print("epistemic + aleatoric == total:", np.allclose(res.uncertainty["epistemic"] + res.uncertainty["aleatoric"], res.uncertainty["entropy"]))"""),
md("""## 3. Precomputed embeddings (Parquet)

Embeddings of text or images computed elsewhere (a sentence encoder, a CNN) come as a column of
equal-length lists of floats, or as an `.npy` matrix beside a CSV. Here a fixed random projection of
the TF-IDF vectors stands in for an encoder. The features become one float32 matrix, each sample is
shown as its table row, and a malformed vector is named by its row."""),
code("""from sklearn.random_projection import GaussianRandomProjection

tfidf = TfidfVectorizer().fit_transform(reviews["review"])
vectors = GaussianRandomProjection(32, random_state=0).fit_transform(tfidf).astype(np.float32)
reviews.assign(vec=list(vectors)).to_parquet("data/reviews_embedded.parquet")

emb_pool = Pool.from_parquet("data/reviews_embedded.parquet", embedding_column="vec", id_column="id",
                             label_column="label", classes=["pos", "neg"])
emb_session = ActiveLearningSession(LogisticRegression(max_iter=1000), emb_pool, strategy="margin",
                                    store="data/reviews_embedded.sqlite", batch_size=6, random_state=0)
for _ in range(10):
    item = emb_session.next_item()
    emb_session.submit(item.index, truth[emb_pool.ids[item.index]])
emb_session.wait_idle()
print(emb_pool.X.dtype, emb_pool.X.shape, "|", emb_session.status)"""),
md("""`al-widgets serve data/reviews_embedded.parquet --embedding-column vec --id-column id --classes pos,neg`
serves the same pool; for a CSV, `data/reviews.npy` beside `data/reviews.csv` (or `--embeddings FILE.npy`)
becomes the features. Pools on a Dask cluster: `Pool.from_parquet(path, client=client,
feature_columns=[...], classes=[...])`, see the README."""),
md("""## 4. Tags: several labels per sample

A support ticket can be about billing *and* urgent. With `task="multilabel"` a label is a set of
tags (a list, or `"billing|urgent"` as a CSV cell; the empty set means "none of these"); the panel shows
one toggle per tag with its key, Enter submits the set. The model needs one output per tag:
`OneVsRestClassifier` wraps any classifier (a plain `LogisticRegression` is refused with that advice).
The default strategy for tags is `tag_clue` (see docs/strategies.md for the race)."""),
code("""from sklearn.multiclass import OneVsRestClassifier

words = {"billing": "invoice refund charge payment", "urgent": "asap immediately outage critical",
         "login": "password locked signin reset"}
rng = np.random.default_rng(3)
tickets, tags = [], []
for i in range(300):
    chosen = [t for t in words if rng.random() < 0.4]
    vocab = " ".join(words[t] for t in chosen).split() or ["hello", "question"]
    tickets.append(" ".join(rng.choice(vocab, 4)) + " please help")
    tags.append(chosen)
tag_pool = Pool(np.array(tickets, dtype=object), classes=list(words), task="multilabel")
tag_model = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LogisticRegression(max_iter=1000)))
tag_session = ActiveLearningSession(tag_model, tag_pool, store="data/tickets.sqlite", batch_size=6, random_state=0)
ALDashboard(tag_session)"""),
code("""for _ in range(24):   # stand-in for toggles + Enter
    item = tag_session.next_item()
    tag_session.submit(item.index, tags[item.index])
tag_session.wait_idle()
print(tag_session.status)
i = tag_session.query(1)[0][0]
print(repr(tickets[i]), "-> the model says:", tag_session.result_.prediction[i])
tag_session.store.export_csv("data/ticket_tags.csv")
pd.read_csv("data/ticket_tags.csv", keep_default_na=False)[["sample_id", "label"]].head()"""),
md("""Served: `al-widgets serve tickets.csv --text-column text --label-column tags --multi-label` (the column
holds `a|c`, blank for unlabeled). `al-widgets status` reports agreement on sets (Krippendorff's alpha
with the MASI distance, kappa per tag)."""),
md("## 5. Export, and serve to experts"),
code("""n = text_session.store.export_csv("data/review_labels.csv")
pd.read_csv("data/review_labels.csv").head()"""),
md("""The same CSV, served as a Voila app for people who never see code (one browser tab per expert;
they share the SQLite store and never get the same sample at once):

```bash
al-widgets serve data/reviews.csv --text-column review --label-column label --id-column id --classes pos,neg
al-widgets export data/labels.sqlite -o labels.csv
```

`--check` validates the arguments and the data without starting the server:"""),
code("""import sys  # the command of this kernel's Python: works whether or not its venv is activated
!{sys.executable} -m al_widgets.cli serve data/reviews.csv --text-column review --label-column label --id-column id --classes pos,neg --check
!{sys.executable} -m al_widgets.cli serve data/reviews.csv --text-column no_such_column --classes pos,neg --check || echo "exit code $?" """),
], "notebooks/03_your_own_data.ipynb")
