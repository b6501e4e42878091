"""The store is sacred, the CLI says what is wrong in one line, and input never reaches further
than it should (issue 19, items 7-9; issue 20, items 1, 5, 6)."""
import os
import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from al_widgets.app import AppConfig, ConfigError, load
from al_widgets.cli import main
from al_widgets.core import ActiveLearningSession, LabelStore, Pool
from al_widgets.core.store.label_store import StoreMismatch
from al_widgets.core.store.safe_text import printable, spreadsheet_safe
from al_widgets.widgets.render import sample_html


def _store(tmp_path, name="labels.sqlite"):
    path = tmp_path / name
    with LabelStore(path) as st:
        st.add_label("a", 1, "ann")
        st.add_label("b", 2, "bob")
    return path


@pytest.mark.parametrize("target", ["{s}", "{s}-wal", "{s}-shm", "{s}.users.json", "other.sqlite"])
def test_export_never_writes_over_the_store(tmp_path, capsys, target):
    store = _store(tmp_path)
    (tmp_path / "labels.sqlite.users.json").write_text("{}")
    _store(tmp_path, "other.sqlite")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    out = target.format(s=store) if "{s}" in target else str(tmp_path / target)
    assert main(["export", str(store), "-o", out]) == 2
    err = capsys.readouterr().err
    assert "refusing to write the export over" in err and len(err.strip().splitlines()) == 1
    for name, data in before.items():
        if not name.endswith(("-wal", "-shm")):
            assert (tmp_path / name).read_bytes() == data
    with LabelStore(store, readonly=True) as st:
        assert st.labels() == {"a": 1, "b": 2}


def _damaged(tmp_path, kind):
    path = tmp_path / f"{kind}.sqlite"
    good = _store(tmp_path, "good.sqlite")
    with sqlite3.connect(good) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(good.read_bytes())
    if kind == "truncated":
        data = data[:1000]
    elif kind == "zeroed":
        data = bytearray(len(data))
    elif kind == "text":
        data = bytearray(b"id,label\n1,2\n")
    elif kind == "garbage_inside":
        data[4096:4096 + 8192] = os.urandom(8192) if len(data) > 4096 + 8192 else data[4096:]
        data += os.urandom(8192 * 2)
        data[4096:4096 + 8192] = os.urandom(8192)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("kind", ["truncated", "zeroed", "text", "garbage_inside"])
