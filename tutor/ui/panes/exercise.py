"""The Exercise pane: the learner's copy of the lesson's code in an editor, checked against
the lesson's (:mod:`tutor.exercises`), with hints and the solution.

Checking runs ``check_exercises`` (a subprocess importing torch: seconds) on a worker thread.
Attempts and hint levels go to the store like ``dl-tutor check`` / ``dl-tutor hint``, and
every tutoring rule (what is an attempt, the next hint, when the solution opens) is
:mod:`tutor.exercises.coach`'s, the same the CLI follows.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar

from textual import work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.widgets import TabPane, TextArea
from textual.worker import Worker, WorkerState

from tutor import exercises as exercise_code
from tutor.exercises import ExerciseResult, coach
from tutor.lesson.catalog import LoadedLesson
from tutor.progress import ProgressStore
from tutor.ui.messages import Say, StoreSnapshotReady
from tutor.ui.store_link import StoreLink
from tutor.ui.widgets.confirm import ConfirmScreen
from tutor.ui.widgets.exercise import ExerciseView
from tutor.ui.widgets.lesson_list import lesson_label

READ_PROGRESS = "exercise-progress"  # the purpose of the store job reading attempts and hints
# The pane's single keys: text while the editor has the focus, so hidden then.
_LETTER_ACTIONS = {"exercise_check", "exercise_hint", "exercise_solution", "exercise_editor"}


@dataclass
class ExerciseState:
    """What the pane knows of one lesson's exercises (kept while the learner looks elsewhere)."""

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

    def checked(self, results: list[ExerciseResult]) -> None:
        for r in results:
            self.results[r.name] = r
            self.statuses[r.name] = r.status
            if coach.opens_solution(r.status):
                self.tried.add(r.name)


# -- store jobs (worker threads) -----------------------------------------------------------


def record_attempts(lesson_id: str, results: list[ExerciseResult], store: ProgressStore) -> None:
    for r in results:
        store.record_attempt(lesson_id, r.name, r.status, r.message)


def save_hint_level(lesson_id: str, name: str, level: int, store: ProgressStore) -> None:
    store.set_state(coach.hint_key(lesson_id, name), str(level))


def read_progress(lesson_id: str, names: list[str], store: ProgressStore) -> ExerciseState:
    """The latest stored outcome of each exercise, which were failed, the hint levels shown."""
    state = ExerciseState(lesson_id)
    for attempt in store.attempts(lesson_id):  # newest first
        state.statuses.setdefault(attempt.exercise, attempt.outcome)
        if coach.opens_solution(attempt.outcome):
            state.tried.add(attempt.exercise)
    for name in names:
        level = coach.stored_hint_level(store.get_state(coach.hint_key(lesson_id, name)))
        if level > 0:
            state.hint_levels[name] = level
    return state


def check_outcome(results: list[ExerciseResult]) -> tuple[str, str]:
    """The status line after a check, and its level."""
    passed = sum(r.passed for r in results)
    summary = f"Checked: {passed}/{len(results)} exercises passed"
    wrong = next((r for r in results if coach.opens_solution(r.status)), None)
    if wrong is not None:
        where = f" (line {wrong.line})" if wrong.line else ""
        first = (wrong.message.splitlines() or [""])[0]
        return f"{summary} · ✗ {wrong.name}{where}: {first}", "error"
    if passed == len(results):
        return f"{summary}. m trains with your code.", "ok"
    return f"{summary} · replace the TODOs, then c checks again", "warning"


