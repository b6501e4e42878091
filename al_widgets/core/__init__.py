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
from .store import LabelStore
from .strategies import REGISTRY, QueryStrategy, available_strategies, get_strategy
from . import strategies_batch  # noqa: F401  (registers the remaining strategies)
from . import uncertainty

__all__ = ["ActiveLearningSession", "AnnotationQueue", "Committee", "EventEmitter", "LabelStore",
           "LearningCurveTracker", "MISSING", "Pool", "PoolEmbedding", "QueryItem", "QueryStrategy", "REGISTRY",
           "ScoringContext", "available_strategies", "get_strategy", "simulate", "uncertainty"]
__all__[__all__.index("QueryItem")] = "QueueItem"
