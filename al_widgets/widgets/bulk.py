"""Bulk labeling from a lasso or box selection on the map: see the samples, choose the class, confirm."""
from __future__ import annotations

from collections import Counter
from typing import Any

import ipywidgets as w

from .render import Renderer, escape, sample_html
from .tags import shown

PREVIEW = 12
"""How many selected samples are shown as thumbnails or text excerpts."""


class BulkLabeler(w.VBox):
    """The selection's samples (with the model's predictions), a class to choose and a two-step confirm.

    Parameters
    ----------
    session : ActiveLearningSession
    renderer : callable, optional
    limit : int
        Largest selection labeled in one action (checked here, on the server side, whatever
        the browser sent).
    """

    def __init__(self, session: Any, renderer: Renderer | None = None, limit: int = 500, blind: bool = False,
                 **kwargs: Any) -> None:
        self.session, self.renderer, self.limit, self.blind = session, renderer, limit, blind
        self.selected: list[int] = []
        self.labeled_selected: list[int] = []  # tags: samples of the selection labeled already (retag them)
        self._pending = "label"  # what Confirm does: "label" the unlabeled, "add" or "remove" tags
        self.on_done: Any = None
        """Called after a bulk label was written (the map clears its lasso box and dimming)."""
        self._written: set[int] = set()
        self.info = w.HTML()
        self.preview = w.HBox(layout=w.Layout(flex_flow="row wrap", max_height="260px", overflow="auto"))
        # no class chosen by default: a bulk label is never written under a class nobody picked
        self.label_as = w.Dropdown(options=[("choose a class…", None)] +
                                   [(str(c), c) for c in session.pool.classes or []],
                                   index=0, description="label as", layout=w.Layout(width="230px"))
        self.label_as.observe(lambda _c: self._update_button(), "value")
        self.multilabel = session.pool.task == "multilabel"
        # tags: toggles, or "none of these" on purpose; nothing chosen writes nothing
        self.tag_toggles = [w.ToggleButton(description=str(c), layout=w.Layout(width="auto"))
                            for c in (session.pool.classes or [])] if self.multilabel else []
        self.no_tags = w.ToggleButton(description="none of these", layout=w.Layout(width="auto"))
        for t in [*self.tag_toggles, self.no_tags]:
            t.add_class("alw-bulk-tag")
            t.observe(self._tags_changed, "value")
        self.button = w.Button(description="Label selected", button_style="warning", disabled=True)
        self.button.on_click(lambda _b: self.ask_confirmation())
        # tags: the chosen tags added to, or removed from, the selection's labeled samples
        self.add_button = w.Button(description="Add tags", disabled=True, layout=w.Layout(width="auto"))
        self.remove_button = w.Button(description="Remove tags", disabled=True, layout=w.Layout(width="auto"))
        self.add_button.on_click(lambda _b: self.ask_confirmation("add"))
        self.remove_button.on_click(lambda _b: self.ask_confirmation("remove"))
        self.confirm_text = w.HTML()
        self.confirm_button = w.Button(description="Confirm", button_style="danger")
        self.cancel_button = w.Button(description="Cancel")
        self.confirm_button.on_click(lambda _b: self.label_selection() if self._pending == "label"
                                     else self.retag_selection())
        self.cancel_button.on_click(lambda _b: self.hide_confirmation())
        self.confirm_box = w.HBox([self.confirm_text, self.confirm_button, self.cancel_button],
                                  layout=w.Layout(display="none"))
        chooser = (w.HBox([w.HTML("tags "), *self.tag_toggles, self.no_tags, self.button, self.add_button,
                           self.remove_button], layout=w.Layout(flex_flow="row wrap")) if self.multilabel
                   else w.HBox([self.label_as, self.button]))
        super().__init__([self.info, self.preview, chooser, self.confirm_box], **kwargs)
        self.add_class("alw-bulk")

    def select(self, indices: Any) -> list[int]:
        """Validate a selection (pool indices from the browser) and show it; returns what was kept."""
        n, labeled = self.session.pool.n, self.session.labels
        kept, seen, retag = [], set(), []
        for i in indices:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n or i in seen:
                continue  # outside the pool or repeated
            seen.add(i)
            if i in labeled:  # never labeled again in bulk; for tags (not the data file's), tags may change
                if self.session.pool.labels[i] is None:
                    retag.append(i)
            else:
                kept.append(i)
        self.selected = kept
        self.labeled_selected = retag if self.multilabel else []
        self.hide_confirmation()
        self._show()
        return kept

    def _show(self) -> None:
        n = len(self.selected)
        res = None if self.blind else self.session.result_
        if not n and not self.labeled_selected:
            self.info.value, self.preview.children = "", ()
            self._update_button()
            return
        text = f"<b>{n}</b> unlabeled point{'s' if n != 1 else ''} selected"
        if self.labeled_selected:
            text += f" and <b>{len(self.labeled_selected)}</b> labeled (their tags can be added or removed)"
        if res is not None and res.prediction is not None and self.session.pool.classes is not None:
            counts = Counter(str(res.prediction[i]) for i in self.selected)
            text += "; the model predicts " + ", ".join(f"{escape(c)} ×{k}" for c, k in counts.most_common())
        if n > self.limit:
            text += f" <b style='color:#cf222e'>(more than {self.limit}: select fewer to label in bulk)</b>"
        self.info.value = text
        self.preview.children = [self._card(i) for i in (self.selected + self.labeled_selected)[:PREVIEW]]
        self._update_button()

    def _card(self, index: int) -> w.HTML:
        res = None if self.blind else self.session.result_
        pred = "" if res is None or res.prediction is None else f"<br><small>model: {escape(res.prediction[index])}</small>"
        return w.HTML(f"<div style='width:96px;overflow:hidden'>{sample_html(self.session.pool.item(index), self.renderer, 64)}"
                      f"{pred}</div>")

    def chosen(self) -> Any:
        """The label the button writes: the chosen class; for tags the chosen set (``[]`` only with
        "none of these" toggled); ``None`` while nothing is chosen."""
        if not self.multilabel:
            return self.label_as.value
        tags = [c for c, t in zip(self.session.pool.classes, self.tag_toggles) if t.value]
        return tags if tags or self.no_tags.value else None

    def _tags_changed(self, change: dict) -> None:
        if change["new"] and change["owner"] is self.no_tags:  # "none of these" and a tag exclude each other
            for t in self.tag_toggles:
                t.value = False
        elif change["new"]:
            self.no_tags.value = False
        self._update_button()

    def _update_button(self) -> None:
        n = len(self.selected)
        self.button.disabled = not n or n > self.limit or self.chosen() is None
        self.button.description = f"Label {n} points" if n else "Label selected"
        m, tags = len(self.labeled_selected), self.chosen()
        for b, verb in ((self.add_button, "Add tags to"), (self.remove_button, "Remove tags from")):
            b.disabled = not m or m > self.limit or not tags
            b.description = f"{verb} {m} labeled" if m else verb.split()[0] + " tags"

    def ask_confirmation(self, action: str = "label") -> None:
        """Step 1: say how many points get which label (or which tags added or removed), and wait for
        Confirm."""
        button = {"label": self.button, "add": self.add_button, "remove": self.remove_button}[action]
        if button.disabled:
            return
        self._pending = action
        what = escape(self._shown(self.chosen()))
        if action == "label":
            n = len(self.selected)
            self.confirm_text.value = f"Label <b>{n}</b> point{'s' if n != 1 else ''} as <b>{what}</b>?"
        else:
            m = len(self.labeled_selected)
            verb = "Add" if action == "add" else "Remove"
            self.confirm_text.value = (f"{verb} <b>{what}</b> {'to' if action == 'add' else 'from'} the tags of "
                                       f"<b>{m}</b> labeled point{'s' if m != 1 else ''} (only your own labels)?")
        self.confirm_box.layout.display = "flex"

    def retag_selection(self) -> int:
        """Step 2 of "Add tags" / "Remove tags": the chosen tags added to (removed from) the selection's
        labeled samples, in one transaction and one undo.  Only samples labeled by this person alone
        change; the others are skipped and named.  Returns how many changed."""
        self.hide_confirmation()
        tags, action = self.chosen(), self._pending
        if not self.labeled_selected or not tags or len(self.labeled_selected) > self.limit:
            return 0
        change = {"add": tags} if action == "add" else {"remove": tags}
        result = self.session.retag_many(self.labeled_selected, **change)
        self._written = {self.session.pool.index_of(sid) for sid in result.written}
        verb = "added" if action == "add" else "removed"
        self.selected, self.labeled_selected = [], []
        self._show()
        summary = result.summary().replace("labeled ", f"{verb} {self._shown(tags)}: ", 1)
        self.info.value = escape(summary) if result.written or result.skipped else \
            escape(f"nothing to change: no labeled point {'lacked' if action == 'add' else 'had'} those tags")
        self._reset_choice()
        if self.on_done is not None:
            self.on_done()
        return len(result.written)

    def hide_confirmation(self) -> None:
        self.confirm_box.layout.display = "none"
        self.confirm_text.value = ""

    def label_selection(self) -> int:
        """Step 2: label the selected points with the chosen class (one action: one undo takes it back).

        The store applies every rule of a single label: samples labeled meanwhile, in conflict or
        on another annotator's screen are skipped, and the message says which.  Returns how many
        were labeled.
        """
        self.hide_confirmation()
        cls = self.chosen()
        if not self.selected or cls is None or len(self.selected) > self.limit:
            return 0
        result = self.session.submit_many(self.selected, cls)
        self._written = {self.session.pool.index_of(sid) for sid in result.written}
        self.selected, self.labeled_selected = [], []
        self._show()
        self.info.value = escape(result.summary(self._shown(cls)))
        self._reset_choice()
        if self.on_done is not None:
            self.on_done()
        return len(result.written)

    def _shown(self, label: Any) -> str:
        return shown(label, empty="none of these (no tag)")

    def _reset_choice(self) -> None:
        self.label_as.index = 0  # back to "choose a class…"
        for t in [*self.tag_toggles, self.no_tags]:
            t.value = False

    def forget(self, index: int) -> None:
        """A label was undone: a message about the bulk label it belonged to is no longer true."""
        if index in self._written:
            self._written.clear()
            self.info.value = ""
