"""The Textual app: pick a lesson, read it, read its code, train it live, take its quiz.

The App composes, starts up and routes; each pane (:mod:`tutor.ui.panes`) owns its state,
its workers and its keys. Down go attributes and calls (the lesson to show, the store link,
the trainer); up come messages (a run ended, a store snapshot, a line for the status line).

The app process never imports torch: lessons train in a child process
(:mod:`tutor.training.process`), so start-up stays fast and neither the UI nor the training
slows the other. Nor pydantic or YAML: the first screen lists the lessons from an index
(:mod:`tutor.lesson.index`: the cache of the last start, or the one shipped with the built-in
lessons) and shows the start lesson's page from it (``#first-page``), without the panes;
right after it is painted (``_first_paint``) the panes are added while lessons are loaded
and the progress store opened on a worker thread. Then a spare training process starts and
imports torch, so the first Run does not wait for it. The App takes these steps in order;
:class:`~tutor.ui.startup.StartUp` does them and keeps what only start-up needs.

The progress store is only ever touched on worker threads (:mod:`tutor.ui.store_link`);
every job ends in a :class:`~tutor.ui.messages.StoreSnapshotReady` that the App shows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Input
from textual.worker import Worker

from tutor.lesson.catalog import Catalog
from tutor.lesson.index import LANGUAGES
from tutor.ui import shutdown
from tutor.ui.app_state import AppState
from tutor.ui.messages import Say, StoreSnapshotReady
from tutor.ui.startup import StartUp
from tutor.ui.widgets.first_page import FirstPage
from tutor.ui.widgets.footer import KeyFooter
from tutor.ui.widgets.lesson_list import LessonList, lesson_label
from tutor.ui.widgets.status import StatusLine
from tutor.ui.widgets.title_bar import TitleBar

# Only what the first screen needs is imported above: `import tutor.ui.app` costs little more
# than `import textual.app`. The rest (the panes and their widgets, the store, the trainer,
# exercises: ~0.2-0.4 s) is imported where it is used, all of it after the first paint.
if TYPE_CHECKING:
    from tutor.lesson.catalog import LoadedLesson, Problem
    from tutor.progress import ProgressStore
    from tutor.ui.panes import Panes
    from tutor.ui.panes.train import TrainPane
    from tutor.ui.run_link import ActiveRun
    from tutor.ui.store_link import StoreLink, StoreSnapshot

# The panes' styles, read with them (_mount_panes): the first frame parses only app.tcss.
PANES_CSS_PATH = Path(__file__).parent / "panes" / "panes.tcss"
_PANES_GROUP = Binding.Group("Panes", compact=True)
# Actions that still work while a modal dialog (the reset confirmation) is open.
_MODAL_SAFE_ACTIONS = {"quit"}


class TutorApp(AppState, App[None]):
    """dl-tutor's terminal UI (docs/testing.md: its ids, keys and attributes; see AppState)."""

    CSS_PATH = "app.tcss"
    TITLE = "dl-tutor"
    SUB_TITLE = "deep learning with PyTorch"
    AUTO_FOCUS = "#lesson-list"
    # Screen gets -wide from 140 columns: app.tcss puts the charts side by side then. Narrow
    # is the default (no class): a class added at the first resize would restyle every widget.
    HORIZONTAL_BREAKPOINTS: list[tuple[int, str]] | None = [(140, "-wide")]

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
        self._startup = StartUp(self, lesson_dirs, builtin=builtin, catalog=catalog, store=store)
        self._panes: Panes | None = None  # mounted right after the first paint
        # An explicit lang wins; without one, the language saved by the last toggle, else en.
        self.lang = lang if lang in LANGUAGES else "en"
        self._lang_given = lang is not None
        self.device = device
        # The progress store: one given is the caller's to close; else ProgressStore() is
        # opened at start-up (it honours DL_TUTOR_DATA_DIR) and closed at unmount. None if it
        # could not be opened: the app works, saving nothing. The link is made at start-up.
        self._given_store = store
        self._link: StoreLink | None = None
        self.store_error: str | None = None  # why progress is not being saved, if it is not
        self.current: LoadedLesson | None = None  # the lesson shown in the panes
        self.device_label = ""  # the device runs use, as the training process describes it
        self._restore_signals: Callable[[], None] | None = None
        # Set by the CLI, which owns the process: a stuck shutdown may be forced (not in tests).
        self.owns_process = False

    # -- what tests and tools read (docs/testing.md); most of it is in AppState -------------

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    def say(self, message: str, level: str = "info") -> None:
        """Put a message in the status line (levels: info, ok, warning, error)."""
        if self.is_running:  # closing: a run's last message may come after the widgets went
            self.status.say(message, level)

    # -- layout and start-up ----------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TitleBar(id="title-bar")
        with Horizontal(id="body"):
            yield LessonList(id="lesson-list")
            # No panes in the first frame (their tabs, Markdown and styles cost ~0.1-0.3 s):
            # _mount_panes adds them right after it is painted. Until they show the start
            # lesson, its page from the index is shown here, drawn lightly.
            yield FirstPage(id="first-page")
        yield StatusLine(id="status")
        yield KeyFooter()

    async def on_mount(self) -> None:
        # Closing the terminal (SIGHUP) or `kill` (SIGTERM) ends the app like q does.
        self._restore_signals = shutdown.handle_exit_signals(self._exit_on_signal)
        # Charts are drawn on a thread (plotext is slow pure Python); with Python's default
        # 5 ms switch interval the event loop would wait that long for the GIL. 1 ms keeps
        # keys and timers prompt.
        sys.setswitchinterval(0.001)
        self.query_one(LessonList).border_title = "Lessons"
        self.status.set_torch_note("loading PyTorch…")
        # Nothing is painted until this returns: list the lessons (from the catalog given,
        # else from the cached index if it is still valid) and load the rest after the paint.
        self.lang = self._startup.first_frame(self.lang, self._lang_given)
        self.say("Loading lessons…")
        self._startup.show_terminal_note(self.terminal_note)
        self.call_after_refresh(self._first_paint)

    def _first_paint(self) -> None:
        """The first screen is painted: add the panes, load lessons and open the store;
        meanwhile a spare training process imports PyTorch (another process: slows neither)."""
        self._startup.painted(self.device)  # the trainer is made
        self.run_worker(self._startup.unless_closing(self._start_up()), group="startup")
        self._startup.preload()

    async def _mount_panes(self) -> None:
        """Add the panes (``#panes``, see :mod:`tutor.ui.panes`). Start-up awaits this
        before it shows a lesson, so every widget id exists once ``startup_done`` is set."""
        from tutor.ui.panes import Panes  # not before the first paint (see the imports)

        # Their styles too: only they use panes.tcss, so the first frame need not parse it.
        self.stylesheet.read(PANES_CSS_PATH)
        panes = Panes(id="panes")
        # Hidden while #first-page shows the start lesson: shown once they show it too.
        panes.display = not self._startup.showing_page
        await self.query_one("#body").mount(panes)
        panes.train.trainer = self._startup.trainer
        panes.train.device = self.device
        self._panes = panes

    async def _start_up(self) -> None:
        """Load the catalog and open the store (a worker thread) while the panes are mounted,
        then show the lesson chosen meanwhile, else the one opened last (store state
        ``last_lesson``), else the first."""
        from tutor.ui.store_link import StoreLink

        loading = self._startup.load()
        await self._mount_panes()  # while the lessons load on that thread
        self.catalog, opened = await self._startup.loaded(loading)
        self.store_error = opened.error
        self._link = link = StoreLink(opened.store, self.catalog)
        if self._panes is not None:
            self._panes.hand_down(link, opened.error)
        if not self._lang_given and opened.lang in LANGUAGES:
            self.lang = opened.lang
        lessons = self.query_one(LessonList)
        lessons.show_catalog(self.catalog, self.lang)
        lessons.set_statuses(opened.statuses)
        start = self._startup.start_lesson(self.catalog, opened.last_lesson)
        if isinstance(start, list):  # a broken lesson file chosen meanwhile
            await self._show_broken(start[0].file, start)
        elif start is not None:
            await self.open_lesson(start)
            lessons.highlighted = self.catalog.lessons.index(start)
        else:
            await self._show_nothing("No lessons found.")
        self._startup.drop_first_page(self._panes)
        self._startup.report(self.catalog, opened)
        self._startup.finish()  # startup_done
        link.settled()  # start-up's own pending job

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """PyTorch preloaded (or not). The panes handle their own workers' ends."""
        ready = self._startup.preloaded(event.worker, event.state)
        if ready is not None:
            self.show_device(ready.device)

    def show_device(self, label: str) -> None:
        """The header names the device runs use (a GPU with its memory in use)."""
        self.device_label = label
        self.title = f"{self.TITLE} · {label}"
        if self._panes is not None:  # a device it cannot use: Run is refused up front
            self._panes.train.device_seen(label)

    # -- lessons: every pane shows the one chosen ------------------------------------------

    async def open_lesson(self, loaded: LoadedLesson) -> None:
        """Show ``loaded`` in every pane (its live run or its last run, if any)."""
        self.current = loaded
        await self._show_lesson(loaded)
        run = self.active_run
        if run is None or run.lesson_id != loaded.id:
            self.say(f"Opened {lesson_label(loaded, self.lang)}: 3 to train, r to run.")
        # Remember it (the app reopens here) and fetch its run history for the runs table.
        from tutor.ui.store_link import remember_lesson

        if self._link is not None:
            job = partial(remember_lesson, loaded.id)
            self._link.submit(self, job, status_of=(loaded.id,), runs_of=loaded.id)

    async def _show_lesson(
        self, loaded: LoadedLesson, values: dict[str, Any] | None = None
    ) -> None:
        """Fill every pane for ``loaded`` in the current language; ``values``: the form's
        text to keep (a language switch)."""
        assert self._panes is not None
        self.sub_title = lesson_label(loaded, self.lang)
        others = [lesson_label(x, self.lang) for x in self.catalog.lessons if x.lesson.exercises]
        await self._panes.show(loaded, self.lang, others, values)

    async def _show_nothing(self, markdown: str) -> None:
        assert self._panes is not None
        self.current = None
        self.sub_title = ""
        await self._panes.show_nothing(markdown, self.lang)

    async def _show_broken(self, file: Path, problems: Sequence[Problem]) -> None:
        assert self._panes is not None
        self.current = None
        self.sub_title = ""
        await self._panes.show_problems(file, problems, self.lang)
        self._show_pane("pane-lesson")
        n = len(problems)
        first = problems[0] if problems else ""
        self.say(f"{n} problem{'s' if n != 1 else ''} in {file.name}: {first}", "error")

    @on(LessonList.LessonChosen)
    async def _lesson_chosen(self, message: LessonList.LessonChosen) -> None:
        loaded = self.catalog.get(message.lesson_id)
        # Listed from the index, not loaded yet (or a catalog given, chosen in the moment
        # before the panes are mounted): start-up opens it.
        if loaded is None or self._panes is None:
            self._startup.wait_for(message.lesson_id, self.lang)
            self.say("Loading lessons…")
            return
        await self.open_lesson(loaded)
        self._show_pane("pane-lesson")

    @on(LessonList.BrokenFileChosen)
    async def _broken_chosen(self, message: LessonList.BrokenFileChosen) -> None:
        if not self.startup_done:
            self._startup.wait_for(message.file, self.lang)  # shown from the loaded catalog
            if self._panes is None:  # start-up shows it, once they are mounted
                self.say("Loading lessons…")
                return
        await self._show_broken(message.file, message.problems)

    # -- runs: the Train pane runs them; the App routes what they mean elsewhere -----------

    def start_run(self) -> None:
        """Start training the open lesson (see :meth:`TrainPane.start_run`); raises
        ``RunRefused`` or ``ValueError``, which :meth:`action_run` says."""
        if self._panes is None:
            raise ValueError("open a lesson first (l focuses the list)")
        train = self._panes.train
        if self.current is not None and self.current.id in train.my_code:
            self._panes.exercise.save_editor()  # the run trains with the saved file
        run = train.start_run(self.current, self.lang)
        # The screen follows once the worker has handed the run to the training process:
        # restyling the Train pane takes the event loop ~0.1-0.3 s, and the run need not
        # wait for it. (Its messages come after this: they are handled in order.)
        self.call_later(self._show_run_started, run)

    def _show_run_started(self, run: ActiveRun) -> None:
        assert self._panes is not None
        self._panes.train.show_run_started(run)
        self._panes.quiz.run_started(run.lesson_id)  # predictions of it are too late now
        self.query_one(LessonList).mark_running(run.lesson_id)
        self._show_pane("pane-train", focus=True)  # arrows scroll the curves, s stops at once
        mine = " with your code" if run.code_path else ""
        self.say(f"Running {lesson_label(run.loaded, self.lang)}{mine}… (s stops)")

    def on_train_pane_run_ended(self, message: TrainPane.RunEnded) -> None:
        if self.is_running and self._panes is not None:  # not as the app closes: widgets gone
            self.query_one(LessonList).mark_running(None)
            self._panes.quiz.run_ended()

    def on_train_pane_graded_run_changed(self, message: TrainPane.GradedRunChanged) -> None:
        shown = self.current is not None and self.current.id == message.lesson_id
        if self.is_running and self._panes and shown:  # not as the app closes: widgets gone
            self._panes.quiz.show_run(self._panes.train.graded_run(message.lesson_id))

    def on_train_pane_device_seen(self, message: TrainPane.DeviceSeen) -> None:
        self.show_device(message.label)

    def on_training_view_run_requested(self) -> None:
        self.action_run()

    def on_training_view_stop_requested(self) -> None:
        self.action_stop()

    # -- the store and the status line ------------------------------------------------------

    @on(StoreSnapshotReady)
    def _snapshot_ready(self, message: StoreSnapshotReady) -> None:
        if self._link is not None:
            self._link.settled()
        if message.snapshot is not None and self.is_running:
            self._apply_snapshot(message.snapshot)

    def _apply_snapshot(self, snapshot: StoreSnapshot) -> None:
        """Show what a store job read: status marks, run history.

        Per lesson, a read older than the one already shown is dropped: jobs run in order,
        but their results can arrive out of order.
        """
        # A failing store stays visible (the next message must not hide it) until a store
        # job succeeds again.
        note = f"Progress not saved: {snapshot.error}" if snapshot.error else ""
        if note and note != self.status.store_note:  # the line cuts it at 80 columns
            self.notify(note, severity="error", timeout=10)
        self.status.set_store_note(note)
        statuses, runs = self._link.fresh(snapshot) if self._link else ({}, {})
        self.query_one(LessonList).set_statuses(statuses)
        for lesson_id, lesson_runs in runs.items():
            if self._panes is not None:
                self._panes.train.show_stored_runs(lesson_id, lesson_runs)

    @on(Say)
    def _pane_says(self, message: Say) -> None:
        self.say(message.text, message.level)

    # -- keys -------------------------------------------------------------------------------

    def action_run(self) -> None:
        from tutor.training.runner import RunRefused
        from tutor.ui.panes.train import BadParams

        try:
            self.start_run()
        except RunRefused as e:
            self.say(f"Refused: {e}.", "warning")
        except BadParams as e:
            assert self._panes is not None
            self._show_pane("pane-train")
            self._panes.train.focus_param(e.name)
            self.say(f"Not run: {e}", "error")
        except ValueError as e:
            self.say(f"Not run: {e}", "error")

    def action_stop(self) -> None:
        self._panes.train.stop() if self._panes else self.say("Nothing is running.")

    def _show_pane(self, pane: str, focus: bool = False) -> None:
        """Bring pane ``pane`` (a ``#pane-*`` id; "": the one in front) to the front and
        maybe focus what it scrolls: nothing to do until the panes are mounted."""
        if self._panes is not None:
            self._startup.drop_first_page(self._panes)  # even before they show a lesson
            self._panes.show_pane(pane, focus)

    def action_show_pane(self, pane: str) -> None:
        self._show_pane(pane, focus=True)

    def action_focus_lessons(self) -> None:
        lessons = self.query_one(LessonList)
        lessons.display = True
        lessons.focus()

    def action_toggle_sidebar(self) -> None:
        lessons = self.query_one(LessonList)
        lessons.display = not lessons.display
        if not lessons.display:
            self._show_pane("", focus=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A dialog is answered first: the app's keys (r, R, 1-4, …) wait; quitting works.
        if isinstance(self.screen, ModalScreen) and action not in _MODAL_SAFE_ACTIONS:
            return False
        # Escape means "leave the field": offered (and in the footer) only while typing.
        if action == "leave_input":
            return isinstance(self.focused, Input) or self._in_editor()
        if action == "toggle_my_code":  # only lessons with exercises have "your code"
            return self.current is not None and bool(self.current.lesson.exercises)
        if action == "clear_overlays":  # in the footer only while something is overlaid
            return bool(self.overlays)
        return True

    def _in_editor(self) -> bool:
        """The exercise editor (a TextArea) has the focus: letter keys are text there."""
        if self._panes is None:  # it comes with the panes, and TextArea's module with it
            return False
        from textual.widgets import TextArea

        return isinstance(self.focused, TextArea)

    def action_leave_input(self) -> None:
        """Escape from an input to its pane, where the single-key bindings work again."""
        self._show_pane("", focus=True)

    def action_focus_runs(self) -> None:
        """Show the Train pane with the runs table focused (arrows, enter/space)."""
        self._show_pane("pane-train")
        if self._panes is not None:  # else no table yet (nor a lesson whose runs it lists)
            self._panes.train.focus_runs()

    def action_clear_overlays(self) -> None:
        if self._panes is not None:
            self._panes.train.clear_overlays()

    def action_toggle_my_code(self) -> None:
        """m: train the open lesson with your exercise file, or with the lesson's own code."""
        if self._panes is not None:
            self._panes.train.toggle_my_code(self.current)

    def action_reset_lesson(self) -> None:
        """R: ask, then forget the open lesson's runs and answers (ProgressStore.reset)."""
        if self._panes is not None:
            self._panes.ask_reset(self.current, self.lang)

    async def on_panes_lesson_reset(self, message: Panes.LessonReset) -> None:
        if self._panes is not None and self.current is not None:
            if self.current.id == message.loaded.id:
                await self._show_lesson(message.loaded)
            self._panes.train.leave_runs_table()  # now empty and hidden

    async def action_toggle_language(self) -> None:
        """en ↔ zh for everything that comes from lessons; saved for the next start."""
        from tutor.ui.store_link import save_language

        self.lang = lang = "zh" if self.lang == "en" else "en"
        self._lang_given = True  # a toggle during start-up wins over the stored language
        self._startup.relabel(self.catalog, lang)
        if self.current is not None and self._panes is not None:
            # Keep what the learner typed into the form; the quiz is rebuilt in the language.
            await self._show_lesson(self.current, self._panes.train.form_values())
        if self._link is not None:
            self._link.submit(self, partial(save_language, lang))
        other = "English" if lang == "zh" else "中文"
        self.say(f"{'语言: 中文' if lang == 'zh' else 'Language: English'} (ctrl+l: {other})")

    # -- quitting -------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if self._panes is not None:
            self._panes.exercise.save_editor()  # the learner's text is never lost by quitting
        await self._finish_training()
        self.exit()

    def _exit_on_signal(self, signum: int) -> None:
        code = shutdown.signalled(signum, self.owns_process)
        if self._panes is not None:
            self._panes.train.stop(quiet=True)
        self.exit(return_code=code)  # on_unmount stores the run

    async def on_unmount(self) -> None:
        # Any way out (q, ctrl+q, app.exit(), a signal, a test ending) must stop the training
        # thread: it cannot be killed, and the process waits for it before exiting.
        await self._finish_training()
        if self.owns_process:  # a shutdown that gets stuck must not keep the process alive
            shutdown.force_exit_after(shutdown.FORCE_EXIT_SECONDS, self.return_code or 0)
        await self._startup.close(self.store)  # the training processes, the store it opened
        if self._restore_signals is not None:
            self._restore_signals()

    async def _finish_training(self) -> None:
        """Cancel the run in progress and wait (bounded) until it has been stored."""
        if self._panes is not None:
            await self._panes.train.finish()
