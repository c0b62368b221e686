"""The Exercise pane: the lesson's exercises, the learner's file in an editor, results, hints.

The view only displays and edits text. Saving, checking (a subprocess that imports torch),
hints, the solution gate, resetting and their keys are the Exercise pane's
(:mod:`tutor.ui.panes.exercise`), which hands results back through :meth:`ExerciseView.set_state`.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.syntax import Syntax
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option

from tutor.exercises import find_target
from tutor.exercises.coach import RESULT_MARKS
from tutor.text import inert

if TYPE_CHECKING:
    from tutor.exercises import ExerciseResult
    from tutor.lesson.schema import Exercise

MARKS = RESULT_MARKS  # the same marks as `dl-tutor check`
MARK_STYLES = {"passed": "green", "failed": "red", "error": "bold red", "not-attempted": "dim"}
STATUS_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "error": "error",
    "not-attempted": "not attempted",
}

# TextArea highlights only with tree-sitter (textual[syntax]); without it the editor still
# edits, as plain text. Asking for "python" without the grammar would raise.
HIGHLIGHT = (
    importlib.util.find_spec("tree_sitter") is not None
    and importlib.util.find_spec("tree_sitter_python") is not None
)


class ExerciseEditor(TextArea):
    """The learner's file. Escape leaves the editor for the exercise list (a code editor's
    TextArea would move to the next widget), so the pane's single keys work again."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            event.stop()
            event.prevent_default()
            await self.run_action("app.leave_input")
            return
        await super()._on_key(event)


