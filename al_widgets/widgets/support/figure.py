"""Is the page applying a FigureWidget's updates?  A view that cannot update says so on the page.

plotly's front end answers every trace edit (``restyle``/``update``) with a ``_js2py_traceDeltas``
message carrying the edit's id.  :class:`FigureHealth` remembers when each edit was sent and
clears it when the answer comes; an edit left unanswered longer than ``timeout`` while a view
is open means the browser stopped applying this figure's updates, and ``warning`` (an HTML
widget shown under the figure) says so.
"""
from __future__ import annotations

import time
from typing import Any

import ipywidgets as w

from ..render import escape


class FigureHealth:
    """Watch one FigureWidget's edit acknowledgements.

    Parameters
    ----------
    figure : plotly FigureWidget
    name : str
        What the figure is called on the page ("map", "learning curve").
    dispatcher : UIDispatcher
        Gives the kernel's event loop, used to re-check while edits are pending.
    timeout : float
        Seconds an edit may stay unanswered before the page is told.
    """

    def __init__(self, figure: Any, name: str, dispatcher: Any, timeout: float = 20.0) -> None:
        self.figure, self.name, self.timeout = figure, name, timeout
        self._dispatcher = dispatcher
        self._pending: dict[int, float] = {}
        self._timer: Any = None
        self.stalled = False
        self.latency: float | None = None
        """Seconds from the last acknowledged edit leaving the kernel to the browser's answer."""
        self.warning = w.HTML()
        self.warning.add_class("alw-figure-health")
        figure.observe(self._on_ack, "_js2py_traceDeltas")

    def sent(self) -> None:
        """Call right after an edit left the kernel (after ``batch_update`` exits)."""
        self._pending[int(self.figure._last_trace_edit_id)] = time.monotonic()
        self._schedule()

    def _on_ack(self, change: dict) -> None:
        msg = change.get("new")
        if not msg:
            return
        acked = int(msg.get("trace_edit_id", -1))
        if acked in self._pending:
            self.latency = time.monotonic() - self._pending[acked]
        self._pending = {k: t for k, t in self._pending.items() if k > acked}
        if self.stalled:
            self.stalled = False
            self.warning.value = ""

    def views(self) -> int:
        return int(getattr(self.figure, "_view_count", 0) or 0)

    def check(self) -> bool:
        """Update the warning; ``True`` while the page answers (or no page is open)."""
        self._timer = None
        if self._pending and self.views() > 0:
            oldest = min(self._pending.values())
            waited = time.monotonic() - oldest
            if waited > self.timeout:
                self.stalled = True
                self.warning.value = (f'<span class="alw-stalled" style="color:#cf222e">The {escape(self.name)} on '
                                      f'this page stopped updating ({waited:.0f} s without an answer from the '
                                      'browser). Reload the page; your labels are saved.</span>')
        if self._pending:
            self._schedule()
        return not self.stalled

    def _schedule(self) -> None:
        loop = self._dispatcher.loop
        if self._timer is None and loop is not None and loop.is_running():
            self._timer = loop.call_later(min(5.0, self.timeout / 2), self.check)
