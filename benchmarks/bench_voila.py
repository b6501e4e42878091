"""Voila benchmark in a real browser (headless Debian Chromium + Playwright).

* request -> interactive: from page.goto until the labeling buttons are on the page.
* click -> next sample: from a class-button click until the next sample id is shown.

Baseline, measured in the same run: a one-button Voila app whose click updates a label (the
floor set by Voila, the websocket and the browser). Ratios are app / baseline.

Run: python benchmarks/bench_voila.py [--clicks 15]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browser_helpers import current_id, launch, wait_next  # noqa: E402

from al_widgets.app.server import VoilaServer  # noqa: E402

BASELINE = """import ipywidgets as w
n = w.HTML("0", _dom_classes=["count"])
b = w.Button(description="click", _dom_classes=["go"])
def on(_):
    n.value = str(int(n.value) + 1)
b.on_click(on)
w.VBox([b, n])"""


def baseline(browser, folder: Path, clicks: int) -> tuple[float, float]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BASELINE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "baseline.ipynb"
    nbformat.write(nb, str(path))
    with VoilaServer([], folder / "baseline.log", command=[sys.executable, "-m", "voila", str(path)]) as srv:
        page = browser.new_page()
        t0 = time.perf_counter()
        page.goto(srv.url, timeout=180_000)
        page.wait_for_selector(".go", timeout=180_000)
        ready = time.perf_counter() - t0
        lat = []
        for i in range(clicks):
            t0 = time.perf_counter()
            page.locator(".go").click()
            page.wait_for_function("(n) => document.querySelector('.count').innerText === String(n)", arg=i + 1)
            lat.append(1e3 * (time.perf_counter() - t0))
        page.close()
    return ready, statistics.median(lat)


def app(browser, folder: Path, clicks: int) -> tuple[float, float]:
    with VoilaServer(["demo", "--store", str(folder / "labels.sqlite"), "--no-umap"], folder / "app.log",
                     env={"AL_WIDGETS_CACHE": str(folder / "cache")}) as srv:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t0 = time.perf_counter()
        page.goto(srv.url, timeout=180_000)
        page.wait_for_selector(".alw-class-button", timeout=180_000)
        ready = time.perf_counter() - t0
        early = click_latencies(page, clicks)  # right after load: the baseline simulation still runs
        page.wait_for_function("() => { const d = document.querySelectorAll('.js-plotly-plot')[1];"
                               " return d && d.data[2].visible === true; }", timeout=120_000)
        steady = click_latencies(page, clicks)
        page.close()
    return ready, statistics.median(early), statistics.median(steady)


def click_latencies(page, clicks: int) -> list[float]:
    lat = []
    shown = current_id(page)
    for i in range(clicks):
        t0 = time.perf_counter()
        page.locator(".alw-class-button").nth(i % 4).click()
        shown = wait_next(page, shown)
        lat.append(1e3 * (time.perf_counter() - t0))
        time.sleep(0.3)  # a person's pace; retrains run in between
    print("  latencies ms:", [round(x) for x in lat], flush=True)
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clicks", type=int, default=15)
    args, _ = ap.parse_known_args()
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = launch(p)
        folder = Path(tmp)
        b_ready, b_click = baseline(browser, folder, args.clicks)
        a_ready, a_early, a_click = app(browser, folder, args.clicks)
        browser.close()
    print(f"digits app (1437-sample pool, PCA map) vs a one-button Voila app; median of {args.clicks} clicks")
    head = f"{'':<28} {'app':>8} {'baseline':>9} {'ratio':>6}"
    print(head)
    print("-" * len(head))
    print(f"{'request -> interactive (s)':<28} {a_ready:>8.2f} {b_ready:>9.2f} {a_ready / b_ready:>5.1f}x")
    print(f"{'click -> next sample (ms)':<28} {a_click:>8.0f} {b_click:>9.0f} {a_click / b_click:>5.1f}x")
    print(f"{'  same, during the first ~10 s':<28} {a_early:>8.0f} {b_click:>9.0f} {a_early / b_click:>5.1f}x"
          "   (random-baseline simulation still running in a subprocess)")


if __name__ == "__main__":
    main()