class ExerciseView(Vertical):
    """The open lesson's exercises; for a lesson without any, a note saying so."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._exercises: dict[str, Exercise] = {}
        self._lang = "en"
        self._statuses: dict[str, str] = {}
        self._results: dict[str, ExerciseResult] = {}
        self._hints: dict[str, list[str]] = {}
        self._solutions: dict[str, str] = {}
        self.path: Path | None = None
        self.saved_text = ""  # the file's text as last loaded or saved

    def compose(self) -> ComposeResult:
        yield Static("", id="exercise-empty", markup=False)  # for lessons without exercises
        yield Static("", id="exercise-file", markup=False)
        with Horizontal(id="exercise-top"):
            yield OptionList(id="exercise-list")
            with VerticalScroll(id="exercise-info"):
                yield Static("", id="exercise-task", markup=False)
                yield Static("", id="exercise-result", markup=False)
                yield Static("", id="exercise-hints", markup=False)
                yield Static("", id="exercise-solution", markup=False)
        yield ExerciseEditor.code_editor(
            language="python" if HIGHLIGHT else None,
            id="exercise-editor",
            theme="monokai" if HIGHLIGHT else "css",
        )

    # -- what the app shows --------------------------------------------------------------

    def show_lesson(
        self,
        exercises: Sequence[Exercise],
        lang: str = "en",
        path: Path | None = None,
        text: str | None = None,
        *,
        note: str = "",
    ) -> None:
        """The exercises of the lesson and the learner's file (``text`` None: keep the
        editor's text, a language switch). Without exercises, ``note`` says why."""
        self._lang = lang
        self._exercises = {e.name: e for e in exercises}
        self.set_class(not exercises, "-empty")
        options = self.query_one("#exercise-list", OptionList)
        old = self.selected
        options.clear_options()
        if not exercises:
            self.path = None
            self.query_one("#exercise-empty", Static).update(note)
            self._statuses, self._results, self._hints, self._solutions = {}, {}, {}, {}
            self.load_code("")
            self._show_selected()
            return
        options.add_options(Option(self._label(e), id=e.name) for e in exercises)
        names = list(self._exercises)
        options.highlighted = names.index(old) if old in names else 0
        self.path = path
        if text is not None:
            self.load_code(text)
        self._show_file()
        self._show_selected()

    def set_state(
        self,
        statuses: Mapping[str, str],
        results: Mapping[str, ExerciseResult],
        hints: Mapping[str, list[str]],
        solutions: Mapping[str, str],
    ) -> None:
        """Marks, the latest check's messages, the hints and solutions shown so far."""
        self._statuses, self._results = dict(statuses), dict(results)
        self._hints, self._solutions = dict(hints), dict(solutions)
        options = self.query_one("#exercise-list", OptionList)
        for exercise in self._exercises.values():
            options.replace_option_prompt(exercise.name, self._label(exercise))
        self._show_selected()

    def set_checking(self, checking: bool) -> None:
        self.set_class(checking, "-checking")
        self._show_file()

    def load_code(self, text: str) -> None:
        """Put the file's text in the editor (it then counts as saved)."""
        self.saved_text = text
        self.editor.load_text(text)
        self._show_file()

    def mark_saved(self, text: str) -> None:
        self.saved_text = text
        self._show_file()

    @property
    def editor(self) -> ExerciseEditor:
        return self.query_one("#exercise-editor", ExerciseEditor)

    @property
    def code(self) -> str:
        return self.editor.text

    @property
    def modified(self) -> bool:
        """The editor holds text that is not in the file yet."""
        return bool(self._exercises) and self.editor.text != self.saved_text

    @property
    def selected(self) -> str | None:
        """The name of the highlighted exercise."""
        options = self.query_one("#exercise-list", OptionList)
        if options.highlighted is None or options.option_count == 0:
            return None
        return options.get_option_at_index(options.highlighted).id

    def status(self, name: str) -> str:
        """``passed`` / ``failed`` / ``error`` / ``not-attempted`` as marked in the list."""
        return self._statuses.get(name, "not-attempted")

    # -- drawing --------------------------------------------------------------------------

    def _label(self, exercise: Exercise) -> Text:
        status = self.status(exercise.name)
        text = Text(MARKS[status] + " ", style=MARK_STYLES[status])
        text.append(exercise.name)
        return text

    def _show_file(self) -> None:
        if self.path is None:
            return
        text = Text("your file: ", style="dim")
        text.append(str(self.path))
        if self.has_class("-checking"):
            text.append(" · checking…", style="yellow")
        elif self._exercises and self.editor.text != self.saved_text:
            text.append(" · modified (ctrl+s saves)", style="yellow")
        self.query_one("#exercise-file", Static).update(text)

    def _show_selected(self) -> None:
        name = self.selected
        exercise = self._exercises.get(name) if name else None
        task = self.query_one("#exercise-task", Static)
        result_view = self.query_one("#exercise-result", Static)
        hints_view = self.query_one("#exercise-hints", Static)
        solution_view = self.query_one("#exercise-solution", Static)
        if exercise is None:
            for view in (task, result_view, hints_view, solution_view):
                view.update("")
            return
        text = Text(exercise.heading(self._lang), style="bold")
        text.append(f"  ({exercise.target})\n", style="dim")
        text.append(" ".join(exercise.task.get(self._lang).split()))
        task.update(text)
        result_view.update(self._result_text(exercise.name))
        hints = self._hints.get(exercise.name, [])
        total = len(exercise.hints)
        hint_text = Text()
        for level, hint in enumerate(hints, 1):
            hint_text.append(f"hint {level}/{total}: ", style="bold cyan")
            hint_text.append(hint + ("\n" if level < len(hints) else ""))
        hints_view.update(hint_text)
        hints_view.display = bool(hints)
        code = self._solutions.get(exercise.name)
        solution_view.display = code is not None
        if code is not None:
            solution_view.update(
                Syntax(code, "python", theme="ansi_dark", background_color="default")
            )

    def _result_text(self, name: str) -> Text:
        result = self._results.get(name)
        status = result.status if result else self.status(name)
        if result is None:
            if status == "not-attempted":
                return Text("not checked yet: c checks your file", style="dim")
            return Text(f"{MARKS[status]} {STATUS_WORDS[status]} (last time)", style="dim")
        text = Text(f"{MARKS[status]} {STATUS_WORDS[status]}", style=MARK_STYLES[status])
        if result.line and status in ("failed", "error"):
            text.append(f" (line {result.line})", style="bold")
        if status != "passed" and result.message:
            text.append(": " + inert(result.message))  # what the learner's code printed
        return text

    # -- the learner ---------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#exercise-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_selected()
        self.query_one("#exercise-info", VerticalScroll).scroll_home(animate=False)

    @on(OptionList.OptionSelected, "#exercise-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        """Enter: edit this exercise (the cursor goes to its ``def``)."""
        event.stop()
        exercise = self._exercises.get(event.option.id or "")
        editor = self.editor
        if exercise is not None:
            try:
                node = find_target(ast.parse(editor.text), exercise.target)
            except SyntaxError:
                node = None
            if node is not None:
                editor.move_cursor((node.lineno - 1, 0), center=True)
        editor.focus()

    @on(TextArea.Changed, "#exercise-editor")
    def _edited(self, event: TextArea.Changed) -> None:
        event.stop()
        self._show_file()

    def reveal(self, part: str) -> None:
        """Scroll the info so ``part`` (``result``, ``hints``, ``solution``) is in view."""
        widget = self.query_one(f"#exercise-{part}", Static)
        info = self.query_one("#exercise-info", VerticalScroll)
        self.call_after_refresh(info.scroll_to_widget, widget, animate=False, top=True)
