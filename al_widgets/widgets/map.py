"""Uncertainty map: the pool in 2-D (PCA at once, UMAP when ready), coloured by the model's state."""
from __future__ import annotations

import os
import time
import types
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from ..core.layout.embedding import DEFAULT_CACHE, ClusterLayout, PoolEmbedding
from .support.geometry import inside, stratified_sample
from ..core.backends.base import cold_start_features
from ..core.layout.detail import covers, points_in_view
from ..core.data.pool import IMAGE_EXT
from ..core.data.rows import RangeIds
from .support.sparse import SparseValues
from .support.dispatch import SessionView, UIDispatcher
from .support.figure import FigureHealth
from .bulk import BulkLabeler
from .render import Renderer, escape, sample_html

COLOR_MODES = ("uncertainty", "epistemic", "predicted class", "given label")
MAX_POINTS = 100_000
"""Pools larger than this are drawn as a density layer plus markers (see ``max_points``)."""
TAG_MODE = "tag: "
"""Multi-label pools colour by uncertainty or by one tag's probability (``"tag: billing"``)."""
POOL, LABELED, TOPK, CURRENT = range(4)
HOVER_LIMIT = 20_000
"""Pools up to this size also resend predicted classes for the hover text after each retrain."""
DENSITY = 4
"""Trace index of the density layer (big pools only)."""
GRID = 120
"""Cells per axis of the density layer."""


def discrete_colorscale(colours: list[str]) -> list[list]:
    """A plotly colorscale giving each integer 0..n-1 (with cmin=-0.5, cmax=n-0.5) one flat colour."""
    n = len(colours)
    scale = []
    for i, c in enumerate(colours):
        scale += [[i / n, c], [(i + 1) / n, c]]
    return scale


