"""Run Voila with al_widgets' hardening: ``python -m al_widgets.app.voila_main NOTEBOOK [voila options]``.

Voila 0.5's kernel websocket reads the header of every outgoing binary frame as if the client
spoke the v1 kernel-websocket protocol.  A client that negotiates the legacy protocol gets
frames in the legacy layout, whose first bytes then read as ~8.6e17 "offsets": one button
press freezes the whole server and its memory grows without bound.  Here, before Voila starts:

* kernel websockets that do not negotiate ``v1.kernel.websocket.jupyter.org`` are refused
  (closed at once; Voila's own page always negotiates v1);
* the header reader checks its offsets against the frame's length and gives up on any frame
  that does not fit (defence in depth);
* the same holds for frames coming *in* on a v1 socket: jupyter_server's reader trusts the
  frame's offset count just as much, so a frame that does not fit closes that socket instead;
* at most ``AL_WIDGETS_MAX_KERNELS`` kernels run at once: a page over the cap gets a one-line
  "Too many open sessions" page (HTTP 503) and starts no kernel;
* pages are served by import-warmed kernels from a small pool (``app/warm.py``).
"""
from __future__ import annotations

import os
import sys
from typing import Any

from . import guard
from .server_settings import ServerSettings, current, install

V1 = "v1.kernel.websocket.jupyter.org"


