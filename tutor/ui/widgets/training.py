"""The Train pane: the hyperparameter form, Run/Stop, live charts and what a run produced.

The view only displays: the Train pane (:mod:`tutor.ui.panes.train`) decides when a run may
start and keeps it, the runner trains, and the run link (:mod:`tutor.ui.run_link`) delivers
the run's messages (:mod:`tutor.ui.messages`) to the pane.

It is made of three parts that each own what they show: the form
(:mod:`~tutor.ui.widgets.param_form`), the run (:mod:`~tutor.ui.widgets.run_view`) and, in
it, the charts (:mod:`~tutor.ui.widgets.charts_view`). This view keeps what spans them: the
keys, whether the form is folded and a run is going, and the tick that shows a run's news.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.events import Click
from textual.message import Message
from textual.widgets import Button

from tutor import events
from tutor.events import RunResult
from tutor.progress import StoredRun
from tutor.ui.pacing import IDLE, Pacer
from tutor.ui.widgets.charts_view import Overlay
from tutor.ui.widgets.param_form import ParamForm
from tutor.ui.widgets.run_view import RunView

if TYPE_CHECKING:
    from tutor.lesson.schema import Lesson  # annotations only: keeps pydantic out of start-up
    from tutor.ui.run_link import RunUpdate

Point = tuple[float, float]
NO_DATASET = "chosen by the lesson code"  # until the run says (ctx.data / use_dataset)


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

    class RunRequested(Message):
        """Run was pressed (button, or Enter in a hyperparameter input)."""

    class StopRequested(Message):
        """Stop was pressed."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lesson: Lesson | None = None
        self._lang = "en"
        self.form = ParamForm()
        # Everything about the run, Run/Stop first: on Run this section is scrolled to the
        # top, so a small terminal shows the buttons, progress and curves, not the form.
        self.run_view = RunView(id="run-view")
        self.charts = self.run_view.charts
        # While a run trains, updates are as frequent as a CPU budget allows (tutor.ui.pacing).
        self.pacer = Pacer()
        self._busy_since = 0.0  # this (the UI) thread's CPU time at the last tick
        self._run_going = False  # not `_running`: Textual's MessagePump uses that

    def compose(self) -> ComposeResult:
        yield self.form
        yield self.run_view

    def on_mount(self) -> None:
        self._busy_since = time.thread_time()
        self.set_timer(self.pacer.interval, self._tick)

    # -- the lesson -------------------------------------------------------------------

    async def show_lesson(
        self, lesson: Lesson | None, values: Mapping[str, Any] | None = None, lang: str = "en"
    ) -> None:
        """Rebuild the form and empty the run displays for ``lesson`` (None: no lesson open)."""
        self._lesson, self._lang = lesson, lang
        self.set_running(False)  # a run of another lesson may go on; this view is not it
        self.charts.forget()
        self.set_class(False, "-collapsed")
        values = {**lesson.defaults(), **(values or {})} if lesson else {}
        await self.form.show(lesson, values, lang)
        self.charts.configure(lesson, lang)
        if lesson is None:
            self.reset_run_display("open a lesson from the list")
            return
        dataset = lesson.dataset.get(lang) if lesson.dataset else NO_DATASET
        self.reset_run_display("not run yet", dataset=dataset, seed=values.get("seed"))
        self.run_view.show_pending_checks([c.name.get(lang) for c in lesson.checks])

    def show_code_source(self, text: str | None) -> None:
        """``code: yours (path)`` / ``code: the lesson's``; None hides the line."""
        self.run_view.show_code_source(text)

    def param_values(self) -> dict[str, str]:
        """The raw text of every hyperparameter input, by name."""
        return self.form.values()

    def validate_params(self) -> list[tuple[str, str]]:
        """Validate every input (marking bad ones red) and return ``(name, message)`` failures."""
        return self.form.validate()

    def _defaults(self) -> dict[str, Any]:
        return self._lesson.defaults() if self._lesson else {}

    # -- run history and overlays ------------------------------------------------------

    def show_runs(
        self,
        runs: Sequence[StoredRun] | None,
        overlays: Mapping[int, int] | None = None,
        *,
        note: str | None = None,
    ) -> None:
        """The stored runs of this lesson (None: not known, ``note`` says why)."""
        self.run_view.show_runs(runs, self._defaults(), overlays, note=note)

    def mark_overlays(self, overlays: Mapping[int, int]) -> None:
        self.run_view.mark_overlays(overlays)

    def set_overlays(self, overlays: Sequence[Overlay]) -> None:
        """Draw earlier runs behind the live curves: ``(label, colour, history)`` each.

        Every series of a run goes to the chart that draws that series in this lesson,
        in the run's colour; series the lesson does not chart are left out.
        """
        self.charts.set_overlays(overlays)

    def show_previous(self, run: StoredRun | None) -> None:
        """Show a stored run's curves dimmed and labelled (``#12 · 09:07 · lr=0.01``) until a
        new run starts (:meth:`begin_run` drops them); None removes them."""
        self.charts.show_previous(run, self._defaults())

    # -- a run ------------------------------------------------------------------------

    def reset_run_display(
        self,
        progress: str,
        *,
        dataset: str | None = None,
        seed: Any = None,
        device: str | None = None,
    ) -> None:
        self.run_view.reset(progress, dataset=dataset, seed=seed, device=device)

    def set_running(self, running: bool) -> None:
        self.run_view.set_running(running)
        # A flag, not a CSS class: a class on this view restyles all of it (the form's
        # every input) just as the run starts and wants the CPU.
        self._run_going = running

    def begin_run(self, params: Mapping[str, Any]) -> None:
        """A run was accepted: empty the displays and bring the charts into view."""
        lesson = self._lesson
        self.charts.begin_run(lesson, self._lang)
        self.collapse_form(True)
        dataset = lesson.dataset.get(self._lang) if lesson and lesson.dataset else NO_DATASET
        self.reset_run_display(
            "starting (loading PyTorch and the lesson code)…",
            dataset=dataset,
            seed=params.get("seed"),
        )
        self.run_view.show_checks(Text("measured when the run completes", style="dim"))
        self.set_running(True)
        self.pacer.reset()
        self.charts.say("waiting for the first points…")
        self.log_lines([f"▶ {', '.join(f'{k}={v}' for k, v in params.items())}"])
        # On a small terminal the form fills the first screen; the curves are what to watch.
        # After the refresh: a form mounted a moment ago may not have its final layout yet.
        self.call_after_refresh(self.scroll_to_widget, self.run_view, top=True, animate=False)

    def show_started(self, info: events.RunStarted) -> None:
        self.run_view.show_started(info)
        self.set_epochs(info.epochs)

    def set_epochs(self, epochs: int | None) -> None:
        self.charts.set_epochs(epochs)

    def show_dataset(self, name: str, note: str = "") -> None:
        self.run_view.show_dataset(name, note)

    def add_points(self, points: Mapping[str, list[Point]]) -> None:
        self.charts.add_points(points)

    def log_lines(self, lines: Iterable[str]) -> None:
        self.run_view.log_lines(lines)

    def apply_update(self, update: RunUpdate) -> None:
        """Show what the run produced since the last update (points, log, progress)."""
        self.charts.add_points(update.points)
        self.run_view.queue(update.logs, update.progress)
        if update.progress is not None:
            self.charts.learn_epoch_length(update.progress)

    def show_result(self, result: RunResult, last_progress: events.Progress | None) -> None:
        """The run ended: final numbers, checks, errors, and the model and image views."""
        self.set_running(False)
        self.charts.say(f"no points: the run {result.status} before reporting any")
        # The result's history is every point the run flushed: the authoritative curves.
        self.charts.show_history(result.history, result.params.get("epochs"))
        self.collapse_form(True)
        self.run_view.show_result(result, last_progress)
        if result.status in ("failed", "diverged"):  # what went wrong matters more than curves
            self.call_after_refresh(self.scroll_to_widget, self.run_view.run_log, animate=False)

    # -- keys: how the curves are drawn, and the form -----------------------------------

    def action_cycle_smoothing(self) -> None:
        """w: the next smoothing weight (0, 0.6, 0.9, 0.99); the chart titles show it."""
        self.notify(f"smoothing {self.charts.cycle_smoothing():g}", timeout=2)

    def action_toggle_log(self) -> None:
        """g: log y on the charts (accuracy keeps its linear axis: it lives in 0..1)."""
        self.notify(f"log y {'on' if self.charts.toggle_log() else 'off'}", timeout=2)

    def action_toggle_form(self) -> None:
        """f: show the whole form again (or fold it to its summary line)."""
        self.collapse_form(not self.has_class("-collapsed"))

    def collapse_form(self, collapsed: bool) -> None:
        """Fold the form into one summary line (during and after a run), or unfold it.

        The class is this view's, not the form's: folded, the charts get the rows."""
        self.set_class(collapsed, "-collapsed")
        self.form.fold(collapsed)

    def on_click(self, event: Click) -> None:
        if event.widget is not None and event.widget.id == "form-hint":
            self.action_toggle_form()

    @on(ParamForm.Submitted)
    def _param_submitted(self, event: ParamForm.Submitted) -> None:
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

    # -- the tick: one screen update per tick while a run reports ------------------------

    def _tick(self) -> None:
        """Every tick: the charts that changed are drawn together, and the latest progress
        and log lines shown with them, so they land in one screen update. Then the next
        tick is set: paced by the CPU the UI spent since this one while a run trains."""
        busy_now = time.thread_time()
        busy = busy_now - self._busy_since + self.charts.drawing_cpu
        self._busy_since, self.charts.drawing_cpu = busy_now, 0.0
        self.set_timer(self.pacer.next_interval(busy) if self._run_going else IDLE, self._tick)
        progress = self.run_view.take_progress()
        if not self.charts.draw_changed(lambda: self._drawn(progress)):
            self.run_view.show_progress(progress)

    def _drawn(self, progress: events.Progress | None) -> None:
        # A run that ended while its charts were drawn has shown its final line already.
        if self._run_going:
            self.run_view.show_progress(progress)
