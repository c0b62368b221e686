"""The one chart renderer: the app's live charts and ``dl-tutor run``'s text charts draw here.

Pure Python and no Textual: a chart (:class:`Chart`) becomes rows of ``(text, style)`` runs,
``style`` being a Rich style string (``"color(12) dim"``). The app turns rows into Rich Text
(:func:`to_text` in the widget), the CLI into ANSI or plain text (:func:`to_ansi`).

What a learner reads at 80×24, drawn from the top:

- a header: the title, the y range, the smoothing weight, log scale, the drawing tier; then
  one legend entry per curve (a swatch that matches the curve, the label, the last value);
- the curves: a per-step series as a bright smoothed line over its dim raw points (debiased
  EMA, :func:`tutor.series.ema`), per-epoch series on the same step axis at each epoch's
  last step, marked ``●``; earlier runs (overlays) dim behind them;
- a y axis with round 1-2-5 ticks (``0.90 0.92 0.94``), an x axis with the epoch numbers on
  it and round step ticks under it (``0 250 500 750 1k``). A value off the chart leaves an
  edge marker (``↑2.3e5``), never silently nothing.

Three drawing tiers, because terminals differ: braille dots (2×4 per cell, the default),
half blocks (1×2, the Linux console's font has them) and ASCII (vt100, dumb terminals).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tutor.series import NUMPY_FROM, SeriesCache, decimate, ema

Point = tuple[float, float]
Per = Literal["step", "epoch"]
Tier = Literal["braille", "block", "ascii"]
Row = list[tuple[str, str]]  # (text, Rich style string) runs, one cell per character

TIERS: tuple[Tier, ...] = ("braille", "block", "ascii")
# Colours (256-colour codes) of successive live series; overlays use far-away codes so an
# earlier run never looks like a live series.
PALETTE = (12, 10, 9, 14, 13, 11, 3, 5)
OVERLAY_PALETTE = (208, 141, 43, 205, 118, 220, 75, 167)
PREVIOUS_COLOUR = 245  # the last stored run, shown grey until a new run starts
# Without colour, curves keep apart by their marker (NO_COLOR, plain text, ASCII).
MARKERS = ("*", "+", "x", "o", "#", "%", "@", "&")

_CELL = {"braille": (2, 4), "block": (1, 2), "ascii": (1, 1)}  # pixels per cell (x, y)
# Braille dot bits by (x, y) inside the 2×4 cell.
_BRAILLE = {(0, 0): 1, (0, 1): 2, (0, 2): 4, (1, 0): 8, (1, 1): 16, (1, 2): 32, (0, 3): 64}
_BRAILLE[(1, 3)] = 128
_BLOCKS = " ▀▄█"
_BOX = {"v": "│", "tick": "┤", "corner": "└", "h": "─", "up": "↑", "down": "↓", "epoch": "●"}
_ASCII_BOX = {"v": "|", "tick": "+", "corner": "+", "h": "-", "up": "^", "down": "v", "epoch": "o"}
# Raw points may widen the y range only this much beyond the smoothed curves (×span): one
# exploding step must not flatten the curve the learner is reading; it gets an edge marker.
RAW_SPAN_LIMIT = 3.0


def detect_tier(environ: Mapping[str, str] = os.environ) -> Tier:
    """``DL_TUTOR_CHARTS=braille|block|ascii`` wins; else by ``TERM``: the Linux console has
    no braille glyphs but has half blocks; vt100 and dumb terminals get ASCII."""
    chosen = environ.get("DL_TUTOR_CHARTS", "").strip().lower()
    if chosen in TIERS:
        return chosen
    term = environ.get("TERM", "")
    if term == "linux":
        return "block"
    if term in ("dumb", "vt100", "vt102", "vt220") or term.startswith("vt"):
        return "ascii"
    return "braille"


@dataclass(frozen=True)
class Curve:
    label: str
    points: Sequence[Point]
    per: Per = "step"
    colour: int | None = None  # None: a live curve's colour by its position (PALETTE)
    overlay: bool = False  # an earlier run: dim, behind the live curves, in the second legend
    # A live series' cache (smoothed and thinned as it grows): a redraw then costs no full
    # pass over the points. Without one, long series are smoothed and thinned with numpy.
    cache: SeriesCache | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Chart:
    title: str
    curves: tuple[Curve, ...]
    smoothing: float = 0.0  # EMA weight for per-step curves; 0 draws the raw points only
    log_y: bool = False
    tier: Tier = "braille"
    color: bool = True
    steps_per_epoch: float | None = None  # None: estimated from the points
    epochs: int | None = None  # the run's length: the x axis spans it from the start
    y_bounds: tuple[float | None, float | None] = (None, None)  # margins never cross these


# -- numbers on axes ----------------------------------------------------------------------------


def nice_step(span: float, count: int) -> float:
    """A 1-2-5 step giving about ``count`` intervals over ``span``."""
    raw = span / max(1, count)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power * (1 + 1e-9):
            return m * power
    return 10 * power


def nice_ticks(lo: float, hi: float, count: int) -> tuple[list[float], float]:
    """Round ticks inside [lo, hi] (about ``count`` of them) and their step."""
    step = nice_step(hi - lo, count)
    first = math.ceil(lo / step - 1e-9)
    ticks: list[float] = []
    k = first
    while k * step <= hi + step * 1e-9 and len(ticks) < 100:
        ticks.append(round(k * step, 12))
        k += 1
    return ticks, step


def _decimals(step: float) -> int:
    """Digits after the point that show every multiple of ``step`` exactly (0.25 → 2)."""
    for d in range(0, 12):
        if abs(round(step, d) - step) <= abs(step) * 1e-6:
            return d
    return 12


def tick_label(value: float, step: float) -> str:
    """Short labels: ``250``, ``1k``, ``1.5k``, ``2M``, ``0.92``, ``0.005``; never ``2.1e2``."""
    if value == 0:
        return "0"
    mag = abs(value)
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if mag >= size and step >= size / 100:
            text = f"{value / size:.{min(_decimals(step / size), 2)}f}"
            return (text.rstrip("0").rstrip(".") if "." in text else text) + suffix
    if step >= 1:
        return f"{value:.0f}"
    return f"{value:.{_decimals(step)}f}"


def short_value(value: float) -> str:
    """A measured value in at most ~6 characters, for legends and edge markers."""
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    mag = abs(value)
    if mag == 0 or 1e-3 <= mag < 1e3:
        return f"{value:.4g}"
    if 1e3 <= mag < 1e15:
        return tick_label(value, mag / 1000)  # 12.35k, 2.3M
    return f"{value:.1e}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


def log_label(power: float) -> str:
    """A power of ten as a short label: ``0.01``, ``1``, ``100``, ``1k``, ``1e-5``, ``1e30``."""
    k = round(power)
    if -3 <= k <= 2:
        return f"{10.0**k:g}"
    if 3 <= k <= 12 and k % 3 == 0:
        return "1" + {3: "k", 6: "M", 9: "G", 12: "T"}[k]
    return f"1e{k}"


# -- the drawing --------------------------------------------------------------------------------


@dataclass
class _Layer:
    style: str
    glyph: str | None  # None: pixels of the tier; else this character per cell


class _Canvas:
    """Cells of the plot area; a later layer owns a cell it draws on (its colour, its dots)."""

    def __init__(self, cols: int, rows: int, tier: Tier) -> None:
        self.cols, self.rows, self.tier = cols, rows, tier
        self.cw, self.ch = _CELL[tier]
        self.bits = [[0] * cols for _ in range(rows)]
        self.owner: list[list[_Layer | None]] = [[None] * cols for _ in range(rows)]

    def pixel(self, px: int, py: int, layer: _Layer) -> None:
        col, row = px // self.cw, py // self.ch
        if not (0 <= col < self.cols and 0 <= row < self.rows):
            return
        if self.owner[row][col] is not layer:
            self.owner[row][col], self.bits[row][col] = layer, 0
        if layer.glyph is None:
            dx, dy = px % self.cw, py % self.ch
            if self.tier == "braille":
                self.bits[row][col] |= _BRAILLE[(dx, dy)]
            elif self.tier == "block":
                self.bits[row][col] |= 1 << dy

    def line(self, a: tuple[int, int], b: tuple[int, int], layer: _Layer) -> None:
        (x0, y0), (x1, y1) = a, b
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:  # Bresenham: every pixel between the two points, no gaps
            self.pixel(x0, y0, layer)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def cell(self, row: int, col: int) -> tuple[str, str]:
        layer = self.owner[row][col]
        if layer is None:
            return " ", ""
        if layer.glyph is not None:
            return layer.glyph, layer.style
        bits = self.bits[row][col]
        char = chr(0x2800 + bits) if self.tier == "braille" else _BLOCKS[bits]
        return char, layer.style


def _style(colour: int, color: bool, *extra: str) -> str:
    return " ".join([f"color({colour})" if color else "", *extra]).strip()


@dataclass
class _Prepared:
    """A curve in drawing order with its x on the chart's axis (y untouched)."""

    curve: Curve
    points: list[Point]
    role: Literal["raw", "line", "epoch"]
    index: int  # position among the live curves (colour and marker)