class UncertaintyMap(w.VBox, SessionView):
    """Scattergl map of the whole pool.

    Parameters
    ----------
    session : ActiveLearningSession
    umap : bool or None
        Compute a UMAP layout in the background (PCA is shown until it is ready).
        ``None``: on unless the environment sets ``AL_WIDGETS_UMAP=0``.
    cache_dir : path or None
        Disk cache for UMAP layouts (keyed by the pool's data).
    color_by : one of ``COLOR_MODES``
    height : int
    min_interval : float
        Longest wait between two redraws while labels stream in.  A WebGL redraw of the whole
        pool can cost a busy browser hundreds of ms, so updates arriving sooner are merged; the
        actual interval adapts to how fast the page answered the last redraw (see
        :meth:`interval`).  The labeling panel never waits for the map.
    renderer : callable, optional
        ``renderer(item) -> html`` for the hovered and the lasso-selected samples.
    plain : bool
        For domain experts: no "epistemic" colour mode.
    blind : bool
        The model's guesses are never shown (no "predicted class" colours, none in hovers or in the
        lasso's preview): annotators label without the model's anchor.
    max_points : int
        Pools larger than this are drawn as a density layer (each cell of a 120 x 120 grid
        coloured by the mean colour value of the samples in it, or by how many there are for class
        colours) plus the points that matter as markers: a sample of ``sample_size`` points
        stratified over the grid cells (so sparse regions show too), the labeled, the top-k and the
        current sample.  A recolour then sends the grid and the sample's colours (well under 1 MB)
        whatever the pool size, and a lasso selects every pool sample inside it (server-side, from
        the layout), not only the drawn ones.
    sample_size : int
        Points drawn as markers for a big pool's overview.
    view_budget : int
        Big pools, zoomed in: at most this many of the pool's samples in view are drawn (the most
        uncertain first); a window with fewer draws every one.  Each marker costs the page's redraw
        (16 bytes and ~15 us): 10,000 keeps a zoom step under ~250 ms, where 20,000 took 300-480 ms.
    pause : float
        Big pools: seconds without a label before the map is redrawn.  Redrawing 20,000 WebGL
        markers takes the page 100-300 ms; after every label it sat between a click and the next
        sample, so the map catches up when the person pauses (0: redraw after every label).
    """

    def __init__(self, session: Any, umap: bool | None = None, cache_dir: Any = DEFAULT_CACHE,
                 color_by: str = "uncertainty", height: int = 420, min_interval: float = 1.5,
                 renderer: Renderer | None = None, plain: bool = False, max_points: int = MAX_POINTS,
                 sample_size: int = 20_000, blind: bool = False, pause: float = 1.0, view_budget: int = 10_000,
                 **kwargs: Any) -> None:
        self.pause = float(pause)
        self.blind = blind
        modes = tuple(m for m in COLOR_MODES if not ((plain or blind) and m == "epistemic")
                      and not (blind and m == "predicted class"))
        if session.pool.task == "multilabel":  # tags: each tag's probability (not while blind)
            modes = ("uncertainty", *(() if blind else tuple(f"{TAG_MODE}{t}" for t in session.pool.classes)))
        if color_by not in modes:
            raise ValueError(f"color_by must be one of {modes}, got {color_by!r}")
        self.session, self.renderer = session, renderer
        if umap is None:
            umap = os.environ.get("AL_WIDGETS_UMAP", "1").strip().lower() not in ("0", "false", "no", "off")
        self.distributed = bool(getattr(session.pool, "is_distributed", False))
        if self.distributed:  # a Dask pool: the layout is projected on the cluster, colours come from it
            self.embedding: Any = ClusterLayout(session.pool, session.random_state or 0, cache_dir)
        else:
            features = cold_start_features(session.model, session.pool.X)
            if features is None:
                raise TypeError("the map needs numeric features or a Pipeline that vectorizes the raw samples")
            self.embedding = PoolEmbedding(features, session.pool.fingerprint(), cache_dir,
                                           random_state=session.random_state or 0)
        self.big = session.pool.n > max_points or self.distributed
        self.sample_size = sample_size
        self.view_budget = int(view_budget)
        self.shown: np.ndarray | None = None  # pool indices drawn as markers (big pools; None: all)
        if self.big:
            self._place(self.embedding.layout)
        self.color_by = w.ToggleButtons(options=modes, value=color_by, description="colour",
                                        style={"button_width": "110px"})
        self.color_by.observe(self._mode_changed, "value")
        self.layout_info = w.HTML()
        self.layout_info.add_class("alw-map-layout")
        self.hovered = w.HTML(layout=w.Layout(min_height="20px"))
        self.hovered.add_class("alw-hovered")
        self.bulk = BulkLabeler(session, renderer, blind=blind)
        self.bulk.on_done = self.clear_selection
        self._dispatcher = UIDispatcher()
        self.figure = self._build(height)
        self.health = FigureHealth(self.figure, "map", self._dispatcher)
        if self.big:  # level of detail: a zoomed window shows every sample in it (a Dask pool's too)
            self.figure.layout.on_change(self._on_zoom, "xaxis.range", "yaxis.range")
        super().__init__([w.HTML("<b>Map of the pool</b>"), self.color_by, self.figure, self.health.warning,
                          self.layout_info, self.hovered, self.bulk], **kwargs)
        self.add_class("alw-map")
        self.min_interval = min_interval
        self._last_draw = 0.0
        self._timer: Any = None
        self._ticker: Any = None
        self._want = {"colours": False, "markers": False}
        self._epistemic_pending = False
        self._listen(session, {"retrained": self._on_retrained,
                               "labeled": self._on_labeled,
                               "undone": self._on_undone,
                               "unskipped": lambda **_: self.request_redraw(),
                               "current_changed": lambda item: self.request_redraw()})
        if umap and not self.embedding.is_umap:
            self.embedding.start_umap(self._dispatcher.wrap(self._on_umap), self._dispatcher.wrap(self._on_umap_error))
        self._describe_layout()

    @property
    def widget(self) -> "UncertaintyMap":
        """The map itself (it is a widget); kept for code written against earlier versions."""
        return self

    # ------------------------------------------------------------ figure
    _excerpts: list[str] | None = None

    def _build(self, height: int) -> go.FigureWidget:
        """The figure with all its traces and current colours at construction.

        Traces are never added later: Voila replays widget state, and traces added
        after the comm opened would be lost on the page.
        """
        xy = self.embedding.layout
        shown = self._shown_indices()
        ids = self._marker_ids(shown)
        vals, settings = self.colour_values()
        settings = with_range(settings, vals[shown])
        overlay = self._overlay()
        hover = self._hover()
        mode = self.color_by.value
        traces = [go.Scattergl(x=xy[shown, 0], y=xy[shown, 1], mode="markers", name="pool" if not self.big else
                               f"pool (a stratified {len(shown):,} of {self.session.pool.n:,})", customdata=ids,
                               hovertext=hover,
                               marker=dict(size=6 if not self.big else 4, color=vals[shown],
                                           colorbar=dict(thickness=10, len=0.8, title=dict(text=mode),
                                                         **colorbar_ticks(settings)), **marker_settings(settings)),
                               hovertemplate=hover_template(mode))]
        # a thin cross: the colour of the labeled point (its class, its uncertainty) stays visible
        styles = {LABELED: ("labeled", dict(symbol="x-thin", size=8, color="black", line=dict(width=1.2))),
                  TOPK: ("queued top-k", dict(symbol="circle-open", size=14, color="red", line=dict(width=2))),
                  CURRENT: ("current", dict(symbol="star", size=18, color="orange", line=dict(width=1, color="black")))}
        for t, (name, marker) in styles.items():
            idx = overlay[t]
            traces.append(go.Scattergl(x=xy[idx, 0], y=xy[idx, 1], mode="markers", name=name, hoverinfo="skip",
                                       marker=marker))
        if self.big:  # drawn under the WebGL markers
            z, colorscale = self._density(vals, settings)
            traces.append(go.Heatmap(x=self._centres[0], y=self._centres[1], z=z, colorscale=colorscale,
                                     showscale=False, opacity=0.55, hoverinfo="skip", name="density"))
        layout = go.Layout(height=height, margin=dict(l=10, r=10, t=10, b=10), dragmode="lasso",
                           legend=dict(orientation="h", y=-0.05), xaxis=dict(showticklabels=False),
                           yaxis=dict(showticklabels=False), uirevision="keep")
        fig = go.FigureWidget(data=traces, layout=layout)
        fig.data[POOL].on_click(self._on_click)
        fig.data[POOL].on_selection(self._on_selection)
        fig.data[POOL].on_hover(self._on_hover)
        self.overlay = overlay
        return fig

    def colour_values(self) -> tuple[np.ndarray, dict]:
        """The colour array for the current mode, and the marker settings that go with it."""
        s, res, mode = self.session, self.session.result_, self.color_by.value
        n = s.pool.n
        if self.distributed:
            return self._cluster_colours(res, mode)
        if res is None or res.cold_start:
            return np.zeros(n), dict(colorscale="Greys", cmin=0, cmax=1, showscale=False)
        if mode in ("uncertainty", "epistemic"):
            key = "uncertainty" if mode == "uncertainty" else "epistemic"
            vals = res.uncertainty.get(key)
            if vals is None:
                return np.zeros(n), dict(colorscale="Greys", cmin=0, cmax=1, showscale=False)
            return vals.astype(np.float32), dict(colorscale="Viridis", cmin=None, cmax=None,
                                                         showscale=True)
        classes = s.pool.classes
        if mode.startswith(TAG_MODE) and res.tag_proba is not None:  # a tag's probability, 0..1
            column = [str(c) for c in classes].index(mode[len(TAG_MODE):])
            return np.asarray(res.tag_proba[:, column], dtype=np.float32), dict(
                colorscale="RdBu_r", cmin=0, cmax=1, showscale=True)
        if classes is None:  # regression: continuous values
            if mode == "predicted class":
                vals = res.prediction.astype(float)
            else:
                vals = np.full(n, np.nan)
                labels = s.labels
                vals[list(labels)] = list(labels.values())
            return vals.astype(np.float32), dict(colorscale="Plasma", cmin=None, cmax=None, showscale=True)
        palette = (qualitative.Plotly + qualitative.Dark24)[: len(classes)]
        lookup = {c: i for i, c in enumerate(classes)}
        if mode == "predicted class":  # class -> colour position for every sample, without a Python loop
            vals = pd.Series(res.prediction).map(lookup).to_numpy(dtype=np.float32)
            return vals, dict(colorscale=discrete_colorscale(palette), cmin=-0.5, cmax=len(classes) - 0.5,
                              showscale=True, ticks=(list(range(len(classes))), [str(c) for c in classes]))
        labels = s.labels
        vals = np.zeros(n, dtype=np.float32)  # 0: not labeled; a loop over the labels only, not the pool
        vals[list(labels)] = [lookup[v] + 1 for v in labels.values()]
        return vals, dict(colorscale=discrete_colorscale(["#dddddd"] + palette), cmin=-0.5,
                          cmax=len(classes) + 0.5, showscale=True,
                          ticks=(list(range(len(classes) + 1)), ["not labeled"] + [str(c) for c in classes]))

    def _cluster_colours(self, res: Any, mode: str) -> tuple["SparseValues", dict]:
        """Colours of a Dask pool: the markers' scores and the labels, never a whole-pool array."""
        grey = dict(colorscale="Greys", cmin=0, cmax=1, showscale=False)
        n = self.session.pool.n
        if mode == "given label":
            classes = self.session.pool.classes
            lookup = {c: i for i, c in enumerate(classes)}
            labels = self.session.labels
            palette = (qualitative.Plotly + qualitative.Dark24)[: len(classes)]
            return SparseValues(n, list(labels), [lookup[v] + 1 for v in labels.values()], fill=0.0), \
                dict(colorscale=discrete_colorscale(["#dddddd"] + palette), cmin=-0.5, cmax=len(classes) + 0.5,
                     showscale=True, ticks=(list(range(len(classes) + 1)), ["not labeled"] + [str(c) for c in classes]))
        tracked = None if res is None or res.cold_start or res.cluster is None else res.cluster.tracked
        if mode != "uncertainty" or tracked is None:  # predicted classes stay on the cluster
            return SparseValues(n, [], [], fill=0.0), grey
        if self._view_values is not None and self._view_values.model is res.model:  # zoomed in, this model
            tracked = self._view_values.indices, self._view_values.values
        return SparseValues(n, *tracked, density=res.cluster.density), \
            dict(colorscale="Viridis", cmin=None, cmax=None, showscale=True)

    def _scored(self, shown: np.ndarray) -> Any:
        """The zoomed markers of a Dask pool scored now (their rows fetched from the workers), labeled
        ones blank as the cluster leaves them: the view is coloured before the next re-score."""
        values = self.session.uncertainty_of(shown)
        values[self.session.labeled_mask[shown]] = np.nan
        res = self.session.result_
        return types.SimpleNamespace(indices=shown, values=values, model=None if res is None else res.model)

    def request_redraw(self, colours: bool = False) -> None:
        """Redraw markers (and colours) now, or once ``min_interval`` after the last redraw."""
        self._want["markers"] = True
        self._want["colours"] = self._want["colours"] or colours
        loop = self._dispatcher.loop
        if loop is None or not loop.is_running():
            self._redraw()
            return
        if self._timer is None:
            delay = max(0.0, self._last_draw + self.interval() - time.monotonic())
            self._timer = loop.call_later(delay, self._redraw)

    def interval(self) -> float:
        """Seconds between redraws: twice what the browser took to apply the last one, within
        [0.25 s, ``min_interval``] (a fast page follows every label, a busy one gets merged updates)."""
        latency = self.health.latency
        if latency is None:
            return self.min_interval
        return min(max(2.0 * latency, 0.25), self.min_interval)

    def _on_labeled(self, **_: Any) -> None:
        self._last_label = time.monotonic()
        self.request_redraw()

    def _redraw(self) -> None:
        self._timer = None
        wait = self.pause - (time.monotonic() - getattr(self, "_last_label", -1e9)) if self.big else 0.0
        loop = self._dispatcher.loop
        if wait > 0 and loop is not None and loop.is_running():  # still labeling: later
            self._timer = loop.call_later(wait, self._redraw)
            return
        self._last_draw = time.monotonic()
        colours, self._want = self._want["colours"], {"colours": False, "markers": False}
        if colours:
            self.recolor()  # includes the markers
        else:
            self.update_markers()

    def _mode_changed(self, change: dict) -> None:
        res = self.session.result_
        if change["new"] == "epistemic" and res is not None and not res.cold_start \
                and "epistemic" not in res.uncertainty and self.session.pool.task == "classification":
            self._epistemic_pending = True
            self.layout_info.value = "<small>computing epistemic uncertainty (committee)…</small>"
            self.session.request_epistemic()
        self.recolor()

    def recolor(self) -> None:
        """Send only the colour (and hover) arrays; the figure is never rebuilt."""
        vals, settings = self.colour_values()
        shown = vals[self._shown_indices()]
        settings = with_range(settings, shown)
        mode = self.color_by.value
        with self.figure.batch_update():
            marker = self.figure.data[POOL].marker
            marker.color = shown
            marker.colorscale = settings["colorscale"]
            marker.colorbar.title.text = mode
            ticks = colorbar_ticks(settings)  # class names on the bar for class colours; numbers otherwise
            marker.colorbar.tickvals, marker.colorbar.ticktext = ticks.get("tickvals"), ticks.get("ticktext")
            self.figure.data[POOL].hovertemplate = hover_template(mode)
            if self.big:
                z, colorscale = self._density(vals, settings)
                self.figure.data[DENSITY].z, self.figure.data[DENSITY].colorscale = z, colorscale
            marker.cmin, marker.cmax, marker.showscale = settings["cmin"], settings["cmax"], settings["showscale"]
            hover = self._hover()
            if hover is not None:
                self.figure.data[POOL].hovertext = hover
            self._send_markers()
        self.health.sent()

    def _overlay(self) -> dict[int, np.ndarray]:
        labeled = np.flatnonzero(self.session.labeled_mask)
        topk = self.session.query()[0] if self.session.result_ is not None else np.empty(0, dtype=int)
        cur = self.session.queue.current
        current = np.array([cur.index]) if cur is not None else np.empty(0, dtype=int)
        return {LABELED: labeled, TOPK: np.asarray(topk, dtype=int), CURRENT: current}

    def _hover(self) -> list[str] | None:
        """Per point: an excerpt of the sample (text pools) and the prediction; escaped, bounded."""
        res, pool = self.session.result_, self.session.pool
        if pool.n > HOVER_LIMIT or self.distributed:
            return None
        if self._excerpts is None:
            self._excerpts = [_excerpt(pool.item(i)) for i in range(pool.n)] if _is_text_pool(pool) else [""] * pool.n
        if self.blind:
            return [e or " " for e in self._excerpts]
        if res is None or res.prediction is None:
            preds = ["predicted -"] * pool.n
        elif pool.classes is None:
            preds = [f"predicted {p:.3g}" for p in res.prediction]
        else:
            preds = ["predicted " + hover_safe(p, 30) for p in res.prediction]
        return [f"{e}<br>{p}" if e else p for e, p in zip(self._excerpts, preds)]

    def update_markers(self) -> None:
        """Redraw the labeled, top-k and current overlays."""
        with self.figure.batch_update():
            self._send_markers()
        self.health.sent()

    def _send_markers(self) -> None:
        xy = self.embedding.layout
        self.overlay = self._overlay()
        for t, idx in self.overlay.items():
            self.figure.data[t].x, self.figure.data[t].y = xy[idx, 0], xy[idx, 1]

    # ------------------------------------------------------------ layout
    def _describe_layout(self) -> None:
        """Say what the map shows; while UMAP computes, tick every 2 s ("… 40 s so far")."""
        self._ticker = None
        self.layout_info.value = f"<small>{escape(self.embedding.describe())}</small>"
        loop = self._dispatcher.loop
        if self.embedding.computing and loop is not None and loop.is_running():
            self._ticker = loop.call_later(2.0, self._describe_layout)

    def _on_umap(self, layout: np.ndarray) -> None:
        if self.big:
            self._place(layout)
        shown = self._shown_indices()
        with self.figure.batch_update():
            self.figure.data[POOL].x, self.figure.data[POOL].y = layout[shown, 0], layout[shown, 1]
            if self.big:
                vals, settings = self._send_pool()
                z, colorscale = self._density(vals, settings)
                den = self.figure.data[DENSITY]
                den.x, den.y, den.z, den.colorscale = self._centres[0], self._centres[1], z, colorscale
            self._send_markers()
        self.health.sent()
        self._describe_layout()

    def _on_umap_error(self, exc: BaseException) -> None:
        self._describe_layout()

    # ------------------------------------------------------------ interaction
    def _on_click(self, trace: Any, points: Any, state: Any) -> None:
        if not points.point_inds:
            return
        index = self._clicked(points)
        if index is None:
            self.layout_info.value = "<small>the map changed under the click: click the point again</small>"
            return
        if index in self.session.labels:
            self.layout_info.value = f"<small>{escape(self.session.pool.ids[index])} is already labeled</small>"
            return
        self.session.focus(index)

    def _on_selection(self, trace: Any, points: Any, selector: Any) -> None:
        if self.big and selector is not None:  # every pool sample inside, not only the drawn ones
            self.bulk.select(inside(self.embedding.layout, selector).tolist())
            return
        self.bulk.select([self._pool_index(i) for i in points.point_inds])

    def clear_selection(self) -> None:
        """Take the lasso box and the dimming off the map (after a bulk label)."""
        with self.figure.batch_update():
            self.figure.data[POOL].selectedpoints = None
            self.figure.layout.selections = ()

    def _on_retrained(self, result: Any) -> None:
        if self._epistemic_pending and result is not None:  # the committee's answer came: say what is shown
            self._epistemic_pending = False
            self.layout_info.value = f"<small>{escape(self.embedding.describe())}</small>"
        self.request_redraw(colours=True)

    def _on_undone(self, index: int, **_: Any) -> None:
        self.bulk.forget(index)
        self.request_redraw()

    def _on_hover(self, trace: Any, points: Any, state: Any) -> None:
        if not points.point_inds:
            return
        index = self._clicked(points)
        if index is None:
            return
        res, pool = self.session.result_, self.session.pool
        pred = "" if self.blind or res is None or res.prediction is None else \
            f" · model: <b>{escape(res.prediction[index])}</b>"
        self.hovered.value = (f"<div style='display:flex;gap:8px;align-items:center'>"
                              f"{sample_html(pool.item(index), self.renderer, 64)}"
                              f"<small><code>{escape(hover_safe(pool.ids[index], 60))}</code>{pred}</small></div>")

    # ------------------------------------------------------------ big pools
    def _clicked(self, points: Any) -> int | None:
        """The pool index of the point the page reported, checked against the point's coordinates: the
        markers of a big pool change on zoom, and a click may refer to the page's previous ones."""
        index = self._pool_index(points.point_inds[0]) if int(points.point_inds[0]) < len(
            self._shown_indices()) else None
        xs, ys = getattr(points, "xs", None), getattr(points, "ys", None)
        if self.shown is None or not xs or not ys:
            return index
        xy, x, y = self.embedding.layout, float(xs[0]), float(ys[0])
        if index is not None and np.allclose(xy[index], (x, y), rtol=1e-5, atol=1e-6):
            return index
        match = np.flatnonzero(np.isclose(xy[self.shown, 0], x, rtol=1e-5, atol=1e-6)
                               & np.isclose(xy[self.shown, 1], y, rtol=1e-5, atol=1e-6))
        return int(self.shown[match[0]]) if len(match) == 1 else None

    def _on_zoom(self, layout: Any, x_range: Any, y_range: Any) -> None:
        """The window changed: its own samples as markers (the most uncertain first), or the
        stratified sample again when the whole map is in view."""
        xy = self.embedding.layout
        if covers(x_range, y_range, xy.min(axis=0), xy.max(axis=0)):
            shown = self._overview
        else:
            res = self.session.result_
            priority = None if res is None or res.cold_start else res.uncertainty.get("uncertainty")
            shown = points_in_view(xy, x_range, y_range, self.view_budget, priority)
        if self.shown is not None and np.array_equal(shown, self.shown):
            return
        self.shown = shown
        if self.distributed:  # the cluster scores these markers from the next re-score on; now: the kernel
            self.session.request_map_statistics(self._grid[0], self._grid[1], GRID, shown)
            self._view_values = None if shown is self._overview else self._scored(shown)
        with self.figure.batch_update():
            self.figure.data[POOL].x, self.figure.data[POOL].y = xy[shown, 0], xy[shown, 1]
            self._send_pool()
        self.health.sent()

    def _marker_ids(self, shown: np.ndarray) -> np.ndarray:
        """The markers' sample ids (hover text, clicks in tests): the pool's default ids ``0..n-1`` as an
        integer array (sent as binary, no Python string per marker); other ids escaped and bounded."""
        ids = self.session.pool.ids
        if isinstance(ids, RangeIds):
            return np.asarray(shown, dtype=np.int32 if len(ids) < 2**31 else np.int64)
        return np.asarray([hover_safe(ids[i], 40) for i in shown], dtype=object)

    def _send_pool(self) -> tuple[Any, dict]:
        """The markers' ids, colours and name for ``shown`` (a big pool's markers changed)."""
        shown = self._shown_indices()
        pool = self.figure.data[POOL]
        pool.customdata = self._marker_ids(shown)
        vals, settings = self.colour_values()
        pool.marker.color = vals[shown]
        zoomed = self.shown is not getattr(self, "_overview", None)
        pool.name = (f"pool (the {len(shown):,} in view{', most uncertain first' if len(shown) >= self.view_budget else ''})"
                     if zoomed else f"pool (a stratified {len(shown):,} of {self.session.pool.n:,})")
        return vals, settings

    def _shown_indices(self) -> np.ndarray:
        return self.shown if self.shown is not None else np.arange(self.session.pool.n)

    def _pool_index(self, point: Any) -> int:
        """Pool index of a point of the markers trace."""
        return int(self.shown[int(point)]) if self.shown is not None else int(point)

    def _place(self, xy: np.ndarray) -> None:
        """Grid cells of every sample, cell centres, and the stratified sample drawn as markers."""
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        cells = np.minimum(((xy - lo) / span * GRID).astype(np.int32), GRID - 1)
        self._cell = cells[:, 0] * GRID + cells[:, 1]  # int32: 4 bytes a sample
        self._centres = [lo[d] + (np.arange(GRID) + 0.5) * span[d] / GRID for d in (0, 1)]
        self._count = np.bincount(self._cell, minlength=GRID * GRID)
        rng = np.random.default_rng(self.session.random_state or 0)
        self.shown = self._overview = stratified_sample(self._cell, self.sample_size, rng)
        self._grid, self._view_values = (lo, span), None
        if self.distributed:  # each re-score on the cluster also sums per cell and scores the markers
            self.session.request_map_statistics(lo, span, GRID, self.shown)

    def _density(self, vals: np.ndarray, settings: dict) -> tuple[np.ndarray, Any]:
        """Per grid cell: the mean colour value (continuous modes) or log10 of the count (classes)."""
        count = self._count.astype(np.float64)
        if isinstance(vals, SparseValues):  # a Dask pool: per-cell sums computed on the cluster
            if vals.density is None or not settings.get("showscale") or "ticks" in settings:
                return np.where(count > 0, np.log10(np.maximum(count, 1)), np.nan).reshape(GRID, GRID).T \
                    .astype(np.float32), "Greys"
            total, seen = vals.density
            z = np.where(seen > 0, total / np.maximum(seen, 1), np.nan)
            return z.reshape(GRID, GRID).T.astype(np.float32), "Viridis"
        if (settings.get("showscale") and "ticks" not in settings) or settings.get("colorscale") == "Greys":
            total = np.bincount(self._cell, weights=np.nan_to_num(vals.astype(np.float64)), minlength=GRID * GRID)
            z = np.where(count > 0, total / np.maximum(count, 1), np.nan)
            scale = settings["colorscale"] if isinstance(settings["colorscale"], str) else "Viridis"
        else:
            z, scale = np.where(count > 0, np.log10(np.maximum(count, 1)), np.nan), "Greys"
        return z.reshape(GRID, GRID).T.astype(np.float32), scale


