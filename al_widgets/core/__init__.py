"""UI-free active-learning engine.  Imports neither ipywidgets, plotly nor umap."""
from .committee import Committee
from .context import ScoringContext
from .curves import LearningCurveTracker
from .embedding import PoolEmbedding
from .events import EventEmitter
from .oracle import simulate
from .pool import MISSING, Pool
from .queue import AnnotationQueue, QueueItem
from .session import ActiveLearningSession
from .settings import SessionSettings
from .store import AlreadyLabeled, LabelStore, StoreMismatch
from .registry import REGISTRY, available_strategies, get_strategy
from .strategies import QueryStrategy
from . import uncertainty

__all__ = ["ActiveLearningSession", "AlreadyLabeled", "AnnotationQueue", "SessionSettings", "StoreMismatch", "Committee", "EventEmitter", "LabelStore",
           "LearningCurveTracker", "MISSING", "Pool", "PoolEmbedding", "QueueItem", "QueryStrategy", "REGISTRY",
           "ScoringContext", "available_strategies", "get_strategy", "simulate", "uncertainty"]
