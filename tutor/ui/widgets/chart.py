"""A live line chart: series points in plain lists, drawn by :mod:`tutor.plot`.

The drawing itself (ticks, smoothing, tiers, edge markers) lives in ``tutor.plot``, shared
with ``dl-tutor run``'s text charts; this module keeps the points, turns the plot's rows
into Rich Text, and paces the drawing. Points arrive in batches (``add_points``) as often
as the run reports them; the widget only marks itself dirty and a timer redraws at most
``REDRAW_INTERVAL`` times a second, whatever the message rate.

*Overlays* are the curves of earlier (stored) runs drawn behind the live ones, for
comparing settings: plain data (:class:`OverlaySeries`), a colour per run from
``OVERLAY_PALETTE``, dim, and named in the legend (``┈ #3 lr=0.3``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from tutor import plot
from tutor.plot import OVERLAY_PALETTE, PALETTE, PREVIOUS_COLOUR, Tier  # noqa: F401 (re-exported)
from tutor.series import DEFAULT_SMOOTHING, SeriesCache

Per = Literal["step", "epoch"]
Point = tuple[float, float]

# With overlays, a y axis spanning more than this ratio is drawn on a log scale: a diverged
# run's loss (1e51) would otherwise flatten every other curve onto the x axis.
LOG_SCALE_RATIO = 1e3

MIN_PLOT_WIDTH = 20
MIN_PLOT_HEIGHT = 4


@dataclass
class ChartSeries:
    name: str
    label: str
    per: Per = "step"
    points: list[Point] = field(default_factory=list)
    colour: int | None = None  # None: by its place in the chart (PALETTE); a sweep's runs set one
    # Smoothed and thinned as the points arrive (on the drawing thread): a redraw of a long
    # run costs the new points, not all of them (bench/charts.py).
    cache: SeriesCache = field(default_factory=SeriesCache, compare=False, repr=False)


@dataclass
class OverlaySeries:
    """One series of an earlier run drawn behind the live curves.

    ``label`` names the run in the legend (``#3 lr=0.3``); a run's series in one chart
    share its label and colour, so the legend names each run once.
    """

    name: str  # unique in the chart, e.g. "#3 loss"
    label: str
    colour: int  # a 256-colour code (OVERLAY_PALETTE)
    per: Per = "step"
    points: list[Point] = field(default_factory=list)


def use_log_scale(
    series: Sequence[ChartSeries],
    overlays: Sequence[OverlaySeries],
    y_range: tuple[float, float] | None = None,
) -> bool:
    """Whether to draw y on a log scale by itself: only when comparing runs (overlaid, or a
    sweep's), on a chart without a fixed range (not accuracy), when every value is ≥ 0 and
    the positive ones span more than ``LOG_SCALE_RATIO`` (a run whose loss exploded next to
    ones that fell). The learner can also switch log scale on with ``g``."""
    # A sweep's runs are live series with colours of their own.
    comparing = bool(overlays) or sum(s.colour is not None for s in series) > 1
    if not comparing or y_range is not None:
        return False
    points = [p for s in series for p in s.points] + [p for s in overlays for p in s.points]
    ys = [y for _, y in points if math.isfinite(y)]
    positive = [y for y in ys if y > 0]
    if not positive or min(ys) < 0:
        return False
    return max(positive) / min(positive) > LOG_SCALE_RATIO


def rows_to_text(rows: Sequence[plot.Row]) -> Text:
    """The plot's rows as one Rich Text of lines."""
    return Text("\n").join(Text.assemble(*row) for row in rows)


@dataclass(frozen=True)
class ChartDrawing:
    """Everything one drawing of a chart needs, copied: the drawing thread reads this while
    the run keeps appending points to the widget's own lists."""

    title: str
    empty_text: str
    series: tuple[ChartSeries, ...]
    overlays: tuple[OverlaySeries, ...]
    y_range: tuple[float, float] | None  # the values' natural bounds (accuracy: 0..1)
    epochs: int | None
    smoothing: float = DEFAULT_SMOOTHING
    log_y: bool = False  # asked for (g); a diverged overlay switches it on by itself
    tier: Tier = "braille"
    steps_per_epoch: float | None = None

    def chart(self, log_y: bool) -> plot.Chart:
        curves = [
            plot.Curve(o.label, o.points, o.per, o.colour, overlay=True) for o in self.overlays
        ]
        curves += [
            plot.Curve(s.label, s.points, s.per, s.colour, cache=s.cache) for s in self.series
        ]
        return plot.Chart(
            self.title,
            tuple(curves),
            smoothing=self.smoothing,
            log_y=log_y,
            tier=self.tier,
            steps_per_epoch=self.steps_per_epoch,
            epochs=self.epochs,
            y_bounds=self.y_range or (None, None),
        )

    def render_text(self, width: int, height: int) -> Text:
        """The whole chart (header, legend, plot, axes) as exactly ``height`` lines of
        ``width`` cells."""
        if width <= 0 or height <= 0:
            return Text()
        log_y = self.log_y or use_log_scale(self.series, self.overlays, self.y_range)
        drawable = any(s.points for s in self.series) or any(o.points for o in self.overlays)
        if not drawable or width < MIN_PLOT_WIDTH or height < MIN_PLOT_HEIGHT:
            message = self.empty_text if not drawable else "(too small to draw)"
            header = Text(self.title, style="bold")
            header.truncate(width, overflow="ellipsis", pad=True)
            body = [Text(message if row == (height - 1) // 2 else "") for row in range(height - 1)]
            for row in body:
                row.truncate(width, overflow="ellipsis")
                row.align("center", width)
            return Text("\n").join([header, *body])
        return rows_to_text(plot.render(self.chart(log_y), width, height))


def draw_strips(drawing: ChartDrawing, size: tuple[int, int], console: Console) -> list[Strip]:
    """The chart as lines of segments, ready to paint (runs on the drawing thread)."""
    try:
        text = drawing.render_text(*size)
    except Exception as e:  # a plotting bug must not kill the thread or leave it blank
        text = Text(f"cannot draw this chart: {type(e).__name__}: {e}")
    # Every segment gets a Style (never None): Textual's filters (NO_COLOR's monochrome) read it.
    plain = Style()
    return [
        Strip([Segment(t, style or plain) for t, style, _ in line.render(console)], line.cell_len)
        for line in text.split("\n")
    ]


# One thread draws every chart: a drawing is pure Python and takes milliseconds (bench/charts.py),
# too long to spend on the event loop at every tick of a run.
DRAWER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chart")


class LiveChart(Widget):
    """A line chart of one or more named series that grows while a run reports points.

    Drawing happens off the event loop: at most every ``REDRAW_INTERVAL`` a copy of the data
    (:class:`ChartDrawing`) goes to the drawing thread (:data:`DRAWER`), which returns the
    chart as ready-made lines (``Strip``); painting them is all the event loop does. A view
    with several charts can draw them together (``auto_redraw=False``, then
    ``begin_drawing``/``show_drawing``) so they land in one screen update.
    """

    REDRAW_INTERVAL = 0.25  # seconds; the run reports ≤ 4 times a second too

    class Drawn(Message):
        """The drawing thread finished a drawing of ``size`` (width, height)."""

        bubble = False  # only the chart that asked cares

        def __init__(self, size: tuple[int, int], strips: list[Strip]) -> None:
            super().__init__()
            self.size = size
            self.strips = strips

    def __init__(
        self,
        title: str = "",
        *,
        empty_text: str = "no points yet",
        auto_redraw: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title = title
        self.auto_redraw = auto_redraw  # False: a parent view calls begin/show_drawing
        self._empty_text = empty_text
        self._series: dict[str, ChartSeries] = {}
        self._overlays: list[OverlaySeries] = []
        self.y_range: tuple[float, float] | None = None
        self.epochs: int | None = None
        self.smoothing = DEFAULT_SMOOTHING
        self.log_y = False
        self.tier: Tier = plot.detect_tier()
        self.steps_per_epoch: float | None = None
        self._dirty = True
        self._drawing = False  # a drawing is in the thread; the next waits for it
        self.drawings = 0  # drawings handed to the thread (tests count them)
        self._strips: list[Strip] = []
        self._drawn_size: tuple[int, int] | None = None

    def on_mount(self) -> None:
        if self.auto_redraw:
            self.set_interval(self.REDRAW_INTERVAL, self.redraw_if_dirty)

    @property
    def empty_text(self) -> str:
        """What the chart says while it has nothing to draw."""
        return self._empty_text

    @empty_text.setter
    def empty_text(self, text: str) -> None:
        self._empty_text = text
        self._changed()

    # -- data -------------------------------------------------------------------------

    def configure(
        self,
        title: str,
        series: Iterable[tuple[str, str, Per]],
        *,
        empty_text: str | None = None,
        y_range: tuple[float, float] | None = None,
    ) -> None:
        """Start over with these series (name, label, per): a new lesson. Drops overlays."""
        self.title = title
        self._series = {name: ChartSeries(name, label, per) for name, label, per in series}
        self._overlays = []
        if empty_text is not None:
            self._empty_text = empty_text
        self.y_range = y_range
        self.epochs = None
        self.steps_per_epoch = None
        self._changed()

    def set_epochs(self, epochs: int | None) -> None:
        """How many epochs the run has: the epoch axis then spans all of them from the start."""
        if epochs != self.epochs:
            self.epochs = epochs
            self._changed()

    def set_view(
        self,
        *,
        smoothing: float | None = None,
        log_y: bool | None = None,
        tier: Tier | None = None,
        steps_per_epoch: float | None = None,
    ) -> None:
        """How to draw: the EMA weight of per-step curves, log y, the drawing tier, and the
        steps in one epoch (where per-epoch values sit on the step axis)."""
        if smoothing is not None:
            self.smoothing = smoothing
        if log_y is not None:
            self.log_y = log_y
        if tier is not None:
            self.tier = tier
        if steps_per_epoch is not None:
            self.steps_per_epoch = steps_per_epoch
        self._changed()

    def add_series(self, name: str, label: str, per: Per, colour: int | None = None) -> None:
        """A new (empty) series drawn in ``colour``: one run of a sweep."""
        self._series[name] = ChartSeries(name, label, per, colour=colour)
        self._changed()

    def add_points(self, name: str, points: Iterable[Point]) -> None:
        """Append points to a series (created on first use, counted per step)."""
        series = self._series.get(name)
        if series is None:
            series = self._series[name] = ChartSeries(name, name)
        before = len(series.points)
        series.points.extend((float(x), float(y)) for x, y in points)
        if len(series.points) != before:
            self._changed()

    def clear(self) -> None:
        """Drop every point, keep the series and the overlays (a new run of the same lesson:
        the learner compares it with the runs overlaid)."""
        for series in self._series.values():
            series.points.clear()
            series.cache = SeriesCache()  # the one in a drawing in flight stays with it
        self._changed()

    def set_overlays(self, overlays: Iterable[OverlaySeries]) -> None:
        """Replace the overlaid series (an empty list removes them)."""
        self._overlays = [o for o in overlays if o.points]
        self._changed()

    @property
    def overlays(self) -> list[OverlaySeries]:
        """The overlaid series, in drawing order."""
        return list(self._overlays)

    @property
    def series(self) -> dict[str, ChartSeries]:
        return self._series

    @property
    def has_data(self) -> bool:
        return any(s.points for s in self._series.values())

    def point_count(self, name: str | None = None) -> int:
        if name is not None:
            return len(self._series[name].points) if name in self._series else 0
        return sum(len(s.points) for s in self._series.values())

    # -- drawing ----------------------------------------------------------------------

    def snapshot(self) -> ChartDrawing:
        """A copy of what to draw (list copies are cheap; the drawing is not)."""
        return ChartDrawing(
            self.title,
            self._empty_text,
            tuple(
                ChartSeries(s.name, s.label, s.per, list(s.points), s.colour, s.cache)
                for s in self._series.values()
            ),
            tuple(self._overlays),  # replaced, never changed in place
            self.y_range,
            self.epochs,
            self.smoothing,
            self.log_y,
            self.tier,
            self.steps_per_epoch,
        )

    def render_text(self, width: int, height: int) -> Text:
        """The chart as the drawing thread draws it, here and now (for tests and tools)."""
        return self.snapshot().render_text(width, height)

    def _changed(self) -> None:
        # Only mark: the next tick draws, so a burst of batches costs one drawing.
        self._dirty = True

    def wants_drawing(self) -> bool:
        """Points arrived or the size changed since the last drawing, and none is in the
        drawing thread now (the next waits for it)."""
        size = (self.content_size.width, self.content_size.height)
        return not self._drawing and (self._dirty or size != self._drawn_size)

    def begin_drawing(self) -> tuple[ChartDrawing, tuple[int, int]]:
        """What to draw and at which size; the drawing is then in flight."""
        self._dirty = False
        self._drawing = True
        self.drawings += 1
        return self.snapshot(), (self.content_size.width, self.content_size.height)

    def show_drawing(self, size: tuple[int, int], strips: list[Strip]) -> None:
        """Paint a finished drawing."""
        self._drawing = False
        self._strips, self._drawn_size = strips, size
        self.refresh()

    def redraw_if_dirty(self) -> None:
        """Hand a drawing to the drawing thread if needed (this chart's own timer calls it,
        unless a parent view draws its charts together)."""
        if not self.wants_drawing():
            return
        drawing, size = self.begin_drawing()
        DRAWER.submit(self._draw, drawing, size, self.app.console)

    def _draw(self, drawing: ChartDrawing, size: tuple[int, int], console: Console) -> None:
        self.post_message(self.Drawn(size, draw_strips(drawing, size, console)))

    @on(Drawn)
    def _drawn(self, message: Drawn) -> None:
        self.show_drawing(message.size, message.strips)

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if y < len(self._strips) and self._strips[y].cell_length == width:
            return self._strips[y]  # the usual case: drawn at this size
        # Until the drawing at a new size arrives, the old one is cut or padded to fit.
        style = self.rich_style  # not cheap (it walks the ancestors): only when needed
        strip = self._strips[y] if y < len(self._strips) else Strip.blank(width, style)
        return strip.crop_extend(0, width, style)
