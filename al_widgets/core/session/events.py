"""A tiny thread-safe event emitter used by the session to notify views."""
from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any, Callable

logger = logging.getLogger(__name__)

Handler = Callable[..., Any]


class EventEmitter:
    """Register callbacks by event name and call them on :meth:`emit`.

    Handlers are called synchronously in the emitting thread.  A handler that
    raises does not stop the other handlers; the exception is logged and the
    ``"handler_error"`` event is emitted (once, not recursively).
    """

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._lock = threading.Lock()

    def on(self, event: str, handler: Handler, first: bool = False) -> Handler:
        """Subscribe ``handler`` to ``event`` (``"*"`` receives every event); ``first``: before the
        handlers already subscribed (the view a person waits for answers before the others)."""
        with self._lock:
            if first:
                self._handlers[event].insert(0, handler)
            else:
                self._handlers[event].append(handler)
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Unsubscribe ``handler`` from ``event`` if it is subscribed."""
        with self._lock:
            if handler in self._handlers.get(event, []):
                self._handlers[event].remove(handler)

    def emit(self, event: str, /, **payload: Any) -> None:
        """Call every handler of ``event`` and of ``"*"`` with ``payload``."""
        with self._lock:
            calls = [(h, False) for h in self._handlers.get(event, [])] + \
                    [(h, True) for h in self._handlers.get("*", [])]
        for handler, wildcard in calls:
            try:
                if wildcard:
                    handler(event, **payload)
                else:
                    handler(**payload)
            except Exception as exc:  # noqa: BLE001 - views must not break the engine
                logger.exception("handler for %r failed", event)
                if event != "handler_error":
                    self.emit("handler_error", event=event, error=exc)
