"""Built-in image features, offline: colour, shape and layout of each image, in numpy.

No model ships for images, so the built-in default describes what people tell classes apart by:

* **shape**: histograms of gradient orientations (9 unsigned bins) over a 4 x 4 grid of cells
  and over the whole image, as in HOG (Dalal & Triggs 2005), power-normalized;
* **colour**: a joint RGB histogram (4 x 4 x 4 bins) and the mean colour;
* **layout**: an 8 x 8 grey thumbnail.

Each group is L2-normalized, so none outweighs the others.  On generated shapes of random colour,
size and place (``benchmarks/bench_embeddings.py``) they beat the 16 x 16 grey thumbnails used
before; for photos a pretrained model of your own (``--embedder module:function``) does better.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

SIDE = 64
"""Images are resized to ``SIDE x SIDE`` before the features are taken."""
CELLS = 4
BINS = 9


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _orientation_histograms(grey: np.ndarray) -> np.ndarray:
    gy, gx = np.gradient(grey)
    mag = np.hypot(gx, gy)
    ang = np.mod(np.arctan2(gy, gx), np.pi)  # unsigned: a dark-on-light edge equals light-on-dark
    bins = np.minimum((ang / np.pi * BINS).astype(int), BINS - 1)
    step = SIDE // CELLS
    cell = (np.arange(SIDE) // step)
    cell_id = cell[:, None] * CELLS + cell[None, :]
    flat = (cell_id * BINS + bins).ravel()
    hist = np.bincount(flat, weights=mag.ravel(), minlength=CELLS * CELLS * BINS).reshape(CELLS * CELLS, BINS)
    hist = np.sqrt(hist / (np.linalg.norm(hist, axis=1, keepdims=True) + 1e-6))  # per cell, then power
    whole = np.bincount(bins.ravel(), weights=mag.ravel(), minlength=BINS)
    return np.concatenate([_unit(hist.ravel()), _unit(np.sqrt(whole))])


def features_of(image: Any) -> np.ndarray:
    """The built-in features of one PIL image (float32, 64 + 3 + 144 + 9 + 64 = 284 values)."""
    from PIL import Image
    rgb = np.asarray(image.convert("RGB").resize((SIDE, SIDE), Image.BILINEAR), dtype=np.float32) / 255.0
    grey = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    q = np.minimum((rgb * 4).astype(int), 3)
    colour = np.bincount((q[..., 0] * 16 + q[..., 1] * 4 + q[..., 2]).ravel(), minlength=64).astype(np.float32)
    thumb = np.asarray(Image.fromarray((grey * 255).astype(np.uint8)).resize((8, 8), Image.BILINEAR),
                       dtype=np.float32).ravel() / 255.0
    parts = [_unit(np.sqrt(colour)), rgb.reshape(-1, 3).mean(axis=0), _orientation_histograms(grey),
             _unit(thumb - thumb.mean())]
    return np.concatenate(parts).astype(np.float32)


def thumbnail_of(image: Any, side: int = 16) -> np.ndarray:
    """A grey ``side x side`` thumbnail, flattened and scaled to 0..1 (the features used before)."""
    return np.asarray(image.convert("L").resize((side, side)), dtype=float).ravel() / 255.0


def read_images(paths: Sequence[str], describe: Callable[[Any], np.ndarray] = features_of
                ) -> tuple[np.ndarray, list[int], list[str]]:
    """``describe`` every readable image in ``paths``.

    Returns the features of the readable images (one row each), their positions in ``paths``, and
    a reason for each path skipped (unreadable, truncated or a decompression bomb).
    """
    from PIL import Image
    rows, kept, skipped = [], [], []
    for i, p in enumerate(paths):
        try:
            with Image.open(p) as im:
                rows.append(describe(im))
            kept.append(i)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            skipped.append(f"{p}: {type(exc).__name__}")
    return (np.array(rows) if rows else np.empty((0, 0))), kept, skipped
