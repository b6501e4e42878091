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
            if raw:
                values[f.name] = raw if f.name in PATHS else _number(name, raw, NUMBERS[f.name])
        return cls(**values)


PATHS = {"users", "config"}
NUMBERS: dict[str, tuple[type, float]] = {  # field -> (type, smallest value allowed)
    "max_kernels": (int, 1), "max_kernels_per_user": (int, 1), "max_comms": (int, 1), "max_frame": (int, 1),
    "key_tries": (int, 1), "revoke_every": (float, 0.01), "warm_kernels": (int, 0), "parent_pid": (int, 1)}


def _number(name: str, raw: str, rule: tuple[type, float]) -> Any:
    kind, minimum = rule
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, got {raw!r}")
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
