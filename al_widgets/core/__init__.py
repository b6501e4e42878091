"""UI-free active-learning engine.  Imports neither ipywidgets, plotly nor umap."""
from .scoring.committee import Committee
from .scoring.context import ScoringContext
from .session.curves import LearningCurveTracker
from .layout.embedding import PoolEmbedding
from .session.events import EventEmitter
from .sim.oracle import simulate
from .data.embed import embed
from .data.pool import MISSING, Pool
from .session.queue import AnnotationQueue, QueueItem
from .session.session import ActiveLearningSession
from .session.settings import SessionSettings
from .store.label_store import AlreadyLabeled, LabelStore, StoreMismatch
from .strategies.catalog import REGISTRY, available_strategies, get_strategy
from .strategies.base import QueryStrategy
from .scoring import uncertainty

__all__ = ["ActiveLearningSession", "AlreadyLabeled", "AnnotationQueue", "SessionSettings", "StoreMismatch", "Committee", "EventEmitter", "LabelStore",
           "LearningCurveTracker", "MISSING", "Pool", "PoolEmbedding", "QueueItem", "QueryStrategy", "REGISTRY",
           "ScoringContext", "available_strategies", "embed", "get_strategy", "simulate", "uncertainty"]
