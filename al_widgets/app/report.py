"""``al-widgets status`` and ``al-widgets export``: read a label store, never change it.

Everything printed passes through :func:`~al_widgets.core.store.safe_text.printable` (no terminal escape or
bidi control from an id or a name reaches the terminal); the CSV through
:func:`~al_widgets.core.store.safe_text.spreadsheet_safe`.
"""
from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

import pandas as pd

from ..core.store.label_store import LabelStore
from ..core.store.safe_text import printable
from .data import ConfigError
from .users import users_path


def _open(store: str) -> LabelStore:
    if not Path(store).is_file():
        raise ConfigError(f"label store not found: {store}")
    try:
        return LabelStore(store, readonly=True)
    except sqlite3.Error as exc:
        raise ConfigError(" ".join(str(exc).split())) from None


def refuse_overwriting_store(store: str, output: str) -> None:
    """``export -o`` never writes over a store, its WAL/SHM/journal files, its users file or any
    other SQLite database."""
    base = os.path.realpath(store)
    protected = [base, base + "-wal", base + "-shm", base + "-journal", os.path.realpath(users_path(store))]
    out = os.path.realpath(output)
    same = out in protected or (os.path.exists(output) and any(
        os.path.exists(p) and os.path.samefile(output, p) for p in protected))
    if same:
        raise ConfigError(f"refusing to write the export over {output}: it belongs to the label store {store}; "
                          "choose another -o")
    try:
        with open(output, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return
    if head == b"SQLite format 3\x00":
        raise ConfigError(f"refusing to write the export over {output}: it is an SQLite database; choose another -o")


def export(store: str, output: str, all_annotators: bool = False) -> int:
    """Write a store's labels as CSV (read-only; formulas and control characters neutralized)."""
    if output != "-":
        refuse_overwriting_store(store, output)
    with _open(store) as st:
        try:
            n = st.export_csv(sys.stdout if output == "-" else output, all_annotators=all_annotators)
        except sqlite3.Error as exc:
            raise ConfigError(" ".join(str(exc).split())) from None
    if output != "-":
        print(f"wrote {n} labels to {printable(output)}", file=sys.stderr)
    print("labels that came with the data file (a --label-column, class folders) are not in the store and "
          "not in this export: they stay in the data file", file=sys.stderr)
    return 0


def status(store: str) -> int:
    """Print who labeled how much, when, agreement, and which samples are claimed right now."""
    with _open(store) as st:
        try:
            events, meta, claims = st.to_frame_all(), st.meta(), st.open_claims()
        except sqlite3.Error as exc:
            raise ConfigError(" ".join(str(exc).split())) from None
    print(printable(status_text(store, events, meta, claims)))
    return 0


def status_text(store: str, events: pd.DataFrame, meta: dict, claims: list) -> str:
    """The report ``status`` prints (plain text, not yet made printable)."""
    from ..core.review.quality import annotations, decisions
    ann = annotations(events)
    dec = decisions(events)
    n_samples = events["sample_id"].nunique() if len(events) else 0
    out = [f"store {store}: dataset {meta.get('dataset', '?')!r}, classes {meta.get('classes', '?')}, "
           f"{n_samples} labeled samples, {len(ann)} annotator labels, {len(dec)} reviewer decisions"]
    if len(ann):  # one count per annotator everywhere: their current label per sample
        ann = ann.assign(time=pd.to_datetime(ann["ts"], unit="s", utc=True))
        per = ann.groupby("annotator").agg(labels=("label", "size"), median_seconds=("seconds", "median"),
                                           last=("time", "max"))
        out.append("\nper annotator:\n" + per.to_string())
        hours = ann.set_index("time").resample("1h")["label"].size()
        out.append("\nper hour (UTC):\n" + hours[hours > 0].to_string())
        numbers = meta.get("classes") in (None, "null")  # a regression store has no class list
        out.append("\n" + quality_report(events, "interval" if numbers else "nominal"))
    now = time.time()
    out.append(f"\nopen claims: {len(claims)}")
    out += [f"  {sid}  by {owner}  ({expires - now:.0f} s left)" for sid, owner, expires in claims]
    return "\n".join(out)


def quality_report(events: pd.DataFrame, level: str = "nominal") -> str:
    """Agreement, conflicts waiting for review, and per-annotator quality of a store's events
    (``level="interval"`` for numeric labels)."""
    from ..core.review.quality import agreement, annotations, annotator_stats, conflicts
    ag = agreement(annotations(events), level)
    n_conf = len(conflicts(events))
    stats = annotator_stats(events)
    lines = [ag.summary(), f"conflicts waiting for a reviewer: {n_conf}"]
    if len(ag.confusion):
        lines.append("between annotators (one's label x another's):\n" + ag.confusion.to_string())
    if len(stats):
        cols = ["labels", "median_seconds", "agreement_with_others", "shared", "corrected"]
        lines.append("quality per annotator:\n" + stats[cols].round(3).to_string())
    return "\n".join(lines)
