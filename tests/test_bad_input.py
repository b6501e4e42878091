"""Bad input table: every case gives a one-line error naming the problem, or a correct result."""
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from al_widgets.cli import main
from al_widgets.core import Pool

NUM = "a,b,y\n1,2,p\n3,4,n\n5,6,\n"


def _write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


CSV_CASES = [
    # (id, file content, extra args, expected exit code, expected text in output)
    ("empty file", "", [], 2, "is empty"),
    ("header only", "a,b,y\n", ["--label-column", "y"], 2, "has no rows"),
    ("one numeric column, labels", NUM, ["--label-column", "y"], 0, "ok: 3 samples, classes ['n', 'p']"),
    ("no label column, classes given", "a,b\n1,2\n3,4\n", ["--classes", "x,y"], 0, "cold start"),
    ("one class only", "a,y\n1,p\n2,p\n", ["--label-column", "y"], 2, "need at least two classes"),
    ("classes flag with one class", NUM, ["--label-column", "y", "--classes", "p"], 2, "need at least two classes"),
    ("label not in classes", NUM, ["--label-column", "y", "--classes", "p,q"], 2, "values not in --classes"),
    ("unknown label column", NUM, ["--label-column", "z"], 2, "unknown label column 'z'"),
    ("unknown text column", NUM, ["--label-column", "y", "--text-column", "t"], 2, "unknown text column 't'"),
    ("unknown id column", NUM, ["--label-column", "y", "--id-column", "i"], 2, "unknown id column 'i'"),
    ("duplicate ids", "i,a,y\nx,1,p\nx,2,n\n", ["--label-column", "y", "--id-column", "i"], 2,
     "duplicate sample id 'x'"),
    ("NaN feature", "a,b,y\n1,,p\n3,4,n\n", ["--label-column", "y"], 2, "column 'b' has missing values"),
    ("inf feature", "a,b,y\n1,inf,p\n3,4,n\n", ["--label-column", "y"], 2, "NaN or inf"),
    ("text cell in numeric column", "a,b,y\n1,2,p\n3,x,n\n5,6,p\n7,8,n\n9,10,p\n11,12,n\n13,14,p\n15,16,n\n"
     "17,18,p\n19,20,n\n21,22,p\n", ["--label-column", "y"], 2, "column 'b' is numeric except row 1 ('x')"),
    ("no numeric columns", "t,y\nhello,p\nbye,n\n", ["--label-column", "y"], 2, "no numeric feature columns"),
    ("text data", "t,y\nhello,p\nbye,n\nsee you,\n", ["--label-column", "y", "--text-column", "t"], 0,
     "ok: 3 samples"),
    ("text with blank cells", "t,y\nhello,p\n,n\nsee you,\n", ["--label-column", "y", "--text-column", "t"], 0,
     "ok: 3 samples"),
    ("quoted commas and newlines", 't,y\n"a, b",p\n"multi\nline",n\n', ["--label-column", "y", "--text-column", "t"],
     0, "ok: 2 samples"),
    ("unbalanced quote", 't,y\n"open,p\nx,n\n', ["--label-column", "y", "--text-column", "t"], 2, ""),
    ("utf-8 with BOM", "\ufeffa,b,y\n1,2,p\n3,4,n\n", ["--label-column", "y"], 0, "ok: 2 samples"),
    ("latin-1 bytes", "t,y\ncaf\xe9,p\nna\xefve,n\n".encode("latin-1"),
     ["--label-column", "y", "--text-column", "t"], 0, "ok: 2 samples"),
    ("0/1 labels with blanks", "a,y\n1,0\n2,1\n3,\n", ["--label-column", "y"], 0, "classes [0, 1]; trained on 2"),
    ("0/1 labels, classes flag", "a,y\n1,0\n2,1\n3,\n", ["--label-column", "y", "--classes", "0,1"], 0,
     "classes ['0', '1']"),
    ("float labels 1.0/2.0", "a,y\n1,1.0\n2,2.0\n", ["--label-column", "y"], 0, "classes [1, 2]"),
    ("true/false labels", "a,y\n1,True\n2,False\n3,\n", ["--label-column", "y"], 0, "classes [False, True]"),
    ("mixed label types", "a,y\n1,1\n2,cat\n3,\n", ["--label-column", "y"], 0, "classes ['1', 'cat']"),
    ("labels with spaces", "a,y\n1, p\n2,n \n3,\n", ["--label-column", "y"], 0, "classes ['n', 'p']"),
    ("duplicate classes", NUM, ["--label-column", "y", "--classes", "p,p"], 2, "same class written twice"),
    ("duplicate column names", "a,a,y\n1,2,p\n3,4,n\n", ["--label-column", "y"], 0, "ok: 2 samples"),
    ("bad strategy", NUM, ["--label-column", "y", "--strategy", "best"], 2, "unknown strategy 'best'"),
    ("bad batch size", NUM, ["--label-column", "y", "--batch-size", "0"], 2, "--batch-size must be at least 1"),
    ("binary garbage", b"\x00\x01\x02\xff" * 50, [], 2, "binary content, not CSV text"),
    ("missing file", None, [], 2, "data not found"),
]


