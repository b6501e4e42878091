"""Turn an :class:`AppConfig` into a pool, a default model and an optional test set."""
from __future__ import annotations

import os
import sys
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
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..core import Pool
from ..core.data.pool import IMAGE_EXT
from ..core.layout.embedding import DEFAULT_CACHE
from . import dataset_cache
from .config import AppConfig, ConfigError  # noqa: F401 - ConfigError: re-exported (the CLI's, the app's)


@dataclass
class AppData:
    pool: Pool
    model: Any
    X_test: Any = None
    y_test: Any = None
    true_labels: Any = None
    features: str = "the data's numeric columns, scaled"
    """What the model learns from, in words (``serve --check`` names it)."""


def load(config: AppConfig) -> AppData:
    """Pool, model and test set for ``config.dataset``."""
    if config.dataset == "digits":
        return _digits(config)
    path = Path(config.dataset)
    if not path.exists():
        raise ConfigError(f"data not found: {config.dataset}")
    if config.dask:  # rows held by a Dask cluster (an optional dependency: imported only then)
        from .cluster import load_on_cluster
        pool, features = load_on_cluster(path, config)
        return AppData(pool, _model(config.model, "numeric"), features=features)
    if path.is_dir():
        return _images(path, config)
    return _csv(path, config)


def _digits(config: AppConfig) -> AppData:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xp, Xt, yp, yt, ip, _ = train_test_split(X, y, np.arange(len(y)), test_size=0.2, random_state=0, stratify=y)
    pool = Pool(Xp, ids=[f"digit-{i}" for i in ip], classes=list(range(10)), name="digits")
    return AppData(pool, _model(config.model, "numeric"), Xt, yt, true_labels=yp, features="8x8 pixel intensities")


MAX_COLUMNS = 10_000
"""Widest table served (a CSV of a million columns took 6.4 GB and minutes to refuse)."""
MAX_HEADER_BYTES = 1 << 20
"""Longest header line read (1 MB)."""


def _check_table_shape(path: Path) -> None:
    """Refuse, from the header alone, a CSV too wide to serve (bounded read, one-line message)."""
    import csv
    import io
    with open(path, "rb") as fh:
        head = fh.read(MAX_HEADER_BYTES + 1)
    if b"\x00" in head[:4096]:
        raise ConfigError(f"{path} has binary content, not CSV text")
    line, newline, _ = head.partition(b"\n")
    if not newline and len(head) > MAX_HEADER_BYTES:
        raise ConfigError(f"{path}: the header line is longer than {MAX_HEADER_BYTES // 2**20} MB; "
                          f"at most {MAX_COLUMNS:,} columns are served")
    header = next(csv.reader(io.StringIO(line.decode("utf-8", "replace"))), [])
    if len(header) > MAX_COLUMNS:
        raise ConfigError(f"{path} has {len(header):,} columns; at most {MAX_COLUMNS:,} are served "
                          "(reduce them, or give precomputed embeddings)")


