"""How good is the model, and when can labeling stop, without a test set.

**Audit labels.**  With ``SessionSettings(audit=0.1)`` one sample in ten handed out is drawn
uniformly at random from the unlabeled pool (interleaved: the annotator cannot tell).  Each audit
label is checked against the prediction the model made *before* it trained on that label; a
uniformly drawn sample checked by a model that never saw it is an unbiased test of that model.
Audit labels are training labels too, and that does not bias the check: the check is made first.
The estimate of the current model's accuracy is the share of hits among the newest audits (a
window, since older audits tested weaker models: if anything the estimate is pessimistic while
the model still improves), with a Wilson score interval.  Regression: the RMSE of the audit
residuals, with a bootstrap interval.

**Stop advice** follows the stabilizing-predictions rule (Bloodgood & Vijay-Shanker, 2009): the
model's predictions on a fixed *stop set* (a uniform sample of the pool) are compared with those of
the model ``window`` labels earlier by Cohen's kappa; when the last three comparisons are all at or
above ``0.98``, more labels barely change the model, and labeling can stop.  The paper's 0.99 stopped
early in 21-25 % of the runs of ``benchmarks/bench_stopping.py``; 0.98 in 46-58 %, saving 16-18
labels a run on average for a mean accuracy given up of 0.000-0.002 (two seed sets; docs/estimates.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Z90 = 1.6448536269514722
"""Two-sided 90 % normal quantile."""


@dataclass(frozen=True)
class AccuracyEstimate:
    """An estimate of the current model's quality with a 90 % interval.

    Attributes
    ----------
    value, low, high : float
        The estimate and its 90 % interval (NaN when there is nothing to rest on).
    n : int
        How many checks it rests on.
    method : str
        How it was made, in words.
    metric : str
        ``"accuracy"`` (classification), ``"f1"`` (multi-label: the mean F1 of each audit's tag set)
        or ``"rmse"`` (regression).
    """

    value: float
    low: float
    high: float
    n: int
    method: str
    metric: str = "accuracy"

    @property
    def known(self) -> bool:
        return self.n > 0 and self.value == self.value

    def __str__(self) -> str:
        if not self.known:
            return f"no estimate yet ({self.method})"
        name = {"f1": "tag-set F1"}.get(self.metric, self.metric)
        return f"estimated {name} {self.value:.2f} ({self.low:.2f}–{self.high:.2f}, 90 %; {self.n} audit labels)"


@dataclass(frozen=True)
class StopAdvice:
    """Whether more labels still pay off, with the evidence.

    Attributes
    ----------
    stop : bool
        True when the model has stopped changing (see the module docstring).
    reason : str
        Plain words, for people.
    kappas : list of (int, float)
        ``(labels, kappa)``: agreement of the model at that many labels with the model ``window``
        labels earlier, on the stop set.
    estimate : AccuracyEstimate
    """

    stop: bool
    reason: str
    kappas: list = field(default_factory=list)
    estimate: AccuracyEstimate | None = None
    forecast: Any = None
    """A :class:`Forecast` of the labels needed for the next step up in accuracy (or ``None``)."""


def wilson(hits: int, n: int, z: float = Z90) -> tuple[float, float]:
    """Wilson score interval for ``hits`` successes in ``n`` trials (``(nan, nan)`` for ``n = 0``)."""
    if n <= 0:
        return float("nan"), float("nan")
    p = hits / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy_from_audits(hits: list[float], window: int = 50, metric: str = "accuracy") -> AccuracyEstimate:
    """The share of correct pre-training predictions among the newest ``window`` audit labels.

    ``hits`` may be fractions in 0..1 (``metric="f1"``: each audit's tag-set F1): their variance is at
    most ``m (1 - m)`` for a mean ``m``, so the Wilson interval of their rounded sum stays conservative."""
    recent = hits[-window:]
    n = len(recent)
    if n == 0:
        return AccuracyEstimate(float("nan"), float("nan"), float("nan"), 0,
                                "no audit labels yet (SessionSettings(audit=0.1) draws one label in ten at random)")
    total = float(sum(recent))
    low, high = wilson(int(round(total)), n)
    low, high = min(low, total / n), max(high, total / n)
    return AccuracyEstimate(total / n, low, high, n,
                            f"audit: {n} uniformly drawn labels, each checked before training (Wilson 90 %)", metric)


def rmse_from_audits(residuals: list[float], window: int = 50, seed: int = 0) -> AccuracyEstimate:
    """RMSE of the newest ``window`` audit residuals, with a bootstrap 90 % interval."""
    r = np.asarray(residuals[-window:], dtype=float)
    if not len(r):
        return AccuracyEstimate(float("nan"), float("nan"), float("nan"), 0, "no audit labels yet", "rmse")
    value = float(np.sqrt(np.mean(r ** 2)))
    boot = np.random.default_rng(seed).choice(r, size=(1000, len(r)), replace=True)
    dist = np.sqrt(np.mean(boot ** 2, axis=1))
    low, high = (float(np.quantile(dist, 0.05)), float(np.quantile(dist, 0.95))) if len(r) > 1 else (0.0, math.inf)
    return AccuracyEstimate(value, low, high, len(r), f"audit: {len(r)} residuals before training (bootstrap 90 %)",
                            "rmse")


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """scikit-learn's Cohen's kappa (as the agreement between annotators uses), with 1.0 for two
    identical arrays of one class (where kappa itself is undefined); Lin's concordance for numbers."""
    from sklearn.metrics import cohen_kappa_score
    a, b = np.asarray(a), np.asarray(b)
    if len(a) == 0:
        return float("nan")
    if np.array_equal(a, b):
        return 1.0
    if a.dtype.kind == "f" or b.dtype.kind == "f":  # numbers (regression): kappa would count 3.0 vs 3.01
        return concordance(a, b)  # as a full disagreement
    return float(cohen_kappa_score(a, b))


def concordance(a: np.ndarray, b: np.ndarray) -> float:
    """Lin's concordance correlation coefficient of two numeric arrays: 1 when equal, lower as they move
    apart in correlation, scale or location (the agreement of successive regression models)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    va, vb = a.var(), b.var()
    denominator = va + vb + (a.mean() - b.mean()) ** 2
    if denominator == 0:
        return 1.0
    return float(2 * np.mean((a - a.mean()) * (b - b.mean())) / denominator)


class StabilityTracker:
    """Predictions on a fixed stop set after each retrain, compared ``window`` labels apart.

    Parameters
    ----------
    n : int
        Pool size.
    size : int
        Stop-set size (a uniform sample of the pool, fixed for the session).
    window : int
        Labels between the two models a kappa compares.
    threshold : float
        Kappa above which a comparison counts as stable.
    runs : int
        Consecutive stable comparisons needed to advise stopping.
    random_state : int or None
    """

    def __init__(self, n: int, size: int = 1000, window: int = 10, threshold: float = 0.98, runs: int = 3,
                 random_state: int | None = 0) -> None:
        self.stop_set = np.sort(np.random.default_rng(random_state).choice(n, min(size, n), replace=False))
        self.window, self.threshold, self.runs = window, threshold, runs
        self._predictions: dict[int, np.ndarray] = {}
        self.kappas: list[tuple[int, float]] = []

    def record(self, n_labels: int, prediction: np.ndarray) -> None:
        """The model trained on ``n_labels`` labels predicts ``prediction`` (the whole pool)."""
        mine = np.asarray(prediction)[self.stop_set]
        if mine.dtype == object and len(mine) and isinstance(mine[0], tuple):  # tag sets: each set one category
            mine = np.array(["|".join(map(str, t)) for t in mine], dtype=object)
        self._predictions = {k: v for k, v in self._predictions.items() if k < n_labels}  # undone labels
        self.kappas = [(k, v) for k, v in self.kappas if k < n_labels]
        earlier = [k for k in self._predictions if k <= n_labels - self.window]
        if earlier:
            ref = max(earlier)
            if not self.kappas or self.kappas[-1][0] <= n_labels - self.window:
                self.kappas.append((n_labels, cohen_kappa(self._predictions[ref], mine)))
        self._predictions[n_labels] = mine

    def stable(self) -> bool:
        last = self.kappas[-self.runs:]
        return len(last) == self.runs and all(k >= self.threshold for _, k in last)


def advice(tracker: StabilityTracker | None, estimate: AccuracyEstimate, n_labels: int,
           outlook: "Forecast | None" = None) -> StopAdvice:
    """Plain-words stop advice from the stability of predictions, the estimate and the forecast."""
    est = f"; {estimate}" if estimate.known else ""
    if outlook is not None:
        est += f"; {outlook.describe(n_labels)}"
    if tracker is None:
        return StopAdvice(False, "no advice for this pool (predictions are not kept)" + est, [], estimate, outlook)
    kappas = list(tracker.kappas)
    if tracker.stable():
        return StopAdvice(True, f"the model has stopped changing: its predictions agree with those of "
                                f"{tracker.window} labels earlier (kappa ≥ {tracker.threshold}) "
                                f"{tracker.runs} times in a row{est}", kappas, estimate, outlook)
    if not kappas:
        need = tracker.window - n_labels % tracker.window if n_labels else tracker.window
        return StopAdvice(False, f"keep labeling: too early to tell (about {need} more labels before the first "
                                 f"comparison){est}", kappas, estimate, outlook)
    last = kappas[-1][1]
    return StopAdvice(False, f"keep labeling: the model is still changing (kappa {last:.3f} against the model "
                             f"{tracker.window} labels earlier; stop at ≥ {tracker.threshold} "
                             f"{tracker.runs} times in a row){est}", kappas, estimate, outlook)


@dataclass(frozen=True)
class Forecast:
    """Labels needed to reach ``target``, from the learning curve extrapolated (``None`` fields: not reachable
    by the fitted curve, or too few points)."""

    target: float
    labels: float | None
    low: float | None
    high: float | None
    ceiling: float

    def __str__(self) -> str:
        return self.describe()

    def describe(self, n_now: float = 0) -> str:
        """Plain words; with ``n_now`` (labels so far) the count is of *more* labels."""
        if self.labels is None:
            return f"the curve levels off near {self.ceiling:.2f}: {self.target:.2f} looks out of reach"
        more = " more" if n_now else ""
        if self.labels - n_now < 1:  # the fitted curve is already there: the estimate lags it
            return f"the fitted curve puts {self.target:.2f} within reach now (the estimate will tell)"
        low = max(self.low - n_now, 0)
        upper = "no upper bound" if self.high is None else f"{max(self.high - n_now, low):.0f}"
        return (f"about {max(self.labels - n_now, 0):.0f}{more} labels would reach {self.target:.2f} "
                f"({low:.0f}–{upper}, 90 %)")


def _power_law(n: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a - b * np.power(n, -c)


def forecast(points: list[tuple[float, float]], target: float, n_boot: int = 50, seed: int = 0) -> Forecast | None:
    """Fit ``acc(n) = a - b n^-c`` (inverse power law, the usual learning-curve model) to ``points``
    ``(labels, accuracy)`` and solve for ``target``; a bootstrap over the points gives a 90 % interval.

    Returns ``None`` with fewer than five points."""
    from scipy.optimize import curve_fit
    pts = np.array(sorted(points), dtype=float)
    if len(pts) < 5:
        return None
    n, acc = pts[:, 0], pts[:, 1]

    def solve(n_: np.ndarray, acc_: np.ndarray) -> tuple[float, float] | None:
        try:
            (a, b, c), _ = curve_fit(_power_law, n_, acc_, p0=(min(acc_.max() + 0.05, 1.0), 1.0, 0.5),
                                     bounds=([0, 0, 0.05], [1.0, 100.0, 3.0]), maxfev=5000)
        except (RuntimeError, ValueError):
            return None
        if target >= a:
            return None, a
        return float((b / (a - target)) ** (1 / c)), a

    base = solve(n, acc)
    if base is None:
        return None
    labels, ceiling = base
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        pick = rng.choice(len(n), len(n), replace=True)
        if len(np.unique(n[pick])) < 4:
            continue
        out = solve(n[pick], acc[pick])
        boots.append(np.inf if out is None or out[0] is None else out[0])
    if labels is None or not boots:
        return Forecast(target, None, None, None, ceiling)
    boots = np.sort(np.asarray(boots, dtype=float))
    low = float(boots[int(0.05 * (len(boots) - 1))])
    high = float(boots[int(np.ceil(0.95 * (len(boots) - 1)))])
    return Forecast(target, max(labels, n.max()), max(low, n.max()), None if not np.isfinite(high) else high, ceiling)
