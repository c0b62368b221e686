"""A live line chart: series points in plain lists, drawn with plotext.

This is the only module that knows about plotext, so the drawing backend can be
swapped without touching the app. Points arrive in batches (``add_points``) as
often as the run reports them; the widget only marks itself dirty and a timer
redraws at most ``REDRAW_INTERVAL`` times a second, whatever the message rate.

*Overlays* are the curves of earlier (stored) runs drawn behind the live ones, for
comparing settings: plain data (:class:`OverlaySeries`), a colour per run from
``OVERLAY_PALETTE``, a thin dim braille line instead of the live block line, and a
second legend line naming each run (``┈ #3 lr=0.3``).
"""

from __future__ import annotations

import math
import threading
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

Per = Literal["step", "epoch"]
Point = tuple[float, float]

# plotext draws on one global figure; every build must hold this lock so two charts
# (or another thread using plotext) never interleave their settings.
PLOT_LOCK = threading.Lock()

# Colours (256-colour codes) of successive series, given to each curve explicitly and
# used by our legend line, so swatches match curves even when a series has no points yet.
PALETTE = (12, 10, 9, 14, 13, 11, 3, 5)
# Colours of overlaid runs: 256-colour codes far from PALETTE's 16 basic ones, so an earlier
# run never looks like a live series.
OVERLAY_PALETTE = (208, 141, 43, 205, 118, 220, 75, 167)
# plotext's theme without canvas or frame colours: the chart sits on the Textual background.
_THEME = "simple"

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