def _read_csv(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path)
    if not path.is_file():
        raise ConfigError(f"{path} is not a regular file")
    _check_table_shape(path)
    try:
        return pd.read_csv(path, encoding="utf-8-sig")
    except UnicodeDecodeError:
        try:
            return pd.read_csv(path, encoding="latin-1")  # legacy spreadsheets export Latin-1
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(f"cannot read {path} as CSV: {_one_line(exc)}") from None
    except pd.errors.EmptyDataError:
        raise ConfigError(f"{path} is empty") from None
    except Exception as exc:  # noqa: BLE001 - one-line message for the CLI
        raise ConfigError(f"cannot read {path} as CSV: {_one_line(exc)}") from None


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet table (the same columns options as a CSV); needs pyarrow (the ``scale`` extra)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ConfigError("reading Parquet needs pyarrow: pip install 'al_widgets[scale]'") from None
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - one-line message for the CLI
        raise ConfigError(f"cannot read {path} as Parquet: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _labels_and_classes(df: pd.DataFrame, config: AppConfig) -> tuple[list | None, list]:
    """The label column as the pool's class values, and the classes.

    A CSV column of 0/1 with blanks is read as floats: integral floats become ints.  With
    ``--classes`` every label is matched to its class by spelling (``1.0`` -> class ``"1"``).
    """
    from ..core.data.labels import LabelCoercer, canonical, normalize_classes
    if config.multi_label:
        return _tags_and_classes(df, config)
    labels = None
    if config.label_column:
        if config.label_column not in df:
            raise ConfigError(f"unknown label column {config.label_column!r}; columns are {list(df.columns)}")
        labels = normalize_classes([None if pd.isna(v) else v for v in df[config.label_column]])
        labels = [None if v is None else (v.strip() if isinstance(v, str) else v) for v in labels]
        labels = [None if v == "" else v for v in labels]
        if len({isinstance(v, str) for v in labels if v is not None}) > 1:  # e.g. 1 and "cat": all text
            labels = [None if v is None else str(v) for v in labels]
    if config.classes:
        classes = normalize_classes(config.classes)
    else:
        classes = sorted({canonical(v): v for v in labels or [] if v is not None}.values(), key=str)
    if len(classes) < 2:
        raise ConfigError("need at least two classes: pass --classes a,b or a label column with two classes")
    try:
        coerce = LabelCoercer(classes)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if labels is not None:
        bad = []
        for i, v in enumerate(labels):
            if v is None:
                continue
            try:
                labels[i] = coerce(v)
            except ValueError:
                bad.append(v)
        if bad:
            raise ConfigError(f"label column has values not in --classes: {sorted(map(str, set(bad)))[:5]}")
    return labels, classes


def _tags_and_classes(df: pd.DataFrame, config: AppConfig) -> tuple[list | None, list]:
    """``--multi-label``: the label column's cells as tag sets (``a|c``; a blank cell is unlabeled), and
    the tags (``--classes``, else every tag the column names)."""
    from ..core.data.labels import TAG_SEPARATOR, TagCoercer, normalize_classes
    cells: list | None = None
    if config.label_column:
        if config.label_column not in df:
            raise ConfigError(f"unknown label column {config.label_column!r}; columns are {list(df.columns)}")
        cells = [None if pd.isna(v) or not str(v).strip() else str(v) for v in df[config.label_column]]
    named = sorted({t.strip() for c in cells or [] if c for t in c.split(TAG_SEPARATOR) if t.strip()})
    classes = normalize_classes(config.classes) if config.classes else named
    if len(classes) < 1:
        raise ConfigError("--multi-label needs tags: pass --classes a,b,c or a label column that names them (a|c)")
    try:
        coerce = TagCoercer([str(c) for c in classes])
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    labels = None
    if cells is not None:
        try:
            labels = [None if c is None else coerce(c) for c in cells]
        except ValueError as exc:
            raise ConfigError(f"label column: {_one_line(exc)} (pass every tag in --classes)") from None
    return labels, coerce.classes


def _csv(path: Path, config: AppConfig) -> AppData:
    folder = _cache_folder(path, config)
    cached = dataset_cache.read(folder) if folder is not None else None
    if cached is not None:  # another process parsed this file already: map its features
        features, ids, labels, classes = cached
        return AppData(Pool(features, ids=ids, labels=labels, classes=classes, name=path.name, task=_task(config)),
                       _model(config.model, "numeric", config.multi_label))
    df = _read_csv(path)
    if df.empty:
        raise ConfigError(f"{path} has no rows")
    if df.columns.duplicated().any():
        raise ConfigError(f"{path} has duplicate column names: {sorted(set(df.columns[df.columns.duplicated()]))}")
    labels, classes = _labels_and_classes(df, config)
    embedded = _embedded(df, path, config, labels, classes)
    if embedded is not None:
        return embedded
    ids = None
    if config.id_column:
        if config.id_column not in df:
            raise ConfigError(f"unknown id column {config.id_column!r}; columns are {list(df.columns)}")
        ids = df[config.id_column].astype(str).tolist()
    if config.text_column:
        if config.text_column not in df:
            raise ConfigError(f"unknown text column {config.text_column!r}; columns are {list(df.columns)}")
        texts = df[config.text_column].fillna("").astype(str).tolist()
        return _text_pool(texts, ids, labels, classes, path.name, config)
    drop = [c for c in (config.label_column, config.id_column) if c]
    _refuse_mostly_numeric_text(df.drop(columns=drop))
    feats = df.drop(columns=drop).select_dtypes(include="number")
    if feats.shape[1] == 0:
        raise ConfigError(f"{path} has no numeric feature columns; pass --text-column for text data")
    missing = [c for c in feats if feats[c].isna().any()]
    if missing:
        raise ConfigError(f"numeric column {missing[0]!r} has missing values; fill or drop them first")
    if folder is not None and dataset_cache.usable(df, list(feats.columns), drop):
        # rows show as their features (the id is on the panel): the kernels of the pages map them
        feats = feats.reset_index(drop=True)
        dataset_cache.write(folder, feats, ids, labels, classes)
        return AppData(Pool(feats, ids=ids, labels=labels, classes=classes, name=path.name, task=_task(config)),
                       _model(config.model, "numeric", config.multi_label))
    items = df.drop(columns=[c for c in drop if c != config.id_column])
    pool = Pool(feats, ids=ids if ids is not None else [str(i) for i in range(len(df))],
                items=items.reset_index(drop=True), labels=labels, classes=classes, name=path.name,
                task=_task(config))
    return AppData(pool, _model(config.model, "numeric", config.multi_label))


def _cache_folder(path: Path, config: AppConfig) -> Path | None:
    """The dataset cache of a numeric table (``None`` for text, embeddings or an unreadable path)."""
    from ..core.data.readers import sidecar_embeddings
    if config.text_column or config.embedding_column or config.embeddings or not path.is_file() \
            or sidecar_embeddings(path) is not None:
        return None
    options = {"label": config.label_column, "id": config.id_column, "classes": config.classes,
               "multi_label": config.multi_label}
    return dataset_cache.cache_folder(config.cache_dir or DEFAULT_CACHE, path, options)


def _embedded(df: pd.DataFrame, path: Path, config: AppConfig, labels: list | None, classes: list) -> AppData | None:
    """A pool on precomputed embeddings (a column of lists, or an .npy matrix beside the data)."""
    from ..core.data.readers import sidecar_embeddings
    npy = Path(config.embeddings) if config.embeddings else None
    if npy is None and not config.embedding_column:
        npy = sidecar_embeddings(path)
    if npy is None and not config.embedding_column:
        return None
    try:
        emb = None
        if npy is not None:
            if not npy.exists():
                raise ConfigError(f"embeddings not found: {npy}")
            emb = np.load(npy, mmap_mode="r", allow_pickle=False)
        frame = df.drop(columns=[config.label_column]) if config.label_column else df
        pool = Pool.from_frame(frame, embedding_column=config.embedding_column, embeddings=emb,
                               id_column=config.id_column, labels=labels, classes=classes, name=path.name,
                               task=_task(config))
    except (ValueError, OSError) as exc:
        raise ConfigError(_one_line(exc)) from None
    source = npy.name if npy is not None else f"column {config.embedding_column!r}"
    return AppData(pool, _model(config.model, "numeric", config.multi_label),
                   features=f"precomputed embeddings ({source})")


def _refuse_mostly_numeric_text(df: pd.DataFrame) -> None:
    """A numeric column with a few text cells would be dropped silently: name the first bad cell."""
    for col in df.columns:
        if pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            continue
        values = df[col].dropna()
        numbers = pd.to_numeric(values, errors="coerce")
        if len(values) and numbers.notna().mean() >= 0.9:
            bad = values[numbers.isna()]
            raise ConfigError(f"column {col!r} is numeric except row {bad.index[0]} ({str(bad.iloc[0])[:40]!r}); "
                              "fix that cell or drop the column")


def _image_files(folder: Path) -> tuple[list[Path], list[str]]:
    """Image files under ``folder`` (links followed only when they stay inside it); hidden files skipped."""
    root = folder.resolve()
    found, skipped = [], []
    for dirpath, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and _inside(Path(dirpath) / d, root))
        for name in sorted(files):
            p = Path(dirpath) / name
            if name.startswith(".") or not name.lower().endswith(IMAGE_EXT):
                continue
            if not p.is_file():  # a named pipe or a device would hang the reader
                skipped.append(f"{p}: not a regular file")
                continue
            if not _inside(p, root):
                skipped.append(f"{p}: links outside {folder}")
                continue
            found.append(p)
    return found, skipped


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError):
        return False


