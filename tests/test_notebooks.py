"""Every notebook executes top to bottom on its small built-in data."""
import re
import os
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from al_widgets.app.notebook import app_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _run(name: str, tmp_path: Path, env: dict) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    old = dict(os.environ)
    os.environ.update(env)  # the kernel inherits the environment
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return nb


def _text_html(nb) -> str:
    return "\n".join(str(o.get("data", {}).get("text/html", "")) for c in nb.cells for o in c.get("outputs", []))


def _text(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")))
    return "\n".join(out)


@pytest.fixture
def env(tmp_path):
    return {"AL_WIDGETS_UMAP": "0", "AL_WIDGETS_CACHE": str(tmp_path / "cache"), "PATH":
            str(Path(os.sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}


@pytest.mark.slow
def test_quickstart(tmp_path, env):
    nb = _run("01_quickstart.ipynb", tmp_path, env)
    text = _text(nb)
    assert "exported 40 labels" in text and "test accuracy" in text
    assert (tmp_path / "data" / "quickstart.sqlite").exists()
    again = _text(_run("01_quickstart.ipynb", tmp_path, env))  # a re-run resumes the store and says so
    assert "resumed 40 labels from data/quickstart.sqlite" in again and "exported 40 labels" in again
    assert (tmp_path / "data" / "quickstart_labels.csv").read_text().count("\n") == 41


@pytest.mark.slow
def test_teaching(tmp_path, env):
    nb = _run("02_teaching_active_learning.ipynb", tmp_path, env)
    text = _text(nb)
    assert "need at least two classes" in text
    assert "mean accuracy over the budget" in text
    assert "queried in the far cluster: {'entropy': 0," in text  # the sampling-bias plot shows the miss
    assert "auto chose focused_clue (boundary:" in text and "rounds per choice:" in text  # auto's phases
    assert "has the best mean accuracy over the budget" in text  # the text agrees with the table
    assert "the interval held the test accuracy at" in text  # Part 7: estimating without a test set
    table = [o for c in nb.cells for o in c.get("outputs", []) if "what it does" in
             o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))]
    assert table and all("…" not in o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                         for o in table)  # strategy descriptions in full
    assert "final accuracy" in _text_html(nb)  # Part 4b's table is displayed, not computed and dropped
    heatmaps = [o for c in nb.cells for o in c.get("outputs", []) if "heatmap" in str(o.get("data", {}))]
    assert heatmaps and all("colorbar" in str(o["data"]) for o in heatmaps)


@pytest.mark.slow
def test_your_own_data(tmp_path, env):
    env = {**env, "PATH": "/usr/bin:/bin"}  # JupyterLab started from .venv/bin/jupyter, venv not activated
    nb = _run("03_your_own_data.ipynb", tmp_path, env)
    text = _text(nb)
    assert "has feature names" not in text  # no scikit-learn warning per tree above the dashboard
    assert "ok: 301 samples" in text and "features: text embedding WordLlama" in text  # serve --check
    words, meaning = map(float, re.search(r"unseen adjectives: TF-IDF ([\d.]+), embedding ([\d.]+)", text).groups())
    assert meaning >= words + 0.3  # by meaning, not by the words labeled (0.5 against 0.9 here)
    assert "unknown text column 'no_such_column'" in text and "exit code 2" in text
    assert "epistemic + aleatoric == total: True" in text
    assert (tmp_path / "data" / "review_labels.csv").exists()
    assert "retrained on 24 labels" in text and "-> the model says:" in text  # tag sets (section 4)
    tags = pd.read_csv(tmp_path / "data" / "ticket_tags.csv", keep_default_na=False)["label"]
    assert len(tags) == 24 and any("|" in t for t in tags) and set("|".join(tags).split("|")) - {""} <= {
        "billing", "urgent", "login"}


def test_app_notebook_is_generated_from_one_source():
    on_disk = nbformat.read(NOTEBOOKS / "labeling_app.ipynb", as_version=4)
    assert [c.source for c in on_disk.cells] == [c.source for c in app_notebook().cells]