@pytest.mark.parametrize("case", CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_serve_check_csv(tmp_path, capsys, case):
    _, content, args, code, text = case
    path = tmp_path / "missing.csv" if content is None else _write(tmp_path, "data.csv", content)
    got = main(["serve", str(path), *args, "--check"])
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    assert got == code, out.err + out.out
    if code == 2:
        assert out.err.startswith("al-widgets: error: ") and len(out.err.strip().splitlines()) == 1
        assert text in out.err
    else:
        assert text in out.out


def _img(path, value, size=(12, 12)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(size, value, dtype=np.uint8)).save(path)


def test_image_folder_cases(tmp_path, capsys):
    root = tmp_path / "imgs"
    for cls, v in (("cat", 20), ("dog", 230)):
        for i in range(3):
            _img(root / cls / f"{i}.png", v + i)
    _img(root / "new.png", 128)
    (root / "._new.png").write_bytes(b"\x00\x05macOS resource fork")  # hidden: skipped, not fatal
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"junk")  # unreadable: skipped with a word
    outside = tmp_path / "secret.png"
    _img(outside, 1)
    (root / "link.png").symlink_to(outside)  # a link out of the folder is never read
    (tmp_path / "more_dogs").mkdir()
    _img(tmp_path / "more_dogs" / "d.png", 240)
    assert main(["serve", str(root), "--check"]) == 0
    out = capsys.readouterr()
    assert "ok: 7 samples, classes ['cat', 'dog']" in out.out
    assert "skipped 2 file(s)" in out.err and "broken.png" in out.err and "link.png" in out.err
    assert "secret" not in out.out


def test_image_decompression_bomb_is_skipped(tmp_path, capsys):
    from PIL import Image as I
    root = tmp_path / "imgs"
    for cls in ("a", "b"):
        _img(root / cls / "x.png", 50)
    old = I.MAX_IMAGE_PIXELS
    I.MAX_IMAGE_PIXELS = 50  # stands in for a gigapixel bomb: 12x12 is "too big" now
    try:
        _img(root / "bomb.png", 1, size=(12, 12))
        assert main(["serve", str(root), "--check"]) == 2  # every image "bombs": one clear line
    finally:
        I.MAX_IMAGE_PIXELS = old
    err = capsys.readouterr().err
    assert "no readable images" in err and "DecompressionBomb" in err and "Traceback" not in err


def test_empty_and_one_class_image_folders(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["serve", str(tmp_path / "empty"), "--check"]) == 2
    assert "no images" in capsys.readouterr().err
    _img(tmp_path / "one" / "cat" / "a.png", 3)
    assert main(["serve", str(tmp_path / "one"), "--check"]) == 2
    assert "need at least two classes" in capsys.readouterr().err


X4 = np.arange(8.0).reshape(4, 2)
POOL_CASES = [
    ("empty", dict(X=np.empty((0, 2))), "the pool is empty"),
    ("NaN in array", dict(X=np.array([[1.0, np.nan], [1, 2]]), classes=[0, 1]), "NaN or inf"),
    ("inf in array", dict(X=np.array([[1.0, np.inf], [1, 2]]), classes=[0, 1]), "NaN or inf"),
    ("NaN in object list", dict(X=["a", np.nan, "c"], classes=[0, 1]), "sample 1 is missing"),
    ("None in object array", dict(X=np.array(["a", None], dtype=object), classes=[0, 1]), "sample 1 is missing"),
    ("NaN in list of rows", dict(X=[[1.0, 2.0], [np.nan, 1.0]], classes=[0, 1]), "NaN or inf"),
    ("ids length", dict(X=X4, ids=["a"], classes=[0, 1]), "ids has 1 entries"),
    ("duplicate ids", dict(X=X4, ids=["a", "b", "a", "c"], classes=[0, 1]), "duplicate sample id 'a'"),
    ("labels length", dict(X=X4, labels=[0], classes=[0, 1]), "labels has 1 entries"),
    ("one class", dict(X=X4, classes=[0]), "at least two classes"),
    ("no classes, one label", dict(X=X4, labels=[0, None, None, None]), "classes must be given"),
    ("label outside classes", dict(X=X4, labels=[5, None, None, None], classes=[0, 1]), "unknown class 5"),
    ("bool label for int classes", dict(X=X4, labels=[True, None, None, None], classes=[0, 1]), "boolean"),
    ("duplicate class spellings", dict(X=X4, classes=[1, 1.0]), "same class written twice"),
    ("text and number classes", dict(X=X4, classes=[1, "1"]), "mix text and numbers"),
    ("bad task", dict(X=X4, task="clustering"), "task must be"),
    ("regression text label", dict(X=X4, labels=["x", None, None, None], task="regression"), "finite numbers"),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=[c[0] for c in POOL_CASES])
def test_pool_refuses_bad_input_with_one_line(case):
    _, kwargs, message = case
    with pytest.raises((ValueError, TypeError)) as info:
        Pool(**kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_pool_accepts_and_converts_good_input():
    p = Pool(X4, labels=[1.0, np.int64(0), None, float("nan")], classes=[0, 1])
    assert p.labels.tolist() == [1, 0, None, None] and [type(v) for v in p.labels[:2]] == [int, int]
    p = Pool(pd.DataFrame(X4, index=list("wxyz")), labels=["b", "a", None, None])
    assert p.ids == list("wxyz") and p.classes == ["a", "b"]
    assert Pool(["text one", "text two"], classes=["x", "y"]).n == 2


def test_mixed_class_types_are_refused_in_code():
    with pytest.raises(ValueError, match="classes mix text and numbers"):
        Pool(X4, classes=[1, "cat"])