def test_serve_check_opens_the_store_and_names_the_damage(tmp_path, kind):
    store = _damaged(tmp_path, kind)
    r = subprocess.run([sys.executable, "-m", "al_widgets.cli", "demo", "--check", "--store", str(store)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert str(store) in r.stderr and ("not an al_widgets label store" in r.stderr or "damaged" in r.stderr)


def test_another_applications_database_is_never_changed(tmp_path):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('x')")
    before = path.read_bytes()
    with pytest.raises(sqlite3.DatabaseError, match="database of another application, with tables customers"):
        LabelStore(path)
    assert path.read_bytes() == before and not (tmp_path / "app.db-wal").exists()
    assert main(["demo", "--check", "--store", str(path)]) == 2


def test_a_store_on_read_only_media_is_readable(tmp_path, capsys):
    src, ro = tmp_path / "src", tmp_path / "ro"
    src.mkdir()
    ro.mkdir()
    store = _store(src)  # WAL mode: reading needs a -shm file, which read-only media cannot hold
    if subprocess.run(["mount", "--bind", str(src), str(ro)], capture_output=True).returncode != 0:
        pytest.skip("cannot bind-mount here")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        for leftover in ("-wal", "-shm"):
            assert not os.path.exists(str(ro / store.name) + leftover)
        assert main(["status", str(ro / store.name)]) == 0
        assert "2 labeled samples" in capsys.readouterr().out
    finally:
        subprocess.run(["umount", str(ro)], capture_output=True)


def test_labels_of_unknown_origin_are_not_bound_silently(tmp_path, small_digits):
    X, y = small_digits
    store = tmp_path / "old.sqlite"
    with LabelStore(store) as st:  # written directly: no record of its dataset
        st.add_label("0", 3, "ann")
    pool = Pool(X, classes=list(range(10)))
    with pytest.raises(StoreMismatch, match="holds 1 labels but no record of the dataset"):
        ActiveLearningSession(_model(), pool, store=store, background=False)
    s = ActiveLearningSession(_model(), pool, store=store, background=False, allow_mismatch=True)
    assert s.labels == {0: 3}  # bound on purpose
    s.close()
    s = ActiveLearningSession(_model(), pool, store=store, background=False)  # bound now: reopens
    s.close()


def test_serve_check_refuses_another_datasets_store(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    with LabelStore(store) as st:
        st.bind("not-digits", "reviews.csv", ["neg", "pos"])
    assert main(["demo", "--check", "--store", str(store)]) == 2
    assert "belongs to dataset 'reviews.csv'" in capsys.readouterr().err
    assert main(["demo", "--check", "--store", str(tmp_path / "new.sqlite")]) == 0
    assert "will be created" in capsys.readouterr().out


def _model():
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(max_iter=200)


def test_status_with_three_annotators_and_a_reviewer(tmp_path, capsys):
    """Issue 20: a third annotator crashed agreement (pandas 3 keeps empty cells as NaN in stack())."""
    store = tmp_path / "team.sqlite"
    with LabelStore(store) as st:
        st.bind("id", "digits", [0, 1])
        rows = [("s1", 0, 0, None), ("s2", 1, None, 1), ("s3", None, 1, 0), ("s4", 0, 1, None), ("s5", 1, 1, 1)]
        for sid, *votes in rows:
            for who, v in zip(("ana", "ben", "cy"), votes):
                if v is not None:
                    st.add_label(sid, v, who, seconds=2.0)
        st.add_label("s4", 1, "lead", strategy="adjudicated")
        st.add_label("s6", 0, "lead")
    assert main(["status", str(store)]) == 0
    out = capsys.readouterr().out
    # 5 shared samples; pairs: ana/ben share s1, s4, s5 (agree on s1, s5); ana/cy s2, s5; ben/cy s3, s5
    assert "agreement on 5 shared samples" in out
    assert "ana/ben kappa" in out and "on 3" in out and "ana/cy kappa 1.00 on 2" in out
    per = out.split("per annotator:")[1].split("per hour")[0]
    quality = out.split("quality per annotator:")[1]
    counts = {"ana": 4, "ben": 4, "cy": 3, "lead": 1}  # the same count in both tables
    for who, n in counts.items():
        line = next(l for l in per.splitlines() if l.startswith(who))
        assert line.split()[1] == str(n)
        if who != "lead":
            assert next(l for l in quality.splitlines() if l.startswith(who)).split()[1] == str(n)
    assert "1 reviewer decisions" in out


def test_status_and_export_escape_terminal_and_bidi_characters(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    with LabelStore(store) as st:
        st.add_label("evil\x1b[2J", 1, "m\u202eallory")
        st.add_label("-12", 2, "=cmd()")
        st.claim("own\x1b]0;x\x07er", ["z"], 1)
    assert main(["status", str(store)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "m\\u202eallory" in out and "own\\x1b]0;x\\x07er" in out
    csv = tmp_path / "out.csv"
    assert main(["export", str(store), "-o", str(csv)]) == 0
    df = pd.read_csv(csv, dtype=str)
    assert set(df["sample_id"]) == {"evil\\x1b[2J", "-12"}  # a number is not a formula: no quote
    assert set(df["annotator"]) == {"m\\u202eallory", "'=cmd()"}
    assert printable("tab\tand\nnewline") == "tab\tand\nnewline"
    frame = spreadsheet_safe(pd.DataFrame({"x": ["+1.5", "+SUM(A1)", "@x", "-", "3"]}))
    assert frame["x"].tolist() == ["+1.5", "'+SUM(A1)", "'@x", "'-", "3"]


def test_users_add_before_the_first_serve_and_an_empty_list(tmp_path, capsys):
    store = tmp_path / "data" / "labels.sqlite"  # data/ does not exist yet (the README's order)
    assert main(["users", "list", "--store", str(store)]) == 0
    assert "no users for" in capsys.readouterr().err
    assert main(["users", "add", "dr_ana", "--store", str(store)]) == 0
    assert "?key=" in capsys.readouterr().out
    assert main(["users", "list", "--store", str(store)]) == 0
    assert capsys.readouterr().out.split() == ["dr_ana", "annotator"]


def test_a_text_cell_naming_a_server_file_is_shown_as_text(tmp_path):
    secret = tmp_path / "secret.png"
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(secret)
    html = sample_html(str(secret))
    assert "<img" not in html and "secret.png" in html
    assert "<img" in sample_html(secret)  # an image pool's items are paths: shown as images


def test_fifos_in_an_image_folder_are_skipped_and_wide_csvs_refused(tmp_path):
    folder = tmp_path / "imgs"
    for cls in ("a", "b"):
        (folder / cls).mkdir(parents=True)
        Image.fromarray(np.full((8, 8), 10 if cls == "a" else 200, dtype=np.uint8)).save(folder / cls / "x.png")
    os.mkfifo(folder / "a" / "pipe.png")  # reading it would block for ever
    data = load(AppConfig(dataset=str(folder)))
    assert data.pool.n == 2
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(10_001)) + "\n" + ",".join("1" * 10_001) + "\n")
    with pytest.raises(ConfigError, match="10,001 columns; at most 10,000 are served"):
        load(AppConfig(dataset=str(wide)))
    long_line = tmp_path / "long.csv"
    long_line.write_bytes(b"x" * (2 << 20))
    with pytest.raises(ConfigError, match="header line is longer than 1 MB"):
        load(AppConfig(dataset=str(long_line)))
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(ConfigError, match="not a regular file"):
        load(AppConfig(dataset=str(tmp_path / "pipe.csv")))
