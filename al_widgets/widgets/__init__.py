"""Notebook views of an ActiveLearningSession (ipywidgets + plotly FigureWidget).  No AL logic here.

The plotly views (``UncertaintyMap``, ``LearningCurves``) are imported on first use, so the
labeling panel can be on a page before plotly is loaded.
"""
from typing import Any

from .controls import Controls
from .dashboard import ALDashboard
from .keyboard import KeyboardShortcuts
from .labeling import LabelingPanel
from .render import render_sample, sample_html
from .review import ReviewPanel
from .topk import TopKPanel

__all__ = ["ALDashboard", "Controls", "KeyboardShortcuts", "LabelingPanel", "LearningCurves", "ReviewPanel", "TopKPanel",
           "UncertaintyMap", "render_sample", "sample_html"]


def __getattr__(name: str) -> Any:
    if name == "LearningCurves":
        from .curves import LearningCurves
        return LearningCurves
    if name == "UncertaintyMap":
        from .map import UncertaintyMap
        return UncertaintyMap
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
