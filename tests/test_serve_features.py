"""`serve` learns from meaning (issue 22): text on the built-in embedding, images on built-in features
or on the user's own embedder, TF-IDF and thumbnails on request; the label store follows the data."""
import textwrap

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw

pytest.importorskip("wordllama")

from al_widgets.app import AppConfig, ConfigError, load  # noqa: E402
from al_widgets.cli import main  # noqa: E402
from al_widgets.core import LabelStore  # noqa: E402
from al_widgets.core.data.image_features import features_of, thumbnail_of  # noqa: E402

DOCS = ["the striker scored a late goal", "heavy rain and strong wind tonight", "the bank raised interest rates",
        "the goalkeeper made a great save", "sunny skies with a light breeze", "shares fell on the stock exchange"]


@pytest.fixture
def news(tmp_path):
    path = tmp_path / "news.csv"
    pd.DataFrame({"id": [f"n{i}" for i in range(6)], "text": DOCS,
                  "topic": ["sport", "weather", "money", None, None, None]}).to_csv(path, index=False)
    return path


def test_text_is_served_on_the_built_in_embedding_and_check_names_it(news, tmp_path, capsys):
    cfg = AppConfig(dataset=str(news), text_column="text", label_column="topic", id_column="id",
                    cache_dir=str(tmp_path / "cache"))
    data = load(cfg)
    assert data.pool.X.shape == (6, 256) and data.pool.X.dtype == np.float32
    assert data.pool.item(0) == DOCS[0]  # people see the text, the model the embedding
    assert "WordLlama" in data.features
    assert main(["serve", str(news), "--text-column", "text", "--label-column", "topic", "--check"]) == 0
    out = capsys.readouterr().out
    assert "features: text embedding WordLlama l2_supercat_256 (256-d)" in out and "trained on 3 labels" in out
    tfidf = load(AppConfig(**{**cfg.__dict__, "embedder": "tfidf"}))
    assert tfidf.pool.X.dtype == object and "TF-IDF" in tfidf.features
    # a store belongs to the texts: changing the embedder keeps it (no --force needed)
    store = LabelStore(tmp_path / "labels.sqlite")
    store.bind(tfidf.pool.identity(), tfidf.pool.name, tfidf.pool.classes)
    store.bind(data.pool.identity(), data.pool.name, data.pool.classes)  # no mismatch raised
    other = pd.read_csv(news).assign(text=lambda d: d["text"] + " indeed")
    other.to_csv(tmp_path / "other.csv", index=False)
    changed = load(AppConfig(**{**cfg.__dict__, "dataset": str(tmp_path / "other.csv")}))
    with pytest.raises(ValueError):
        store.bind(changed.pool.identity(), changed.pool.name, changed.pool.classes)  # other texts: refused
    store.close()


