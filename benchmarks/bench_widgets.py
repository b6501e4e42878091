"""Widget benchmark (headless): what a labeling click costs, UMAP, and recolour message size.

* click -> next sample: the button's click handler returning with the next sample rendered
  (store commit + claim + render); the retrain runs in the background.
* click -> refreshed panels: until the retrain, re-score, map recolour, top-k and curve are done.
* UMAP on 2k and 20k points: cold (first call in a fresh process includes numba compilation),
  again in the same process, and warm from the on-disk cache.
* map traffic per label: bytes the map sends to the browser for one label and its retrain
  (colour, hover and overlay arrays only),
  against sending the whole figure again (the baseline of rebuilding the plot).

Run: python benchmarks/bench_widgets.py [--sizes 1000 10000 50000] [--umap-sizes 2000 20000]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time

import numpy as np
from ipywidgets.widgets.widget import _remove_buffers
from plotly.serializers import custom_serializers
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from al_widgets.core import ActiveLearningSession, Pool
from al_widgets.core.layout.embedding import PoolEmbedding
from al_widgets.widgets import ALDashboard

N_CLICKS = 12


def message_bytes(msg: dict, widget) -> int:
    """Size of a widget state message: JSON part plus binary buffers."""
    state = {k: custom_serializers["to_json"](v, widget) for k, v in msg.items()}
    state, _paths, buffers = _remove_buffers(state)
    return len(json.dumps(state, default=str)) + sum(memoryview(b).nbytes for b in buffers)


def bench_clicks(n: int, folder: str) -> dict:
    X, y = make_classification(n_samples=n, n_features=20, n_informative=10, n_classes=5, random_state=0)
    labels = np.full(n, None, dtype=object)
    labels[:50] = y[:50]
    s = ActiveLearningSession(LogisticRegression(max_iter=200), Pool(X, labels=labels, classes=list(range(5))),
                              "margin", store=f"{folder}/w{n}.sqlite", X_test=X[:2000], y_test=y[:2000],
                              background=True, epistemic=False, random_state=0)
    dash = ALDashboard(s, umap=False, cache_dir=None)
    s.wait_idle(120)
    done = threading.Event()
    s.on("retrained", lambda result: done.set())  # registered last: runs after the views refreshed
    msgs: list[int] = []
    fig = dash.map.figure
    fig.observe(lambda ch: msgs.append(message_bytes({ch["name"]: ch["new"]}, fig)) if ch["new"] else None,
                names=["_py2js_update", "_py2js_restyle"])
    next_ms, refresh_ms, per_click = [], [], []
    for _ in range(N_CLICKS):
        item = dash.labeling.item
        done.clear()
        msgs.clear()
        t0 = time.perf_counter()
        dash.labeling.class_buttons[int(y[item.index])].click()
        next_ms.append(1e3 * (time.perf_counter() - t0))
        done.wait(120)
        s.wait_idle(120)
        refresh_ms.append(1e3 * (time.perf_counter() - t0))
        per_click.append(sum(msgs))
    recolour = statistics.median(per_click)
    full = message_bytes({"_widget_data": fig._widget_data}, fig)
    dash.detach()
    s.close()
    return {"next": statistics.median(next_ms), "refresh": statistics.median(refresh_ms),
            "recolour_kb": recolour / 1024, "full_kb": full / 1024}


def bench_umap(sizes: list[int], folder: str) -> list[tuple]:
    rows = []
    for n in sizes:
        X, _ = make_classification(n_samples=n, n_features=30, n_informative=10, n_classes=5, random_state=1)
        e = PoolEmbedding(X, f"bench-{n}", folder)
        t0 = time.perf_counter()
        e.compute_umap()
        first = time.perf_counter() - t0
        again = PoolEmbedding(X, f"bench-{n}-again", None)
        t0 = time.perf_counter()
        again.compute_umap()
        second = time.perf_counter() - t0
        t0 = time.perf_counter()
        cached = PoolEmbedding(X, f"bench-{n}", folder)
        warm = time.perf_counter() - t0
        assert cached.method == "umap (cached)"
        rows.append((n, first, second, warm))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    ap.add_argument("--umap-sizes", type=int, nargs="*", default=[2000, 20000])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(f"median of {N_CLICKS} labeling clicks, LogisticRegression, strategy margin, retrain every label")
        head = f"{'pool':>7} {'click->next ms':>14} {'click->refreshed ms':>19} {'map msg/label KB':>16} " \
               f"{'full figure KB':>14} {'ratio':>6}"
        print(head)
        print("-" * len(head))
        for n in args.sizes:
            r = bench_clicks(n, folder)
            print(f"{n:>7} {r['next']:>14.1f} {r['refresh']:>19.1f} {r['recolour_kb']:>16.1f} "
                  f"{r['full_kb']:>14.1f} {r['full_kb'] / r['recolour_kb']:>5.1f}x")
        print()
        head = f"{'points':>7} {'UMAP first (incl. numba JIT) s':>30} {'UMAP again s':>12} {'from cache s':>12}"
        print(head)
        print("-" * len(head))
        for n, first, second, warm in bench_umap(args.umap_sizes, folder):
            print(f"{n:>7} {first:>30.1f} {second:>12.1f} {warm:>12.3f}")


if __name__ == "__main__":
    main()
