"""ALDashboard: every view on one session, laid out for JupyterLab and Voila."""
from __future__ import annotations

from typing import Any

import ipywidgets as w

from .controls import Controls
from .labeling import LabelingPanel
from .render import Renderer
from .team import TeamProgress
from .topk import TopKPanel

_CSS = """<style>
.alw-labeling {border:1px solid #ddd; padding:8px; border-radius:6px; width:380px; min-width:380px;
               max-width:380px; box-sizing:border-box; overflow-wrap:anywhere}
.alw-labeling:focus, .alw-labeling:focus-within {outline:2px solid #0969da33}
.alw-labeling .alw-text {max-width:360px}
.alw-class-button {min-width:48px}
.alw-right {min-width:420px; overflow:hidden}
</style>"""


class ALDashboard(w.VBox):
    """Controls, labeling panel, top-k, map and learning curves for one session.

    Parameters
    ----------
    session : ActiveLearningSession
    renderer : callable, optional
        ``renderer(item) -> html`` for custom samples.
    map : bool
        Include the uncertainty map.
    umap : bool or None
        Compute the UMAP layout in the background (PCA until then).  ``None``:
        on unless the environment sets ``AL_WIDGETS_UMAP=0``.
    true_labels : array-like, optional
        Teaching mode: draw the random-sampling baseline on the learning curve.
    cache_dir : path, optional
        UMAP cache folder.
    top_k : int
        Cards in the top-k panel.
    keyboard_scope : {"panel", "page"}
        Keys act with the focus in the labeling panel (notebooks) or anywhere on the page (Voila).
    role : {"admin", "annotator"}
        Annotators get a plain page: no strategy controls, strategy names, scores or metric names.
    signed_in : bool
        The annotator's name comes from a sign-in (no name box).
    blind : bool
        Hide the model's guesses from this page (labeling panel, top-k, map) and its learning curve.
    map_pause : float
        Big pools: seconds without a label before the map is redrawn (see :class:`UncertaintyMap`).
    defer_figures : bool
        Build the map and the learning curves only once a page shows the labeling panel (or
        :meth:`build_figures` is called): the first sample is clickable sooner, and plotly is not
        even imported until then.  The Voila app does this.
    """

    def __init__(self, session: Any, renderer: Renderer | None = None, map: bool = True, umap: bool | None = None,
                 true_labels: Any = None, cache_dir: Any = None, top_k: int = 6, keyboard_scope: str = "panel",
                 role: str = "admin", signed_in: bool = False, defer_figures: bool = False,
                 blind: bool = False, map_pause: float = 1.0, **kwargs: Any) -> None:
        if role not in ("admin", "annotator"):
            raise ValueError(f"role must be 'admin' or 'annotator', got {role!r}")
        self.session, self.role = session, role
        plain = role == "annotator"
        if session.result_ is None:
            session.retrain()
        # only admins get the strategy controls: for an annotator they are not built at all, so no
        # comm message from that page can reach them
        self.controls = Controls(session) if not plain else None
        self.labeling = LabelingPanel(session, renderer, keyboard_scope=keyboard_scope, plain=plain,
                                      signed_in=signed_in, claim_when_shown=defer_figures, blind=blind)
        self.topk = TopKPanel(session, k=top_k, renderer=renderer, plain=plain, blind=blind)
        self.curves: Any = None
        self.map: Any = None
        self._built = False
        self._figure_args = dict(renderer=renderer, map=map, umap=umap, true_labels=true_labels,
                                 cache_dir=cache_dir, plain=plain, blind=blind, map_pause=map_pause)
        self._right = w.VBox([], layout=w.Layout(flex="1 1 auto", width="auto"))
        self._right.add_class("alw-right")
        if defer_figures:
            self._right.children = [w.HTML("<p class='alw-figures-loading' style='color:#666'>"
                                           "The map and the learning curve are loading…</p>")]
            self.labeling.keyboard.on_rendered(self.build_figures)
        else:
            self.build_figures()
        body = w.HBox([self.labeling, self._right], layout=w.Layout(align_items="flex-start"))
        self.team = TeamProgress(session) if not plain else None  # everyone's progress: admins only
        top = [self.controls, self.team] if self.controls is not None else []
        self.review: Any = None
        bottom = [self.topk]
        self.search: Any = None
        if session.finder.is_text() and session.pool.task == "classification":  # search by meaning: text pools
            from .search import SearchPanel
            self.search = SearchPanel(session, renderer, blind=blind)
            bottom.append(self.search)
        if not plain:  # conflicts and suspicious labels: admins only, built when first opened
            self.review_box = w.Accordion(children=[w.VBox()], titles=("Review: conflicts and suspicious labels",),
                                          selected_index=None)
            self.review_box.observe(self._open_review, "selected_index")
            bottom.append(self.review_box)
        super().__init__([w.HTML(_CSS), *top, body, *bottom], **kwargs)
        self.add_class("alw-dashboard")

    def _open_review(self, change: dict) -> None:
        if change["new"] is not None and self.review is None:
            self.build_review()

    def build_review(self) -> Any:
        """The review panel (conflicts between annotators, labels the model flags); built once."""
        if self.review is None:
            from .review import ReviewPanel
            self.review = ReviewPanel(self.session, self._figure_args["renderer"])
            self.review_box.children = [self.review]
        return self.review

    def build_figures(self) -> None:
        """Build the map and the learning curves (once; see ``defer_figures``)."""
        if self._built or self.session.closed:
            return
        from .curves import LearningCurves
        from .map import MAX_POINTS, UncertaintyMap

        a = self._figure_args
        big = self.session.pool.n > MAX_POINTS  # a big map's pause holds the chart's redraws too
        self.curves = None if a["blind"] else LearningCurves(self.session, true_labels=a["true_labels"],
                                                             pause=a["map_pause"] if big else 0.0)
        map_kwargs = {} if a["cache_dir"] is None else {"cache_dir": a["cache_dir"]}
        if a["map"]:
            self.map = UncertaintyMap(self.session, umap=a["umap"], renderer=a["renderer"], plain=a["plain"],
                                      blind=a["blind"], pause=a["map_pause"], **map_kwargs)
        self._built = True
        self._right.children = [v for v in (self.map, self.curves) if v is not None]

    def detach(self) -> None:
        """Stop every view observing the session."""
        for view in (self.controls, self.team, self.labeling, self.topk, self.curves, self.map, self.review):
            if view is not None:
                view.detach()
