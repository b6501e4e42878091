"""Shared Playwright helpers for the real-browser tests and the Voila benchmark."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("AL_WIDGETS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-dev-shm-usage"]


def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless (Playwright's own browser download does not work here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


def wait_ready(page: Any, timeout_ms: int = 180_000) -> None:
    """Wait until the labeling panel's class buttons are on the page."""
    page.wait_for_selector(".alw-class-button", timeout=timeout_ms)


def current_id(page: Any) -> str:
    return page.locator(".alw-labeling code").first.inner_text()


def topk_ids(page: Any) -> list[str]:
    return page.locator(".alw-card code").all_inner_texts()


def plot_points(page: Any, plot: int, trace: int) -> int:
    """Number of x values of ``trace`` in the ``plot``-th plotly figure on the page."""
    return page.evaluate(
        "([p, t]) => { const d = document.querySelectorAll('.js-plotly-plot')[p];"
        " return d && d.data && d.data[t] && d.data[t].x ? d.data[t].x.length : -1; }", [plot, trace])


def wait_next(page: Any, previous: str, timeout_ms: int = 30_000) -> str:
    """Wait until the labeling panel shows a sample other than ``previous``."""
    page.wait_for_function(
        "(prev) => { const c = document.querySelector('.alw-labeling code'); return c && c.innerText !== prev; }",
        arg=previous, timeout=timeout_ms)
    return current_id(page)


class CpuBurner:
    """A busy-looping process beside the server: the tests must hold on a loaded machine."""

    def __init__(self, n: int = 1) -> None:
        self.n = n
        self.procs: list = []

    def __enter__(self) -> "CpuBurner":
        import subprocess
        import sys
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.n)]
        return self

    def __exit__(self, *exc: Any) -> None:
        for p in self.procs:
            p.kill()
            p.wait(10)


FIGURES_JS = """() => {
  const read = (sel) => {
    const d = document.querySelector(sel + ' .js-plotly-plot');
    if (!d || !d.data) return null;
    return d.data.map(t => ({
      n: t.x ? t.x.length : 0,
      x: t.x ? Array.from(t.x) : [],
      colours: t.marker && t.marker.color && t.marker.color.length !== undefined
        ? new Set(Array.from(t.marker.color)).size : 0,
      showscale: !!(t.marker && t.marker.showscale),
      visible: t.visible,
    }));
  };
  return { map: read('.alw-map'), curve: read('.alw-curves') };
}"""


def figures(page: Any) -> dict:
    """What the page's map and learning-curve plots hold (plotly's own ``data`` arrays)."""
    return page.evaluate(FIGURES_JS)


def wait_figures(page: Any, predicate_js: str, arg: Any = None, timeout_ms: int = 60_000) -> dict:
    """Wait until ``predicate_js(figs, arg)`` is true for the page's figures, then return them."""
    page.wait_for_function(f"(arg) => {{ const figs = ({FIGURES_JS})(); return figs.map && figs.curve && "
                           f"({predicate_js})(figs, arg); }}", arg=arg, timeout=timeout_ms)
    return figures(page)


def kernel_processes(server: Any, pool: bool = False) -> list:
    """Live kernel processes serving pages (a culled kernel may linger a moment as a zombie).

    Kernels waiting in the warm pool (``app/warm.py``) serve no page and are left out unless
    ``pool``: a pool kernel counts from the moment the server log says it served a page.
    """
    import re

    import psutil

    served = set(re.findall(r"page served by warm kernel (\S+)", Path(server.log).read_text(errors="replace")))
    alive = []
    for p in psutil.Process(server.proc.pid).children(recursive=True):
        try:
            cmd = p.cmdline()
            if p.status() == psutil.STATUS_ZOMBIE or not any("ipykernel" in part for part in cmd):
                continue
            waiting = p.environ().get("AL_WIDGETS_POOL_KERNEL") == "1" and _kernel_id(cmd) not in served
            if pool or not waiting:
                alive.append(p)
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue
    return alive


def warm_waiting(server: Any) -> int:
    """Warm kernels ready in the server's pool and not yet handed to a page (from the server log)."""
    import re
    log = Path(server.log).read_text(errors="replace")
    ready = set(re.findall(r"warm kernel (\S+) ready", log))
    return len(ready - set(re.findall(r"page served by warm kernel (\S+)", log)))


def _kernel_id(cmdline: list[str]) -> str | None:
    import re
    for part in cmdline:
        m = re.search(r"kernel-([0-9a-f-]+)\.json", part)
        if m:
            return m.group(1)
    return None


# the map's marker trace and axis ranges, as the page holds them (zoom tests and bench_voila)
ZOOM_STATE_JS = """() => {
  const gd = document.querySelector('.alw-map .js-plotly-plot');
  if (!gd || !gd.data || !gd._fullLayout) return null;
  const t = gd.data[0], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  return {ids: Array.from(t.customdata || [], String), x: Array.from(t.x), y: Array.from(t.y), name: t.name,
          xr: xa.range.slice(), yr: ya.range.slice()};
}"""

IN_VIEW_JS = (f"() => {{ const s = ({ZOOM_STATE_JS})(); if (!s || !s.name.includes('in view')) return false;"
              " const [x0, x1] = s.xr, [y0, y1] = s.yr;"
              " return s.x.every((v, i) => v >= Math.min(x0, x1) - 1e-6 && v <= Math.max(x0, x1) + 1e-6"
              "   && s.y[i] >= Math.min(y0, y1) - 1e-6 && s.y[i] <= Math.max(y0, y1) + 1e-6); }")
"""True once the map draws the pool's points in view (the level of detail answered a zoom)."""
