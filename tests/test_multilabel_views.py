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


def test_tags_are_added_to_and_removed_from_ones_own_labels_in_bulk_with_one_undo(session):
    sids = session.pool.ids
    session.submit(1, ["billing"])
    session.submit(2, ["billing", "spam"])
    session.store.add_labels([(sids[3], ["spam"])], "ben")  # another person's label
    session.book.merge()
    bulk = BulkLabeler(session)
    bulk.select([1, 2, 3, 4])
    assert bulk.selected == [4] and bulk.labeled_selected == [1, 2, 3]
    assert bulk.add_button.disabled and bulk.remove_button.disabled  # no tag chosen yet
    bulk.tag_toggles[1].value = True  # urgent
    assert bulk.add_button.description == "Add tags to 3 labeled"
    bulk.ask_confirmation("add")
    assert "Add <b>urgent</b> to the tags of <b>3</b> labeled points" in bulk.confirm_text.value
    assert bulk.retag_selection() == 2
    assert session.labels[1] == ("billing", "urgent") and session.labels[2] == ("billing", "urgent", "spam")
    assert session.labels[3] == ("spam",) and "labeled by ben" in bulk.info.value  # never someone else's
    assert 4 not in session.labels  # the unlabeled one: "Label 1 points" is its own action
    session.undo()  # one undo: both sets back
    assert session.labels[1] == ("billing",) and session.labels[2] == ("billing", "spam")
    bulk.select([1, 2])
    bulk.tag_toggles[0].value = True  # billing
    bulk.ask_confirmation("remove")
    assert bulk.retag_selection() == 2
    assert session.labels[1] == () and session.labels[2] == ("spam",)


def test_retagging_is_checked_in_the_kernel():
    """Whatever a page sends: tags by name, not both added and removed, tag pools only, and another
    annotator's or an overlap sample's label never changed in bulk."""
    X, _ = make_multilabel_classification(n_samples=60, n_features=4, n_classes=3, random_state=1)
    s = ActiveLearningSession(OneVsRestClassifier(LogisticRegression()), Pool(X, classes=TAGS, task="multilabel"),
                              background=False, annotator="ana", overlap=0.3, overlap_k=2)
    with pytest.raises(ValueError, match="unknown tag 'refund'"):
        s.retag_many([1], add=["refund"])
    with pytest.raises(ValueError, match="both added and removed"):
        s.retag_many([1], add=["spam"], remove=["spam"])
    free = [i for i in range(60) if not s.overlap_mask[i]]
    shared = [i for i in range(60) if s.overlap_mask[i]]
    assert shared
    s.submit(free[0], ["billing"])
    s.store.add_labels([(s.pool.ids[free[1]], ["billing"])], "ben")
    s.book.merge()
    result = s.retag_many([free[0], free[1], shared[0]], add=["spam"])
    assert s.labels[free[0]] == ("billing", "spam") and s.labels[free[1]] == ("billing",)
    assert list(result.skipped) == [s.pool.ids[free[1]]] and shared[0] not in s.labels
    given = ActiveLearningSession(OneVsRestClassifier(LogisticRegression()),
                                  Pool(X, classes=TAGS, task="multilabel", labels=[["billing"]] + [None] * 59),
                                  background=False, annotator="ana")
    assert given.retag_many([0], add=["spam"]).written == [] and given.labels[0] == ("billing",)  # the data's
    given.close()
    plain = ActiveLearningSession(LogisticRegression(), Pool(X, classes=[0, 1]), "margin", background=False)
    with pytest.raises(ValueError, match="multi-label pools"):
        plain.retag_many([1], add=[0])
    s.close()
    plain.close()