def _prepare(chart: Chart, cap: int) -> tuple[list[_Prepared], str, float | None]:
    """The curves to draw (raw under smoothed) with x mapped to one axis, the axis name and
    the steps per epoch used. Each is thinned to ``cap`` points after smoothing: min/max
    thinning keeps every extreme, so ranges read from the thinned points are exact."""
    live = [c for c in chart.curves if not c.overlay]
    has_steps = any(c.per == "step" and c.points for c in chart.curves)
    spe = chart.steps_per_epoch
    if spe is None and has_steps:
        last_step = max(c.points[-1][0] for c in chart.curves if c.per == "step" and c.points)
        last_epoch = max(
            (c.points[-1][0] for c in chart.curves if c.per == "epoch" and c.points), default=0.0
        )
        spe = last_step / last_epoch if last_epoch >= 1 else None
    axis = "step" if has_steps else "epoch"
    out: list[_Prepared] = []
    ordered = [(0, c) for c in chart.curves if c.overlay] + list(enumerate(live))
    for index, curve in ordered:
        points = curve.points
        if curve.per == "epoch":
            if axis == "step":
                if spe is None:
                    continue  # no epoch has ended yet next to these steps: nowhere to put it
                points = [(x * spe, y) for x, y in points]
            out.append(_Prepared(curve, decimate(points, cap), "epoch", index))
            continue
        weight = chart.smoothing
        if len(points) >= NUMPY_FROM:  # shorter ones are as fast in Python, without numpy
            # The same results with numpy; a live series' own cache keeps them between
            # drawings (only new points cost), a fresh one makes a cold drawing fit too.
            cache = curve.cache or SeriesCache()
            if weight > 0 and not curve.overlay:
                out.append(_Prepared(curve, cache.thinned(points, cap), "raw", index))
            out.append(_Prepared(curve, cache.thinned(points, cap, weight), "line", index))
            continue
        if weight > 0:
            if not curve.overlay:
                out.append(_Prepared(curve, decimate(points, cap), "raw", index))
            points = ema(points, weight)
        out.append(_Prepared(curve, decimate(points, cap), "line", index))
    return out, axis, spe


