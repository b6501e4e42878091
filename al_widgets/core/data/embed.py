"""Semantic features: one float32 row per item, offline, deterministic and cached on disk.

Text: the built-in embedder is WordLlama's ``l2_supercat_256`` (MIT), a 256-dimensional static
model whose weights and tokenizer ship inside the ``wordllama`` wheel; it is loaded from the
installed package with downloads disabled, so nothing is fetched at run time.  Any callable
``f(list_of_items) -> array`` is an embedder too (an image model of your own, a
sentence-transformers model you have locally).  Rows are L2-normalized: a dot product is a cosine.

Embeddings are cached under ``<cache>/embeddings/`` keyed by the items' content and the embedder.
"""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..layout.embedding import DEFAULT_CACHE

BATCH = 4096
_MODELS: dict[str, Any] = {}
_LOCK = threading.Lock()


def builtin_text_model() -> Any:
    """WordLlama's shipped 256-d model, loaded from the installed package (never downloaded)."""
    with _LOCK:
        if "wordllama" not in _MODELS:
            try:
                import importlib.resources

                from wordllama import WordLlama
            except ImportError:
                raise ImportError("the built-in text embedder needs the 'wordllama' package: "
                                  "pip install 'al_widgets[app]'") from None
            here = importlib.resources.files("wordllama")
            _MODELS["wordllama"] = WordLlama.load(config="l2_supercat", dim=256, cache_dir=str(here),
                                                  disable_download=True)
        return _MODELS["wordllama"]


def _text_embedder(texts: list[str]) -> np.ndarray:
    return np.asarray(builtin_text_model().embed(texts), dtype=np.float32)


def resolve(embedder: str | Callable) -> tuple[str, Callable[[list], np.ndarray]]:
    """``(name for the cache key, function)`` for ``embedder``.

    ``"auto"`` or ``"wordllama"``: the built-in text model.  ``"module:function"``: a function of
    yours, imported (``f(list_of_items) -> array``).  ``"sentence-transformers:NAME"`` or
    ``"model2vec:NAME"``: a model of that package, from a local path or the package's own cache,
    never downloaded (the package must be installed).  Any callable is used as it is.
    """
    if callable(embedder):
        name = getattr(embedder, "__qualname__", type(embedder).__name__)
        return f"callable:{getattr(embedder, '__module__', '')}.{name}", embedder
    if not isinstance(embedder, str):
        raise TypeError(f"embedder must be a name or a callable, got {type(embedder).__name__}")
    if embedder in ("auto", "wordllama"):
        return "wordllama:l2_supercat_256", _text_embedder
    kind, _, target = embedder.partition(":")
    if kind in ("sentence-transformers", "model2vec") and target:
        return embedder, _local_model(kind, target)
    if target and kind.replace(".", "").replace("_", "").isalnum():
        return f"function:{embedder}", _imported(kind, target)
    raise ValueError(f"unknown embedder {embedder!r}: use 'auto' (the built-in text model), "
                     "'module:function', 'sentence-transformers:PATH', 'model2vec:PATH' or a callable")


def _imported(module: str, name: str) -> Callable[[list], np.ndarray]:
    """``module.name``, imported now (a clear error naming what is missing)."""
    import importlib
    try:
        fn = getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise ValueError(f"embedder {module}:{name}: cannot import {module!r} ({exc})") from None
    except AttributeError:
        raise ValueError(f"embedder {module}:{name}: {module!r} has no {name!r}") from None
    if not callable(fn):
        raise ValueError(f"embedder {module}:{name} is not callable")
    return fn


