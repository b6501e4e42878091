"""Run view updates on the kernel's main thread, after the current handler.

Session events fire in the retrain worker thread, or inside a click handler.
Widgets created inside a running kernel capture its asyncio loop and schedule
every view refresh on it: a refresh never runs inside a click (so the next
sample is sent to the browser first), and refreshes of one view that pile up
collapse into one call with the latest arguments.  Outside a running loop
(plain Python, headless tests) updates run directly.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import threading
from typing import Any, Callable

logger = logging.getLogger(__name__)


class UIDispatcher:
    """Calls functions on the thread that created it when possible."""

    def __init__(self) -> None:
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None

        self._pending: dict[Callable[..., Any], tuple] = {}
        self._lock = threading.Lock()

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``fn`` directly when no loop runs; else schedule it (coalesced) on the UI loop."""
        if self.loop is None or not self.loop.is_running():
            _safe(fn, *args, **kwargs)
            return
        with self._lock:
            scheduled = fn in self._pending
            self._pending[fn] = (args, kwargs)
        if not scheduled:
            self.loop.call_soon_threadsafe(self._run_pending, fn)

    def _run_pending(self, fn: Callable[..., Any]) -> None:
        with self._lock:
            args, kwargs = self._pending.pop(fn)
        _safe(fn, *args, **kwargs)

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., None]:
        """A handler that forwards to :meth:`call` (one coalescing key per wrapped handler)."""
        @functools.wraps(fn)
        def handler(*args: Any, **kwargs: Any) -> None:
            self.call(fn, *args, **kwargs)
        return handler


def _safe(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        fn(*args, **kwargs)
    except Exception:  # noqa: BLE001 - a view error must not kill the kernel loop
        logger.exception("view update %s failed", getattr(fn, "__name__", fn))


class SessionView:
    """Mixin: subscribe to session events through a dispatcher; ``detach`` unsubscribes."""

    def _listen(self, session: Any, events: dict[str, Callable[..., Any]], first: tuple[str, ...] = ()) -> None:
        """Subscribe to ``events``; those named in ``first`` are handled before every other view's."""
        self._dispatcher = getattr(self, "_dispatcher", None) or UIDispatcher()
        self._subscriptions = getattr(self, "_subscriptions", [])
        for name, fn in events.items():
            handler = self._dispatcher.wrap(fn)
            session.on(name, handler, first=name in first)
            self._subscriptions.append((session, name, handler))

    def detach(self) -> None:
        """Stop observing the session."""
        for session, name, handler in getattr(self, "_subscriptions", []):
            session.off(name, handler)
        self._subscriptions = []
