"""The served app survives hostile clients: legacy websocket framing, kernels nobody uses, busy ports."""
import os
import re
import socket
import time
import urllib.error
import urllib.request

import pytest

from al_widgets.app.server import VoilaServer
from al_widgets.app.voila_main import V1, safe_read_header
from al_widgets.cli import main

import psutil

from browser_helpers import kernel_processes as _kernels


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hard")
    with VoilaServer(["demo", "--store", str(folder / "labels.sqlite"), "--no-umap"], folder / "voila.log",
                     env={"AL_WIDGETS_CACHE": str(folder / "cache"), "AL_WIDGETS_CULL_IDLE": "6"}) as srv:
        yield srv


def _kernel_id(url):
    html = urllib.request.urlopen(url, timeout=120).read().decode()
    return re.search(r'"kernelId": "([0-9a-f-]{36})"', html).group(1)


def _answers(url, within=5.0):
    t0 = time.monotonic()
    with urllib.request.urlopen(url + "voila/static/favicon.ico", timeout=within):
        return time.monotonic() - t0


def _connect(url, kernel, subprotocols, frame):
    import asyncio

    from tornado.httpclient import HTTPRequest
    from tornado.ioloop import IOLoop
    from tornado.websocket import websocket_connect

    async def go():
        ws_url = url.replace("http://", "ws://") + f"api/kernels/{kernel}/channels?session_id=test"
        conn = await websocket_connect(HTTPRequest(ws_url), subprotocols=subprotocols)
        protocol = conn.selected_subprotocol
        try:
            await conn.write_message(frame, binary=True)
        except Exception:  # noqa: BLE001 - already closed by the server
            pass
        messages = []  # everything read until the server closed the socket
        try:
            while (msg := await asyncio.wait_for(conn.read_message(), 5)) is not None:
                messages.append(msg)
        except asyncio.TimeoutError:
            messages.append("still open")
        code = conn.close_code
        conn.close()
        return protocol, messages, code

    return IOLoop.current().run_sync(go, timeout=60)


# a legacy-layout frame: 4-byte big-endian count then offsets; read as v1 it claims ~1e17 offsets
LEGACY = (2).to_bytes(4, "big") + (12).to_bytes(4, "big") + (20).to_bytes(4, "big") + b"{}" * 8
HOSTILE_V1 = (2**62).to_bytes(8, "little") + b"x" * 64


def test_legacy_websocket_is_refused_and_the_server_keeps_answering(server):
    proc = psutil.Process(server.proc.pid)
    kernel = _kernel_id(server.url)
    rss_before = proc.memory_info().rss
    protocol, messages, code = _connect(server.url, kernel, None, LEGACY)
    assert protocol is None and messages == [] and code == 1002  # closed at once, nothing read
    assert _answers(server.url) < 5.0
    # a v1 socket (what Voila's page speaks) is accepted, but a frame that lies about its size closes it;
    # the kernel's status broadcast of a new connection may come first (on a loaded machine it does)
    protocol, messages, code = _connect(server.url, kernel, [V1], HOSTILE_V1)
    assert protocol == V1 and code == 1003
    assert all(isinstance(m, bytes) and b'"execution_state"' in m for m in messages), messages
    assert _answers(server.url) < 5.0
    assert proc.memory_info().rss < rss_before + 50 * 2**20  # no runaway allocation


def test_header_reader_is_bounded_for_any_frame():
    legacy = (3).to_bytes(4, "big") + bytes(range(60))
    hostile = (2**62).to_bytes(8, "little") + b"x" * 64  # claims 4.6e18 offsets
    t0 = time.monotonic()
    assert safe_read_header(legacy) is None and safe_read_header(hostile) is None
    assert safe_read_header(b"") is None and safe_read_header(b"\x03" + b"\x00" * 7) is None
    assert time.monotonic() - t0 < 0.1
    from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1
    frame = serialize_msg_to_ws_v1([b'{"msg_type": "status"}', b"{}", b"{}", b"{}"], "iopub")
    assert safe_read_header(frame) == {"msg_type": "status"}