def _images(folder: Path, config: AppConfig) -> AppData:
    """Images directly in ``folder`` are unlabeled; images in ``folder/<class>/`` carry that label."""
    if config.multi_label:
        raise ConfigError("--multi-label reads tags from a CSV's label column; an image folder names one class "
                          "per subfolder")
    files, skipped = _image_files(folder)
    if not files:
        raise ConfigError(f"no images ({', '.join(IMAGE_EXT)}) found in {folder}")
    X, thumbs, kept, unreadable, features = _image_rows([str(p) for p in files], config)
    files = [files[i] for i in kept]
    skipped += unreadable
    if skipped:
        print(f"al-widgets: skipped {len(skipped)} file(s): " + "; ".join(skipped[:5]), file=sys.stderr)
    if not files:
        raise ConfigError(f"no readable images in {folder}")
    labels = []
    for p in files:
        rel = p.parent.relative_to(folder)
        labels.append(None if str(rel) == "." else rel.parts[0])
    classes = config.classes or sorted({v for v in labels if v is not None})
    if len(classes) < 2:
        raise ConfigError("need at least two classes: pass --classes a,b or put images in one folder per class")
    ids = [str(p.relative_to(folder)) for p in files]
    # the store belongs to the images (their thumbnails, as before), whichever features the model uses
    pool = Pool(X, ids=ids, items=list(files), labels=[lab if lab in classes else None for lab in labels],
                classes=classes, name=folder.name, content=thumbs)
    return AppData(pool, _model(config.model, "numeric"), features=features)


