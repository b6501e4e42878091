import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import al_widgets
from al_widgets import simulate


def test_simulate_returns_one_row_per_retrain(digits):
    X, y = digits
    df = simulate(LogisticRegression(max_iter=300), X[:400], y[:400], "margin", initial=10, budget=40,
                  batch_size=10, random_state=0)
    assert df["n_labels"].tolist() == [10, 20, 30, 40]
    assert {"accuracy", "mean_uncertainty", "strategy"} <= set(df.columns)
    assert df["accuracy"].between(0, 1).all()


def test_simulate_bad_input():
    with pytest.raises(ValueError, match="length mismatch"):
        simulate(LogisticRegression(), np.zeros((5, 2)), [0, 1])
    with pytest.raises(ValueError, match="budget"):
        simulate(LogisticRegression(), np.zeros((5, 2)), [0, 1, 0, 1, 0], budget=0)


@pytest.mark.slow
def test_uncertainty_sampling_beats_random_on_digits(digits):
    X, y = digits
    means = {"margin": [], "random": []}
    for seed in range(4):
        Xp, Xt, yp, yt = train_test_split(X, y, test_size=0.3, random_state=seed)
        for strat in means:
            df = simulate(LogisticRegression(max_iter=300), Xp, yp, strat, initial=20, budget=150,
                          batch_size=10, X_test=Xt, y_test=yt, random_state=seed)
            means[strat].append(df["accuracy"].mean())
    assert np.mean(means["margin"]) > np.mean(means["random"]) + 0.01, means


_PROBE = """
import json, sys
def loaded():
    return sorted(sys.modules)
out = {}
import al_widgets.core
out["core"] = loaded()
import numpy as np
from al_widgets.core import PoolEmbedding
e = PoolEmbedding(np.random.default_rng(0).normal(size=(50, 5)), "k", None)
assert e.method == "pca"
out["pca_map"] = loaded()
import al_widgets
out["top_level"] = loaded()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def loaded_modules():
    """What each import step loads, measured in one fresh interpreter (one subprocess, not three)."""
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True).stdout
    return {k: set(v) for k, v in json.loads(out).items()}


def test_core_imports_no_ui_and_no_umap(loaded_modules):
    for heavy in ("ipywidgets", "plotly", "umap", "numba"):
        assert heavy not in loaded_modules["core"], heavy


def test_pca_map_layout_does_not_load_umap(loaded_modules):
    # the map shows the PCA layout at once; umap/numba load only when UMAP itself runs
    assert "umap" not in loaded_modules["pca_map"] and "numba" not in loaded_modules["pca_map"]


def test_top_level_import_does_not_load_umap(loaded_modules):
    assert "umap" not in loaded_modules["top_level"] and "numba" not in loaded_modules["top_level"]


def test_public_api():
    for name in ("ActiveLearningSession", "simulate", "available_strategies", "get_strategy", "Pool",
                 "LabelStore"):
        assert hasattr(al_widgets, name)


def test_the_package_has_no_import_cycle_and_rooms_stay_small():
    """Issue 21: counting imports inside functions too; a lazy import is for dask or umap, never a cycle."""
    from import_graph import ROOT, cycles, graph
    assert cycles(graph()) == []
    for folder in [ROOT, *[p for p in ROOT.rglob("*") if p.is_dir() and p.name != "__pycache__"]]:
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= 15, (folder, len(modules))


def test_the_import_graph_reader_finds_a_cycle(tmp_path, monkeypatch):
    import import_graph
    pkg = tmp_path / "al_widgets"
    (pkg / "core").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "core" / "__init__.py").write_text("")
    (pkg / "core" / "a.py").write_text("from .b import x\n")
    (pkg / "core" / "b.py").write_text("def f():\n    from .a import y  # function-local: still a cycle\n")
    monkeypatch.setattr(import_graph, "ROOT", pkg)
    assert import_graph.cycles(import_graph.graph()) == [["al_widgets.core.a", "al_widgets.core.b"]]


def test_the_engine_needs_only_its_base_dependencies():
    """Issue 21: ``pip install al_widgets`` (no extras) is enough for ``al_widgets.core``: every module it
    imports at load time is a base dependency; Voila, JupyterLab and the widgets are extras."""
    import ast
    import re
    import sys
    import tomllib

    from import_graph import ROOT
    project = tomllib.loads((ROOT.parent / "pyproject.toml").read_text())["project"]
    base = {re.split(r"[<>=\[ ]", d)[0].lower() for d in project["dependencies"]}
    assert not base & {"voila", "jupyterlab", "ipywidgets", "plotly", "umap-learn", "dask"}
    assert {"app", "widgets", "scale", "test"} <= set(project["optional-dependencies"])
    dist = {"numpy": "numpy", "scipy": "scipy", "pandas": "pandas", "sklearn": "scikit-learn",
            "krippendorff": "krippendorff"}
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.parse(path.read_text()).body:  # module level: what loading the module needs
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("al_widgets", "__future__"):
                    continue
                assert dist.get(top) in base, f"{path.relative_to(ROOT)} imports {top} at load time"
