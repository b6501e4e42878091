"""The warm-kernel pool's bookkeeping, in-process (the real server is in test_browser/test_server_hardening)."""
import asyncio
from datetime import timedelta
from types import SimpleNamespace

from jupyter_server._tz import utcnow

from al_widgets.app.warm import WarmKernelManager


class _Kernel(SimpleNamespace):
    async def is_alive(self):
        return self.alive


def _manager(**kernels):
    km = WarmKernelManager(warm_kernels=0)  # no parent notebook: the pool never fills itself
    km.cull_idle_timeout = 1
    shut = []

    async def shutdown_kernel(kid, *a, **k):
        shut.append(kid)
        km._kernels.pop(kid, None)

    km.shutdown_kernel = shutdown_kernel
    for kid, alive in kernels.items():
        km._kernels[kid] = _Kernel(execution_state="idle", kernel_spec=SimpleNamespace(metadata={}),
                                   last_activity=utcnow() - timedelta(hours=1), kernel_name="python3",
                                   alive=alive)
    return km, shut


def test_a_waiting_pool_kernel_is_never_culled_but_a_page_kernel_is():
    km, shut = _manager(pool=True, page=True)
    km._warm = ["pool"]
    asyncio.run(km.cull_kernel_if_idle("pool"))
    asyncio.run(km.cull_kernel_if_idle("page"))
    assert shut == ["page"]
    assert km.in_use() == 0 and km.warm_ids == ["pool"]


def test_pool_kernels_go_only_to_the_app_notebook_and_only_alive():
    km, _ = _manager(dead=False, live=True)
    km._warm_path, km._warm = "", ["dead", "live"]
    assert asyncio.run(km._take_warm("elsewhere", "python3")) is None  # another folder: a fresh kernel
    assert asyncio.run(km._take_warm("", "other-kernel")) is None
    assert km._warm == ["dead", "live"]
    assert asyncio.run(km._take_warm("", None)) == "live"  # the dead one is dropped, not handed out
    assert km._warm == [] and km.in_use() == 2