def safe_read_header(ws_msg: bytes) -> dict | None:
    """The header of a v1 binary frame, or ``None`` when the frame is not one (bounded work)."""
    import json
    offsets = _offsets(ws_msg)
    if offsets is None or len(offsets) < 3:
        return None
    try:
        header = json.loads(ws_msg[offsets[1]: offsets[2]].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return header if isinstance(header, dict) else None


def _offsets(ws_msg: bytes) -> list[int] | None:
    """The offset table of a v1 frame, checked against the frame's length (``None`` if it does not fit)."""
    n = len(ws_msg)
    if n < 8:
        return None
    count = int.from_bytes(ws_msg[:8], "little")
    if count < 2 or 8 * (count + 1) > n:
        return None
    offsets = [int.from_bytes(ws_msg[8 * (i + 1): 8 * (i + 2)], "little") for i in range(count)]
    if any(a > b for a, b in zip(offsets, offsets[1:])) or offsets[-1] > n:
        return None
    return offsets


def safe_deserialize_v1(ws_msg: bytes) -> tuple[str, list[bytes]]:
    """jupyter_server's v1 reader with every offset checked; ``ValueError`` for a frame that does not fit."""
    offsets = _offsets(ws_msg)
    if offsets is None:
        raise ValueError("malformed v1 kernel websocket frame")
    channel = ws_msg[offsets[0]: offsets[1]].decode("utf-8")
    return channel, [ws_msg[offsets[i]: offsets[i + 1]] for i in range(1, len(offsets) - 1)]


def harden() -> None:
    """Patch Voila's kernel websocket handler in this process (idempotent)."""
    from voila.tornado import kernel_websocket_handler as kws

    handler = kws.VoilaKernelWebsocketHandler
    if getattr(handler, "_al_widgets_hardened", False):
        return
    kws.read_header_from_binary_message = safe_read_header

    def select_subprotocol(self: Any, subprotocols: list[str]) -> str | None:
        return V1 if V1 in subprotocols else None

    original_open = handler.open

    async def open(self: Any, kernel_id: str, *args: Any, **kwargs: Any) -> None:  # noqa: A001 - tornado's name
        if self.selected_subprotocol != V1:
            self.log.warning("refused a kernel websocket without the %s subprotocol", V1)
            self.close(1002, f"this server speaks only the {V1} protocol")
            return
        if not guard.may_use(self, kernel_id):  # another person's page: not even a connection
            self.log.warning("al_widgets: refused %s a websocket to kernel %s (not theirs)",
                             guard.user_of(self) or "?", kernel_id[:8])
            self.close(4003, "not your page")
            return
        if guard.users_mode():
            from .users import Users
            name = guard.user_of(self)
            self._al_user = (name, Users(current().users).version(name))
            guard.REVOKER.add(self)
        return await original_open(self, kernel_id, *args, **kwargs)

    def on_message(self: Any, message: Any) -> None:
        size = len(message)
        msg_type = None
        try:
            if isinstance(message, bytes):
                header = safe_read_header(message)
                msg_type = header.get("msg_type") if header else None
            why = guard.LIMITS.check(self.kernel_id, size, msg_type)
            if why:
                self.log.warning("al_widgets: closed a kernel websocket of %s: %s", guard.user_of(self) or "?", why)
                self.close(1009, "message refused")
                return
            self.connection.handle_incoming_message(message)
        except (ValueError, UnicodeDecodeError) as exc:
            self.log.warning("closed a kernel websocket after a malformed frame: %s", exc)
            self.close(1003, "malformed frame")

    original_on_close = handler.on_close

    def on_close(self: Any) -> None:
        guard.REVOKER.discard(self)
        return original_on_close(self)

    from jupyter_server.services.kernels.connection import channels
    channels.deserialize_msg_from_ws_v1 = safe_deserialize_v1
    handler.select_subprotocol = select_subprotocol
    handler.open = open
    handler.on_message = on_message
    handler.on_close = on_close
    handler._al_widgets_hardened = True
    guard.guard_kernel_routes()
    guard.install_log_scrubber()
    _one_line_errors()


def _one_line_errors() -> None:
    """Every error page of the app is one line of plain text (no template, no traceback)."""
    from voila.tornado.handler import TornadoVoilaHandler

    def write_error(self: Any, status_code: int, **kwargs: Any) -> None:
        reason = self._reason if status_code in (403, 429, 503) else "Something went wrong on the server."
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{reason}\n")

    TornadoVoilaHandler.write_error = write_error


def _configured_store() -> str | None:
    if not current().config:
        return None
    try:
        from .config import AppConfig
        return AppConfig.from_env().store
    except (OSError, ValueError):
        return None


def max_kernels() -> int:
    """Concurrent app kernels allowed (``AL_WIDGETS_MAX_KERNELS``, default 8: about 250 MB each)."""
    return current().max_kernels


def prelaunch(req_handler: Any, notebook: Any, cwd: str) -> Any:
    """Voila's prelaunch hook: caps, ownership and the signed-in name, before any kernel starts.

    A page over the kernel cap, or over the person's own cap, gets a one-line 503 page and no
    kernel.  The person is named for the kernel manager (:data:`guard.PAGE_USER`), which records
    them as the owner of the kernel it hands this page.  It also hands the page its ``_xsrf``
    cookie: Voila's page shuts its kernel down on unload with a POST that carries that cookie's
    value, and Voila never sets it, so without this every closed or reloaded page left its kernel
    running until the culler found it (403 in the log).
    """
    from tornado import web
    req_handler.xsrf_token  # noqa: B018 - reading it sets the cookie on this response
    km = req_handler.kernel_manager
    running = km.in_use() if hasattr(km, "in_use") else len(km.list_kernel_ids())  # warm pool not counted
    if running >= max_kernels():
        raise web.HTTPError(503, reason="Too many open sessions: close another tab of this app or try again "
                                        "in a few minutes")
    user = guard.user_of(req_handler)
    if guard.users_mode() and user:
        mine = [k for k, owner in getattr(km, "owners", {}).items() if owner == user and k in km]
        if len(mine) >= current().max_kernels_per_user:
            raise web.HTTPError(503, reason=f"You have {len(mine)} pages of this app open: close one, or wait "
                                            "a few minutes after closing it")
    guard.PAGE_USER.set(user)
    return with_signed_in_user(notebook, req_handler.current_user)


def with_signed_in_user(notebook: Any, user: Any) -> Any:
    """Hand the signed-in person's name and role to the app (a first, hidden cell: ``SIGN_IN``).

    The app notebook calls ``build_app(**SIGN_IN)``; every label is recorded under this name, and
    no widget of the page can change it.
    """
    import json

    import nbformat
    users_file = current().users
    name = getattr(user, "username", None)
    if not users_file or not name:
        return notebook
    from .users import Users
    role = Users(users_file).role(name) or "annotator"
    source = f"SIGN_IN = {{'user': {json.dumps(name)}, 'role': {json.dumps(role)}}}"
    notebook.cells.insert(0, nbformat.v4.new_code_cell(source, id="al-widgets-sign-in"))
    return notebook


def watch_store(store: str, log: Any = print, every: float = 10.0, stop: Any = None, looked: Any = None) -> None:
    """Log one line per batch of labels that reached ``store`` ("alice +5, bob +2; 123 labels").

    Runs in a daemon thread of the server process, so the server log shows the work going on
    without any kernel having to report it.  ``stop`` (a ``threading.Event``) ends the loop;
    ``looked`` (an Event) is set after the first look.
    """
    import time
    from ..core import LabelStore
    seen: dict[str, int] | None = None
    while stop is None or not stop.is_set():
        try:
            with LabelStore(store, readonly=True) as st:
                counts = {a: n for a, (n, _, _) in st.per_annotator().items()}  # one SQL query
        except Exception:  # noqa: BLE001 - no store yet, or busy: try again later
            counts = None
            if seen is None and not os.path.exists(store):
                seen = {}  # a new store: every label in it will be new
        if counts is not None and seen is not None:
            delta = {a: n - seen.get(a, 0) for a, n in counts.items() if n != seen.get(a, 0)}
            if delta:
                parts = ", ".join(f"{a} {d:+d}" for a, d in sorted(delta.items()))
                log(f"al_widgets: labels {parts}; {sum(counts.values())} in the store")
        if counts is not None:
            seen = counts
        if looked is not None:
            looked.set()
        if stop is not None:
            stop.wait(every)
        else:
            time.sleep(every)


def stop_with_parent(parent: int, every: float = 1.0) -> None:
    """End this server like Ctrl+C (its kernels shut down) once ``parent`` is gone.

    ``al-widgets serve`` killed with SIGKILL cannot stop its Voila; without this the server
    lived on (re-parented to PID 1), holding the port and the kernels.
    """
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        print("al_widgets: the al-widgets process is gone; stopping the server", flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="al-parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> Any:
    settings = install(ServerSettings.from_env())  # the one place the server reads its environment
    harden()
    if settings.parent_pid is not None and settings.parent_pid == os.getppid():
        stop_with_parent(settings.parent_pid)
    store = _configured_store()
    if store:
        import threading
        threading.Thread(target=watch_store, args=(store, lambda line: print(line, flush=True)),
                         name="al-store-log", daemon=True).start()
    from traitlets.config import Config
    from voila.app import Voila
    config = Config()
    config.VoilaConfiguration.prelaunch_hook = prelaunch
    config.VoilaConfiguration.multi_kernel_manager_class = "al_widgets.app.warm.WarmKernelManager"
    return Voila.launch_instance(argv=sys.argv[1:] if argv is None else argv, config=config)


if __name__ == "__main__":
    sys.exit(main())
