"""Review panel for admins: settle conflicts between annotators and check labels the model flags.

A thin view: the session finds the conflicts (:meth:`ActiveLearningSession.conflicts`) and the
suspicious labels (:meth:`ActiveLearningSession.suspicious_labels`, confident learning after each
retrain) and records decisions (:meth:`ActiveLearningSession.decide`).  Every button names the
class it writes.
"""
from __future__ import annotations

from typing import Any

import ipywidgets as w

from .support.dispatch import SessionView
from .render import Renderer, escape, sample_html
from .tags import TagPicker, shown


class ReviewPanel(w.VBox, SessionView):
    """Conflicts and suspicious labels, one sample at a time, with a decision button per class.

    Parameters
    ----------
    session : ActiveLearningSession
    renderer : callable, optional
        ``renderer(item) -> html`` for custom samples.
    top : int
        How many suspicious labels to keep in the queue.
    """

    def __init__(self, session: Any, renderer: Renderer | None = None, top: int = 30, **kwargs: Any) -> None:
        self.session, self.renderer, self.top = session, renderer, top
        self.mode = w.ToggleButtons(options=[("Conflicts", "conflicts"), ("Suspicious labels", "suspicious")],
                                    value="conflicts", style={"button_width": "140px"})
        self.summary = w.HTML()
        self.stats = w.HTML()
        self._flagged: set[str] | None = None  # None until the suspicious labels were computed
        self.sample = w.HTML()
        self.detail = w.HTML()
        self.multilabel = session.pool.task == "multilabel"
        # tag sets: a button per set the annotators gave, and toggles for any other set
        self.tag_picker = TagPicker(session.pool.classes, {}, self._decide, verb="decide") if self.multilabel else None
        self.class_buttons = [] if self.multilabel else [self._button(c) for c in session.pool.classes or []]
        self._class_box = w.HBox(self.class_buttons, layout=w.Layout(flex_flow="row wrap"))
        self.keep = w.Button(description="Keep", button_style="success", layout=w.Layout(width="auto"))
        self.change = w.Button(description="Change", button_style="warning", layout=w.Layout(width="auto"))
        self.next_button = w.Button(description="Next", layout=w.Layout(width="auto"))
        self.status = w.HTML()
        self.keep.on_click(lambda _: self._decide(self.current["given"]))
        self.change.on_click(lambda _: self._decide(self.current["suggested"]))
        self.next_button.on_click(lambda _: self._advance())
        self.mode.observe(lambda _: self.refresh(), "value")
        self.items: list[dict] = []
        self.current: dict | None = None
        super().__init__([w.HTML("<b>Review</b>"), self.mode, self.summary, self.stats, self.sample, self.detail,
                          w.HBox([self.keep, self.change], layout=w.Layout(flex_flow="row wrap")),
                          self._class_box,
                          self.next_button, self.status], **kwargs)
        self.add_class("alw-review")
        self._listen(session, {"retrained": lambda result: self.refresh()})
        self.refresh()

    def _button(self, cls: Any) -> w.Button:
        b = w.Button(description=f"decide: {shown(cls)}", tooltip=f"record {shown(cls)!r} as this sample's label",
                     layout=w.Layout(width="auto"))
        b.add_class("alw-review-class")
        b.on_click(lambda _, c=cls: self._decide(c))
        return b

    def refresh(self) -> None:
        """Re-read conflicts or suspicious labels and show the first."""
        s = self.session
        from ..core.review.quality import agreement, annotations
        events = s.store.to_frame_all()  # the label log, read once for everything below
        ag = agreement(annotations(events), "interval" if s.pool.task == "regression" else "nominal")
        self.summary.value = f"<small>{escape(ag.summary())}</small>" + _confusion_html(ag.confusion)
        if self.mode.value == "conflicts":
            df = s.conflicts(events)
            self.items = [{"index": int(r.index), "labels": r.labels} for r in df.itertuples()]
        else:
            df = s.suspicious_labels(top=self.top, events=events)
            self._flagged = set(df["sample_id"])
            given_by = _given_by(events)
            numbers = "residual_z" in df
            self.items = [{"index": int(r.index), "given": r.given,
                           "suggested": round(float(r.suggested), 4) if numbers else r.suggested,
                           "confidence": float("nan") if numbers else float(r.self_confidence),
                           "p": float("nan") if numbers else float(r.suggested_proba),
                           "z": float(r.residual_z) if numbers else float("nan"),
                           "by": given_by.get(str(r.sample_id), [])} for r in df.itertuples()]
        self._show_stats(events)
        self._show(self.items[0] if self.items else None)

    def _show_stats(self, events: Any) -> None:
        from ..core.review.quality import annotator_stats
        stats = annotator_stats(events, self._flagged)
        if not len(stats):
            self.stats.value = ""
            return
        pct = lambda v: "–" if v != v else f"{v:.0%}"  # noqa: E731 - "–": not computed yet
        rows = "".join(
            f"<tr><td>{escape(who)}</td><td>{int(r.labels)}</td>"
            f"<td>{'' if r.median_seconds != r.median_seconds else f'{r.median_seconds:.1f} s'}</td>"
            f"<td>{pct(r.agreement_with_others)} ({int(r.shared)})</td><td>{pct(r.flagged)}</td>"
            f"<td>{pct(r.corrected)}</td></tr>" for who, r in stats.iterrows())
        self.stats.value = ("<details><summary><small>Per annotator</small></summary><table class='alw-quality'>"
                            "<tr><th>annotator</th><th>labels</th><th>median time</th><th>agrees with others "
                            "(shared)</th><th>flagged</th><th>corrected</th></tr>" + rows + "</table></details>")

    def _show(self, item: dict | None) -> None:
        self.current = item
        kind = "conflicts" if self.mode.value == "conflicts" else "suspicious labels"
        for b in (*self.class_buttons, self.keep, self.change, self.next_button):
            b.disabled = item is None
        if item is None:
            self.sample.value, self.detail.value = "", f"<i>No {kind} to review.</i>"
            self.keep.layout.display = self.change.layout.display = "none"
            return
        s = self.session
        sid = s.pool.ids[item["index"]]
        position = self.items.index(item) + 1 if item in self.items else 1
        self.sample.value = (f"<div><code>{escape(sid)}</code> ({position} of {len(self.items)} {kind})</div>"
                             + sample_html(s.pool.item(item["index"]), self.renderer))
        conflicts = self.mode.value == "conflicts"
        self._class_box.layout.display = None if conflicts else "none"  # suspicious: keep or change only
        if conflicts and self.tag_picker is not None:
            voted = list({tuple(v): v for v in item["labels"].values()}.values())
            self.class_buttons = [self._button(v) for v in voted]
            self.tag_picker.clear()
            self._class_box.children = [*self.class_buttons, self.tag_picker]
        if conflicts:
            votes = "; ".join(f"{escape(a)}: <b>{escape(shown(v))}</b>" for a, v in item["labels"].items())
            self.detail.value = f"Annotators disagree: {votes}. Decide the label:"
            self.keep.layout.display = self.change.layout.display = "none"
        else:
            by = ", ".join(escape(a) for a in item["by"]) or "the data"
            if item["z"] == item["z"]:  # a number far from what the other labels imply
                why = f"{item['z']:.1f} robust standard deviations away"
            else:
                why = f"p = {item['p']:.2f}, given label p = {item['confidence']:.2f}"
            self.detail.value = (f"Given <b>{escape(item['given'])}</b> by {by}; the model (trained without this "
                                 f"label) suggests <b>{escape(item['suggested'])}</b> ({why}).")
            self.keep.description = f"Keep {item['given']}"
            self.change.description = f"Change to {item['suggested']}"
            self.keep.layout.display = self.change.layout.display = None

    def _decide(self, label: Any) -> None:
        item = self.current
        if item is None:
            return
        kind = "adjudicated" if self.mode.value == "conflicts" else "review"
        try:
            self.session.decide(item["index"], label, kind=kind)
        except Exception as exc:  # noqa: BLE001 - shown, never lost silently
            self.status.value = f"<span style='color:#b00'>not saved: {escape(exc)}</span>"
            return
        sid = escape(self.session.pool.ids[item["index"]])
        if kind == "adjudicated":
            done = f"decided {sid} as <b>{escape(shown(label))}</b>"
        elif label == item["given"]:
            done = f"kept <b>{escape(label)}</b> for {sid} (confirmed: no longer flagged)"
        else:
            done = f"changed {sid} from <b>{escape(item['given'])}</b> to <b>{escape(label)}</b>"
        self.status.value = f"<small style='color:#1a7f37'>✓ saved: {done}</small>"
        self._drop(item["index"])  # (a retrain may have refreshed the list meanwhile)

    def _advance(self) -> None:
        """Next item; the current one goes to the back of the list."""
        if self.current in self.items and len(self.items) > 1:
            self.items.remove(self.current)
            self.items.append(self.current)
        self._show(self.items[0] if self.items else None)

    def _drop(self, index: int) -> None:
        self.items = [it for it in self.items if it["index"] != index]
        self._show(self.items[0] if self.items else None)


def _given_by(events: Any) -> dict[str, list[str]]:
    """Sample id -> the annotators whose current label it carries (decisions left out)."""
    from ..core.review.quality import annotations
    ann = annotations(events)
    out: dict[str, list[str]] = {}
    for sid, who in zip(ann["sample_id"], ann["annotator"]):
        out.setdefault(str(sid), []).append(str(who))
    return out


def _confusion_html(confusion: Any) -> str:
    """Between-annotator confusion (label given by one annotator x label given by another), escaped."""
    if confusion is None or not len(confusion):
        return ""
    head = "".join(f"<th>{escape(c)}</th>" for c in confusion.columns)
    rows = "".join(f"<tr><th>{escape(r)}</th>" + "".join(f"<td>{int(v)}</td>" for v in confusion.loc[r]) + "</tr>"
                   for r in confusion.index)
    return ("<details><summary><small>Where annotators disagree (one annotator's label x another's)</small>"
            f"</summary><table class='alw-confusion'><tr><th></th>{head}</tr>{rows}</table></details>")
