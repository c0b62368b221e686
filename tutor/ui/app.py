"""The Textual app: pick a lesson, read it, read its code, train it live, take its quiz.

The app process never imports torch: lessons train in a child process
(:mod:`tutor.training.process`), so start-up stays fast and neither the UI nor the training
slows the other. Nor pydantic or YAML: the first screen lists the lessons from a cached
index (:mod:`tutor.lesson.index`), without the panes; right after it is painted
(``_first_paint``) the panes are added while lessons are loaded and the progress store
opened on a worker thread. Then a spare training process starts and imports torch,
so the first Run does not wait for it.

The app owns the session state (which lesson is open, the run in progress, each
lesson's latest runs) and wires widgets to the plain-Python cores: the runner
trains, :mod:`tutor.quiz` grades, :mod:`tutor.progress` remembers, widgets only
display.

The progress store is only ever touched on worker threads (group ``store``, and the
training worker, which stores its own run): a write is one short transaction but
fsyncs, and it may wait up to the store's 5 s busy timeout while another process
(a second window, ``dl-tutor run``) writes; reading a lesson's run history decodes
up to 50 runs of JSON curves. None of that belongs on the thread that draws. Each
job returns a :class:`~tutor.ui.bridge.StoreSnapshot` that the UI applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from tutor.lesson.catalog import Catalog
from tutor.lesson.index import LANGUAGES, LessonIndex, load_catalog_indexed, read_index
from tutor.ui import shutdown
from tutor.ui.widgets.footer import KeyFooter
from tutor.ui.widgets.lesson_list import LessonList, lesson_label
from tutor.ui.widgets.status import StatusLine
from tutor.ui.widgets.title_bar import TitleBar

# Only what the first screen needs is imported above: `import tutor.ui.app` costs little more
# than `import textual.app`. The rest (the other panes' widgets, the store, the trainer,
# exercises: ~0.2-0.4 s) is imported where it is used, all of it after the first paint.
if TYPE_CHECKING:
    from textual.widgets import TabbedContent

    from tutor import events, quiz
    from tutor.events import RunResult
    from tutor.exercises import ExerciseResult
    from tutor.lesson.catalog import LoadedLesson, Problem
    from tutor.lesson.schema import Question  # annotations only: keeps pydantic out of start-up
    from tutor.progress import ProgressStore, StoredRun
    from tutor.training.process import Ready, Trainer
    from tutor.ui.bridge import ActiveRun, RunBridge, StoreLink, StoreSnapshot
    from tutor.ui.widgets.exercise import ExerciseView
    from tutor.ui.widgets.quiz import QuizView
    from tutor.ui.widgets.runs_table import RunsTable
    from tutor.ui.widgets.training import TrainingView

PANES_CSS_PATH = Path(__file__).with_name("panes.tcss")  # read with the panes (_mount_panes)
PANES = ("pane-lesson", "pane-code", "pane-train", "pane-quiz", "pane-exercise")
_PANES_GROUP = Binding.Group("Panes", compact=True)

# What each pane focuses when switched to by key, so arrows scroll what is on screen.
_PANE_FOCUS = {
    "pane-lesson": "#lesson-scroll",
    "pane-code": "#code-scroll",
    "pane-train": "#training",
    "pane-quiz": "#quiz",
    "pane-exercise": "#exercise-list",
}

# Quitting waits this long for the training thread to stop and store its run. Lessons stop
# within one step of a cancel, so this is only reached by a step that takes seconds.
QUIT_WAIT_SECONDS = 2.0
# Actions that still work while a modal dialog (the reset confirmation) is open.
_MODAL_SAFE_ACTIONS = {"quit"}
# The exercise pane's single keys: text while the editor has the focus, so hidden then.
_EXERCISE_LETTER_ACTIONS = {
    "exercise_check",
    "exercise_hint",
    "exercise_solution",
    "exercise_editor",
}
EXERCISE_READ = "exercise-progress"  # the name of the store job reading attempts and hints


@dataclass
class GradedRun:
    """The run a lesson's quiz answers are graded against."""

    result: RunResult
    finished_at: float  # unix time
    run_id: int | None = None  # the stored run's id, once known


@dataclass(frozen=True)
class GradedAnswer:
    lesson_id: str
    question_id: str
    answer: str
    verdict: quiz.Verdict


@dataclass
class StoreOpened:
    """What the app reads from the store at start (on a worker thread)."""

    store: ProgressStore | None
    error: str | None = None
    lang: str | None = None
    last_lesson: str | None = None
    statuses: dict[str, str] = field(default_factory=dict)


@dataclass
class ExerciseState:
    """What the app knows of one lesson's exercises (kept while the learner looks elsewhere)."""

    lesson_id: str
    statuses: dict[str, str] = field(default_factory=dict)  # latest outcome per exercise
    results: dict[str, ExerciseResult] = field(default_factory=dict)  # this session's checks
    hint_levels: dict[str, int] = field(default_factory=dict)  # highest hint level shown
    tried: set[str] = field(default_factory=set)  # a failed/error attempt: solution allowed
    solutions: set[str] = field(default_factory=set)  # solutions shown in this session
    read: bool = False  # the stored attempts and hint levels have been merged in

    def merge_stored(self, stored: ExerciseState) -> None:
        """Add what the store remembers; this session's checks and hints stay newer."""
        for name, status in stored.statuses.items():
            if name not in self.results:
                self.statuses.setdefault(name, status)
        self.tried |= stored.tried
        for name, level in stored.hint_levels.items():
            self.hint_levels[name] = max(level, self.hint_levels.get(name, 0))
        self.read = True


