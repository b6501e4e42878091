"""Named annotators in a real browser: personal links, true names in the store, roles."""
import os

import pytest

from al_widgets.app.server import VoilaServer
from al_widgets.cli import main
from al_widgets.core import LabelStore

from browser_helpers import CHROMIUM, current_id, launch, wait_next, wait_ready
from test_server_hardening import _kernels, status_without_redirect

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                                      reason=f"{CHROMIUM} not installed (./dev test installs it)")]


def _link(capsys, *args):
    assert main(["users", "add", *args]) == 0
    return capsys.readouterr().out.strip().split(": ", 1)[1]


def test_personal_links_names_and_roles(tmp_path, capsys):
    store = tmp_path / "labels.sqlite"
    alice = _link(capsys, "alice", "--store", str(store))
    bob = _link(capsys, "bob", "--store", str(store))
    root = _link(capsys, "root", "--store", str(store), "--role", "admin")
    assert main(["users", "list", "--store", str(store)]) == 0
    assert capsys.readouterr().out.split() == ["alice", "annotator", "bob", "annotator", "root", "admin"]
    assert alice.split("?key=")[1] not in (tmp_path / "labels.sqlite.users.json").read_text()  # stored hashed
    with VoilaServer(["demo", "--store", str(store), "--no-umap"], tmp_path / "voila.log",
                     env={"AL_WIDGETS_CACHE": str(tmp_path / "cache")}) as srv:
        for url in (srv.url, srv.url + "?key=not-a-key"):
            assert status_without_redirect(url) in (302, 403)
        assert _kernels(srv) == []  # no page, no kernel without a valid link

        def url(link):
            return srv.url + "?" + link.split("?", 1)[1]

        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            browser = launch(p)
            ctx_a, ctx_b, ctx_r = browser.new_context(), browser.new_context(), browser.new_context()
            pa, pb, pr = ctx_a.new_page(), ctx_b.new_page(), ctx_r.new_page()
            for page, link in ((pa, alice), (pb, bob), (pr, root)):
                page.goto(url(link), timeout=180_000)
            for page in (pa, pb, pr):
                wait_ready(page)
            labeled = {"alice": [], "bob": []}
            for _ in range(2):  # alice and bob label at the same time
                for name, page in (("alice", pa), ("bob", pb)):
                    shown = current_id(page)
                    page.locator(".alw-class-button").nth(1).click()
                    labeled[name].append(shown)
                    wait_next(page, shown)
            # annotators: a plain page, no strategy controls, no scores, no name box
            for page in (pa, pb):
                text = page.locator("body").inner_text()
                assert page.locator(".alw-controls").count() == 0
                assert "margin" not in text and "clue" not in text and "score" not in text and "f1_macro" not in text
                assert "epistemic" not in text
                assert page.locator(".alw-labeling input[type=text]").count() == 0 or \
                    not page.locator(".alw-labeling input[type=text]").first.is_visible()
            # the admin sees the strategy controls
            assert pr.locator(".alw-controls select").count() == 1
            browser.close()
        with LabelStore(store) as st:
            frame = st.to_frame().set_index("sample_id")
        for name, ids in labeled.items():
            assert set(frame.loc[ids, "annotator"]) == {name}  # the true name, from the sign-in
    assert main(["users", "remove", "bob", "--store", str(store)]) == 0


def test_annotator_kernel_builds_no_strategy_controls(tmp_path, monkeypatch):
    """The comm path: in an annotator's kernel no widget exists that could change the strategy."""
    import ipywidgets as w
    from ipywidgets.widgets.widget import _instances

    from al_widgets.app import AppConfig, build_app
    from al_widgets.widgets.controls import Controls
    before = set(_instances)
    app = build_app(AppConfig(store=str(tmp_path / "s.sqlite"), umap=False), user="alice", role="annotator")
    try:
        new = [_instances[k] for k in set(_instances) - before]
        assert app.dashboard.controls is None and not any(isinstance(x, Controls) for x in new)
        strategies = {"margin", "entropy", "bald"}
        assert not any(isinstance(x, w.Dropdown) and strategies & set(map(str, x.options)) for x in new)
        assert app.session.annotator == "alice"
        app.dashboard.labeling.keyboard._on_custom_msg(None, {"event": "rendered"}, [])  # as a page does
        m = app.dashboard.map
        m.color_by.set_state({"index": 0})  # a crafted comm message can only pick the offered modes
        assert "epistemic" not in m.color_by.options
    finally:
        app.session.close()


def test_a_blind_annotators_kernel_holds_no_guess_a_client_could_read(tmp_path):
    """--blind is enforced in the kernel: no widget state a page could request carries the model's guess."""
    import json

    from ipywidgets.widgets.widget import _instances

    from al_widgets.app import AppConfig, build_app
    before = set(_instances)
    app = build_app(AppConfig(store=str(tmp_path / "s.sqlite"), umap=False, blind=True), user="alice", role="annotator")
    try:
        app.dashboard.labeling.keyboard._on_custom_msg(None, {"event": "rendered"}, [])  # as a page does
        assert app.dashboard.curves is None
        states = [json.dumps(_instances[k].get_state(), default=str) for k in set(_instances) - before]
        assert states and not any(marker in s for s in states for marker in ("model says", "predicted", "pred <b>"))
    finally:
        app.session.close()
    seeing = build_app(AppConfig(store=str(tmp_path / "t.sqlite"), umap=False), user="lead", role="admin")
    try:  # the same check finds the guess on a page that shows it (the test can fail)
        seeing.dashboard.labeling.keyboard._on_custom_msg(None, {"event": "rendered"}, [])
        states = [json.dumps(w.get_state(), default=str) for w in list(_instances.values())]
        assert any("model says" in s or "predicted" in s for s in states)
    finally:
        seeing.session.close()