def test_kernels_of_pages_nobody_opened_are_reclaimed(server):
    before = len(_kernels(server))
    for _ in range(3):  # plain GETs: each starts a kernel no browser ever connects to
        _kernel_id(server.url)
    assert len(_kernels(server)) >= before + 3
    deadline = time.monotonic() + 90
    while len(_kernels(server)) > before and time.monotonic() < deadline:
        time.sleep(1)
    assert len(_kernels(server)) <= before  # culled after AL_WIDGETS_CULL_IDLE=6 s idle


def test_a_busy_port_is_an_error_before_anything_is_served(tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code = main(["demo", "--store", str(tmp_path / "l.sqlite"), "--port", str(port), "--no-umap"])
    out = capsys.readouterr()
    assert code == 2 and "serving" not in out.out
    assert f"cannot serve on 127.0.0.1:{port}" in out.err and len(out.err.strip().splitlines()) == 1


def test_serving_beyond_loopback_needs_sign_in(tmp_path, capsys):
    from al_widgets.cli import auth_token, resolve_auth
    store = str(tmp_path / "l.sqlite")
    assert resolve_auth("127.0.0.1", "auto", store) == "none"  # single-user mode on loopback stays as it was
    assert resolve_auth("0.0.0.0", "auto", store) == "token"  # anywhere else: a secret link
    assert len(auth_token("token")) >= 24 and auth_token("none") is None
    code = main(["demo", "--store", str(tmp_path / "l.sqlite"), "--host", "0.0.0.0", "--auth", "none"])
    err = capsys.readouterr().err
    assert code == 2 and "serving on 0.0.0.0 needs sign-in" in err and len(err.strip().splitlines()) == 1


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def status_without_redirect(url):
    """The HTTP status of ``url`` itself (a redirect to a sign-in form is not followed)."""
    try:
        return urllib.request.build_opener(_NoRedirect).open(url, timeout=60).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_without_the_secret_no_page_and_no_kernel(tmp_path):
    with VoilaServer(["demo", "--store", str(tmp_path / "l.sqlite"), "--no-umap", "--auth", "token"],
                     tmp_path / "voila.log", env={"AL_WIDGETS_TOKEN": "s3cret-link-key-for-tests",
                                                  "AL_WIDGETS_CACHE": str(tmp_path / "cache")}) as srv:
        for url in (srv.url, srv.url + "?token=wrong"):
            assert status_without_redirect(url) in (302, 401, 403)  # refused (or sent to the sign-in form)
        assert _kernels(srv) == []  # ... and no kernel was started for it
        code, html = _get(srv.url + "?token=s3cret-link-key-for-tests")
        assert code == 200 and '"kernelId"' in html
        assert len(_kernels(srv)) == 1


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_a_reload_storm_is_capped_with_a_one_line_page_and_culled(tmp_path):
    with VoilaServer(["demo", "--store", str(tmp_path / "l.sqlite"), "--no-umap"], tmp_path / "voila.log",
                     env={"AL_WIDGETS_MAX_KERNELS": "2", "AL_WIDGETS_CULL_IDLE": "6",
                          "AL_WIDGETS_CACHE": str(tmp_path / "cache")}) as srv:
        codes = []
        for _ in range(20):  # a bounded storm of page loads
            code, html = _get(srv.url)
            codes.append(code)
            if code == 503:
                assert "Too many open sessions" in html and "Traceback" not in html
            assert len(_kernels(srv)) <= 2
            assert len(_kernels(srv, pool=True)) <= 2 + 1  # the cap + the one warm kernel waiting
        assert codes[:2] == [200, 200] and set(codes[2:]) == {503}
        assert srv.log.read_text().count("page served by warm kernel") >= 1
        deadline = time.monotonic() + 90  # nobody connected to them: culled after 6 s idle
        while _kernels(srv) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _kernels(srv) == []
        assert len(_kernels(srv, pool=True)) == 1  # the pool's warm kernel waits: never culled
        served = srv.log.read_text().count("page served by warm kernel")
        code, _ = _get(srv.url)  # ... and the server takes visitors again, from the pool
        assert code == 200
        assert srv.log.read_text().count("page served by warm kernel") == served + 1


def test_a_crash_in_the_app_shows_no_traceback_to_the_visitor(tmp_path):
    import nbformat

    from al_widgets.cli import voila_command
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def build():\n    raise RuntimeError('secret internal detail 4242')\nbuild()")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "crash.ipynb"
    nbformat.write(nb, str(path))
    cmd = voila_command(path, "127.0.0.1", 0)  # the same hardened command line serve uses
    cmd = [c for c in cmd if not c.startswith(("--Voila.ip=", "--port="))]
    with VoilaServer([], tmp_path / "voila.log", command=cmd) as srv:
        code, html = _get(srv.url)
        text = re.sub(r"<[^>]+>", " ", html)
        assert "Traceback" not in text and "secret internal detail 4242" not in text
        deadline = time.monotonic() + 30
        while "secret internal detail 4242" not in (tmp_path / "voila.log").read_text():
            assert time.monotonic() < deadline, "the traceback should be in the server log"
            time.sleep(0.5)


def test_the_server_log_gets_one_line_per_label_batch(tmp_path):
    import threading

    from al_widgets.app.voila_main import watch_store
    from al_widgets.core import LabelStore
    store = tmp_path / "s.sqlite"
    with LabelStore(store) as st:
        st.add_label("a", 1, "alice")
    lines, stop, looked = [], threading.Event(), threading.Event()
    t = threading.Thread(target=watch_store, args=(str(store), lines.append, 0.05, stop, looked), daemon=True)
    t.start()
    assert looked.wait(10)  # the first look only takes stock
    with LabelStore(store) as st:
        st.add_labels([("b", 1), ("c", 0)], "alice")
        st.add_label("d", 0, "bob")
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    t.join(5)
    assert lines and lines[0] == "al_widgets: labels alice +2, bob +1; 4 in the store"


def test_stopping_serve_stops_everything_it_started(tmp_path):
    """`kill` on the al-widgets process (not its group): Voila, its kernels and the UMAP precompute go too."""
    import subprocess
    import sys

    from al_widgets.app.server import free_port
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "al_widgets.cli", "demo", "--store", str(tmp_path / "l.sqlite"),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, AL_WIDGETS_CACHE=str(tmp_path / "cache")), start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "serving the labeling app" not in proc.stdout.readline():
            assert time.monotonic() < deadline and proc.poll() is None
        _get(f"http://127.0.0.1:{port}/")  # a page, so a kernel runs too
        children = psutil.Process(proc.pid).children(recursive=True)
        assert any("precompute" in " ".join(c.cmdline()) for c in children)
        proc.terminate()  # SIGTERM to the CLI alone
        proc.wait(30)
        gone, alive = psutil.wait_procs(children, timeout=30)
        assert alive == [], [" ".join(p.cmdline())[:80] for p in alive]
    finally:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass


