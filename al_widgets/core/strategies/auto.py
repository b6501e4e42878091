"""``auto``: each round, the strategy that suits what the session knows now — no refitting replays.

The first version of ``auto`` replayed a small race of its arms on the labels so far and switched on
a significant replay advantage.  It refit the model 24 times a round (11 s a query with boosted
trees on digits against 0.4 s for focused CLUE) and chose focused CLUE for most batches: cost without
accuracy (the weak-spot race: within 0.001 of focused CLUE on all four tasks).  A bandit rewarded by
audit labels cannot do better within a few hundred labels (ten to thirty rewards, each about one
arm, cannot separate arms 1-3 points apart).  What separates the strategies is visible in the
session, so ``auto`` decides by that:

* **Typical** samples (TypiClust) while labels per class are few (fewer than ``typical_per_class``
  on average) and the model predicts a balanced pool: representativeness beats the boundary
  while the model is weak (the low-budget switch of Hacohen et al., 2022).  In the weak-spot race
  TypiClust led on many classes at a low budget, on boosted trees and on noisy features.
* **The boundary** (focused CLUE, the best all-rounder of the race) otherwise, and from the start
  when the predicted classes are imbalanced (the largest predicted class holds more than
  ``imbalance`` times its fair share): typical samples are then majority samples, and TypiClust
  fell below random on a 90/5/5 pool while focused CLUE found the rare classes.

Until every class has a label the session's cold start and class coverage pick (see
:mod:`al_widgets.core.session.training`).  ``explain()`` says which phase chose the current batch
and why.  Measured in ``benchmarks/bench_strategies.py --weak`` (see docs/strategies.md).
"""
from __future__ import annotations


import numpy as np

from ..params import check_number
from ..scoring.context import ScoringContext
from .base import QueryStrategy, check_k
from .batch import FocusedCLUE, TypiClust


class AutoSelector(QueryStrategy):
    """Typical samples while labels per class are few on a balanced pool, then the boundary.

    Parameters
    ----------
    typical_per_class : float
        Mean labels per class below which typical samples are picked.
    imbalance : float
        The pool counts as imbalanced when its largest predicted class holds more than
        ``imbalance / n_classes`` of the candidates (then the boundary from the start).
    random_state : int or None
    """

    name = "auto"
    description = ("Auto: the most typical samples while labels per class are few (unless the classes look "
                   "imbalanced), then focused CLUE's uncertain and diverse batches; no extra model fits.")

    def __init__(self, typical_per_class: float = 8.0, imbalance: float = 1.5,
                 random_state: int | None = None) -> None:
        self.typical_per_class = typical_per_class
        self.imbalance = imbalance
        self.random_state = random_state

    def validate(self) -> None:
        check_number(self.typical_per_class, "typical_per_class", "real", 0, what="a number >= 0")
        check_number(self.imbalance, "imbalance", "real", 1, what="a number >= 1")

    # ------------------------------------------------------------ the decision
    def decide(self, ctx: ScoringContext) -> tuple[str, str, QueryStrategy]:
        """``(phase, reason, strategy)`` for this round, from the labels and the model's predictions."""
        seed = self.random_state
        n_classes = max(len(ctx.classes) if ctx.classes is not None else 0, 2)
        per_class = (0 if ctx.y_labeled is None else len(ctx.y_labeled)) / n_classes
        if per_class < float(self.typical_per_class) and len(ctx.candidates):
            top = np.asarray(ctx.summary["argmax"])[ctx.candidates]
            share = np.bincount(top.astype(int), minlength=n_classes).max() / len(top)
            if share <= float(self.imbalance) / n_classes:
                return ("typical", f"{per_class:.1f} labels per class and balanced predictions (largest class "
                                   f"{share:.0%}): typical samples until {float(self.typical_per_class):g} per class",
                        TypiClust(random_state=seed))
            return ("boundary", f"imbalanced predictions (largest class {share:.0%} of the pool): focused CLUE",
                    FocusedCLUE(random_state=seed))
        return "boundary", f"{per_class:.1f} labels per class: focused CLUE", FocusedCLUE(random_state=seed)

    # ------------------------------------------------------------ the strategy interface
    def score(self, ctx: ScoringContext) -> np.ndarray:
        self.validate()
        ctx.require_classifier("'auto'")
        phase, reason, arm = self.decide(ctx)
        ctx.scratch(self)["arm"] = arm
        self.last_choice_ = (phase, arm.name, reason)  # what the status line and the curve record
        return np.asarray(arm.score(ctx), dtype=float)

    def query_scored(self, ctx: ScoringContext, k: int, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = min(check_k(k), len(ctx.candidates))
        if "arm" not in ctx.scratch(self):
            scores = self.score(ctx)
        return ctx.scratch(self)["arm"].query_scored(ctx, k, scores)

    @property
    def chosen_name(self) -> str:
        """``auto: <strategy>`` for the batch just chosen (what the top-k and the curve record)."""
        choice = getattr(self, "last_choice_", None)
        return self.name if choice is None else f"auto: {choice[1]}"

    def explain(self) -> str:
        """One line: the phase behind the current batch and why."""
        choice = getattr(self, "last_choice_", None)
        if choice is None:
            return "auto: no batch chosen yet"
        phase, arm, reason = choice
        return f"auto chose {arm} ({phase}: {reason})"
