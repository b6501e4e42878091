"""Serving a pool held by a Dask cluster: ``al-widgets serve big.parquet --dask local|ADDRESS``.

The ``serve`` command starts a local cluster (bound to 127.0.0.1) or connects to one; every page's
kernel connects a client to the same scheduler and builds a
:class:`~al_widgets.core.backends.dask_pool.DaskPool`: the rows stay on the workers, the kernel
keeps only labels, the queue and the map's markers (the map's level of detail asks the cluster).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import AppConfig, ConfigError

STRATEGY = "margin"
"""The app's strategy on a cluster when none that ranks per sample was named (focused CLUE needs the
whole pool in one place)."""


def start_local(workers: int = 2) -> Any:
    """A ``distributed.LocalCluster`` on 127.0.0.1 only, for the lifetime of ``serve``."""
    try:
        from distributed import LocalCluster
    except ImportError:
        raise ConfigError("--dask needs dask[distributed]: pip install 'al_widgets[scale]'") from None
    # every listener on the loopback: the scheduler, the workers and their HTTP (health) endpoints
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0")


_CLIENTS: dict[str, Any] = {}


def client_for(address: str) -> Any:
    """One client per scheduler address in this process (a kernel reused by several pages keeps it)."""
    from distributed import Client
    client = _CLIENTS.get(address)
    if client is None or client.status not in ("running", "connecting"):
        client = _CLIENTS[address] = Client(address, set_as_default=False, timeout="30s")
    return client


def close_clients() -> None:
    """Close this process's clients (before their cluster goes: no "lost computed tasks" warnings)."""
    while _CLIENTS:
        _CLIENTS.popitem()[1].close()


def load_on_cluster(path: Path, config: AppConfig) -> tuple[Any, str]:
    """The pool of a Parquet dataset held by the cluster at ``config.dask`` (its numeric columns,
    without the label and id columns, as features) and those features in words."""
    from ..core.backends.dask_pool import DaskPool
    if config.multi_label or config.text_column:
        raise ConfigError("--dask serves numeric Parquet columns of one class per sample "
                          "(text and tags on a cluster: DaskPool.from_text_parquet in a notebook)")
    if path.suffix.lower() not in (".parquet", ".pq") and not path.is_dir():
        raise ConfigError(f"--dask reads Parquet (a file or a folder of parts), not {path.name}")
    if not config.classes or len(config.classes) < 2:
        raise ConfigError("--dask needs --classes a,b: the labels live in the store, not in the data")
    columns = numeric_columns(path, {config.label_column, config.id_column})
    try:
        pool = DaskPool.from_parquet(str(path), columns, list(config.classes), client_for(config.dask))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot read {path} on the cluster: {' '.join(str(exc).split())[:300]}") from None
    workers = len(pool.client.scheduler_info().get("workers", {}))
    return pool, f"{len(columns)} numeric columns, held by a Dask cluster ({workers} workers)"


def numeric_columns(path: Path, skip: set) -> list[str]:
    """The numeric columns of a Parquet file or folder, from its schema (no row is read)."""
    import pyarrow.dataset as ds
    import pyarrow.types as pt
    try:
        schema = ds.dataset(str(path), format="parquet").schema
    except Exception as exc:  # noqa: BLE001 - one line for the command
        raise ConfigError(f"cannot read {path} as Parquet: {' '.join(str(exc).split())[:300]}") from None
    cols = [f.name for f in schema if f.name not in skip and not f.name.startswith("__")
            and (pt.is_integer(f.type) or pt.is_floating(f.type))]
    if not cols:
        raise ConfigError(f"{path} has no numeric feature columns")
    return cols
