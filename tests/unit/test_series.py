"""tutor.series on numpy (long series): the same points as the pure Python thinner and
smoother, incrementally as a live series grows, and the same charts."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from chart_cases import cases

from tutor import plot
from tutor.series import SeriesCache, decimate, decimate_indices, ema, ema_array

Point = tuple[float, float]


def rough_series(n: int, seed: int = 1) -> list[Point]:
    """Gaussian noise with a spike, NaN and ±inf in it (each must survive thinning)."""
    rng = random.Random(seed)
    points = [(float(s), rng.gauss(0, 1)) for s in range(n)]
    for i, y in zip(rng.sample(range(n), min(n, 4)), (math.nan, math.inf, -math.inf, 9.0)):
        points[i] = (points[i][0], y)
    return points


def ys_of(points: list[Point]) -> np.ndarray:
    return np.array([y for _, y in points])


@pytest.mark.parametrize("n", [5, 1000, 20_001])
@pytest.mark.parametrize("cap", [2, 3, 4, 9, 100, 480])
def test_numpy_thinning_keeps_exactly_the_points_decimate_keeps(n: int, cap: int) -> None:
    points = rough_series(n)
    kept = [points[i] for i in decimate_indices(ys_of(points), cap).tolist()]
    assert repr(kept) == repr(decimate(points, cap))  # repr: NaN == NaN there


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_numpy_ema_matches_ema_also_when_continued_in_pieces(weight: float) -> None:
    points = rough_series(20_000)
    expected = ys_of(ema(points, weight))
    whole, _, _ = ema_array(ys_of(points), weight)
    np.testing.assert_allclose(whole, expected, rtol=1e-9, atol=1e-12)
    state: tuple[float, int] = (0.0, 0)
    pieces = []
    for lo, hi in ((0, 1), (1, 77), (77, 12_345), (12_345, 20_000)):  # as points arrive
        piece, *rest = ema_array(ys_of(points[lo:hi]), weight, *state)
        state = (rest[0], rest[1])
        pieces.append(piece)
    np.testing.assert_allclose(np.concatenate(pieces), expected, rtol=1e-9, atol=1e-12)


def test_series_cache_follows_a_growing_series_and_starts_over_when_it_is_replaced() -> None:
    points = rough_series(30_000)
    cache = SeriesCache()
    for end in (1, 10, 4_000, 29_000, 30_000):  # a live run: redraws as the series grows
        grown = points[:end]
        for weight in (0.0, 0.6):
            got = cache.thinned(grown, 480, weight)
            want = decimate(ema(grown, weight), 480)
            assert [x for x, _ in got] == [x for x, _ in want]
            np.testing.assert_allclose(ys_of(got), ys_of(want), rtol=1e-9)
    again = list(points)  # a copy (the widget's snapshot), nothing new: the same drawing
    assert cache.thinned(again, 480, 0.6) is cache.thinned(points, 480, 0.6)
    other = rough_series(30_000, seed=2)  # cleared and refilled, as long: not mixed up
    assert cache.thinned(other, 480) == decimate(other, 480)
    assert cache.thinned([], 480) == []


@pytest.mark.parametrize("name", list(cases()))
def test_charts_drawn_through_numpy_equal_the_pure_python_ones(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chart = cases()[name]
    python = plot.to_plain(plot.render(chart, 80, 24))
    monkeypatch.setattr(plot, "NUMPY_FROM", 0)  # every series through SeriesCache
    assert plot.to_plain(plot.render(chart, 80, 24)) == python
