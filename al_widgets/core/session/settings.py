"""One settings object for a session and its retrains (instead of a dozen keyword arguments)."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ..params import check_number


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
    incremental : bool or None
        How a retrain fits after the first: ``None`` (default) warm-starts models whose
        ``warm_start`` re-optimises the same objective from the previous solution (scikit-learn's
        linear models and MLPs: the same model up to the solver's tolerance, far fewer iterations
        with many labels); ``True`` instead calls ``partial_fit`` on the new labels only when the model has
        ``partial_fit`` (about 4x cheaper a retrain, but measured less label-efficient: see the
        README; a label of a class the model has not seen means a full fit); ``False`` always
        fits a fresh clone.
    full_refit_every : int
        With incremental fitting, every this many retrains is a full refit of a fresh clone (and
        always when a label the model was trained on changed or was taken back).
    random_state : int or None
    overlap : float in [0, 1]
        Share of the pool to be labeled by ``overlap_k`` different annotators (for agreement
        statistics and conflict review); which samples is decided by a hash of their id, so every
        annotator's session agrees.
    overlap_k : int
        Annotators per overlap sample (at least 2).
    audit : float in [0, 0.5]
        Share of the samples handed out that are drawn uniformly at random from the unlabeled pool
        (interleaved with the strategy's picks) to estimate the model's quality without a test
        set (:meth:`ActiveLearningSession.accuracy_estimate`).
    conflict_rule : {"newest", "majority", "exclude"} or None
        Training label of a sample whose annotators disagree (a reviewer's decision always wins);
        ``None``: ``"majority"`` with overlap (a two-annotator split is a conflict and is left out of
        training until reviewed), ``"newest"`` without.
    native_threads : int or None
        OpenMP threads a retrain may use (1, the default: scikit-learn's k-means otherwise spins one
        thread per core, 1.4-1.6x slower on two cores, see :mod:`al_widgets.core.session.native_threads`);
        ``None`` leaves the library's own default.
    """

    batch_size: int = 10
    retrain_every: int = 1
    budget: int | None = None
    committee_size: int = 5
    epistemic: bool | None = None
    queue_length: int = 200
    lease_seconds: float = 600.0
    incremental: bool | None = None
    full_refit_every: int = 20
    random_state: int | None = None
    overlap: float = 0.0
    overlap_k: int = 2
    conflict_rule: str | None = None
    audit: float = 0.0
    native_threads: int | None = 1

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad setting."""
        for name in ("batch_size", "retrain_every", "committee_size", "queue_length", "full_refit_every"):
            check_number(getattr(self, name), name, "int", 1)
        check_number(self.budget, "budget", "int", 1, allow_none=True, what="a positive integer or None")
        if self.incremental not in (None, True, False):
            raise ValueError(f"incremental must be True, False or None, got {self.incremental!r}")
        check_number(self.lease_seconds, "lease_seconds", "real", 0, closed="neither", what="positive")
        check_number(self.overlap, "overlap", "real", 0, 1, what="a share between 0 and 1")
        check_number(self.overlap_k, "overlap_k", "int", 2, what="an integer >= 2")
        check_number(self.audit, "audit", "real", 0, 0.5, what="a share between 0 and 0.5")
        check_number(self.native_threads, "native_threads", "int", 1, allow_none=True,
                     what="a positive integer or None")
        if self.conflict_rule not in (None, "newest", "majority", "exclude"):
            raise ValueError(f"conflict_rule must be 'newest', 'majority', 'exclude' or None, got {self.conflict_rule!r}")

    @property
    def rule(self) -> str:
        """The conflict rule in force (see ``conflict_rule``)."""
        return self.conflict_rule or ("majority" if self.overlap > 0 else "newest")

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    def replace(self, **changes: Any) -> "SessionSettings":
        """A validated copy with ``changes``."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return SessionSettings(**values)
