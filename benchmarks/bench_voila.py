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

First page (each measured over ``--loads`` fresh page loads, median; every page leaves with an
unload, which frees its kernel; the app's pages come from the server's warm-kernel pool, each
load made once the pool has its warm kernel back, and a separate row shows the digits app with
the pool off, every page starting a kernel, which is the equal-work comparison; the warm kernel is
also compared with the one-button app pre-heated by Voila, ``--preheat_kernel``, its equal work):

* request -> first sample clickable: until the labeling panel's class buttons are on the page;
* request -> map drawn: until the map's plotly div holds the pool's points;
* kernel memory per open page: RSS and USS (memory only that kernel holds) of the page's kernel
  once its map is drawn;

for the digits demo and a generated 100,000-row text CSV (``serve`` with a TF-IDF model),
against the one-button app in the same run.

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
from browser_helpers import (IN_VIEW_JS, ZOOM_STATE_JS, CpuBurner, current_id, figures,  # noqa: E402
                             kernel_processes, launch, wait_next, warm_waiting)

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


def _serve_notebook(folder: Path, name: str, source: str, extra: tuple = ()) -> VoilaServer:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    return VoilaServer([], folder / f"{name}.log", command=[sys.executable, "-m", "voila", str(path), *extra])


MAP_DRAWN_JS = ("() => { const d = document.querySelector('.alw-map .js-plotly-plot');"
                " return !!(d && d.data && d.data[0] && d.data[0].x && d.data[0].x.length > 0); }")
TOPICS = {"sports": "match goal team coach season league score player win stadium",
          "science": "cell energy atom theory experiment data lab quantum gene climate",
          "finance": "market stock bank rate inflation bond profit loss trade fund",
          "travel": "flight hotel beach city museum train island tour passport visa"}


def write_text_csv(path: Path, n: int, seed: int = 0) -> list[str]:
    """``n`` short generated documents on four topics (id, text columns); returns the class names."""
    import csv
    rng = np.random.default_rng(seed)
    names, common = list(TOPICS), "the a of and to in is was for on with that this it".split()
    words = {k: v.split() for k, v in TOPICS.items()}
    y = rng.integers(0, len(names), n)
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "text"])
        for i in range(n):
            noise = names[rng.integers(0, len(names))]
            toks = [*rng.choice(words[names[y[i]]], 4), *rng.choice(words[noise], 2), *rng.choice(common, 6)]
            rng.shuffle(toks)
            out.writerow([f"doc-{i}", " ".join(toks)])
    return names


def first_pages(browser, srv: VoilaServer, ready_sel: str, loads: int, with_map: bool,
                pooled: bool = False, pool_ready=warm_waiting) -> dict[str, list[float]]:
    """Fresh page loads: request -> ``ready_sel`` on the page (and -> map drawn); the page's kernel memory.

    ``pooled``: the server keeps a warm kernel; each load starts once it is back in the pool.
    """
    out: dict[str, list[float]] = {"ready": [], "map": [], "rss": [], "uss": []}
    for _ in range(loads):
        before = {p.pid for p in kernel_processes(srv)}
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t0 = time.perf_counter()
        page.goto(srv.url, timeout=180_000)
        page.wait_for_selector(ready_sel, timeout=180_000)
        out["ready"].append(time.perf_counter() - t0)
        if with_map:
            page.wait_for_function(MAP_DRAWN_JS, timeout=180_000, polling=50)
            out["map"].append(time.perf_counter() - t0)
            mine = [p for p in kernel_processes(srv) if p.pid not in before]
            if len(mine) == 1:
                mem = mine[0].memory_full_info()
                out["rss"].append(mem.rss / 2**20)
                out["uss"].append(mem.uss / 2**20)
        page.goto("about:blank")  # unload: Voila's page shuts its kernel down
        page.close()
        deadline = time.monotonic() + 60
        while len(kernel_processes(srv)) > len(before) and time.monotonic() < deadline:
            time.sleep(0.1)
        while pooled and pool_ready(srv) < 1 and time.monotonic() < deadline:  # the next visitor finds
            time.sleep(0.1)  # the server at rest: its warm kernel replaced
    return out


def _preheated(srv: VoilaServer) -> int:
    """Voila's own pool (``--preheat_kernel``): 1 when a pre-rendered kernel waits (its log says so)."""
    text = srv.log.read_text(errors="replace")
    return int(text.count("is filled with") > text.count("Using pre-heated kernel"))


