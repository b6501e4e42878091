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
    task : {"classification", "regression"} or None
        Only the strategies valid for this task (``None``: all).
    every_class_seen : bool
        ``False`` leaves out the classification strategies that are blind to classes nobody has
        labeled yet (``needs_every_class``: BALD, max variance); offer them once every class has a
        label.
    """
    if task not in (None, "classification", "regression"):
        raise ValueError(f"task must be 'classification', 'regression' or None, got {task!r}")
    return {name: cls.description for name, cls in REGISTRY.items()
            if (task != "regression" or cls.supports_regression)
            and (every_class_seen or task == "regression" or not cls.needs_every_class)}


def get_strategy(strategy: str | QueryStrategy, **params: Any) -> QueryStrategy:
    """A strategy instance from its registered name (or the instance itself)."""
    if isinstance(strategy, QueryStrategy):
        return strategy
    if strategy not in REGISTRY:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {sorted(REGISTRY)}")
    return REGISTRY[strategy](**params)
