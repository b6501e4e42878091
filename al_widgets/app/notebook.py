"""The Voila app notebook, generated from one source so the repo copy and the CLI's copy never drift."""
from __future__ import annotations

from pathlib import Path

import nbformat

APP_SOURCE = """\
# al_widgets labeling app. Served by Voila (code hidden); configured by AL_WIDGETS_CONFIG
# (a JSON file) or AL_WIDGETS_* environment variables; defaults to the built-in digits dataset.
# The server puts the signed-in person in SIGN_IN (a hidden first cell); a page cannot change it.
from al_widgets.app import build_app

app = build_app(**globals().get("SIGN_IN", {}))
app"""


def app_notebook() -> nbformat.NotebookNode:
    """The one-cell app notebook."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(APP_SOURCE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write_app_notebook(path: str | Path) -> Path:
    """Write the app notebook to ``path`` (folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = app_notebook()
    nbformat.write(nb, str(path))
    return path
