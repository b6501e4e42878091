"""Notebook views of an ActiveLearningSession (ipywidgets + plotly FigureWidget).  No AL logic here."""
from .controls import Controls
from .curves import LearningCurves
from .dashboard import ALDashboard
from .keyboard import KeyboardShortcuts
from .labeling import LabelingPanel
from .map import UncertaintyMap
from .render import render_sample, sample_html
from .topk import TopKPanel

__all__ = ["ALDashboard", "Controls", "KeyboardShortcuts", "LabelingPanel", "LearningCurves", "TopKPanel",
           "UncertaintyMap", "render_sample", "sample_html"]
