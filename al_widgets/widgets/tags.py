"""Tag toggles for multi-label pools: one toggle per tag with its key, and a submit button that
says exactly which tags it will write."""
from __future__ import annotations

from typing import Any, Callable

import ipywidgets as w

from .support.keys import key_of

SUBMIT_KEY = "Enter"


class TagPicker(w.HBox):
    """Toggle tags, then submit the set (the empty set is an answer: "none of these").

    Parameters
    ----------
    tags : list
        The pool's tags, in button order.
    key_map : dict
        ``key -> tag`` (:func:`~al_widgets.widgets.support.keys.class_keys`): the key a toggle shows
        is the key that toggles it.
    on_submit : callable
        Called with the chosen tags (a list, in tag order).
    verb : str
        What the submit button says before the chosen tags.
    """

    def __init__(self, tags: list, key_map: dict, on_submit: Callable[[list], Any],
                 verb: str = f"Submit ({SUBMIT_KEY})", **kwargs: Any) -> None:
        self.tags, self.key_map, self._on_submit, self.verb = list(tags), key_map, on_submit, verb
        self.toggles = []
        for tag in self.tags:
            key = key_of(key_map, tag)
            badge = f"[{key}] " if key is not None else ""
            t = w.ToggleButton(description=f"{badge}{tag}", value=False, layout=w.Layout(width="auto"),
                               tooltip=f"tag {tag}" + (f" (key {key} toggles)" if key is not None else ""))
            t.add_class("alw-tag-toggle")
            t.observe(lambda _c: self._show_choice(), "value")
            self.toggles.append(t)
        self.submit_button = w.Button(button_style="primary", layout=w.Layout(width="auto"))
        self.submit_button.add_class("alw-tag-submit")
        self.submit_button.on_click(lambda _b: self.submit())
        super().__init__([*self.toggles, self.submit_button], layout=w.Layout(flex_flow="row wrap"), **kwargs)
        self._show_choice()

    def chosen(self) -> list:
        """The tags toggled on, in tag order."""
        return [tag for tag, t in zip(self.tags, self.toggles) if t.value]

    def toggle(self, tag: Any) -> None:
        """Flip one tag."""
        t = self.toggles[self.tags.index(tag)]
        t.value = not t.value

    def clear(self) -> None:
        """Every tag off (a new sample starts from nothing chosen)."""
        for t in self.toggles:
            t.value = False

    def submit(self) -> None:
        """Write the chosen set (through ``on_submit``)."""
        self._on_submit(self.chosen())

    def _show_choice(self) -> None:
        chosen = self.chosen()
        what = ", ".join(map(str, chosen)) if chosen else "none of these"
        self.submit_button.description = f"{self.verb}: {what}"
        self.submit_button.tooltip = f"store the tags: {what}"


def shown(label: Any, empty: str = "(none)") -> str:
    """A label as people read it: a tag set (a list or tuple) as ``billing, urgent`` (``empty`` for
    the empty set)."""
    if isinstance(label, (list, tuple)):
        return ", ".join(map(str, label)) if label else empty
    return str(label)
