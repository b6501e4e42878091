"""Label store: every label committed to SQLite (WAL) before ``add_label`` returns.

The store is an append-only event log: a label is an event, an undo is another
event pointing at the label it cancels, so nothing a user gave is ever lost.
Claims (sample id, owner, lease expiry) live in the same database so that
several processes (e.g. one Voila kernel per expert) never hand out the same
sample twice.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import pandas as pd

from ..data.labels import TAG_SEPARATOR
from .safe_text import spreadsheet_safe

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('label', 'undo')),
    label TEXT,
    annotator TEXT NOT NULL,
    ts REAL NOT NULL,
    seconds REAL,
    strategy TEXT,
    score REAL,
    undoes INTEGER REFERENCES events(seq),
    batch TEXT,
    predicted TEXT
);
CREATE INDEX IF NOT EXISTS events_sample ON events(sample_id);
CREATE INDEX IF NOT EXISTS events_undoes ON events(undoes);
CREATE INDEX IF NOT EXISTS events_strategy ON events(strategy);
CREATE TABLE IF NOT EXISTS claims (
    sample_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS curve (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    n_labels INTEGER NOT NULL,
    row TEXT NOT NULL
);
"""
_HOST = socket.gethostname()


SYNC_MODES = ("full", "normal")


class StoreMismatch(ValueError):
    """The store was written for another dataset (or another class list)."""


class AlreadyLabeled(ValueError):
    """Someone else labeled the sample after it was shown (its claim had expired)."""


_ACTIVE = ("SELECT seq, sample_id, label, annotator, ts, batch, strategy FROM events e WHERE action = 'label' "
           "AND NOT EXISTS (SELECT 1 FROM events u WHERE u.undoes = e.seq)")
_IS_LABELED = _ACTIVE + " AND sample_id = ? LIMIT 1"
DECISIONS = ("adjudicated", "review")
"""Label events with these ``strategy`` values are decisions (a reviewer settling a conflict or
correcting a flagged label): they decide the sample's training label over the annotators' labels."""
RULES = ("newest", "majority", "exclude")
"""How a sample with labels from several annotators gets its training label (without a decision):
``newest`` label wins; ``majority`` of the annotators' labels (a tie is a conflict: excluded);
``exclude`` while the annotators disagree."""
_NOT_DECISION = f"(strategy IS NULL OR strategy NOT IN ({', '.join(repr(d) for d in DECISIONS)}))"


def resolve(rows: Iterable[tuple], rule: str = "newest") -> dict[str, Any]:
    """Training label per sample from active label rows in ``seq`` order (``None``: in conflict)."""
    if rule not in RULES:
        raise ValueError(f"conflict rule must be one of {RULES}, got {rule!r}")
    decision: dict[str, str] = {}
    newest: dict[str, str] = {}
    by: dict[str, dict[str, str]] = {}
    for r in rows:
        sid, payload = r[1], r[2]
        newest[sid] = payload
        if r[6] in DECISIONS:
            decision[sid] = payload
        else:
            by.setdefault(sid, {})[r[3]] = payload  # each annotator's newest label
    out: dict[str, Any] = {}
    for sid, payload in newest.items():
        if sid in decision:
            out[sid] = json.loads(decision[sid])
            continue
        votes = list(by.get(sid, {}).values())
        if rule == "newest" or len(set(votes)) <= 1:
            out[sid] = json.loads(payload if rule == "newest" or not votes else votes[0])
            continue
        counts = sorted(((votes.count(v), v) for v in set(votes)), reverse=True)
        top_wins = rule == "majority" and counts[0][0] > counts[1][0]
        out[sid] = json.loads(counts[0][1]) if top_wins else None
    return out


@dataclass(frozen=True)
class LabelRecord:
    """One label event as read back from the store."""

    seq: int
    sample_id: str
    label: Any
    annotator: str
    ts: float


