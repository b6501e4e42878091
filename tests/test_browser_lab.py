"""The quickstart notebook in JupyterLab 4, in a real browser: the dashboard works, keys stay scoped."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from al_widgets.app.server import free_port
from al_widgets.core import LabelStore

from browser_helpers import CHROMIUM, CpuBurner, launch, wait_figures

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                                      reason=f"{CHROMIUM} not installed (./dev test installs it)")]
NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "01_quickstart.ipynb"
TOKEN = "al-widgets-test-token"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab")
    import nbformat
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    # a second view of the same labeling panel: a key must still be sent (and stored) once
    nb.cells.append(nbformat.v4.new_code_cell("dashboard.labeling", id="second-view"))
    nbformat.write(nb, str(folder / NOTEBOOK.name))
    (folder / "data").mkdir()
    port = free_port()
    settings = folder / "settings" / "@jupyterlab"
    for ext, values in {"notebook-extension/tracker": {"autoStartDefaultKernel": True},
                        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}}.items():
        path = settings / f"{ext}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ, AL_WIDGETS_UMAP="0", AL_WIDGETS_CACHE=str(folder / "cache"),
               JUPYTER_CONFIG_DIR=str(folder / "config"), JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(folder / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(folder / "ws"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", "--ServerApp.allow_root=True", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={folder}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
           "jupyterlab.NeverCheckForUpdate"]
    log = open(folder / "lab.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (folder / "lab.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2) as r:
                    json.load(r)
                break
            except OSError:
                assert time.monotonic() < deadline, "jupyter lab did not start"
                time.sleep(0.5)
        yield {"url": url, "folder": folder}
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(15)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
        log.close()


def _n_labels(store):
    if not store.exists():
        return 0
    with LabelStore(store) as st:
        return len(st.labels())


_ID_JS = "() => (document.querySelector('.alw-labeling code') || {textContent: ''}).textContent"
_NEW_ID_JS = "(prev) => { const t = (document.querySelector('.alw-labeling code') || {}).textContent; " \
             "return !!t && t !== prev; }"


def _panel_id(page):
    """The sample id the first view of the panel shows.  textContent, not innerText: JupyterLab skips
    rendering cells scrolled out of view (content-visibility), and innerText of skipped content is ''."""
    return page.evaluate(_ID_JS)


def test_quickstart_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright
    store = lab["folder"] / "data" / "quickstart.sqlite"
    with sync_playwright() as p, CpuBurner(1):
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1500, "height": 1200})
        try:
            page.goto(f"{lab['url']}/lab/tree/{NOTEBOOK.name}?token={TOKEN}", timeout=180_000)
            page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')",
                                   timeout=180_000)
            page.wait_for_function("() => document.body.innerText.includes('(ipykernel) | Idle')", timeout=120_000)
            page.locator(".jp-Notebook .jp-Cell").first.click()
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()  # Run > Run All Cells, as a user
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            page.wait_for_selector(".alw-class-button", timeout=180_000)
            page.wait_for_function("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                                   ".some(o => o.textContent.includes('exported 40 labels'))", timeout=300_000)
            assert _n_labels(store) == 40
            # the map and the curve in the page follow the 40 scripted labels
            figs = wait_figures(page, "(f) => f.map[1].n === 40 && f.map[0].colours > 1 && "
                                      "f.curve[0].x.length > 0 && f.curve[0].x[f.curve[0].x.length - 1] === 40",
                                timeout_ms=90_000)
            assert figs["map"][0]["showscale"]
            panel = page.locator(".alw-labeling").first
            panel.scroll_into_view_if_needed()
            before = _panel_id(page)
            page.locator(".alw-class-button").nth(3).click()  # a click labels and advances the panel
            page.wait_for_function(_NEW_ID_JS,
                                   arg=before, timeout=60_000)
            assert _n_labels(store) == 41
            # command mode, focus on another cell, outside the panel: "1" must not label anything
            page.locator(".jp-Cell").first.locator(".jp-InputPrompt").click()
            page.keyboard.press("Escape")
            shown = _panel_id(page)
            assert shown  # the panel shows a sample
            page.keyboard.press("1")
            # positive control, sent after: focus the panel, press the key of class 7
            panel.click(position={"x": 300, "y": 8})
            page.keyboard.press("7")
            page.wait_for_function(_NEW_ID_JS,
                                   arg=shown, timeout=60_000)
            with LabelStore(store) as st:
                frame = st.to_frame()
            assert page.locator(".alw-labeling").count() == 2  # two views of one panel on the page
            assert len(frame) == 42  # the panel's key arrived once (one listener), the command-mode "1" never
            assert int(frame.set_index("sample_id").loc[shown, "label"]) == 7
        finally:
            page.screenshot(path=str(lab["folder"] / "lab.png"), full_page=True)
            Path("artifacts").mkdir(exist_ok=True)
            shutil.copy(lab["folder"] / "lab.png", "artifacts/lab.png")
            browser.close()