def test_kill_9_of_serve_stops_voila_and_a_restart_takes_the_port_at_once(tmp_path):
    """Issue 19: after `kill -9` Voila lived on (parent PID 1) holding the port; a restart right after
    a stop failed for ~60 s ("Address already in use": connections in TIME-WAIT)."""
    import subprocess
    import sys

    from al_widgets.app.server import free_port
    port = free_port()
    env = dict(os.environ, AL_WIDGETS_CACHE=str(tmp_path / "cache"))
    args = [sys.executable, "-m", "al_widgets.cli", "demo", "--store", str(tmp_path / "l.sqlite"), "--no-umap",
            "--port", str(port), "--warm-kernels", "0"]

    def start():
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                start_new_session=True)
        deadline = time.monotonic() + 120
        while "serving the labeling app" not in proc.stdout.readline():
            assert time.monotonic() < deadline and proc.poll() is None
        return proc

    proc = start()
    try:
        code, _ = _get(f"http://127.0.0.1:{port}/")  # a page and its kernel: connections now in TIME-WAIT
        assert code == 200
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.kill()  # SIGKILL: the CLI cannot stop anything itself
        proc.wait(10)
        gone, alive = psutil.wait_procs(children, timeout=30)
        assert alive == [], [" ".join(p.cmdline())[:80] for p in alive]
        again = start()  # the same port, at once
        again.terminate()
        again.wait(30)
    finally:
        for p in (proc,):
            try:
                os.killpg(p.pid, 9)
            except ProcessLookupError:
                pass
