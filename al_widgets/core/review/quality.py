"""Annotation quality: overlap samples, agreement between annotators, conflicts and likely label errors.

Everything here reads the label store (an event log: every annotator's label is kept, a
reviewer's decision is one more event, nothing is deleted) or a labeled set plus a model.
UI-free; the review panel and ``al-widgets status`` show what it computes.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..store.label_store import DECISIONS, LabelStore
from .sets import alpha as masi_alpha
from .sets import tag_kappas


def overlap_mask(ids: Any, share: float) -> np.ndarray:
    """Which samples are overlap samples: a stable hash of the id below ``share``.

    Every session of every annotator computes the same set from the ids alone.
    """
    if share <= 0:  # no overlap: no per-sample work (a pool of millions has RangeIds, no strings)
        return np.zeros(len(ids), dtype=bool)
    if share >= 1:
        return np.ones(len(ids), dtype=bool)
    ids = list(ids)
    cut = int(share * 2**64)
    return np.fromiter((int.from_bytes(hashlib.blake2b(str(i).encode(), digest_size=8).digest(), "big") < cut
                        for i in ids), dtype=bool, count=len(ids))


def _events(source: LabelStore | pd.DataFrame) -> pd.DataFrame:
    """The active label events of a store (or ``source`` itself when it already is that frame).

    A view that needs several of the functions below reads the log once and passes the frame.
    """
    return source.to_frame_all() if isinstance(source, LabelStore) else source


def annotations(source: LabelStore | pd.DataFrame) -> pd.DataFrame:
    """Each annotator's current label per sample (their newest active one), decisions left out.

    ``source``: a store or its :meth:`LabelStore.to_frame_all`.  Columns: ``sample_id, annotator,
    label, seconds, ts, seq``.
    """
    df = _events(source)
    df = df[~df["strategy"].isin(DECISIONS)]
    df = df.sort_values("seq").drop_duplicates(["sample_id", "annotator"], keep="last")
    return df[["sample_id", "annotator", "label", "seconds", "ts", "seq"]].reset_index(drop=True)


def decisions(source: LabelStore | pd.DataFrame) -> pd.DataFrame:
    """Active reviewer decisions (``adjudicated`` conflicts, ``review`` of flagged labels), newest per sample."""
    df = _events(source)
    df = df[df["strategy"].isin(DECISIONS)].sort_values("seq").drop_duplicates("sample_id", keep="last")
    return df[["sample_id", "annotator", "label", "strategy", "ts", "seq"]].reset_index(drop=True)


def _key(label: Any) -> str:
    return json.dumps(label)


@dataclass
class Agreement:
    """Agreement between annotators on the samples more than one of them labeled.

    Attributes
    ----------
    pairs : DataFrame
        One row per pair of annotators: shared samples, raw agreement, Cohen's kappa.
    alpha : float
        Krippendorff's alpha (nominal) over every multiply-labeled sample and annotator (NaN when
        fewer than two annotators share a sample).
    n_items : int
        Samples with labels from at least two annotators.
    confusion : DataFrame
        Label given by one annotator (rows) against the other's (columns), over all pairs and
        both orders (symmetric).
    masi_alpha : float
        Tag sets (multi-label pools): Krippendorff's alpha under the MASI distance, which counts
        partial agreement (``{a, b}`` against ``{a}``) as partial; NaN for single labels.  ``alpha``
        and the kappas then treat each distinct set as one category (exact agreement).
    tag_kappa : Series
        Tag sets: per tag, Cohen's kappa of "carries the tag", averaged over pairs of annotators.
    """

    pairs: pd.DataFrame
    alpha: float
    n_items: int
    confusion: pd.DataFrame = field(default_factory=pd.DataFrame)
    masi_alpha: float = float("nan")
    tag_kappa: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))

    def summary(self) -> str:
        if self.n_items == 0:
            return "agreement: no sample has labels from two annotators yet"
        kappas = ", ".join(f"{r.a}/{r.b} kappa {r.kappa:.2f} on {r.shared}" for r in self.pairs.itertuples())
        if self.masi_alpha == self.masi_alpha:
            tags = ", ".join(f"{t} {k:.2f}" for t, k in self.tag_kappa.items() if k == k)
            return (f"agreement on {self.n_items} shared samples: Krippendorff's alpha (MASI, tag sets) "
                    f"{self.masi_alpha:.2f}, exact sets {self.alpha:.2f}; kappa per tag: {tags}; {kappas}")
        return f"agreement on {self.n_items} shared samples: Krippendorff's alpha {self.alpha:.2f}; {kappas}"


def agreement(ann: pd.DataFrame, level: str = "nominal") -> Agreement:
    """Pairwise Cohen's kappa (scikit-learn), Krippendorff's alpha (``krippendorff``), confusion.

    ``level="interval"`` for numbers (regression labels): alpha weighs a disagreement by its squared
    difference, and the pairs' ``kappa`` column holds Pearson's correlation instead (a kappa of numbers
    would count 3.0 against 3.1 as a full disagreement)."""
    import krippendorff  # imported here: a labeling kernel that never shows agreement does not pay for it
    from sklearn.metrics import cohen_kappa_score

    wide = ann.assign(key=ann["label"].map(_key)).pivot(index="sample_id", columns="annotator", values="key")
    wide = wide[wide.notna().sum(axis=1) >= 2]
    rows, conf = [], {}
    for a, b in itertools.combinations(sorted(wide.columns), 2):
        both = wide[[a, b]].dropna()
        if len(both) == 0:
            continue
        if level == "interval":  # numbers: how the two annotators' values go together
            xa, xb = both[a].map(json.loads).astype(float), both[b].map(json.loads).astype(float)
            kappa = float(np.corrcoef(xa, xb)[0, 1]) if len(both) > 1 and xa.std() and xb.std() else float("nan")
        else:
            kappa = cohen_kappa_score(both[a], both[b]) if len(set(both[a]) | set(both[b])) > 1 else 1.0
        rows.append({"a": a, "b": b, "shared": len(both), "agreement": float((both[a] == both[b]).mean()),
                     "kappa": float(kappa)})
        for x, y in itertools.chain(zip(both[a], both[b]), zip(both[b], both[a])) if level == "nominal" else ():
            conf[(x, y)] = conf.get((x, y), 0) + 1
    pairs = pd.DataFrame(rows, columns=["a", "b", "shared", "agreement", "kappa"])
    alpha = float("nan")
    if len(wide):
        # only the labels given: pandas 3's stack() keeps empty cells as NaN (a float among strings)
        given = wide.to_numpy(dtype=object).ravel()
        codes = {k: i for i, k in enumerate(sorted({v for v in given if isinstance(v, str)}))}
        data = wide.T.apply(lambda col: col.map(codes)).to_numpy(dtype=float)  # annotators x samples
        if level == "interval":
            data = wide.T.apply(lambda col: col.map(lambda k: json.loads(k) if isinstance(k, str) else np.nan)
                                ).to_numpy(dtype=float)
        if len(codes) > 1:
            alpha = float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
        else:
            alpha = 1.0
    labels = sorted({k for pair in conf for k in pair})
    confusion = pd.DataFrame([[conf.get((x, y), 0) for y in labels] for x in labels],
                             index=[_shown(x) for x in labels], columns=[_shown(y) for y in labels])
    result = Agreement(pairs, alpha, int(len(wide)), confusion)
    if len(ann) and all(isinstance(v, list) for v in ann["label"]):  # tag sets
        sets = ann.pivot(index="sample_id", columns="annotator", values="label").loc[wide.index]
        units = [[v for v in row if isinstance(v, list)] for row in sets.itertuples(index=False)]
        result.masi_alpha = masi_alpha(units)
        result.tag_kappa = tag_kappas(sets, sorted({t for u in units for v in u for t in v}, key=str))
    return result


def _shown(key: str) -> Any:
    """A confusion-table heading: the label itself, a tag set as ``a|b``."""
    value = json.loads(key)
    if isinstance(value, list):
        return "|".join(map(str, value)) if value else "(none)"
    return value


def conflicts(source: LabelStore | pd.DataFrame) -> pd.DataFrame:
    """Samples whose annotators disagree and that no reviewer has decided yet.

    Columns: ``sample_id``, ``labels`` (annotator -> label), ``n_annotators``.
    """
    events = _events(source)
    ann = annotations(events)
    decided = set(decisions(events)["sample_id"])
    out = []
    for sid, grp in ann.groupby("sample_id", sort=False):
        keys = set(grp["label"].map(_key))
        if len(keys) > 1 and sid not in decided:
            out.append({"sample_id": sid, "labels": dict(zip(grp["annotator"], grp["label"])),
                        "n_annotators": len(grp), "seq": int(grp["seq"].max())})
    return pd.DataFrame(out, columns=["sample_id", "labels", "n_annotators", "seq"]).sort_values("seq")


def label_issues(model: Any, X: Any, y: Any, classes: list, cv: int = 5,
                 random_state: int | None = 0) -> pd.DataFrame:
    """Labels most likely to be wrong, by confident learning (Northcutt, Jiang & Chuang, 2021).

    Out-of-fold predicted probabilities on the labeled set (``cv``-fold cross-validation, so no
    sample is judged by a model that trained on it); per class ``j`` the threshold ``t_j`` is the
    mean predicted probability of ``j`` over the samples labeled ``j``.  A sample labeled ``i`` is
    flagged when some other class ``j`` reaches its threshold (``p_j >= t_j``) and ``p_j > p_i``
    (cleanlab's ``confident_learning`` filter); flags are ranked by self-confidence ``p_i``,
    lowest first.  The suggestion is the flagged class with the largest ``p_j``.

    Returns
    -------
    DataFrame
        Flagged rows only: ``position`` (row of ``X``), ``given``, ``suggested``,
        ``self_confidence``, ``suggested_proba``; most suspicious first.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    y = np.asarray(y, dtype=object)
    pos = {c: i for i, c in enumerate(classes)}
    yi = np.array([pos[v] for v in y])
    counts = np.bincount(yi, minlength=len(classes))
    present = counts > 0
    n_splits = int(min(cv, counts[present].min())) if present.any() else 0
    if n_splits < 2 or present.sum() < 2:
        return pd.DataFrame(columns=["position", "given", "suggested", "self_confidence", "suggested_proba"])
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    P_present = cross_val_predict(clone(model), X, yi, cv=folds, method="predict_proba")
    P = np.zeros((len(yi), len(classes)))
    P[:, np.flatnonzero(present)] = P_present
    thresholds = np.array([P[yi == j, j].mean() if counts[j] else np.inf for j in range(len(classes))])
    self_conf = P[np.arange(len(yi)), yi]
    above = (P >= thresholds) & (P > self_conf[:, None])
    above[np.arange(len(yi)), yi] = False
    flagged = np.flatnonzero(above.any(axis=1))
    suggested = [int(np.argmax(np.where(above[i], P[i], -1))) for i in flagged]
    df = pd.DataFrame({"position": flagged, "given": y[flagged],
                       "suggested": [classes[j] for j in suggested],
                       "self_confidence": self_conf[flagged],
                       "suggested_proba": [P[i, j] for i, j in zip(flagged, suggested)]})
    return df.sort_values("self_confidence", kind="stable").reset_index(drop=True)


def annotator_stats(source: LabelStore | pd.DataFrame, flagged: set[str] | None = None) -> pd.DataFrame:
    """Per annotator: labels, median seconds per label, agreement with others on shared samples,
    share of their labels flagged as likely errors (NaN when ``flagged`` is ``None``: not computed),
    share corrected by a reviewer."""
    events = _events(source)
    ann = annotations(events)
    dec = decisions(events).set_index("sample_id")
    rows = []
    for who, grp in ann.groupby("annotator"):
        others = ann[(ann["annotator"] != who) & ann["sample_id"].isin(grp["sample_id"])]
        agree = []
        for sid, mine in zip(grp["sample_id"], grp["label"]):
            theirs = others.loc[others["sample_id"] == sid, "label"]
            agree += [_key(mine) == _key(t) for t in theirs]
        corrected = [sid for sid, mine in zip(grp["sample_id"], grp["label"])
                     if sid in dec.index and _key(dec.at[sid, "label"]) != _key(mine)]
        rows.append({"annotator": who, "labels": len(grp),
                     "median_seconds": float(grp["seconds"].median()) if grp["seconds"].notna().any() else np.nan,
                     "agreement_with_others": float(np.mean(agree)) if agree else np.nan,
                     "shared": len(agree),
                     "flagged": np.nan if flagged is None else float(grp["sample_id"].isin(flagged).mean()),
                     "corrected": len(corrected) / len(grp)})
    return pd.DataFrame(rows).set_index("annotator") if rows else pd.DataFrame()