def decimate(points: Sequence[Point], max_points: int) -> list[Point]:
    """At most about ``max_points`` points that look like ``points`` when drawn.

    Each bucket keeps its lowest and highest point (in x order), so spikes in a noisy
    loss survive; the first and last points are always kept so the curve spans the
    whole run. The full data stays in the chart; this is only what gets drawn.
    """
    n = len(points)
    if n <= max(max_points, 2):
        return list(points)
    inner = points[1:-1]
    buckets = max(1, (max_points - 2) // 2)
    size = math.ceil(len(inner) / buckets)
    kept: list[Point] = [points[0]]
    for start in range(0, len(inner), size):
        bucket = inner[start : start + size]
        lo = min(range(len(bucket)), key=lambda i: bucket[i][1])
        hi = max(range(len(bucket)), key=lambda i: bucket[i][1])
        kept.extend(bucket[i] for i in sorted({lo, hi}))
    kept.append(points[-1])
    return kept


def _finite(points: Iterable[Point], log_y: bool = False) -> tuple[list[float], list[float]]:
    # A diverged run's history ends in NaN/inf; plotext cannot place those. On a log axis,
    # y is log10(y) and values ≤ 0 have no place either.
    pairs = [(x, y) for x, y in points if math.isfinite(x) and math.isfinite(y)]
    if log_y:
        pairs = [(x, math.log10(y)) for x, y in pairs if y > 0]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def use_log_scale(
    series: Sequence[ChartSeries],
    overlays: Sequence[OverlaySeries],
    y_range: tuple[float, float] | None = None,
) -> bool:
    """Whether to draw y on a log scale: only when comparing with overlaid runs, on a chart
    without a fixed range (not accuracy), when every value is ≥ 0 and the positive ones
    span more than ``LOG_SCALE_RATIO`` (a run whose loss exploded next to ones that fell)."""
    if not overlays or y_range is not None:
        return False
    ys = [y for s in [*series, *overlays] for _, y in s.points if math.isfinite(y)]
    positive = [y for y in ys if y > 0]
    if not positive or min(ys) < 0:
        return False
    return max(positive) / min(positive) > LOG_SCALE_RATIO


def _log_ticks(values: Sequence[float]) -> tuple[list[int], list[str]]:
    """Ticks at whole powers of ten (at most ~5), labelled ``1e-8``, ``1``, ``1e10``."""
    lo, hi = math.floor(min(values)), math.ceil(max(values))
    step = max(1, math.ceil((hi - lo) / 4))
    positions = list(range(lo, hi + 1, step))
    return positions, ["1" if k == 0 else f"1e{k}" for k in positions]


def render_plot(
    series: Sequence[ChartSeries],
    width: int,
    height: int,
    *,
    y_range: tuple[float, float] | None = None,
    epochs: int | None = None,
    overlays: Sequence[OverlaySeries] = (),
    log_y: bool = False,
) -> str:
    """The plotext drawing of ``series`` as an ANSI string of exactly ``height`` lines.

    Step-level and epoch-level series can share a chart (train loss per step, test loss
    per epoch): steps use the lower x axis and epochs the upper one, each labelled.
    ``y_range`` fixes the y axis when every value lies in it (accuracy: 0..1); ``epochs``
    fixes the epoch axis to 1..epochs so a run's curve grows from left to right (or to
    the longest overlaid run, if that is longer). ``overlays`` are drawn first, thin and
    dim, so the live curves stay on top. ``log_y`` draws log10(y) with ticks at powers of
    ten (see :func:`use_log_scale`).
    """
    pers = {s.per for s in series if s.points} | {o.per for o in overlays if o.points}
    mixed = len(pers) == 2
    max_points = max(8, width * 4)  # plotext's block markers hold 2×2 dots per cell
    import plotext as plt  # here, not at the top: importing it costs ~0.1 s of start-up

    with PLOT_LOCK:
        fig = plt.figure
        fig.clear()
        fig.plot_size(width, height)
        fig.theme(_THEME)
        drawn_ys: list[float] = []
        for o in overlays:
            xs, ys = _finite(decimate(o.points, max_points), log_y)
            drawn_ys += ys
            if not xs:
                continue
            side = "upper" if mixed and o.per == "epoch" else "lower"
            thin = plt.marker("braille", pixel=plt.pixel(foreground=o.colour, style="dim"))
            signal = fig.signal(xs, ys, marker=thin, xside=side)
            signal.lines()
            fig.draw(signal)
        for i, s in enumerate(series):
            xs, ys = _finite(decimate(s.points, max_points), log_y)
            drawn_ys += ys
            if not xs:
                continue
            side = "upper" if mixed and s.per == "epoch" else "lower"
            colour = plt.marker(pixel=plt.pixel(foreground=PALETTE[i % len(PALETTE)]))
            signal = fig.signal(xs, ys, marker=colour, xside=side)
            signal.lines()
            fig.draw(signal)
        if mixed:
            fig.label("step", axis="x", side="lower")
            fig.label("epoch", axis="x", side="upper")
        else:
            fig.label(next(iter(pers), "step"), axis="x")
        overlay_epochs = [x for o in overlays if o.per == "epoch" for x, _ in o.points[-1:]]
        if epochs and overlay_epochs:
            epochs = max(epochs, math.ceil(max(overlay_epochs)))
        if epochs and epochs > 1 and "epoch" in pers:
            fig.ruler("x", "upper" if mixed else "lower").lim(1, epochs)
        if log_y and drawn_ys:
            fig.ruler("y").ticks(*_log_ticks(drawn_ys))
        if y_range is not None and not log_y:
            drawn = [*series, *overlays]
            ys = [y for s in drawn for _, y in s.points if math.isfinite(y)]
            if ys and y_range[0] <= min(ys) and max(ys) <= y_range[1]:
                fig.ruler("y").lim(*y_range)
        fig.legend(active=False)  # our own legend line: plotext's box would hide the curve
        return fig.build().string()


@dataclass(frozen=True)
class ChartDrawing:
    """Everything one drawing of a chart needs, copied: the drawing thread reads this while
    the run keeps appending points to the widget's own lists."""

    title: str
    empty_text: str
    series: tuple[ChartSeries, ...]
    overlays: tuple[OverlaySeries, ...]
    y_range: tuple[float, float] | None
    epochs: int | None

    def legend(self) -> Text:
        """The title and one coloured swatch per series, e.g. ``loss  ━ train  ━ test``."""
        line = Text()
        line.append(self.title, style="bold")
        for i, series in enumerate(self.series):
            line.append("  ━ ", style=Style(color=f"color({PALETTE[i % len(PALETTE)]})"))
            line.append(series.label)
            if series.points:
                line.append(f" {series.points[-1][1]:.4g}", style="dim")
        return line

    def overlay_legend(self) -> Text:
        """One dotted swatch per overlaid run: ``vs  ┈ #3 lr=0.3  ┈ #5 lr=0.03``."""
        line = Text("vs", style="dim")
        colours = {o.label: o.colour for o in reversed(self.overlays)}  # first one wins
        for label in dict.fromkeys(o.label for o in self.overlays):
            line.append("  ┈ ", style=Style(color=f"color({colours[label]})", bold=True))
            line.append(label)
        return line

    def render_text(self, width: int, height: int) -> Text:
        """The whole chart (legend line(s) + plot) as exactly ``height`` lines of ``width``
        cells. With overlays, a second legend line names the runs drawn behind."""
        if width <= 0 or height <= 0:
            return Text()
        series, overlays = list(self.series), list(self.overlays)
        log_y = use_log_scale(series, overlays, self.y_range)
        headers = [self.legend()]
        if log_y:
            headers[0].append("  (log scale)", style="dim italic")
        if overlays and height >= 2:
            headers.append(self.overlay_legend())
        for header in headers:
            header.truncate(width, overflow="ellipsis", pad=True)
        plot_height = height - len(headers)
        drawable = any(s.points for s in series) or bool(overlays)
        if not drawable or width < MIN_PLOT_WIDTH or plot_height < MIN_PLOT_HEIGHT:
            message = self.empty_text if not drawable else "(too small to draw)"
            body = [Text(message if row == plot_height // 2 else "") for row in range(plot_height)]
            for row in body:
                row.align("center", width)
            return Text("\n").join([*headers, *body])
        ansi = render_plot(
            series,
            width,
            plot_height,
            y_range=self.y_range,
            epochs=self.epochs,
            overlays=overlays,
            log_y=log_y,
        )
        rows = Text.from_ansi(ansi).split("\n")[:plot_height]
        for row in rows:
            row.truncate(width, pad=True)
        rows += [Text(" " * width)] * (plot_height - len(rows))
        return Text("\n").join([*headers, *rows])


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


def import_plotext() -> None:
    """Import plotext ahead of the first drawing (~0.1 s; the drawing thread calls this)."""
    import plotext  # noqa: F401


# One thread draws every chart: plotext is pure Python and takes 10-50 ms a drawing, far
# too long for the event loop (a 20 ms timer must not lag); PLOT_LOCK serialises them anyway.
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
        self._changed()

    def set_epochs(self, epochs: int | None) -> None:
        """How many epochs the run has: the epoch axis then spans all of them from the start."""
        if epochs != self.epochs:
            self.epochs = epochs
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
                ChartSeries(s.name, s.label, s.per, list(s.points)) for s in self._series.values()
            ),
            tuple(self._overlays),  # replaced, never changed in place
            self.y_range,
            self.epochs,
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
