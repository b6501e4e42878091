"""Keyboard shortcuts for the labeling panel: a tiny anywidget listening to keydown."""
from __future__ import annotations

from typing import Any, Callable

import anywidget
import traitlets

_ESM = """
function render({ model, el }) {
  el.classList.add("alw-keyboard");
  el.style.fontSize = "0.8em";
  el.style.color = "#666";
  el.textContent = model.get("hint");
  model.on("change:hint", () => { el.textContent = model.get("hint"); });
  const onKey = (ev) => {
    const t = ev.target;
    const tag = t && t.tagName ? t.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (t && t.isContentEditable)) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const keys = model.get("shortcut_keys");
    if (!keys.includes(ev.key)) return;
    ev.preventDefault();
    model.send({ key: ev.key });
  };
  document.addEventListener("keydown", onKey, true);  // capture: widget views stop bubbling
  return () => document.removeEventListener("keydown", onKey, true);
}
export default { render };
"""


class KeyboardShortcuts(anywidget.AnyWidget):
    """Sends the keys listed in ``shortcut_keys`` (pressed outside text inputs) to Python handlers."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    shortcut_keys = traitlets.List(traitlets.Unicode()).tag(sync=True)
    hint = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key_handlers: list[Callable[[str], Any]] = []
        self.on_msg(self._on_custom_msg)

    def on_key(self, handler: Callable[[str], Any]) -> None:
        """Call ``handler(key)`` for every shortcut pressed."""
        self._key_handlers.append(handler)

    def press(self, key: str) -> None:
        """Simulate a key press from Python (tests, scripted demos)."""
        self._on_custom_msg(self, {"key": key}, [])

    def _on_custom_msg(self, _widget: Any, content: dict, _buffers: list) -> None:
        key = content.get("key") if isinstance(content, dict) else None
        if key in self.shortcut_keys:
            for handler in self._key_handlers:
                handler(key)
