"""Keyboard shortcuts for the labeling panel: a tiny anywidget listening to keydown.

Scope
-----
``scope="panel"`` (notebooks): keys act only while the focus is inside the labeling panel
(click it first); JupyterLab's own shortcuts (command mode) never see those keys, and keys
pressed elsewhere on the page are left alone.  ``scope="page"`` (the Voila app): keys act
anywhere on the page.  Never inside a text box, and never with Ctrl/Alt/Meta.

However many views of the panel a page shows, one listener per panel exists, so a key press
is sent once.
"""
from __future__ import annotations

import uuid
from typing import Any, Callable

import anywidget
import traitlets

_ESM = """
const REG = (globalThis.__alwKeyboards = globalThis.__alwKeyboards || new Map());

function editable(t) {
  const tag = t && t.tagName ? t.tagName.toLowerCase() : "";
  return tag === "input" || tag === "textarea" || tag === "select" || (t && t.isContentEditable);
}

function render({ model, el }) {
  const id = model.get("panel_id");
  el.classList.add("alw-keyboard");
  el.style.fontSize = "0.8em";
  el.style.color = "#666";
  el.textContent = model.get("hint");
  model.on("change:hint", () => { el.textContent = model.get("hint"); });
  // mark the panel this view sits in, make it focusable, keep JupyterLab's shortcuts out of it
  const mark = () => {
    const panel = el.closest(".alw-labeling");
    if (!panel) return false;
    panel.setAttribute("data-alw-panel", id);
    panel.setAttribute("data-lm-suppress-shortcuts", "true");
    if (!panel.hasAttribute("tabindex")) panel.tabIndex = 0;
    return true;
  };
  if (!mark()) requestAnimationFrame(mark);
  // tell the kernel a page shows this panel (the dashboard builds its figures after that)
  requestAnimationFrame(() => model.send({ event: "rendered" }));
  let entry = REG.get(id);
  if (!entry) {
    const onKey = (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || editable(ev.target)) return;
      if (!model.get("shortcut_keys").includes(ev.key)) return;
      const inside = ev.target && ev.target.closest && ev.target.closest('[data-alw-panel="' + id + '"]');
      if (model.get("scope") !== "page" && !inside) return;
      ev.preventDefault();
      ev.stopPropagation();
      model.send({ key: ev.key });
    };
    document.addEventListener("keydown", onKey, true);  // capture: before JupyterLab's handlers
    entry = { views: 0, onKey };
    REG.set(id, entry);
  }
  entry.views += 1;
  return () => {
    entry.views -= 1;
    if (entry.views <= 0) {
      document.removeEventListener("keydown", entry.onKey, true);
      REG.delete(id);
    }
  };
}
export default { render };
"""


class KeyboardShortcuts(anywidget.AnyWidget):
    """Sends the keys listed in ``shortcut_keys`` to Python handlers (see the module docstring)."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    shortcut_keys = traitlets.List(traitlets.Unicode()).tag(sync=True)
    hint = traitlets.Unicode("").tag(sync=True)
    scope = traitlets.Enum(("panel", "page"), default_value="panel").tag(sync=True)
    panel_id = traitlets.Unicode().tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("panel_id", uuid.uuid4().hex)
        super().__init__(**kwargs)
        self._key_handlers: list[Callable[[str], Any]] = []
        self._render_handlers: list[Callable[[], Any]] = []
        self.rendered = False
        self.on_msg(self._on_custom_msg)

    def on_key(self, handler: Callable[[str], Any]) -> None:
        """Call ``handler(key)`` for every shortcut pressed."""
        self._key_handlers.append(handler)

    def on_rendered(self, handler: Callable[[], Any]) -> None:
        """Call ``handler()`` once, when a page first shows this widget."""
        self._render_handlers.append(handler)

    def press(self, key: str) -> None:
        """Simulate a key press from Python (tests, scripted demos)."""
        self._on_custom_msg(self, {"key": key}, [])

    def _on_custom_msg(self, _widget: Any, content: dict, _buffers: list) -> None:
        if isinstance(content, dict) and content.get("event") == "rendered":
            if not self.rendered:
                self.rendered = True
                for handler in self._render_handlers:
                    handler()
            return
        key = content.get("key") if isinstance(content, dict) else None
        if key in self.shortcut_keys:
            for handler in self._key_handlers:
                handler(key)
