"""Learning curves: held-out metric and mean pool uncertainty against the number of labels."""
from __future__ import annotations

import threading
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ._dispatch import SessionView


class LearningCurves(SessionView):
    """A FigureWidget updated after each retrain.

    Parameters
    ----------
    session : ActiveLearningSession
    true_labels : array-like, optional
        Teaching mode: the pool's true labels.  A random-sampling baseline is
        simulated in the background on the same pool and drawn on the same axes.
    baseline_budget : int
        Labels the baseline simulation goes up to.
    """

    def __init__(self, session: Any, true_labels: Any = None, baseline_budget: int = 200) -> None:
        self.session = session
        metric = "accuracy" if session.pool.task == "classification" else "r2"
        self.metric = metric
        df = session.curve.to_frame()
        x = df["n_labels"].tolist() if not df.empty else []
        y = df[metric].tolist() if metric in df else [None] * len(x)
        u = df["mean_uncertainty"].tolist() if not df.empty else []
        # every trace exists from the start (Voila replays state; later add_trace calls could be lost)
        self.figure = go.FigureWidget(
            data=[go.Scatter(x=x, y=y, mode="lines+markers", name=f"{metric} ({session.strategy.name})"),
                  go.Scatter(x=x, y=u, mode="lines", name="mean uncertainty", yaxis="y2", line=dict(dash="dot")),
                  go.Scatter(x=[], y=[], mode="lines", name=f"{metric} (random baseline)", visible=False,
                             line=dict(color="grey"))],
            layout=go.Layout(height=300, margin=dict(l=40, r=40, t=30, b=30), xaxis_title="labels",
                             yaxis=dict(title=metric), yaxis2=dict(title="uncertainty", overlaying="y", side="right"),
                             legend=dict(orientation="h", y=1.15)))
        self.baseline: Any = None
        self._listen(session, {"retrained": lambda result: self.refresh()})
        if true_labels is not None and session.pool.task == "classification":
            self._start_baseline(np.asarray(true_labels), baseline_budget)

    @property
    def widget(self) -> go.FigureWidget:
        return self.figure

    def refresh(self) -> None:
        df = self.session.curve.to_frame()
        if df.empty:
            return
        with self.figure.batch_update():
            m, u = self.figure.data[0], self.figure.data[1]
            m.x = df["n_labels"].tolist()
            m.y = df[self.metric].tolist() if self.metric in df else [None] * len(df)
            m.name = f"{self.metric} ({self.session.strategy.name})"
            u.x, u.y = df["n_labels"].tolist(), df["mean_uncertainty"].tolist()

    def _start_baseline(self, y: np.ndarray, budget: int) -> None:
        from ..core import simulate
        from ..core.background import run_in_subprocess
        s = self.session
        labeled = np.flatnonzero(s.labeled_mask)

        def run() -> None:  # in a spawned process, so the kernel keeps its GIL for the UI
            df = run_in_subprocess(simulate, s.model, s.pool.X, y, "random",
                                   initial=labeled if len(labeled) else 10, budget=min(budget, s.pool.n),
                                   batch_size=max(s.batch_size, 5), X_test=s.X_test, y_test=s.y_test,
                                   random_state=s.random_state, classes=s.pool.classes)
            self.baseline = df
            self._dispatcher.call(self._draw_baseline)

        self._baseline_thread = threading.Thread(target=run, name="al-baseline", daemon=True)
        self._baseline_thread.start()

    def _draw_baseline(self) -> None:
        b = self.figure.data[2]
        with self.figure.batch_update():
            b.x, b.y, b.visible = self.baseline["n_labels"].tolist(), self.baseline[self.metric].tolist(), True
