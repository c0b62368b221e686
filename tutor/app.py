"""The Textual app: pick a lesson, read it, read its code, train it live, take its quiz.

Importing this module must not import torch (start-up stays fast, and ``dl-tutor
--help`` never pays for it): the runner imports torch inside ``run_lesson`` on the
training thread, and a preload worker imports it once the first screen is painted
so the first Run does not wait.

The app owns the session state (which lesson is open, the run in progress, each
lesson's latest runs) and wires widgets to the plain-Python cores: the runner
trains, :mod:`tutor.quiz` grades, widgets only display.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Input, Markdown, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from tutor import events, quiz
from tutor.bridge import ActiveRun, RunBridge, RunUpdate
from tutor.events import RunResult
from tutor.lessons import Catalog, LoadedLesson, Problem, load_catalog
from tutor.runner import RunRefused, resolve_params
from tutor.widgets import CodeView, LessonList, QuizView, StatusLine, TrainingView
from tutor.widgets.lesson_list import lesson_label

PANES = ("pane-lesson", "pane-code", "pane-train", "pane-quiz")
_PANES_GROUP = Binding.Group("Panes", compact=True)

# What each pane focuses when switched to by key, so arrows scroll what is on screen.
_PANE_FOCUS = {
    "pane-lesson": "#lesson-scroll",
    "pane-code": "#code-scroll",
    "pane-train": "#training",
    "pane-quiz": "#quiz",
}


def lesson_markdown(loaded: LoadedLesson, lang: str = "en") -> str:
    """Title, summary and text of a lesson as one Markdown document."""
    lesson = loaded.lesson
    text = lesson.text.get(lang).strip()
    first, _, rest = text.partition("\n")
    if first.startswith("# "):  # most texts open with their own title; show ours once
        text = rest.lstrip("\n")
    return (
        f"# {lesson.title.get(lang)}\n\n> {lesson.summary.get(lang)}\n\n{text}\n\n"
        "---\n\n*Keys: **2** code · **3** train (**r** runs, **s** stops) · **4** quiz*\n"
    )


def problems_markdown(file: Path, problems: Sequence[Problem]) -> str:
    # A list of inline code rather than a code block: long paths wrap instead of being cut.
    lines = "\n".join(f"- `{p}`" for p in problems)
    return (
        f"# ✗ {file.parent.name}/{file.name}\n\n"
        "This lesson file cannot be used. Fix these problems and restart the app:\n\n"
        f"{lines}\n"
    )


def params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


class TutorApp(App[None]):
    """dl-tutor's terminal UI. See docs/testing.md for the widget ids and keys tests rely on."""

    CSS_PATH = "app.tcss"
    TITLE = "dl-tutor"
    SUB_TITLE = "deep learning with PyTorch"
    AUTO_FOCUS = "#lesson-list"
    # Screen gets -narrow / -wide: app.tcss puts the charts side by side on wide screens.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (140, "-wide"),
    ]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run"),
        Binding("s", "stop", "Stop"),
        Binding("1", "show_pane('pane-lesson')", "Lesson", group=_PANES_GROUP),
        Binding("2", "show_pane('pane-code')", "Code", group=_PANES_GROUP),
        Binding("3", "show_pane('pane-train')", "Train", group=_PANES_GROUP),
        Binding("4", "show_pane('pane-quiz')", "Quiz", group=_PANES_GROUP),
        Binding("l", "focus_lessons", "Lessons"),
        Binding("b", "toggle_sidebar", "Sidebar"),
        # Shown (and active) only while typing in a field, where the keys above are text.
        Binding("escape", "leave_input", "Leave field"),
        Binding("q", "quit", "Quit"),
        # Priority: an Input binds ctrl+c to copy, but quitting must always work.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        lesson_dirs: Sequence[Path] = (),
        *,
        catalog: Catalog | None = None,
        lang: str = "en",
        device: str = "auto",
        builtin: bool = True,
    ) -> None:
        super().__init__()
        self.catalog = (
            catalog if catalog is not None else load_catalog(lesson_dirs, builtin=builtin)
        )
        self.lang = lang
        self.device = device
        self.current: LoadedLesson | None = None  # the lesson shown in the panes
        self.active_run: ActiveRun | None = None  # the run in progress, whichever lesson is shown
        self.last_result: RunResult | None = None  # the latest finished run of any lesson
        self.torch_ready = False
        self._finished: dict[str, tuple[RunResult, events.Progress | None]] = {}
        self._completed: dict[str, RunResult] = {}  # latest completed run per lesson: the quiz's
        self._finished_at: dict[str, str] = {}
        self._run_ids = 0

    # -- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield LessonList(id="lesson-list")
            with TabbedContent(id="main-tabs", initial="pane-lesson"):
                with TabPane("1 Lesson", id="pane-lesson"):
                    with VerticalScroll(id="lesson-scroll"):
                        yield Markdown("", id="lesson-text")
                with TabPane("2 Code", id="pane-code"):
                    yield Static("", id="code-path", markup=False)
                    with VerticalScroll(id="code-scroll"):
                        yield CodeView(id="lesson-code")
                with TabPane("3 Train", id="pane-train"):
                    yield TrainingView(id="training")
                with TabPane("4 Quiz", id="pane-quiz"):
                    yield QuizView(id="quiz")
        yield StatusLine(id="status")
        yield Footer()

    async def on_mount(self) -> None:
        lessons = self.query_one(LessonList)
        lessons.border_title = "Lessons"
        lessons.show_catalog(self.catalog, self.lang)
        self.status.set_torch_note("loading PyTorch…")
        if self.catalog.lessons:
            await self.open_lesson(self.catalog.lessons[0])
            lessons.highlighted = 0
        else:
            await self._show_nothing("No lessons found.")
        if self.catalog.problems:
            n = len(self.catalog.broken_files)
            self.say(
                f"{n} lesson file{'s' if n > 1 else ''} could not be loaded (✗ in the list)",
                "warning",
            )
        # After the first paint: importing torch takes seconds and must not delay the screen.
        self.call_after_refresh(self._preload_torch)

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    @property
    def training(self) -> TrainingView:
        return self.query_one("#training", TrainingView)

    @property
    def quiz_view(self) -> QuizView:
        return self.query_one("#quiz", QuizView)

    def say(self, message: str, level: str = "info") -> None:
        """Put a message in the status line (levels: info, ok, warning, error)."""
        self.status.say(message, level)

    # -- PyTorch preload --------------------------------------------------------------

    @work(thread=True, group="preload", exit_on_error=False)
    def _preload_torch(self) -> None:
        importlib.import_module("torch")

    # -- lessons ----------------------------------------------------------------------

    async def open_lesson(self, loaded: LoadedLesson) -> None:
        """Show ``loaded`` in every pane (its live run or its last run, if any)."""
        self.current = loaded
        self.sub_title = lesson_label(loaded, self.lang)
        await self.query_one("#lesson-text", Markdown).update(lesson_markdown(loaded, self.lang))
        self.query_one("#lesson-scroll").scroll_home(animate=False)
        self.query_one("#code-path", Static).update(str(loaded.code_path))
        try:
            code = loaded.code()
        except OSError as e:
            code = f"# cannot read {loaded.code_path}: {e}"
        self.query_one("#lesson-code", CodeView).show_code(code)
        self.query_one("#code-scroll").scroll_home(animate=False)

        run = (
            self.active_run if self.active_run and self.active_run.lesson_id == loaded.id else None
        )
        finished = self._finished.get(loaded.id)
        params = run.params if run else finished[0].params if finished else None
        await self.training.show_lesson(loaded.lesson, params, self.lang)
        if run is not None:
            self._replay(run)
        elif finished is not None:
            self.training.show_result(*finished)
        await self.quiz_view.show_lesson(loaded.lesson, self.lang)
        self._show_quiz_run(loaded.id)
        if run is None:
            self.say(f"Opened {lesson_label(loaded, self.lang)}: 3 to train, r to run.")

    async def _show_nothing(self, markdown: str, code_path: str = "") -> None:
        self.current = None
        self.sub_title = ""
        await self.query_one("#lesson-text", Markdown).update(markdown)
        self.query_one("#code-path", Static).update(code_path)
        self.query_one("#lesson-code", CodeView).show_code("")
        await self.training.show_lesson(None)
        await self.quiz_view.show_lesson(None)

    def _replay(self, run: ActiveRun) -> None:
        """Rebuild the training view of a run still going (the learner looked elsewhere)."""
        view = self.training
        view.begin_run(run.params)
        if run.started:
            view.show_started(run.started)
        if run.dataset:
            view.show_dataset(*run.dataset)
        view.add_points(run.points)
        view.log_lines(run.logs)
        if run.progress:
            view.apply_update(RunUpdate(progress=run.progress))

    def _show_quiz_run(self, lesson_id: str) -> None:
        result = self._completed.get(lesson_id)
        if result is None:
            self.quiz_view.show_run(None)
            return
        summary = (
            f"Answers are checked against your run of {self._finished_at.get(lesson_id, '')} "
            f"({params_text(result.params)}; {result.seconds:.1f} s on {result.device})."
        )
        self.quiz_view.show_run(summary, result.checks)

    @on(LessonList.LessonChosen)
    async def _lesson_chosen(self, message: LessonList.LessonChosen) -> None:
        await self.open_lesson(message.loaded)
        self.query_one(TabbedContent).active = "pane-lesson"

    @on(LessonList.BrokenFileChosen)
    async def _broken_chosen(self, message: LessonList.BrokenFileChosen) -> None:
        await self._show_nothing(
            problems_markdown(message.file, message.problems), str(message.file)
        )
        self.query_one(TabbedContent).active = "pane-lesson"
        n = len(message.problems)
        first = message.problems[0] if message.problems else ""
        self.say(f"{n} problem{'s' if n != 1 else ''} in {message.file.name}: {first}", "error")

    # -- running ----------------------------------------------------------------------

    def start_run(self) -> None:
        """Validate the form and start training the open lesson in a thread worker.

        Raises :class:`RunRefused` when a run is going and ``ValueError`` for bad input;
        :meth:`action_run` turns both into a status message.
        """
        loaded = self.current
        if loaded is None:
            raise ValueError("open a lesson first (l focuses the list)")
        if self.active_run is not None:
            raise RunRefused(
                f"{self.active_run.loaded.lesson.title.get(self.lang)} is still running: "
                "press s to stop it first"
            )
        failures = self.training.validate_params()
        if failures:
            name, message = failures[0]
            self.query_one(TabbedContent).active = "pane-train"
            self.query_one(f"#param-{name}").focus()
            raise ValueError(message)
        params = resolve_params(loaded, self.training.param_values())
        self._run_ids += 1
        bridge = RunBridge(self.training, self._run_ids, loaded.id)
        run = ActiveRun(loaded, bridge, threading.Event(), params)
        self.active_run = run
        self.training.begin_run(params)
        self.query_one(LessonList).mark_running(loaded.id)
        self.query_one(TabbedContent).active = "pane-train"
        self.training.focus()  # so arrows/PageDown scroll the curves and s stops at once
        self.say(f"Running {lesson_label(loaded, self.lang)}… (s stops)")
        self._train(run)

    @work(thread=True, exclusive=True, group="training", exit_on_error=False)
    def _train(self, run: ActiveRun) -> RunResult:
        from tutor.runner import run_lesson

        # One core stays free for the UI, so the charts keep moving while torch computes.
        return run_lesson(
            run.loaded,
            run.params,
            sink=run.bridge,
            cancel=run.cancel,
            device=self.device,
            threads=max(1, (os.cpu_count() or 2) - 1),
            lang=self.lang,
        )

    def _live(self, bridge: RunBridge) -> ActiveRun | None:
        """The active run if ``bridge`` is its sink, else None: messages of an ended run,
        or arriving while the app shuts down (its widgets already gone), are ignored."""
        run = self.active_run
        if not self.is_running or run is None or run.bridge is not bridge:
            return None
        return run

    def _showing(self, run: ActiveRun) -> bool:
        return self.current is not None and self.current.id == run.lesson_id

    @on(TrainingView.RunRequested)
    def _run_requested(self) -> None:
        self.action_run()

    @on(TrainingView.StopRequested)
    def _stop_requested(self) -> None:
        self.action_stop()

    @on(TrainingView.RunStarted)
    def _run_started(self, message: TrainingView.RunStarted) -> None:
        run = self._live(message.bridge)
        if run is None:
            return
        run.started = message.info
        if self._showing(run):
            self.training.show_started(message.info)

    @on(TrainingView.DatasetChosen)
    def _dataset_chosen(self, message: TrainingView.DatasetChosen) -> None:
        run = self._live(message.bridge)
        if run is None:
            return
        run.dataset = (message.dataset, message.note)
        if self._showing(run):
            self.training.show_dataset(message.dataset, message.note)

    @on(TrainingView.RunProgressed)
    def _run_progressed(self, message: TrainingView.RunProgressed) -> None:
        update = message.bridge.drain()
        run = self._live(message.bridge)
        if run is None or not update:
            return
        run.absorb(update)
        if self._showing(run):
            self.training.apply_update(update)

    @on(TrainingView.RunFinished)
    def _run_finished(self, message: TrainingView.RunFinished) -> None:
        update = message.bridge.drain()  # whatever arrived after the last RunProgressed
        run = self._live(message.bridge)
        if run is None:
            return
        run.absorb(update)
        result = message.result
        self.active_run = None
        self.last_result = result
        self._finished[result.lesson_id] = (result, run.progress)
        if result.status == "completed":
            self._completed[result.lesson_id] = result
            self._finished_at[result.lesson_id] = time.strftime("%H:%M:%S")
        self.query_one(LessonList).mark_running(None)
        if self._showing(run):
            self.training.log_lines(update.logs)
            self.training.show_result(result, run.progress)
            self._show_quiz_run(result.lesson_id)
        self.say(*self._outcome(result))

    def _outcome(self, result: RunResult) -> tuple[str, str]:
        """The status line after a run, and its level."""
        loaded = self.catalog.get(result.lesson_id)
        title = lesson_label(loaded, self.lang) if loaded else result.lesson_id
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
        return f"Failed: {last[0]} (traceback in the run log)", "error"

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place for workers ending: PyTorch preloaded, or a worker crashed."""
        worker, state = event.worker, event.state
        if worker.group == "preload" and state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self.torch_ready = state == WorkerState.SUCCESS
            self.status.set_torch_note(
                "" if self.torch_ready else f"PyTorch failed to load: {worker.error}"
            )
        elif worker.group == "training" and state == WorkerState.ERROR:
            # run_lesson turns lesson errors into results; reaching here is a bug in our code.
            run, self.active_run = self.active_run, None
            self.query_one(LessonList).mark_running(None)
            if run is not None and self._showing(run):
                self.training.set_running(False)
                self.training.log_lines([f"internal error: {worker.error!r}"])
            self.say(f"The run stopped with an internal error: {worker.error}", "error")

    # -- quiz -------------------------------------------------------------------------

    def completed_run(self, lesson_id: str) -> RunResult | None:
        """The run quiz answers are checked against: the lesson's latest completed run."""
        return self._completed.get(lesson_id)

    @on(QuizView.AnswerSubmitted)
    def _answer_submitted(self, message: QuizView.AnswerSubmitted) -> None:
        if self.current is None:
            return
        result = self.completed_run(self.current.id)
        values = quiz.run_values(result) if result is not None else None
        verdict = quiz.grade(message.question, message.answer, values, self.lang)
        self.quiz_view.show_verdict(message.question.id, verdict)

    # -- actions ----------------------------------------------------------------------

    def action_run(self) -> None:
        try:
            self.start_run()
        except RunRefused as e:
            self.say(f"Refused: {e}.", "warning")
        except ValueError as e:
            self.say(f"Not run: {e}", "error")

    def action_stop(self) -> None:
        run = self.active_run
        if run is None:
            self.say("Nothing is running.")
            return
        run.cancel.set()  # the lesson raises RunCancelled at its next report_step
        self.say(f"Stopping {lesson_label(run.loaded, self.lang)}…", "warning")

    def action_show_pane(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane
        self.query_one(_PANE_FOCUS[pane]).focus()

    def action_focus_lessons(self) -> None:
        lessons = self.query_one(LessonList)
        lessons.display = True
        lessons.focus()

    def action_toggle_sidebar(self) -> None:
        lessons = self.query_one(LessonList)
        lessons.display = not lessons.display
        if not lessons.display:
            active = self.query_one(TabbedContent).active
            self.query_one(_PANE_FOCUS.get(active, "#training")).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Escape means "leave the field": offered (and in the footer) only while typing.
        if action == "leave_input":
            return isinstance(self.focused, Input)
        return True

    def action_leave_input(self) -> None:
        """Escape from an input to its pane, where the single-key bindings work again."""
        pane = self.query_one(TabbedContent).active
        self.query_one(_PANE_FOCUS.get(pane, "#training")).focus()

    async def action_quit(self) -> None:
        self._cancel_active_run()
        self.exit()

    def on_unmount(self) -> None:
        # Any way out (q, ctrl+q, app.exit(), a test ending) must stop the training thread:
        # it cannot be killed, and the process waits for it before exiting.
        self._cancel_active_run()

    def _cancel_active_run(self) -> None:
        if self.active_run is not None:
            self.active_run.cancel.set()  # the lesson raises at its next report_step