def _local_model(kind: str, target: str) -> Callable[[list], np.ndarray]:
    """A sentence-transformers or model2vec model found locally (a path, or the package's cache)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never fetched by us
    try:
        if kind == "sentence-transformers":
            from sentence_transformers import SentenceTransformer
            model = SentenceTransformer(target, local_files_only=True)
            return lambda items: model.encode(list(items), batch_size=64, convert_to_numpy=True)
        from model2vec import StaticModel
        static = StaticModel.from_pretrained(target)
        return lambda items: static.encode(list(items))
    except ImportError:
        raise ValueError(f"embedder {kind}:{target} needs the {kind!r} package installed") from None
    except Exception as exc:  # noqa: BLE001 - a model that is not here locally: say so, never download
        raise ValueError(f"embedder {kind}:{target} is not available locally ({type(exc).__name__}: {exc})") \
            from None


def _key(name: str, items: Sequence[Any]) -> str:
    h = hashlib.sha1(name.encode())
    for item in items:
        h.update(str(item).encode("utf-8", "replace"))
        h.update(b"\x00")
    return h.hexdigest()[:20]


def embed(items: Sequence[Any], embedder: str | Callable = "auto", cache_dir: str | Path | None = DEFAULT_CACHE,
          progress: bool | Callable[[int, int], Any] | None = None, key: Sequence[Any] | None = None) -> np.ndarray:
    """One L2-normalized float32 row per item (see the module docstring).

    Parameters
    ----------
    items : sequence
        Texts for ``"auto"``; anything your callable takes.
    embedder : "auto", "wordllama" or callable
    cache_dir : path or None
        Where embeddings are cached (``None``: no cache).
    progress : bool or callable, optional
        ``progress(done, total)`` after every batch; ``True``: a line on standard error per batch
        (``embedding: 8192/100000``), which a notebook shows under the cell.
    key : sequence, optional
        What identifies each item for the cache, when the item itself does not (an image's path
        with its size and modification time); default: the items.
    """
    items = list(items)
    name, fn = resolve(embedder)
    if progress is True:
        progress = _print_progress
    if key is not None and len(key) != len(items):
        raise ValueError(f"key has {len(key)} entries for {len(items)} items")
    path = None if cache_dir is None else \
        Path(cache_dir) / "embeddings" / f"{_key(name, items if key is None else key)}.npy"
    if path is not None and path.exists():
        try:
            out = np.load(path)
            if out.shape[0] == len(items):
                return out
        except (OSError, ValueError):
            pass
    if name.startswith("wordllama") and not all(isinstance(t, str) for t in items):
        raise TypeError("the built-in embedder takes texts; give a callable for other items")
    parts = []
    for start in range(0, len(items), BATCH):
        part = np.asarray(fn(items[start:start + BATCH]), dtype=np.float32)
        if part.ndim != 2 or part.shape[0] != len(items[start:start + BATCH]):
            raise ValueError(f"the embedder returned shape {part.shape} for {len(items[start:start + BATCH])} items; "
                             "it must return one row per item")
        parts.append(part)
        if progress is not None:
            progress(min(start + BATCH, len(items)), len(items))
    out = np.concatenate(parts) if parts else np.empty((0, 0), dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True) if out.size else np.ones((0, 1), dtype=np.float32)
    out = (out / np.where(norms > 0, norms, 1)).astype(np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, out)
        os.replace(tmp, path)
    return out


def _print_progress(done: int, total: int) -> None:
    import sys
    print(f"embedding: {done}/{total}", file=sys.stderr, flush=True)


def nearest(matrix: np.ndarray, query: np.ndarray, k: int, exclude: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``matrix`` most similar to ``query`` (cosine, rows normalized), best first;
    rows in ``exclude`` left out.  Returns ``(indices, similarities)``."""
    sims = matrix @ np.asarray(query, dtype=np.float32).ravel()
    if len(exclude):
        sims = sims.copy()
        sims[np.asarray(list(exclude), dtype=int)] = -np.inf
    k = min(int(k), int(np.isfinite(sims).sum()))
    if k <= 0:
        return np.empty(0, dtype=int), np.empty(0, dtype=np.float32)
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top], kind="stable")]
    return top.astype(int), sims[top].astype(np.float32)


class PoolSearch:
    """Search a pool by meaning: ``search(text)`` and ``similar(index)`` over its items' embedding.

    Parameters
    ----------
    pool : Pool
        Its items (what people see) are embedded: texts with the built-in model.
    embedder : "auto" or callable
    cache_dir : path or None
    """

    def __init__(self, pool: Any, embedder: str | Callable = "auto", cache_dir: str | Path | None = DEFAULT_CACHE) -> None:
        self.pool, self.embedder, self.cache_dir = pool, embedder, cache_dir
        self._matrix: np.ndarray | None = None

    def _source(self) -> str | None:
        """Where the pool's texts are: ``"X"`` (its features, as for a CSV's text column), ``"items"``
        (what people see), or ``None`` (not a text pool).  Looks at the first sample only."""
        if getattr(self.pool, "is_distributed", False) or not self.pool.n:
            return None
        X = getattr(self.pool, "X", None)
        if isinstance(X, (list, np.ndarray)) and isinstance(X[0], str):
            return "X"
        return "items" if isinstance(self.pool.item(0), str) else None

    def _texts(self) -> list | None:
        """What is embedded: the pool's texts (see :meth:`_source`); ``None`` for other pools."""
        source = self._source()
        if source == "X":
            return list(self.pool.X)
        if source == "items":
            return [self.pool.item(i) for i in range(self.pool.n)]
        return None

    @property
    def matrix(self) -> np.ndarray:
        """The pool's embedding (computed once, cached on disk)."""
        if self._matrix is None:
            texts = self._texts()
            items = texts if texts is not None else [self.pool.item(i) for i in range(self.pool.n)]
            self._matrix = embed(items, self.embedder, self.cache_dir)
        return self._matrix

    def search(self, text: str, k: int = 10, exclude: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        """Pool indices of the ``k`` items closest in meaning to ``text``, best first, and their similarity."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("search needs some text")
        query = embed([text], self.embedder, None)[0]
        return nearest(self.matrix, query, k, exclude)

    def similar(self, index: int, k: int = 10, exclude: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` items most like item ``index`` (itself left out)."""
        return nearest(self.matrix, self.matrix[int(index)], k, [int(index), *exclude])

    def is_text(self) -> bool:
        """The pool holds texts (what the built-in embedder reads), or the embedder is the user's own."""
        return callable(self.embedder) or self._source() is not None

    def class_picks(self, classes: Sequence[Any], unavailable: Sequence[int]) -> dict[Any, int]:
        """For each class, the sample whose text is closest in meaning to the class's name (``a_b`` read
        as "a b"), among samples not in ``unavailable``; one sample per class, none twice."""
        names = [str(c).replace("_", " ").replace("-", " ") for c in classes]
        queries = embed(names, self.embedder, None)
        taken = list(unavailable)
        out: dict[Any, int] = {}
        for c, q in zip(classes, queries):
            idx, _ = nearest(self.matrix, q, 1, taken)
            if len(idx):
                out[c] = int(idx[0])
                taken.append(int(idx[0]))
        return out