class ExercisePane(TabPane):
    """``#pane-exercise``: holds ``#exercise``; ``checking`` while a check runs."""

    # Scoped to the pane (h is "runs" elsewhere). Letters are typed in the editor, so they act
    # only from the list or the info; ctrl keys work in the editor too.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "exercise_check", "Check"),
        Binding("h", "exercise_hint", "Hint"),
        Binding("S", "exercise_solution", "Solution"),
        Binding("e", "exercise_editor", "Editor"),
        Binding("ctrl+s", "exercise_save", "Save"),
        Binding("ctrl+r", "exercise_reset", "Reset code"),
    ]

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(title, id=id)
        self.link: StoreLink | None = None  # handed down by the App once the store is open
        self.checking = False  # a check of the learner's file is running (a subprocess)
        self._recheck = False  # saved again while checking: check once more when it ends
        self._states: dict[str, ExerciseState] = {}
        self._editing: LoadedLesson | None = None  # the lesson whose file the editor holds
        self._lang = "en"

    def compose(self) -> ComposeResult:
        yield ExerciseView(id="exercise")

    @property
    def view(self) -> ExerciseView:
        return self.query_one(ExerciseView)

    def focus_content(self) -> None:
        self.view.query_one("#exercise-list").focus()

    def _say(self, text: str, level: str = "info") -> None:
        self.post_message(Say(text, level))

    def _state(self, lesson_id: str) -> ExerciseState:
        return self._states.setdefault(lesson_id, ExerciseState(lesson_id))

    def forget(self, lesson_id: str) -> None:
        """The lesson was reset: its attempts are deleted, read them again when shown."""
        self._states.pop(lesson_id, None)

    # -- showing a lesson -------------------------------------------------------------

    def show(self, loaded: LoadedLesson | None, lang: str, others: Sequence[str] = ()) -> None:
        """Fill the pane for ``loaded``; ``others``: the lessons that have exercises."""
        self._lang = lang
        view = self.view
        if loaded is None or not loaded.lesson.exercises:
            self.save_editor()
            self._editing = None
            if loaded is None:
                view.show_lesson([], note="Open a lesson from the list.")
                return
            note = "This lesson has no exercises." + (
                f" These have: {', '.join(others)}." if others else ""
            )
            view.show_lesson([], lang, note=note)
            return
        same = self._editing is not None and self._editing.id == loaded.id
        if not same:
            self.save_editor()  # edits to the previous lesson's file are kept
        try:
            path = exercise_code.ensure_workspace(loaded)
            # Keep unsaved edits (a language switch); else the file, which the CLI may have changed.
            text = None if same and view.modified else path.read_text(encoding="utf-8")
        except (OSError, ValueError) as e:
            self._editing = None
            view.show_lesson([], lang, note=f"Cannot open your exercise file: {e}")
            return
        self._editing = loaded
        view.show_lesson(loaded.lesson.exercises, lang, path, text)
        self._show_state(loaded.id)
        state = self._state(loaded.id)
        if not state.read and self.link is not None:
            names = [e.name for e in loaded.lesson.exercises]
            job = partial(read_progress, loaded.id, names)
            self.link.submit(self, job, purpose=READ_PROGRESS)

    def _show_state(self, lesson_id: str) -> None:
        loaded = self._editing
        if loaded is None or loaded.id != lesson_id:
            return
        state = self._state(lesson_id)
        hints: dict[str, list[str]] = {}
        solutions: dict[str, str] = {}
        for exercise in loaded.lesson.exercises:
            level = state.hint_levels.get(exercise.name, 0)
            hints[exercise.name] = [h.get(self._lang) for h in exercise.hints[:level]]
            if exercise.name in state.solutions:
                solutions[exercise.name] = exercise_code.solution(loaded, exercise.name)
        self.view.set_state(state.statuses, state.results, hints, solutions)

    def on_store_snapshot_ready(self, message: StoreSnapshotReady) -> None:
        """The store's attempts and hint levels for a lesson (it goes on up to the App)."""
        snapshot = message.snapshot
        if message.purpose != READ_PROGRESS or snapshot is None:
            return
        stored = snapshot.written
        if isinstance(stored, ExerciseState):  # else the store failed; the status line says so
            self._state(stored.lesson_id).merge_stored(stored)
            self._show_state(stored.lesson_id)

    # -- the learner's file -----------------------------------------------------------

    def save_editor(self) -> bool:
        """Write the editor's text to the learner's file if it changed; False on failure."""
        loaded = self._editing
        if loaded is None or not self.is_mounted:  # nothing to save (or quitting at once)
            return True
        view = self.view
        if not view.modified:
            return True
        text = view.code
        try:
            exercise_code.save_workspace(loaded, text)
        except OSError as e:
            self._say(f"Not saved: {e}", "error")
            return False
        view.mark_saved(text)
        return True

    def _selected(self) -> tuple[LoadedLesson, str] | None:
        loaded = self._editing
        name = self.view.selected
        if loaded is None or name is None:
            self._say("This lesson has no exercises.")
            return None
        return loaded, name

    # -- keys -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _LETTER_ACTIONS and isinstance(self.app.focused, TextArea):
            return False  # letters are text in the editor
        if action.startswith("exercise_") and self._editing is None:  # no exercises here
            return False
        return True

    def action_exercise_save(self) -> None:
        """ctrl+s: save the editor to your file, then check it."""
        if self._editing is not None and self.save_editor():
            self.action_exercise_check()

    def action_exercise_check(self) -> None:
        loaded = self._editing
        if loaded is None:
            self._say("This lesson has no exercises.")
            return
        if not self.save_editor():
            return
        if self.checking:
            self._recheck = True  # the running check may have read the file before the save
            self._say("Saved; checking again once the running check ends…")
            return
        self.checking = True
        self.view.set_checking(True)
        self._say(f"Checking your {loaded.code_path.name}… (a few seconds)")
        self._check_work(loaded)

    @work(thread=True, group="exercise", exit_on_error=False)
    def _check_work(self, loaded: LoadedLesson) -> tuple[LoadedLesson, list[ExerciseResult]]:
        return loaded, exercise_code.check_exercises(loaded)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.node is not self or worker.group != "exercise":
            return
        event.stop()
        if state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self._checked(worker)

    def _checked(self, worker: Worker[tuple[LoadedLesson, list[ExerciseResult]]]) -> None:
        """A check ended: remember and record its results, show them, say how it went."""
        self.checking = False
        if not self.is_attached:
            return
        self.view.set_checking(False)
        if worker.state != WorkerState.SUCCESS or worker.result is None:
            if worker.state == WorkerState.ERROR:
                self._say(f"The check stopped with an internal error: {worker.error}", "error")
            return
        loaded, results = worker.result
        self._state(loaded.id).checked(results)
        tried = coach.attempts(results)  # "not-attempted" is not an attempt: a TODO is left
        if tried and self.link is not None:
            job = partial(record_attempts, loaded.id, tried)
            self.link.submit(self, job, status_of=(loaded.id,))
        self._show_state(loaded.id)
        if self._editing is not None and self._editing.id == loaded.id:
            self.view.reveal("result")
        self._say(*check_outcome(results))
        if self._recheck:
            self._recheck = False
            self.action_exercise_check()

    def action_exercise_hint(self) -> None:
        """h in the Exercise pane: the next hint level of the selected exercise."""
        chosen = self._selected()
        if chosen is None:
            return
        loaded, name = chosen
        hints = exercise_code.find_exercise(loaded, name).hints
        if not hints:
            self._say(f"{name} has no hints: read its task above the editor.")
            return
        state = self._state(loaded.id)
        shown = state.hint_levels.get(name, 0)
        level = coach.next_hint_level(shown, len(hints))
        if level > shown:
            state.hint_levels[name] = level
            if self.link is not None:
                self.link.submit(self, partial(save_hint_level, loaded.id, name, level))
        self._show_state(loaded.id)
        self.view.reveal("hints")
        more = f"h again for hint {level + 1}" if level < len(hints) else "that was the last one"
        self._say(f"Hint {level}/{len(hints)} for {name} ({more})")

    def action_exercise_solution(self) -> None:
        """S: the lesson's code for the selected exercise, after a failed attempt at it."""
        chosen = self._selected()
        if chosen is None:
            return
        loaded, name = chosen
        state = self._state(loaded.id)
        if not coach.solution_open(name, (), state.tried):
            self._say(
                f"Refused: the solution to {name} opens after a failed attempt: write it, "
                "then c checks it (h gives a hint).",
                "warning",
            )
            return
        state.solutions.add(name)
        self._show_state(loaded.id)
        self.view.reveal("solution")
        self._say(f"The lesson's {name} is shown below your hints.")

    def action_exercise_reset(self) -> None:
        """ctrl+r: put the starter back (asks first; the old file is kept as .bak)."""
        loaded = self._editing
        if loaded is None:
            self._say("This lesson has no exercises.")
            return
        path = exercise_code.workspace_file(loaded)
        self.app.push_screen(
            ConfirmScreen(
                f"Reset your code for {lesson_label(loaded, self._lang)} to the starter?",
                f"Your file is kept as {path.name}.bak (replacing an older .bak). "
                "Your attempts and hints stay recorded.",
                yes="Reset",
            ),
            partial(self._reset_answered, loaded),
        )

    def _reset_answered(self, loaded: LoadedLesson, yes: bool | None) -> None:
        if not yes:
            self._say("Reset cancelled: your code is unchanged.")
            return
        editing = self._editing is not None and self._editing.id == loaded.id
        if editing:
            self.save_editor()  # so unsaved edits end up in the .bak, not lost
        try:
            path = exercise_code.reset_workspace(loaded)
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            self._say(f"Not reset: {e}", "error")
            return
        state = self._state(loaded.id)
        state.results.clear()
        state.statuses = {e.name: "not-attempted" for e in loaded.lesson.exercises}
        if editing:
            self.view.load_code(text)
            self._show_state(loaded.id)
        backup = path.with_name(path.name + ".bak")
        kept = f" (your previous file is {backup.name})" if backup.exists() else ""
        self._say(f"Reset {path.name} to the starter{kept}.", "ok")

    def action_exercise_editor(self) -> None:
        """e: edit your file in $VISUAL / $EDITOR; the app resumes, reloads it and checks."""
        loaded = self._editing
        if loaded is None:
            self._say("This lesson has no exercises.")
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            self._say("Set $VISUAL or $EDITOR to edit in your editor (or edit here).", "warning")
            return
        if not self.save_editor():
            return
        path = exercise_code.ensure_workspace(loaded)
        code = self._run_editor([*shlex.split(editor), str(path)], editor)
        if code is None:
            return
        try:
            self.view.load_code(path.read_text(encoding="utf-8"))
        except OSError as e:
            self._say(f"Cannot read {path}: {e}", "error")
            return
        if code != 0:
            self._say(f"{editor} exited with status {code}; checking your file anyway", "warning")
        self.action_exercise_check()

    def _run_editor(self, command: list[str], editor: str) -> int | None:
        """The editor's exit status, None if it could not be started (said why)."""
        try:
            try:
                with self.app.suspend():
                    return subprocess.run(command).returncode
            except SuspendNotSupported:
                # No terminal to hand over (the headless test driver, Textual Web): the editor
                # runs without one, e.g. a script that edits the file.
                return subprocess.run(command, stdin=subprocess.DEVNULL).returncode
        except OSError as e:
            self._say(f"Could not start {editor}: {e}", "error")
            return None
