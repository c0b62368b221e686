"""Deterministic series for the chart goldens (tests/unit/test_chart_golden.py) and the bench."""

from __future__ import annotations

import math
import random

from tutor import plot

Point = tuple[float, float]


def noisy_decay(n: int = 1000, seed: int = 0) -> list[Point]:
    rng = random.Random(seed)
    return [
        (float(s), 2.3 * math.exp(-s / (n / 3)) + 0.1 + rng.gauss(0, 0.08)) for s in range(1, n + 1)
    ]


def epoch_losses(epochs: int = 4, n: int = 1000) -> list[Point]:
    return [
        (float(e), 2.3 * math.exp(-e * n / epochs / (n / 3)) + 0.12) for e in range(1, epochs + 1)
    ]


def cases() -> dict[str, plot.Chart]:
    """name → chart; each is drawn at 80×24 and 120×40."""
    steps = noisy_decay()
    spike = list(steps)
    spike[600] = (601.0, 9.0)
    diverged = [(float(s), 0.5 * math.exp(s / 40)) for s in range(1, 400)] + [(400.0, math.nan)]
    accuracy = [(float(e), 0.90 + 0.07 * (1 - math.exp(-e / 3))) for e in range(1, 11)]
    earlier = [(float(e), 0.88 + 0.05 * (1 - math.exp(-e / 4))) for e in range(1, 11)]
    loss = (plot.Curve("minibatch loss", steps), plot.Curve("train loss", epoch_losses(), "epoch"))
    return {
        "noisy-decay": plot.Chart("loss", loss, smoothing=0.6, epochs=4),
        "noisy-decay-raw": plot.Chart("loss", loss, smoothing=0.0, epochs=4),
        "spike": plot.Chart("loss", (plot.Curve("minibatch loss", spike),), smoothing=0.6),
        "diverged": plot.Chart("loss", (plot.Curve("loss", diverged),), smoothing=0.6),
        "diverged-log": plot.Chart("loss", (plot.Curve("loss", diverged),), log_y=True),
        "accuracy": plot.Chart(
            "accuracy", (plot.Curve("test accuracy", accuracy, "epoch"),), y_bounds=(0.0, 1.0)
        ),
        "overlays": plot.Chart(
            "accuracy",
            (
                plot.Curve("#3 lr=0.3", earlier, "epoch", plot.OVERLAY_PALETTE[0], overlay=True),
                plot.Curve("test accuracy", accuracy, "epoch"),
            ),
            y_bounds=(0.0, 1.0),
        ),
        "ascii-no-color": plot.Chart(
            "loss", loss, smoothing=0.6, epochs=4, tier="ascii", color=False
        ),
        "block": plot.Chart("loss", loss, smoothing=0.9, epochs=4, tier="block"),
    }
