"""Multi-label views headless: tag toggles and their keys, Enter submits exactly the set shown, undo
brings the set back, bulk tagging in one undo, the map by a tag's probability, curves of F1, review
of conflicting sets."""
import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from al_widgets import ActiveLearningSession
from al_widgets.core import Pool
from al_widgets.widgets.bulk import BulkLabeler
from al_widgets.widgets.labeling import LabelingPanel

TAGS = ["billing", "urgent", "spam"]


@pytest.fixture
def session(tmp_path):
    X, _ = make_multilabel_classification(n_samples=120, n_features=5, n_classes=3, random_state=0)
    s = ActiveLearningSession(OneVsRestClassifier(LogisticRegression(max_iter=300)),
                              Pool(X, classes=TAGS, task="multilabel"), store=tmp_path / "s.sqlite",
                              background=False)
    yield s
    s.close()


def test_keys_toggle_tags_enter_submits_the_set_the_button_shows(session):
    panel = LabelingPanel(session)
    picker = panel.tag_picker
    assert [t.description for t in picker.toggles] == ["[1] billing", "[2] urgent", "[3] spam"]
    assert "toggles a tag" in panel.keyboard.hint and "Enter submits" in panel.keyboard.hint
    first = panel.item.index
    panel.keyboard.press("1")
    panel.keyboard.press("3")
    panel.keyboard.press("1")  # off again
    panel.keyboard.press("2")
    assert picker.submit_button.description == "Submit (Enter): urgent, spam"
    panel.keyboard.press("Enter")
    assert session.labels[first] == ("urgent", "spam")
    assert panel.item.index != first and picker.chosen() == []  # the next sample starts from nothing
    second = panel.item.index
    assert picker.submit_button.description == "Submit (Enter): none of these"
    panel.keyboard.press("Enter")  # the empty set is an answer
    assert session.labels[second] == ()


def test_undo_brings_the_sample_back_with_its_tags_chosen(session):
    panel = LabelingPanel(session)
    first = panel.item.index
    panel.keyboard.press("1")
    panel.keyboard.press("2")
    panel.keyboard.press("Enter")
    panel.keyboard.press("z")
    assert panel.item.index == first and first not in session.labels
    assert panel.tag_picker.chosen() == ["billing", "urgent"]
    panel.keyboard.press("2")
    panel.keyboard.press("Enter")
    assert session.labels[first] == ("billing",)


def test_bulk_tags_a_selection_in_one_transaction_and_one_undo(session):
    bulk = BulkLabeler(session)
    assert bulk.multilabel and [t.description for t in bulk.tag_toggles] == TAGS
    chosen = bulk.select([3, 4, 5, 6])
    assert chosen == [3, 4, 5, 6] and bulk.button.disabled  # nothing chosen: nothing to write
    bulk.tag_toggles[0].value = True
    bulk.tag_toggles[2].value = True
    assert not bulk.button.disabled
    bulk.ask_confirmation()
    assert "billing, spam" in bulk.confirm_text.value
    assert bulk.label_selection() == 4
    assert {i: session.labels[i] for i in chosen} == {i: ("billing", "spam") for i in chosen}
    session.undo()  # the whole batch
    assert not set(chosen) & set(session.labels)
    bulk.select([7, 8])
    bulk.no_tags.value = True  # "none of these" on purpose
    assert not bulk.button.disabled and bulk.chosen() == []
    bulk.tag_toggles[1].value = True  # a tag un-chooses "none of these"
    assert not bulk.no_tags.value and bulk.chosen() == ["urgent"]


def test_the_map_colours_by_a_tags_probability_and_curves_show_f1(session):
    from al_widgets.widgets.curves import LearningCurves
    from al_widgets.widgets.map import UncertaintyMap
    X, Y = make_multilabel_classification(n_samples=120, n_features=5, n_classes=3, random_state=0)
    for i in range(30):
        session.submit(i, Y[i])
    res = session.retrain()
    m = UncertaintyMap(session, umap=False)
    assert m.color_by.options == ("uncertainty", "tag: billing", "tag: urgent", "tag: spam")
    m.color_by.value = "tag: urgent"
    np.testing.assert_allclose(np.asarray(m.figure.data[0].marker.color, dtype=float), res.tag_proba[:, 1],
                               rtol=1e-6)
    assert (m.figure.data[0].marker.cmin, m.figure.data[0].marker.cmax) == (0, 1)
    assert UncertaintyMap(session, umap=False, blind=True).color_by.options == ("uncertainty",)
    curves = LearningCurves(session)
    assert curves.metric == "progressive_f1_micro"
    assert "F1" in curves.figure.data[-2].name  # the audit estimate, named for sets
    xs, ys = curves.series()
    drawn = [y for y in ys if y is not None and y == y]
    assert xs and drawn and all(0 <= y <= 1 for y in drawn)


def test_review_offers_each_set_the_annotators_gave_and_decides_a_set(session):
    from al_widgets.widgets.review import ReviewPanel
    store = session.store
    sid = session.pool.ids[10]
    store.add_labels([(sid, ["billing"])], "ana", overlap={sid: 2})
    store.add_labels([(sid, ["billing", "urgent"])], "ben", overlap={sid: 2})
    session.book.merge()
    panel = ReviewPanel(session)
    assert panel.current["index"] == 10
    assert [b.description for b in panel.class_buttons] == ["decide: billing", "decide: billing, urgent"]
    assert "ana: <b>billing</b>; ben: <b>billing, urgent</b>" in panel.detail.value
    panel.tag_picker.toggle("spam")
    assert panel.tag_picker.submit_button.description == "decide: spam"
    panel.class_buttons[1].click()
    assert session.labels[10] == ("billing", "urgent")
    assert "decided" in panel.status.value and "billing, urgent" in panel.status.value
