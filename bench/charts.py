"""The cost of one chart drawing at 120×40 with a 50k-step series: median build times.

    PYTHONPATH=$PWD .venv/bin/python bench/charts.py

Prints three medians, wall clock and CPU time (the budget is 20 ms):

- live redraw: what the app's drawing thread does at each tick of a long run. The series
  grows by ``NEW`` points between drawings; the widget's snapshot (list copies) is drawn
  with the series' cache (tutor.series.SeriesCache: only the new points are smoothed; the
  50k are thinned with numpy), then the plot's rows become Rich Text.
- cold build: a fresh chart of the full series, no cache (``dl-tutor run``'s charts, the
  first drawing after ``w`` changes the smoothing, a stored run): numpy smooths and thins.
- pure Python: the same cold build with numpy off (how it was drawn before), for comparison.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import time
from collections.abc import Callable

from tutor import plot, series
from tutor.ui.widgets.chart import ChartDrawing, ChartSeries, rows_to_text

N = 50_000
NEW = 50  # points per redraw: a fast run at 4 redraws a second
RUNS = 15
SIZE = (120, 40)


def loss(step: int, rng: random.Random) -> float:
    return 2.3 * math.exp(-step / 15_000) + 0.1 + rng.gauss(0, 0.08)


def median_ms(build: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    """Median wall-clock and median CPU (this thread's) milliseconds of ``build()``. On a
    shared machine the wall clock also counts waiting for a core; the CPU time does not."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.thread_time()
        build()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    rng = random.Random(0)
    steps = [(float(s), loss(s, rng)) for s in range(N)]
    epochs = [(float(e), 2.3 * math.exp(-e * 5_000 / 15_000) + 0.12) for e in range(1, 11)]
    chart = plot.Chart(
        "loss",
        (plot.Curve("minibatch loss", steps), plot.Curve("train loss", epochs, "epoch")),
        smoothing=0.6,
        epochs=10,
    )

    # The live chart: its series and their caches, as LiveChart keeps them.
    live = ChartSeries("loss", "minibatch loss", "step", list(steps))
    per_epoch = ChartSeries("train_loss", "train loss", "epoch", list(epochs))
    next_step = N

    def grow() -> None:  # the points arriving are the run's cost, not the drawing's
        nonlocal next_step
        live.points.extend((float(s), loss(s, rng)) for s in range(next_step, next_step + NEW))
        next_step += NEW

    def redraw() -> None:
        drawing = ChartDrawing(
            "loss",
            "",
            (
                ChartSeries(live.name, live.label, live.per, list(live.points), live.cache),
                ChartSeries(per_epoch.name, per_epoch.label, "epoch", list(per_epoch.points)),
            ),
            (),
            None,
            10,
            smoothing=0.6,
        )
        drawing.render_text(*SIZE)

    redraw()  # the first drawing smooths the whole series once

    # Timed without the growing: run it once before each timed redraw.
    wall, cpu = [], []
    for _ in range(RUNS):
        grow()
        w, c = median_ms(redraw, runs=1)
        wall.append(w)
        cpu.append(c)
    live_ms = statistics.median(wall), statistics.median(cpu)

    cold_ms = median_ms(lambda: rows_to_text(plot.render(chart, *SIZE)))
    numpy_from, series.NUMPY_FROM = series.NUMPY_FROM, N + 1
    plot.NUMPY_FROM = series.NUMPY_FROM
    python_ms = median_ms(lambda: rows_to_text(plot.render(chart, *SIZE)))
    series.NUMPY_FROM = plot.NUMPY_FROM = numpy_from

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"chart build, {SIZE[0]}x{SIZE[1]}, {N:,} step points + 10 epoch points, {RUNS} runs:")
    for name, (wall_ms, cpu_ms) in (
        (f"live redraw (+{NEW} points)", live_ms),
        ("cold build (numpy)", cold_ms),
        ("cold build (pure Python)", python_ms),
    ):
        print(f"  {name:<28} median {wall_ms:5.1f} ms wall, {cpu_ms:5.1f} ms CPU")
    print(f"  load average {load:.2f}")


if __name__ == "__main__":
    main()
