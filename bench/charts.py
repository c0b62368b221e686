"""The cost of one chart drawing: median build time at 120×40 with 50k points.

    PYTHONPATH=$PWD .venv/bin/python bench/charts.py

Times what the drawing thread does for one chart: smoothing the full 50k-step series,
thinning, drawing and the rows (tutor.plot.render), then the Rich Text the widget paints.
The budget is 20 ms.
"""

from __future__ import annotations

import math
import random
import statistics
import time

from tutor import plot
from tutor.ui.widgets.chart import rows_to_text

N = 50_000
RUNS = 15


def main() -> None:
    rng = random.Random(0)
    steps = [(float(s), 2.3 * math.exp(-s / 15_000) + 0.1 + rng.gauss(0, 0.08)) for s in range(N)]
    epochs = [(float(e), 2.3 * math.exp(-e * 5_000 / 15_000) + 0.12) for e in range(1, 11)]
    chart = plot.Chart(
        "loss",
        (plot.Curve("minibatch loss", steps), plot.Curve("train loss", epochs, "epoch")),
        smoothing=0.6,
        epochs=10,
    )
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        rows_to_text(plot.render(chart, 120, 40))
        times.append((time.perf_counter() - start) * 1000)
    print(
        f"chart build, 120x40, {N:,} step points + 10 epoch points: "
        f"median {statistics.median(times):.1f} ms (min {min(times):.1f}, {RUNS} runs)"
    )


if __name__ == "__main__":
    main()