@dataclass(frozen=True)
class BulkWrite:
    """What a bulk label wrote and what it skipped (see :meth:`LabelStore.add_labels`)."""

    seqs: list[int]
    written: list[str]
    skipped: dict[str, str]

    def summary(self, label: Any = None) -> str:
        """``"labeled 37 as 0, skipped 3: a (labeled meanwhile by bob), …"`` (plain text, not escaped)."""
        as_ = "" if label is None else f" as {label}"
        text = f"labeled {len(self.written)}{as_}"
        if self.skipped:
            shown = "; ".join(f"{sid} ({why})" for sid, why in list(self.skipped.items())[:5])
            more = f"; … {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
            text += f", skipped {len(self.skipped)}: {shown}{more}"
        return text


def _binding_problem(conn: sqlite3.Connection, where: str, want: dict[str, str]) -> str | None:
    have = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if not have:
        n = conn.execute("SELECT COUNT(*) FROM events WHERE action = 'label'").fetchone()[0]
        if n:  # labels of unknown origin: never bound silently to whatever dataset opens them
            return (f"label store {where} holds {n} labels but no record of the dataset they belong to "
                    f"(written with LabelStore directly or by an older al_widgets); use another store, or "
                    f"--force / allow_mismatch=True to bind it to {want['dataset']!r} on purpose")
        return None
    if have.get("identity") != want["identity"]:
        return (f"label store {where} belongs to dataset {have.get('dataset')!r} "
                f"(id {have.get('identity', '?')[:10]}), not {want['dataset']!r} (id {want['identity'][:10]}); use "
                "another store, or --force / allow_mismatch=True to reuse it on purpose")
    if have.get("classes") != want["classes"]:
        return (f"label store {where} was written with classes {have.get('classes')}, not {want['classes']}; "
                "use another store, or --force to reuse it")
    return None


def _refusal(conn: sqlite3.Connection, sid: str, annotator: str, k: int, claim_owner: str | None = None,
             owner: str | None = None, replace_own: bool = False) -> str | None:
    """Why a label may not be written for ``sid`` (``None``: it may): one set of rules for a single
    label (:meth:`LabelStore.add_label` with ``only_if_unlabeled``) and a bulk one (``add_labels``).
    ``k > 1``: an overlap sample takes labels from up to ``k`` different annotators.
    ``replace_own``: a sample whose every active label is ``annotator``'s may be labeled again (a
    bulk change of one's own tags); anyone else's label, a conflict or a decision still refuses."""
    if claim_owner is not None and claim_owner != owner:
        return "on another annotator's screen"
    rows = conn.execute(_ACTIVE + " AND sample_id = ?", (sid,)).fetchall()
    if not rows:
        return None
    if any(r[6] in DECISIONS for r in rows):
        return "decided by a reviewer"
    who = {r[3] for r in rows}
    if replace_own and k <= 1:
        return None if who == {annotator} else f"labeled by {', '.join(sorted(who - {annotator}))}"
    if k <= 1:
        if len(who) > 1:
            return "in conflict, waiting for review"
        return f"labeled {json.loads(rows[-1][2])!r} meanwhile by {rows[-1][3]}"
    if annotator in who:
        return "already has your label"
    if len(who) >= k:
        return f"already has its {len(who)} labels"
    return None


