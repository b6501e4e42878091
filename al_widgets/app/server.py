"""Start and stop the Voila app on a free loopback port (tests, benchmarks, scripts)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VoilaServer:
    """``al-widgets demo|serve`` in its own process group; stopped (with its kernels) on exit.

    Parameters
    ----------
    args : list of str
        CLI arguments after ``al-widgets`` (``--port`` and ``--host`` are added).
    log : path
        Where the server's output goes.
    env : dict, optional
        Extra environment variables.
    command : list of str, optional
        Run this voila command instead of the CLI (host and port are appended).
    """

    def __init__(self, args: list[str], log: str | os.PathLike, env: dict | None = None,
                 timeout: float = 120.0, command: list[str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.args, self.log, self.timeout = args, Path(log), timeout
        self.env = dict(os.environ, **(env or {}))
        self.proc: subprocess.Popen | None = None
        self.command = command

    def __enter__(self) -> "VoilaServer":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        self._fh = open(self.log, "w")
        if self.command is not None:  # any other voila command (e.g. a baseline notebook)
            cmd = [*self.command, "--Voila.ip=127.0.0.1", f"--port={self.port}", "--no-browser"]
        else:
            cmd = [sys.executable, "-m", "al_widgets.cli", *self.args, "--host", "127.0.0.1", "--port",
                   str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=self._fh, stderr=subprocess.STDOUT, env=self.env,
                                     start_new_session=True)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"voila exited early ({self.proc.returncode}): {self.log.read_text()[-2000:]}")
            try:  # any HTTP answer means the server is up (the root URL would start a kernel)
                with urllib.request.urlopen(self.url + "voila/static/favicon.ico", timeout=2):
                    pass
            except urllib.error.HTTPError:
                pass
            except OSError:
                time.sleep(0.3)
                continue
            if self._pool_settled():
                return
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"voila did not answer on {self.url} within {self.timeout} s")

    def _pool_settled(self) -> bool:
        """The warm-kernel pool (``app/warm.py``) is ready, failed, or not used by this server."""
        if self.command is not None or self.env.get("AL_WIDGETS_WARM_KERNELS", "1").strip() == "0":
            return True
        import re
        log = self.log.read_text(errors="replace")
        return bool(re.search(r"warm kernel \S+ ready|could not warm a kernel", log))

    def stop(self) -> None:
        """Terminate the server and every kernel it started (the whole process group)."""
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # stray kernels
        except ProcessLookupError:
            pass
        self._fh.close()
        self.proc = None
