"""The team journey in a real browser (issue 20): a lead (admin) serves three experts with overlap.

Two annotators label at once and disagree on shared samples (second opinions blind), a third
joins, the lead opens Review and decides a conflict, ``al-widgets status`` reports all of them,
and one annotator's access is taken back while their tab is open.
"""
import os
import re
import time

import pytest

from al_widgets.app.server import VoilaServer
from al_widgets.cli import main
from al_widgets.core import LabelStore

from browser_helpers import CHROMIUM, _kernel_id, current_id, kernel_processes, launch, wait_next, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed")]


def _link(capsys, name, store, role="annotator"):
    assert main(["users", "add", name, "--store", str(store), "--role", role]) == 0
    return capsys.readouterr().out.strip().split(": ", 1)[1]


def _label(page, nth):
    """Click the ``nth`` class button; return the id labeled once the next sample is shown."""
    shown = current_id(page)
    page.locator(".alw-class-button").nth(nth).click()
    wait_next(page, shown)
    return shown


def _by(store, who):
    with LabelStore(store, readonly=True) as st:
        df = st.to_frame_all()
    return df[df["annotator"] == who]


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_a_lead_and_three_experts_with_overlap_review_and_revocation(tmp_path, capsys):
    store = tmp_path / "team.sqlite"
    links = {name: _link(capsys, name, store, role) for name, role in
             (("lead", "admin"), ("dr_ana", "annotator"), ("dr_ben", "annotator"), ("dr_cy", "annotator"))}
    env = {"AL_WIDGETS_CACHE": str(tmp_path / "cache"), "AL_WIDGETS_REVOKE_EVERY": "1"}
    with VoilaServer(["demo", "--store", str(store), "--no-umap", "--overlap", "0.8"], tmp_path / "voila.log",
                     env=env) as srv:
        def url(name):
            return srv.url + "?" + links[name].split("?", 1)[1]

        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            browser = launch(p)
            pages = {}
            for name in ("dr_ana", "dr_ben"):
                pages[name] = browser.new_context().new_page()
                pages[name].goto(url(name), timeout=180_000)
            for page in pages.values():
                wait_ready(page)
                assert "key=" not in page.url  # the secret left the address bar
            ana, ben = pages["dr_ana"], pages["dr_ben"]
            ana_ids = [_label(ana, 1) for _ in range(6)]  # dr_ana says "1"
            ben_ids, blind_checked = [], 0
            for _ in range(6):  # dr_ben gets dr_ana's overlap samples first, and says "2"
                _wait(lambda: current_id(ben) != "")
                if current_id(ben) in ana_ids:  # a second opinion: the model's guess is not shown
                    assert "model says" not in ben.locator(".alw-labeling").inner_text()
                    blind_checked += 1
                ben_ids.append(_label(ben, 2))
            assert blind_checked >= 1
            shared = set(ana_ids) & set(ben_ids)
            assert shared  # disagreements: 1 against 2
            cy = browser.new_context().new_page()  # a third annotator joins
            cy.goto(url("dr_cy"), timeout=180_000)
            wait_ready(cy)
            cy_ids = [_label(cy, 3) for _ in range(2)]
            assert len(_by(store, "dr_cy")) == 2
            # the lead opens Review and decides a conflict
            lead = browser.new_context().new_page()
            lead.goto(url("lead"), timeout=180_000)
            wait_ready(lead)
            lead.get_by_text("Review: conflicts and suspicious labels").click()
            lead.wait_for_selector(".alw-review", timeout=120_000)
            lead.wait_for_function("() => document.querySelector('.alw-review').innerText.includes("
                                   "'Annotators disagree')", timeout=120_000)
            review = lead.locator(".alw-review").inner_text()
            assert re.search(r"\(1 of \d+ conflicts\)", review)
            lead.locator(".alw-review-class", has_text="decide: 1").first.click()
            lead.wait_for_function("() => document.querySelector('.alw-review').innerText.includes('saved: decided')",
                                   timeout=60_000)
            decided = _by(store, "lead")
            assert list(decided["strategy"]) == ["adjudicated"] and set(decided["sample_id"]) <= shared
            assert list(decided["label"]) == [1]
            # al-widgets status with three annotators and a reviewer
            capsys.readouterr()
            assert main(["status", str(store)]) == 0
            out = capsys.readouterr().out
            assert "agreement on" in out and all(n in out for n in ("dr_ana", "dr_ben", "dr_cy"))
            assert "1 reviewer decisions" in out
            # dr_ben's access is taken back while his tab is open
            ben_kernel = re.search(r'"kernelId": "([0-9a-f-]{36})"', ben.content()).group(1)
            n_ben = len(_by(store, "dr_ben"))
            assert main(["users", "remove", "dr_ben", "--store", str(store)]) == 0
            _wait(lambda: ben_kernel not in {_kernel_id(p.cmdline()) for p in kernel_processes(srv)}, 30)
            ben.locator(".alw-class-button").nth(2).click()  # his page may still show buttons: nothing is stored
            _label(ana, 1)  # a label that does reach the store, after his click
            _wait(lambda: len(_by(store, "dr_ana")) == 7)
            assert len(_by(store, "dr_ben")) == n_ben
            ben.reload()
            assert "Sign in with your personal link" in ben.locator("body").inner_text()
            assert len(cy_ids) == 2
            browser.close()
