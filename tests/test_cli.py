"""The al-widgets command: data validation, one-line errors, export; and the app configuration."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from al_widgets.app import AppConfig, ConfigError, build_session, load
from al_widgets.cli import main
from al_widgets.core import LabelStore


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "al_widgets.cli", *map(str, args)], capture_output=True, text=True)


@pytest.fixture
def reviews(tmp_path):
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"id": ["a", "b", "c", "d"], "review": ["good", "bad <b>x</b>", "great", None],
                  "label": ["pos", "neg", None, None]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("args, message", [
    (["serve", "missing.csv"], "data not found"),
    (["serve", "{reviews}", "--text-column", "nope", "--classes", "pos,neg"], "unknown text column 'nope'"),
    (["serve", "{reviews}", "--text-column", "review", "--label-column", "nope"], "unknown label column 'nope'"),
    (["serve", "{reviews}", "--text-column", "review", "--classes", "pos"], "need at least two classes"),
    (["serve", "{reviews}", "--text-column", "review", "--label-column", "label", "--classes", "x,y"],
     "values not in --classes"),
    (["serve", "{reviews}", "--text-column", "review", "--classes", "pos,neg", "--strategy", "best"],
     "unknown strategy 'best'"),
    (["serve", "{reviews}", "--text-column", "review", "--classes", "pos,neg", "--warm-kernels", "-1"],
     "--warm-kernels must be 0 or more"),
    (["export", "no_store.sqlite"], "label store not found"),
])
def test_bad_arguments_give_one_line_and_exit_2(reviews, args, message, capsys):
    args = [a.replace("{reviews}", str(reviews)) for a in args]
    code = main([*args, "--check"] if args[0] == "serve" else args)  # in-process: no interpreter start-up
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_installed_command_runs(tmp_path):
    """One real process for the entry point itself (python -m al_widgets.cli)."""
    res = run_cli("export", tmp_path / "none.sqlite")
    assert res.returncode == 2 and res.stderr.startswith("al-widgets: error: label store not found")


def test_text_csv_is_checked_and_loaded(reviews, capsys):
    assert main(["serve", str(reviews), "--text-column", "review", "--label-column", "label", "--id-column", "id",
                 "--check"]) == 0
    assert "ok: 4 samples, classes ['neg', 'pos']" in capsys.readouterr().out
    data = load(AppConfig(dataset=str(reviews), text_column="review", label_column="label", id_column="id"))
    assert data.pool.ids == ["a", "b", "c", "d"] and data.pool.item(3) == ""
    assert data.pool.labels.tolist() == ["pos", "neg", None, None]


def test_numeric_csv_and_missing_values(tmp_path):
    path = tmp_path / "t.csv"
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"])
    df["outcome"] = ["yes", "no"] * 3 + [None] * 24
    df.to_csv(path, index=False)
    data = load(AppConfig(dataset=str(path), label_column="outcome", model="gboost"))
    assert data.pool.X.shape == (30, 3) and data.pool.classes == ["no", "yes"]
    assert "HistGradientBoosting" in type(data.model).__name__
    df.loc[3, "b"] = np.nan
    df.to_csv(path, index=False)
    with pytest.raises(ConfigError, match="column 'b' has missing values"):
        load(AppConfig(dataset=str(path), label_column="outcome"))


def test_image_folder(tmp_path):
    for cls, value in (("cat", 30), ("dog", 220)):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((20, 20), value + i, dtype=np.uint8)).save(tmp_path / "imgs" / cls / f"{i}.png")
    Image.fromarray(np.full((20, 20), 128, dtype=np.uint8)).save(tmp_path / "imgs" / "new.png")
    data = load(AppConfig(dataset=str(tmp_path / "imgs")))
    assert data.pool.classes == ["cat", "dog"] and data.pool.n == 7
    assert sorted(v for v in data.pool.labels if v is not None) == ["cat"] * 3 + ["dog"] * 3
    new = data.pool.index_of("new.png")
    assert data.pool.labels[new] is None and str(data.pool.item(new)).endswith("new.png")
    assert data.pool.X.shape == (7, 284)  # the built-in colour, shape and layout features
    assert load(AppConfig(dataset=str(tmp_path / "imgs"), embedder="thumbnails")).pool.X.shape == (7, 256)


def test_export_writes_csv(tmp_path):
    store = tmp_path / "s.sqlite"
    with LabelStore(store) as st:
        st.add_label("a", "pos", "ann")
        st.add_label("b", "neg", "bob")
    out = tmp_path / "out.csv"
    assert main(["export", str(store), "-o", str(out)]) == 0
    assert pd.read_csv(out)[["sample_id", "label", "annotator"]].values.tolist() == [["a", "pos", "ann"],
                                                                                     ["b", "neg", "bob"]]


def test_config_from_file_and_environment(tmp_path):
    cfg_file = tmp_path / "c.json"
    cfg_file.write_text(json.dumps({"dataset": "digits", "batch_size": 4, "store": str(tmp_path / "x.sqlite")}))
    cfg = AppConfig.from_env({"AL_WIDGETS_CONFIG": str(cfg_file), "AL_WIDGETS_CLASSES": "a, b",
                              "AL_WIDGETS_UMAP": "0", "AL_WIDGETS_BUDGET": "50"})
    assert (cfg.batch_size, cfg.classes, cfg.umap, cfg.budget) == (4, ["a", "b"], False, 50)
    cfg_file.write_text(json.dumps({"colour": "red"}))
    with pytest.raises(ValueError, match="unknown app configuration keys"):
        AppConfig.from_env({"AL_WIDGETS_CONFIG": str(cfg_file)})


def test_default_app_session_on_digits(tmp_path):
    session = build_session(AppConfig(store=str(tmp_path / "d.sqlite")))
    try:
        assert session.pool.n == 1437 and len(session.X_test) == 360
        assert session.strategy.name == "auto" and session.budget == 200
    finally:
        session.close()


def test_status_shows_annotators_hours_and_claims(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    with LabelStore(store) as st:
        st.bind("id123", "reviews.csv", ["neg", "pos"])
        st.add_label("a", "pos", "ann", seconds=2.0)
        st.add_label("b", "neg", "ann", seconds=4.0)
        st.add_label("c", "neg", "bob", seconds=1.0)
        st.claim("kernel-x", ["d"], 1, lease_seconds=300)
    assert main(["status", str(store)]) == 0
    out = capsys.readouterr().out
    assert "dataset 'reviews.csv'" in out and "3 labeled samples, 3 annotator labels" in out
    per = out.split("per annotator:")[1].split("per hour")[0]
    assert "ann" in per and "bob" in per and " 2 " in per and "3.0" in per  # 2 labels, median 3 s
    assert "open claims: 1" in out and "d  by kernel-x" in out
    assert main(["status", str(tmp_path / "none.sqlite")]) == 2


def test_status_and_export_show_agreement_and_every_annotators_label(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    with LabelStore(store) as st:
        st.bind("id123", "reviews.csv", ["neg", "pos"])
        for sid, a, b in [("s1", "pos", "pos"), ("s2", "neg", "neg"), ("s3", "pos", "neg"), ("s4", "neg", "neg")]:
            st.add_label(sid, a, "ann", seconds=2.0)
            st.add_label(sid, b, "bob", seconds=3.0, only_if_unlabeled=True, overlap_k=2)
        st.add_label("s5", "pos", "ann")
    assert main(["status", str(store)]) == 0
    out = capsys.readouterr().out
    # 4 shared samples, 3 agree; kappa: p_o = 3/4, p_e = (2/4)(1/4) + (2/4)(3/4) = 1/2 -> 0.5
    assert "agreement on 4 shared samples" in out and "ann/bob kappa 0.50 on 4" in out
    assert "conflicts waiting for a reviewer: 1" in out
    assert "between annotators" in out
    quality = out.split("quality per annotator:")[1]
    assert "ann" in quality and "0.75" in quality  # each agrees with the other on 3 of 4
    out_csv = tmp_path / "all.csv"
    assert main(["export", str(store), "-o", str(out_csv), "--all-annotators"]) == 0
    import pandas as pd
    rows = pd.read_csv(out_csv)
    assert len(rows) == 9 and set(rows.loc[rows["sample_id"] == "s3", "annotator"]) == {"ann", "bob"}


def test_parquet_is_served_like_a_csv(reviews, tmp_path, capsys):
    import pandas as pd
    pytest.importorskip("pyarrow")
    pq = tmp_path / "reviews.parquet"
    pd.read_csv(reviews).to_parquet(pq)
    assert main(["serve", str(pq), "--text-column", "review", "--label-column", "label", "--id-column", "id",
                 "--check"]) == 0
    assert "ok: 4 samples, classes ['neg', 'pos']" in capsys.readouterr().out
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    assert main(["serve", str(bad), "--text-column", "review", "--check"]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and "as Parquet" in err and len(err.strip().splitlines()) == 1


def test_precomputed_embeddings_beside_a_csv_or_in_a_parquet_column(reviews, tmp_path, capsys):
    import numpy as np
    import pandas as pd
    from al_widgets.app import AppConfig, load
    df = pd.read_csv(reviews)
    emb = np.random.default_rng(0).normal(size=(len(df), 8)).astype(np.float32)
    np.save(reviews.with_suffix(".npy"), emb)  # reviews.npy beside reviews.csv: picked up by default
    assert main(["serve", str(reviews), "--label-column", "label", "--id-column", "id", "--check"]) == 0
    assert "ok: 4 samples" in capsys.readouterr().out
    data = load(AppConfig(dataset=str(reviews), label_column="label", id_column="id", store=str(tmp_path / "s.db")))
    np.testing.assert_allclose(data.pool.X, emb)
    assert data.pool.labels[0] == "pos" and data.pool.item(1)["review"] == "bad <b>x</b>"
    pq = tmp_path / "vec.parquet"
    df.assign(vec=[list(r) for r in emb]).to_parquet(pq)
    assert main(["serve", str(pq), "--embedding-column", "vec", "--label-column", "label", "--check"]) == 0
    capsys.readouterr()
    np.save(reviews.with_suffix(".npy"), emb[:3])  # a matrix that does not match the rows: one line
    assert main(["serve", str(reviews), "--label-column", "label", "--check"]) == 2
    err = capsys.readouterr().err
    assert "need (4, d)" in err and len(err.strip().splitlines()) == 1


def test_multi_label_csv_is_checked_served_exported_and_reported(tmp_path, capsys):
    """--multi-label: tags from the column (a|c, some blank), --classes optional; export a|b; status MASI."""
    csv = tmp_path / "tickets.csv"
    pd.DataFrame({"id": [f"t{i}" for i in range(8)],
                  "text": ["refund my invoice", "login locked now", "invoice asap", "password reset",
                           "charge twice urgent", "hello", "account signin", "bill"],
                  "tags": ["billing", "login|urgent", "billing|urgent", "login", None, None, "", None]}
                 ).to_csv(csv, index=False)
    assert main(["serve", str(csv), "--text-column", "text", "--id-column", "id", "--label-column", "tags",
                 "--multi-label", "--check", "--store", str(tmp_path / "x.sqlite")]) == 0
    out = capsys.readouterr().out
    assert "ok: 8 samples, tags ['billing', 'login', 'urgent']; trained on 4 labels" in out
    assert main(["serve", str(csv), "--text-column", "text", "--label-column", "tags", "--multi-label",
                 "--classes", "billing,login", "--check"]) == 2
    assert "unknown tag 'urgent'" in capsys.readouterr().err
    cfg = AppConfig(dataset=str(csv), text_column="text", id_column="id", label_column="tags", multi_label=True,
                    embedder="tfidf", store=str(tmp_path / "team.sqlite"))
    data = load(cfg)
    sessions = [build_session(cfg, data, annotator=who, background=False) for who in ("ana", "ben", "cy")]
    sessions[0].submit(4, ["billing", "urgent"])
    for s, tags in zip(sessions[1:], (["billing"], ["billing", "urgent"])):
        s.submit(4, tags, overwrite=True)  # second and third opinions on one ticket
    for s in sessions:
        s.close()
    assert main(["export", cfg.store, "-o", str(tmp_path / "all.csv"), "--all-annotators"]) == 0
    rows = pd.read_csv(tmp_path / "all.csv", dtype=str, keep_default_na=False)
    assert rows[["annotator", "label"]].values.tolist() == [["ana", "billing|urgent"], ["ben", "billing"],
                                                           ["cy", "billing|urgent"]]
    assert main(["status", cfg.store]) == 0
    out = capsys.readouterr().out
    assert "Krippendorff's alpha (MASI, tag sets)" in out and "kappa per tag" in out


def test_served_kernels_start_with_one_native_thread_and_the_map_precompute_keeps_the_defaults(tmp_path, monkeypatch):
    """Every page's kernel inherits the Voila server's environment: one OpenMP, OpenBLAS and MKL
    thread each (kernels on few cores otherwise spin against each other), unless the environment
    already says; the UMAP precompute is left alone."""
    import al_widgets.cli as cli
    started = {}

    class Exited:
        def __init__(self, cmd, env):
            started["precompute" if "al_widgets.app.precompute" in cmd else "voila"] = env

        def poll(self):
            return 1

        def terminate(self):
            pass

    monkeypatch.setattr(cli.subprocess, "Popen", lambda cmd, env: Exited(cmd, env))
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # the operator's own choice wins
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    cfg = AppConfig(store=str(tmp_path / "d.sqlite"), umap=True)
    assert cli.serve(cfg, "127.0.0.1", 0) != 0  # the fake server "exits" at once
    voila, precompute = started["voila"], started["precompute"]
    assert (voila["OMP_NUM_THREADS"], voila["OPENBLAS_NUM_THREADS"], voila["MKL_NUM_THREADS"]) == ("1", "1", "3")
    assert "OMP_NUM_THREADS" not in precompute and "OPENBLAS_NUM_THREADS" not in precompute
    assert voila["AL_WIDGETS_CONFIG"] == precompute["AL_WIDGETS_CONFIG"]