class LabelStore:
    """Durable, multi-process label log.

    Parameters
    ----------
    path : str or os.PathLike or None
        SQLite file (created with its folder if missing).  ``None`` keeps the
        labels in memory only (for simulations and tests).
    timeout : float
        Seconds to wait for another process's write lock.
    readonly : bool
        Open an existing store for reading only (exports, the annotators' dashboard).
    sync : {"full", "normal"}
        When a label is on disk.  ``"full"`` (default): ``add_label`` returns after the label is
        flushed to the disk (fsync), so it survives a killed kernel, a crashed machine and a power
        cut.  ``"normal"``: it returns once the label is written to the operating system (it
        survives a killed kernel or a crashed process at once; the system writes it out within
        seconds, a power cut in between may lose the newest labels); about 10× cheaper per label
        (0.03 against 0.3 ms here), for simulations and fast scripted labeling.  Claims are always
        written the ``"normal"`` way: they are leases that expire, and a lost claim only means a
        sample could be shown twice (its label is still refused if someone else stored one).
    """

    def __init__(self, path: str | os.PathLike | None = None, timeout: float = 30.0, readonly: bool = False,
                 sync: str = "full") -> None:
        if sync not in SYNC_MODES:
            raise ValueError(f"sync must be one of {SYNC_MODES}, got {sync!r}")
        self.path = None if path is None else os.fspath(path)
        self.readonly = readonly
        self.sync = sync
        self._sync_now = ""
        self._lock = threading.RLock()
        if readonly:
            if self.path is None or not os.path.isfile(self.path):
                raise FileNotFoundError(f"label store not found: {self.path}")
            try:
                self._conn = _open_readonly(self.path, timeout)
            except sqlite3.DatabaseError as exc:
                raise sqlite3.DatabaseError(f"{self.path} is not an al_widgets label store ({exc})") from None
            self._check_is_store()
            return
        if self.path is not None:
            folder = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(folder, exist_ok=True)
        self._conn = sqlite3.connect(self.path or ":memory:", timeout=timeout,
                                     check_same_thread=False, isolation_level=None)
        try:
            if self.path is not None:
                self._refuse_foreign()  # before WAL or tables: another application's file stays as it was
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._set_sync(self.sync)
            with self._lock:
                self._conn.executescript(_SCHEMA)
                self._migrate()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise sqlite3.DatabaseError(f"{self.path} is not an al_widgets label store ({exc})") from None

    def _refuse_foreign(self) -> None:
        tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        tables.discard("sqlite_sequence")
        if tables and "events" not in tables:
            raise sqlite3.DatabaseError(f"it is a database of another application, with tables "
                                        f"{', '.join(sorted(tables)[:5])}; nothing was changed")

    def quick_check(self) -> str | None:
        """SQLite's ``quick_check`` of the file: ``None`` when sound, else the first problems in one line."""
        try:
            with self._lock:
                rows = [r[0] for r in self._conn.execute("PRAGMA quick_check(5)")]
        except sqlite3.DatabaseError as exc:
            return str(exc)
        return None if rows == ["ok"] else "; ".join(" ".join(str(r).split()) for r in rows)

    def _check_is_store(self) -> None:
        try:
            tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise sqlite3.DatabaseError(f"{self.path} is not an al_widgets label store ({exc})") from None
        if "events" not in tables:
            self._conn.close()
            raise sqlite3.DatabaseError(f"{self.path} is not an al_widgets label store (no events table)")

    def _migrate(self) -> None:
        cols = {r[1] for r in self._conn.execute("PRAGMA table_info(events)")}
        if "batch" not in cols:  # stores written before bulk actions were grouped
            self._conn.execute("ALTER TABLE events ADD COLUMN batch TEXT")
        if "predicted" not in cols:  # stores written before audit labels kept the model's prediction
            self._conn.execute("ALTER TABLE events ADD COLUMN predicted TEXT")
        claim_cols = {r[1] for r in self._conn.execute("PRAGMA table_info(claims)")}
        if "pid" not in claim_cols:  # stores written before claims knew their process
            self._conn.execute("ALTER TABLE claims ADD COLUMN pid INTEGER")
            self._conn.execute("ALTER TABLE claims ADD COLUMN host TEXT")

    # ------------------------------------------------------------ dataset binding
    def bind(self, identity: str, dataset: str, classes: list | None, allow_mismatch: bool = False) -> None:
        """Tie the store to one dataset; refuse another one (unless ``allow_mismatch``).

        The first session on a store records the dataset's identity (features, ids, task), its
        name and its classes.  A later session on a different dataset, or with other classes,
        gets :class:`StoreMismatch` naming both, so labels never land on the wrong samples.
        """
        want = {"identity": identity, "dataset": dataset, "classes": json.dumps(classes)}

        def op(conn: sqlite3.Connection) -> None:
            problem = _binding_problem(conn, self.path or "in memory", want)
            if problem and not allow_mismatch:
                raise StoreMismatch(problem)
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(want.items()))
        self._write(op)

    def binding_problem(self, identity: str, dataset: str, classes: list | None) -> str | None:
        """Why :meth:`bind` would refuse this dataset (``None``: it would not); reads only."""
        want = {"identity": identity, "dataset": dataset, "classes": json.dumps(classes)}
        with self._lock:
            return _binding_problem(self._conn, self.path or "in memory", want)

    def meta(self) -> dict[str, str]:
        """What the store knows of its dataset (identity, name, classes)."""
        with self._lock:
            return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    # ------------------------------------------------------------ writing
    def _set_sync(self, mode: str) -> None:
        if mode != self._sync_now and self.path is not None:
            self._conn.execute(f"PRAGMA synchronous={mode.upper()}")
            self._sync_now = mode

    def _write(self, fn: Any, soft: bool = False) -> Any:
        """Run ``fn(conn)`` in one write transaction; ``soft``: lease bookkeeping, not labels (no fsync)."""
        with self._lock:
            self._set_sync("normal" if soft else self.sync)
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                out = fn(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return out

    def add_label(self, sample_id: Any, label: Any, annotator: str = "anonymous", seconds: float | None = None,
                  strategy: str | None = None, score: float | None = None, only_if_unlabeled: bool = False,
                  overlap_k: int = 1, predicted: Any = None) -> int:
        """Append a label and commit it; returns its sequence number.

        With ``only_if_unlabeled`` the write is refused (:class:`AlreadyLabeled`) when the sample
        already has an active label: someone labeled it after it was shown here.  ``overlap_k > 1``
        (an overlap sample) allows labels from up to ``overlap_k`` different annotators instead,
        never two from the same one.
        """
        payload = json.dumps(label)
        score = None if score is None or score != score else float(score)

        def op(conn: sqlite3.Connection) -> int:
            reason = _refusal(conn, str(sample_id), annotator, overlap_k) if only_if_unlabeled else None
            if reason is not None:  # the same rules as a bulk label's
                raise AlreadyLabeled(f"sample {sample_id!r}: {reason}; nothing was overwritten")
            cur = conn.execute(
                "INSERT INTO events (sample_id, action, label, annotator, ts, seconds, strategy, score, predicted) "
                "VALUES (?, 'label', ?, ?, ?, ?, ?, ?, ?)",
                (str(sample_id), payload, annotator, time.time(), seconds, strategy, score,
                 None if predicted is None else json.dumps(predicted)))
            conn.execute("DELETE FROM claims WHERE sample_id = ?", (str(sample_id),))
            return int(cur.lastrowid)
        return self._write(op)

    def add_labels(self, items: list[tuple[Any, Any]], annotator: str = "anonymous", strategy: str | None = None,
                   *, overlap: dict[str, int] | None = None, owner: str | None = None,
                   replace_own: bool = False) -> "BulkWrite":
        """Append many ``(sample_id, label)`` pairs in one transaction as one action, under the rules
        :meth:`add_label` applies with ``only_if_unlabeled``.

        A sample is skipped (and reported, never written) when it already has an active label
        (labeled meanwhile, or in conflict between annotators), when it is an overlap sample
        (``overlap[sample_id] = k``) that already has ``k`` labels or one of ``annotator``'s, or
        when an owner other than ``owner`` holds an unexpired claim on it.  ``replace_own``: a sample
        labeled by ``annotator`` alone may get a new label (changing one's own tags in bulk; the old
        label stays in the log and an undo brings it back).

        Returns
        -------
        BulkWrite
            The sequence numbers written, the ids written and ``{sample_id: reason}`` for the skipped.
        """
        batch = uuid.uuid4().hex
        overlap = overlap or {}

        def op(conn: sqlite3.Connection) -> BulkWrite:
            now = time.time()
            claimed = {r[0]: r[1] for r in conn.execute(
                "SELECT sample_id, owner FROM claims WHERE expires >= ?", (now,))} if items else {}
            rows, skipped, seen = [], {}, set()
            for sid, label in items:
                sid = str(sid)
                if sid in seen:
                    skipped[sid] = "given twice in one bulk action"
                    continue
                seen.add(sid)
                reason = _refusal(conn, sid, annotator, overlap.get(sid, 1), claimed.get(sid), owner, replace_own)
                if reason:
                    skipped[sid] = reason
                    continue
                rows.append((sid, json.dumps(label), annotator, now, strategy, batch))
            conn.executemany("INSERT INTO events (sample_id, action, label, annotator, ts, strategy, batch) "
                             "VALUES (?, 'label', ?, ?, ?, ?, ?)", rows)
            conn.executemany("DELETE FROM claims WHERE sample_id = ?", [(r[0],) for r in rows])
            seqs = [r[0] for r in conn.execute("SELECT seq FROM events WHERE batch = ? ORDER BY seq", (batch,))]
            return BulkWrite(seqs, [r[0] for r in rows], skipped)
        return self._write(op)

    def undo_events(self, seqs: Sequence[int], annotator: str) -> list[LabelRecord]:
        """Cancel the label events ``seqs`` that are still active (newest first); returns what was undone.

        A session undoes only the events it created itself, so one annotator's undo never
        cancels another's label.
        """
        def op(conn: sqlite3.Connection) -> list[LabelRecord]:
            marks = ",".join("?" * len(seqs))
            rows = conn.execute(_ACTIVE + f" AND seq IN ({marks}) ORDER BY seq DESC", tuple(seqs)).fetchall()
            now = time.time()
            conn.executemany("INSERT INTO events (sample_id, action, annotator, ts, undoes) "
                             "VALUES (?, 'undo', ?, ?, ?)", [(r[1], annotator, now, r[0]) for r in rows])
            return [LabelRecord(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]
        return self._write(op) if seqs else []

    # ------------------------------------------------------------ reading
    def labels(self, rule: str = "newest") -> dict[str, Any]:
        """The training label of every labeled sample id (see :data:`RULES`; samples in conflict left out)."""
        with self._lock:
            rows = self._conn.execute(_ACTIVE + " ORDER BY seq").fetchall()
        return {sid: v for sid, v in resolve(rows, rule).items() if v is not None}

    def open_overlap(self, annotator: str, k: int) -> list[str]:
        """Samples labeled by fewer than ``k`` annotators, none of them ``annotator``, without a decision."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT sample_id FROM ({_ACTIVE}) a GROUP BY sample_id "
                f"HAVING COUNT(DISTINCT CASE WHEN {_NOT_DECISION} THEN annotator END) < ? "
                f"AND SUM(annotator = ?) = 0 AND SUM(NOT {_NOT_DECISION}) = 0 ORDER BY MIN(seq)",
                (k, annotator)).fetchall()
        return [r[0] for r in rows]

    def audit_checks(self) -> list[tuple[Any, Any]]:
        """``(label, prediction before training)`` of every active audit label, oldest first."""
        with self._lock:
            try:
                rows = self._conn.execute(
                    "SELECT label, predicted FROM events e WHERE action = 'label' AND strategy = 'audit' "
                    "AND predicted IS NOT NULL AND NOT EXISTS (SELECT 1 FROM events u WHERE u.undoes = e.seq) "
                    "ORDER BY seq").fetchall()
            except sqlite3.OperationalError:  # an older store opened read-only
                return []
        return [(json.loads(a), json.loads(b)) for a, b in rows]

    def newest_annotator(self) -> str | None:
        """Who gave the newest label (not counting reviewers' decisions)."""
        with self._lock:
            row = self._conn.execute(f"SELECT annotator FROM events WHERE action = 'label' AND {_NOT_DECISION} "
                                     "ORDER BY seq DESC LIMIT 1").fetchone()
        return None if row is None else row[0]

    def newest_seq(self) -> int:
        """Sequence number of the newest event (0 for an empty store): a cheap "did anything change?"."""
        with self._lock:
            return int(self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])

    def changes_since(self, seq: int, rule: str = "newest") -> tuple[int, dict[str, Any]]:
        """What changed after event ``seq``: ``(newest seq, {sample_id: training label or None})``.

        Only the samples touched by newer events are read, so a session that polls the store
        after every retrain costs O(changes), not O(all labels ever given).
        """
        newest = self.newest_seq()
        with self._lock:
            if newest <= seq:
                return seq, {}
            touched = [r[0] for r in self._conn.execute(
                "SELECT DISTINCT sample_id FROM events WHERE seq > ?", (seq,))]
            out: dict[str, Any] = {sid: None for sid in touched}
            for start in range(0, len(touched), 500):
                part = touched[start:start + 500]
                rows = self._conn.execute(_ACTIVE + f" AND sample_id IN ({','.join('?' * len(part))}) ORDER BY seq",
                                          part).fetchall()
                out.update(resolve(rows, rule))
        return newest, out

    def history(self) -> pd.DataFrame:
        """Every event (labels and undos) in order."""
        with self._lock:
            df = pd.read_sql_query("SELECT * FROM events ORDER BY seq", self._conn)
        for col in ("label", "predicted"):
            if col in df:
                df[col] = pd.Series([json.loads(v) if isinstance(v, str) else None for v in df[col]], dtype=object)
        return df

    def to_frame_all(self) -> pd.DataFrame:
        """Every active label event, oldest first: all annotators' labels and reviewers' decisions."""
        df = self.history()
        undone = set(df.loc[df["action"] == "undo", "undoes"].dropna().astype(int))
        df = df[(df["action"] == "label") & ~df["seq"].isin(undone)]
        return df.drop(columns=["action", "undoes"]).reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Active labels with annotator, time, seconds spent, strategy and score (newest per sample)."""
        df = self.to_frame_all().drop_duplicates("sample_id", keep="last")
        df = df.drop(columns=["batch"]).reset_index(drop=True)
        df["time"] = pd.to_datetime(df["ts"], unit="s", utc=True)
        return df

    def export_csv(self, path: Any, all_annotators: bool = False) -> int:
        """Write the active labels to ``path`` (a path or a text stream) as CSV; returns the number of rows.

        ``all_annotators``: one row per active label event (every annotator's label and every
        reviewer decision, ``strategy`` says which), for agreement analyses elsewhere.
        Text cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or
        carriage return, e.g. an annotator name typed in the browser, but not a number such as
        ``-12``) are prefixed with ``'``; control and bidirectional characters are written as
        ``\\x1b`` / ``\\u202e`` escapes (see :mod:`al_widgets.core.store.safe_text`).
        A multi-label answer is written as its tags joined by ``|`` (``billing|urgent``), the empty
        set ("none of these") as an empty cell: its row is there, a skipped sample has none.
        """
        df = self.to_frame_all() if all_annotators else self.to_frame()
        for col in ("label", "predicted"):  # a multi-label answer, a list of tags: "billing|urgent" ("" for none)
            if col in df:
                df[col] = pd.Series([TAG_SEPARATOR.join(map(str, v)) if isinstance(v, list) else v for v in df[col]],
                                    index=df.index, dtype=object)
        df = spreadsheet_safe(df)
        df.to_csv(path, index=False)
        return len(df)

    # ------------------------------------------------------------ learning curve
    def add_curve_point(self, row: dict[str, Any]) -> None:
        """Keep one learning-curve row (metrics after a retrain); bookkeeping, so no fsync."""
        text = json.dumps({k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()})
        self._write(lambda conn: conn.execute("INSERT INTO curve (n_labels, row) VALUES (?, ?)",
                                              (int(row["n_labels"]), text)), soft=True)

    def curve_points(self, limit: int = 5000) -> list[dict[str, Any]]:
        """The newest ``limit`` kept learning-curve rows, oldest first (``[]`` for older stores)."""
        try:
            with self._lock:
                rows = self._conn.execute("SELECT row FROM curve ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        except sqlite3.OperationalError:  # a store written before curves were kept, opened read-only
            return []
        return [{k: (float("nan") if v is None else v) for k, v in json.loads(r[0]).items()} for r in reversed(rows)]

    # ------------------------------------------------------------ claims
    def claim(self, owner: str, candidate_ids: Iterable[Any], n: int = 1, lease_seconds: float = 600.0,
              exclude: Sequence[Any] = (), allow_labeled: bool = False) -> list[str]:
        """Atomically claim up to ``n`` of ``candidate_ids`` (in order) for ``owner``.

        Skips ids labeled in the store (unless ``allow_labeled``: an overlap sample's second
        label), ids in ``exclude`` and ids claimed by another owner whose lease has not expired.
        An owner may re-claim its own ids (renewing the lease).
        """
        exclude = {str(e) for e in exclude}

        def op(conn: sqlite3.Connection) -> list[str]:
            now = time.time()
            conn.execute("DELETE FROM claims WHERE expires < ?", (now,))
            taken = {r[0] for r in conn.execute("SELECT sample_id FROM claims WHERE owner != ?", (owner,))}
            got: list[str] = []
            for sid in candidate_ids:  # usually the first few pass: indexed look-ups, not a scan
                sid = str(sid)
                if sid in taken or sid in exclude or (not allow_labeled and conn.execute(_IS_LABELED, (sid,)).fetchone()):
                    continue
                got.append(sid)
                if len(got) >= n:
                    break
            conn.executemany("INSERT OR REPLACE INTO claims (sample_id, owner, expires, pid, host) "
                             "VALUES (?, ?, ?, ?, ?)",
                             [(sid, owner, now + lease_seconds, os.getpid(), _HOST) for sid in got])
            return got
        return self._write(op, soft=True)

    def release(self, owner: str, sample_ids: Iterable[Any] | None = None) -> None:
        """Drop ``owner``'s claims (all of them, or only ``sample_ids``)."""
        def op(conn: sqlite3.Connection) -> None:
            if sample_ids is None:
                conn.execute("DELETE FROM claims WHERE owner = ?", (owner,))
            else:
                conn.executemany("DELETE FROM claims WHERE owner = ? AND sample_id = ?",
                                 [(owner, str(s)) for s in sample_ids])
        self._write(op, soft=True)

    def release_dead(self) -> int:
        """Drop claims held by processes of this host that no longer run (a killed kernel).

        Called when a session starts, so a restarted app hands those samples out at once
        instead of after the lease.  Returns how many claims were dropped.
        """
        def op(conn: sqlite3.Connection) -> int:
            pids = [r[0] for r in conn.execute("SELECT DISTINCT pid FROM claims WHERE host = ? AND pid IS NOT NULL",
                                               (_HOST,))]
            dead = [p for p in pids if not _alive(p)]
            n = 0
            for p in dead:
                n += conn.execute("DELETE FROM claims WHERE host = ? AND pid = ?", (_HOST, p)).rowcount
            return n
        return self._write(op, soft=True)

    def per_annotator(self) -> dict[str, tuple[int, float | None, float]]:
        """``annotator -> (active labels, mean seconds per label, last label time)`` in one SQL query.

        Cheap enough to call after every retrain or every few seconds (no label log in Python).
        """
        with self._lock:
            rows = self._conn.execute(
                "SELECT annotator, COUNT(*), AVG(seconds), MAX(ts) FROM events e WHERE action = 'label' "
                "AND NOT EXISTS (SELECT 1 FROM events u WHERE u.undoes = e.seq) GROUP BY annotator").fetchall()
        return {r[0]: (int(r[1]), r[2], r[3]) for r in rows}

    def open_claims(self) -> list[tuple[str, str, float]]:
        """``(sample_id, owner, expires)`` of every unexpired claim."""
        with self._lock:
            return [tuple(r) for r in self._conn.execute(
                "SELECT sample_id, owner, expires FROM claims WHERE expires >= ? ORDER BY expires",
                (time.time(),)).fetchall()]

    def claimed_by_others(self, owner: str) -> set[str]:
        """Ids currently claimed (unexpired) by owners other than ``owner``."""
        with self._lock:
            rows = self._conn.execute("SELECT sample_id FROM claims WHERE owner != ? AND expires >= ?",
                                      (owner, time.time())).fetchall()
        return {r[0] for r in rows}

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "LabelStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _open_readonly(path: str, timeout: float) -> sqlite3.Connection:
    """A read-only connection.  On read-only media a WAL store cannot make its ``-shm`` file and
    ``mode=ro`` fails ("unable to open"); it is then read as immutable, which is safe there
    because nothing can write it."""
    base = "file:" + urllib.parse.quote(os.path.abspath(path))

    def connect(query: str) -> sqlite3.Connection:
        conn = sqlite3.connect(base + query, uri=True, timeout=timeout, check_same_thread=False,
                               isolation_level=None)
        try:
            conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    try:
        return connect("?mode=ro")
    except sqlite3.OperationalError as exc:
        if "unable to open" not in str(exc) and "readonly" not in str(exc):
            raise
        return connect("?mode=ro&immutable=1")


def _alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