def _shapes(folder, n, seed=0):
    """Circles and squares of random colour, size and place on random backgrounds."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        cls = ("circle", "square")[i % 2]
        im = Image.new("RGB", (64, 64), tuple(int(v) for v in rng.integers(0, 256, 3)))
        r = rng.uniform(8, 20)
        cx, cy = rng.uniform(r + 1, 63 - r, 2)
        box = [cx - r, cy - r, cx + r, cy + r]
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (ImageDraw.Draw(im).ellipse if cls == "circle" else ImageDraw.Draw(im).rectangle)(box, fill=fill)
        sub = folder / cls if i < 4 else folder
        sub.mkdir(parents=True, exist_ok=True)
        im.save(sub / f"{cls}{i}.png")
    return folder


def test_an_image_embedder_given_as_module_function_is_used_by_serve(tmp_path, monkeypatch, capsys):
    folder = _shapes(tmp_path / "imgs", 10)
    (tmp_path / "my_embedder.py").write_text(textwrap.dedent("""
        import numpy as np
        from PIL import Image
        CALLS = []
        def embed(paths):
            CALLS.append(list(paths))
            return np.array([[np.asarray(Image.open(p).convert("L"), dtype=float).mean(), len(p), 1.0]
                             for p in paths])
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = AppConfig(dataset=str(folder), embedder="my_embedder:embed", cache_dir=str(tmp_path / "cache"))
    data = load(cfg)
    import my_embedder
    assert len(my_embedder.CALLS) == 1 and sorted(my_embedder.CALLS[0]) == sorted(
        str(folder / i) for i in data.pool.ids)
    assert data.pool.X.shape == (10, 3)
    np.testing.assert_allclose(np.linalg.norm(data.pool.X, axis=1), 1, atol=1e-5)  # rows normalized
    assert data.features == "image embedding my_embedder:embed (3-d)"
    assert main(["serve", str(folder), "--embedder", "my_embedder:embed", "--check",
                 "--store", str(tmp_path / "s.sqlite")]) == 0
    assert "features: image embedding my_embedder:embed (3-d)" in capsys.readouterr().out
    calls = len(my_embedder.CALLS)
    load(cfg)  # the second time from the cache
    assert len(my_embedder.CALLS) == calls
    first = sorted(folder.rglob("*.png"))[0]
    Image.new("RGB", (64, 64), (1, 2, 3)).save(first)  # a changed image is embedded again
    load(cfg)
    assert len(my_embedder.CALLS) == calls + 1
    # the store belongs to the images: built-in features or the user's, the same store opens
    again = load(cfg)
    assert load(AppConfig(dataset=str(folder))).pool.identity() == again.pool.identity()


@pytest.mark.parametrize("embedder, message", [
    ("no_such_module_here:embed", "cannot import 'no_such_module_here'"),
    ("json:no_such_function", "'json' has no 'no_such_function'"),
    ("sentence-transformers:/nowhere/model", "sentence-transformers"),
    ("thumbnails", "for image folders"),
])
def test_a_bad_embedder_is_named_in_one_line(news, embedder, message):
    with pytest.raises(ConfigError, match=message):
        load(AppConfig(dataset=str(news), text_column="text", label_column="topic", embedder=embedder))


def test_built_in_image_features_tell_shapes_apart_where_thumbnails_cannot():
    """Four shapes of random colour, size and place: the built-in features separate them (a linear
    model on 100 labels), grey thumbnails barely beat chance (measured: 0.59 against 0.28)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    rng = np.random.default_rng(0)
    images, y = [], []
    for i in range(600):
        c = i % 4
        im = Image.new("RGB", (96, 96), tuple(int(v) for v in rng.integers(0, 256, 3)))
        d, r = ImageDraw.Draw(im), rng.uniform(12, 30)
        cx, cy = rng.uniform(r + 2, 94 - r, 2)
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        if c == 0:
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        elif c == 1:
            d.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fill)
        elif c == 2:
            d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
        else:
            w = r / 3
            d.rectangle([cx - r, cy - w, cx + r, cy + w], fill=fill)
            d.rectangle([cx - w, cy - r, cx + w, cy + r], fill=fill)
        images.append(im)
        y.append(c)
    y = np.array(y)
    scores = {}
    for name, describe in (("builtin", features_of), ("thumbnails", thumbnail_of)):
        X = np.array([describe(im) for im in images])
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X[:100], y[:100])
        scores[name] = model.score(X[300:], y[300:])
    assert scores["builtin"] > scores["thumbnails"] + 0.15, scores
    assert scores["thumbnails"] < 0.4  # near chance (0.25): the task needs more than grey pixels


def test_the_map_of_a_served_text_pool_is_laid_out_on_the_embedding(news, tmp_path):
    from al_widgets.app import build_session
    from al_widgets.widgets.map import UncertaintyMap
    data = load(AppConfig(dataset=str(news), text_column="text", label_column="topic", cache_dir=str(tmp_path)))
    session = build_session(AppConfig(dataset=str(news), text_column="text", label_column="topic"), data,
                            store=LabelStore(None), background=False)
    try:
        m = UncertaintyMap(session, umap=False, cache_dir=tmp_path)
        assert np.asarray(m.embedding.features).shape == (6, 256)  # the map (PCA now, UMAP later) reads meaning
        np.testing.assert_array_equal(m.embedding.features, data.pool.X)
    finally:
        session.close()
