"""Team progress for admins: labels per annotator, refreshed after every retrain."""
from __future__ import annotations

from typing import Any

import ipywidgets as w

from ._dispatch import SessionView
from .render import escape


class TeamProgress(w.HTML, SessionView):
    """A small table: each annotator's labels, median seconds per label and last activity."""

    def __init__(self, session: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.add_class("alw-team")
        self._listen(session, {"retrained": lambda result: self.refresh()})
        self.refresh()

    def refresh(self) -> None:
        df = self.session.store.to_frame()
        if df.empty:
            self.value = "<small>Team progress: no labels yet.</small>"
            return
        per = df.groupby("annotator").agg(labels=("label", "size"), seconds=("seconds", "median"),
                                          last=("time", "max")).sort_values("labels", ascending=False)
        rows = "".join(
            f"<tr><td>{escape(name)}</td><td style='text-align:right'>{int(r.labels)}</td>"
            f"<td style='text-align:right'>{'' if r.seconds != r.seconds else f'{r.seconds:.1f} s'}</td>"
            f"<td>{escape(r.last.strftime('%H:%M'))} UTC</td></tr>" for name, r in per.iterrows())
        self.value = ("<details><summary><small>Team progress: "
                      f"{len(df)} labels by {len(per)} annotator{'s' if len(per) != 1 else ''}</small></summary>"
                      "<table class='alw-team-table'><tr><th>annotator</th><th>labels</th>"
                      f"<th>median time</th><th>last</th></tr>{rows}</table></details>")