def with_range(settings: dict, shown: Any) -> dict:
    """``settings`` with explicit colour limits: a continuous scale spans the values shown now.

    plotly.js keeps the last explicit ``cmin``/``cmax`` when they are reset to ``None``, so a
    scale left as "automatic" after the class colours (-0.5 … n-0.5) stayed stuck on their range.
    """
    if settings.get("cmin") is not None:
        return settings
    finite = np.asarray(shown, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return {**settings, "cmin": lo, "cmax": hi if hi > lo else lo + 1e-9}


def colorbar_ticks(settings: dict) -> dict:
    """The colour bar's ticks: one per class, named, for class colours (a legend); none otherwise."""
    if "ticks" not in settings:
        return {}
    vals, text = settings["ticks"]
    return {"tickvals": vals, "ticktext": text}


def marker_settings(settings: dict) -> dict:
    """``settings`` as plotly marker properties."""
    return {k: v for k, v in settings.items() if k != "ticks"}


def hover_template(mode: str) -> str:
    """Hover text naming what the colour shows (``uncertainty 0.532``), not "colour"."""
    value = "%{marker.color:.3f}" if mode in ("uncertainty", "epistemic") or mode.startswith(TAG_MODE) else ""
    shown = f"{mode} {value}<br>" if value else ""
    return f"%{{customdata}}<br>{shown}%{{hovertext}}<extra></extra>"


def hover_safe(value: Any, limit: int) -> str:
    """Escaped, single-line, at most ``limit`` characters: plotly renders hover text as HTML."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape(text)


def _is_text_pool(pool: Any) -> bool:
    return pool.n > 0 and isinstance(pool.item(0), str) and not str(pool.item(0)).lower().endswith(IMAGE_EXT)


def _excerpt(item: Any) -> str:
    return hover_safe(item, 80)