def _text_pool(texts: list[str], ids: list | None, labels: list | None, classes: list, name: str,
               config: AppConfig) -> AppData:
    """Text on embeddings (the built-in model unless ``--embedder`` says otherwise), or TF-IDF."""
    if config.embedder == "tfidf" or config.model == "tfidf-logreg":
        X = np.array(texts, dtype=object)
        return AppData(Pool(X, ids=ids, labels=labels, classes=classes, name=name, task=_task(config)),
                       _model("tfidf-logreg", "text", config.multi_label),
                       features="TF-IDF of the text (words and word pairs)")
    if config.embedder == "thumbnails":
        raise ConfigError("--embedder thumbnails is for image folders; text takes auto, tfidf or your own")
    label, X = _embed(texts, config, "texts")
    # the store belongs to the texts: a new embedder keeps the labels (same identity as a TF-IDF pool)
    pool = Pool(X, ids=ids, items=texts, labels=labels, classes=classes, name=name, content=texts,
                task=_task(config))
    return AppData(pool, _model(config.model, "numeric", config.multi_label),
                   features=f"text embedding {label.replace('wordllama:', 'WordLlama ')} ({X.shape[1]}-d)")


def _image_rows(paths: list[str], config: AppConfig) -> tuple[np.ndarray, np.ndarray, list[int], list[str], str]:
    """Features (built-in, thumbnails or yours), thumbnails (the pool's identity), kept positions,
    skipped files and the features' name."""
    from ..core.data.image_features import features_of, read_images, thumbnail_of
    if config.embedder in ("auto", "thumbnails"):
        rows, kept, skipped = read_images(paths, lambda im: np.concatenate([features_of(im), thumbnail_of(im)]))
        thumbs = rows[:, -256:] if len(rows) else np.empty((0, 256))
        if config.embedder == "thumbnails":
            return thumbs, thumbs, kept, skipped, "grey 16x16 thumbnails"
        return rows[:, :-256], thumbs, kept, skipped, f"built-in image features ({rows.shape[1] - 256}-d)"
    if config.embedder in ("tfidf", "wordllama"):
        raise ConfigError(f"--embedder {config.embedder} is for text; images take auto, thumbnails or your own")
    thumbs, kept, skipped = read_images(paths, thumbnail_of)
    readable = [paths[i] for i in kept]
    stats = [os.stat(p) for p in readable]  # a changed image is embedded again, not read from the cache
    _, X = _embed(readable, config, "images", key=[f"{p}|{st.st_size}|{st.st_mtime_ns}"
                                                   for p, st in zip(readable, stats)])
    return X, thumbs, kept, skipped, f"image embedding {config.embedder} ({X.shape[1]}-d)"


def _embed(items: list, config: AppConfig, what: str, key: list | None = None) -> tuple[str, np.ndarray]:
    """``(the embedder's name, the rows)`` of ``items`` with ``--embedder``; a bad one in one line."""
    from ..core.data.embed import embed, resolve
    try:
        name, _ = resolve(config.embedder)
        return name, embed(items, config.embedder, config.cache_dir or DEFAULT_CACHE,
                           progress=_progress(f"embedding {what}"), key=key)
    except (ValueError, TypeError, ImportError) as exc:
        raise ConfigError(f"--embedder {config.embedder}: {_one_line(exc)}") from None


def _progress(what: str) -> Any:
    """Progress of a long embedding on standard error (the server's log, the notebook's output)."""
    def show(done: int, total: int) -> None:
        if total > 4096:
            print(f"al-widgets: {what}: {done}/{total}", file=sys.stderr, flush=True)
    return show


def _task(config: AppConfig) -> str:
    return "multilabel" if config.multi_label else "classification"


def _model(name: str, kind: str, multi_label: bool = False) -> Any:
    """The named model; for tags (``multi_label``) its classifier wrapped one-vs-rest (one per tag)."""
    def final(est: Any) -> Any:
        return OneVsRestClassifier(est) if multi_label else est
    if name == "auto":
        name = "tfidf-logreg" if kind == "text" else "logreg"
    if name == "tfidf-logreg":
        return make_pipeline(TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1),
                             final(LogisticRegression(max_iter=1000)))
    if name == "logreg":
        return make_pipeline(StandardScaler(), final(LogisticRegression(max_iter=1000)))
    if name == "gboost":
        return final(HistGradientBoostingClassifier(max_iter=100))
    raise ConfigError(f"unknown model {name!r}; choose auto, logreg, gboost or tfidf-logreg")
