"""The Voila app in a real browser: headless Debian Chromium driven by Playwright."""
import os
import shutil
import time
from pathlib import Path

import pytest

from al_widgets.app.server import VoilaServer
from al_widgets.core import LabelStore

from browser_helpers import CHROMIUM, current_id, launch, plot_points, topk_ids, wait_next, wait_ready

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


def test_label_in_the_browser(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        page.goto(server.url, timeout=180_000)
        wait_ready(page)
        assert page.locator(".alw-class-button").count() == 10
        assert "import" not in page.locator("body").inner_text()  # no code shown to the expert
        page.fill(".alw-labeling input[type=text]", "dr-test")
        page.keyboard.press("Tab")
        labeled = []
        shown = current_id(page)
        for i in range(5):
            page.locator(".alw-class-button").nth(i % 3).click()
            labeled.append(shown)
            shown = wait_next(page, shown)
        _wait_status(page, "retrained on 5 labels")
        topk_before = topk_ids(page)
        curve_before = plot_points(page, 1, 0)
        page.locator("body").click(position={"x": 5, "y": 5})  # focus outside inputs
        page.keyboard.press("4")  # shortcut: fourth class
        labeled.append(shown)
        shown = wait_next(page, shown)
        _wait_status(page, "retrained on 6 labels")
        page.wait_for_function("(n) => document.querySelectorAll('.js-plotly-plot')[1].data[0].x.length > n",
                               arg=curve_before, timeout=30_000)
        with LabelStore(server.store) as st:
            frame = st.to_frame()
        mine = frame[frame["sample_id"].isin(labeled)]
        assert sorted(mine["sample_id"]) == sorted(labeled)
        assert mine.set_index("sample_id").loc[labeled[-1], "label"] == 3
        assert set(mine["annotator"]) == {"dr-test"}
        assert (mine["seconds"] > 0).all()
        assert plot_points(page, 1, 0) > curve_before >= 1
        assert topk_ids(page) != topk_before
        assert plot_points(page, 0, 0) == 1437  # the map holds the whole pool
        assert page.locator(".alw-map canvas").count() > 0
        time.sleep(1)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)
        assert (ARTIFACTS / "app.png").stat().st_size > 10_000
    finally:
        page.close()


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
