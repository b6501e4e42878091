"""Semantic features built in, offline (issue 22, first part): embed, cache, search by meaning."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("wordllama")

from al_widgets.core import ActiveLearningSession, Pool  # noqa: E402
from al_widgets.core.data.embed import embed, nearest  # noqa: E402


def test_the_built_in_text_model_embeds_with_the_network_refused(tmp_path):
    code = textwrap.dedent(f"""
        import socket
        def refuse(*a, **k):
            raise OSError("network refused by the test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from al_widgets.core.data.embed import embed
        out = embed(["a cat on a mat", "stock prices fell"], cache_dir={str(tmp_path)!r})
        print(out.shape, out.dtype)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "(2, 256) float32" in r.stdout


def test_same_texts_same_rows_and_a_second_call_hits_the_cache(tmp_path, monkeypatch):
    texts = ["the goalkeeper saved a penalty", "rain is expected tomorrow", "the striker scored twice"]
    first = embed(texts, cache_dir=tmp_path)
    assert first.shape == (3, 256) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1, atol=1e-5)  # cosines are dot products
    assert len(list((tmp_path / "embeddings").glob("*.npy"))) == 1
    import al_widgets.core.data.embed as mod
    monkeypatch.setattr(mod, "_text_embedder", lambda items: (_ for _ in ()).throw(AssertionError("recomputed")))
    np.testing.assert_array_equal(embed(texts, cache_dir=tmp_path), first)  # from the cache


