"""The Exercise pane (5): editing the learner's file in the app, checks, hints, the solution,
reset, $EDITOR, and training with the learner's code.

Driven by keys only. Checks are real (a subprocess that imports torch: seconds each), so
there are few of them; tests wait for a check with ``until(not app.checking)`` and for the
store with ``store_settled``, never with sleeps.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import LESSON_01, ROOT
from rich.syntax import Syntax
from textual.pilot import Pilot
from textual.widgets import TextArea

from tutor import exercises
from tutor.lesson.loader import LoadedLesson, load_lesson
from tutor.progress import ProgressStore, hint_key
from tutor.testing import finish_run, open_by_keys, started, store_settled, text_of, until
from tutor.ui.app import TutorApp
from tutor.ui.run_link import ActiveRun
from tutor.ui.widgets import ConfirmScreen, ExerciseView
from tutor.ui.widgets import exercise as exercise_widget

pytestmark = pytest.mark.usefixtures("tutor_env")

LESSON_02 = ROOT / "lessons" / "02-linear-regression-scratch"
LR = "linear-regression-scratch"
GD_INDEX, LR_INDEX = 0, 1  # positions in the lesson list
# Exercises of lesson 02, in the order of the pane's list.
DATA_ITER, LINREG, SQUARED_LOSS, SGD = range(4)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ProgressStore]:
    store = ProgressStore(tmp_path / "p.sqlite3")
    yield store
    store.close()


@pytest.fixture
def app(store: ProgressStore) -> TutorApp:
    return TutorApp([LESSON_01, LESSON_02], builtin=False, store=store)


def lesson(app: TutorApp) -> LoadedLesson:
    loaded = app.catalog.get(LR)
    assert loaded is not None
    return loaded


def view(app: TutorApp) -> ExerciseView:
    return app.query_one("#exercise", ExerciseView)


def function_lines(text: str, target: str) -> tuple[int, int]:
    """First and last line (1-based) of ``target`` in ``text``."""
    node = exercises.find_target(ast.parse(text), target)
    assert node is not None and node.end_lineno is not None
    return node.lineno, node.end_lineno


async def open_exercise(pilot: Pilot[None], index: int) -> None:
    """Lesson 02, pane 5, the exercise at ``index`` in the list (focused)."""
    await open_by_keys(pilot, LR_INDEX)
    await pilot.press("5", "home", *["down"] * index)
    await store_settled(pilot)


async def edit_function(pilot: Pilot[None], index: int, target: str) -> None:
    """Enter on the list: the editor, its cursor on ``target``'s def line; then select the
    whole function with shift+down (the next keys replace it)."""
    app = pilot.app
    await pilot.press("home", *["down"] * index, "enter")
    editor = app.query_one("#exercise-editor", TextArea)
    assert app.focused is editor
    first, last = function_lines(editor.text, target)
    assert editor.cursor_location == (first - 1, 0)
    await pilot.press(*["shift+down"] * (last - first + 1))


async def checked(pilot: Pilot[None]) -> None:
    """Wait for the running check to end and its attempts to be stored."""
    app = pilot.app
    assert isinstance(app, TutorApp)
    assert app.checking, "no check was started"
    await until(pilot, lambda: not app.checking)
    await store_settled(pilot)


# -- tests ---------------------------------------------------------------------------------


async def test_pane_hints_and_the_solution_gate(app: TutorApp, store: ProgressStore) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_by_keys(pilot, GD_INDEX)  # lesson 01 has no exercises
        await pilot.press("5")
        assert app.query_one("#main-tabs").active == "pane-exercise"
        assert "This lesson has no exercises" in text_of(app, "#exercise-empty")
        assert "03 Linear regression from scratch" in text_of(app, "#exercise-empty")

        await open_exercise(pilot, SQUARED_LOSS)
        loaded = lesson(app)
        path = exercises.workspace_file(loaded)
        assert text_of(app, "#exercise-file").startswith(f"your file: {path}")
        assert view(app).code == exercises.starter_code(loaded) == path.read_text()
        if exercise_widget.HIGHLIGHT:  # tree-sitter-python installed
            assert app.query_one("#exercise-editor", TextArea).language == "python"
        marks = [o.prompt.plain for o in app.query_one("#exercise-list").options]
        assert marks == ["○ data_iter", "○ linreg", "○ squared_loss", "○ sgd"]
        assert "Return half the squared error" in text_of(app, "#exercise-task")

        # h: the next hint each time (h is "runs" elsewhere; here it is the pane's).
        exercise = exercises.find_exercise(loaded, "squared_loss")
        n = len(exercise.hints)
        assert n >= 2
        await pilot.press("h")
        assert app.query_one("#main-tabs").active == "pane-exercise"
        assert text_of(app, "#exercise-hints") == f"hint 1/{n}: {exercise.hints[0].get('en')}"
        await pilot.press("h")
        hints = text_of(app, "#exercise-hints")
        assert f"hint 2/{n}: {exercise.hints[1].get('en')}" in hints and f"hint 1/{n}" in hints
        assert text_of(app, "#status").startswith(f"Hint 2/{n} for squared_loss")
        await store_settled(pilot)
        assert store.get_state(hint_key(LR, "squared_loss")) == "2"  # as `dl-tutor hint` does

        # S before any failed attempt: refused, nothing shown.
        await pilot.press("S")
        assert text_of(app, "#status").startswith("Refused: the solution to squared_loss")
        assert not app.query_one("#exercise-solution").display

    # A new session shows the hints seen so far, from the store.
    again = TutorApp([LESSON_01, LESSON_02], builtin=False, store=store)
    async with again.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("5", "home", *["down"] * SQUARED_LOSS)  # 02 was open last
        await store_settled(pilot)
        assert "hint 2/3" in text_of(again, "#exercise-hints")


async def test_edit_save_failing_check_then_solution(
    app: TutorApp, store: ProgressStore, tmp_path: Path
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_exercise(pilot, SQUARED_LOSS)
        loaded = lesson(app)
        own_code = loaded.code()
        path = exercises.workspace_file(loaded)
        editor = app.query_one("#exercise-editor", TextArea)

        # Type a wrong body in place of the TODO's raise (no reshape of y, no / 2).
        await pilot.press("enter")
        first, last = function_lines(editor.text, "squared_loss")
        await pilot.press(*["down"] * (last - first), "home", "ctrl+k", *"return (y_hat - y) ** 2")
        assert "return (y_hat - y) ** 2" in editor.text
        assert "modified" in text_of(app, "#exercise-file")
        assert "# TODO" in path.read_text()  # not saved yet

        # ctrl+s saves (the file changes, the lesson's own file does not) and checks.
        await pilot.press("ctrl+s")
        assert path.read_text() == editor.text
        assert loaded.code() == own_code
        await checked(pilot)
        assert view(app).status("squared_loss") == "failed"
        assert app.query_one("#exercise-list").get_option("squared_loss").prompt.plain == (
            "✗ squared_loss"
        )
        result = text_of(app, "#exercise-result")
        assert result.startswith(f"✗ failed (line {first}): squared_loss(")
        assert "expected" in result
        assert "✗ squared_loss" in text_of(app, "#status")
        outcomes = {a.exercise: a.outcome for a in store.attempts(LR)}
        # Not-attempted TODOs are not attempts.
        assert outcomes == {"squared_loss": "failed"}

        # After the failed attempt, S shows the lesson's code (focus back on the list first:
        # in the editor, S is a letter).
        await pilot.press("escape")
        assert app.focused is app.query_one("#exercise-list")
        await pilot.press("S")
        solution = app.query_one("#exercise-solution")
        assert solution.display
        assert isinstance(solution.content, Syntax)
        assert solution.content.code == exercises.solution(loaded, "squared_loss")


async def test_passing_check_with_the_reference_pasted(app: TutorApp, store: ProgressStore) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_exercise(pilot, LINREG)
        loaded = lesson(app)
        await edit_function(pilot, LINREG, "linreg")
        app.copy_to_clipboard(exercises.solution(loaded, "linreg"))
        await pilot.press("ctrl+v", "escape", "c")  # c checks from the list (saving first)
        await checked(pilot)
        assert exercises.workspace_file(loaded).read_text() == view(app).code
        assert view(app).status("linreg") == "passed"
        assert text_of(app, "#exercise-result") == "✓ passed"
        assert view(app).status("squared_loss") == "not-attempted"
        assert text_of(app, "#status").startswith("Checked: 1/4 exercises passed")
        assert [(a.exercise, a.outcome) for a in store.attempts(LR)] == [("linreg", "passed")]


async def test_reset_asks_and_keeps_a_backup(
    app: TutorApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without tree-sitter (textual[syntax]) the editor is plain text and works the same.
    monkeypatch.setattr(exercise_widget, "HIGHLIGHT", False)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_exercise(pilot, SGD)
        assert app.query_one("#exercise-editor", TextArea).language is None
        loaded = lesson(app)
        path = exercises.workspace_file(loaded)
        starter = exercises.starter_code(loaded)
        await pilot.press("enter", *"# my notes", "enter")
        edited = view(app).code
        assert edited != starter

        await pilot.press("ctrl+r")  # works in the editor too
        assert isinstance(app.screen, ConfirmScreen)
        assert "Reset your code for 03" in str(app.screen.query_one("#confirm-question").content)
        await pilot.press("n")
        assert not isinstance(app.screen, ConfirmScreen)
        assert view(app).code == edited
        assert text_of(app, "#status") == "Reset cancelled: your code is unchanged."

        await pilot.press("ctrl+r", "y")
        await pilot.pause()
        assert view(app).code == starter == path.read_text()
        backup = path.with_name(path.name + ".bak")
        assert backup.read_text() == edited  # the unsaved edits were saved first
        assert text_of(app, "#status").startswith(f"Reset {path.name} to the starter")


EDITOR_SCRIPT = """\
import sys
from pathlib import Path

