"""Warm kernels: a small pool of kernels that have already imported the app's modules.

A fresh kernel spends most of the first page's wait importing scikit-learn, scipy and pandas
(about 1.2 s of the 1.4 s between Voila's one-button page and ours).  ``WarmKernelManager``
keeps ``warm_kernels`` kernels started and warmed with the imports and the served data
(``warm_code``: :func:`al_widgets.app.prepare` loads the pool, memory-mapped from the server's
dataset cache) and hands one to the next page instead of starting a new process.  The page still
runs the whole app notebook at request time (sign-in cell, store, session), so a warm page is never
stale: nothing that depends on the labels or the visitor is computed before the request, and the
prepared data is used only if neither the configuration nor the data file changed since.

Pool kernels are not counted against the kernel cap, are never culled while they wait, and are
replaced (after ``fill_delay`` seconds, so the refill does not compete with the page being built)
when one is handed out.  ``warm_kernels = 0`` turns the pool off.
"""
from __future__ import annotations

import asyncio
import os
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.utils import ApiPath
from traitlets import Float, Int, Unicode, default

from .guard import LIMITS, PAGE_USER
from .server_settings import current

POOL_MARK = "AL_WIDGETS_POOL_KERNEL"  # in a pool kernel's environment (tests tell pool from pages)
WARM_CODE = ("import al_widgets.app, al_widgets.widgets.labeling, al_widgets.widgets.keyboard\n"
             "al_widgets.app.prepare()  # the served data, loaded (or mapped) before a page asks")


class WarmKernelManager(AsyncMappingKernelManager):
    """Voila's kernel manager with a pool of import-warmed kernels (``multi_kernel_manager_class``)."""

    warm_kernels = Int(config=True, help="Kernels kept started and warmed with imports (0: no pool)")
    @default("warm_kernels")
    def _default_warm_kernels(self) -> int:
        return current().warm_kernels

    warm_code = Unicode(WARM_CODE, config=True, help="Code run in a pool kernel (imports and the served data)")
    warm_kernel_name = Unicode("python3", config=True)
    fill_delay = Float(4.0, config=True, help="Seconds to wait before replacing a handed-out kernel")
    warm_timeout = Float(180.0, config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._warm: list[str] = []  # ready, waiting for a page
        self._warming: set[str] = set()  # started for the pool, still importing
        self.owners: dict[str, str] = {}  # kernel id -> the signed-in person whose page it serves
        self._filling = 0
        self._tasks: set[asyncio.Task] = set()
        self._warm_path = self._notebook_dir()
        self.fill(delay=0.0)

    def _notebook_dir(self) -> str | None:
        parent = getattr(self, "parent", None)
        nb = getattr(parent, "notebook_path", None)
        if not nb:
            return None
        return os.path.dirname(os.path.relpath(os.path.abspath(nb), os.path.abspath(self.root_dir)))

    @property
    def warm_ids(self) -> list[str]:
        """Kernels waiting in the pool (not serving any page)."""
        return list(self._warm)

    def in_use(self) -> int:
        """Kernels serving pages (everything but the pool, ready or still warming)."""
        return len([k for k in self.list_kernel_ids() if k not in self._warm and k not in self._warming])

    # -- the pool -----------------------------------------------------------------------------
    def fill(self, delay: float | None = None) -> None:
        """Start warm kernels until the pool (ready + starting) holds ``warm_kernels``."""
        if self._warm_path is None:
            return
        missing = self.warm_kernels - len(self._warm) - self._filling
        for _ in range(max(missing, 0)):
            self._filling += 1
            task = asyncio.get_event_loop().create_task(self._start_warm(self.fill_delay if delay is None else delay))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _start_warm(self, delay: float) -> None:
        kid = None
        try:
            await asyncio.sleep(delay)
            kid = await super().start_kernel(kernel_name=self.warm_kernel_name, path=self._warm_path,
                                             env=dict(os.environ, VOILA_PREHEAT="False", **{POOL_MARK: "1"}))
            self._warming.add(kid)
            await asyncio.wait_for(self._run(kid, self.warm_code), self.warm_timeout)
            self._warm.append(kid)
            self.log.info("al_widgets: warm kernel %s ready (%d in the pool)", kid, len(self._warm))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed warm-up must not take the server down
            self.log.warning("al_widgets: could not warm a kernel: %s", exc)
            if kid is not None and kid in self:
                await ensure_async(super().shutdown_kernel(kid, now=True))
        finally:
            self._filling -= 1
            self._warming.discard(kid)

    async def _run(self, kernel_id: str, code: str) -> None:
        """Execute ``code`` silently in the kernel; raise if it fails."""
        client = self.get_kernel(kernel_id).client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=self.warm_timeout)
            msg_id = client.execute(code, silent=True, store_history=False)
            while True:
                reply = await client.get_shell_msg(timeout=self.warm_timeout)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            content = reply["content"]
            if content.get("status") != "ok":
                raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")
        finally:
            client.stop_channels()

    async def _take_warm(self, path: ApiPath | None, kernel_name: str | None) -> str | None:
        if not self._warm or path != self._warm_path or (kernel_name or "python3") != self.warm_kernel_name:
            return None
        while self._warm:
            kid = self._warm.pop(0)
            if kid in self and await ensure_async(self.get_kernel(kid).is_alive()):
                return kid
        return None

    # -- kernel manager overrides -------------------------------------------------------------
    async def start_kernel(self, *, kernel_id: str | None = None, path: ApiPath | None = None,
                           **kwargs: Any) -> str:  # type: ignore[override]
        """A pool kernel when one is ready for this notebook, else a new one; the pool is refilled."""
        kid = None if kernel_id is not None else await self._take_warm(path, kwargs.get("kernel_name"))
        if kid is not None:
            from jupyter_server._tz import utcnow
            self.get_kernel(kid).last_activity = utcnow()
            self.log.info("al_widgets: page served by warm kernel %s", kid)
        else:
            kid = await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        owner = PAGE_USER.get()
        if owner is not None:
            self.owners[kid] = owner
        self.fill()
        return kid

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """Pool kernels wait for a page: never culled while waiting."""
        if kernel_id in self._warm:
            return
        await super().cull_kernel_if_idle(kernel_id)

    async def shutdown_kernel(self, kernel_id: str, *args: Any, **kwargs: Any) -> None:
        if kernel_id in self._warm:
            self._warm.remove(kernel_id)
        self.owners.pop(kernel_id, None)
        LIMITS.comms.pop(kernel_id, None)
        await ensure_async(super().shutdown_kernel(kernel_id, *args, **kwargs))

    async def shutdown_all(self, *args: Any, **kwargs: Any) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._warm.clear()
        await ensure_async(super().shutdown_all(*args, **kwargs))
