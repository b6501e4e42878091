"""Turn an :class:`AppConfig` into a pool, a default model and an optional test set."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..core import Pool
from ..core.pool import IMAGE_EXT
from .config import AppConfig


class ConfigError(ValueError):
    """A configuration problem, reported to the user in one line."""


@dataclass
class AppData:
    pool: Pool
    model: Any
    X_test: Any = None
    y_test: Any = None
    true_labels: Any = None


def load(config: AppConfig) -> AppData:
    """Pool, model and test set for ``config.dataset``."""
    if config.dataset == "digits":
        return _digits(config)
    path = Path(config.dataset)
    if not path.exists():
        raise ConfigError(f"data not found: {config.dataset}")
    if path.is_dir():
        return _images(path, config)
    return _csv(path, config)


def _digits(config: AppConfig) -> AppData:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xp, Xt, yp, yt, ip, _ = train_test_split(X, y, np.arange(len(y)), test_size=0.2, random_state=0, stratify=y)
    pool = Pool(Xp, ids=[f"digit-{i}" for i in ip], classes=list(range(10)))
    return AppData(pool, _model(config.model, "numeric"), Xt, yt, true_labels=yp)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - one-line message for the CLI
        raise ConfigError(f"cannot read {path} as CSV: {exc}") from exc


def _labels_and_classes(df: pd.DataFrame, config: AppConfig) -> tuple[list | None, list]:
    labels = None
    if config.label_column:
        if config.label_column not in df:
            raise ConfigError(f"unknown label column {config.label_column!r}; columns are {list(df.columns)}")
        labels = [None if pd.isna(v) else _plain(v) for v in df[config.label_column]]
    classes = config.classes or sorted({v for v in labels or [] if v is not None}, key=str)
    if len(classes) < 2:
        raise ConfigError("need at least two classes: pass --classes a,b or a label column with two classes")
    if labels is not None and config.classes:
        cast = {str(c): c for c in classes}
        labels = [None if v is None else cast.get(str(v), v) for v in labels]
        bad = {v for v in labels if v is not None and v not in classes}
        if bad:
            raise ConfigError(f"label column has values not in --classes: {sorted(map(str, bad))[:5]}")
    return labels, classes


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _csv(path: Path, config: AppConfig) -> AppData:
    df = _read_csv(path)
    if df.empty:
        raise ConfigError(f"{path} has no rows")
    labels, classes = _labels_and_classes(df, config)
    ids = None
    if config.id_column:
        if config.id_column not in df:
            raise ConfigError(f"unknown id column {config.id_column!r}; columns are {list(df.columns)}")
        ids = df[config.id_column].astype(str).tolist()
    if config.text_column:
        if config.text_column not in df:
            raise ConfigError(f"unknown text column {config.text_column!r}; columns are {list(df.columns)}")
        X = np.array(df[config.text_column].fillna("").astype(str).tolist(), dtype=object)
        return AppData(Pool(X, ids=ids, labels=labels, classes=classes), _model(config.model, "text"))
    drop = [c for c in (config.label_column, config.id_column) if c]
    feats = df.drop(columns=drop).select_dtypes(include="number")
    if feats.shape[1] == 0:
        raise ConfigError(f"{path} has no numeric feature columns; pass --text-column for text data")
    missing = [c for c in feats if feats[c].isna().any()]
    if missing:
        raise ConfigError(f"numeric column {missing[0]!r} has missing values; fill or drop them first")
    items = df.drop(columns=[c for c in drop if c != config.id_column])
    pool = Pool(feats, ids=ids if ids is not None else [str(i) for i in range(len(df))],
                items=[items.iloc[i] for i in range(len(items))], labels=labels, classes=classes)
    return AppData(pool, _model(config.model, "numeric"))


def image_features(paths: list[str], side: int = 16) -> np.ndarray:
    """Grey-scale thumbnails ``side x side``, flattened and scaled to 0..1."""
    from PIL import Image
    out = np.empty((len(paths), side * side))
    for i, p in enumerate(paths):
        with Image.open(p) as im:
            out[i] = np.asarray(im.convert("L").resize((side, side)), dtype=float).ravel() / 255.0
    return out


def _images(folder: Path, config: AppConfig) -> AppData:
    """Images directly in ``folder`` are unlabeled; images in ``folder/<class>/`` carry that label."""
    paths, labels = [], []
    for root, _dirs, files in os.walk(folder):
        for name in sorted(files):
            if name.lower().endswith(IMAGE_EXT):
                p = Path(root) / name
                paths.append(str(p))
                rel = p.parent.relative_to(folder)
                labels.append(None if str(rel) == "." else rel.parts[0])
    if not paths:
        raise ConfigError(f"no images ({', '.join(IMAGE_EXT)}) found in {folder}")
    classes = config.classes or sorted({v for v in labels if v is not None})
    if len(classes) < 2:
        raise ConfigError("need at least two classes: pass --classes a,b or put images in one folder per class")
    X = image_features(paths)
    ids = [str(Path(p).relative_to(folder)) for p in paths]
    pool = Pool(X, ids=ids, items=paths, labels=[lab if lab in classes else None for lab in labels], classes=classes)
    return AppData(pool, _model(config.model, "numeric"))


def _model(name: str, kind: str) -> Any:
    if name == "auto":
        name = "tfidf-logreg" if kind == "text" else "logreg"
    if name == "tfidf-logreg":
        return make_pipeline(TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1),
                             LogisticRegression(max_iter=1000))
    if name == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if name == "gboost":
        return HistGradientBoostingClassifier(max_iter=100)
    raise ConfigError(f"unknown model {name!r}; choose auto, logreg, gboost or tfidf-logreg")
