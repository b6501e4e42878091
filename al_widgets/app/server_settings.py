"""The Voila server's settings, parsed once from the environment at the Voila entry.

``al-widgets serve`` passes them as ``AL_WIDGETS_*`` variables to the Voila process;
:func:`al_widgets.app.voila_main.main` parses them with :meth:`ServerSettings.from_env` and
:func:`install` makes them the settings every server part reads (:func:`current`).  A bad value is
refused at start with a message naming the variable, never found later on a request.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any, Mapping


@dataclass(frozen=True)
class ServerSettings:
    """Limits and files of one Voila server (see docs/configuration.md for each variable)."""

    users: str | None = None
    """``AL_WIDGETS_USERS``: the users file (personal sign-in links); ``None``: no per-person sign-in."""
    config: str | None = None
    """``AL_WIDGETS_CONFIG``: the app's JSON configuration (the store is watched from it)."""
    max_kernels: int = 8
    """``AL_WIDGETS_MAX_KERNELS``: page kernels at once (about 250 MB each)."""
    max_kernels_per_user: int = 3
    """``AL_WIDGETS_MAX_KERNELS_PER_USER``: pages one signed-in person may hold."""
    max_comms: int = 16
    """``AL_WIDGETS_MAX_COMMS``: widgets a page may open in its kernel."""
    max_frame: int = 4 * 2**20
    """``AL_WIDGETS_MAX_FRAME``: the largest websocket frame from a page, in bytes."""
    key_tries: int = 10
    """``AL_WIDGETS_KEY_TRIES``: wrong sign-in keys per address and minute."""
    revoke_every: float = 2.0
    """``AL_WIDGETS_REVOKE_EVERY``: seconds between checks for removed or renewed people."""
    warm_kernels: int = 1
    """``AL_WIDGETS_WARM_KERNELS``: import-warmed kernels kept waiting for the next page."""
    parent_pid: int | None = None
    """``AL_WIDGETS_PARENT_PID``: Voila stops when this process dies."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ServerSettings":
        """Read every ``AL_WIDGETS_<FIELD>`` variable that is set; ``ValueError`` naming a bad one."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f"AL_WIDGETS_{f.name.upper()}"
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(name, raw, f.default)
        return cls(**values)


def _parse(name: str, raw: str, default: Any) -> Any:
    if default is None and name != "AL_WIDGETS_PARENT_PID":
        return raw  # a path
    kind = float if isinstance(default, float) else int
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    minimum = 0 if name == "AL_WIDGETS_WARM_KERNELS" else 1
    if value < minimum and not (kind is float and value > 0):
        raise ValueError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


_current = ServerSettings()


def install(settings: ServerSettings) -> ServerSettings:
    """Make ``settings`` the server's settings (the Voila entry calls this once, before serving)."""
    global _current
    _current = settings
    return settings


def current() -> ServerSettings:
    """The server's settings (defaults until :func:`install`)."""
    return _current
