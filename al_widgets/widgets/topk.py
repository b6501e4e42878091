"""Top-k panel: the samples the current strategy ranks highest."""
from __future__ import annotations

from typing import Any

import ipywidgets as w

from .support.dispatch import SessionView
from .render import Renderer, escape, sample_html


class TopKPanel(w.VBox, SessionView):
    """Cards for the ``k`` highest-ranked unlabeled samples; "Label" opens one in the labeling panel.

    Parameters
    ----------
    session : ActiveLearningSession
    k : int
        Number of cards (adjustable with the slider).
    renderer : callable, optional
    plain : bool
        For domain experts: the samples and the model's guesses, without strategy names or scores.
    blind : bool
        Without the model's guesses either.
    """

    def __init__(self, session: Any, k: int = 6, renderer: Renderer | None = None, plain: bool = False,
                 blind: bool = False, **kwargs: Any) -> None:
        self.session, self.renderer, self.plain, self.blind = session, renderer, plain, blind
        self.k = w.IntSlider(value=k, min=1, max=30, description="top k")
        self.k.observe(lambda _c: self.refresh(), "value")
        self.cards = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.indices: list[int] = []
        self._slots: list[dict] = []
        super().__init__([w.HTML("<b>Most informative unlabeled samples</b>"), self.k, self.cards], **kwargs)
        self.add_class("alw-topk")
        self._listen(session, {"retrained": lambda result: self.refresh(),
                               "labeled": lambda **_: self.refresh(), "undone": lambda **_: self.refresh()})
        self.refresh()

    def refresh(self) -> None:
        """Update the cards in place from the session's queue (widgets are reused, not recreated)."""
        if self.session.result_ is None:
            self.indices = []
            self.cards.children = [w.HTML("<i>waiting for the first retrain…</i>")]
            return
        s = self.session
        items = s.queue.peek(self.k.value, exclude=set(s.labels))
        items.sort(key=lambda it: -it.score if it.score == it.score else float("inf"))  # highest score first
        self.indices = [it.index for it in items]
        while len(self._slots) < len(items):
            self._slots.append(self._new_slot())
        for slot, item in zip(self._slots, items):
            self._fill(slot, item)
        self.cards.children = [slot["card"] for slot in self._slots[: len(self.indices)]]

    def _new_slot(self) -> dict:
        slot: dict = {"index": None, "sample": w.HTML(), "text": w.HTML()}
        button = w.Button(description="Label", layout=w.Layout(width="80px"), tooltip="open in the labeling panel")
        button.on_click(lambda _b: self.open_sample(slot["index"]))
        slot["card"] = w.VBox([slot["sample"], slot["text"], button],
                              layout=w.Layout(border="1px solid #ddd", padding="4px", margin="2px", width="190px"))
        slot["card"].add_class("alw-card")
        return slot

    def _fill(self, slot: dict, item: Any) -> None:
        res, index, score = self.session.result_, item.index, item.score
        ranked = "cold start" if item.strategy == "cold start" or score != score else \
            f"{escape(item.strategy)}: <b>{score:.3f}</b>"
        lines = [f"<code>{escape(_short(self.session.pool.ids[index]))}</code>"] + ([] if self.plain else [ranked])
        unc = res.uncertainty if res is not None else {}
        if "epistemic" in unc and not self.plain:
            lines.append(f"epistemic {unc['epistemic'][index]:.3f} · aleatoric {unc['aleatoric'][index]:.3f}")
        if res is not None and res.prediction is not None and not self.blind:
            conf = "" if res.confidence is None else f" {res.confidence[index]:.0%}"
            lines.append(f"pred <b>{escape(res.prediction[index])}</b>{conf}")
        if slot["index"] != index:
            slot["sample"].value = sample_html(self.session.pool.item(index), self.renderer, 72)
        slot["index"] = index
        slot["text"].value = "<br>".join(lines)

    def open_sample(self, index: int) -> None:
        """Load ``index`` into the labeling panel (via the session's ``current_changed`` event)."""
        self.session.focus(index)


def _short(text: str, limit: int = 40) -> str:
    """Ids are shown in full in the labeling panel; cards keep a fixed width."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
