"""The Voila app in a real browser: headless Debian Chromium driven by Playwright."""
import os
import time
from pathlib import Path

import pytest

from al_widgets.app.server import VoilaServer
from al_widgets.core import LabelStore

from browser_helpers import (CHROMIUM, IN_VIEW_JS, ZOOM_STATE_JS, CpuBurner, current_id, launch, wait_figures, wait_next,
                             wait_ready)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                                      reason=f"{CHROMIUM} not installed (./dev test installs it)")]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("voila")
    store = folder / "labels.sqlite"
    with VoilaServer(["demo", "--store", str(store), "--no-umap"], folder / "voila.log",
                     env={"AL_WIDGETS_CACHE": str(folder / "cache")}) as srv:
        srv.store = store
        yield srv


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def _wait_status(page, text, timeout_ms=60_000):
    page.wait_for_function("(t) => { const s = document.querySelector('.alw-status');"
                           " return s && s.innerText.includes(t); }", arg=text, timeout=timeout_ms)


def _status(page):
    return page.locator(".alw-status").inner_text()


def test_label_in_the_browser_under_load(server, browser):
    """10 labels by click and key, a CPU burner beside the server: every view keeps step."""
    with CpuBurner(1):
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        try:
            _label_ten_and_check_views(page, server)
        finally:
            page.close()


def _label_ten_and_check_views(page, server):
    page.goto(server.url, timeout=180_000)
    wait_ready(page)
    buttons = page.locator(".alw-class-button")
    assert buttons.count() == 10
    texts = buttons.all_inner_texts()
    assert [t.strip() for t in texts] == [f"[{i}] {i}" for i in range(10)]  # the key is the class name
    assert "import" not in page.locator("body").inner_text()  # no code shown to the expert
    page.fill(".alw-labeling input[type=text]", "dr-test")
    page.keyboard.press("Tab")
    labeled, wanted = [], {}
    shown = current_id(page)
    for i in range(7):
        buttons.nth(i % 3).click()
        labeled.append(shown)
        wanted[shown] = i % 3
        shown = wait_next(page, shown)
    page.locator("h2").first.click()  # focus outside any input: the whole page takes keys in Voila
    for key in ("5", "9", "0"):
        page.keyboard.press(key)
        labeled.append(shown)
        wanted[shown] = int(key)
        shown = wait_next(page, shown)
    _wait_status(page, "retrained on 10 labels", 120_000)
    figs = wait_figures(page, "(f) => f.map[1].n === 10 && f.map[0].colours > 1 && f.map[0].showscale"
                              " && f.curve[0].x.length > 0 && f.curve[0].x[f.curve[0].x.length - 1] === 10",
                        timeout_ms=60_000)
    pool, overlay, curve = figs["map"][0], figs["map"][1], figs["curve"][0]
    assert pool["n"] == 1437 and pool["colours"] > 100 and pool["showscale"]  # coloured by uncertainty
    assert overlay["n"] == 10  # every label shows as a cross
    xs = curve["x"]
    assert xs == sorted(xs) and len(set(xs)) == len(xs) and 1 <= len(xs) <= 10 and xs[-1] == 10
    assert figs["curve"][3]["n"] == len(xs)  # the stopping signal, one point per retrain
    assert "retrained on 10 labels" in _status(page) and "accuracy" in _status(page)
    assert "10 / 200 labeled" in page.locator(".alw-labeling").inner_text()
    assert not page.locator(".alw-stalled").count()
    with LabelStore(server.store) as st:
        frame = st.to_frame()
    mine = frame[frame["sample_id"].isin(labeled)].set_index("sample_id")
    assert sorted(mine.index) == sorted(labeled)
    assert {sid: int(mine.loc[sid, "label"]) for sid in labeled} == wanted  # the class on the button/key
    assert set(mine["annotator"]) == {"dr-test"} and (mine["seconds"] > 0).all()
    assert page.locator(".alw-map canvas").count() > 0
    deadline = time.monotonic() + 60  # the server log tells the data scientist that labels arrive
    while "al_widgets: labels dr-test +" not in server.log.read_text():
        assert time.monotonic() < deadline, "no label line in the server log"
        page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)
    assert (ARTIFACTS / "app.png").stat().st_size > 10_000


def test_two_experts_get_different_samples(server, browser):
    a, b = browser.new_context(), browser.new_context()
    try:
        pa, pb = a.new_page(), b.new_page()
        pa.goto(server.url, timeout=180_000)
        pb.goto(server.url, timeout=180_000)
        wait_ready(pa)
        wait_ready(pb)
        seen_a, seen_b = {current_id(pa)}, {current_id(pb)}
        assert seen_a != seen_b
        for i in range(3):
            ida, idb = current_id(pa), current_id(pb)
            pa.locator(".alw-class-button").nth(i % 2).click()
            pb.locator(".alw-class-button").nth(2 + i % 2).click()
            seen_a.add(wait_next(pa, ida))
            seen_b.add(wait_next(pb, idb))
        assert not seen_a & seen_b
        with LabelStore(server.store) as st:
            stored = st.labels()
        assert len(stored) >= 6
    finally:
        a.close()
        b.close()