def _y_range(prepared: Sequence[_Prepared], chart: Chart) -> tuple[float, float] | None:
    def ys(roles: set[str]) -> list[float]:
        return [y for p in prepared if p.role in roles for _, y in p.points if math.isfinite(y)]

    main, raw = ys({"line", "epoch"}), ys({"raw"})
    if chart.log_y:
        main, raw = [math.log10(y) for y in main if y > 0], [math.log10(y) for y in raw if y > 0]
    if not main and not raw:
        return None
    lo, hi = (min(main), max(main)) if main else (min(raw), max(raw))
    if raw:  # raw points widen the range, up to a limit (beyond it: edge markers)
        limit = max(hi - lo, abs(hi) * 0.05, 1e-12) * RAW_SPAN_LIMIT
        lo = max(min(lo, min(raw)), hi - limit)
        hi = min(max(hi, max(raw)), lo + limit)
    span = hi - lo
    margin = span * 0.05 if span > 0 else max(abs(hi) * 0.1, 0.5 if chart.log_y else 1e-3)
    low, high = lo - margin, hi + margin
    if not chart.log_y:
        floor, ceiling = chart.y_bounds
        if lo >= 0 > low:
            low = 0.0  # a loss never goes below 0: no axis room for it
        if floor is not None and lo >= floor:
            low = max(low, floor)
        if ceiling is not None and hi <= ceiling:
            high = min(high, ceiling)
    return low, high


