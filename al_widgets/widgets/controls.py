"""Controls: strategy selector with descriptions, batch size, retrain frequency."""
from __future__ import annotations

from typing import Any

import ipywidgets as w

from ..core import available_strategies
from ._dispatch import SessionView
from .render import escape


class Controls(w.VBox, SessionView):
    """Choose the query strategy (each described), the batch size k and retrain-every-N."""

    def __init__(self, session: Any, **kwargs: Any) -> None:
        self.session = session
        self.descriptions = available_strategies(task=session.pool.task)  # only what fits the task
        self.strategy = w.Dropdown(options=list(self.descriptions), value=session.strategy.name,
                                   description="strategy")
        self.description = w.HTML()
        self.batch_size = w.BoundedIntText(value=session.batch_size, min=1, max=1000, description="batch k",
                                           layout=w.Layout(width="180px"))
        self.retrain_every = w.BoundedIntText(value=session.retrain_every, min=1, max=10_000,
                                              description="retrain every", layout=w.Layout(width="200px"),
                                              style={"description_width": "initial"})
        self.strategy.observe(self._strategy_changed, "value")
        self.batch_size.observe(self._batch_changed, "value")
        self.retrain_every.observe(self._every_changed, "value")
        super().__init__([w.HBox([self.strategy, self.batch_size, self.retrain_every]), self.description],
                         **kwargs)
        self.add_class("alw-controls")
        self._listen(session, {"strategy_changed": self._sync})
        self._describe()

    def _describe(self) -> None:
        self.description.value = f"<i>{escape(self.descriptions[self.strategy.value])}</i>"

    def _strategy_changed(self, change: dict) -> None:
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