def test_a_callable_is_an_embedder_and_its_shape_is_checked(tmp_path):
    out = embed([[1, 0], [0, 2]], embedder=lambda xs: np.asarray(xs, dtype=float), cache_dir=None)
    np.testing.assert_allclose(out, [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="one row per item"):
        embed(["a", "b"], embedder=lambda xs: np.zeros((1, 3)), cache_dir=None)
    with pytest.raises(ValueError, match="unknown embedder"):
        embed(["a"], embedder="bert-huge", cache_dir=None)


def test_search_finds_a_topic_by_meaning_not_by_words(tmp_path):
    """A query word that appears in no document finds its topic."""
    docs = ["the striker scored a late goal", "the goalkeeper made a great save", "a penalty decided the match",
            "heavy rain and strong wind tonight", "sunny skies with a light breeze", "snow is forecast for monday",
            "the bank raised interest rates", "shares fell on the stock exchange", "inflation slowed last month"]
    topic = ["sport"] * 3 + ["weather"] * 3 + ["money"] * 3
    from sklearn.linear_model import LogisticRegression
    s = ActiveLearningSession(LogisticRegression(), Pool(np.eye(9), items=docs, classes=["sport", "weather", "money"]),
                              "random", store=None, background=False)
    s.finder.cache_dir = tmp_path
    for query, want in (("football", "sport"), ("umbrella", "weather"), ("economy", "money")):
        assert not any(query in d for d in docs)
        idx, sims = s.search(query, k=3)
        assert [topic[i] for i in idx].count(want) >= 2, (query, [docs[i] for i in idx])
        assert sims[0] >= sims[-1]
    more, _ = s.similar(0, k=2)  # more like "the striker scored a late goal"
    assert 0 not in more and all(topic[i] == "sport" for i in more)
    s.submit(1, "sport")
    assert 1 not in s.search("goalkeeper", k=3, unlabeled=True)[0]
    s.close()


def test_nearest_by_hand():
    m = np.array([[1, 0], [0.6, 0.8], [0, 1]], dtype=np.float32)
    idx, sims = nearest(m, np.array([1, 0]), 2)
    assert idx.tolist() == [0, 1] and sims.tolist() == pytest.approx([1.0, 0.6])
    assert nearest(m, np.array([1, 0]), 5, exclude=[0])[0].tolist() == [1, 2]


def _imbalanced_text_pool(seed):
    rng = np.random.default_rng(seed)
    words = {"sport": ["goal", "striker", "match", "keeper", "league", "coach", "penalty", "referee"],
             "weather": ["rain", "cloud", "storm", "sunny", "wind", "forecast", "snow", "temperature"],
             "finance": ["bank", "loan", "interest", "shares", "market", "inflation", "budget", "tax"]}
    filler = ["the", "today", "people", "said", "about", "city", "news", "week", "report", "new"]
    classes = rng.choice(["sport", "weather", "finance"], 600, p=[0.9, 0.05, 0.05])
    docs = [" ".join(rng.permutation(list(rng.choice(words[c], 2)) + list(rng.choice(filler, 4)))) for c in classes]
    return docs, classes


def labels_to_see_every_class(s, truth):
    seen, n = set(), 0
    while len(seen) < 3 and n < 200:
        item = s.next_item()
        s.submit(item.index, truth[item.index])
        seen.add(truth[item.index])
        n += 1
    return n


def test_the_first_labels_reach_every_class_of_an_imbalanced_text_pool(tmp_path):
    """Issue 22: class names matched to the pool by meaning: 90/5/5 topics, every class within 4 labels
    (a class name never appears in the documents); random sampling takes far longer."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    ours, rand = [], []
    for seed in range(3):
        docs, truth = _imbalanced_text_pool(seed)
        assert not any(c in d for d in docs for c in ("sport", "weather", "finance"))
        model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=500))
        s = ActiveLearningSession(model, Pool(np.array(docs, dtype=object), classes=["sport", "weather", "finance"]),
                                  "margin", store=None, background=False, random_state=seed)
        s.finder.cache_dir = tmp_path
        s.retrain()
        ours.append(labels_to_see_every_class(s, truth))
        s.close()
        r = ActiveLearningSession(model, Pool(np.array(docs, dtype=object), classes=["sport", "weather", "finance"]),
                                  "random", store=None, background=False, random_state=seed)
        r.finder = None  # random sampling, no class search
        r._backend.finder = None
        r.retrain()
        rand.append(labels_to_see_every_class(r, truth))
        r.close()
    assert max(ours) <= 4, ours
    assert np.mean(rand) > 2 * np.mean(ours), (ours, rand)


def test_the_search_panel_finds_by_meaning_opens_and_labels_the_results_in_bulk(tmp_path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from al_widgets.widgets import ALDashboard
    docs, truth = _imbalanced_text_pool(5)
    docs[3] = "<script>alert(1)</script> goal"  # text from the data stays text
    s = ActiveLearningSession(make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=500)),
                              Pool(np.array(docs, dtype=object), classes=["sport", "weather", "finance"]),
                              "margin", store=tmp_path / "s.sqlite", background=False, random_state=0)
    s.finder.cache_dir = tmp_path
    d = ALDashboard(s, umap=False, cache_dir=tmp_path / "cache")
    panel = d.search
    found = panel.search("umbrella <b>")  # a word in no document
    assert len(found) == 12 and sum(truth[i] == "weather" for i in found[:5]) >= 4
    assert "&lt;b&gt;" in panel.message.value and "<b>" not in panel.message.value.replace("<b>1", "")
    assert panel.bulk.selected == found and len(panel.open_buttons.children) == 12
    panel.open_buttons.children[0].click()  # open the best result in the labeling panel
    assert d.labeling.item.index == found[0]
    weather = [i for i in found if truth[i] == "weather"]
    panel.bulk.select(weather)
    panel.bulk.label_as.value = "weather"
    panel.bulk.button.click()
    panel.bulk.confirm_button.click()
    assert all(s.labels[i] == "weather" for i in weather)
    assert s.undo()[1] == "weather" and not any(i in s.labels for i in weather)  # one undo
    d.labeling.show_next()  # the sample on screen
    more = panel.more_like_current()
    assert more and d.labeling.item.index not in more
    d.detach()
    s.close()


def test_progress_is_reported_per_batch(monkeypatch, capsys):
    import al_widgets.core.data.embed as mod
    monkeypatch.setattr(mod, "BATCH", 2)
    seen = []
    embed(["a", "b", "c", "d", "e"], embedder=lambda xs: np.ones((len(xs), 2)), cache_dir=None,
          progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 5), (4, 5), (5, 5)]
    embed(["a", "b", "c"], embedder=lambda xs: np.ones((len(xs), 2)), cache_dir=None, progress=True)
    assert capsys.readouterr().err.splitlines() == ["embedding: 2/3", "embedding: 3/3"]


@pytest.mark.parametrize("strategy", ["auto", "focused_clue"])  # the app's default and the one it replaced
def test_the_first_labels_reach_every_class_of_an_imbalanced_numeric_pool(strategy):
    """Issue 24: a 90/5/5 pool of unnamed numeric classes, from no labels: with class coverage every
    class is seen within 15 labels on every one of 10 seeds (median 6.5 since coverage takes turns with
    the strategy, 5 when it took every place; measured before coverage: median 46 for focused CLUE and
    55 at random, 4 of 10 seeds not within 80)."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    def labels_to_see_all(strategy, seed, cap=80):
        X, y = make_classification(2000, n_features=10, n_informative=5, n_classes=3, weights=[.9, .05, .05],
                                   n_clusters_per_class=1, class_sep=1.5, random_state=seed)
        s = ActiveLearningSession(LogisticRegression(max_iter=1000), Pool(X, classes=[0, 1, 2]), strategy,
                                  background=False, batch_size=5, random_state=seed, audit=0)
        seen = set()
        try:
            for n in range(1, cap + 1):
                item = s.next_item()
                seen.add(int(y[item.index]))
                s.submit(item.index, int(y[item.index]))
                if len(seen) == 3:
                    return n
            return cap + 1
        finally:
            s.close()

    found = [labels_to_see_all(strategy, seed) for seed in range(10)]
    assert max(found) <= 15 and np.median(found) <= 7, found
    uniform = []  # the same pools drawn uniformly: labels until all three classes showed up
    for seed in range(10):
        _, y = make_classification(2000, n_features=10, n_informative=5, n_classes=3, weights=[.9, .05, .05],
                                   n_clusters_per_class=1, class_sep=1.5, random_state=seed)
        order = np.random.default_rng(seed).permutation(len(y))
        uniform.append(max(int(np.argmax(y[order] == c)) + 1 for c in range(3)))
    assert np.median(uniform) > 3 * np.median(found), (uniform, found)
