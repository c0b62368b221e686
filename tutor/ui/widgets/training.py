"""The Train pane: the hyperparameter form, Run/Stop, live charts and what a run produced.

The view only displays: the Train pane (:mod:`tutor.ui.panes.train`) decides when a run may
start and keeps it, the runner trains, and the run link (:mod:`tutor.ui.run_link`) delivers
the run's messages (:mod:`tutor.ui.messages`) to the pane.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Console
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, VerticalScroll
from textual.events import Click
from textual.message import Message
from textual.strip import Strip
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from tutor import events
from tutor.events import RunResult
from tutor.progress import StoredRun
from tutor.series import DEFAULT_SMOOTHING, next_weight, steps_per_epoch
from tutor.text import inert
from tutor.training.modelview import format_summary
from tutor.ui.pacing import IDLE, Pacer
from tutor.ui.widgets.chart import (
    DRAWER,
    PREVIOUS_COLOUR,
    ChartDrawing,
    LiveChart,
    OverlaySeries,
    draw_strips,
)
from tutor.ui.widgets.diagnosis import DiagnosisView
from tutor.ui.widgets.run_log import RunLog
from tutor.ui.widgets.run_text import (  # format_checks: also the Quiz pane's
    draw_images,
    form_summary,
    format_checks,
    format_metrics,
    format_progress,
    previous_label,
    runs_hint,
)
from tutor.ui.widgets.runs_table import RunsTable
from tutor.ui.widgets.sweep import SweepPanel

if TYPE_CHECKING:
    from tutor.lesson.schema import (  # annotations only: keeps pydantic out of start-up
        Hyperparam,
        Lesson,
    )
    from tutor.ui.run_link import RunUpdate

Point = tuple[float, float]
CHART_KINDS = ("loss", "accuracy", "other")
NO_DATASET = "chosen by the lesson code"  # until the run says (ctx.data / use_dataset)


class HyperparamValidator(Validator):
    """Checks an input with the lesson's own rules (``Hyperparam.parse``), message included."""

    def __init__(self, spec: Hyperparam) -> None:
        super().__init__()
        self.spec = spec

    def validate(self, value: str) -> ValidationResult:
        try:
            self.spec.parse(value)
        except ValueError as e:
            return self.failure(str(e))
        return self.success()