def test_a_reloaded_or_closed_page_frees_its_kernel(server, browser):
    """Voila's page asks the server to shut its kernel down when it unloads; culling is only the backstop."""
    from browser_helpers import kernel_processes

    others = {p.pid for p in kernel_processes(server)}  # earlier tests' kernels: not this page's business

    def mine():
        return {p.pid for p in kernel_processes(server)} - others

    def wait_mine(predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while not predicate(mine()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return mine()

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server.url, timeout=180_000)
    wait_ready(page)
    current = wait_mine(lambda m: len(m) == 1)
    assert len(current) == 1
    for _ in range(3):  # reloads: each new page gets a kernel, the old page's kernel goes
        old = current
        page.reload(timeout=180_000)
        wait_ready(page)
        current = wait_mine(lambda m, o=old: len(m) == 1 and not m & o)
        assert len(current) == 1 and not current & old, (old, current)
    page.goto("about:blank")  # leaving the page (as closing its tab does) unloads it
    assert wait_mine(lambda m: not m) == set()
    page.close()


def test_a_reviewer_settles_a_conflict_in_the_app(tmp_path, browser):
    """Two annotators disagreed on overlap samples; the admin decides one in the Voila app."""
    from al_widgets.app import AppConfig, build_session, load

    store = tmp_path / "team.sqlite"
    config = AppConfig(store=str(store), umap=False, overlap=0.3)
    data = load(config)
    y = data.true_labels
    alice = build_session(config, data, annotator="alice", background=False)
    bob = build_session(config, data, annotator="bob", background=False)
    for i in range(40):  # taking turns; bob contradicts alice on every overlap sample
        s = alice if i % 2 == 0 else bob
        item = s.next_item()
        label = int(y[item.index])
        s.submit(item.index, (label + 1) % 10 if item.strategy == "overlap" else label)
    alice.close()
    bob.close()
    st = LabelStore(store)
    from al_widgets.core.review.quality import conflicts
    in_conflict = set(conflicts(st)["sample_id"])
    assert in_conflict
    with VoilaServer(["demo", "--store", str(store), "--no-umap", "--overlap", "0.3"], tmp_path / "voila.log",
                     env={"AL_WIDGETS_CACHE": str(tmp_path / "cache")}) as srv:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        try:
            page.goto(srv.url, timeout=180_000)
            wait_ready(page)
            page.get_by_text("Review: conflicts and suspicious labels").click()
            page.wait_for_selector(".alw-review code", timeout=60_000)
            sid = page.locator(".alw-review code").first.inner_text()
            assert sid in in_conflict
            import re
            progress = page.locator(".alw-labeling").inner_text()
            n_before = int(re.search(r"(\d+)(\s*/\s*\d+)? labeled", progress).group(1))
            given = set(conflicts(LabelStore(store, readonly=True)).set_index("sample_id").at[sid, "labels"].values())
            truth = next(c for c in range(10) if c not in given)  # a label neither annotator gave: only the
            page.locator(".alw-review-class", has_text=f"decide: {truth}").first.click()  # decision can set it
            page.wait_for_function("(s) => !document.querySelector('.alw-review').innerText.includes(s)"
                                   " || document.querySelector('.alw-review').innerText.includes('saved')",
                                   arg=sid, timeout=60_000)
            events = LabelStore(store, readonly=True).to_frame_all()
            decision = events[(events["sample_id"] == sid) & (events["strategy"] == "adjudicated")]
            assert list(decision["label"]) == [truth]
            # the next retrain trains on the decision: one more training label on the page
            page.wait_for_function(
                "(n) => { const t = document.querySelector('.alw-labeling').innerText;"
                " const m = t.match(/(\\d+)(\\s*\\/\\s*\\d+)? labeled/); return m && Number(m[1]) === n; }",
                arg=n_before + 1, timeout=60_000)
            assert "Traceback" not in page.content()
        finally:
            page.close()


def test_a_warm_kernel_page_is_never_stale(tmp_path, browser):
    """Pages come from import-warmed kernels started before the request; what the page shows is
    read at request time: labels stored after the pool kernel was warmed are on the page."""
    import re

    from al_widgets.app import AppConfig, build_session, load

    store = tmp_path / "warm.sqlite"
    with VoilaServer(["demo", "--store", str(store), "--no-umap"], tmp_path / "voila.log",
                     env={"AL_WIDGETS_CACHE": str(tmp_path / "cache")}) as srv:
        warmed = re.findall(r"warm kernel (\S+) ready", srv.log.read_text())
        assert warmed  # the server waited for its pool before answering
        config = AppConfig(store=str(store), umap=False)
        data = load(config)
        s = build_session(config, data, annotator="earlier", background=False)
        given = []
        for _ in range(7):  # labels stored after the warm kernel was ready
            item = s.next_item()
            s.submit(item.index, int(data.true_labels[item.index]))
            given.append(item.sample_id)
        s.close()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(srv.url, timeout=180_000)
            wait_ready(page)
            assert f"page served by warm kernel {warmed[0]}" in srv.log.read_text()
            page.wait_for_function(
                "() => /\\b7(\\s*\\/\\s*\\d+)? labeled/.test(document.querySelector('.alw-labeling').innerText)",
                timeout=60_000)
            assert current_id(page) not in given
        finally:
            page.close()


def test_without_a_test_set_the_page_shows_the_estimate_band_and_stop_advice(tmp_path, browser):
    """Issue 23: audit labels give an estimate with its 90 % band (the curve's headline) and advice."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_blobs
    X, y = make_blobs(600, centers=3, cluster_std=2.0, random_state=3)
    names = np.array(["a", "b", "c"])[y]
    df = pd.DataFrame(X, columns=["f1", "f2"]).assign(id=[f"s{i}" for i in range(600)], label=None)
    df.loc[:5, "label"] = names[:6]
    csv = tmp_path / "blobs.csv"
    df.to_csv(csv, index=False)
    truth = dict(zip(df["id"], names))
    with VoilaServer(["serve", str(csv), "--label-column", "label", "--id-column", "id", "--store",
                      str(tmp_path / "l.sqlite"), "--no-umap", "--audit", "0.4", "--strategy", "margin"],
                     tmp_path / "voila.log", env={"AL_WIDGETS_CACHE": str(tmp_path / "cache")}) as srv:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        try:
            page.goto(srv.url, timeout=180_000)
            wait_ready(page)
            for _ in range(30):
                shown = current_id(page)
                page.locator(".alw-class-button", has_text=f"] {truth[shown]}").first.click()
                wait_next(page, shown)
            with LabelStore(tmp_path / "l.sqlite", readonly=True) as st:
                n_audit = len(st.audit_checks())
            assert n_audit >= 3
            page.wait_for_function(
                "(n) => { const d = document.querySelector('.alw-curves .js-plotly-plot');"
                " return d && d.data && d.data[9] && d.data[9].y && d.data[9].y.length > 0"
                " && d.data[9].y[d.data[9].y.length - 1] !== null; }", arg=n_audit, timeout=90_000)
            est = page.evaluate("() => { const d = document.querySelector('.alw-curves .js-plotly-plot').data;"
                                " const last = (t) => t.y[t.y.length - 1];"
                                " return {low: last(d[7]), high: last(d[8]), value: last(d[9]), fill: d[8].fill,"
                                " name: d[9].name}; }")
            assert 0 <= est["low"] <= est["value"] <= est["high"] <= 1 and est["fill"] == "tonexty"
            assert "audit" in est["name"]
            advice = page.locator(".alw-stop-advice").inner_text()
            assert ("More labels still help" in advice or "You can stop labeling" in advice)
            assert "estimated accuracy" in advice
            page.screenshot(path=str(tmp_path / "estimate.png"))
        finally:
            page.close()


def test_search_by_meaning_open_a_result_label_in_bulk_and_undo(tmp_path, browser):
    """Issue 22: in the Voila app of a text CSV, search, open a result, label results in bulk, undo."""
    import sys

    import pandas as pd
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_embed import _imbalanced_text_pool
    docs, truth = _imbalanced_text_pool(7)
    df = pd.DataFrame({"id": [f"d{i}" for i in range(len(docs))], "text": docs, "label": None})
    csv = tmp_path / "news.csv"
    df.to_csv(csv, index=False)
    store = tmp_path / "l.sqlite"
    with VoilaServer(["serve", str(csv), "--text-column", "text", "--id-column", "id", "--label-column", "label",
                      "--classes", "sport,weather,finance", "--store", str(store), "--no-umap"], tmp_path / "voila.log",
                     env={"AL_WIDGETS_CACHE": str(tmp_path / "cache")}) as srv:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        try:
            page.goto(srv.url, timeout=180_000)
            wait_ready(page)
            box = page.locator(".alw-search input[type=text]")
            box.fill("umbrella")  # a word in no document
            box.press("Enter")
            page.wait_for_function("() => document.querySelectorAll('.alw-search button').length > 5", timeout=90_000)
            opens = page.locator(".alw-search button", has_text="open ")
            first = opens.first.inner_text().replace("open ", "").strip()
            assert truth[int(first[1:])] == "weather"
            opens.first.click()
            page.wait_for_function("(id) => { const c = document.querySelector('.alw-labeling code');"
                                   " return c && c.innerText === id; }", arg=first, timeout=60_000)
            page.locator(".alw-search select").select_option(label="weather")
            page.locator(".alw-search button", has_text="Label 12 points").click()
            page.locator(".alw-search button", has_text="Confirm").click()
            # the kernel's answer "labeled 12 as weather": the question it answers ("Label 12 points as
            # weather?") is still on the page right after the click, and waiting for " as weather" alone
            # read the store before the write (a fresh-clone CI run caught it)
            page.wait_for_function("() => /labeled \\d+ as weather/.test(document.querySelector('.alw-search').innerText)",
                                   timeout=60_000)
            with LabelStore(store, readonly=True) as st:
                written = st.labels()
            assert len(written) >= 10 and set(written.values()) == {"weather"}
            hits = sum(truth[int(sid[1:])] == "weather" for sid in written)
            assert hits >= len(written) - 2  # the search found the topic; a reviewer would fix the rest
            page.locator(".alw-labeling button", has_text="Undo").click()  # one undo takes the bulk label back
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with LabelStore(store, readonly=True) as st:
                    if not st.labels():
                        break
                time.sleep(0.3)
            with LabelStore(store, readonly=True) as st:
                assert st.labels() == {}
        finally:
            page.close()



def test_zooming_a_200k_map_brings_in_new_points_and_a_click_opens_one(tmp_path, browser):
    """Issue 25: the overview of a 200,000-sample pool draws a stratified sample; zooming in (the
    modebar's "Zoom in", as a person would) brings in every sample of the window; a click on one that
    was not drawn before opens it in the labeling panel."""
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 3)).astype(np.float32)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=None)
    df.loc[:9, "label"] = np.where(X[:10, 0] > 0, "hi", "lo")
    data = tmp_path / "big.parquet"
    df.to_parquet(data)
    with VoilaServer(["serve", str(data), "--label-column", "label", "--store", str(tmp_path / "l.sqlite"),
                      "--no-umap", "--strategy", "margin"], tmp_path / "voila.log",
                     env={"AL_WIDGETS_CACHE": str(tmp_path / "cache")}) as srv, CpuBurner(1):
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        try:
            page.goto(srv.url, timeout=240_000)
            wait_ready(page, 240_000)
            page.wait_for_function(f"() => {{ const s = ({ZOOM_STATE_JS})(); return s && s.ids.length > 10000; }}",
                                   timeout=120_000)
            before = page.evaluate(ZOOM_STATE_JS)
            assert "stratified" in before["name"]
            overview = set(before["ids"])
            plot = page.locator(".alw-map .js-plotly-plot")
            for _ in range(6):  # 64x narrower on each axis
                plot.hover()
                page.locator(".alw-map .modebar-btn[data-title='Zoom in']").click()
            page.wait_for_function(IN_VIEW_JS, timeout=60_000)
            after = page.evaluate(ZOOM_STATE_JS)
            (x0, x1), (y0, y1) = sorted(after["xr"]), sorted(after["yr"])
            drawn_before = sum(1 for sid, x, y in zip(before["ids"], before["x"], before["y"])
                               if x0 <= x <= x1 and y0 <= y <= y1)
            new = [i for i, sid in enumerate(after["ids"]) if sid not in overview]
            assert len(after["ids"]) > 2 * drawn_before and len(new) > len(after["ids"]) // 2
            # a click on an isolated point that was not drawn before (no other point within 8 px)
            target = page.evaluate("""(cands) => {
                const gd = document.querySelector('.alw-map .js-plotly-plot'), t = gd.data[0];
                const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, m = gd._fullLayout._size;
                const box = gd.getBoundingClientRect();
                const px = (i) => [box.left + m.l + xa.l2p(t.x[i]), box.top + m.t + ya.l2p(t.y[i])];
                for (const i of cands) {
                  const [a, b] = px(i);
                  if (a < box.left + m.l + 20 || a > box.left + m.l + m.w - 20) continue;
                  if (b < box.top + m.t + 20 || b > box.top + m.t + m.h - 20) continue;
                  let alone = true;
                  for (let j = 0; j < t.x.length && alone; j++) {
                    if (j === i) continue;
                    const [c, d] = px(j);
                    if (Math.hypot(a - c, b - d) < 8) alone = false;
                  }
                  if (alone) return {id: String(t.customdata[i]), x: a, y: b};
                }
                return null; }""", new)
            assert target is not None
            page.mouse.click(target["x"], target["y"])
            page.wait_for_function("(id) => { const c = document.querySelector('.alw-labeling code');"
                                   " return c && c.innerText === id; }", arg=target["id"], timeout=60_000)
            assert target["id"] not in overview
        finally:
            page.close()
