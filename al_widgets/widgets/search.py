"""Search the pool by meaning, or "more like this", and label the results (in bulk, under the rules)."""
from __future__ import annotations

from typing import Any

import ipywidgets as w

from .bulk import BulkLabeler
from .render import Renderer, escape


class SearchPanel(w.VBox):
    """A search box and "more like the sample on screen"; the results are a selection to label.

    The results go to a :class:`BulkLabeler`: their samples and the model's predictions, a class to
    choose and a two-step confirm; the store applies every rule of a single label, and one Undo
    takes the whole action back.  *Open* on a result puts it in the labeling panel.

    Parameters
    ----------
    session : ActiveLearningSession
    renderer : callable, optional
    k : int
        Results per search.
    blind : bool
        Hide the model's guesses.
    """

    def __init__(self, session: Any, renderer: Renderer | None = None, k: int = 12, blind: bool = False,
                 **kwargs: Any) -> None:
        self.session, self.k = session, k
        self.query = w.Text(placeholder="search the pool by meaning, e.g. 'late delivery'",
                            layout=w.Layout(width="320px"), continuous_update=False)  # Enter or leaving the box
        self.search_button = w.Button(description="Search", icon="search")
        self.similar_button = w.Button(description="More like this sample", tooltip="samples like the one on screen")
        self.message = w.HTML()
        self.results: list[int] = []
        self.open_buttons = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.bulk = BulkLabeler(session, renderer, blind=blind)
        self.search_button.on_click(lambda _b: self.search(self.query.value))
        self.query.observe(lambda change: self.search(change["new"]) if change["new"].strip() else None, "value")
        self.similar_button.on_click(lambda _b: self.more_like_current())
        super().__init__([w.HTML("<b>Search</b>"), w.HBox([self.query, self.search_button, self.similar_button]),
                          self.message, self.open_buttons, self.bulk], **kwargs)
        self.add_class("alw-search")

    def search(self, text: str) -> list[int]:
        """Unlabeled samples closest in meaning to ``text``; returns their pool indices."""
        text = (text or "").strip()[:500]
        if not text:
            self.message.value = "<small>type what you are looking for</small>"
            return []
        idx, _ = self.session.search(text, self.k, unlabeled=True)
        return self._show(idx.tolist(), f"closest to “{escape(text)}”")

    def more_like_current(self) -> list[int]:
        current = self.session.queue.current
        if current is None:
            self.message.value = "<small>no sample on screen</small>"
            return []
        idx, _ = self.session.similar(current.index, self.k, unlabeled=True)
        return self._show(idx.tolist(), f"like <code>{escape(current.sample_id)}</code>")

    def _show(self, indices: list[int], what: str) -> list[int]:
        self.results = indices
        self.message.value = f"<small>{len(indices)} unlabeled samples {what}, best first</small>"
        self.open_buttons.children = [self._open_button(i) for i in indices]
        self.bulk.select(indices)
        return indices

    def _open_button(self, index: int) -> w.Button:
        b = w.Button(description=f"open {str(self.session.pool.ids[index])[:18]}", layout=w.Layout(width="auto"),
                     tooltip="show it in the labeling panel")
        b.on_click(lambda _b, i=index: self.session.focus(i))
        return b
