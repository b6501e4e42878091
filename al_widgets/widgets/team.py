"""Team progress for admins: labels per annotator, refreshed after every retrain."""
from __future__ import annotations

import time
from typing import Any

import ipywidgets as w

from .support.dispatch import SessionView
from .render import escape


class TeamProgress(w.HTML, SessionView):
    """A small table: each annotator's labels, mean seconds per label and last activity."""

    def __init__(self, session: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.add_class("alw-team")
        self._listen(session, {"retrained": lambda result: self.refresh()})
        self.refresh()

    def refresh(self) -> None:
        per = self.session.store.per_annotator()  # one GROUP BY query, not the whole label log
        if not per:
            self.value = "<small>Team progress: no labels yet.</small>"
            return
        total = sum(n for n, _, _ in per.values())
        rows = "".join(
            f"<tr><td>{escape(name)}</td><td style='text-align:right'>{n}</td>"
            f"<td style='text-align:right'>{'' if secs is None else f'{secs:.1f} s'}</td>"
            f"<td>{time.strftime('%H:%M', time.gmtime(last))} UTC</td></tr>"
            for name, (n, secs, last) in sorted(per.items(), key=lambda kv: -kv[1][0]))
        self.value = ("<details><summary><small>Team progress: "
                      f"{total} labels by {len(per)} annotator{'s' if len(per) != 1 else ''}</small></summary>"
                      "<table class='alw-team-table'><tr><th>annotator</th><th>labels</th>"
                      f"<th>mean time</th><th>last</th></tr>{rows}</table></details>")
