"""Named annotators: one secret link per person, stored hashed beside the label store.

``al-widgets users add NAME --store STORE [--role annotator|admin]`` prints that person's link;
the server signs them in from it (see :mod:`al_widgets.app.auth`) and every label they give is
recorded under NAME, never under a name typed in a text box.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from ..core.session.identity import ROLES

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


def users_path(store: str | os.PathLike) -> Path:
    """The users file of a label store: ``<store>.users.json``."""
    return Path(f"{os.fspath(store)}.users.json")


def key_hash(key: str) -> str:
    """SHA-256 of a secret (the secrets are 192 random bits: no slow hash is needed)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Users:
    """The people allowed to sign in, with their role and the hash of their secret.

    Parameters
    ----------
    path : path
        JSON file ``{name: {"role": ..., "key_sha256": ...}}``, written with mode 0600.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        return json.loads(self.path.read_text())

    def _save(self, users: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)  # before the first serve: no data/ yet
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(users, indent=2, sort_keys=True))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def add(self, name: str, role: str = "annotator") -> str:
        """Create (or renew) ``name``'s secret; returns the secret (shown once, stored hashed)."""
        if not _NAME.match(name):
            raise ValueError(f"user name {name!r}: use 1-40 letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        key = secrets.token_urlsafe(24)
        users = self.load()
        users[name] = {"role": role, "key_sha256": key_hash(key)}
        self._save(users)
        return key

    def remove(self, name: str) -> None:
        users = self.load()
        if name not in users:
            raise ValueError(f"no user {name!r}; users are {sorted(users)}")
        del users[name]
        self._save(users)

    def by_key(self, key: str) -> tuple[str, str] | None:
        """``(name, role)`` of the person whose secret is ``key``."""
        h = key_hash(key)
        for name, info in self.load().items():
            if secrets.compare_digest(info.get("key_sha256", ""), h):
                return name, info.get("role", "annotator")
        return None

    def role(self, name: str) -> str | None:
        info = self.load().get(name)
        return None if info is None else info.get("role", "annotator")

    def version(self, name: str) -> str | None:
        """What a sign-in cookie must carry for ``name`` (``None``: no such user).

        Derived from the hash of the current secret and the role: renewing a link, changing the
        role or removing the person makes every cookie given out before worthless.
        """
        return self.versions().get(name)

    def versions(self) -> dict[str, str]:
        """Every person's cookie version (see :meth:`version`), from one read of the file."""
        return {name: hashlib.sha256(f"{info.get('key_sha256', '')}:{info.get('role', 'annotator')}".encode())
                .hexdigest()[:16] for name, info in self.load().items()}