def _x_range(
    prepared: Sequence[_Prepared], chart: Chart, axis: str, spe: float | None
) -> tuple[float, float] | None:
    xs = [x for p in prepared for x, _ in p.points if math.isfinite(x)]
    if not xs:
        return None
    lo, hi = min(xs), max(xs)
    if chart.epochs:
        hi = max(hi, chart.epochs * spe if axis == "step" and spe else float(chart.epochs))
    if axis == "step" and 0 <= lo <= max(1.0, (hi - lo) * 0.1):
        lo = 0.0  # steps count from 0: the ticks read 0 250 500, not 1 251 501
    if hi <= lo:
        hi = lo + 1
    return lo, hi


def render(chart: Chart, width: int, height: int) -> list[Row]:
    """``chart`` as exactly ``height`` rows of exactly ``width`` cells (needs ≥ 20×5)."""
    box = _ASCII_BOX if chart.tier == "ascii" else _BOX
    cw, _ = _CELL[chart.tier]
    prepared, axis, spe = _prepare(chart, max(8, 2 * width * cw))
    header = _header(chart, prepared, axis, width, two_rows=height >= 10)
    rows_left = height - len(header) - 2  # the x axis and its tick labels
    yr, xr = _y_range(prepared, chart), _x_range(prepared, chart, axis, spe)
    if yr is None or xr is None or rows_left < 2:
        blank: list[Row] = [[(" " * width, "")] for _ in range(max(0, height - len(header)))]
        return [*header, *blank][:height]
    (ylo, yhi), (xlo, xhi) = yr, xr
    if chart.log_y:
        ticks = list(range(math.ceil(ylo - 1e-9), math.floor(yhi + 1e-9) + 1))
        step = max(1, math.ceil(len(ticks) / max(2, rows_left // 2)))
        yticks = [float(t) for t in ticks[::step]] or [float(round((ylo + yhi) / 2))]
        ylabels = [log_label(t) for t in yticks]
    else:
        yticks, ystep = nice_ticks(ylo, yhi, max(2, min(5, rows_left // 2)))
        ylabels = [tick_label(t, ystep) for t in yticks]
    gutter = max(len(s) for s in ylabels) if ylabels else 1
    cols = width - gutter - 1
    canvas = _Canvas(cols, rows_left, chart.tier)
    pw, ph = cols * canvas.cw, rows_left * canvas.ch

    def to_px(x: float, y: float) -> tuple[int, int]:
        px = round((x - xlo) / (xhi - xlo) * (pw - 1))
        py = round((yhi - y) / (yhi - ylo) * (ph - 1))
        return px, py

    above: tuple[float, float] | None = None  # (x, y) of the highest clipped value
    below: tuple[float, float] | None = None
    epoch_marks: list[tuple[int, int, _Layer]] = []
    for p in prepared:
        layer = _layer(p, chart)
        thin = decimate(p.points, max(8, 2 * pw))  # the plot is narrower than the width
        prev: tuple[int, int] | None = None
        for x, y in thin:
            if chart.log_y and not math.isnan(y):
                y = math.log10(y) if y > 0 else -math.inf
            if not math.isfinite(y) or y > yhi or y < ylo:
                clipped_y = y if not math.isnan(y) else math.inf
                if clipped_y > yhi and (above is None or clipped_y > above[1]):
                    above = (x, clipped_y if not chart.log_y else 10**clipped_y)
                if clipped_y < ylo and p.role != "raw" and (below is None or clipped_y < below[1]):
                    below = (x, clipped_y if not chart.log_y else 0.0)
                if not math.isfinite(y):
                    prev = None  # a break in the line: nowhere to draw NaN
                    continue
                y = min(max(y, ylo), yhi)
            point = to_px(x, y)
            if p.role == "raw" and chart.tier == "ascii":
                canvas.pixel(*point, layer)  # dots, not lines: the smoothed line is the curve
            elif prev is not None:
                canvas.line(prev, point, layer)
            else:
                canvas.pixel(*point, layer)
            prev = point
            if p.role == "epoch" and len(p.points) <= cols // 3:
                epoch_marks.append((point[1] // canvas.ch, point[0] // canvas.cw, layer))
    rows = [[canvas.cell(r, c) for c in range(cols)] for r in range(rows_left)]
    for r, c, layer in epoch_marks:
        if 0 <= r < rows_left and 0 <= c < cols:
            rows[r][c] = (box["epoch"] if chart.tier != "ascii" else "o", layer.style)
    _edge_marker(rows, above, box["up"], 0, xlo, xhi, cols, chart.log_y)
    _edge_marker(rows, below, box["down"], rows_left - 1, xlo, xhi, cols, chart.log_y)
    out = [*header]
    tick_rows = {
        round((yhi - t) / (yhi - ylo) * (ph - 1)) // canvas.ch: s for t, s in zip(yticks, ylabels)
    }
    for r in range(rows_left):
        label = tick_rows.get(r)
        mark = box["tick"] if label is not None else box["v"]
        out.append(_merge([((label or "").rjust(gutter) + mark, "dim"), *rows[r]]))
    epoch_cols = _epoch_columns(chart, prepared, axis, spe, xlo, xhi, cols)
    out.append(_x_axis(gutter, cols, box, epoch_cols))
    out.append(_x_ticks(gutter, cols, xlo, xhi, axis))
    return out


def _colour(curve: Curve, index: int) -> int:
    """A curve's own colour (a sweep's runs, overlays), else by its place among the live ones."""
    if curve.colour is not None:
        return curve.colour
    return OVERLAY_PALETTE[0] if curve.overlay else PALETTE[index % len(PALETTE)]


def _layer(p: _Prepared, chart: Chart) -> _Layer:
    colour = _colour(p.curve, p.index)
    if p.role == "raw":
        glyph = "." if chart.tier == "ascii" or not chart.color else None
        return _Layer(_style(colour, chart.color, "dim"), glyph)
    if p.curve.overlay:
        return _Layer(_style(colour, chart.color, "dim"), ":" if chart.tier == "ascii" else None)
    # Without colour, the first live curve keeps the tier's line and others get a marker.
    marked = chart.tier == "ascii" or (not chart.color and p.index > 0)
    return _Layer(_style(colour, chart.color), MARKERS[p.index % len(MARKERS)] if marked else None)


def _edge_marker(
    rows: list[Row],
    clipped: tuple[float, float] | None,
    arrow: str,
    row: int,
    xlo: float,
    xhi: float,
    cols: int,
    log_y: bool,
) -> None:
    if clipped is None:
        return
    x, y = clipped
    text = arrow + (short_value(y) if not (log_y and y == 0.0) else "≤0")
    col = round((x - xlo) / (xhi - xlo) * (cols - 1))
    col = max(0, min(col, cols - len(text)))
    for i, ch in enumerate(text):
        rows[row][col + i] = (ch, "bold")


def _epoch_columns(
    chart: Chart,
    prepared: Sequence[_Prepared],
    axis: str,
    spe: float | None,
    xlo: float,
    xhi: float,
    cols: int,
) -> list[tuple[int, str]]:
    """Where each epoch ends on the x axis, labelled with its number."""
    if axis != "step":
        return []  # the tick labels under the axis are the epochs already
    epochs = sorted({x for p in prepared if p.curve.per == "epoch" for x, _ in p.curve.points})
    if chart.epochs and spe:
        epochs = [float(e) for e in range(1, chart.epochs + 1)]
    out = []
    for e in epochs:
        x = e * spe if axis == "step" and spe else e
        if xlo <= x <= xhi:
            out.append((round((x - xlo) / (xhi - xlo) * (cols - 1)), f"{e:g}"))
    return out


def _x_axis(gutter: int, cols: int, box: Mapping[str, str], epochs: list[tuple[int, str]]) -> Row:
    line = [box["h"]] * cols
    free = 0
    every = 1
    widest = max((len(s) for _, s in epochs), default=1)
    if epochs and len(epochs) * (widest + 1) > cols:  # label every n-th epoch where they fit
        every = math.ceil(len(epochs) * (widest + 1) / cols)
    for i, (col, label) in enumerate(epochs):
        if (i + 1) % every and i != len(epochs) - 1:
            continue
        start = max(0, min(col - len(label) + 1, cols - len(label)))
        if start < free:
            continue
        line[start : start + len(label)] = list(label)
        free = start + len(label) + 1
    return [(" " * gutter + box["corner"], "dim"), ("".join(line), "dim")]


def _x_ticks(gutter: int, cols: int, xlo: float, xhi: float, axis: str) -> Row:
    name = f" {axis}"
    room = cols - len(name)
    ticks, step = nice_ticks(xlo, xhi, max(1, room // 9))
    line = [" "] * (gutter + 1 + cols)
    free = 0
    for t in ticks:
        label = tick_label(t, step)
        col = gutter + 1 + round((t - xlo) / (xhi - xlo) * (cols - 1))
        start = max(0, col - len(label) // 2)
        if start < free or start + len(label) > gutter + 1 + room:
            continue
        line[start : start + len(label)] = list(label)
        free = start + len(label) + 1
    line[-len(name) :] = list(name)
    return [("".join(line), "dim")]


def _header(
    chart: Chart, prepared: Sequence[_Prepared], axis: str, width: int, *, two_rows: bool
) -> list[Row]:
    """Title and notes (range, smoothing, scale, tier), then the legend; one row when short."""
    notes = []
    if chart.smoothing > 0 and any(p.role == "raw" for p in prepared):
        notes.append(f"smoothing {chart.smoothing:g}")
    if chart.log_y:
        notes.append("log y")
    if chart.tier != "braille":
        notes.append(chart.tier)
    yr = _y_range(prepared, chart)
    if yr is not None and not chart.log_y and any(p.points for p in prepared):
        ys = [y for p in prepared for _, y in p.points if math.isfinite(y)]
        if ys:
            dash = "-" if chart.tier == "ascii" else "–"  # ASCII means ASCII (LC_ALL=C, vt100)
            notes.insert(0, f"y {short_value(min(ys))}{dash}{short_value(max(ys))}")
    title: Row = [(chart.title, "bold")]
    if notes:
        title.append(("  " + (" | " if chart.tier == "ascii" else " · ").join(notes), "dim"))
    legend: Row = []
    live = [c for c in chart.curves if not c.overlay]
    for i, curve in enumerate(live):
        colour = _colour(curve, i)
        if chart.tier == "ascii" or (not chart.color and i > 0):
            swatch = MARKERS[i % len(MARKERS)]
        else:
            swatch = "●" if curve.per == "epoch" and axis == "step" else "━"
        swatch_style = _style(colour, chart.color, "bold")
        legend += [("  " if legend else "", ""), (swatch + " ", swatch_style)]
        legend.append((curve.label, ""))
        if curve.points:
            legend.append((f" {short_value(curve.points[-1][1])}", "dim"))
    seen: dict[str, int] = {}
    for curve in chart.curves:
        if curve.overlay and curve.points:
            seen.setdefault(curve.label, _colour(curve, 0))
    for label, colour in seen.items():
        legend += [("  ┈ " if chart.tier != "ascii" else "  : ", _style(colour, chart.color))]
        legend.append((label, "dim"))
    if two_rows:
        return [_fit(title, width), _fit(legend, width)]
    return [_fit([*title, ("  ", ""), *legend], width)]


def _merge(runs: Row) -> Row:
    """Neighbouring runs of one style as one run (fewer segments to paint)."""
    out: Row = []
    for text, style in runs:
        if out and out[-1][1] == style:
            out[-1] = (out[-1][0] + text, style)
        else:
            out.append((text, style))
    return out


def _fit(runs: Row, width: int) -> Row:
    """Cut to ``width`` cells (an ellipsis marks the cut) or pad with blanks."""
    out: Row = []
    used = 0
    for text, style in runs:
        if used + len(text) > width:
            keep = max(0, width - used - 1)
            out.append((text[:keep] + "…", style))
            used += keep + 1
            break
        out.append((text, style))
        used += len(text)
    if used < width:
        out.append((" " * (width - used), ""))
    return _merge(out)


# -- output -------------------------------------------------------------------------------------


def to_plain(rows: Sequence[Row]) -> str:
    return "\n".join("".join(text for text, _ in row).rstrip() for row in rows)


def _sgr(style: str) -> str:
    codes = []
    for word in style.split():
        if word == "bold":
            codes.append("1")
        elif word == "dim":
            codes.append("2")
        elif word.startswith("color("):
            codes.append(f"38;5;{word[6:-1]}")
    return f"\x1b[{';'.join(codes)}m" if codes else ""


def to_ansi(rows: Sequence[Row], color: bool = True) -> str:
    """Rows as terminal text: SGR colour codes when ``color``, plain text otherwise."""
    if not color:
        return to_plain(rows)
    lines = []
    for row in rows:
        parts = []
        for text, style in row:
            code = _sgr(style)
            parts.append(f"{code}{text}\x1b[0m" if code else text)
        lines.append("".join(parts).rstrip())
    return "\n".join(lines)
