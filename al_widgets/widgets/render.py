"""Safe HTML for samples: images, text, tables.  Text from the data is always escaped."""
from __future__ import annotations

import base64
import html
import os
import struct
import zlib
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

Renderer = Callable[[Any], str]
from ..core.data.pool import IMAGE_TYPES


def png_bytes(image: np.ndarray) -> bytes:
    """Encode a 2-D grayscale array (any range) as a PNG, scaled to 0..255."""
    a = np.asarray(image, dtype=float)
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    a = np.zeros_like(a) if hi <= lo else (a - lo) / (hi - lo)
    a = (255 - np.nan_to_num(a) * 255).astype(np.uint8)  # dark ink on a light background
    h, w = a.shape
    raw = b"".join(b"\x00" + a[r].tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _img_tag(data: bytes, fmt: str, size: int, alt: str, pixelated: bool = True) -> str:
    b64 = base64.b64encode(data).decode("ascii")
    crisp = "image-rendering:pixelated;" if pixelated else ""
    return (f'<img src="data:image/{fmt};base64,{b64}" alt="{html.escape(alt)}" '
            f'style="width:{size}px;height:{size}px;object-fit:contain;{crisp}'
            f'border:1px solid #ccc"/>')


def _as_image(item: Any) -> np.ndarray | None:
    if isinstance(item, (pd.Series, pd.DataFrame)) or isinstance(item, (str, bytes)):
        return None
    try:
        a = np.asarray(item, dtype=float)
    except (TypeError, ValueError):
        return None
    if a.ndim == 2 and min(a.shape) >= 4:
        return a
    if a.ndim == 1 and a.size in (16 * 16, 8 * 8, 28 * 28):
        side = int(round(np.sqrt(a.size)))
        return a.reshape(side, side)
    return None


def image_file_html(path: str, size: int) -> str:
    """A thumbnail of an image file (never the whole file: a photo can weigh megabytes).

    Files Pillow cannot read, or that are decompression bombs, are named in escaped text.
    """
    import io

    from PIL import Image
    try:
        with Image.open(path) as im:
            im.thumbnail((2 * size, 2 * size))
            im = im.convert("RGBA" if im.mode in ("RGBA", "LA", "P") else "RGB")
            buf = io.BytesIO()
            im.save(buf, format="PNG", optimize=True)
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as exc:
        return text_html(f"cannot show image {os.path.basename(path)}: {type(exc).__name__}")
    return _img_tag(buf.getvalue(), "png", size, os.path.basename(path), pixelated=False)


def text_html(text: str, large: bool = False) -> str:
    """Escaped text, whitespace preserved."""
    size = "1.2em" if large else "0.9em"
    return (f'<div class="alw-text" style="white-space:pre-wrap;font-size:{size};max-height:16em;'
            f'overflow:auto">{html.escape(text)}</div>')


def table_html(row: Mapping[str, Any] | pd.Series, max_rows: int = 12, compact: bool = False) -> str:
    """A feature table, every key and value escaped; rows past ``max_rows`` open with a click.

    ``compact`` (cards a few hundred pixels wide): one "name value" line per feature, wrapped,
    so long column names never push the values out of sight.
    """
    items = list(row.items())

    def rows(part: list) -> str:
        if compact:
            return "".join(f"<div style='overflow-wrap:anywhere'><small style='color:#57606a'>{html.escape(str(k))}"
                           f"</small> {html.escape(_fmt(v))}</div>" for k, v in part)
        return "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(str(k))}</th>"
                       f"<td>{html.escape(_fmt(v))}</td></tr>" for k, v in part)

    first, rest = items[:max_rows], items[max_rows:]
    more = "" if not rest else (f"<details class='alw-more'><summary>{len(rest)} more</summary>"
                                + (rows(rest) if compact else f"<table class='alw-table'>{rows(rest)}</table>")
                                + "</details>")
    if compact:
        return f"<div class='alw-table alw-compact' style='font-size:0.85em'>{rows(first)}{more}</div>"
    return f"<table class='alw-table'>{rows(first)}</table>{more}"


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def sample_html(item: Any, renderer: Renderer | None = None, size: int = 96) -> str:
    """HTML for one sample.

    Parameters
    ----------
    item : the display item (image array, 8x8-style digit vector, image file as a ``pathlib.Path``,
        text, row).  A ``str`` is always text: a data cell naming a file on the server
        (``/etc/passwd.png``) is shown as that text, never as the file.
    renderer : callable, optional
        User hook returning trusted HTML for ``item``.
    size : int
        Image width/height in pixels.
    """
    if renderer is not None:
        return renderer(item)
    if isinstance(item, os.PathLike) and _is_image_path(item):
        return image_file_html(os.fspath(item), size)
    if isinstance(item, str):
        return text_html(item, large=size > 120)
    if isinstance(item, (pd.Series, dict)):
        return table_html(item, compact=size < 96)
    image = _as_image(item)
    if image is not None:
        return _img_tag(png_bytes(image), "png", size, "sample image")
    if isinstance(item, np.ndarray) and item.ndim == 1:
        return table_html({f"x{i}": v for i, v in enumerate(item)}, compact=size < 96)
    return text_html(repr(item))


def _is_image_path(item: Any) -> bool:
    try:
        path = os.fspath(item)
        return os.path.splitext(path)[1].lower() in IMAGE_TYPES and os.path.isfile(path)
    except (TypeError, ValueError, OSError):
        return False


def render_sample(item: Any, renderer: Renderer | None = None, size: int = 96) -> Any:
    """An ``ipywidgets.HTML`` showing ``item`` safely."""
    import ipywidgets as w
    return w.HTML(sample_html(item, renderer, size))


def escape(text: Any) -> str:
    """HTML-escape any value's string form."""
    return html.escape(str(text))
