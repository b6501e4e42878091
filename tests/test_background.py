"""Work run in a spawned process returns its result, and dies with its parent."""
import os
import signal
import subprocess
import sys
import textwrap
import time

from al_widgets.core.layout.background import run_in_subprocess


def test_result_comes_back():
    assert run_in_subprocess(divmod, 17, 5) == (3, 2)


def test_child_exits_when_its_parent_is_killed(tmp_path):
    pid_file = tmp_path / "child.pid"
    code = textwrap.dedent(f"""
        import os, time
        from al_widgets.core.layout.background import run_in_subprocess

        def job(path):
            open(path, "w").write(str(os.getpid()))
            time.sleep(120)

        if __name__ == "__main__":
            run_in_subprocess(job, {str(pid_file)!r}, _watch_period=0.2)
    """)
    script = tmp_path / "parent.py"
    script.write_text(code)
    parent = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "child never started"
            time.sleep(0.1)
        child = int(pid_file.read_text())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 15
        while _alive(child):
            assert time.monotonic() < deadline, "child outlived its killed parent"
            time.sleep(0.2)
    finally:
        if parent.poll() is None:
            parent.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by init) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_result_found_elsewhere_stops_the_child():
    """Several kernels computing one UMAP: the first result in the shared cache serves all."""
    calls = []

    def poll():
        calls.append(time.monotonic())
        return "from the cache" if len(calls) >= 2 else None

    t0 = time.monotonic()
    assert run_in_subprocess(time.sleep, 120, _poll=poll) == "from the cache"
    assert time.monotonic() - t0 < 60 and len(calls) == 2  # did not wait for the 120 s job
