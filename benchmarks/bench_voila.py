"""Voila benchmark in a real browser (headless Debian Chromium + Playwright).

Per label (a class-button click, then waiting until everything below has happened, 30 labels):

* click -> next sample: until the labeling panel shows another sample id;
* label -> map shows it: until the map's "labeled" overlay holds the new point;
* label -> map recoloured: until the map's colour array differs from before the click
  (retrain + re-score + the map's 1.5 s redraw throttle);
* label -> curve point: until the learning curve's last x reaches the number of labels.

Baselines measured in the same run, same browser:

* "bare button": a one-button Voila app whose click updates a label (the floor set by Voila,
  the websocket and the browser);
* "bare recolour": a one-button app with one 1,437-point Scattergl FigureWidget whose colours
  are recomputed and sent on every click (the floor for a map recolour: same figure size, same
  transport, no active learning).

Ratios are app / baseline.  ``--burn N`` runs N CPU-burning processes beside the server.
Run: python benchmarks/bench_voila.py [--labels 30] [--burn 1]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browser_helpers import CpuBurner, current_id, figures, launch, wait_next  # noqa: E402

from al_widgets.app.server import VoilaServer  # noqa: E402

BUTTON = """import ipywidgets as w
n = w.HTML("0", _dom_classes=["count"])
b = w.Button(description="click", _dom_classes=["go"])
def on(_):
    n.value = str(int(n.value) + 1)
b.on_click(on)
w.VBox([b, n])"""

RECOLOUR = """import ipywidgets as w, numpy as np, plotly.graph_objects as go
rng = np.random.default_rng(0)
xy = rng.normal(size=(1437, 2)).astype(np.float32)
fig = go.FigureWidget(data=[go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers",
                                         marker=dict(color=rng.random(1437).astype(np.float32), showscale=True))])
b = w.Button(description="click", _dom_classes=["go"])
def on(_):
    with fig.batch_update():
        fig.data[0].marker.color = rng.random(1437).astype(np.float32)
b.on_click(on)
box = w.VBox([b, fig]); box.add_class("alw-map")
box"""

COLOURS_JS = ("() => { const d = document.querySelector('.alw-map .js-plotly-plot');"
              " return d && d.data ? Array.from(d.data[0].marker.color).slice(0, 50).join(',') : ''; }")


def _serve_notebook(folder: Path, name: str, source: str) -> VoilaServer:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    return VoilaServer([], folder / f"{name}.log", command=[sys.executable, "-m", "voila", str(path)])


def bare_button(browser, folder: Path, n: int) -> tuple[float, list[float]]:
    with _serve_notebook(folder, "button", BUTTON) as srv:
        page = browser.new_page()
        t0 = time.perf_counter()
        page.goto(srv.url, timeout=180_000)
        page.wait_for_selector(".go", timeout=180_000)
        ready = time.perf_counter() - t0
        lat = []
        for i in range(n):
            t0 = time.perf_counter()
            page.locator(".go").click()
            page.wait_for_function("(n) => document.querySelector('.count').innerText === String(n)", arg=i + 1)
            lat.append(1e3 * (time.perf_counter() - t0))
        page.close()
    return ready, lat


def bare_recolour(browser, folder: Path, n: int) -> list[float]:
    with _serve_notebook(folder, "recolour", RECOLOUR) as srv:
        page = browser.new_page()
        page.goto(srv.url, timeout=180_000)
        page.wait_for_selector(".alw-map .js-plotly-plot", timeout=180_000)
        lat = []
        for _ in range(n):
            before = page.evaluate(COLOURS_JS)
            t0 = time.perf_counter()
            page.locator(".go").click()
            page.wait_for_function(f"(b) => ({COLOURS_JS})() !== b", arg=before, timeout=60_000)
            lat.append(1e3 * (time.perf_counter() - t0))
        page.close()
    return lat


def app(browser, folder: Path, n: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"ready": [], "next": [], "overlay": [], "recolour": [], "curve": []}
    with VoilaServer(["demo", "--store", str(folder / "labels.sqlite"), "--no-umap"], folder / "app.log",
                     env={"AL_WIDGETS_CACHE": str(folder / "cache")}) as srv:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t0 = time.perf_counter()
        page.goto(srv.url, timeout=180_000)
        page.wait_for_selector(".alw-class-button", timeout=180_000)
        out["ready"].append(time.perf_counter() - t0)
        shown = current_id(page)
        for i in range(n):
            before = page.evaluate(COLOURS_JS)
            t0 = time.perf_counter()
            page.locator(".alw-class-button").nth(i % 4).click()
            shown = wait_next(page, shown)
            out["next"].append(1e3 * (time.perf_counter() - t0))
            pending = {"overlay", "recolour", "curve"}
            while pending:
                figs = figures(page)
                now = 1e3 * (time.perf_counter() - t0)
                if "overlay" in pending and figs["map"] and figs["map"][1]["n"] >= i + 1:
                    out["overlay"].append(now)
                    pending.discard("overlay")
                if "recolour" in pending and page.evaluate(COLOURS_JS) != before and i >= 2:
                    out["recolour"].append(now)
                    pending.discard("recolour")
                elif i < 2:  # cold start (fewer than two classes): the map stays grey, nothing to time
                    pending.discard("recolour")
                xs = figs["curve"][0]["x"] if figs["curve"] else []
                if "curve" in pending and i == 0:  # one class only: no model yet, no curve point
                    pending.discard("curve")
                if "curve" in pending and xs and xs[-1] >= i + 1:
                    out["curve"].append(now)
                    pending.discard("curve")
                if now > 60_000:
                    raise TimeoutError(f"label {i + 1}: still waiting for {pending}")
                time.sleep(0.02)
        page.close()
    return out


def _stats(xs: list[float]) -> tuple[float, float]:
    return statistics.median(xs), float(np.percentile(xs, 95))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", type=int, default=30)
    ap.add_argument("--burn", type=int, default=0, help="CPU-burning processes beside the server")
    args, _ = ap.parse_known_args()
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p, CpuBurner(args.burn):
        browser = launch(p)
        folder = Path(tmp)
        b_ready, b_click = bare_button(browser, folder, args.labels)
        b_recolour = bare_recolour(browser, folder, args.labels)
        a = app(browser, folder, args.labels)
        browser.close()
    print(f"digits app (1437-sample pool, PCA map), {args.labels} labels, {args.burn} CPU burner(s); "
          "median / p95 in ms")
    head = f"{'':<34} {'app':>15} {'baseline':>15} {'ratio (median)':>15}"
    print(head)
    print("-" * len(head))
    print(f"{'request -> interactive (s)':<34} {a['ready'][0]:>15.1f} {b_ready:>15.1f} "
          f"{a['ready'][0] / b_ready:>14.1f}x")
    rows = [("click -> next sample", a["next"], b_click, "bare button"),
            ("label -> map shows the label", a["overlay"], b_recolour, "bare recolour"),
            ("label -> map recoloured", a["recolour"], b_recolour, "bare recolour"),
            ("label -> curve point drawn", a["curve"], b_click, "bare button")]
    for name, xs, base, which in rows:
        am, ap95 = _stats(xs)
        bm, bp95 = _stats(base)
        print(f"{name:<34} {am:>7.0f} / {ap95:<6.0f} {bm:>7.0f} / {bp95:<6.0f} {am / bm:>14.1f}x  ({which})")
    print("map updates wait for the retrain and the map's adaptive redraw interval (2x the page's last answer time)")


if __name__ == "__main__":
    main()
