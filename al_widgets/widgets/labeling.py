"""Labeling panel: the current sample large, one button per class, skip, undo, status."""
from __future__ import annotations

import sqlite3
import time
from typing import Any

import ipywidgets as w

from .support.keys import SKIP_KEY, UNDO_KEY, class_keys, key_of
from ..core.store.label_store import AlreadyLabeled
from .support.dispatch import SessionView
from .keyboard import KeyboardShortcuts
from .render import Renderer, escape, sample_html
from .tags import SUBMIT_KEY, TagPicker

_PLAIN_STATUS = {"ok": "saved; the model has learned from the newest labels",
                 "busy": "saved; the model is learning from your labels…",
                 "warning": "showing varied samples until at least two classes are labeled"}
"""What a domain expert reads instead of metric names (errors are shown as they are)."""
_KIND_COLOUR = {"ok": "#1a7f37", "busy": "#9a6700", "warning": "#9a6700", "error": "#cf222e", "info": "#57606a"}


class LabelingPanel(w.VBox, SessionView):
    """Label the session's current sample; the next one appears at once, retraining runs behind.

    Parameters
    ----------
    session : ActiveLearningSession
    renderer : callable, optional
        ``renderer(item) -> html`` for custom sample display.
    size : int
        Sample image size in pixels.
    keyboard_scope : {"panel", "page"}
        Where key presses count: only with the focus in this panel (notebooks), or anywhere on
        the page outside text boxes (the Voila app).
    plain : bool
        For domain experts: no strategy names, scores or metric names, only what helps labeling.
    signed_in : bool
        The annotator's name comes from the sign-in: the name box is not shown.
    blind : bool
        Never show the model's guess.  Second opinions on overlap samples never show it anyway:
        agreement between annotators measures people, not how often they follow the model.
    claim_when_shown : bool
        Claim the first sample only once a page really shows the panel (the Voila app): a plain
        GET, a link preview or a crawler starts a kernel but holds no sample for anyone.  The sample
        claimed is the one shown (unless taken meanwhile).
    """

    def __init__(self, session: Any, renderer: Renderer | None = None, size: int = 200,
                 keyboard_scope: str = "panel", plain: bool = False, signed_in: bool = False,
                 claim_when_shown: bool = False, blind: bool = False, **kwargs: Any) -> None:
        self.blind = blind
        self.session, self.renderer, self.size = session, renderer, size
        self.plain = plain
        self.keyboard_scope = keyboard_scope
        self.key_map = class_keys(session.pool.classes)
        self.item = None
        self._shown_at = time.monotonic()
        self.sample = w.HTML(layout=w.Layout(min_height=f"{size}px"))
        self.info = w.HTML()
        self.multilabel = session.pool.task == "multilabel"
        self.tag_picker = TagPicker(session.pool.classes, self.key_map, self.label) if self.multilabel else None
        self.class_buttons = [] if self.multilabel else self._make_class_buttons()
        self.value = w.FloatText(description="value", layout=w.Layout(width="220px"))
        self.submit_value = w.Button(description="Submit value", button_style="primary")
        self.submit_value.on_click(lambda _b: self.label(self.value.value))
        self.skip_button = w.Button(description="Skip (s)", icon="forward")
        self.undo_button = w.Button(description="Undo (z)", icon="undo")
        self.skip_button.on_click(lambda _b: self.skip())
        self.undo_button.on_click(lambda _b: self.undo())
        # signed in: the name comes from the server and is shown, never a box a client could update
        self.annotator: w.Widget = (w.HTML(f"<small>signed in as <b>{escape(session.annotator)}</b></small>")
                                    if signed_in or session.signed_in else
                                    w.Text(value=session.annotator, description="annotator",
                                           layout=w.Layout(width="260px")))
        if isinstance(self.annotator, w.Text):
            self.annotator.observe(self._annotator_changed, "value")
        self.progress = w.IntProgress(min=0, max=max(session.budget or session.pool.n, 1), description="labeled")
        self.progress_text = w.HTML()
        self.status = w.HTML()
        self.keyboard = KeyboardShortcuts(shortcut_keys=self._shortcut_keys(), hint=self._hint(), scope=keyboard_scope)
        self.keyboard.on_key(self._on_key)
        answer = (w.HBox([self.value, self.submit_value]) if session.pool.task == "regression"
                  else self.tag_picker if self.multilabel
                  else w.HBox(self.class_buttons, layout=w.Layout(flex_flow="row wrap")))
        super().__init__([w.HTML("<b>Label this sample</b>"), self.sample, self.info, answer,
                          w.HBox([self.skip_button, self.undo_button]), self.annotator,
                          w.HBox([self.progress, self.progress_text]), self.status, self.keyboard], **kwargs)
        self.add_class("alw-labeling")
        # a label's next sample goes to the page before any other view's update (a big map's redraw
        # blocks the page's main thread; the person waits for the next sample, not for the map)
        self._listen(session, {"status": self._on_session_status, "retrained": self._on_retrained,
                               "current_changed": self._on_current_changed, "labeled": self._on_labeled,
                               "undone": self._on_count, "decided": self._on_count}, first=("labeled",))
        self._on_session_status(session.status, session.status_kind)
        if claim_when_shown:
            self.show(session.preview())  # what the page will show, claimed when it does
            self.keyboard.on_rendered(self._claim_shown)
        else:
            self.show_next()

    # ------------------------------------------------------------ building
    def _make_class_buttons(self) -> list[w.Button]:
        """One button per class; its key (from ``class_keys``, the same map the keys use) leads the text."""
        buttons = []
        for c in self.session.pool.classes or []:
            key = key_of(self.key_map, c)
            badge = f"[{key}] " if key is not None else ""
            tip = f"label as {c}" + (f" (key {key})" if key is not None else "")
            b = w.Button(description=f"{badge}{c}", tooltip=tip, layout=w.Layout(width="auto"))
            b.add_class("alw-class-button")
            b.on_click(lambda _b, c=c: self.label(c))
            buttons.append(b)
        return buttons

    def _shortcut_keys(self) -> list[str]:
        return [*self.key_map, SKIP_KEY, UNDO_KEY, *([SUBMIT_KEY] if self.multilabel else [])]

    def _hint(self) -> str:
        keys = list(self.key_map)
        if not keys:
            labels = ""
        elif self.multilabel:
            labels = f"the key in [ ] toggles a tag, {SUBMIT_KEY} submits, "
        elif all(str(c) == k for k, c in self.key_map.items()):
            labels = "the class name labels, "
        else:
            labels = "the key in [ ] labels, "
        where = "" if self.keyboard_scope == "page" else " (click the panel first)"
        return f"Keys{where}: {labels}{SKIP_KEY} skip, {UNDO_KEY} undo"

    # ------------------------------------------------------------ actions
    def label(self, label: Any) -> None:
        """Submit ``label`` for the current sample and show the next one immediately."""
        if self.item is None:
            self._on_status("nothing to label right now", "warning")
            return
        seconds = time.monotonic() - self._shown_at
        index_labeled = self.item.index
        try:
            self.session.submit(index_labeled, label, seconds=round(seconds, 3))
        except AlreadyLabeled as exc:  # someone else was faster: say so, move on, overwrite nothing
            self._on_status(str(exc), "warning")
            self.show_next()
            return
        except (ValueError, IndexError) as exc:
            self._on_status(str(exc), "error")
            return
        except sqlite3.Error as exc:  # the label was NOT saved: say so, keep the sample on screen
            self._on_status(f"could not save the label ({exc}); please try again", "error")
            return
        if self.item is not None and self.item.index == index_labeled:
            self.show_next()  # at once, inside the click (the "labeled" event may run later)

    def skip(self) -> None:
        try:
            if self.item is not None:
                self.session.skip(self.item.index)
            self.show_next()
        except sqlite3.Error as exc:  # e.g. a full disk: the expert sees it, nothing is lost
            self._on_status(f"could not skip ({exc}); please try again", "error")

    def undo(self) -> None:
        try:
            undone = self.session.undo()
        except sqlite3.Error as exc:
            self._on_status(f"could not undo ({exc}); please try again", "error")
            return
        if undone is None:
            self._on_status("nothing to undo", "info")
            return
        self.show(self.session.focus(undone[0]))
        if self.tag_picker is not None and isinstance(undone[1], (list, tuple)):
            for tag in undone[1]:  # the tags given before: fix one and submit again
                if tag in self.tag_picker.tags:
                    self.tag_picker.toggle(tag)

    def _on_key(self, key: str) -> None:
        if key == SKIP_KEY:
            self.skip()
        elif key == UNDO_KEY:
            self.undo()
        elif self.tag_picker is not None and key == SUBMIT_KEY:
            self.tag_picker.submit()
        elif self.tag_picker is not None and key in self.key_map:
            self.tag_picker.toggle(self.key_map[key])
        elif key in self.key_map:
            self.label(self.key_map[key])

    def _annotator_changed(self, change: dict) -> None:
        name = change["new"].strip()
        if name:
            self.session.annotator = name

    # ------------------------------------------------------------ display
    def _claim_shown(self) -> None:
        """The page shows the previewed sample: claim that very one, so the sample a person looks at
        never changes under their eyes (a key pressed then would label another); the next in line
        only when it was taken or labeled meanwhile."""
        item = self.item
        claimed = None
        if item is not None:
            try:
                claimed = self.session.focus(item.index)
            except ValueError:  # labeled meanwhile
                claimed = None
        if claimed is None:
            self.show_next()
        elif claimed.index == item.index:
            self.item = claimed  # the same sample, now held for this page

    def show_next(self) -> None:
        """Ask the queue for the next item and display it."""
        self.show(self.session.next_item())

    def show(self, item: Any) -> None:
        self.item = item
        self._shown_at = time.monotonic()
        if self.tag_picker is not None:
            self.tag_picker.clear()  # a new sample starts from no tag chosen
        if item is None:
            self.sample.value = "<i>Nothing left to label in the queue.</i>"
            self.info.value = ""
        else:
            self.sample.value = sample_html(self.session.pool.item(item.index), self.renderer, self.size)
            self.info.value = self._info_html(item)
        self._on_count()

    def _info_html(self, item: Any) -> str:
        res = self.session.result_
        parts = [f"id <code>{escape(item.sample_id)}</code>"]
        if self.plain:
            pass  # strategy names and scores are noise to a domain expert
        elif item.strategy == "cold start":
            parts.append("cold start: a representative sample")
        elif item.score == item.score:
            parts.append(f"{escape(item.strategy)} score {item.score:.3f}")
        if res is not None and res.prediction is not None and not self.blind and item.picked_by != "overlap":
            pred = res.prediction[item.index]
            conf = "" if res.confidence is None else f" ({res.confidence[item.index]:.0%})"
            parts.append(f"model says <b>{escape(pred)}</b>{conf}")
        return " · ".join(parts)

    def _on_count(self, **_: Any) -> None:
        p = self.session.progress()
        self.progress.value = min(p["labeled"], self.progress.max)
        budget = f" / {p['budget']}" if p["budget"] else ""
        self.progress_text.value = f"{p['labeled']}{budget} labeled · {p['skipped']} skipped"

    def _on_session_status(self, text: str, kind: str = "info") -> None:
        """The session's status line; a domain expert reads it without metric names."""
        self._on_status(_PLAIN_STATUS.get(kind, text) if self.plain else text, kind)

    def _on_status(self, text: str, kind: str = "info") -> None:
        colour = _KIND_COLOUR.get(kind, "#57606a")
        self.status.value = f'<span class="alw-status alw-{kind}" style="color:{colour}">{escape(text)}</span>'

    def _on_labeled(self, index: int, indices: Any = (), **_: Any) -> None:
        """Labeled by code, another view or a bulk action while on screen here: move on, never refuse."""
        self._on_count()
        if self.item is not None and (self.item.index == index or self.item.index in indices):
            self.show_next()

    def _on_retrained(self, result: Any) -> None:
        self._on_count()  # labels merged from the store (teammates, reviewers) change the count too
        current = self.session.queue.current
        if self.item is not None and current is not None and current.index == self.item.index:
            self.item = current  # the new ranking's score and strategy name
        if self.item is not None:
            self.info.value = self._info_html(self.item)
        elif not self.session.busy:
            self.show_next()

    def _on_current_changed(self, item: Any) -> None:
        if self.item is None or item.index != self.item.index:
            self.show(item)
