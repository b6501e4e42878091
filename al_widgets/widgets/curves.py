"""Learning curves: a quality estimate, mean pool uncertainty and the stopping signal against labels."""
from __future__ import annotations

import functools
import time
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

from .support.dispatch import SessionView, UIDispatcher
from .support.figure import FigureHealth
from .render import escape

METRIC, UNCERTAINTY, BASELINE, CHANGE = range(4)  # the newest points of each line (and the baseline)
HISTORY = {METRIC: 4, UNCERTAINTY: 5, CHANGE: 6}  # older points: resent only when the tail rolls over
EST_LOW, EST_HIGH, ESTIMATE = 7, 8, 9  # the audit estimate and its 90 % band (no test set)
TRUTH = 10  # teaching mode: the model's true accuracy on the pool, against which the estimate is judged
_NAMES = {"progressive_accuracy": "accuracy on each new label before training on it (last 20)",
          "progressive_mae": "error on each new label before training on it (last 20)",
          "progressive_f1_micro": "micro-F1 of the tags of each new label before training on it (last 20)"}
_HELD_OUT = {"classification": "accuracy", "regression": "r2", "multilabel": "f1_micro"}
"""The held-out metric each task's curve shows."""
_ESTIMATE = {"classification": "estimated accuracy (audit labels)", "regression": "estimated RMSE (audit labels)",
             "multilabel": "estimated tag-set F1 (audit labels)"}