def preheated_button(browser, folder: Path, loads: int) -> list[float]:
    """The one-button app with Voila's kernel pre-heating (the notebook already run before the
    request): the equal-work baseline for our warm kernel."""
    with _serve_notebook(folder, "button_hot", BUTTON, ("--preheat_kernel=True", "--pool_size=1")) as srv:
        deadline = time.monotonic() + 120
        while not _preheated(srv) and time.monotonic() < deadline:
            time.sleep(0.1)
        return first_pages(browser, srv, ".go", loads, with_map=False, pooled=True, pool_ready=_preheated)["ready"]


def bare_button(browser, folder: Path, n: int, loads: int) -> tuple[list[float], list[float]]:
    with _serve_notebook(folder, "button", BUTTON) as srv:
        ready = first_pages(browser, srv, ".go", loads, with_map=False)["ready"]
        page = browser.new_page()
        page.goto(srv.url, timeout=180_000)
        page.wait_for_selector(".go", timeout=180_000)
        lat = []
        for i in range(n):
            t0 = time.perf_counter()
            page.locator(".go").click()
            page.wait_for_function("(n) => document.querySelector('.count').innerText === String(n)", arg=i + 1)
            lat.append(1e3 * (time.perf_counter() - t0))
        page.close()
    return ready, lat


def text_app(browser, folder: Path, loads: int, rows: int) -> dict[str, list[float]]:
    csv_path = folder / "text.csv"
    classes = write_text_csv(csv_path, rows)
    with VoilaServer(["serve", str(csv_path), "--text-column", "text", "--id-column", "id", "--classes",
                      ",".join(classes), "--store", str(folder / "text.sqlite"), "--no-umap"], folder / "text.log",
                     env={"AL_WIDGETS_CACHE": str(folder / "cache")}) as srv:
        return first_pages(browser, srv, ".alw-class-button", loads, with_map=True, pooled=True)


def app_cold(browser, folder: Path, loads: int) -> dict[str, list[float]]:
    """The digits app with the warm-kernel pool turned off: every page starts a new kernel."""
    with VoilaServer(["demo", "--store", str(folder / "cold.sqlite"), "--no-umap"], folder / "cold.log",
                     env={"AL_WIDGETS_CACHE": str(folder / "cache"), "AL_WIDGETS_WARM_KERNELS": "0"}) as srv:
        return first_pages(browser, srv, ".alw-class-button", loads, with_map=True)


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


def app(browser, folder: Path, n: int, loads: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"next": [], "overlay": [], "recolour": [], "curve": []}
    with VoilaServer(["demo", "--store", str(folder / "labels.sqlite"), "--no-umap"], folder / "app.log",
                     env={"AL_WIDGETS_CACHE": str(folder / "cache")}) as srv:
        out.update(first_pages(browser, srv, ".alw-class-button", loads, with_map=True, pooled=True))
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(srv.url, timeout=180_000)
        page.wait_for_selector(".alw-class-button", timeout=180_000)
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


def write_big_table(path: Path, rows: int) -> None:
    """``rows`` x 16 float32 features and 20 labels, as Parquet."""
    import pandas as pd
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(rows, 16)).astype(np.float32), columns=[f"f{i}" for i in range(16)])
    df["label"] = None
    df.loc[:19, "label"] = ["a", "b"] * 10
    df.to_parquet(path)


def big_app(browser, folder: Path, loads: int, rows: int, labels: int, env: dict | None = None
            ) -> dict[str, list[float]]:
    """First pages of a numeric table of ``rows`` rows (the dataset mapped from the server's cache),
    then ``labels`` clicks: click -> next sample, with retrains running behind (one per label)."""
    path = folder / "big.parquet"
    if not path.exists():
        write_big_table(path, rows)
    store = folder / f"big-{len(list(folder.glob('big-*.sqlite')))}.sqlite"  # each run starts unlabeled
    with VoilaServer(["serve", str(path), "--label-column", "label", "--store", str(store),
                      "--no-umap", "--strategy", "margin"], folder / "big.log",
                     env={"AL_WIDGETS_CACHE": str(folder / "cache"), **(env or {})}) as srv:
        out = first_pages(browser, srv, ".alw-class-button", loads, with_map=True, pooled=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        received = [0]  # bytes the page's websockets received (the kernel's messages)
        page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.__setitem__(
            0, received[0] + len(payload))))
        page.goto(srv.url, timeout=180_000)
        page.wait_for_selector(".alw-class-button", timeout=180_000)
        page.wait_for_function(MAP_DRAWN_JS, timeout=180_000, polling=50)
        out["zoom"], out["zoom points"], out["zoom kB"] = zoom_steps(page, received)
        shown, out["next"], busy = current_id(page), [], 0
        for i in range(labels):
            busy += "training on" in page.locator(".alw-status").inner_text()
            t0 = time.perf_counter()
            page.locator(".alw-class-button").nth(i % 2).click()
            shown = wait_next(page, shown)
            out["next"].append(1e3 * (time.perf_counter() - t0))
        out["clicks during a retrain"] = [busy]
        page.close()
    return out


