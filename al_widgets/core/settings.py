"""One settings object for a session and its retrains (instead of a dozen keyword arguments)."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass
class SessionSettings:
    """How a session queries, trains and hands out samples.

    Parameters
    ----------
    batch_size : int
        How many samples the strategy picks per re-score (top-k).
    retrain_every : int
        Retrain after this many new labels.
    budget : int or None
        Label budget shown in progress displays.
    committee_size : int
        Bootstrap members for committee-based scores (when the model is not an ensemble).
    epistemic : bool or None
        Compute the aleatoric/epistemic split for display: always, never, or when cheap (None).
    queue_length : int
        How many ranked samples the queue keeps.
    lease_seconds : float
        How long a claim on a sample holds before another annotator may get it.
    incremental : bool
        ``partial_fit`` the new labels when the model supports it.
    random_state : int or None
    """

    batch_size: int = 10
    retrain_every: int = 1
    budget: int | None = None
    committee_size: int = 5
    epistemic: bool | None = None
    queue_length: int = 200
    lease_seconds: float = 600.0
    incremental: bool = False
    random_state: int | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad setting."""
        for name in ("batch_size", "retrain_every", "committee_size", "queue_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.budget is not None and (isinstance(self.budget, bool) or not isinstance(self.budget, int)
                                        or self.budget < 1):
            raise ValueError(f"budget must be a positive integer or None, got {self.budget!r}")
        if not isinstance(self.lease_seconds, (int, float)) or not self.lease_seconds > 0:
            raise ValueError(f"lease_seconds must be positive, got {self.lease_seconds!r}")

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    def replace(self, **changes: Any) -> "SessionSettings":
        """A validated copy with ``changes``."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return SessionSettings(**values)
