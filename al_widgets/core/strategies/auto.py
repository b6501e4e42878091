"""``auto``: each round, the strategy that suits what the session knows now — no refitting replays.

The first version of ``auto`` replayed a small race of its arms on the labels so far and switched on
a significant replay advantage.  It refit the model 24 times a round (11 s a query with boosted
trees on digits against 0.4 s for focused CLUE) and chose focused CLUE for most batches: cost without
accuracy.  A bandit rewarded by audit labels cannot do better within a few hundred labels (ten to
thirty rewards, each about one arm, cannot separate arms 1-3 points apart).  What separates the
strategies is visible in the session, so ``auto`` decides by that:

* **Spread** (CoreSet's k-center) where the features' distances do not carry the classes and the
  model could fit noise: from 3 labels per class on, while the features outnumber the labels, if
  the labeled samples' nearest labeled neighbours share their class no more often than shuffled
  labels would (:func:`neighbour_agreement`, ``z < 1.5``), the model's boundary is fitted to noise
  (6 informative features among 200: focused CLUE was 0.035 below CoreSet over 20 seeds).
* **The boundary** (focused CLUE, the best all-rounder of the race) otherwise; ``balance`` raises
  the weight of samples predicted as classes with few labels (off by default: on rare3 it moved
  balanced accuracy by +0.003 ± 0.011 on held-out seeds and cost the 12-task race up to 0.005).
* **Typical** samples (TypiClust) while the model gives every candidate the same probabilities:
  boosted trees on digits do not split before about 40 labels (20 samples a leaf), so neither
  uncertainty nor the boundary rank anything (trees, seeds 0-4: +0.013 over focused CLUE).  Also,
  when asked (``typical_per_class``), while labels per class are few and predictions balanced: on
  its own that rule gave nothing on held-out seeds.

Until every class has a label the session's cold start and class coverage take turns with it (see
:mod:`al_widgets.core.session.training`).  ``explain()`` says which phase chose the current batch
and why.  Measured in ``benchmarks/bench_strategies.py --weak`` (see docs/strategies.md).
"""
from __future__ import annotations


from typing import Any

import numpy as np
from sklearn.metrics import pairwise_distances

from ..params import check_number
from ..scoring.context import ScoringContext
from .base import QueryStrategy, check_k
from .batch import CoreSet, FocusedCLUE, TypiClust

MAX_CHECKED = 2000
"""The class-structure check looks at most at this many labeled samples (a uniform sample)."""


def neighbour_agreement(features: Any, y: np.ndarray) -> tuple[float, float, float]:
    """Do the features' distances carry the classes?  ``(agreement, chance, z)``.

    ``agreement``: the share of labeled samples whose nearest *other* labeled sample has the same
    label (leave-one-out 1-NN accuracy); ``chance``: what that share is expected to be if the
    labels were shuffled, ``sum n_c (n_c - 1) / (n (n - 1))``; ``z``: their difference in standard
    errors of a share of ``n`` samples.  On features where every direction but a few is noise, the
    nearest neighbour is a random sample and ``z`` stays near 0 however many labels come.
    """
    y = np.asarray(y)
    n = len(y)
    if n < 3:
        return float("nan"), float("nan"), 0.0
    D = pairwise_distances(features)
    np.fill_diagonal(D, np.inf)
    agreement = float(np.mean(y[D.argmin(axis=1)] == y))
    _, counts = np.unique(y, return_counts=True)
    chance = float((counts * (counts - 1)).sum() / (n * (n - 1)))
    se = np.sqrt(max(chance * (1 - chance), 1e-12) / n)
    return agreement, chance, float((agreement - chance) / se)