def lesson_markdown(loaded: LoadedLesson, lang: str = "en") -> str:
    """Title, summary and text of a lesson as one Markdown document."""
    lesson = loaded.lesson
    text = lesson.text.get(lang).strip()
    first, _, rest = text.partition("\n")
    if first.startswith("# "):  # most texts open with their own title; show ours once
        text = rest.lstrip("\n")
    exercises = " · **5** exercises" if lesson.exercises else ""
    return (
        f"# {lesson.title.get(lang)}\n\n> {lesson.summary.get(lang)}\n\n{text}\n\n"
        "---\n\n*Keys: **2** code · **3** train (**r** runs, **s** stops) · **4** quiz"
        f"{exercises} · **h** your runs · **ctrl+l** 中文/English*\n"
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


def _remember_lesson(lesson_id: str, store: ProgressStore) -> None:
    store.set_state("last_lesson", lesson_id)


def _record_run(result: RunResult, store: ProgressStore) -> int:
    return store.record_run(result)


def _reset_lesson(lesson_id: str, store: ProgressStore) -> None:
    store.reset(lesson_id)


def _save_language(lang: str, store: ProgressStore) -> None:
    store.set_state("lang", lang)


def _record_answer(
    lesson_id: str, question_id: str, answer: str, status: str, store: ProgressStore
) -> int:
    return store.record_answer(lesson_id, question_id, answer, status)


def _record_attempts(lesson_id: str, results: list[ExerciseResult], store: ProgressStore) -> None:
    for r in results:
        store.record_attempt(lesson_id, r.name, r.status, r.message)


def _save_hint_level(lesson_id: str, name: str, level: int, store: ProgressStore) -> None:
    from tutor.progress import hint_key

    store.set_state(hint_key(lesson_id, name), str(level))


def _read_exercise_progress(
    lesson_id: str, names: list[str], store: ProgressStore
) -> ExerciseState:
    """The latest stored outcome of each exercise, which were failed, the hint levels shown."""
    from tutor.progress import hint_key

    state = ExerciseState(lesson_id)
    for attempt in store.attempts(lesson_id):  # newest first
        state.statuses.setdefault(attempt.exercise, attempt.outcome)
        if attempt.outcome in ("failed", "error"):
            state.tried.add(attempt.exercise)
    for name in names:
        try:
            level = int(store.get_state(hint_key(lesson_id, name)) or 0)
        except ValueError:  # not ours to trust (like `dl-tutor hint`): from the first again
            level = 0
        if level > 0:
            state.hint_levels[name] = level
    return state


class TutorApp(App[None]):
    """dl-tutor's terminal UI. See docs/testing.md for the widget ids and keys tests rely on."""

    CSS_PATH = "app.tcss"
    TITLE = "dl-tutor"
    SUB_TITLE = "deep learning with PyTorch"
    AUTO_FOCUS = "#lesson-list"
    # Screen gets -wide from 140 columns: app.tcss puts the charts side by side then. Narrow
    # is the default (no class): a class added at the first resize would restyle every widget.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(140, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run"),
        Binding("s", "stop", "Stop"),
        Binding("1", "show_pane('pane-lesson')", "Lesson", group=_PANES_GROUP),
        Binding("2", "show_pane('pane-code')", "Code", group=_PANES_GROUP),
        Binding("3", "show_pane('pane-train')", "Train", group=_PANES_GROUP),
        Binding("4", "show_pane('pane-quiz')", "Quiz", group=_PANES_GROUP),
        Binding("5", "show_pane('pane-exercise')", "Exercise", group=_PANES_GROUP),
        Binding("l", "focus_lessons", "Lessons"),
        Binding("b", "toggle_sidebar", "Sidebar"),
        # Shown (and active) only while typing in a field, where the keys above are text.
        Binding("escape", "leave_input", "Leave field"),
        Binding("q", "quit", "Quit"),
        # Priority: an Input binds ctrl+c to copy, but quitting must always work.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        # After Quit: on an 80-column footer these are the ones cut off.
        Binding("h", "focus_runs", "Runs"),
        Binding("o", "clear_overlays", "Clear overlays"),
        Binding("m", "toggle_my_code", "Train my code"),
        Binding("R", "reset_lesson", "Reset"),
        # ctrl+l also works while typing in a field; L is the same, as a plain key.
        Binding("ctrl+l", "toggle_language", "中文/EN"),
        Binding("L", "toggle_language", "中文/EN", show=False),
    ]

    def __init__(
        self,
        lesson_dirs: Sequence[Path] = (),
        *,
        catalog: Catalog | None = None,
        lang: str | None = None,
        device: str = "auto",
        builtin: bool = True,
        store: ProgressStore | None = None,
    ) -> None:
        super().__init__()
        # Without a catalog given, lessons are loaded right after the first screen is painted
        # (see on_mount): until then the catalog is empty and the list shows the cached index.
        self.catalog = catalog if catalog is not None else Catalog()
        self._catalog_given = catalog is not None
        self._lesson_dirs = [Path(d) for d in lesson_dirs]
        self._builtin = builtin
        self._index: LessonIndex | None = None  # what the list shows before the catalog
        self.first_paint_at: float | None = None  # time.perf_counter() at the first paint
        self.startup_done = False  # lessons loaded, store opened, the first lesson shown
        self._gc_frozen = False  # start-up's objects are out of the collector's sight
        self._panes_ready = False  # the panes are mounted (right after the first paint)
        self._wanted: str | Path | None = None  # a lesson or broken file chosen before that
        # An explicit lang wins; without one, the language saved by the last toggle, else en.
        self.lang = lang if lang in LANGUAGES else "en"
        self._lang_given = lang is not None
        self.device = device
        # The progress store. None here: ProgressStore() is opened at mount (it honours
        # DL_TUTOR_DATA_DIR) and closed at unmount; a store passed in is the caller's to close.
        # Still None after mount if it could not be opened: the app works, saving nothing.
        self.store: ProgressStore | None = store
        self._owns_store = store is None
        self._link: StoreLink | None = None
        self.store_error: str | None = None  # why progress is not being saved, if it is not
        # Store jobs (and runs to store) not yet reflected in the UI; the first is start-up.
        self.store_pending = 1
        self.grading = 0  # quiz answers being graded (on worker threads)
        self.current: LoadedLesson | None = None  # the lesson shown in the panes
        self.active_run: ActiveRun | None = None  # the run in progress, whichever lesson is shown
        self.last_result: RunResult | None = None  # the latest finished run of any lesson
        self.last_run_id: int | None = None  # the store id of the latest run stored
        self.torch_ready = False  # a training process is warm (torch imported)
        self._trainer: Trainer | None = None  # made at the first paint (see `trainer`)
        self.device_label = ""  # the device runs use, as the training process describes it
        self._finished: dict[str, tuple[RunResult, events.Progress | None]] = {}
        self._graded: dict[str, GradedRun] = {}  # per lesson: the run the quiz grades against
        self._stored_runs: dict[str, list[StoredRun]] = {}  # per lesson, newest first
        self._seen_seq: dict[tuple[str, str], int] = {}  # (what, lesson id) -> snapshot seq
        self.overlays: dict[int, int] = {}  # run id -> colour: runs overlaid on the charts
        self._last_done: threading.Event | None = None  # the latest run's "ended and stored"
        self._run_ids = 0
        # Exercises (see the "exercises" section).
        self.checking = False  # a check of the learner's file is running (a subprocess)
        self._recheck = False  # saved again while checking: check once more when it ends
        self._exercise_states: dict[str, ExerciseState] = {}
        self._editing: LoadedLesson | None = None  # the lesson whose file the editor holds
        self.my_code: set[str] = set()  # lessons that train with the learner's file (m)
        self._restore_signals: Callable[[], None] | None = None
        # Set by the CLI, which owns the process: a signal may then end it by force if
        # shutting down gets stuck. Never in tests, where the process is pytest's.
        self.owns_process = False

    # -- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TitleBar(id="title-bar")
        with Horizontal(id="body"):
            yield LessonList(id="lesson-list")
            # No panes in the first frame: nothing is shown in them before the lessons are
            # loaded anyway. _mount_panes adds them right after it is painted.
        yield StatusLine(id="status")
        yield KeyFooter()

    async def _mount_panes(self) -> None:
        """Add the panes (``#panes``, see :mod:`tutor.ui.widgets.panes`). Start-up awaits this
        before it shows a lesson, so every widget id exists once ``startup_done`` is set."""
        from tutor.ui.widgets.panes import Panes  # not before the first paint (see the imports)

        # Their styles too: only they use panes.tcss, so the first frame need not parse it.
        self.stylesheet.read(PANES_CSS_PATH)
        await self.query_one("#body").mount(Panes(id="panes"))
        self._panes_ready = True

    def _show_pane(self, pane: str) -> None:
        """Bring pane ``pane`` (a ``#pane-*`` id) to the front, once there are panes."""
        if self._panes_ready:
            self._tabs.active = pane

    def _active_pane(self) -> str:
        return self._tabs.active if self._panes_ready else "pane-lesson"

    @property
    def _tabs(self) -> TabbedContent:
        from textual.widgets import TabbedContent

        return self.query_one("#main-tabs", TabbedContent)

    async def on_mount(self) -> None:
        # Closing the terminal (SIGHUP) or `kill` (SIGTERM) ends the app like q does.
        self._restore_signals = shutdown.handle_exit_signals(self._exit_on_signal)
        # Charts are drawn on a thread (plotext is slow pure Python); with Python's default
        # 5 ms switch interval the event loop would wait that long for the GIL. 1 ms keeps
        # keys and timers prompt.
        sys.setswitchinterval(0.001)
        lessons = self.query_one(LessonList)
        lessons.border_title = "Lessons"
        self.status.set_torch_note("loading PyTorch…")
        # Nothing is painted until this returns: list the lessons (from the catalog given,
        # else from the cached index if it is still valid) and load the rest after the paint.
        if self._catalog_given:
            self._index = LessonIndex.from_catalog(self.catalog)
        else:
            self._index = read_index(self._lesson_dirs, builtin=self._builtin)
        if self._index is not None:
            lessons.show_catalog(self._index, self.lang)
        self.say("Loading lessons…")
        self.call_after_refresh(self._first_paint)

    def _first_paint(self) -> None:
        """The first screen is painted: add the panes, load lessons and open the store;
        meanwhile a spare training process imports PyTorch (another process: it slows
        neither)."""
        self.first_paint_at = time.perf_counter()
        from tutor.training.process import Trainer  # not before the first paint (see the imports)

        self._trainer = Trainer(self.device)
        self.run_worker(self._start_up(), group="startup")
        self._preload_torch()

    async def _start_up(self) -> None:
        """Load the catalog and open the store (a worker thread), then show the lesson
        opened last (store state ``last_lesson``) or the first, unless one was chosen."""
        worker = self.run_worker(
            self._start_up_work, thread=True, group="store", name="open", exit_on_error=False
        )
        await self._mount_panes()  # while the lessons load on that thread
        try:
            catalog, opened = await worker.wait()
        except Exception as e:  # a bug in loading or the store must not keep the app down
            catalog, opened = self.catalog, StoreOpened(None, f"{type(e).__name__}: {e}")
        self.catalog = catalog
        self.store, self.store_error = opened.store, opened.error
        if self.store is not None:
            from tutor.ui.bridge import StoreLink

            self._link = StoreLink(self.store, self.catalog)
        if not self._lang_given and opened.lang in LANGUAGES:
            self.lang = opened.lang
        lessons = self.query_one(LessonList)
        lessons.show_catalog(self.catalog, self.lang)
        lessons.set_statuses(opened.statuses)
        wanted, self._wanted = self._wanted, None
        broken = [p for p in self.catalog.problems if p.file == wanted]
        if broken:
            await self._show_broken(broken[0].file, broken)
        elif self.catalog.lessons:
            wanted = wanted if isinstance(wanted, str) else opened.last_lesson
            first = (self.catalog.get(wanted) if wanted else None) or self.catalog.lessons[0]
            await self.open_lesson(first)
            lessons.highlighted = self.catalog.lessons.index(first)
        else:
            await self._show_nothing("No lessons found.")
        if self.catalog.problems:
            n = len(self.catalog.broken_files)
            self.say(
                f"{n} lesson file{'s' if n > 1 else ''} could not be loaded (✗ in the list)",
                "warning",
            )
        if self.store is not None and self.store.recovered_message:
            self.say(self.store.recovered_message, "warning")
        elif opened.error:
            self.status.set_store_note(f"Progress not saved: {opened.error}")
        # What exists now (Textual, the widgets, the catalog) lives as long as the app. Out of
        # the garbage collector's sight, its full collections scan only what came after: the
        # event loop stalled 66-100 ms for one instead of 177-203 ms (bench/perf.md).
        # The young generations first, so little of the start-up's garbage is kept for good.
        gc.collect(1)
        gc.freeze()
        self._gc_frozen = True
        self.startup_done = True
        self.store_pending = max(0, self.store_pending - 1)

    def _start_up_work(self) -> tuple[Catalog, StoreOpened]:
        """Worker thread: load the lessons (unless given), then open the store (unless
        given) and read the start-up state."""
        import sqlite3

        from tutor.progress import ProgressError, ProgressStore
        from tutor.ui.bridge import StoreLink

        catalog = self.catalog
        if not self._catalog_given:
            catalog = load_catalog_indexed(self._lesson_dirs, builtin=self._builtin)
        store = self.store
        try:
            if store is None:
                store = ProgressStore()
            link = StoreLink(store, catalog)
            opened = StoreOpened(
                store,
                lang=store.get_state("lang"),
                last_lesson=store.get_state("last_lesson"),
                statuses=link.all_statuses(),
            )
        except (ProgressError, OSError, sqlite3.Error) as e:
            if store is not None and self._owns_store:
                store.close()
            opened = StoreOpened(None, f"{type(e).__name__}: {e}")
        return catalog, opened

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    @property
    def trainer(self) -> Trainer:
        """Trains lessons in child processes, one spare kept warm (made at the first paint)."""
        assert self._trainer is not None, "no trainer before the first paint"
        return self._trainer

    # The panes' widgets: their modules are imported by _mount_panes (after the first paint).
    @property
    def training(self) -> TrainingView:
        from tutor.ui.widgets.training import TrainingView

        return self.query_one("#training", TrainingView)

    @property
    def quiz_view(self) -> QuizView:
        from tutor.ui.widgets.quiz import QuizView

        return self.query_one("#quiz", QuizView)

    @property
    def exercise_view(self) -> ExerciseView:
        from tutor.ui.widgets.exercise import ExerciseView

        return self.query_one("#exercise", ExerciseView)

    def say(self, message: str, level: str = "info") -> None:
        """Put a message in the status line (levels: info, ok, warning, error)."""
        self.status.say(message, level)

    # -- PyTorch preload --------------------------------------------------------------

    @work(thread=True, group="preload", exit_on_error=False)
    def _preload_torch(self) -> Ready:
        """Start the spare training process and wait until it has imported torch."""
        ready = self.trainer.wait_ready()
        if ready is None:
            raise RuntimeError(self.trainer.spare_failure())
        return ready

    def show_device(self, label: str) -> None:
        """The header names the device runs use (a GPU with its memory in use)."""
        self.device_label = label
        self.title = f"{self.TITLE} · {label}"

    # -- lessons ----------------------------------------------------------------------

    async def open_lesson(self, loaded: LoadedLesson) -> None:
        """Show ``loaded`` in every pane (its live run or its last run, if any)."""
        if self.current is None or self.current.id != loaded.id:
            self.overlays = {}  # overlays are runs of the lesson shown
        self.current = loaded
        await self._show_lesson(loaded)
        if self.active_run is None or self.active_run.lesson_id != loaded.id:
            self.say(f"Opened {lesson_label(loaded, self.lang)}: 3 to train, r to run.")
        # Remember it (the app reopens here) and fetch its run history for the runs table.
        lesson_id = loaded.id
        self._store_job(
            partial(_remember_lesson, lesson_id), status_of=(lesson_id,), runs_of=lesson_id
        )

    async def _show_lesson(
        self, loaded: LoadedLesson, values: dict[str, Any] | None = None
    ) -> None:
        """Fill every pane for ``loaded`` in the current language; ``values``: the form's
        text to keep (a language switch), else the params of its live or last run."""
        from tutor.ui.widgets.code_view import CodeView
        from tutor.ui.widgets.lesson_text import LessonText

        self.sub_title = lesson_label(loaded, self.lang)
        await self.query_one("#lesson-text", LessonText).update(lesson_markdown(loaded, self.lang))
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
        if values is None:
            values = run.params if run else finished[0].params if finished else None
        await self.training.show_lesson(loaded.lesson, values, self.lang)
        if run is not None:
            self._replay(run)
        elif finished is not None:
            self.training.show_result(*finished)
        self._show_runs(loaded.id)
        await self.quiz_view.show_lesson(loaded.lesson, self.lang)
        self._show_quiz_run(loaded.id)
        self._show_exercises(loaded)

    async def _show_nothing(self, markdown: str, code_path: str = "") -> None:
        from tutor.ui.widgets.code_view import CodeView
        from tutor.ui.widgets.lesson_text import LessonText

        self.current = None
        self.sub_title = ""
        await self.query_one("#lesson-text", LessonText).update(markdown)
        self.query_one("#code-path", Static).update(code_path)
        self.query_one("#lesson-code", CodeView).show_code("")
        await self.training.show_lesson(None)
        await self.quiz_view.show_lesson(None)
        self._save_editor()
        self._editing = None
        self.exercise_view.show_lesson([], note="Open a lesson from the list.")
        self.training.show_code_source(None)

    def _replay(self, run: ActiveRun) -> None:
        """Rebuild the training view of a run still going (the learner looked elsewhere)."""
        from tutor.ui.bridge import RunUpdate

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
        from tutor.ui.widgets.runs_table import format_when

        graded = self._graded.get(lesson_id)
        if graded is None:
            self.quiz_view.show_run(None)
            return
        result = graded.result
        number = f"#{graded.run_id}; " if graded.run_id is not None else ""
        summary = (
            f"Answers are graded against your run of {format_when(graded.finished_at)} "
            f"({number}{params_text(result.params)}; {result.seconds:.1f} s on {result.device})."
        )
        self.quiz_view.show_run(summary, result.checks)

    # -- run history ------------------------------------------------------------------

    def _show_runs(self, lesson_id: str) -> None:
        """The runs table and the overlays of the lesson shown, from the last snapshot."""
        if self.current is None or self.current.id != lesson_id:
            return
        runs = self._stored_runs.get(lesson_id)
        if self.store is None:
            reason = self.store_error or "no progress store"
            self.training.show_runs(None, note=f"runs: not saved ({reason})")
        elif runs is None:
            self.training.show_runs(None, note="runs: loading…")
        else:
            known = {r.id for r in runs}
            self.overlays = {k: v for k, v in self.overlays.items() if k in known}
            self.training.show_runs(runs, self.overlays)
        self._draw_overlays()

    def _draw_overlays(self) -> None:
        from tutor.ui.widgets.runs_table import run_label

        if self.current is None:
            return
        runs = {r.id: r for r in self._stored_runs.get(self.current.id, [])}
        defaults = self.current.lesson.defaults()
        self.training.set_overlays(
            [
                (run_label(runs[run_id], defaults), colour, runs[run_id].history)
                for run_id, colour in self.overlays.items()
                if run_id in runs
            ]
        )
        self.training.mark_overlays(self.overlays)
        self.refresh_bindings()  # "o" is in the footer only while something is overlaid

    def toggle_overlay(self, run_id: int) -> None:
        """Overlay a stored run of the open lesson on the charts, or remove it."""
        from tutor.ui.widgets.chart import OVERLAY_PALETTE

        if run_id in self.overlays:
            del self.overlays[run_id]
        else:
            used = set(self.overlays.values())
            free = [c for c in OVERLAY_PALETTE if c not in used]
            fallback = OVERLAY_PALETTE[len(self.overlays) % len(OVERLAY_PALETTE)]
            self.overlays[run_id] = free[0] if free else fallback
        self._draw_overlays()
        n = len(self.overlays)
        self.say(
            f"{n} run{'s' if n != 1 else ''} overlaid on the charts (o clears)"
            if n
            else "No runs overlaid."
        )

    # The panes' messages are handled by name (on_<widget>_<message>) rather than with @on,
    # which would need their widget modules imported with this one, before the first paint.
    def on_runs_table_overlay_toggled(self, message: RunsTable.OverlayToggled) -> None:
        self.toggle_overlay(message.run_id)

    @on(LessonList.LessonChosen)
    async def _lesson_chosen(self, message: LessonList.LessonChosen) -> None:
        loaded = self.catalog.get(message.lesson_id)
        # Listed from the index, not loaded yet (or a catalog given, chosen in the moment
        # before the panes are mounted): start-up opens it.
        if loaded is None or not self._panes_ready:
            self._wanted = message.lesson_id
            self.say("Loading lessons…")
            return
        await self.open_lesson(loaded)
        self._show_pane("pane-lesson")

    @on(LessonList.BrokenFileChosen)
    async def _broken_chosen(self, message: LessonList.BrokenFileChosen) -> None:
        if not self.startup_done:
            self._wanted = message.file  # shown again from the loaded catalog
            if not self._panes_ready:  # start-up shows it, once they are mounted
                self.say("Loading lessons…")
                return
        await self._show_broken(message.file, message.problems)

    async def _show_broken(self, file: Path, problems: Sequence[Problem]) -> None:
        await self._show_nothing(problems_markdown(file, problems), str(file))
        self._show_pane("pane-lesson")
        n = len(problems)
        first = problems[0] if problems else ""
        self.say(f"{n} problem{'s' if n != 1 else ''} in {file.name}: {first}", "error")

    # -- running ----------------------------------------------------------------------

    def start_run(self) -> None:
        """Validate the form and start training the open lesson in a thread worker.

        Raises :class:`RunRefused` when a run is going and ``ValueError`` for bad input;
        :meth:`action_run` turns both into a status message.
        """
        from tutor.training.runner import RunRefused, resolve_params
        from tutor.ui.bridge import ActiveRun, RunBridge

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
            self._show_pane("pane-train")
            self.query_one(f"#param-{name}").focus()
            raise ValueError(message)
        params = resolve_params(loaded, self.training.param_values())
        code_path = self._run_code_path(loaded)  # the learner's file while `m` is on
        self._run_ids += 1
        bridge = RunBridge(self.training, self._run_ids, loaded.id)
        run = ActiveRun(loaded, bridge, threading.Event(), params, code_path=code_path)
        self.active_run = run
        self._last_done = run.done
        self.store_pending += 1  # the training worker stores the run when it ends
        self._train(run)
        # The screen follows once the worker has handed the run to the training process:
        # restyling the Train pane takes the event loop ~0.1-0.3 s, and the run need not
        # wait for it. (Its messages come after this: the app handles them in order.)
        self.call_later(self._show_run_started, run)

    def _show_run_started(self, run: ActiveRun) -> None:
        loaded = run.loaded
        self.training.begin_run(run.params)
        self.query_one(LessonList).mark_running(loaded.id)
        self._show_pane("pane-train")
        self.training.focus()  # so arrows/PageDown scroll the curves and s stops at once
        mine = " with your code" if run.code_path else ""
        self.say(f"Running {lesson_label(loaded, self.lang)}{mine}… (s stops)")

    # Not exclusive: one run at a time is enforced by active_run, and `exclusive` would
    # cancel the previous worker while it may still be storing its run.
    @work(thread=True, group="training", exit_on_error=False)
    def _train(self, run: ActiveRun) -> tuple[RunResult, StoreSnapshot | None]:
        try:
            # In a child process with torch's own thread count: it trains as fast as a
            # plain script, and this thread only relays its events (bench/perf.md).
            result = self.trainer.run(
                run.loaded,
                run.params,
                sink=run.bridge,
                cancel=run.cancel,
                device=self.device,
                code_path=run.code_path,
                lang=self.lang,
            )
            self.trainer.warm()  # the next run's process imports torch in the meantime
            # Every finished run is stored, whatever its status, here on the worker thread.
            link = self._link
            snapshot = None
            if link is not None:
                snapshot = link.job(
                    partial(_record_run, result),
                    status_of=(result.lesson_id,),
                    runs_of=result.lesson_id,
                )
            return result, snapshot
        finally:
            run.done.set()

    def _live(self, bridge: RunBridge) -> ActiveRun | None:
        """The active run if ``bridge`` is its sink, else None: messages of an ended run,
        or arriving while the app shuts down (its widgets already gone), are ignored."""
        run = self.active_run
        if not self.is_running or run is None or run.bridge is not bridge:
            return None
        return run

    def _showing(self, run: ActiveRun) -> bool:
        return self.current is not None and self.current.id == run.lesson_id

    def on_training_view_run_requested(self) -> None:
        self.action_run()

    def on_training_view_stop_requested(self) -> None:
        self.action_stop()

    def on_training_view_run_started(self, message: TrainingView.RunStarted) -> None:
        run = self._live(message.bridge)
        if run is None:
            return
        run.started = message.info
        if self._showing(run):
            self.training.show_started(message.info)

    def on_training_view_dataset_chosen(self, message: TrainingView.DatasetChosen) -> None:
        run = self._live(message.bridge)
        if run is None:
            return
        run.dataset = (message.dataset, message.note)
        if self._showing(run):
            self.training.show_dataset(message.dataset, message.note)

    def on_training_view_run_progressed(self, message: TrainingView.RunProgressed) -> None:
        update = message.bridge.drain()
        run = self._live(message.bridge)
        if run is None or not update:
            return
        run.absorb(update)
        if update.progress is not None and update.progress.device_info:
            self.show_device(update.progress.device_info)  # a GPU's memory in use
        if self._showing(run):
            self.training.apply_update(update)

    def on_training_view_run_finished(self, message: TrainingView.RunFinished) -> None:
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
            self._graded[result.lesson_id] = GradedRun(result, time.time())
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
        more = "traceback" if (result.error or "").startswith("Traceback") else "details"
        return f"Failed: {last[0]} ({more} in the run log)", "error"

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place for workers ending: PyTorch preloaded, a run or store job done
        (its snapshot shown), or a worker crashed."""
        worker, state = event.worker, event.state
        ended = state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)
        if worker.group in ("store", "training") and worker.name != "open" and ended:
            from tutor.ui.bridge import StoreSnapshot

            self.store_pending = max(0, self.store_pending - 1)
            snapshot = worker.result if state == WorkerState.SUCCESS else None
            if worker.group == "training" and snapshot is not None:
                result, snapshot = snapshot
                self._stored(result, snapshot)
            if isinstance(snapshot, StoreSnapshot) and self.is_running:
                self._apply_snapshot(snapshot)
                if worker.name == EXERCISE_READ:
                    self._exercise_progress_read(snapshot.written)
        if worker.group == "exercise" and ended:
            self._exercise_checked(worker)
        if worker.group == "grading" and ended:
            self.grading -= 1
            if state == WorkerState.SUCCESS and self.is_running:
                self._answer_graded(worker.result)
            elif state == WorkerState.ERROR:
                self.say(f"Could not grade the answer: {worker.error}", "error")
        if worker.group == "preload" and state in (WorkerState.SUCCESS, WorkerState.ERROR):
            from tutor.training.process import Ready

            self.torch_ready = state == WorkerState.SUCCESS
            if isinstance(worker.result, Ready):
                self.show_device(worker.result.device)
            # Quitting while torch loads: the import ends after the widgets are gone.
            with contextlib.suppress(NoMatches):
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

    # -- the progress store ------------------------------------------------------------

    def _store_job(
        self,
        write: Callable[[ProgressStore], Any] | None = None,
        *,
        status_of: Sequence[str] = (),
        runs_of: str | None = None,
        name: str = "",
    ) -> None:
        """Run ``write`` and the reads that reflect it on a worker thread (see StoreLink)."""
        link = self._link
        if link is None:
            return
        self.store_pending += 1
        self.run_worker(
            partial(link.job, write, status_of=status_of, runs_of=runs_of),
            thread=True,
            group="store",
            name=name,
            exit_on_error=False,
        )

    def _apply_snapshot(self, snapshot: StoreSnapshot) -> None:
        """Show what a store job read: status marks, run history, the quiz's stored run.

        Per lesson, a read older than the one already shown is dropped: jobs run in order,
        but their results can arrive out of order.
        """
        # A failing store stays visible (the next message must not hide it) until a store
        # job succeeds again.
        self.status.set_store_note(
            f"Progress not saved: {snapshot.error}" if snapshot.error else ""
        )
        fresh = {
            lesson_id: status
            for lesson_id, status in snapshot.statuses.items()
            if self._newer(snapshot.seq, "status", lesson_id)
        }
        self.query_one(LessonList).set_statuses(fresh)
        for lesson_id, runs in snapshot.runs.items():
            if not self._newer(snapshot.seq, "runs", lesson_id):
                continue
            self._stored_runs[lesson_id] = runs
            self._adopt_stored_run(lesson_id, runs)
            self._show_runs(lesson_id)

    def _newer(self, seq: int, what: str, lesson_id: str) -> bool:
        if seq <= self._seen_seq.get((what, lesson_id), 0):
            return False
        self._seen_seq[what, lesson_id] = seq
        return True

    def _adopt_stored_run(self, lesson_id: str, runs: list[StoredRun]) -> None:
        """After a restart the quiz grades against the latest *stored* completed run.

        A run finished in this session is kept (it has every record, even those too big
        to store); it only learns its stored id here.
        """
        latest = next((r for r in runs if r.status == "completed"), None)
        if latest is None or lesson_id in self._graded:
            return
        self._graded[lesson_id] = GradedRun(latest.to_result(), latest.finished_at, latest.id)
        if self.current is not None and self.current.id == lesson_id:
            self._show_quiz_run(lesson_id)

    def _stored(self, result: RunResult, snapshot: StoreSnapshot | None) -> None:
        """The training worker stored ``result`` (``snapshot.written``: its id)."""
        if snapshot is None or not isinstance(snapshot.written, int):
            return
        self.last_run_id = snapshot.written
        graded = self._graded.get(result.lesson_id)
        if graded is not None and graded.result is result:
            graded.run_id = snapshot.written
            if self.current is not None and self.current.id == result.lesson_id:
                self._show_quiz_run(result.lesson_id)

    # -- quiz -------------------------------------------------------------------------

    def completed_run(self, lesson_id: str) -> RunResult | None:
        """The run quiz answers are graded against: the lesson's latest completed run, from
        this session or, after a restart, from the store."""
        graded = self._graded.get(lesson_id)
        return graded.result if graded is not None else None

    def on_quiz_view_answer_submitted(self, message: QuizView.AnswerSubmitted) -> None:
        if self.current is None:
            return
        lesson_id = self.current.id
        self.grading += 1
        self._grade(
            lesson_id, message.question, message.answer, self.completed_run(lesson_id), self.lang
        )

    @work(thread=True, group="grading", exit_on_error=False)
    def _grade(
        self,
        lesson_id: str,
        question: Question,
        answer: str,
        result: RunResult | None,
        lang: str,
    ) -> GradedAnswer:
        """Off the UI thread: grading evaluates expressions over the run's values, with numpy
        for tensors (its first import alone takes ~0.1 s)."""
        from tutor import quiz

        values = quiz.run_values(result) if result is not None else None
        return GradedAnswer(
            lesson_id, question.id, answer, quiz.grade(question, answer, values, lang)
        )

    def _answer_graded(self, graded: GradedAnswer) -> None:
        if self.current is not None and self.current.id == graded.lesson_id:
            self.quiz_view.show_verdict(graded.question_id, graded.verdict)
        # Only graded answers count: "invalid" (unparsable) and "needs-run" are not answers.
        if graded.verdict.status in ("correct", "wrong"):
            self._store_job(
                partial(
                    _record_answer,
                    graded.lesson_id,
                    graded.question_id,
                    graded.answer,
                    graded.verdict.status,
                ),
                status_of=(graded.lesson_id,),
            )

    # -- exercises --------------------------------------------------------------------
    # The Exercise pane edits the learner's copy (tutor.exercises.workspace_file); checking
    # runs check_exercises (a subprocess importing torch: seconds) on a worker thread, and
    # attempts and hint levels go to the store like `dl-tutor check` / `dl-tutor hint`.

    def _exercise_state(self, lesson_id: str) -> ExerciseState:
        return self._exercise_states.setdefault(lesson_id, ExerciseState(lesson_id))

    def _show_exercises(self, loaded: LoadedLesson) -> None:
        """Fill the Exercise pane (and the Train pane's code line) for ``loaded``."""
        from tutor import exercises as exercise_code

        view = self.exercise_view
        if not loaded.lesson.exercises:
            self._save_editor()
            self._editing = None
            others = [
                lesson_label(x, self.lang) for x in self.catalog.lessons if x.lesson.exercises
            ]
            note = "This lesson has no exercises." + (
                f" These have: {', '.join(others)}." if others else ""
            )
            view.show_lesson([], self.lang, note=note)
            self.training.show_code_source(None)
            return
        same = self._editing is not None and self._editing.id == loaded.id
        if not same:
            self._save_editor()  # edits to the previous lesson's file are kept
        try:
            path = exercise_code.ensure_workspace(loaded)
            # Keep unsaved edits (a language switch); else the file, which the CLI may have changed.
            text = None if same and view.modified else path.read_text(encoding="utf-8")
        except (OSError, ValueError) as e:
            self._editing = None
            view.show_lesson([], self.lang, note=f"Cannot open your exercise file: {e}")
            self.training.show_code_source(None)
            return
        self._editing = loaded
        view.show_lesson(loaded.lesson.exercises, self.lang, path, text)
        self._show_exercise_state(loaded.id)
        self._show_code_source(loaded)
        state = self._exercise_state(loaded.id)
        if not state.read:
            names = [e.name for e in loaded.lesson.exercises]
            self._store_job(partial(_read_exercise_progress, loaded.id, names), name=EXERCISE_READ)

    def _show_exercise_state(self, lesson_id: str) -> None:
        from tutor import exercises as exercise_code

        loaded = self._editing
        if loaded is None or loaded.id != lesson_id:
            return
        state = self._exercise_state(lesson_id)
        hints: dict[str, list[str]] = {}
        solutions: dict[str, str] = {}
        for exercise in loaded.lesson.exercises:
            level = state.hint_levels.get(exercise.name, 0)
            hints[exercise.name] = [h.get(self.lang) for h in exercise.hints[:level]]
            if exercise.name in state.solutions:
                solutions[exercise.name] = exercise_code.solution(loaded, exercise.name)
        self.exercise_view.set_state(state.statuses, state.results, hints, solutions)

    def _exercise_progress_read(self, stored: object) -> None:
        """The store's attempts and hint levels for a lesson (EXERCISE_READ job)."""
        if not isinstance(stored, ExerciseState):
            return  # the store failed; the status line says so
        self._exercise_state(stored.lesson_id).merge_stored(stored)
        self._show_exercise_state(stored.lesson_id)

    def _show_code_source(self, loaded: LoadedLesson) -> None:
        from tutor import exercises as exercise_code

        if loaded.id in self.my_code:
            path = exercise_code.workspace_file(loaded)
            short = f"…/{path.parent.parent.name}/{path.parent.name}/{path.name}"
            self.training.show_code_source(f"code: yours ({short}) · m: the lesson's")
        else:
            self.training.show_code_source("code: the lesson's · m: train with yours")

    def _run_code_path(self, loaded: LoadedLesson) -> Path | None:
        """The file a run of ``loaded`` trains with: the learner's while `m` is on."""
        from tutor import exercises as exercise_code

        if loaded.id not in self.my_code:
            return None
        if self._editing is not None and self._editing.id == loaded.id:
            self._save_editor()
        try:
            return exercise_code.ensure_workspace(loaded)
        except OSError as e:
            raise ValueError(f"cannot use your code: {e}") from e

    def _save_editor(self) -> bool:
        """Write the editor's text to the learner's file if it changed; False on failure."""
        loaded = self._editing
        if loaded is None:  # also before the panes are mounted (quitting at once)
            return True
        view = self.exercise_view
        if not view.modified:
            return True
        from tutor import exercises as exercise_code

        text = view.code
        try:
            exercise_code.save_workspace(loaded, text)
        except OSError as e:
            self.say(f"Not saved: {e}", "error")
            return False
        view.mark_saved(text)
        return True

    def _exercise_selected(self) -> tuple[LoadedLesson, str] | None:
        loaded = self._editing
        name = self.exercise_view.selected
        if loaded is None or name is None:
            self.say("This lesson has no exercises.")
            return None
        return loaded, name

    def action_exercise_save(self) -> None:
        """ctrl+s: save the editor to your file, then check it."""
        if self._editing is None:
            return
        if self._save_editor():
            self.action_exercise_check()

    def action_exercise_check(self) -> None:
        loaded = self._editing
        if loaded is None:
            self.say("This lesson has no exercises.")
            return
        if not self._save_editor():
            return
        if self.checking:
            self._recheck = True  # the running check may have read the file before the save
            self.say("Saved; checking again once the running check ends…")
            return
        self.checking = True
        self.exercise_view.set_checking(True)
        self.say(f"Checking your {loaded.code_path.name}… (a few seconds)")
        self._check_work(loaded)

    @work(thread=True, group="exercise", exit_on_error=False)
    def _check_work(self, loaded: LoadedLesson) -> tuple[LoadedLesson, list[ExerciseResult]]:
        from tutor import exercises as exercise_code

        return loaded, exercise_code.check_exercises(loaded)

    def _exercise_checked(self, worker: Worker[Any]) -> None:
        """A check ended: remember and record its results, show them, say how it went."""
        from tutor.progress import ATTEMPT_OUTCOMES

        self.checking = False
        if not self.is_running:
            return
        self.exercise_view.set_checking(False)
        if worker.state != WorkerState.SUCCESS:
            if worker.state == WorkerState.ERROR:
                self.say(f"The check stopped with an internal error: {worker.error}", "error")
            return
        loaded, results = worker.result
        state = self._exercise_state(loaded.id)
        for r in results:
            state.results[r.name] = r
            state.statuses[r.name] = r.status
            if r.status in ("failed", "error"):
                state.tried.add(r.name)
        # "not-attempted" is not an attempt: the TODO is still there.
        attempts = [r for r in results if r.status in ATTEMPT_OUTCOMES]
        if attempts:
            self._store_job(partial(_record_attempts, loaded.id, attempts), status_of=(loaded.id,))
        self._show_exercise_state(loaded.id)
        if self._editing is not None and self._editing.id == loaded.id:
            self.exercise_view.reveal("result")
        self.say(*self._check_outcome(results))
        if self._recheck:
            self._recheck = False
            self.action_exercise_check()

    def _check_outcome(self, results: list[ExerciseResult]) -> tuple[str, str]:
        passed = sum(r.passed for r in results)
        summary = f"Checked: {passed}/{len(results)} exercises passed"
        wrong = next((r for r in results if r.status in ("failed", "error")), None)
        if wrong is not None:
            where = f" (line {wrong.line})" if wrong.line else ""
            first = (wrong.message.splitlines() or [""])[0]
            return f"{summary} · ✗ {wrong.name}{where}: {first}", "error"
        if passed == len(results):
            return f"{summary}. m trains with your code.", "ok"
        return f"{summary} · replace the TODOs, then c checks again", "warning"

    def action_exercise_hint(self) -> None:
        """h in the Exercise pane: the next hint level of the selected exercise."""
        from tutor import exercises as exercise_code

        chosen = self._exercise_selected()
        if chosen is None:
            return
        loaded, name = chosen
        exercise = exercise_code.find_exercise(loaded, name)
        hints = exercise.hints
        if not hints:
            self.say(f"{name} has no hints: read its task above the editor.")
            return
        state = self._exercise_state(loaded.id)
        shown = state.hint_levels.get(name, 0)
        level = min(shown + 1, len(hints))  # one more each time, then the last one again
        if level > shown:
            state.hint_levels[name] = level
            self._store_job(partial(_save_hint_level, loaded.id, name, level))
        self._show_exercise_state(loaded.id)
        self.exercise_view.reveal("hints")
        more = f"h again for hint {level + 1}" if level < len(hints) else "that was the last one"
        self.say(f"Hint {level}/{len(hints)} for {name} ({more})")

    def action_exercise_solution(self) -> None:
        """S: the lesson's code for the selected exercise, after a failed attempt at it."""
        chosen = self._exercise_selected()
        if chosen is None:
            return
        loaded, name = chosen
        state = self._exercise_state(loaded.id)
        if name not in state.tried:
            self.say(
                f"Refused: the solution to {name} opens after a failed attempt: write it, "
                "then c checks it (h gives a hint).",
                "warning",
            )
            return
        state.solutions.add(name)
        self._show_exercise_state(loaded.id)
        self.exercise_view.reveal("solution")
        self.say(f"The lesson's {name} is shown below your hints.")

    def action_exercise_reset(self) -> None:
        """ctrl+r: put the starter back (asks first; the old file is kept as .bak)."""
        from tutor import exercises as exercise_code
        from tutor.ui.widgets.confirm import ConfirmScreen

        loaded = self._editing
        if loaded is None:
            self.say("This lesson has no exercises.")
            return
        path = exercise_code.workspace_file(loaded)
        self.push_screen(
            ConfirmScreen(
                f"Reset your code for {lesson_label(loaded, self.lang)} to the starter?",
                f"Your file is kept as {path.name}.bak (replacing an older .bak). "
                "Your attempts and hints stay recorded.",
                yes="Reset",
            ),
            partial(self._exercise_reset_answered, loaded),
        )

    def _exercise_reset_answered(self, loaded: LoadedLesson, yes: bool | None) -> None:
        from tutor import exercises as exercise_code

        if not yes:
            self.say("Reset cancelled: your code is unchanged.")
            return
        if self._editing is not None and self._editing.id == loaded.id:
            self._save_editor()  # so unsaved edits end up in the .bak, not lost
        try:
            path = exercise_code.reset_workspace(loaded)
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            self.say(f"Not reset: {e}", "error")
            return
        state = self._exercise_state(loaded.id)
        state.results.clear()
        state.statuses = {e.name: "not-attempted" for e in loaded.lesson.exercises}
        if self._editing is not None and self._editing.id == loaded.id:
            self.exercise_view.load_code(text)
            self._show_exercise_state(loaded.id)
        backup = path.with_name(path.name + ".bak")
        kept = f" (your previous file is {backup.name})" if backup.exists() else ""
        self.say(f"Reset {path.name} to the starter{kept}.", "ok")

    def action_exercise_editor(self) -> None:
        """e: edit your file in $VISUAL / $EDITOR; the app resumes, reloads it and checks."""
        from tutor import exercises as exercise_code

        loaded = self._editing
        if loaded is None:
            self.say("This lesson has no exercises.")
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            self.say("Set $VISUAL or $EDITOR to edit in your editor (or edit here).", "warning")
            return
        if not self._save_editor():
            return
        path = exercise_code.ensure_workspace(loaded)
        command = [*shlex.split(editor), str(path)]
        try:
            try:
                with self.suspend():
                    code = subprocess.run(command).returncode
            except SuspendNotSupported:
                # No terminal to hand over (the headless test driver, Textual Web): the editor
                # runs without one, e.g. a script that edits the file.
                code = subprocess.run(command, stdin=subprocess.DEVNULL).returncode
        except OSError as e:
            self.say(f"Could not start {editor}: {e}", "error")
            return
        try:
            self.exercise_view.load_code(path.read_text(encoding="utf-8"))
        except OSError as e:
            self.say(f"Cannot read {path}: {e}", "error")
            return
        if code != 0:
            self.say(f"{editor} exited with status {code}; checking your file anyway", "warning")
        self.action_exercise_check()

    def action_toggle_my_code(self) -> None:
        """m: train the open lesson with your exercise file, or with the lesson's own code."""
        loaded = self.current
        if loaded is None or not loaded.lesson.exercises:
            self.say("This lesson has no exercises: it trains with its own code.")
            return
        if loaded.id in self.my_code:
            self.my_code.discard(loaded.id)
            self.say("Training uses the lesson's code (m: yours).")
        else:
            self.my_code.add(loaded.id)
            self.say("Training uses your code: r runs it (m: the lesson's).", "ok")
        self._show_code_source(loaded)

    # -- actions ----------------------------------------------------------------------

    def action_run(self) -> None:
        from tutor.training.runner import RunRefused

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
        self._show_pane(pane)
        self._focus_pane(pane)

    def _focus_pane(self, pane: str) -> None:
        """Focus what the pane scrolls. Nothing to focus in the moment after the first paint,
        before the panes are mounted (_mount_panes)."""
        if self._panes_ready:
            self.query_one(_PANE_FOCUS.get(pane, "#training")).focus()

    def action_focus_lessons(self) -> None:
        lessons = self.query_one(LessonList)
        lessons.display = True
        lessons.focus()

    def action_toggle_sidebar(self) -> None:
        lessons = self.query_one(LessonList)
        lessons.display = not lessons.display
        if not lessons.display:
            self._focus_pane(self._active_pane())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A dialog is answered first: the app's keys (r, R, 1-4, …) wait; quitting works.
        if isinstance(self.screen, ModalScreen) and action not in _MODAL_SAFE_ACTIONS:
            return False
        # Escape means "leave the field": offered (and in the footer) only while typing.
        if action == "leave_input":
            return isinstance(self.focused, Input) or self._in_editor()
        if action in _EXERCISE_LETTER_ACTIONS and self._in_editor():
            return False
        if action.startswith("exercise_") and self._editing is None:  # no exercises here
            return False
        if action == "toggle_my_code":  # only lessons with exercises have "your code"
            return self.current is not None and bool(self.current.lesson.exercises)
        if action == "clear_overlays":  # in the footer only while something is overlaid
            return bool(self.overlays)
        return True

    def _in_editor(self) -> bool:
        """The exercise editor (a TextArea) has the focus: letter keys are text there."""
        if not self._panes_ready:  # it comes with the panes, and TextArea's module with it
            return False
        from textual.widgets import TextArea

        return isinstance(self.focused, TextArea)

    def action_leave_input(self) -> None:
        """Escape from an input to its pane, where the single-key bindings work again."""
        self._focus_pane(self._active_pane())

    def action_focus_runs(self) -> None:
        """Show the Train pane with the runs table focused (arrows, enter/space)."""
        self._show_pane("pane-train")
        if not self._panes_ready:  # no table yet (nor a lesson whose runs it would list)
            return
        from tutor.ui.widgets.runs_table import RunsTable

        table = self.query_one("#runs-table", RunsTable)
        if not table.display:
            self.training.focus()
            self.say("No stored runs of this lesson yet: r runs it.")
            return
        table.focus()
        self.call_after_refresh(self.training.scroll_to_widget, table, animate=False)

    def action_clear_overlays(self) -> None:
        self.overlays = {}
        self._draw_overlays()
        self.say("No runs overlaid.")

    def action_reset_lesson(self) -> None:
        """Ask, then forget the open lesson's runs and answers (ProgressStore.reset)."""
        from tutor.ui.widgets.confirm import ConfirmScreen

        loaded = self.current
        if loaded is None:
            self.say("Open a lesson first (l focuses the list).")
            return
        if self.store is None:
            self.say(f"Nothing to reset: progress is not being saved ({self.store_error}).")
            return
        if self.active_run is not None and self.active_run.lesson_id == loaded.id:
            self.say("Refused: the lesson is running: press s to stop it first.", "warning")
            return
        title = lesson_label(loaded, self.lang)
        self.push_screen(
            ConfirmScreen(
                f"Reset your progress in {title}?",
                "Its stored runs and quiz answers are deleted. This cannot be undone.",
                yes="Reset",
            ),
            partial(self._reset_answered, loaded),
        )

    async def _reset_answered(self, loaded: LoadedLesson, yes: bool | None) -> None:
        if not yes:
            self.say("Reset cancelled: nothing was deleted.")
            return
        lesson_id = loaded.id
        self._graded.pop(lesson_id, None)
        self._finished.pop(lesson_id, None)
        self._exercise_states.pop(lesson_id, None)  # its attempts are deleted too
        self._stored_runs[lesson_id] = []
        self.overlays = {}
        self._store_job(
            partial(_reset_lesson, lesson_id), status_of=(lesson_id,), runs_of=lesson_id
        )
        if self.current is not None and self.current.id == lesson_id:
            await self._show_lesson(loaded)
        from tutor.ui.widgets.runs_table import RunsTable

        if isinstance(self.focused, RunsTable):  # now empty and hidden
            self.training.focus()
        self.say(f"Reset {lesson_label(loaded, self.lang)}: its runs and answers are gone.", "ok")

    async def action_toggle_language(self) -> None:
        """en ↔ zh for everything that comes from lessons; saved for the next start."""
        self.lang = "zh" if self.lang == "en" else "en"
        lang = self.lang
        self._lang_given = True  # a toggle during start-up wins over the stored language
        listed = self.catalog if self.startup_done or self._index is None else self._index
        self.query_one(LessonList).show_catalog(listed, lang)
        if self.current is not None:
            # Keep what the learner typed into the form; the quiz is rebuilt in the language.
            await self._show_lesson(self.current, self.training.param_values())
        self._store_job(partial(_save_language, lang))
        other = "English" if lang == "zh" else "中文"
        self.say(f"{'语言: 中文' if lang == 'zh' else 'Language: English'} (ctrl+l: {other})")

    async def action_quit(self) -> None:
        self._save_editor()  # what the learner typed is theirs: never lost by quitting
        await self._finish_training()
        self.exit()

    def _exit_on_signal(self, signum: int) -> None:
        if signum == shutdown.SIGHUP:
            shutdown.detach_from_terminal()  # the terminal is gone: nothing can be shown
        self._cancel_active_run()
        code = shutdown.exit_code(signum)
        if self.owns_process:
            shutdown.force_exit_after(shutdown.FORCE_EXIT_SECONDS, code)
        self.exit(return_code=code)  # on_unmount stores the run

    async def on_unmount(self) -> None:
        # Any way out (q, ctrl+q, app.exit(), a signal, a test ending) must stop the training
        # thread: it cannot be killed, and the process waits for it before exiting.
        await self._finish_training()
        if self.owns_process:  # a shutdown that gets stuck must not keep the process alive
            shutdown.force_exit_after(shutdown.FORCE_EXIT_SECONDS, self.return_code or 0)
        if self._trainer is not None:  # None if the app ends before its first paint
            await asyncio.to_thread(self._trainer.close)  # the spare, and a run never stopped
        if self._restore_signals is not None:
            self._restore_signals()
        if self._owns_store and self.store is not None:
            self.store.close()
        if self._gc_frozen:  # collectable again: another app may start in this process (tests)
            gc.unfreeze()
            self._gc_frozen = False

    async def _finish_training(self) -> None:
        """Cancel the run in progress and wait (bounded) until it has been stored."""
        self._cancel_active_run()
        done = self._last_done
        if done is not None and not done.is_set():
            # A thread, so the event loop keeps running (and drawing) while we wait.
            await asyncio.to_thread(done.wait, QUIT_WAIT_SECONDS)

    def _cancel_active_run(self) -> None:
        if self.active_run is not None:
            self.active_run.cancel.set()  # the lesson raises at its next report_step
