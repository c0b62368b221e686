"""The Train pane: the run lifecycle of the lessons.

It starts a run (a thread worker hands it to a training process, :mod:`tutor.training.process`),
keeps it while the learner looks elsewhere, shows its messages (:mod:`tutor.ui.messages`, from
:class:`~tutor.ui.run_link.RunBridge`), stores it when it ends, and keeps each lesson's last
finished run, the run its quiz grades against and its stored runs (some overlaid on the
charts). Up to the App go: a run ended (:class:`TrainPane.RunEnded`), the graded run of a
lesson changed, the device seen, and status lines.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.worker import Worker, WorkerState

from tutor import events
from tutor import exercises as exercise_code
from tutor.events import RunResult
from tutor.lesson.catalog import LoadedLesson
from tutor.progress import StoredRun
from tutor.training.process import Trainer
from tutor.training.runner import RunRefused, resolve_params
from tutor.ui import messages
from tutor.ui.messages import StoreSnapshotReady
from tutor.ui.panes.sweep import SweepRuns
from tutor.ui.panes.train_doctor import DoctorPane
from tutor.ui.run_link import ActiveRun, GradedRun, RunBridge, RunUpdate
from tutor.ui.store_link import StoreLink, StoreSnapshot, record_run
from tutor.ui.widgets.chart import OVERLAY_PALETTE
from tutor.ui.widgets.diagnosis import RERUN_KEY
from tutor.ui.widgets.lesson_list import lesson_label
from tutor.ui.widgets.runs_table import RunsTable, run_label
from tutor.ui.widgets.training import TrainingView

# Quitting waits this long for the training thread to stop and store its run. Lessons stop
# within one step of a cancel, so this is only reached by a step that takes seconds.
QUIT_WAIT_SECONDS = 2.0


def run_outcome(result: RunResult, title: str) -> tuple[str, str]:
    """The status line after a run of lesson ``title``, and its level."""
    if result.status == "completed":
        passed = sum(c.passed for c in result.checks)
        checks = f" · checks {passed}/{len(result.checks)} passed" if result.checks else ""
        level = "ok" if result.ok else "warning"
        return f"Completed in {result.seconds:.1f} s{checks} · 4: quiz ({title})", level
    if result.status == "cancelled":
        return f"Cancelled after {result.seconds:.1f} s ({title})", "warning"
    if result.status == "diverged":
        return f"Diverged: {result.hint or result.error}", "error"
    last = (result.error or "").strip().splitlines()[-1:] or ["error"]
    more = "traceback" if (result.error or "").startswith("Traceback") else "details"
    return f"Failed: {last[0]} ({more} in the run log)", "error"


class BadParams(ValueError):
    """A hyperparameter in the form is not valid: ``name`` says which."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class TrainPane(DoctorPane, SweepRuns):  # DoctorPane (a TabPane) first: Textual styles by it
    """``#pane-train``: holds ``#training``. The App hands it the trainer, the store link
    and the device (attributes), and the lesson to show (:meth:`show`). Sweeps and
    experiments: :class:`~tutor.ui.panes.sweep.SweepRuns`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(RERUN_KEY, "rerun_suggested", "Rerun suggested"),  # #diagnosis's change
    ]

    class RunEnded(Message):
        """A run ended (``result.status`` says how; None: an internal error stopped it)."""

        def __init__(self, result: RunResult | None) -> None:
            super().__init__()
            self.result = result

    class GradedRunChanged(Message):
        """The run the quiz of ``lesson_id`` grades against changed (or learnt its id)."""

        def __init__(self, lesson_id: str) -> None:
            super().__init__()
            self.lesson_id = lesson_id

    class DeviceSeen(Message):
        """The training process described its device (a GPU's memory in use changes)."""

        def __init__(self, label: str) -> None:
            super().__init__()
            self.label = label

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(title, id=id)
        self.trainer: Trainer | None = None  # handed down at the first paint
        self.link: StoreLink | None = None  # handed down at start-up
        self.store_note: str | None = None  # why runs are not saved, if they are not
        self.device = "auto"
        self.active_run: ActiveRun | None = None  # the run in progress, whichever lesson shown
        self.last_result: RunResult | None = None  # the latest finished run of any lesson
        self.last_run_id: int | None = None  # the store id of the latest run stored
        self.overlays: dict[int, int] = {}  # run id -> colour: runs overlaid on the charts
        self.my_code: set[str] = set()  # lessons that train with the learner's file (m)
        self._lesson: LoadedLesson | None = None  # the lesson shown
        self._lang = "en"
        self._finished: dict[str, tuple[RunResult, events.Progress | None]] = {}
        self._graded: dict[str, GradedRun] = {}  # per lesson: the run the quiz grades against
        self._stored_runs: dict[str, list[StoredRun]] = {}  # per lesson, newest first
        self._last_done: threading.Event | None = None  # the latest run's "ended and stored"
        self._run_ids = 0

    def compose(self) -> ComposeResult:
        yield TrainingView(id="training")

    # -- what the App asks ------------------------------------------------------------

    def graded_run(self, lesson_id: str) -> GradedRun | None:
        return self._graded.get(lesson_id)

    def completed_run(self, lesson_id: str) -> RunResult | None:
        graded = self._graded.get(lesson_id)
        return graded.result if graded is not None else None

    def forget(self, lesson_id: str) -> None:
        """The lesson was reset: its runs are deleted."""
        self._graded.pop(lesson_id, None)
        self._finished.pop(lesson_id, None)
        self._stored_runs[lesson_id] = []
        self.overlays = {}

    # -- showing a lesson -------------------------------------------------------------

    async def show(
        self, loaded: LoadedLesson | None, lang: str = "en", values: dict[str, Any] | None = None
    ) -> None:
        """Show ``loaded``: its live run, else its last one; ``values``: the form's text to
        keep (a language switch), else the params of that run."""
        if loaded is None or self._lesson is None or self._lesson.id != loaded.id:
            self.overlays = {}  # overlays are runs of the lesson shown
        self._lesson, self._lang = loaded, lang
        view = self.view
        if loaded is None:
            await view.show_lesson(None)
            view.show_code_source(None)
            self.show_sweeps(None, lang)
            return
        run = self._run_of(loaded.id)
        finished = self._finished.get(loaded.id)
        if values is None:
            values = run.params if run else finished[0].params if finished else None
        await view.show_lesson(loaded.lesson, values, lang)
        if run is not None:
            self._replay(run)
        elif finished is not None:
            view.show_result(*finished)
            self._show_diagnosis(finished[0])
        self._show_runs(loaded.id)
        self._show_code_source(loaded)
        self.show_sweeps(loaded, lang)  # its sweep's curves, if it is going or what ran last

    def _run_of(self, lesson_id: str) -> ActiveRun | None:
        run = self.active_run
        return run if run is not None and run.lesson_id == lesson_id else None

    def _replay(self, run: ActiveRun) -> None:
        """Rebuild the training view of a run still going (the learner looked elsewhere)."""
        view = self.view
        view.begin_run(run.params)
        if run.started:
            view.show_started(run.started)
        if run.dataset:
            view.show_dataset(*run.dataset)
        view.add_points(run.points)
        view.log_lines(run.logs)
        if run.progress:
            view.apply_update(RunUpdate(progress=run.progress))

    # -- running ----------------------------------------------------------------------

    def start_run(self, loaded: LoadedLesson | None, lang: str) -> ActiveRun:
        """Validate the form and start training ``loaded`` in a thread worker.

        Raises :class:`RunRefused` when a run is going and ``ValueError`` for bad input.
        The App shows the run (:meth:`show_run_started`) once the worker has it.
        """
        if loaded is None:
            raise ValueError("open a lesson first (l focuses the list)")
        if self.device_problem:  # as `dl-tutor run` does: refused, not a failed run stored
            raise ValueError(self.device_problem)
        if self.active_run is not None:
            raise RunRefused(
                f"{self.active_run.loaded.lesson.title.get(lang)} is still running: "
                "press s to stop it first"
            )
        view = self.view
        failures = view.validate_params()
        if failures:
            raise BadParams(*failures[0])
        params = resolve_params(loaded, view.param_values())
        code_path = self._code_path(loaded)  # the learner's file while `m` is on
        self._run_ids += 1
        bridge = RunBridge(self, self._run_ids, loaded.id)
        run = ActiveRun(loaded, bridge, threading.Event(), params, code_path=code_path)
        self.active_run = run
        self._last_done = run.done
        if self.link is not None:
            self.link.expect()  # the training worker stores the run when it ends
        self._train(run, lang)
        return run

    def show_run_started(self, run: ActiveRun) -> None:
        self.view.begin_run(run.params)

    def focus_param(self, name: str) -> None:
        self.view.query_one(f"#param-{name}").focus()

    def form_values(self) -> dict[str, Any]:
        """What the learner typed into the form (kept across a language switch)."""
        return self.view.param_values()

    def focus_content(self) -> None:
        self.view.focus()  # so arrows/PageDown scroll the curves and s stops at once

    def stop(self, quiet: bool = False) -> None:
        """Ask the run in progress to stop (``quiet``: quitting, nothing to say)."""
        run = self.active_run
        if run is not None:
            run.cancel.set()  # the lesson raises RunCancelled at its next report_step
        if quiet:
            return
        if run is None:
            self._say("Nothing is running.")
        else:
            self._say(f"Stopping {lesson_label(run.loaded, self._lang)}…", "warning")

    async def finish(self) -> None:
        """Cancel the run in progress and wait (bounded) until it has been stored."""
        import asyncio

        self.stop(quiet=True)
        done = self._last_done
        if done is not None and not done.is_set():
            # A thread, so the event loop keeps running (and drawing) while we wait.
            await asyncio.to_thread(done.wait, QUIT_WAIT_SECONDS)

    # Not exclusive: one run at a time is enforced by active_run, and `exclusive` would
    # cancel the previous worker while it may still be storing its run.
    @work(thread=True, group="training", exit_on_error=False)
    def _train(self, run: ActiveRun, lang: str) -> tuple[RunResult, StoreSnapshot | None] | str:
        """The run's result and what storing it read; or why it was refused (a str)."""
        assert self.trainer is not None, "no trainer before the first paint"
        try:
            problem = self._device_problem_now()
            if problem:  # started before the spare had checked the device
                return problem
            # In a child process with torch's own thread count: it trains as fast as a
            # plain script, and this thread only relays its events (bench/perf.md).
            result = self.trainer.run(
                run.loaded,
                run.params,
                sink=run.bridge,
                cancel=run.cancel,
                device=self.device,
                code_path=run.code_path,
                lang=lang,
            )
            self.trainer.warm()  # the next run's process imports torch in the meantime
            # Every finished run is stored, whatever its status, here on the worker thread.
            link = self.link
            snapshot = None
            if link is not None and link.store is not None:
                snapshot = link.job(
                    partial(record_run, result),
                    status_of=(result.lesson_id,),
                    runs_of=result.lesson_id,
                )
            return result, snapshot
        finally:
            run.done.set()

    def _live(self, bridge: messages.RunSource) -> ActiveRun | None:
        """The active run if ``bridge`` is its sink, else None: messages of an ended run,
        or arriving while the app shuts down (its widgets already gone), are ignored."""
        run = self.active_run
        if not self.is_attached or run is None or run.bridge is not bridge:
            return None
        return run

    @on(messages.RunStarted)
    def _run_started(self, message: messages.RunStarted) -> None:
        run = self._live(message.bridge)
        if run is not None:
            run.started = message.info
            if self._showing(run):
                self.view.show_started(message.info)

    @on(messages.DatasetChosen)
    def _dataset_chosen(self, message: messages.DatasetChosen) -> None:
        run = self._live(message.bridge)
        if run is not None:
            run.dataset = (message.dataset, message.note)
            if self._showing(run):
                self.view.show_dataset(message.dataset, message.note)

    @on(messages.RunProgressed)
    def _run_progressed(self, message: messages.RunProgressed) -> None:
        update = message.bridge.drain()
        run = self._live(message.bridge)
        if run is None or not update:
            return
        run.absorb(update)
        if update.progress is not None and update.progress.device_info:
            self.post_message(self.DeviceSeen(update.progress.device_info))
        if self._showing(run):
            self.view.apply_update(update)

    @on(messages.RunFinished)
    def _run_finished(self, message: messages.RunFinished) -> None:
        update = message.bridge.drain()  # whatever arrived after the last RunProgressed
        run = self._live(message.bridge)
        if run is None:
            return
        run.absorb(update)
        result = message.result
        self.active_run = None
        self.last_result = result
        self._finished[result.lesson_id] = (result, run.progress)
        if self._showing(run):
            self.view.log_lines(update.logs)
            self.view.show_result(result, run.progress)
            self._show_diagnosis(result)
        if result.status == "completed":
            self._graded[result.lesson_id] = GradedRun(result, time.time())
            self.post_message(self.GradedRunChanged(result.lesson_id))
        self.post_message(self.RunEnded(result))
        self._say(*run_outcome(result, lesson_label(run.loaded, self._lang)))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The training worker ended: the run is stored (or an internal error stopped it)."""
        worker, state = event.worker, event.state
        if worker.node is not self or worker.group != "training":
            return
        event.stop()
        if state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        snapshot = None
        if state == WorkerState.SUCCESS and isinstance(worker.result, str):
            self._refused(worker.result)
            self.post_message(self.RunEnded(None))
        elif state == WorkerState.SUCCESS and worker.result is not None:
            result, snapshot = worker.result
            self._stored(result, snapshot)
        elif state == WorkerState.ERROR and self.is_attached:
            # run_lesson turns lesson errors into results; reaching here is a bug in our code.
            run, self.active_run = self.active_run, None
            if run is not None and self._showing(run):
                self.view.set_running(False)
                self.view.log_lines([f"internal error: {worker.error!r}"])
            self._say(f"The run stopped with an internal error: {worker.error}", "error")
            self.post_message(self.RunEnded(None))
        if self.link is not None:  # up to the App, which counted this run as pending
            self.post_message(StoreSnapshotReady(snapshot, "run"))

    def _stored(self, result: RunResult, snapshot: StoreSnapshot | None) -> None:
        """The training worker stored ``result`` (``snapshot.written``: its id)."""
        if snapshot is None or not isinstance(snapshot.written, int):
            return
        self.last_run_id = snapshot.written
        graded = self._graded.get(result.lesson_id)
        if graded is not None and graded.result is result:
            graded.run_id = snapshot.written
            self.post_message(self.GradedRunChanged(result.lesson_id))

    # -- the learner's code (m) -------------------------------------------------------

    def toggle_my_code(self, loaded: LoadedLesson | None) -> None:
        """m: train ``loaded`` with the learner's file, or with its own code."""
        if loaded is None or not loaded.lesson.exercises:
            self._say("This lesson has no exercises: it trains with its own code.")
        elif loaded.id in self.my_code:
            self.my_code.discard(loaded.id)
            self._say("Training uses the lesson's code (m: yours).")
        else:
            self.my_code.add(loaded.id)
            self._say("Training uses your code: r runs it (m: the lesson's).", "ok")
        if loaded is not None:
            self._show_code_source(loaded)

    def _show_code_source(self, loaded: LoadedLesson) -> None:
        if not loaded.lesson.exercises:
            self.view.show_code_source(None)
        elif loaded.id in self.my_code:
            path = exercise_code.workspace_file(loaded)
            short = f"…/{path.parent.parent.name}/{path.parent.name}/{path.name}"
            self.view.show_code_source(f"code: yours ({short}) · m: the lesson's")
        else:
            self.view.show_code_source("code: the lesson's · m: train with yours")

    def _code_path(self, loaded: LoadedLesson) -> Path | None:
        """The file a run of ``loaded`` trains with: the learner's while `m` is on (the App
        has the Exercise pane save its editor first)."""
        if loaded.id not in self.my_code:
            return None
        try:
            return exercise_code.ensure_workspace(loaded)
        except OSError as e:
            raise ValueError(f"cannot use your code: {e}") from e

    # -- stored runs and overlays -----------------------------------------------------

    def show_stored_runs(self, lesson_id: str, runs: list[StoredRun]) -> None:
        """A store job read the lesson's runs (newest first)."""
        self._stored_runs[lesson_id] = runs
        self._adopt_stored_run(lesson_id, runs)
        self._show_runs(lesson_id)

    def _adopt_stored_run(self, lesson_id: str, runs: list[StoredRun]) -> None:
        """After a restart the quiz grades against the latest *stored* completed run.

        A run finished in this session is kept (it has every record, even those too big
        to store); it only learns its stored id in :meth:`_stored`.
        """
        latest = next((r for r in runs if r.status == "completed"), None)
        if latest is None or lesson_id in self._graded:
            return
        self._graded[lesson_id] = GradedRun(latest.to_result(), latest.finished_at, latest.id)
        self.post_message(self.GradedRunChanged(lesson_id))

    def _show_runs(self, lesson_id: str) -> None:
        """The runs table and the overlays of the lesson shown, from the last snapshot."""
        if self._lesson is None or self._lesson.id != lesson_id:
            return
        runs = self._stored_runs.get(lesson_id)
        if self.link is None or self.link.store is None:
            reason = self.store_note or "no progress store"
            self.view.show_runs(None, note=f"runs: not saved ({reason})")
        elif runs is None:
            self.view.show_runs(None, note="runs: loading…")
        else:
            known = {r.id for r in runs}
            self.overlays = {k: v for k, v in self.overlays.items() if k in known}
            self.view.show_runs(runs, self.overlays)
            if self._run_of(lesson_id) is None and lesson_id not in self._finished:
                # Nothing of this session to show: the latest stored run, dimmed, until r.
                self.view.show_previous(runs[0] if runs else None)
        self._draw_overlays()

    def _draw_overlays(self) -> None:
        if self._lesson is None:
            return
        runs = {r.id: r for r in self._stored_runs.get(self._lesson.id, [])}
        defaults = self._lesson.lesson.defaults()
        self.view.set_overlays(
            [
                (run_label(runs[run_id], defaults), colour, runs[run_id].history)
                for run_id, colour in self.overlays.items()
                if run_id in runs
            ]
        )
        self.view.mark_overlays(self.overlays)
        self.app.refresh_bindings()  # "o" is in the footer only while something is overlaid

    @on(RunsTable.OverlayToggled)
    def toggle_overlay(self, message: RunsTable.OverlayToggled) -> None:
        """Overlay a stored run of the open lesson on the charts, or remove it."""
        run_id = message.run_id
        if run_id in self.overlays:
            del self.overlays[run_id]
        else:
            used = set(self.overlays.values())
            free = [c for c in OVERLAY_PALETTE if c not in used]
            fallback = OVERLAY_PALETTE[len(self.overlays) % len(OVERLAY_PALETTE)]
            self.overlays[run_id] = free[0] if free else fallback
        self._draw_overlays()
        n = len(self.overlays)
        self._say(
            f"{n} run{'s' if n != 1 else ''} overlaid on the charts (o clears)"
            if n
            else "No runs overlaid."
        )

    def clear_overlays(self) -> None:
        self.overlays = {}
        self._draw_overlays()
        self._say("No runs overlaid.")

    def leave_runs_table(self) -> None:
        """The table was emptied (and hidden): the focus goes back to the view."""
        if isinstance(self.app.focused, RunsTable):
            self.view.focus()

    def focus_runs(self) -> None:
        """Focus the runs table (arrows, enter/space), or say that it is empty."""
        table = self.query_one("#runs-table", RunsTable)
        if not table.display:
            self.view.focus()
            self._say("No stored runs of this lesson yet: r runs it.")
            return
        table.focus()
        self.call_after_refresh(self.view.scroll_to_widget, table, animate=False)
