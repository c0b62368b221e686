"""``#charts``: the Train pane's three charts, how they are drawn, and what is drawn behind.

The lesson's series go to ``#chart-loss``, ``#chart-accuracy`` and ``#chart-other`` by kind.
This widget keeps the view settings the learner picks with keys (smoothing ``w``, log y
``g``), the earlier runs drawn behind the live curves (the learner's picks and a dimmed
previous run), and the drawing thread: the charts that changed are drawn off the event
loop together, and their drawings shown in one screen update.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from textual import on
from textual.app import ComposeResult
from textual.containers import Container
from textual.message import Message
from textual.strip import Strip

from tutor import events
from tutor.progress import StoredRun
from tutor.series import DEFAULT_SMOOTHING, next_weight, steps_per_epoch
from tutor.ui.widgets.chart import (
    DRAWER,
    PREVIOUS_COLOUR,
    ChartDrawing,
    LiveChart,
    OverlaySeries,
    draw_strips,
)
from tutor.ui.widgets.run_text import previous_label

if TYPE_CHECKING:
    from tutor.lesson.schema import Lesson  # annotations only: keeps pydantic out of start-up

Point = tuple[float, float]
Overlay = tuple[str, int, Mapping[str, list[Point]]]  # (label, colour, history)
CHART_KINDS = ("loss", "accuracy", "other")
Drawn = list[tuple[LiveChart, tuple[int, int], list[Strip]]]


class ChartsView(Container):
    """The charts of the open lesson, stacked (side by side on wide screens)."""

    class ChartsDrawn(Message):
        """From the drawing thread: the charts of one tick are drawn; ``then`` runs after
        they are shown (the caller's part of the same screen update)."""

        bubble = False

        def __init__(self, drawn: Drawn, then: Callable[[], None], cpu_seconds: float) -> None:
            super().__init__()
            self.drawn = drawn
            self.then = then
            self.cpu_seconds = cpu_seconds  # the drawing thread's, for the pacing

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Kept, not queried: a CSS query walks the whole view, and drawing runs every tick.
        # Drawn together by the Train pane's tick (draw_changed), not each on its own timer.
        self.charts = [
            LiveChart(title, id=f"chart-{kind}", classes="chart", auto_redraw=False)
            for kind, title in (
                ("loss", "loss"),
                ("accuracy", "accuracy"),
                ("other", "other curves"),
            )
        ]
        self._chart_of: dict[str, LiveChart] = {}  # series name → the chart that draws it
        self._epoch_series: set[str] = set()  # the lesson's per-epoch series
        self.smoothing = DEFAULT_SMOOTHING
        self.log_y = False
        self.steps_per_epoch: float | None = None
        self.drawing_cpu = 0.0  # the drawing thread's CPU time since the caller last took it
        # The App's overlays (runs picked in the table) and a dimmed previous run, kept
        # apart: a new run drops the previous one and keeps the learner's picks.
        self._picked: list[Overlay] = []
        self._previous: Overlay | None = None

    def compose(self) -> ComposeResult:
        yield from self.charts

    # -- the lesson's series ----------------------------------------------------------

    def configure(self, lesson: Lesson | None, lang: str) -> None:
        """Give each chart the lesson's series of its kind (and empty it)."""
        self._chart_of = {}
        series = lesson.series if lesson else []
        self._epoch_series = {s.name for s in series if s.per == "epoch"}
        for kind, chart in zip(CHART_KINDS, self.charts, strict=True):
            mine = [s for s in series if s.kind == kind]
            empty = f"no {kind} in this lesson" if not mine else "press r to run and watch it learn"
            title = "other curves" if kind == "other" else kind
            chart.configure(
                title,
                [(s.name, s.title(lang), s.per) for s in mine],
                empty_text=empty,
                y_range=(0.0, 1.0) if kind == "accuracy" else None,  # used only if values fit
            )
            for s in mine:
                self._chart_of[s.name] = chart
            # A chart with nothing to draw shrinks to its message instead of 13 empty rows.
            chart.set_class(not mine, "-unused")
            if kind == "other":  # only lessons with extra curves (lesson 1's w) get this chart
                chart.display = bool(mine)

    def clear(self) -> None:
        for chart in self.charts:
            chart.clear()

    def say(self, text: str) -> None:
        """The message charts of this lesson show while they have no points."""
        for chart in self.charts:
            if not chart.has_class("-unused"):
                chart.empty_text = text
                chart.refresh()

    def add_points(self, points: Mapping[str, list[Point]]) -> None:
        for name, pts in points.items():
            chart = self._chart_of.get(name)
            if chart is not None and pts:
                chart.add_points(name, pts)

    def set_epochs(self, epochs: int | None) -> None:
        for chart in self.charts:
            chart.set_epochs(epochs)

    def set_steps_per_epoch(self, spe: float | None) -> None:
        """Where each epoch ends on a per-step axis (None: not known)."""
        self.steps_per_epoch = spe
        for chart in self.charts:
            chart.steps_per_epoch = spe
            chart.set_view()

    def learn_epoch_length(self, progress: events.Progress) -> None:
        """Once a run is past its first epoch, its progress tells how long an epoch is."""
        if self.steps_per_epoch is None and progress.epoch > 1 and progress.global_step:
            # Steps done before this epoch, over the epochs done: where each epoch ends.
            done = progress.global_step - progress.step
            self.set_steps_per_epoch(done / (progress.epoch - 1))

    def show_history(self, history: dict[str, list[Point]], epochs: Any) -> None:
        """A run's whole history replaces what was drawn live (it is every point flushed)."""
        self.clear()
        self.add_points(history)
        self.set_epochs(epochs if isinstance(epochs, int) else None)
        self.set_steps_per_epoch(
            self.steps_per_epoch or steps_per_epoch(history, self._epoch_series)
        )

    # -- keys: how the curves are drawn -------------------------------------------------

    def cycle_smoothing(self) -> float:
        """The next smoothing weight (0, 0.6, 0.9, 0.99); the chart titles show it."""
        self.smoothing = next_weight(self.smoothing)
        for chart in self.charts:
            chart.set_view(smoothing=self.smoothing)
        return self.smoothing

    def toggle_log(self) -> bool:
        """Log y on the charts (accuracy keeps its linear axis: it lives in 0..1)."""
        self.log_y = not self.log_y
        for chart in self.charts:
            chart.set_view(log_y=self.log_y and chart.id != "chart-accuracy")
        return self.log_y

    # -- earlier runs behind the live curves --------------------------------------------

    def set_overlays(self, overlays: Sequence[Overlay]) -> None:
        """The runs the learner picked: each series to the chart that draws it, in the run's
        colour; series the lesson does not chart are left out."""
        self._picked = list(overlays)
        self._draw_overlays()

    def show_previous(self, run: StoredRun | None, defaults: Mapping[str, Any]) -> None:
        """A stored run dimmed and labelled (``#12 · 09:07 · lr=0.01``); None removes it."""
        if run is None:
            self._previous = None
        else:
            self._previous = (previous_label(run, defaults), PREVIOUS_COLOUR, run.history)
            self.set_steps_per_epoch(steps_per_epoch(run.history, self._epoch_series))
        self._draw_overlays()

    def forget(self) -> None:
        """No lesson, or another one: neither the previous run nor the picks are its."""
        self._previous, self._picked = None, []

    def _draw_overlays(self) -> None:
        overlays = [*([self._previous] if self._previous else []), *self._picked]
        per_chart: dict[LiveChart, list[OverlaySeries]] = {}
        for label, colour, history in overlays:
            for name, points in history.items():
                chart = self._chart_of.get(name)
                if chart is None or not points:
                    continue
                live = chart.series.get(name)
                per_chart.setdefault(chart, []).append(
                    OverlaySeries(
                        f"{label} {name}",
                        label,
                        colour,
                        live.per if live else "step",
                        list(points),
                    )
                )
        for chart in self.charts:
            chart.set_overlays(per_chart.get(chart, []))

    def begin_run(self, lesson: Lesson | None, lang: str) -> None:
        """A run starts: the lesson's own series (a sweep may have put its runs' there),
        the learner's picks behind them, no previous run, no epoch length yet."""
        self._previous = None
        self.configure(lesson, lang)
        self._draw_overlays()
        self.set_steps_per_epoch(None)

    # -- drawing: off the event loop, shown in one screen update -------------------------

    def draw_changed(self, then: Callable[[], None]) -> bool:
        """Draw the charts that changed on the drawing thread, show the drawings, then call
        ``then``. False (``then`` not called): nothing changed."""
        jobs = [(chart, *chart.begin_drawing()) for chart in self.charts if chart.wants_drawing()]
        if not jobs:
            return False
        DRAWER.submit(self._draw, jobs, then, self.app.console)
        return True

    def _draw(
        self,
        jobs: list[tuple[LiveChart, ChartDrawing, tuple[int, int]]],
        then: Callable[[], None],
        console: Console,
    ) -> None:
        """The drawing thread."""
        start = time.thread_time()
        drawn = [(chart, size, draw_strips(d, size, console)) for chart, d, size in jobs]
        self.post_message(self.ChartsDrawn(drawn, then, time.thread_time() - start))

    @on(ChartsDrawn)
    def _charts_drawn(self, message: ChartsDrawn) -> None:
        self.drawing_cpu += message.cpu_seconds
        for chart, size, strips in message.drawn:
            chart.show_drawing(size, strips)
        message.then()
