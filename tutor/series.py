"""One toolbox for point series: thinning for storage and drawing, and smoothing.

A series is a list of ``(x, y)`` points in x order. Every place that keeps fewer points than
a run reported (the progress store, the live charts, ``dl-tutor run``'s text charts) thins
with :func:`decimate`, so a spike that is visible in one is visible in all of them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from typing import Any

Point = tuple[float, float]

# The smoothing weights the ``w`` key cycles through (0 = raw points only).
SMOOTHING_WEIGHTS = (0.0, 0.6, 0.9, 0.99)
DEFAULT_SMOOTHING = 0.6


def _y_key(y: object) -> float:
    # NaN (and anything not a number) counts as highest: a diverged step must survive thinning.
    try:
        value = float(y)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.inf
    return math.inf if math.isnan(value) else value


def decimate(points: Sequence[Point], cap: int) -> list[Point]:
    """At most ``cap`` points, in their original order, that look like ``points`` when drawn.

    Plain striding would drop a one-step loss spike (often the most instructive point of a
    diverging run), so the interior is cut into buckets and each keeps its lowest and highest
    point. The first and last points are always kept, so the curve spans the whole run.
    """
    n = len(points)
    if n <= cap:
        return list(points)
    if cap < 4:
        return [points[0], points[-1]][:cap]
    buckets = (cap - 2) // 2
    interior = n - 2
    inf = math.inf
    try:  # the usual case, floats: NaN (y != y) counts as highest
        keys = [y if y == y else inf for _, y in points]
        min(keys), max(keys)
    except TypeError:  # a stored history with something odd in it
        keys = [_y_key(p[1]) for p in points]
    kept = [0]
    for b in range(buckets):
        lo = 1 + b * interior // buckets
        hi = 1 + (b + 1) * interior // buckets
        if lo >= hi:
            continue
        chunk = keys[lo:hi]
        low = lo + chunk.index(min(chunk))
        high = lo + chunk.index(max(chunk))
        kept.extend((low, high) if low < high else (high, low) if high < low else (low,))
    kept.append(n - 1)
    return [points[i] for i in kept]


def ema(points: Sequence[Point], weight: float) -> list[Point]:
    """The debiased exponential moving average TensorBoard draws (``weight`` in [0, 1)).

    Debiasing divides by ``1 - weight**n``, so the first points are not pulled towards 0.
    Non-finite values pass through unsmoothed and do not disturb the average, as in
    TensorBoard. Smooth the full series, then thin it for drawing, never the other way round.
    """
    if weight <= 0 or not points:
        return list(points)
    out: list[Point] = []
    append = out.append
    last = 0.0
    power = 1.0  # weight ** (finite points so far)
    rest = 1.0 - weight
    for x, y in points:
        if y - y != 0:  # NaN or ±inf (faster than math.isfinite in this hot loop)
            append((x, y))
            continue
        last = last * weight + rest * y
        power *= weight
        append((x, last / (1.0 - power)))
    return out


def next_weight(weight: float, weights: Sequence[float] = SMOOTHING_WEIGHTS) -> float:
    """The smoothing weight after ``weight`` in the cycle (the first one after the last)."""
    later = [w for w in weights if w > weight + 1e-9]
    return later[0] if later else weights[0]


def steps_per_epoch(history: Mapping[str, list[Point]], epoch_names: set[str]) -> float | None:
    """Steps in one epoch, estimated from a finished history (the last step / the last epoch),
    so per-epoch values can sit on the step axis; None without both kinds of series."""
    steps = [pts[-1][0] for n, pts in history.items() if n not in epoch_names and pts]
    epochs = [pts[-1][0] for n, pts in history.items() if n in epoch_names and pts]
    if not steps or not epochs or max(epochs) < 1:
        return None
    return max(steps) / max(epochs)


# -- the same on numpy arrays, for long series ------------------------------------------------
#
# Smoothing and thinning 50k points in pure Python costs ~30 ms, more than a whole chart
# drawing may take (bench/charts.py). Long series go through numpy instead, imported here
# lazily: the app process must paint its first frame without it. Results equal the pure
# Python functions above (thinning: the same points; smoothing: to rounding).

# From this many points on, plot.render thins and smooths with numpy (below, Python is as fast).
NUMPY_FROM = 4096


def decimate_indices(keys: Any, cap: int) -> Any:
    """The indices :func:`decimate` keeps, for a float array ``keys`` of y values (NaN: highest)."""
    import numpy as np

    n = len(keys)
    if n <= cap:
        return np.arange(n)
    if cap < 4:
        return np.array([0, n - 1][:cap])
    keys = np.where(np.isnan(keys), np.inf, keys)
    buckets = (cap - 2) // 2
    interior = n - 2
    # n > cap ≥ 2·buckets + 2, so every bucket holds ≥ 2 points (reduceat needs non-empty ones).
    starts = (np.arange(buckets) * interior) // buckets
    lengths = np.diff(np.append(starts, interior))
    seg = keys[1 : n - 1]
    position = np.arange(interior)

    def first(extreme: Any) -> Any:  # the first index of each bucket's extreme, as list.index
        found = np.where(seg == np.repeat(extreme, lengths), position, interior)
        return np.minimum.reduceat(found, starts) + 1

    low = first(np.minimum.reduceat(seg, starts))
    high = first(np.maximum.reduceat(seg, starts))
    pairs = np.stack([np.minimum(low, high), np.maximum(low, high)], axis=1).ravel()
    keep = np.ones(len(pairs), dtype=bool)
    keep[1::2] = low != high  # one point when the lowest is the highest
    return np.concatenate(([0], pairs[keep], [n - 1]))


def ema_array(ys: Any, weight: float, last: float = 0.0, count: int = 0) -> tuple[Any, float, int]:
    """:func:`ema` of a float array's values, continuing from a running state: ``last`` (the
    average before debiasing) and ``count`` (finite values so far). Returns the smoothed
    values and the state after them, so a growing series is smoothed only where it grew."""
    import numpy as np

    out = np.array(ys, dtype=float)
    if weight <= 0 or not len(out):
        return out, last, count
    finite = np.isfinite(out)
    values = out[finite]
    m = len(values)
    if not m:
        return out, last, count
    # s_k = w^k · (w·last + r·Σ_{j≤k} w^-j·y_j) inside a block. Blocks are short enough that
    # w^-j stays below e^60 (no overflow, rounding relative to the values); the running
    # average carries from one block to the next.
    block = int(min(m, max(1, 60 // -math.log(weight))))
    blocks = -(-m // block)
    padded = np.zeros(blocks * block)
    padded[:m] = values
    k = np.arange(block)
    up, down = weight ** (-k.astype(float)), weight ** k.astype(float)
    local = np.cumsum(padded.reshape(blocks, block) * up, axis=1) * (1.0 - weight) * down
    carries = np.empty(blocks)  # the average just before each block
    carry, decay = last, weight**block
    for b in range(blocks):  # one step per block (few): the recurrence between blocks
        carries[b] = carry
        carry = local[b, -1] + decay * carry
    running = (local + np.outer(carries, down * weight)).ravel()[:m]
    power = weight ** np.arange(count + 1, count + m + 1, dtype=float)
    out[finite] = running / (1.0 - power)
    return out, float(running[-1]), count + m


class SeriesCache:
    """A growing series' smoothed values and thinned drawings, kept up to date as it grows.

    A live chart redraws every few hundred milliseconds while its series grow by a few
    points: this smooths only the new points (the EMA is a running recurrence; all of them
    again only when the weight changes) and keeps the thinned points per (cap, weight) until
    the series grows. Give it the series itself each time (``thinned``): it checks that the
    points it has seen are still the first ones, and starts over if not (a cleared chart).
    One drawing thread uses it; the lock keeps a test drawing on the event loop safe too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._ys: Any = None  # numpy buffer, grown by doubling; the first _n are the series'
        self._n = 0
        self._last: Point | None = None  # the last point seen: still there if the series grew
        self._weight = 0.0
        self._smooth: Any = None  # smoothed values of the first _smoothed_n points
        self._smoothed_n = 0
        self._state = (0.0, 0)  # ema_array's running state after _smoothed_n points
        self._thin: dict[tuple[int, float], tuple[int, list[Point]]] = {}

    @staticmethod
    def _grow(buffer: Any, used: int, n: int) -> Any:
        """``buffer`` (its first ``used`` values kept) with room for ``n``: doubling, so
        appending a point at a time costs O(1) on average."""
        import numpy as np

        if buffer is not None and len(buffer) >= n:
            return buffer
        grown = np.empty(max(n, 1024, 2 * (len(buffer) if buffer is not None else 0)))
        if used:
            grown[:used] = buffer[:used]
        return grown

    def _sync(self, points: Sequence[Point]) -> None:
        import numpy as np

        n = len(points)
        if n < self._n or (self._n and points[self._n - 1] != self._last):
            self._reset()  # not the series seen so far: start over
        if n == self._n:
            return
        self._ys = self._grow(self._ys, self._n, n)
        self._ys[self._n : n] = np.fromiter(
            (y for _, y in points[self._n :]), dtype=float, count=n - self._n
        )
        self._n, self._last = n, points[n - 1]

    def _smoothed(self, weight: float) -> Any:
        if weight != self._weight:
            self._weight, self._smoothed_n, self._state = weight, 0, (0.0, 0)
        done, n = self._smoothed_n, self._n
        if done < n:
            new, last, count = ema_array(self._ys[done:n], weight, *self._state)
            self._smooth = self._grow(self._smooth, done, n)
            self._smooth[done:n] = new
            self._smoothed_n, self._state = n, (last, count)
        return self._smooth[:n]

    def thinned(self, points: Sequence[Point], cap: int, weight: float = 0.0) -> list[Point]:
        """``decimate(ema(points, weight), cap)`` (weight 0: the raw points), incrementally."""
        with self._lock:
            self._sync(points)
            n = self._n
            if not n:
                return []
            cached = self._thin.get((cap, weight))
            if cached is not None and cached[0] == n:
                return cached[1]
            if weight <= 0:
                kept = [points[i] for i in decimate_indices(self._ys[:n], cap).tolist()]
            else:
                smooth = self._smoothed(weight)
                indices = decimate_indices(smooth, cap)
                xs = [points[i][0] for i in indices.tolist()]
                kept = list(zip(xs, smooth[indices].tolist()))
            self._thin[(cap, weight)] = (n, kept)
            return kept
