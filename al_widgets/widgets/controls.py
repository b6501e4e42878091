"""Controls: strategy selector with descriptions, batch size, retrain frequency."""
from __future__ import annotations

from typing import Any

import ipywidgets as w

from ..core import available_strategies
from .support.dispatch import SessionView
from .render import escape


class Controls(w.VBox, SessionView):
    """Choose the query strategy (each described), the batch size k and retrain-every-N."""

    def __init__(self, session: Any, **kwargs: Any) -> None:
        self.session = session
        self.descriptions = self._menu()  # only what fits the task (and the labels so far)
        self.strategy = w.Dropdown(options=list(self.descriptions), value=session.strategy.name,
                                   description="strategy")
        self.description = w.HTML()
        self.menu_note = w.HTML()
        self.batch_size = w.BoundedIntText(value=session.batch_size, min=1, max=1000, description="batch k",
                                           layout=w.Layout(width="180px"))
        self.retrain_every = w.BoundedIntText(value=session.retrain_every, min=1, max=10_000,
                                              description="retrain every", layout=w.Layout(width="200px"),
                                              style={"description_width": "initial"})
        self.strategy.observe(self._strategy_changed, "value")
        self.batch_size.observe(self._batch_changed, "value")
        self.retrain_every.observe(self._every_changed, "value")
        super().__init__([w.HBox([self.strategy, self.batch_size, self.retrain_every]), self.description,
                          self.menu_note], **kwargs)
        self.add_class("alw-controls")
        self._listen(session, {"strategy_changed": self._sync, "retrained": lambda result: self._refresh_menu()})
        self._describe()
        self._refresh_menu()

    def _menu(self) -> dict[str, str]:
        s = self.session
        classes = s.pool.classes
        seen = classes is None or set(s.labels.values()) >= set(classes)
        menu = available_strategies(task=s.pool.task, every_class_seen=seen)
        current = s.strategy.name  # a strategy chosen in code stays selectable
        if current not in menu:
            menu[current] = available_strategies().get(current, getattr(s.strategy, "description", ""))
        return menu

    def _refresh_menu(self) -> None:
        menu = self._menu()
        hidden = sorted(set(available_strategies(task=self.session.pool.task)) - set(menu))
        self.menu_note.value = "" if not hidden else (
            f"<small>{escape(', '.join(hidden))}: offered once every class has a label (before that they "
            "cannot see the classes nobody labeled yet)</small>")
        if list(menu) != list(self.strategy.options):
            self.descriptions = menu
            self._updating_menu = True  # new options may reset the value: that is not a user's choice
            try:
                self.strategy.options = list(menu)
                self.strategy.value = self.session.strategy.name
            finally:
                self._updating_menu = False

    def _describe(self) -> None:
        self.description.value = f"<i>{escape(self.descriptions[self.strategy.value])}</i>"

    _updating_menu = False

    def _strategy_changed(self, change: dict) -> None:
        if self._updating_menu or change["new"] is None:
            return
        self._describe()
        if change["new"] != self.session.strategy.name:
            self.session.set_strategy(change["new"])

    def _batch_changed(self, change: dict) -> None:
        self.session.batch_size = int(change["new"])
        self.session.request_retrain()

    def _every_changed(self, change: dict) -> None:
        self.session.retrain_every = int(change["new"])

    def _sync(self, strategy: str) -> None:
        if self.strategy.value != strategy:
            self.strategy.value = strategy
