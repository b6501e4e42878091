"""Who a session writes as, and what that person may do: enforced in the kernel, whatever a client sends."""
from __future__ import annotations

ROLES = ("admin", "annotator")


class Identity:
    """The person behind a session.

    Parameters
    ----------
    name : str
        Recorded with every label.
    signed_in : bool
        ``name`` comes from a sign-in (the served app): it can never change, and no write may be
        stored under another name (:class:`PermissionError`).
    role : {"admin", "annotator"}
        Only an ``admin`` decides conflicts, corrects flagged labels and changes the strategy.
    """

    def __init__(self, name: str, signed_in: bool = False, role: str = "admin") -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"annotator must be a non-empty name, got {name!r}")
        self._name, self._signed_in, self._role = name, bool(signed_in), role

    @property
    def name(self) -> str:
        return self._name

    @property
    def signed_in(self) -> bool:
        return self._signed_in

    @property
    def role(self) -> str:
        return self._role

    def rename(self, name: str) -> None:
        """A new name for later writes (refused once signed in, unless it is the same name)."""
        if self._signed_in:
            if name == self._name:
                return
            raise PermissionError(f"signed in as {self._name!r}: the name cannot be changed to {name!r}")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"annotator must be a non-empty name, got {name!r}")
        self._name = name.strip()

    def writer(self, annotator: str | None) -> str:
        """The name a write is stored under: this person's, or ``annotator`` when not signed in."""
        if annotator is None or annotator == self._name:
            return self._name
        if self._signed_in:
            raise PermissionError(f"signed in as {self._name!r}: cannot write as {annotator!r}")
        return annotator

    def require_admin(self, what: str) -> None:
        """Refuse ``what`` (in words, e.g. ``"decide labels"``) to anyone but an admin."""
        if self._role != "admin":
            raise PermissionError(f"{self._name!r} is an annotator: only an admin may {what}")