path = Path(sys.argv[1])
text = path.read_text()
path.write_text(text.replace('raise NotImplementedError("write linreg")', "return X @ w + b"))
"""


async def test_external_editor_round_trip(
    app: TutorApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_exercise(pilot, LINREG)
        await pilot.press("e")
        assert text_of(app, "#status").startswith("Set $VISUAL or $EDITOR")
        assert not app.checking

        script = tmp_path / "editor.py"
        script.write_text(EDITOR_SCRIPT)
        # Under run_test the headless driver cannot suspend: the editor still runs.
        monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
        await pilot.press("e")
        assert "return X @ w + b" in view(app).code  # reloaded
        assert not view(app).modified
        await checked(pilot)  # and checked again
        assert view(app).status("linreg") == "passed"


def learner_code(loaded: LoadedLesson, sgd_update: str) -> str:
    """The lesson's code with another update line in ``sgd``."""
    code = loaded.code()
    line = "param -= lr * param.grad / batch_size"
    assert line in code
    return code.replace(line, sgd_update)


async def test_training_with_my_code(app: TutorApp, monkeypatch: pytest.MonkeyPatch) -> None:
    # What each run was started with (a wrong sgd may diverge before the test looks).
    runs_started: list[tuple[Path | None, bool]] = []
    show_run_started = app._show_run_started  # the screen's part of starting a run

    def spy(run: ActiveRun) -> None:
        show_run_started(run)
        runs_started.append((run.code_path, "with your code" in text_of(app, "#status")))

    monkeypatch.setattr(app, "_show_run_started", spy)
    loaded = load_lesson(LESSON_02 / "lesson.yaml")  # the app loads it after its first paint
    path = exercises.workspace_file(loaded)
    # Gradient ascent: every step makes the loss bigger.
    exercises.save_workspace(loaded, learner_code(loaded, "param += lr * param.grad / batch_size"))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_by_keys(pilot, LR_INDEX)
        await pilot.press("3")
        assert text_of(app, "#run-code").startswith("code: the lesson's")
        await pilot.press("m")
        assert text_of(app, "#run-code").startswith(f"code: yours (…/workspace/{LR}/{path.name})")
        await pilot.press("r")
        wrong = await finish_run(pilot)
        assert runs_started == [(path, True)]
        if wrong.status != "diverged":  # else it ended on a NaN/inf loss
            losses = [v for _, v in wrong.history["train_loss"]]
            assert losses[-1] > losses[0]
        assert not wrong.ok

        # The right update, typed in the app: the run saves the editor first, completes and
        # passes the lesson's checks.
        await pilot.press("5", "home", *["down"] * SGD, "enter")
        editor = app.query_one("#exercise-editor", TextArea)
        first, _ = function_lines(editor.text, "sgd")
        row = editor.text.splitlines().index("            param += lr * param.grad / batch_size")
        await pilot.press(*["down"] * (row - first + 1), "home", "ctrl+k")
        await pilot.press(*"param -= lr * param.grad / batch_size", "escape", "3", "r")
        assert path.read_text() == loaded.code()
        good = await finish_run(pilot)
        assert good.status == "completed" and good.ok
        assert runs_started[1] == (path, True)

        await pilot.press("m")
        assert text_of(app, "#run-code").startswith("code: the lesson's")
