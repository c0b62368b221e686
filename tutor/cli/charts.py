"""Text charts and sample pictures for ``dl-tutor run``'s summary."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutor.lesson.catalog import LoadedLesson

CHART_HEIGHT = 15
CHART_MAX_WIDTH = 100
CHART_MAX_POINTS = 400  # plotext gets slow with 100k step points and the terminal has ~100 columns

Points = list[tuple[float, float]]


def chart_groups(
    history: Mapping[str, Points], loaded: LoadedLesson, epoch_names: set[str], lang: str
) -> list[tuple[str, str, dict[str, Points]]]:
    """(title, x label, label → points) for a loss chart and an accuracy chart.

    Series kinds come from the lesson's ``series`` (guessed from the name otherwise).
    Per-epoch curves are preferred; per-step ones are used when a kind has no epoch
    curve with two points, since the two x axes (epochs, steps) cannot share a chart.
    """
    declared = {s.name: s for s in loaded.lesson.series}
    groups = []
    for kind, title in (("loss", "loss"), ("accuracy", "accuracy")):
        names = [n for n, pts in history.items() if len(pts) >= 2 and _kind(n, declared) == kind]
        per_epoch = [n for n in names if n in epoch_names]
        chosen, xlabel = (per_epoch, "epoch") if per_epoch else (names, "step")
        if chosen:
            labels = {n: declared[n].title(lang) if n in declared else n for n in chosen}
            groups.append((title, xlabel, {labels[n]: list(history[n]) for n in chosen}))
    return groups


def _kind(name: str, declared: Mapping[str, Any]) -> str:
    if name in declared:
        return str(declared[name].kind)
    lowered = name.lower()
    return "loss" if "loss" in lowered else "accuracy" if "acc" in lowered else "other"


def thin(points: Points, limit: int = CHART_MAX_POINTS) -> Points:
    """At most about ``limit`` evenly spaced points, always keeping the last one."""
    if len(points) <= limit:
        return list(points)
    stride = math.ceil(len(points) / limit)
    kept = list(points[::stride])
    return kept if kept[-1] == points[-1] else [*kept, points[-1]]


def render_chart(
    title: str, xlabel: str, series: Mapping[str, Points], width: int, color: bool
) -> str:
    """A line chart as text (plotext 6 API), without colour codes unless ``color``."""
    import plotext as plt

    fig = plt.figure
    fig.clear()
    fig.plot_size(width, CHART_HEIGHT)
    # "simple" colours the curves only, on the terminal's own background (light or dark).
    fig.theme("simple" if color else "colorless")
    for label, points in series.items():
        xs, ys = zip(*thin(points))
        signal_ = fig.signal(list(xs), list(ys))
        if len(series) > 1:  # one curve: the title names it, and a legend box would hide data
            signal_.label(label)
        signal_.lines()
        fig.draw(signal_)
    if len(series) > 1:
        _legend_in_empty_corner(fig, series, top=title != "accuracy")
    fig.title(title if len(series) > 1 else f"{title}: {next(iter(series))}")
    fig.label(xlabel, axis="x")
    text = str(fig.build().string(colorless=not color))
    # plotext pads every row to the full width; plain text does not need the trailing blanks.
    return text.rstrip() if color else "\n".join(line.rstrip() for line in text.splitlines())


def _legend_in_empty_corner(fig: Any, series: Mapping[str, Points], *, top: bool) -> None:
    # Losses fall and accuracies rise, so the right end of the chart is empty at the top
    # (losses) or at the bottom (accuracies); the default upper-left spot hides the start.
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points]
    y = max(ys) if top else min(ys)
    fig.legend(x=max(xs), y=y, relative=True, ha="right", va="top" if top else "bottom")


def render_samples(images: list[Any], captions: list[str] | None, width: int, color: bool) -> str:
    """The run's sample pictures with captions; half blocks in colour, shade characters without."""
    from tutor import imageview

    if not color:
        return str(imageview.render_images_ascii(images, captions, max_width=width))
    from io import StringIO

    from rich.console import Console

    buffer = StringIO()
    console = Console(file=buffer, force_terminal=True, width=width, highlight=False)
    console.print(imageview.render_images(images, captions, max_width=width))
    return buffer.getvalue().rstrip("\n")