ZOOM_IN_JS = "() => document.querySelector(\".alw-map .modebar-btn[data-title='Zoom in']\").click()"


def zoom_steps(page, received: list, steps: int = 8, repeats: int = 2) -> tuple[list, list, list]:
    """Zoom into the map's centre with the modebar's "Zoom in" (as a person would), ``steps`` times,
    ``repeats`` times from the overview: per step, the milliseconds until the map draws the pool's
    points in the new view, how many it draws and the kilobytes the page received meanwhile."""
    ms, points, kb = [], [], []
    plot = page.locator(".alw-map .js-plotly-plot")
    for _ in range(repeats):
        plot.hover()
        page.locator(".alw-map .modebar-btn[data-title='Reset axes']").click()
        page.wait_for_function(f"() => {{ const s = ({ZOOM_STATE_JS})(); return s && !s.name.includes('in view'); }}",
                               timeout=60_000)
        for _ in range(steps):
            before = page.evaluate(ZOOM_STATE_JS)["xr"]
            start, t0 = received[0], time.perf_counter()
            page.evaluate(ZOOM_IN_JS)  # the modebar's own button, clicked in the page (no pointer travel)
            page.wait_for_function(f"(xr) => {{ const s = ({ZOOM_STATE_JS})();"
                                   f" return s && (s.xr[0] !== xr[0] || s.xr[1] !== xr[1]) && ({IN_VIEW_JS})(); }}",
                                   arg=before, timeout=60_000, polling=20)
            ms.append(1e3 * (time.perf_counter() - t0))
            points.append(len(page.evaluate(ZOOM_STATE_JS)["ids"]))
            kb.append((received[0] - start) / 1024)
    return ms, points, kb


def digits_pages(browser, folder: Path, loads: int) -> dict[str, list[float]]:
    with VoilaServer(["demo", "--store", str(folder / "digits.sqlite"), "--no-umap"], folder / "digits.log",
                     env={"AL_WIDGETS_CACHE": str(folder / "cache")}) as srv:
        return first_pages(browser, srv, ".alw-class-button", loads, with_map=True, pooled=True)


def first_pages_big(browser, folder: Path, loads: int, rows: int, labels: int) -> None:
    """The first page of a ``rows``-row table against the digits page, in the same run."""
    d = digits_pages(browser, folder, loads)
    eager = big_app(browser, folder, loads, rows, labels, env={"AL_WIDGETS_MAP_PAUSE": "0"})
    b = big_app(browser, folder, loads, rows, labels)
    print(f"First page, median of {loads} fresh loads, warm kernels; seconds (memory: the page's kernel)")
    print(f"{'':<32} {'digits (1,437)':>15} {f'table ({rows:,})':>18} {'ratio':>8}")
    for key, name in (("ready", "request -> first sample clickable"), ("map", "request -> map drawn")):
        dm, bm = statistics.median(d[key]), statistics.median(b[key])
        print(f"{name:<32} {dm:>15.2f} {bm:>18.2f} {bm / dm:>7.2f}x")
    for key, name in (("rss", "kernel RSS (MiB)"), ("uss", "kernel USS (MiB)")):
        if d[key] and b[key]:
            print(f"{name:<32} {statistics.median(d[key]):>15.0f} {statistics.median(b[key]):>18.0f}")
    print(f"click -> next sample on the {rows:,}-row page, {labels} labels, retrains behind; ms")
    for name, r in (("equal work: the map redrawn after every label", eager),
                    ("+ the map waits for a 1 s pause in the labels (default)", b)):
        med, p95 = _stats(r["next"])
        print(f"  {name:<58} median {med:>5.0f}  p95 {p95:>5.0f}  "
              f"({r['clicks during a retrain'][0]} clicks while training)")
    zm, zp = _stats(b["zoom"])
    print(f"zoom -> the pool's points in view drawn (one 'Zoom in', 2x, per step; {len(b['zoom'])} steps): "
          f"median {zm:.0f} ms, p95 {zp:.0f} ms; points drawn median {statistics.median(b['zoom points']):.0f} "
          f"(max {max(b['zoom points'])}); received per step median {statistics.median(b['zoom kB']):.0f} kB "
          f"(max {max(b['zoom kB']):.0f} kB)")


