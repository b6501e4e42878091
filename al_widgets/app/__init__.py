"""The Voila labeling app for domain experts: configuration, data loading and layout."""
from __future__ import annotations

import atexit
import os
import uuid
from typing import Any

from .config import AppConfig
from .data import AppData, ConfigError, load

__all__ = ["AppConfig", "AppData", "ConfigError", "build_app", "build_session", "load", "prepare"]

_PREPARED: dict[str, AppData] = {}


def _data_key(config: AppConfig) -> str:
    """What the loaded data depends on: the configuration and the data file as it is now."""
    import json
    from dataclasses import asdict
    try:
        st = os.stat(config.dataset)
        stamp = f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        stamp = ""
    return json.dumps(asdict(config), sort_keys=True, default=str) + stamp


def prepare(config: AppConfig | None = None) -> bool:
    """Load the served data before any page asks (a warm kernel runs this after its imports).

    The next :func:`build_app` in this kernel starts from it, if neither the configuration nor the
    data file changed meanwhile.  A failure is left for the page to report.  Returns whether the
    data is ready.
    """
    try:
        config = config or AppConfig.from_env()
        _PREPARED[_data_key(config)] = load(config)
        return True
    except Exception:  # noqa: BLE001 - the page loads (and explains) it itself
        return False


def _load_once(config: AppConfig) -> AppData:
    """The prepared data (once: one page per kernel), or a fresh load."""
    data = _PREPARED.pop(_data_key(config), None)
    return data if data is not None else load(config)


def build_session(config: AppConfig, data: AppData | None = None, annotator: str | None = None,
                  store: Any = None, background: bool = True, role: str = "admin",
                  signed_in: bool = False) -> Any:
    """An :class:`ActiveLearningSession` on the configured data and store.

    ``signed_in``: ``annotator`` and ``role`` come from the server's sign-in and are fixed for
    the session's life (no widget and no call can change them).
    """
    from ..core import ActiveLearningSession

    data = data or load(config)
    if not annotator and store is None:  # single-user app: the name labels were last given under
        annotator = last_annotator(config.store)
    session = ActiveLearningSession(data.model, data.pool, _strategy(config, data.pool.task),
                                    store=store if store is not None else config.store, X_test=data.X_test,
                                    y_test=data.y_test, batch_size=config.batch_size, budget=config.budget,
                                    annotator=annotator or f"expert-{uuid.uuid4().hex[:4]}", background=background,
                                    allow_mismatch=config.allow_mismatch, random_state=0, overlap=config.overlap,
                                    signed_in=signed_in, role=role,
                                    audit=config.audit if data.X_test is None else 0.0)
    atexit.register(session.close)  # a closed tab's kernel exits: free its claims for the others
    return session


def _strategy(config: AppConfig, task: str) -> str:
    """The configured strategy; left on the app's default, a tag pool gets the tag default and a pool
    on a cluster one that ranks sample by sample."""
    from ..core.strategies.catalog import DEFAULTS, REGISTRY, supports
    default = AppConfig.__dataclass_fields__["strategy"].default
    if config.strategy == default and config.dask:  # ranked block by block on the cluster
        from .cluster import STRATEGY
        return STRATEGY
    if config.strategy == default and config.strategy in REGISTRY and not supports(REGISTRY[default], task):
        return DEFAULTS[task]
    return config.strategy


def last_annotator(store: str | None) -> str | None:
    """The name of the newest label in ``store`` (``None`` for a new or unreadable store).

    The single-user app has a name box, not a sign-in: a reload keeps the name instead of
    storing the next labels under a new random one.
    """
    import sqlite3

    from ..core import LabelStore
    if not store or not os.path.isfile(store):
        return None
    try:
        with LabelStore(store, readonly=True) as st:
            return st.newest_annotator()
    except (sqlite3.Error, OSError):
        return None


def build_app(config: AppConfig | None = None, user: str | None = None, role: str = "admin") -> Any:
    """The app's root widget (what the Voila notebook displays).

    Parameters
    ----------
    config : AppConfig, optional
        What to serve (default: :meth:`AppConfig.from_env`).
    user, role : str, optional
        The signed-in person (the server passes them: see ``app/voila_main.py``); without a user
        the app is single-user, with a name box, and the page is an admin's.
    """
    import ipywidgets as w

    from ..widgets import ALDashboard
    from ..widgets.render import escape

    config = config or AppConfig.from_env()
    data = _load_once(config)
    role = (role if role in ("admin", "annotator") else "annotator") if user else "admin"
    session = build_session(config, data, annotator=user, role=role, signed_in=bool(user))
    kwargs = {"cache_dir": config.cache_dir} if config.cache_dir else {}
    dash = ALDashboard(session, umap=config.umap, true_labels=data.true_labels, keyboard_scope="page",
                       role=role, signed_in=bool(user), blind=config.blind and role == "annotator",
                       defer_figures=True, map_pause=config.map_pause, **kwargs)
    n = session.pool.n
    intro = w.HTML(
        f"<h2 style='margin:4px 0'>{escape(config.title)}</h2>"
        f"<p>Label the sample on the left: click its class (or press the key shown on its button), "
        f"<i>Skip</i> if unsure, "
        f"<i>Undo</i> to step back. {'' if user else 'Type your name under the buttons. '}"
        f"Every label is saved immediately; the model retrains behind the scenes and picks the next most "
        f"useful samples. Pool: {n} samples, {len(session.pool.classes or [])} classes.</p>")
    root = w.VBox([intro, dash])
    root.add_class("alw-app")
    root.session, root.dashboard = session, dash
    return root
