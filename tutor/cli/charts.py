"""Text charts and sample pictures for ``dl-tutor run``'s summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tutor.cli.common import fancy
from tutor.text import inert

if TYPE_CHECKING:
    from tutor.lesson.catalog import LoadedLesson
    from tutor.plot import Curve, Tier

CHART_HEIGHT = 15
CHART_MAX_WIDTH = 100

Points = list[tuple[float, float]]


def chart_groups(
    history: Mapping[str, Points], loaded: LoadedLesson, epoch_names: set[str], lang: str
) -> list[tuple[str, list[Curve]]]:
    """(title, curves) for a loss chart and an accuracy chart: every series of that kind,
    per-step and per-epoch alike (they share the step axis, see :mod:`tutor.plot`).

    Series kinds come from the lesson's ``series`` (guessed from the name otherwise).
    """
    from tutor.plot import PALETTE, Curve

    declared = {s.name: s for s in loaded.lesson.series}
    groups = []
    for kind, title in (("loss", "loss"), ("accuracy", "accuracy")):
        names = [n for n, pts in history.items() if len(pts) >= 2 and _kind(n, declared) == kind]
        names.sort(key=lambda n: n in epoch_names)  # per-step first: the smoothed main line
        curves = [
            Curve(
                # A series named by lesson code may hold anything: drawn inert.
                inert(declared[n].title(lang) if n in declared else n, multiline=False),
                list(history[n]),
                "epoch" if n in epoch_names else "step",
                PALETTE[i % len(PALETTE)],
            )
            for i, n in enumerate(names)
        ]
        if curves:
            groups.append((title, curves))
    return groups


def _kind(name: str, declared: Mapping[str, Any]) -> str:
    if name in declared:
        return str(declared[name].kind)
    lowered = name.lower()
    return "loss" if "loss" in lowered else "accuracy" if "acc" in lowered else "other"


def render_charts(
    history: Mapping[str, Points],
    loaded: LoadedLesson,
    epoch_names: set[str],
    lang: str,
    *,
    width: int,
    color: bool,
    epochs: int | None = None,
) -> list[str]:
    """The run's loss and accuracy charts as text, drawn like the app draws them."""
    from tutor import plot
    from tutor.series import DEFAULT_SMOOTHING, steps_per_epoch

    spe = steps_per_epoch(dict(history), epoch_names)
    tier = _tier()
    out = []
    for title, curves in chart_groups(history, loaded, epoch_names, lang):
        chart = plot.Chart(
            title,
            tuple(curves),
            smoothing=DEFAULT_SMOOTHING,
            tier=tier,
            color=color,
            steps_per_epoch=spe,
            epochs=epochs,
            y_bounds=(0.0, 1.0) if title == "accuracy" else (None, None),
        )
        out.append(plot.to_ansi(plot.render(chart, width, CHART_HEIGHT), color))
    return out


def _tier() -> Tier:
    """The chart tier for stdout: ASCII when it cannot show braille or box lines."""
    from tutor import plot

    return plot.detect_tier() if fancy() else "ascii"


def render_compare(
    title: str, per: str, series: Mapping[str, Points], width: int, color: bool
) -> str:
    """One chart with a curve per run (a sweep's), each in its own colour and legend entry."""
    from tutor import plot
    from tutor.series import DEFAULT_SMOOTHING

    curves = tuple(
        plot.Curve(
            label,
            list(points),
            "epoch" if per == "epoch" else "step",
            plot.PALETTE[i % len(plot.PALETTE)],
        )
        for i, (label, points) in enumerate(series.items())
    )
    chart = plot.Chart(title, curves, smoothing=DEFAULT_SMOOTHING, tier=_tier(), color=color)
    return plot.to_ansi(plot.render(chart, width, CHART_HEIGHT), color)


def render_samples(images: list[Any], captions: list[str] | None, width: int, color: bool) -> str:
    """The run's sample pictures with captions; half blocks in colour, shade characters without."""
    from tutor import imageview

    if captions:
        captions = [inert(str(c), multiline=False) for c in captions]
    if not color or not fancy():
        return str(imageview.render_images_ascii(images, captions, max_width=width))
    from io import StringIO

    from rich.console import Console

    buffer = StringIO()
    console = Console(file=buffer, force_terminal=True, width=width, highlight=False)
    console.print(imageview.render_images(images, captions, max_width=width))
    return buffer.getvalue().rstrip("\n")
