"""App configuration: from a JSON file (``AL_WIDGETS_CONFIG``) or ``AL_WIDGETS_*`` variables."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A configuration problem, reported to the user in one line."""


@dataclass
class AppConfig:
    """What the labeling app serves.

    ``dataset`` is ``"digits"`` (built in), a CSV path or an image folder.
    """

    dataset: str = "digits"
    text_column: str | None = None
    label_column: str | None = None
    id_column: str | None = None
    embedding_column: str | None = None
    """A column of precomputed embeddings (lists of floats): the model's features."""
    embeddings: str | None = None
    """An ``.npy`` matrix of precomputed embeddings, one row per data row (default: one beside the CSV)."""
    classes: list | None = None
    multi_label: bool = False
    """A sample may carry several labels (tags): the label column holds ``a|c`` (blank: unlabeled)."""
    embedder: str = "auto"
    """Features of text and images: ``auto`` (the built-in text model; built-in image features),
    ``tfidf`` (text), ``thumbnails`` (images), ``module:function`` (yours), or
    ``sentence-transformers:PATH`` / ``model2vec:PATH`` (installed, local)."""
    model: str = "auto"
    strategy: str = "auto"
    """Query strategy (``available_strategies()``); ``auto``: focused CLUE, TypiClust's typical samples while
    the model gives every sample the same probabilities, CoreSet's spread where the features are mostly noise."""
    store: str | None = None
    """SQLite label store; ``None``: ``data/<dataset name>.labels.sqlite`` (two datasets never share one)."""
    batch_size: int = 6
    budget: int | None = 200
    umap: bool = True
    cache_dir: str | None = None
    title: str = "al_widgets labeling"
    allow_mismatch: bool = False
    overlap: float = 0.0
    """Share of samples labeled by two different annotators (agreement, conflict review)."""
    blind: bool = False
    """Annotators never see the model's guesses or its learning curve (admins always do)."""
    audit: float = 0.1
    dask: str | None = None
    """The Dask scheduler every page's kernel connects to (``serve --dask``): the pool stays on the cluster."""
    map_pause: float = 1.0
    """Big maps: seconds without a label before the map is redrawn (0: after every label)."""
    """Share of labels drawn at random to estimate accuracy, when the data has no test set."""

    def __post_init__(self) -> None:
        if self.store is None:
            self.store = default_store(self.dataset)

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "AppConfig":
        """``AL_WIDGETS_CONFIG`` (a JSON file) first, then ``AL_WIDGETS_<FIELD>`` variables override."""
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        path = env.get("AL_WIDGETS_CONFIG")
        if path:
            values.update(json.loads(Path(path).read_text()))
        for f in fields(cls):
            raw = env.get(f"AL_WIDGETS_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _parse(f.name, raw)
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown app configuration keys: {sorted(unknown)}")
        return cls(**values)

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))
        return path


def default_store(dataset: str) -> str:
    """``data/<dataset name>.labels.sqlite`` for a dataset path or name."""
    import re
    name = Path(dataset).name or "dataset"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "dataset"
    return str(Path("data") / f"{slug}.labels.sqlite")


def _parse(name: str, raw: str) -> Any:
    if name == "classes":
        return [c.strip() for c in raw.split(",") if c.strip()]
    if name in ("batch_size", "budget"):
        return int(raw)
    if name in ("overlap", "audit", "map_pause"):
        return float(raw)
    if name in ("umap", "allow_mismatch", "blind", "multi_label"):
        return raw.strip().lower() not in ("0", "false", "no", "off")
    return raw
