"""al_widgets: active learning that lives in the notebook.

The engine (:mod:`al_widgets.core`) is imported eagerly; the widgets are
imported on first use (``al_widgets.ALDashboard``) so that ``import al_widgets``
stays light and never imports umap.
"""
from typing import Any

from .core import (ActiveLearningSession, LabelStore, Pool, QueryStrategy, REGISTRY, available_strategies, embed,
                   get_strategy, simulate)

__version__ = "0.1.0"

_WIDGETS = {"ALDashboard", "LabelingPanel", "TopKPanel", "UncertaintyMap", "LearningCurves", "Controls",
            "render_sample"}

__all__ = ["ActiveLearningSession", "LabelStore", "Pool", "QueryStrategy", "REGISTRY", "available_strategies",
           "embed", "get_strategy", "simulate", *sorted(_WIDGETS)]


def __getattr__(name: str) -> Any:
    if name in _WIDGETS:
        from . import widgets
        return getattr(widgets, name)
    raise AttributeError(f"module 'al_widgets' has no attribute {name!r}")
