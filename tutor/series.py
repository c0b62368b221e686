"""One toolbox for point series: thinning for storage and drawing, and smoothing.

A series is a list of ``(x, y)`` points in x order. Every place that keeps fewer points than
a run reported (the progress store, the live charts, ``dl-tutor run``'s text charts) thins
with :func:`decimate`, so a spike that is visible in one is visible in all of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def steps_per_epoch(history: dict[str, list[Point]], epoch_names: set[str]) -> float | None:
    """Steps in one epoch, estimated from a finished history (the last step / the last epoch),
    so per-epoch values can sit on the step axis; None without both kinds of series."""
    steps = [pts[-1][0] for n, pts in history.items() if n not in epoch_names and pts]
    epochs = [pts[-1][0] for n, pts in history.items() if n in epoch_names and pts]
    if not steps or not epochs or max(epochs) < 1:
        return None
    return max(steps) / max(epochs)