class AutoSelector(QueryStrategy):
    """k-center spread where the features carry no class structure, the boundary otherwise.

    Parameters
    ----------
    typical_per_class : float
        Mean labels per class below which typical samples are picked (0, the default: never).
    imbalance : float
        The pool counts as imbalanced when its largest predicted class holds more than
        ``imbalance / n_classes`` of the candidates (then the boundary from the start).
    structure_per_class : float
        From this many labels per class on, while the features outnumber the labels (a linear model
        can then separate any labeling, noise included), the labels are checked for class structure
        in the features (:func:`neighbour_agreement`); where nearest labeled neighbours agree with
        each other less than ``structure_z`` standard errors above chance, the model's boundary is
        fitted to noise and the batch is spread by k-center instead (CoreSet).  0 switches the check
        off.  Where the labels outnumber the features the model's boundary is constrained by them
        and followed (on rings of polynomial features an early spread cost 0.017-0.04).
    structure_z : float
        The check's threshold (1.5: on noisy features the agreement stays within about one standard
        error of chance, on the 16 other race tasks it grows with the labels).
    balance : float
        Focused CLUE's ``balance``: weight for samples predicted as classes with few labels (0: none).
    random_state : int or None
    """

    name = "auto"
    description = ("Auto: focused CLUE's uncertain and diverse batches; a k-center spread where the features show "
                   "no class structure, typical samples while the model ranks nothing; no extra model fits.")

    def __init__(self, typical_per_class: float = 0.0, imbalance: float = 1.5, structure_per_class: float = 3.0,
                 structure_z: float = 1.5, balance: float = 0.0, random_state: int | None = None) -> None:
        self.typical_per_class = typical_per_class
        self.imbalance = imbalance
        self.structure_per_class = structure_per_class
        self.structure_z = structure_z
        self.balance = balance
        self.random_state = random_state

    def validate(self) -> None:
        check_number(self.typical_per_class, "typical_per_class", "real", 0, what="a number >= 0")
        check_number(self.imbalance, "imbalance", "real", 1, what="a number >= 1")
        check_number(self.structure_per_class, "structure_per_class", "real", 0, what="a number >= 0")
        check_number(self.structure_z, "structure_z", "real", what="a number")
        check_number(self.balance, "balance", "real", 0, 10)

    # ------------------------------------------------------------ the decision
    def decide(self, ctx: ScoringContext) -> tuple[str, str, QueryStrategy]:
        """``(phase, reason, strategy)`` for this round, from the labels and the model's predictions."""
        seed = int(self.rng().integers(2**31))  # the arms draw new numbers every round, reproducibly
        n_classes = max(len(ctx.classes) if ctx.classes is not None else 0, 2)
        per_class = (0 if ctx.y_labeled is None else len(ctx.y_labeled)) / n_classes
        boundary = FocusedCLUE(balance=self.balance, random_state=seed)
        if len(ctx.candidates) > 1 and np.ptp(np.asarray(ctx.summary["margin"])[ctx.candidates]) <= 1e-9:
            return ("typical", "the model gives every candidate the same probabilities (e.g. trees that have not "
                               "split yet): nothing to rank by, so typical samples (TypiClust)",
                    TypiClust(random_state=seed))
        if 0 < float(self.structure_per_class) <= per_class:
            agreement, chance, z = self._structure(ctx)
            if z < float(self.structure_z):
                return ("spread", f"nearest labeled neighbours share a class {agreement:.0%} of the time, chance "
                                  f"{chance:.0%}: the features' distances do not carry the classes yet, so the "
                                  "model's boundary is fitted to noise; k-center spread (CoreSet)",
                        CoreSet(random_state=seed))
        if per_class < float(self.typical_per_class) and len(ctx.candidates):
            top = np.asarray(ctx.summary["argmax"])[ctx.candidates]
            share = np.bincount(top.astype(int), minlength=n_classes).max() / len(top)
            if share <= float(self.imbalance) / n_classes:
                return ("typical", f"{per_class:.1f} labels per class and balanced predictions (largest class "
                                   f"{share:.0%}): typical samples until {float(self.typical_per_class):g} per class",
                        TypiClust(random_state=seed))
            return ("boundary", f"imbalanced predictions (largest class {share:.0%} of the pool): focused CLUE",
                    boundary)
        return "boundary", f"{per_class:.1f} labels per class: focused CLUE", boundary

    def _structure(self, ctx: ScoringContext) -> tuple[float, float, float]:
        """:func:`neighbour_agreement` of (at most :data:`MAX_CHECKED`) labeled samples, only while the
        features outnumber the labels (otherwise ``z = inf``: nothing computed, the boundary kept)."""
        labeled = np.asarray(ctx.labeled if ctx.labeled is not None else [], dtype=int)
        y = np.asarray(ctx.y_labeled)
        if len(labeled) != len(y):
            return float("nan"), float("nan"), np.inf  # nothing to check against: keep the model's view
        n_labels = len(y)
        if len(y) > MAX_CHECKED:
            keep = np.sort(self.rng().choice(len(y), MAX_CHECKED, replace=False))
            labeled, y = labeled[keep], y[keep]
        F = ctx.features_of(labeled)  # sparse rows stay sparse
        if F.shape[1] <= n_labels:  # the labels constrain the model's boundary: no distances computed
            return float("nan"), float("nan"), np.inf
        return neighbour_agreement(F, y)

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
