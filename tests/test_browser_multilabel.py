"""Issue 26 in a real browser: a CSV of tagged texts served with --multi-label; tags toggled with keys,
submitted with Enter, undone; a lasso selection on the map tagged in bulk and undone."""
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from al_widgets.app.server import VoilaServer
from al_widgets.core import LabelStore

from browser_helpers import CHROMIUM, current_id, launch, wait_next

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                                      reason=f"{CHROMIUM} not installed (./dev test installs it)")]

WORDS = {"billing": "invoice charge refund payment bill", "urgent": "asap immediately urgent critical outage",
         "login": "password account signin locked reset"}


def _tickets(path: Path, n: int = 160, tagged: int = 30) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        tags = [t for t in WORDS if rng.random() < 0.4]
        vocab = " ".join(WORDS[t] for t in tags).split() or ["hello", "question"]
        text = " ".join(rng.choice(vocab, 5)) + " " + " ".join(rng.choice("the a please thanks team help".split(), 4))
        cell = "|".join(tags) if i < tagged and tags else None
        rows.append({"id": f"t{i}", "text": text, "tags": cell})
    pd.DataFrame(rows).to_csv(path, index=False)


def _lasso(page, scale: float = 1 / 3) -> None:
    """A lasso around the middle of the map, as a person draws it; waits for the selection's summary."""
    plot = page.locator(".alw-map .js-plotly-plot .nsewdrag").first
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    rx, ry = box["width"] * scale, box["height"] * scale
    page.mouse.move(cx - rx, cy - ry)
    page.mouse.down()
    for x, y in ((cx + rx, cy - ry), (cx + rx, cy + ry), (cx - rx, cy + ry), (cx - rx, cy - ry + 2)):
        page.mouse.move(x, y, steps=8)
    page.mouse.up()
    page.wait_for_function("() => /\\d+ unlabeled points? selected/.test("
                           "document.querySelector('.alw-bulk').innerText)", timeout=60_000, polling=100)


def _labels(store: Path) -> dict:
    with LabelStore(store, readonly=True) as st:
        return st.labels()


def _wait_labels(store: Path, predicate, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = _labels(store)
        if predicate(got):
            return got
        time.sleep(0.3)
    return _labels(store)


def test_tags_by_keys_submit_undo_and_bulk_tag_a_lasso(tmp_path):
    from playwright.sync_api import sync_playwright
    csv = tmp_path / "tickets.csv"
    _tickets(csv)
    store = tmp_path / "tags.sqlite"
    args = ["serve", str(csv), "--text-column", "text", "--id-column", "id", "--label-column", "tags",
            "--multi-label", "--store", str(store), "--no-umap"]
    with VoilaServer(args, tmp_path / "voila.log", env={"AL_WIDGETS_CACHE": str(tmp_path / "cache")}) as srv, \
            sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        try:
            page.goto(srv.url, timeout=180_000)
            page.wait_for_selector(".alw-tag-toggle", timeout=180_000)
            toggles = page.locator(".alw-labeling .alw-tag-toggle")
            assert [t.strip() for t in toggles.all_inner_texts()] == ["[1] billing", "[2] login", "[3] urgent"]
            submit = page.locator(".alw-labeling .alw-tag-submit")
            assert "none of these" in submit.inner_text()
            first = current_id(page)
            page.locator("h2").first.click()  # the page takes keys outside text boxes
            page.keyboard.press("1")
            page.keyboard.press("3")
            page.wait_for_function("() => document.querySelector('.alw-labeling .alw-tag-submit').innerText"
                                   ".includes('billing, urgent')", timeout=30_000)
            assert page.locator(".alw-labeling .alw-tag-toggle.mod-active").count() == 2  # shown chosen
            page.keyboard.press("Enter")
            second = wait_next(page, first)
            got = _wait_labels(store, lambda g: first in g)
            assert got[first] == ["billing", "urgent"]
            page.wait_for_function("() => document.querySelectorAll('.alw-labeling .alw-tag-toggle.mod-active')"
                                   ".length === 0", timeout=30_000)  # the next sample starts from nothing
            page.keyboard.press("z")  # undo: the sample comes back with its tags chosen
            page.wait_for_function("(id) => document.querySelector('.alw-labeling code').innerText === id",
                                   arg=first, timeout=30_000)
            assert first not in _wait_labels(store, lambda g: first not in g)
            page.wait_for_function("() => document.querySelector('.alw-labeling .alw-tag-submit').innerText"
                                   ".includes('billing, urgent')", timeout=30_000)
            page.keyboard.press("3")  # drop urgent, submit billing alone
            page.keyboard.press("Enter")
            wait_next(page, first)
            assert _wait_labels(store, lambda g: first in g)[first] == ["billing"]
            assert second  # (a second sample was shown meanwhile)

            # a lasso around the middle of the map, then tag the selection in bulk
            before = set(_labels(store))
            _lasso(page)
            page.locator(".alw-bulk .alw-bulk-tag", has_text="login").click()
            label_button = page.locator(".alw-bulk button", has_text=re.compile(r"^Label \d+ points$"))
            page.wait_for_function("() => { const b = [...document.querySelectorAll('.alw-bulk button')]"
                                   ".find(b => /^Label \\d+ points$/.test(b.innerText)); return b && !b.disabled; }",
                                   timeout=30_000)
            n = int(label_button.inner_text().split()[1])
            assert n >= 2
            label_button.click()
            page.wait_for_function("() => document.querySelector('.alw-bulk').innerText.includes('as login')",
                                   timeout=30_000)  # the confirmation names the set
            page.locator(".alw-bulk button", has_text="Confirm").click()
            got = _wait_labels(store, lambda g: len(set(g) - before) >= n - 2)
            new = set(got) - before
            assert len(new) >= n - 2 and all(got[sid] == ["login"] for sid in new)
            # a lasso around them again: the points just labeled are mine, "urgent" added to all of them
            _lasso(page, scale=0.4)
            page.locator(".alw-bulk .alw-bulk-tag", has_text="urgent").click()
            add = page.locator(".alw-bulk button", has_text=re.compile(r"^Add tags to \d+ labeled$"))
            page.wait_for_function("() => { const b = [...document.querySelectorAll('.alw-bulk button')]"
                                   ".find(b => b.innerText.startsWith('Add tags to')); return b && !b.disabled; }",
                                   timeout=30_000)
            add.click()
            page.wait_for_function("() => document.querySelector('.alw-bulk').innerText.includes('Add urgent to')",
                                   timeout=30_000)
            page.locator(".alw-bulk button", has_text="Confirm").click()
            got = _wait_labels(store, lambda g: all(g.get(sid) == ["login", "urgent"] for sid in new))
            assert all(got[sid] == ["login", "urgent"] for sid in new)
            undo = page.locator(".alw-labeling button", has_text="Undo")
            undo.click()  # one undo takes the added tag back from every one of them
            got = _wait_labels(store, lambda g: all(g.get(sid) == ["login"] for sid in new))
            assert all(got[sid] == ["login"] for sid in new)
            undo.click()  # and the next the bulk label itself
            after = _wait_labels(store, lambda g: not (set(g) - before))
            assert not (set(after) - before)
        finally:
            page.close()
            browser.close()
