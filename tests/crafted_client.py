"""A crafted client: speaks the kernel websocket's v1 protocol and sends widget comm messages
exactly as a page would, but with whatever content an attacker chooses.

Used by the attack suite (``test_attacks.py``): every rule that matters must hold against it.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request
import uuid
from http.cookiejar import CookieJar
from typing import Any

from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1, serialize_msg_to_ws_v1

V1 = "v1.kernel.websocket.jupyter.org"


class Browser:
    """Cookies and plain HTTP, like a browser that signed in with a link."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str = "", method: str = "GET", headers: dict | None = None,
            follow: bool = True) -> tuple[int, str, dict]:
        opener = self.opener if follow else urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)
        req = urllib.request.Request(self.base + path, method=method, headers=headers or {},
                                     data=b"" if method in ("POST", "DELETE") else None)
        xsrf = self.cookie("_xsrf")
        if xsrf and method not in ("GET", "HEAD"):
            req.add_header("X-XSRFToken", xsrf)
        try:
            with opener.open(req, timeout=180) as r:
                return r.status, r.read().decode(errors="replace"), dict(r.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace"), dict(exc.headers)

    def cookie(self, name: str) -> str | None:
        for c in self.jar:
            if c.name == name:
                return c.value
        return None

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def open_page(self) -> str:
        """Load the app page; returns its kernel id."""
        status, html, _ = self.get("")
        assert status == 200, (status, html[:300])
        return re.search(r'"kernelId": "([0-9a-f-]{36})"', html).group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _msg(msg_type: str, content: dict, session: str) -> dict:
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "", "session": session,
                       "date": "", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "content": content}


class KernelSocket:
    """One v1 websocket to a kernel; widget states read with the control comm, as Voila's page does."""

    def __init__(self, browser: Browser, kernel_id: str) -> None:
        self.browser, self.kernel_id = browser, kernel_id
        self.session = uuid.uuid4().hex
        self.conn: Any = None
        self.close_code: int | None = None
        self.states: dict[str, dict] = {}

    async def connect(self) -> "KernelSocket":
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect
        url = self.browser.base.replace("http://", "ws://") + \
            f"api/kernels/{self.kernel_id}/channels?session_id={self.session}"
        req = HTTPRequest(url, headers={"Cookie": self.browser.cookie_header()})
        self.conn = await websocket_connect(req, subprotocols=[V1])
        return self

    async def send(self, msg_type: str, content: dict, channel: str = "shell", pad: bytes = b"",
                   metadata: dict | None = None) -> dict:
        msg = _msg(msg_type, content, self.session)
        msg["metadata"] = metadata or {}
        parts = [json.dumps(msg[k]).encode() for k in ("header", "parent_header", "metadata", "content")]
        if pad:
            parts.append(pad)
        await self.conn.write_message(serialize_msg_to_ws_v1(parts, channel), binary=True)
        return msg

    async def read(self, timeout: float = 10.0) -> dict | None:
        """The next message (``None`` when the socket closed)."""
        raw = await asyncio.wait_for(self.conn.read_message(), timeout)
        if raw is None:
            self.close_code = self.conn.close_code
            return None
        channel, parts = deserialize_msg_from_ws_v1(raw)
        header, parent, _meta, content = (json.loads(p) for p in parts[:4])
        return {"channel": channel, "header": header, "parent_header": parent, "content": content}

    async def closed_within(self, seconds: float) -> bool:
        """True when the server closes this socket within ``seconds`` (messages meanwhile are read)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if await self.read(max(deadline - time.monotonic(), 0.05)) is None:
                    return True
            except asyncio.TimeoutError:
                return False
            except Exception:  # noqa: BLE001 - the connection broke: closed
                return True
        return False

    async def widget_states(self, timeout: float = 30.0) -> dict[str, dict]:
        """Every widget's state, through a ``jupyter.widget.control`` comm (``request_states``)."""
        comm = uuid.uuid4().hex
        await self.send("comm_open", {"comm_id": comm, "target_name": "jupyter.widget.control", "data": {}},
                        metadata={"version": "1.0.0"})
        await self.send("comm_msg", {"comm_id": comm, "data": {"method": "request_states"}})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = await self.read(max(deadline - time.monotonic(), 0.1))
            if msg is None:
                raise ConnectionError(f"socket closed ({self.close_code})")
            data = msg["content"].get("data") or {}
            if msg["header"]["msg_type"] == "comm_msg" and data.get("method") == "update_states":
                self.states = data["states"]
                return self.states
        raise TimeoutError("no widget states")

    def find(self, model_name: str, **state: Any) -> list[str]:
        """Model ids of widgets of ``model_name`` whose state matches (a callable tests a value)."""
        out = []
        for mid, st in self.states.items():
            if st.get("model_name") != model_name:
                continue
            s = st.get("state", {})
            if all(v(s.get(k)) if callable(v) else s.get(k) == v for k, v in state.items()):
                out.append(mid)
        return out

    async def update(self, model_id: str, **state: Any) -> None:
        await self.send("comm_msg", {"comm_id": model_id,
                                     "data": {"method": "update", "state": state, "buffer_paths": []}})

    async def click(self, model_id: str) -> None:
        await self.send("comm_msg", {"comm_id": model_id,
                                     "data": {"method": "custom", "content": {"event": "click"}}})

    async def drain(self, seconds: float) -> None:
        """Read (and drop) messages for ``seconds``: lets the kernel act on what was sent."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if await self.read(max(deadline - time.monotonic(), 0.05)) is None:
                    return
            except asyncio.TimeoutError:
                return

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def run(coro: Any, timeout: float = 120.0) -> Any:
    """Run a coroutine to completion on a fresh event loop (tests are synchronous)."""
    return asyncio.run(asyncio.wait_for(coro, timeout))
