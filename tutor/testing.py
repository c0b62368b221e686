"""A testing kit for lesson authors and for the project's own tests (docs/testing.md).

Drive the app like a learner, from any pytest file::

    pytest_plugins = ["tutor.testing"]          # in a conftest.py: the ``tutor_env`` fixture

    async def test_my_lesson(tutor_env):
        app = TutorApp([MY_LESSONS], builtin=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            ...

Nothing here waits on time: ``until`` wakes on each message the app handles. Importing this
module imports neither torch nor Textual (Textual is imported by the helpers that need it), so
a test collection stays quick. ``tools/imports.py`` counts it as a front end, like tutor.ui.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from textual.app import App
    from textual.pilot import Pilot

    from tutor.events import RunResult
    from tutor.lesson.catalog import LoadedLesson
    from tutor.ui.app import TutorApp

SAFETY_SECONDS = 180  # only a broken test ever gets near this; nothing waits for it


# -- a private place for the tutor's files ---------------------------------------------------


def isolate(monkeypatch: pytest.MonkeyPatch, root: Path) -> Path:
    """Point every dl-tutor location under ``root`` and forbid downloads.

    Sets DL_TUTOR_DATA_DIR (``root/data``), DL_TUTOR_CACHE_DIR (``root/cache``),
    DL_TUTOR_OFFLINE=1 and DL_TUTOR_NO_WARM_UP=1 (see tutor/paths.py), unsets
    DL_TUTOR_DATASETS; returns ``root``.
    """
    monkeypatch.setenv("DL_TUTOR_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("DL_TUTOR_CACHE_DIR", str(root / "cache"))
    monkeypatch.setenv("DL_TUTOR_OFFLINE", "1")
    # Most of a test's spare training processes never run: their 2 s warm-up import would
    # only compete with the test for the CPU.
    monkeypatch.setenv("DL_TUTOR_NO_WARM_UP", "1")
    monkeypatch.delenv("DL_TUTOR_DATASETS", raising=False)
    return root


@pytest.fixture
def tutor_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Progress, exercise workspace and cache in ``tmp_path``; no downloads. Returns tmp_path."""
    yield isolate(monkeypatch, tmp_path)


# -- driving the app -----------------------------------------------------------------------


def tutor_app(*lesson_dirs: Path | str, builtin: bool = False, **kwargs: Any) -> TutorApp:
    """The app with these lesson directories (without the built-in lessons unless ``builtin``);
    run it with ``async with app.run_test(size=(100, 30)) as pilot``."""
    from tutor.ui.app import TutorApp

    return TutorApp([Path(d) for d in lesson_dirs], builtin=builtin, **kwargs)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], rounds: int = 5000) -> None:
    """Let the app run until ``condition()`` holds.

    Each round waits for the app to handle one more message (a run's progress, a worker's
    state change, ...) rather than for some time to pass.
    """
    app = pilot.app
    handled = asyncio.Event()
    app.message_signal.subscribe(app, lambda _message: handled.set(), immediate=True)

    async def loop() -> bool:
        for _ in range(rounds):
            handled.clear()
            await pilot.pause()
            if condition():
                return True
            await handled.wait()
        return False

    try:
        reached = await asyncio.wait_for(loop(), SAFETY_SECONDS)
    finally:
        app.message_signal.unsubscribe(app)
    assert reached, "the app never reached the expected state"


def _tutor_app(pilot: Pilot[Any]) -> TutorApp:
    from tutor.ui.app import TutorApp

    app = pilot.app
    assert isinstance(app, TutorApp), app
    return app


async def started(pilot: Pilot[Any]) -> None:
    """Wait for start-up: lessons loaded, store opened, the first lesson shown.

    The first screen is painted before (the list from the cached index, if any).
    """
    app = _tutor_app(pilot)
    await until(pilot, lambda: app.startup_done)


async def finish_run(pilot: Pilot[Any]) -> RunResult:
    """Await the training worker, then let the app handle the run's last messages."""
    app = _tutor_app(pilot)
    await app.workers.wait_for_complete()
    await until(pilot, lambda: app.active_run is None)
    assert app.last_result is not None
    return app.last_result


async def open_by_keys(pilot: Pilot[Any], index: int) -> None:
    """Focus the lesson list (l), move to entry ``index`` with the arrows, Enter."""
    await pilot.press("l", "home", *["down"] * index, "enter")
    await pilot.pause()


async def graded(pilot: Pilot[Any]) -> None:
    """Until every submitted quiz answer is graded (grading runs on a worker thread)."""
    app = _tutor_app(pilot)
    await until(pilot, lambda: app.grading == 0)


async def store_settled(pilot: Pilot[Any]) -> None:
    """Wait until every store job (and every run to store) is reflected in the UI."""
    app = _tutor_app(pilot)
    await until(pilot, lambda: app.store_pending == 0)


async def type_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    """Replace an input's text by typing, as a learner would."""
    from textual.widgets import Input

    pilot.app.query_one(selector, Input).focus()
    await pilot.press("end", "ctrl+u", *text)


def text_of(app: App[Any], selector: str) -> str:
    """The plain text a Static, Log, Markdown or the status line shows."""
    from rich.text import Text
    from textual.widgets import Markdown, Static

    from tutor.ui.widgets import RunLog, StatusLine

    widget = app.query_one(selector)
    if isinstance(widget, (StatusLine, RunLog)):
        return widget.text  # a log: the lines as written, before wrapping to the pane's width
    if isinstance(widget, Markdown):
        return widget.source
    assert isinstance(widget, Static), widget
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


# -- what the right answer is ------------------------------------------------------------------


def expected_answer(
    app_or_result: TutorApp | RunResult, lesson: LoadedLesson | str, question_id: str
) -> Any:
    """The expected answer of quiz question ``question_id`` after a run, as the app grades it
    (``tutor.quiz.expected_value`` over ``tutor.quiz.run_values``).

    ``app_or_result``: the app (its last run) or a RunResult; ``lesson``: a LoadedLesson, or a
    lesson id the app knows. A choice question's answer is the option index.
    """
    from tutor import quiz
    from tutor.events import RunResult

    if isinstance(app_or_result, RunResult):
        result: RunResult | None = app_or_result
    else:
        result = app_or_result.last_result
    if isinstance(lesson, str):
        assert not isinstance(app_or_result, RunResult), "pass a LoadedLesson with a RunResult"
        found = app_or_result.catalog.get(lesson)
        assert found is not None, f"the app has no lesson {lesson!r}"
        lesson = found
    assert result is not None, "no run yet"
    question = next((q for q in lesson.lesson.quiz if q.id == question_id), None)
    assert question is not None, f"lesson {lesson.id!r} has no question {question_id!r}"
    return quiz.expected_value(question, quiz.run_values(result))


def shown_letter(app: TutorApp, lesson_id: str, question_id: str, index: int) -> str:
    """The letter a choice question's option ``index`` (its place in the lesson file, as
    ``expected_answer`` gives it) is shown under for this app's learner: each learner sees the
    options in an order of their own (``tutor.quiz_coach.option_order``). Call it once the
    store is settled (``store_settled``)."""
    from tutor.quiz import option_label
    from tutor.ui.quiz_jobs import ANONYMOUS, order_for

    found = app.catalog.get(lesson_id)
    assert found is not None, f"the app has no lesson {lesson_id!r}"
    question = next((q for q in found.lesson.quiz if q.id == question_id), None)
    assert question is not None and question.kind == "choice", f"no choice {question_id!r}"
    order = order_for(app.store.learner_id() if app.store else ANONYMOUS, lesson_id, question)
    return option_label(order.index(index) if order else index)