def _stats(xs: list[float]) -> tuple[float, float]:
    return statistics.median(xs), float(np.percentile(xs, 95))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", type=int, default=30)
    ap.add_argument("--loads", type=int, default=3, help="fresh page loads per first-page measurement")
    ap.add_argument("--rows", type=int, default=100_000, help="rows of the generated text CSV")
    ap.add_argument("--burn", type=int, default=0, help="CPU-burning processes beside the server")
    ap.add_argument("--big-rows", type=int, default=0,
                    help="only the first page of a table of this many rows (e.g. 1000000) against digits")
    args, _ = ap.parse_known_args()
    from playwright.sync_api import sync_playwright
    if args.big_rows:
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p, CpuBurner(args.burn):
            browser = launch(p)
            first_pages_big(browser, Path(tmp), args.loads, args.big_rows, args.labels)
            browser.close()
        return
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p, CpuBurner(args.burn):
        browser = launch(p)
        folder = Path(tmp)
        b_ready, b_click = bare_button(browser, folder, args.labels, args.loads)
        b_recolour = bare_recolour(browser, folder, args.labels)
        a = app(browser, folder, args.labels, args.loads)
        t = text_app(browser, folder, args.loads, args.rows)
        c = app_cold(browser, folder, args.loads)
        hot = preheated_button(browser, folder, args.loads)
        browser.close()
    base = statistics.median(b_ready)
    print(f"First page, median of {args.loads} fresh loads each, {args.burn} CPU burner(s); seconds")
    head = f"{'':<38} {'digits (1,437)':>15} {f'text ({args.rows:,})':>15} {'one-button app':>15}"
    print(head)
    print("-" * len(head))
    cold, hot = statistics.median(c["ready"]), statistics.median(hot)
    print(f"{'equal work: every page starts a kernel':<38} {cold:>15.2f} {'':>15} {base:>15.2f}")
    print(f"{'  (--warm-kernels 0), clickable; ratio':<38} {cold / base:>14.2f}x")
    print(f"{'+ warm kernel (default), clickable':<38} {statistics.median(a['ready']):>15.2f} "
          f"{statistics.median(t['ready']):>15.2f} {base:>15.2f}")
    print(f"{'  ratio to the one-button app':<38} {statistics.median(a['ready']) / base:>14.2f}x "
          f"{statistics.median(t['ready']) / base:>14.2f}x {'1.00x':>15}")
    print(f"{'  ratio to it with Voila preheat':<38} {statistics.median(a['ready']) / hot:>14.2f}x "
          f"{statistics.median(t['ready']) / hot:>14.2f}x {hot:>15.2f}")
    print(f"{'request -> map drawn (warm kernel)':<38} {statistics.median(a['map']):>15.2f} "
          f"{statistics.median(t['map']):>15.2f}")
    for key, name in (("rss", "kernel memory per page, RSS (MiB)"), ("uss", "kernel memory per page, USS (MiB)")):
        print(f"{name:<38} {statistics.median(a[key]):>15.0f} {statistics.median(t[key]):>15.0f}")
    print()
    print(f"digits app (1437-sample pool, PCA map), {args.labels} labels; median / p95 in ms")
    head = f"{'':<34} {'app':>15} {'baseline':>15} {'ratio (median)':>15}"
    print(head)
    print("-" * len(head))
    rows = [("click -> next sample", a["next"], b_click, "bare button"),
            ("label -> map shows the label", a["overlay"], b_recolour, "bare recolour"),
            ("label -> map recoloured", a["recolour"], b_recolour, "bare recolour"),
            ("label -> curve point drawn", a["curve"], b_click, "bare button")]
    for name, xs, base_xs, which in rows:
        am, ap95 = _stats(xs)
        bm, bp95 = _stats(base_xs)
        print(f"{name:<34} {am:>7.0f} / {ap95:<6.0f} {bm:>7.0f} / {bp95:<6.0f} {am / bm:>14.1f}x  ({which})")
    print("map updates wait for the retrain and the map's adaptive redraw interval (2x the page's last answer time)")


if __name__ == "__main__":
    main()
