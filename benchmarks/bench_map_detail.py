"""Map level of detail (headless): what a zoom costs on a big pool, against drawing the overview.

For pools of 200k and 1M samples (4 float32 features, a logistic regression, PCA layout), in the
same process and warmed up:

* ``overview``: the stratified 20,000 markers and their arrays sent when the whole map is in view
  (the baseline: what every big map already does after each retrain);
* ``zoom``: a window holding about 0.5 % or 5 % of the pool: ``points_in_view`` alone, then the whole
  kernel side of a zoom (``UncertaintyMap._on_zoom``: pick the points, build their ids, colours and
  positions, hand them to the widget), and the bytes sent to the page.

Ratios are against the overview in the same run.  Run: python benchmarks/bench_map_detail.py
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time

import numpy as np
import pandas as pd
from ipywidgets.widgets.widget import _remove_buffers
from plotly.serializers import custom_serializers
from sklearn.linear_model import LogisticRegression

from al_widgets.core import ActiveLearningSession, Pool
from al_widgets.core.layout.detail import points_in_view
from al_widgets.widgets.map import POOL, UncertaintyMap


def trace_bytes(fig) -> int:
    """Bytes of the markers trace as the widget would send it (JSON plus binary buffers)."""
    trace = fig.data[POOL].to_plotly_json()
    state = {k: custom_serializers["to_json"](v, fig) for k, v in trace.items()}
    state, _paths, buffers = _remove_buffers(state)
    return len(json.dumps(state, default=str)) + sum(memoryview(b).nbytes for b in buffers)


def window(xy: np.ndarray, share: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """A centred window holding about ``share`` of the points."""
    side = np.sqrt(share)
    (x0, x1), (y0, y1) = [np.quantile(xy[:, d], [0.5 - side / 2, 0.5 + side / 2]) for d in (0, 1)]
    return (float(x0), float(x1)), (float(y0), float(y1))


def median_ms(fn, repeats: int = 5) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run(n: int) -> list[dict]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    labels = np.full(n, None, dtype=object)
    labels[:50] = y[:50]
    s = ActiveLearningSession(LogisticRegression(), Pool(X, labels=labels, classes=[0, 1]), "margin",
                              background=False, random_state=0)
    s.retrain()
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        m = UncertaintyMap(s, umap=False, cache_dir=cache)
        xy = m.embedding.layout
        full = ((float(xy[:, 0].min()) - 1, float(xy[:, 0].max()) + 1),
                (float(xy[:, 1].min()) - 1, float(xy[:, 1].max()) + 1))

        def show(xr, yr):
            m.shown = None  # force a redraw each time (the same window twice is otherwise skipped)
            m._on_zoom(m.figure.layout, xr, yr)

        base_ms = median_ms(lambda: show(*full))
        base_bytes = trace_bytes(m.figure)
        rows.append({"n": n, "view": "overview (stratified markers)", "markers": len(m.shown),
                     "points_in_view ms": float("nan"), "kernel ms": base_ms, "x overview": 1.0,
                     "bytes": base_bytes})
        unc = s.result_.uncertainty["uncertainty"]
        for share in (0.005, 0.05):
            xr, yr = window(xy, share)
            pick_ms = median_ms(lambda: points_in_view(xy, xr, yr, m.sample_size, unc))
            ms = median_ms(lambda: show(xr, yr))
            rows.append({"n": n, "view": f"zoom on {share:.1%} of the pool", "markers": len(m.shown),
                         "points_in_view ms": pick_ms, "kernel ms": ms, "x overview": ms / base_ms,
                         "bytes": trace_bytes(m.figure)})
    s.close()
    return rows


def main() -> None:
    rows = [r for n in (200_000, 1_000_000) for r in run(n)]
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).round(2).to_string(index=False))


if __name__ == "__main__":
    main()
