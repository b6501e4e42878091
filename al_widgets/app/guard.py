"""Rules the server enforces on every request, whatever a client sends.

* **Kernels belong to the person who opened the page.**  The prelaunch hook names the
  signed-in person (:data:`PAGE_USER`); the kernel manager records them as the kernel's owner;
  the kernel websocket, ``/api/kernels/<id>`` and Voila's shutdown route refuse anyone else.
* **Taking access back is immediate.**  :class:`Revoker` looks at the users file every
  ``AL_WIDGETS_REVOKE_EVERY`` seconds (default 2): the websockets of a removed or renewed person
  are closed and their kernels shut down (their cookie no longer signs them in either).
* **Fair shares.**  Each kernel accepts at most ``AL_WIDGETS_MAX_COMMS`` widgets opened by the
  client (default 16) and no frame above ``AL_WIDGETS_MAX_FRAME`` bytes (default 4 MB); a page
  beyond a person's ``AL_WIDGETS_MAX_KERNELS_PER_USER`` (default 3) gets a one-line 503.
* **Nothing secret in the log.**  Sign-in keys and tokens are scrubbed from every log record of
  the server process.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import re
from typing import Any

from .server_settings import current

PAGE_USER: contextvars.ContextVar[str | None] = contextvars.ContextVar("al_widgets_page_user", default=None)
"""The signed-in person whose page is being built (set by the prelaunch hook, read by the kernel manager)."""

_SECRET = re.compile(r"((?:^|[?&;\s]|%3F|%26)(?:key|token)(?:=|%3D))(?:(?!%26)[^&\s\"'])+", re.IGNORECASE)
"""``key=…``/``token=…`` in a query, also URL-encoded inside another one (``/login?next=%2F%3Fkey%3D…``)."""


def scrub(text: str) -> str:
    """``text`` with every ``key=…`` and ``token=…`` value replaced by ``[redacted]``."""
    return _SECRET.sub(r"\1[redacted]", text)


def install_log_scrubber() -> None:
    """Every log record of this process is scrubbed of keys and tokens (idempotent)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_al_widgets_scrub", False):
        return

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record stays as it was
            return record
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return record

    make._al_widgets_scrub = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make)


def users_mode() -> bool:
    """People sign in with personal links (``AL_WIDGETS_USERS``): kernels have owners."""
    return bool(current().users)


def user_of(handler: Any) -> str | None:
    user = getattr(handler, "current_user", None)
    return getattr(user, "username", None)


def owner_of(handler: Any, kernel_id: str) -> str | None:
    owners = getattr(handler.kernel_manager, "owners", {})
    return owners.get(kernel_id)


def may_use(handler: Any, kernel_id: str) -> bool:
    """The request's person owns ``kernel_id`` (always true without personal sign-in)."""
    if not users_mode():
        return True
    user = user_of(handler)
    return user is not None and owner_of(handler, kernel_id) == user


def refuse(handler: Any, kernel_id: str) -> None:
    from tornado import web
    handler.log.warning("al_widgets: %s may not use kernel %s (not theirs)", user_of(handler) or "?",
                        kernel_id[:8])
    raise web.HTTPError(403, reason="not your page")


def guard_kernel_routes() -> None:
    """``/api/kernels/<id>`` (GET, DELETE, POST actions) and Voila's shutdown route: owner only."""
    from jupyter_server.services.kernels.handlers import KernelActionHandler, KernelHandler
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler

    for cls in (KernelHandler, KernelActionHandler, VoilaShutdownKernelHandler):
        if getattr(cls, "_al_widgets_owned", False):
            continue
        for method in ("get", "delete", "post", "patch"):
            if method in cls.__dict__:
                setattr(cls, method, _owner_only(cls.__dict__[method]))
        cls._al_widgets_owned = True


def _owner_only(fn: Any) -> Any:
    import functools

    @functools.wraps(fn)
    async def wrapper(self: Any, kernel_id: str, *args: Any, **kwargs: Any) -> Any:
        if not may_use(self, kernel_id):
            refuse(self, kernel_id)
        out = fn(self, kernel_id, *args, **kwargs)
        return await out if asyncio.iscoroutine(out) else out
    return wrapper


class MessageLimits:
    """Per kernel: how many widgets the client opened (comm_open), bounded; frame sizes bounded.

    The limits are the server's settings (parsed once, at start; see :mod:`.server_settings`)."""

    def __init__(self) -> None:
        self.comms: dict[str, int] = {}

    def check(self, kernel_id: str, size: int, msg_type: str | None) -> str | None:
        """Why this incoming frame must close its socket (``None``: it may pass)."""
        limits = current()
        if size > limits.max_frame:
            return f"frame of {size} bytes (limit {limits.max_frame})"
        if msg_type == "comm_open":
            n = self.comms.get(kernel_id, 0) + 1
            self.comms[kernel_id] = n
            if n > limits.max_comms:
                return f"more than {limits.max_comms} widgets opened from the page"
        return None


LIMITS = MessageLimits()


class Revoker:
    """Closes the websockets and shuts down the kernels of people whose access was taken back."""

    def __init__(self) -> None:
        self.sockets: set[Any] = set()
        self._task: asyncio.Task | None = None

    def add(self, handler: Any) -> None:
        self.sockets.add(handler)
        if self._task is None or self._task.done():
            self._task = asyncio.get_event_loop().create_task(self._watch())

    def discard(self, handler: Any) -> None:
        self.sockets.discard(handler)

    async def _watch(self) -> None:
        every = current().revoke_every
        while self.sockets:
            await asyncio.sleep(every)
            try:
                await self.sweep()
            except Exception as exc:  # noqa: BLE001 - the watcher must outlive a bad users file
                logging.getLogger("al_widgets.auth").warning("al_widgets: revocation check failed: %s", exc)

    async def sweep(self) -> int:
        """Close what is no longer allowed; returns how many sockets were closed."""
        from jupyter_core.utils import ensure_async

        from .users import Users
        path = current().users
        if not path:
            return 0
        versions = Users(path).versions()  # one read of the users file per sweep, however many pages
        closed = 0
        for ws in list(self.sockets):
            name, version = getattr(ws, "_al_user", (None, None))
            if name is None or versions.get(name) == version:
                continue
            self.discard(ws)
            ws.log.warning("al_widgets: %s's access was taken back: closing their page", name)
            ws.close(4003, "signed out: your access was taken back")
            closed += 1
            km = ws.kernel_manager
            kid = ws.kernel_id
            if kid in km:
                await ensure_async(km.shutdown_kernel(kid, now=True))
        return closed


REVOKER = Revoker()