class LearningCurves(w.VBox, SessionView):
    """A FigureWidget updated after each retrain.

    With a held-out set the curve is its accuracy (R² for regression).  Without one it is
    *progressive validation*: each new label checked against the prediction the model made
    before it saw that label (pessimistic when an uncertainty strategy picks the samples).
    The share of pool predictions that changed at each retrain (the stopping signal) and
    the mean uncertainty are drawn on the right axis.

    Parameters
    ----------
    session : ActiveLearningSession
    true_labels : array-like, optional
        Teaching mode: the pool's true labels.  A random-sampling baseline is
        simulated in the background on the same pool and drawn on the same axes, and each
        retrained model's true accuracy on the pool is drawn beside the estimate and the stop
        advice (what a person without the truth has to go by).
    baseline_budget : int
        Labels the baseline simulation goes up to.
    baseline_delay : float
        Seconds after the page is built before the baseline simulation starts (in a running
        kernel), so that it does not compete with the first page for the CPU.
    pause : float
        Seconds without a label before a retrain's point is drawn (0: at once; the dashboard passes its
        big-map pause for pools of more than 100,000 samples).
    tail_points : int
        Each line is drawn as two traces: the newest points (at most ``tail_points``, sent on every
        retrain) and the older ones (sent again only when the newest part grows past
        ``tail_points``), so an update sends a bounded number of points however long the session.
    """

    def __init__(self, session: Any, true_labels: Any = None, baseline_budget: int = 200,
                 baseline_delay: float = 8.0, tail_points: int = 128, pause: float = 0.0, **kwargs: Any) -> None:
        if int(tail_points) < 1:
            raise ValueError(f"tail_points must be >= 1, got {tail_points!r}")
        self.tail_points, self._history, self._revision = int(tail_points), 0, -1
        self.pause, self._last_label, self._timer = float(pause), -1e9, None
        self.session = session
        held_out = session.X_test is not None
        if held_out:
            self.metric = _HELD_OUT[session.pool.task]
        else:
            self.metric = session.progressive.metric
        self.metric_label = self.metric if held_out else _NAMES[self.metric]
        self._dispatcher = UIDispatcher()
        # every trace exists from the start (Voila replays state; later add_trace calls could be lost)
        lines = {METRIC: dict(mode="lines+markers", name=self.metric_label, line=dict(color="#1f77b4"),
                              marker=dict(color="#1f77b4")),
                 UNCERTAINTY: dict(mode="lines", name="mean uncertainty", yaxis="y2",
                                   line=dict(dash="dot", color="#ff7f0e")),
                 CHANGE: dict(mode="lines+markers", name="pool predictions changed", yaxis="y2",
                              line=dict(color="#9a6700", width=1), marker=dict(size=4, color="#9a6700"))}
        baseline = go.Scatter(x=[], y=[], mode="lines", name=f"{self.metric} (random baseline)", visible=False,
                              line=dict(color="grey"))
        tails = [go.Scatter(x=[], y=[], legendgroup=str(i), **lines[i]) for i in (METRIC, UNCERTAINTY)]
        history = [go.Scatter(x=[], y=[], legendgroup=str(i), showlegend=False, hoverinfo="skip",
                              **{**lines[i], "name": lines[i]["name"] + " (earlier)"}) for i in HISTORY]
        self.figure = go.FigureWidget(
            data=[*tails, baseline, go.Scatter(x=[], y=[], legendgroup=str(CHANGE), **lines[CHANGE]), *history,
                  go.Scatter(x=[], y=[], mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip",
                             legendgroup="estimate", name="estimate low"),
                  go.Scatter(x=[], y=[], mode="lines", line=dict(width=0), fill="tonexty",
                             fillcolor="rgba(26,127,55,0.18)", legendgroup="estimate", name="90 % interval"),
                  go.Scatter(x=[], y=[], mode="lines+markers", legendgroup="estimate",
                             name=_ESTIMATE[session.pool.task],
                             line=dict(color="#1a7f37", width=3), marker=dict(size=5, color="#1a7f37")),
                  go.Scatter(x=[], y=[], mode="lines", name="true accuracy on the pool (teacher's view)",
                             visible=False, line=dict(color="black", dash="dash", width=2))],
            layout=go.Layout(height=320, margin=dict(l=40, r=40, t=30, b=30),
                             xaxis=dict(title="labels", rangemode="tozero"),
                             yaxis=dict(title=self.metric if held_out else
                                        "progressive " + self.metric.split("_", 1)[1].replace("_", "-"),
                                        **_metric_range(self.metric)),
                             yaxis2=dict(title="uncertainty / change", overlaying="y", side="right",
                                         rangemode="tozero"),
                             legend=dict(orientation="h", y=1.25)))
        self.health = FigureHealth(self.figure, "learning curve", self._dispatcher)
        self.note = w.HTML(self._note(held_out))
        self.advice = w.HTML()
        self.advice.add_class("alw-stop-advice")
        super().__init__([self.advice, self.figure, self.health.warning, self.note], **kwargs)
        self.add_class("alw-curves")
        self.baseline: Any = None
        self._truth = self._check_truth(true_labels)
        self._truth_points: dict[int, float] = {}
        self._listen(session, {"retrained": self._retrained, "labeled": self._on_labeled})
        self.refresh()
        self._baseline_thread: Any = None
        if true_labels is not None and session.pool.task == "classification":
            start = functools.partial(self._start_baseline, true_labels, baseline_budget)
            loop = self._dispatcher.loop
            if loop is not None and loop.is_running() and baseline_delay > 0:
                # the simulation burns CPU for many seconds: let the page become interactive first
                self.note.value = "<small>random baseline: starting in a few seconds…</small>"
                loop.call_later(baseline_delay, start)
            else:
                start()

    def _check_truth(self, true_labels: Any) -> Any:
        if true_labels is None or self.session.pool.task != "classification":
            return None
        import numpy as np
        truth = np.asarray(true_labels, dtype=object)
        if len(truth) != self.session.pool.n:
            raise ValueError(f"true_labels has {len(truth)} entries for a pool of {self.session.pool.n}")
        return truth

    def _retrained(self, result: Any) -> None:
        if self._truth is not None and result.prediction is not None:  # the truth a teacher knows
            import numpy as np
            self._truth_points[result.n_labels] = float(np.mean(
                np.asarray(result.prediction, dtype=object) == self._truth))
        self._refresh_when_paused()

    def _on_labeled(self, **_: Any) -> None:
        self._last_label = time.monotonic()

    def _refresh_when_paused(self, timer: bool = False) -> None:
        """Redraw now, or (``pause`` > 0) once labels paused that long: on a big pool the page's
        main thread is the labeling's, and a chart redrawn after every retrain stood in its way."""
        if timer:
            self._timer = None
        wait = self.pause - (time.monotonic() - self._last_label)
        loop = self._dispatcher.loop
        if wait > 0 and loop is not None and loop.is_running():
            if self._timer is None:
                self._timer = loop.call_later(wait, self._refresh_when_paused, True)
            return
        self.refresh()

    def _start_baseline(self, true_labels: Any, budget: int) -> None:
        from ..core.sim.baseline import start_random_baseline
        self.note.value = "<small>random baseline: simulating in the background…</small>"
        self._baseline_thread = start_random_baseline(
            self.session, true_labels, budget, on_done=self._dispatcher.wrap(self._draw_baseline),
            on_error=self._dispatcher.wrap(self._baseline_failed))

    @property
    def widget(self) -> "LearningCurves":
        """The view itself (it is a widget); kept for code written against earlier versions."""
        return self

    @staticmethod
    def _note(held_out: bool) -> str:
        if held_out:
            return ""
        return ("<small>No test set. Green, with its 90 % band: the accuracy estimated from <i>audit</i> labels "
                "(samples drawn at random, each checked before the model trained on it; "
                "<code>SessionSettings(audit=0.1)</code>). Blue: every new label checked the same way; the "
                "strategy picks hard samples, so this line is pessimistic.</small>")

    def series(self, line: int = METRIC) -> tuple[list, list]:
        """The whole line ``line`` (``METRIC``, ``UNCERTAINTY`` or ``CHANGE``) as drawn: older + newest points."""
        old, new = self.figure.data[HISTORY[line]], self.figure.data[line]
        skip = 1 if len(old.x or ()) else 0  # the newest part starts on the last older point (no gap)
        return list(old.x or ()) + list(new.x or ())[skip:], list(old.y or ()) + list(new.y or ())[skip:]

    def refresh(self) -> None:
        df = self.session.curve.to_frame()
        if df.empty:
            return
        n = len(df)
        changed = self.session.curve.revision != self._revision  # rows replaced or dropped: redraw all
        self._revision = self.session.curve.revision
        roll = changed or n < self._history or n - self._history > self.tail_points
        if roll:  # the older part moves up to all but the newest point (or restarts if the curve changed)
            self._history = n - 1 if n >= self._history and not changed else 0
        start = max(self._history - 1, 0)
        x = df["n_labels"].tolist()
        columns = {METRIC: _column(df, self.metric), UNCERTAINTY: _column(df, "mean_uncertainty"),
                   CHANGE: _column(df, "prediction_change")}
        with self.figure.batch_update():
            for line, ys in columns.items():
                tail = self.figure.data[line]
                tail.x, tail.y = x[start:], ys[start:]
                if roll:
                    old = self.figure.data[HISTORY[line]]
                    old.x, old.y = x[:self._history], ys[:self._history]
            if "estimate" in df:  # the headline without a test set: the estimate with its band
                for trace, column in ((EST_LOW, "estimate_low"), (EST_HIGH, "estimate_high"), (ESTIMATE, "estimate")):
                    self.figure.data[trace].x, self.figure.data[trace].y = x, _column(df, column)
            if self._truth_points:
                truth = self.figure.data[TRUTH]
                points = sorted(self._truth_points.items())
                truth.x, truth.y, truth.visible = [p[0] for p in points], [p[1] for p in points], True
        self._show_advice()
        self.health.sent()

    def _show_advice(self) -> None:
        """The stop advice in plain words, above the plot (the engine's evidence, this view's wording)."""
        advice = self.session.stop_advice()
        colour = "#1a7f37" if advice.stop else "#57606a"
        self.advice.value = (f"<div style='color:{colour};font-size:0.95em'>"
                             f"<b>{'You can stop labeling' if advice.stop else 'More labels still help'}</b>: "
                             f"{escape(advice.reason.removeprefix('keep labeling: '))}</div>")

    def _draw_baseline(self, df: Any) -> None:
        self.baseline = df
        self.note.value = self._note(self.session.X_test is not None)
        b = self.figure.data[BASELINE]
        metric = self.metric if self.metric in df else ("accuracy" if "accuracy" in df else None)
        if metric is None:
            return
        with self.figure.batch_update():
            b.x, b.y, b.visible = df["n_labels"].tolist(), df[metric].tolist(), True
            b.name = f"{metric} (random baseline, simulated)"
        self.health.sent()

    def _baseline_failed(self, exc: BaseException) -> None:
        self.note.value = f"<small>random baseline failed: {escape(type(exc).__name__)}: {escape(exc)}</small>"


def _metric_range(metric: str) -> dict:
    """Shares (accuracy, F1) are drawn on 0-1 whatever the points: one point never reads "-1 to 4"."""
    if metric in ("accuracy", "f1_macro", "f1_micro", "progressive_accuracy", "progressive_f1_micro"):
        return {"range": [0, 1.02]}
    return {"rangemode": "tozero"} if metric in ("rmse", "progressive_mae") else {}


def _column(df: Any, name: str) -> list:
    if name not in df:
        return [None] * len(df)
    return [None if v != v else float(v) for v in df[name].to_numpy(dtype=float)]
