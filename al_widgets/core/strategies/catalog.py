"""The Query Strategy Selector's menu: strategy names, explicitly registered, and their descriptions."""
from __future__ import annotations

from typing import Any

from .base import QueryStrategy

REGISTRY: dict[str, type[QueryStrategy]] = {}
"""Name -> strategy class, in menu order (filled by :mod:`al_widgets.core.strategies`).  Add your own
with ``REGISTRY[MyStrategy.name] = MyStrategy``."""


def available_strategies(task: str | None = None, every_class_seen: bool = True) -> dict[str, str]:
    """Strategy names mapped to their one-line descriptions, in menu order.

    Parameters
    ----------
    task : {"classification", "regression", "multilabel"} or None
        Only the strategies valid for this task (``None``: all).
    every_class_seen : bool
        ``False`` leaves out the classification strategies that are blind to classes nobody has
        labeled yet (``needs_every_class``: BALD, max variance); offer them once every class has a
        label.
    """
    if task not in (None, *DEFAULTS):
        raise ValueError(f"task must be one of {tuple(DEFAULTS)} or None, got {task!r}")
    return {name: cls.description for name, cls in REGISTRY.items()
            if (task is None or supports(cls, task))
            and (every_class_seen or task == "regression" or not cls.needs_every_class)}


DEFAULTS = {"classification": "entropy", "regression": "max_variance", "multilabel": "tag_clue"}
"""The strategy a session uses when none is named, per task."""


def supports(strategy: QueryStrategy | type[QueryStrategy], task: str) -> bool:
    """Whether ``strategy`` can rank a pool of this ``task``."""
    return {"classification": strategy.supports_classification, "regression": strategy.supports_regression,
            "multilabel": strategy.supports_multilabel}.get(task, False)


def check_task(strategy: QueryStrategy, task: str) -> QueryStrategy:
    """``strategy``, or a ``ValueError`` naming the strategies a ``task`` pool can use."""
    if not supports(strategy, task):
        names = ", ".join(repr(n) for n in available_strategies(task))
        what = {"multilabel": "multi-label", "regression": "regression"}.get(task, "single-label")
        raise ValueError(f"strategy {strategy.name or type(strategy).__name__!r} cannot rank a {what} pool; "
                         f"choose one of {names}")
    return strategy


def get_strategy(strategy: str | QueryStrategy, **params: Any) -> QueryStrategy:
    """A strategy instance from its registered name (or the instance itself)."""
    if isinstance(strategy, QueryStrategy):
        return strategy
    if strategy not in REGISTRY:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {sorted(REGISTRY)}")
    return REGISTRY[strategy](**params)