class TrainingView(VerticalScroll):
    """Everything about training the open lesson; scrolls on small terminals.

    While a run trains and after it, the form collapses to one line (``-collapsed``), so at
    80×24 the progress line and the loss and accuracy charts fit without scrolling; ``f``
    expands it again. ``w`` cycles the curves' smoothing, ``g`` toggles log y.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "cycle_smoothing", "Smoothing"),
        Binding("g", "toggle_log", "Log y"),
        Binding("f", "toggle_form", "Form"),
    ]

    # -- messages: from the learner ---------------------------------------------------

    class RunRequested(Message):
        """Run was pressed (button, or Enter in a hyperparameter input)."""

    class StopRequested(Message):
        """Stop was pressed."""

    # -- messages: from the drawing thread ------------------------------------------------

    class ChartsDrawn(Message):
        """The charts that changed since the last tick are drawn; ``progress`` is shown with
        them, so one tick costs one screen update."""

        bubble = False

        def __init__(
            self,
            drawn: list[tuple[LiveChart, tuple[int, int], list[Strip]]],
            progress: events.Progress | None,
            cpu_seconds: float,
        ) -> None:
            super().__init__()
            self.drawn = drawn
            self.progress = progress
            self.cpu_seconds = cpu_seconds  # the drawing thread's, for the pacing

    # -------------------------------------------------------------------------------------

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lesson: Lesson | None = None
        self._lang = "en"
        self._chart_of: dict[str, LiveChart] = {}  # series name → the chart that draws it
        self._pending_progress: events.Progress | None = None  # shown at the next tick
        self._pending_logs: list[str] = []  # written at the next tick (a write lays out)
        self._charts: list[LiveChart] = []
        # While a run trains, updates are as frequent as a CPU budget allows (tutor.ui.pacing).
        self.pacer = Pacer()
        self._busy_since = 0.0  # this (the UI) thread's CPU time at the last tick
        self._drawing_cpu = 0.0  # the drawing thread's CPU time since the last tick
        self.smoothing = DEFAULT_SMOOTHING
        self.log_y = False
        self._steps_per_epoch: float | None = None
        # The App's overlays (runs picked in the table) and a dimmed previous run, kept
        # apart: a new run drops the previous one and keeps the learner's picks.
        self._picked: list[tuple[str, int, Mapping[str, list[Point]]]] = []
        self._previous: tuple[str, int, Mapping[str, list[Point]]] | None = None

    def compose(self) -> ComposeResult:
        yield Static("Edit a value, then Enter or r runs the lesson.", id="form-hint", markup=False)
        yield Container(id="param-form")
        # Everything about the run, Run/Stop first: on Run this section is scrolled to the
        # top, so a small terminal shows the buttons, progress and curves, not the form.
        with Container(id="run-view"):
            with Horizontal(id="run-controls"):
                yield Button(
                    "▶ Run", id="run", variant="success", tooltip="Run the lesson (r)", compact=True
                )
                yield Button(
                    "■ Stop",
                    id="stop",
                    variant="error",
                    disabled=True,
                    tooltip="Stop (s)",
                    compact=True,
                )
                yield Static("not run yet", id="progress", markup=False)
            with Horizontal(id="run-info"):
                yield Static("device: –", id="device", markup=False)
                yield Static("seed: –", id="seed", markup=False)
                yield Static("dataset: –", id="dataset", markup=False)
            # Lessons with exercises: whose code trains, the lesson's or the learner's (m).
            yield Static("", id="run-code", markup=False)
            with Container(id="charts"):  # stacked; side by side on wide screens
                # Drawn together by this view's tick (_redraw), not each on its own timer.
                for kind, title in (
                    ("loss", "loss"),
                    ("accuracy", "accuracy"),
                    ("other", "other curves"),
                ):
                    yield LiveChart(title, id=f"chart-{kind}", classes="chart", auto_redraw=False)
            yield Static("", id="metrics", markup=False)
            yield Static("", id="checks", markup=False)
            yield DiagnosisView(id="diagnosis")  # the run doctor's verdict (the Train pane's)
            yield SweepPanel(id="sweep")  # sweeps and experiments: ui/panes/sweep.py runs them
            yield Static("", id="runs-hint", markup=False)
            yield RunsTable(id="runs-table")
            yield RunLog(id="run-log", max_lines=5000)
            yield Static("", id="model-view", markup=False)
            yield Static("", id="image-view", markup=False)

    def on_mount(self) -> None:
        # Kept, not queried: a CSS query walks the whole view, and _redraw runs every tick.
        self._charts = list(self.query(LiveChart))
        self._busy_since = time.thread_time()
        self.set_timer(self.pacer.interval, self._redraw)

    # -- the lesson -------------------------------------------------------------------

    async def show_lesson(
        self, lesson: Lesson | None, values: Mapping[str, Any] | None = None, lang: str = "en"
    ) -> None:
        """Rebuild the form and empty the run displays for ``lesson`` (None: no lesson open)."""
        self._lesson, self._lang = lesson, lang
        self.set_running(False)  # a run of another lesson may go on; this view is not it
        self._previous, self._picked = None, []
        self.collapse_form(False)
        form = self.query_one("#param-form", Container)
        await form.remove_children()  # awaited: the new inputs reuse the same ids
        if lesson is None:
            self._configure_charts(None)
            self.reset_run_display("open a lesson from the list")
            return
        values = {**lesson.defaults(), **(values or {})}
        rows = [self._param_row(spec, values[spec.name]) for spec in lesson.hyperparams]
        if rows:
            await form.mount_all(rows)
        self._configure_charts(lesson)
        dataset = lesson.dataset.get(lang) if lesson.dataset else NO_DATASET
        self.reset_run_display("not run yet", dataset=dataset, seed=values.get("seed"))
        self.query_one("#checks", Static).update(
            format_checks([], pending=[c.name.get(lang) for c in lesson.checks])
            or Text("this lesson has no outcome checks", style="dim")
        )

    def show_code_source(self, text: str | None) -> None:
        """``code: yours (path)`` / ``code: the lesson's``; None hides the line."""
        line = self.query_one("#run-code", Static)
        line.display = text is not None
        if text is not None:
            mine = text.startswith("code: yours")
            line.update(Text(text, style="bold yellow" if mine else "dim"))

    def _param_row(self, spec: Hyperparam, value: Any) -> Horizontal:
        help_text = f"{spec.range_text()}" + (
            f" · {spec.help.get(self._lang)}" if spec.help else ""
        )
        return Horizontal(
            Label(spec.name, classes="param-name"),
            Input(
                str(value),
                placeholder=spec.range_text(),
                id=f"param-{spec.name}",
                classes="param-input",
                validators=[HyperparamValidator(spec)],
                validate_on=["changed", "submitted"],
                tooltip=help_text,
            ),
            Static(
                help_text, id=f"param-{spec.name}-message", classes="param-message", markup=False
            ),
            classes="param-row",
        )

    def _configure_charts(self, lesson: Lesson | None) -> None:
        self._chart_of = {}
        series = lesson.series if lesson else []
        for kind in CHART_KINDS:
            chart = self.query_one(f"#chart-{kind}", LiveChart)
            mine = [s for s in series if s.kind == kind]
            empty = f"no {kind} in this lesson" if not mine else "press r to run and watch it learn"
            title = "other curves" if kind == "other" else kind
            chart.configure(
                title,
                [(s.name, s.title(self._lang), s.per) for s in mine],
                empty_text=empty,
                y_range=(0.0, 1.0) if kind == "accuracy" else None,  # used only if values fit
            )
            for s in mine:
                self._chart_of[s.name] = chart
            # A chart with nothing to draw shrinks to its message instead of 13 empty rows.
            chart.set_class(not mine, "-unused")
            if kind == "other":  # only lessons with extra curves (lesson 1's w) get this chart
                chart.display = bool(mine)

    # -- run history and overlays ------------------------------------------------------

    def show_runs(
        self,
        runs: Sequence[StoredRun] | None,
        overlays: Mapping[int, int] | None = None,
        *,
        note: str | None = None,
    ) -> None:
        """The stored runs of this lesson (None: not known, ``note`` says why)."""
        table = self.query_one("#runs-table", RunsTable)
        hint = self.query_one("#runs-hint", Static)
        defaults = self._lesson.defaults() if self._lesson else {}
        table.show_runs(runs or [], defaults, overlays)
        table.display = bool(runs)
        if note is not None:
            hint.update(Text(note, style="dim"))
        elif not runs:
            hint.update(Text("runs: none stored yet (each run you start is kept)", style="dim"))
        else:
            hint.update(runs_hint(len(runs)))

    def mark_overlays(self, overlays: Mapping[int, int]) -> None:
        self.query_one("#runs-table", RunsTable).mark_overlays(overlays)

    def set_overlays(self, overlays: Sequence[tuple[str, int, Mapping[str, list[Point]]]]) -> None:
        """Draw earlier runs behind the live curves: ``(label, colour, history)`` each.

        Every series of a run goes to the chart that draws that series in this lesson,
        in the run's colour; series the lesson does not chart are left out.
        """
        self._picked = list(overlays)
        self._draw_overlays()

    def show_previous(self, run: StoredRun | None) -> None:
        """Show a stored run's curves dimmed and labelled (``#12 · 09:07 · lr=0.01``) until a
        new run starts (:meth:`begin_run` drops them); None removes them."""
        if run is None:
            self._previous = None
        else:
            defaults = self._lesson.defaults() if self._lesson else {}
            self._previous = (previous_label(run, defaults), PREVIOUS_COLOUR, run.history)
            self._set_steps_per_epoch(steps_per_epoch(run.history, self._epoch_series()))
        self._draw_overlays()

    def _epoch_series(self) -> set[str]:
        lesson = self._lesson
        return {s.name for s in lesson.series if s.per == "epoch"} if lesson else set()

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
        for chart in self._charts:
            chart.set_overlays(per_chart.get(chart, []))

    def param_values(self) -> dict[str, str]:
        """The raw text of every hyperparameter input, by name."""
        return {
            i.id.removeprefix("param-"): i.value
            for i in self.query(".param-input").results(Input)
            if i.id
        }

    def validate_params(self) -> list[tuple[str, str]]:
        """Validate every input (marking bad ones red) and return ``(name, message)`` failures."""
        failures = []
        for field in self.query(".param-input").results(Input):
            result = field.validate(field.value)
            self._show_validation(field, result)
            if result is not None and not result.is_valid and field.id:
                failures.append(
                    (field.id.removeprefix("param-"), "; ".join(result.failure_descriptions))
                )
        return failures

    def _show_validation(self, field: Input, result: ValidationResult | None) -> None:
        name = (field.id or "").removeprefix("param-")
        spec = self._lesson.hyperparam(name) if self._lesson else None
        message = self.query_one(f"#param-{name}-message", Static)
        if result is not None and not result.is_valid:
            message.update(Text("; ".join(result.failure_descriptions)))
            message.add_class("-error")
        elif spec is not None:
            message.update(
                spec.range_text() + (f" · {spec.help.get(self._lang)}" if spec.help else "")
            )
            message.remove_class("-error")

    @on(Input.Changed, ".param-input")
    def _param_changed(self, event: Input.Changed) -> None:
        self._show_validation(event.input, event.validation_result)

    @on(Input.Submitted, ".param-input")
    def _param_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        # Leave the field so single keys (s to stop, 1-4) work during the run; a refused
        # run puts the focus back on the field at fault.
        self.focus()
        self.post_message(self.RunRequested())

    @on(Button.Pressed, "#run")
    def _run_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.RunRequested())

    @on(Button.Pressed, "#stop")
    def _stop_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.StopRequested())

    # -- a run ------------------------------------------------------------------------

    def reset_run_display(
        self,
        progress: str,
        *,
        dataset: str | None = None,
        seed: Any = None,
        device: str | None = None,
    ) -> None:
        for chart in self._charts:
            chart.clear()
        self.query_one("#run-log", RunLog).reset()
        self._pending_logs, self._pending_progress = [], None
        self.query_one("#progress", Static).update(progress)
        self.query_one("#metrics", Static).update(format_metrics({}))
        self.query_one("#device", Static).update(f"device: {device or '–'}")
        self.query_one("#seed", Static).update(f"seed: {'–' if seed is None else seed}")
        self._dataset_line(dataset or "–")
        self.query_one("#checks", Static).update("")
        self.query_one("#diagnosis", DiagnosisView).show(None)
        self.workers.cancel_group(self, "image-view")  # a drawing of the last run's images
        for view_id in ("#model-view", "#image-view"):
            view = self.query_one(view_id, Static)
            view.update("")
            view.display = False

    def set_running(self, running: bool) -> None:
        self.query_one("#stop", Button).disabled = not running
        self.set_class(running, "-running")

    def begin_run(self, params: Mapping[str, Any]) -> None:
        """A run was accepted: empty the displays and bring the charts into view."""
        lesson = self._lesson
        self._previous = None
        self._configure_charts(lesson)  # a sweep may have put its runs' curves there
        self._draw_overlays()
        self._set_steps_per_epoch(None)
        self.collapse_form(True)
        dataset = lesson.dataset.get(self._lang) if lesson and lesson.dataset else NO_DATASET
        self.reset_run_display(
            "starting (loading PyTorch and the lesson code)…",
            dataset=dataset,
            seed=params.get("seed"),
        )
        self.query_one("#checks", Static).update(
            Text("measured when the run completes", style="dim")
        )
        self.set_running(True)
        self.pacer.reset()
        self._say_in_charts("waiting for the first points…")
        self.log_lines([f"▶ {', '.join(f'{k}={v}' for k, v in params.items())}"])
        # On a small terminal the form fills the first screen; the curves are what to watch.
        # After the refresh: a form mounted a moment ago may not have its final layout yet.
        self.call_after_refresh(
            self.scroll_to_widget, self.query_one("#run-view"), top=True, animate=False
        )

    def show_started(self, info: events.RunStarted) -> None:
        self.query_one("#device", Static).update(f"device: {info.device}")
        self.query_one("#seed", Static).update(
            f"seed: {'none' if info.seed is None else info.seed}"
        )
        epochs = f"epoch 1/{info.epochs} · " if info.epochs else ""
        self.query_one("#progress", Static).update(f"{epochs}running…")
        self.set_epochs(info.epochs)

    def set_epochs(self, epochs: int | None) -> None:
        for chart in self._charts:
            chart.set_epochs(epochs)

    def show_dataset(self, name: str, note: str = "") -> None:
        # The note can be a sentence ("MNIST not downloaded: offline"): the log has room.
        self._dataset_line(name)
        if note:
            self.log_lines([f"dataset: {name}: {note}"])

    def _dataset_line(self, name: str) -> None:
        # The name comes from the lesson (its code may pick it): inert before the terminal.
        self.query_one("#dataset", Static).update(f"dataset: {inert(name, multiline=False)}")

    def _say_in_charts(self, text: str) -> None:
        """The message charts of this lesson show while they have no points."""
        for chart in self._charts:
            if not chart.has_class("-unused"):
                chart.empty_text = text
                chart.refresh()

    def add_points(self, points: Mapping[str, list[Point]]) -> None:
        for name, pts in points.items():
            chart = self._chart_of.get(name)
            if chart is not None and pts:
                chart.add_points(name, pts)

    def log_lines(self, lines: Iterable[str]) -> None:
        self._flush_logs()  # in the order they came
        self.query_one("#run-log", RunLog).add_lines(lines)

    def _flush_logs(self) -> None:
        if self._pending_logs:
            lines, self._pending_logs = self._pending_logs, []
            self.query_one("#run-log", RunLog).add_lines(lines)

    def apply_update(self, update: RunUpdate) -> None:
        """Show what the run produced since the last update (points, log, progress)."""
        self.add_points(update.points)
        self._pending_logs.extend(update.logs)
        progress = update.progress
        if progress is not None:
            self._pending_progress = progress
            if self._steps_per_epoch is None and progress.epoch > 1 and progress.global_step:
                # Steps done before this epoch, over the epochs done: where each epoch ends.
                done = progress.global_step - progress.step
                self._set_steps_per_epoch(done / (progress.epoch - 1))

    def _set_steps_per_epoch(self, spe: float | None) -> None:
        self._steps_per_epoch = spe
        for chart in self._charts:
            chart.steps_per_epoch = spe
            chart.set_view()

    # -- keys: how the curves are drawn, and the form -----------------------------------

    def action_cycle_smoothing(self) -> None:
        """w: the next smoothing weight (0, 0.6, 0.9, 0.99); the chart titles show it."""
        self.smoothing = next_weight(self.smoothing)
        for chart in self._charts:
            chart.set_view(smoothing=self.smoothing)
        self.notify(f"smoothing {self.smoothing:g}", timeout=2)

    def action_toggle_log(self) -> None:
        """g: log y on the charts (accuracy keeps its linear axis: it lives in 0..1)."""
        self.log_y = not self.log_y
        for chart in self._charts:
            chart.set_view(log_y=self.log_y and chart.id != "chart-accuracy")
        self.notify(f"log y {'on' if self.log_y else 'off'}", timeout=2)

    def action_toggle_form(self) -> None:
        """f: show the whole form again (or fold it to its summary line)."""
        self.collapse_form(not self.has_class("-collapsed"))

    def collapse_form(self, collapsed: bool) -> None:
        """Fold the form into one summary line (during and after a run), or unfold it."""
        self.set_class(collapsed, "-collapsed")
        hint = self.query_one("#form-hint", Static)
        if collapsed:
            hint.update(form_summary(self.param_values()))
        else:
            hint.update("Edit a value, then Enter or r runs the lesson.")

    def on_click(self, event: Click) -> None:
        if event.widget is not None and event.widget.id == "form-hint":
            self.action_toggle_form()

    # -- drawing: one screen update per tick while a run reports -----------------------

    def _redraw(self) -> None:
        """Every tick: the charts that changed go to the drawing thread together, with the
        latest progress, so their results land in one screen update. Then the next tick
        is set: paced by the CPU the UI spent since this one while a run trains."""
        busy_now = time.thread_time()
        busy, self._busy_since = busy_now - self._busy_since + self._drawing_cpu, busy_now
        self._drawing_cpu = 0.0
        running = self.has_class("-running")
        self.set_timer(self.pacer.next_interval(busy) if running else IDLE, self._redraw)
        progress, self._pending_progress = self._pending_progress, None
        jobs = [(chart, *chart.begin_drawing()) for chart in self._charts if chart.wants_drawing()]
        if jobs:
            DRAWER.submit(self._draw, jobs, progress, self.app.console)
        else:
            self._show_progress(progress)

    def _draw(
        self,
        jobs: list[tuple[LiveChart, ChartDrawing, tuple[int, int]]],
        progress: events.Progress | None,
        console: Console,
    ) -> None:
        """The drawing thread."""
        start = time.thread_time()
        drawn = [(chart, size, draw_strips(d, size, console)) for chart, d, size in jobs]
        self.post_message(self.ChartsDrawn(drawn, progress, time.thread_time() - start))

    @on(ChartsDrawn)
    def _charts_drawn(self, message: ChartsDrawn) -> None:
        self._drawing_cpu += message.cpu_seconds
        for chart, size, strips in message.drawn:
            chart.show_drawing(size, strips)
        if self.has_class("-running"):
            self._show_progress(message.progress)

    def _show_progress(self, progress: events.Progress | None) -> None:
        """The progress line, metrics and log lines that arrived since the last tick."""
        self._flush_logs()
        if progress is None:
            return
        # A layout of the whole screen at every update would cost more than everything else
        # the UI does during a run, so only when a height changes.
        self.query_one("#progress", Static).update(format_progress(progress), layout=False)
        metrics = self.query_one("#metrics", Static)
        text = format_metrics(progress.metrics)
        lines = len(text.wrap(self.app.console, max(1, metrics.content_size.width)))
        metrics.update(text, layout=lines != metrics.content_size.height)

    def show_result(self, result: RunResult, last_progress: events.Progress | None) -> None:
        """The run ended: final numbers, checks, errors, and the model and image views."""
        self.set_running(False)
        self._pending_progress = None  # the final line below replaces it
        self._flush_logs()
        self._say_in_charts(f"no points: the run {result.status} before reporting any")
        # The result's history is every point the run flushed: the authoritative curves.
        for chart in self._charts:
            chart.clear()
        self.add_points(result.history)
        epochs = result.params.get("epochs")
        self.set_epochs(epochs if isinstance(epochs, int) else None)
        self._set_steps_per_epoch(
            self._steps_per_epoch or steps_per_epoch(result.history, self._epoch_series())
        )
        self.collapse_form(True)
        where = (
            format_progress(last_progress, done=True)
            if last_progress
            else f"{result.seconds:.1f} s"
        )
        self.query_one("#progress", Static).update(f"{result.status} · {where}")
        self.query_one("#metrics", Static).update(format_metrics(result.metrics))
        self.query_one("#device", Static).update(f"device: {result.device}")
        self._dataset_line(result.dataset)
        checks = self.query_one("#checks", Static)
        if result.status == "completed":
            checks.update(format_checks(result.checks) or Text("no outcome checks", style="dim"))
        else:
            checks.update(
                Text(
                    f"checks are measured on completed runs (this one {result.status})", style="dim"
                )
            )
        log = self.query_one("#run-log", RunLog)
        if result.status == "failed":
            log.add_lines(
                ["✗ the lesson code raised an error:", *(result.error or "").splitlines()]
            )
        elif result.status == "diverged":
            log.add_lines([f"✗ diverged: {result.error}"])
        elif result.status == "cancelled":
            log.add_lines(["■ stopped"])
        else:
            log.add_lines([f"✓ completed in {result.seconds:.2f} s"])
        if result.hint and result.status != "diverged":  # #diagnosis says it, with evidence
            log.add_lines([f"hint: {result.hint}"])
        if result.status in ("failed", "diverged"):  # what went wrong matters more than curves
            self.call_after_refresh(self.scroll_to_widget, log, animate=False)
        self._show_models(result.records)
        self._show_images(result.records)

    def _show_models(self, records: Mapping[str, Any]) -> None:
        view = self.query_one("#model-view", Static)
        tables = [
            f"model {name!r}\n{format_summary(value)}"
            for name, value in records.items()
            if isinstance(value, dict) and isinstance(value.get("layers"), list)
        ]
        view.update(Text("\n\n".join(tables)))
        view.display = bool(tables)

    def _show_images(self, records: Mapping[str, Any]) -> None:
        view = self.query_one("#image-view", Static)
        images, captions = records.get("sample_images"), records.get("sample_captions")
        view.display = False
        if not images:
            return
        width = max(20, (self.scrollable_content_region.width or 80) - 2)
        # Drawn on a thread: the first drawing imports numpy (~0.2 s), and a grid of
        # pictures is thousands of styled cells; the run's result shows without waiting.
        self.run_worker(
            partial(draw_images, list(images), list(captions) if captions else None, width),
            thread=True,
            exclusive=True,
            group="image-view",
        )

    @on(Worker.StateChanged)
    def _images_drawn(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "image-view" or event.state != WorkerState.SUCCESS:
            return
        event.stop()
        view = self.query_one("#image-view", Static)
        view.update(event.worker.result or "")
        view.display = True
