"""The five panes beside the lesson list: Lesson, Code, Train, Quiz and Exercise, as tabs.

One module per pane; each pane is a ``TabPane`` that owns its state, its workers and its
keys. The App hands them what they show (attributes and calls down) and hears back through
messages (:mod:`tutor.ui.messages`, and those nested in a pane).

Mounted right after the first screen is painted, not in it: the tabs and what they hold
(Markdown, the code editor, the charts) cost the first frame ~0.1 s of layout and styling
and another ~0.2 s of imports, and there is nothing to show in them before the lessons are
loaded anyway. So nothing before the first paint imports this package; their styles are in
``panes.tcss`` beside it, read when they are mounted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import TabbedContent

from tutor.lesson.catalog import LoadedLesson, Problem
from tutor.ui.messages import Say
from tutor.ui.panes.exercise import ExercisePane
from tutor.ui.panes.lesson import CodePane, LessonPane
from tutor.ui.panes.quiz import QuizPane
from tutor.ui.panes.train import TrainPane
from tutor.ui.store_link import StoreLink, reset_lesson
from tutor.ui.widgets.confirm import ConfirmScreen
from tutor.ui.widgets.lesson_list import lesson_label

__all__ = ["CodePane", "ExercisePane", "LessonPane", "Panes", "QuizPane", "TrainPane"]


class Panes(Vertical):
    """``#panes``: holds ``#main-tabs`` and its ``#pane-*`` tabs with their contents."""

    class LessonReset(Message):
        """The lesson's runs, answers and attempts were deleted: show it afresh."""

        def __init__(self, loaded: LoadedLesson) -> None:
            super().__init__()
            self.loaded = loaded

    def compose(self) -> ComposeResult:
        with TabbedContent(id="main-tabs", initial="pane-lesson"):
            yield LessonPane("1 Lesson", id="pane-lesson")
            yield CodePane("2 Code", id="pane-code")
            yield TrainPane("3 Train", id="pane-train")
            yield QuizPane("4 Quiz", id="pane-quiz")
            yield ExercisePane("5 Exercise", id="pane-exercise")

    # The panes are kept by reference: quitting still reaches them after they are unmounted.
    @cached_property
    def lesson(self) -> LessonPane:
        return self.query_one(LessonPane)

    @cached_property
    def code(self) -> CodePane:
        return self.query_one(CodePane)

    @cached_property
    def train(self) -> TrainPane:
        return self.query_one(TrainPane)

    @cached_property
    def quiz(self) -> QuizPane:
        return self.query_one(QuizPane)

    @cached_property
    def exercise(self) -> ExercisePane:
        return self.query_one(ExercisePane)

    def show_pane(self, pane: str, focus: bool = False) -> None:
        """Bring ``pane`` to the front ("": keep the one there); ``focus``: what it scrolls,
        so arrows scroll what is on screen."""
        tabs = self.query_one(TabbedContent)
        if pane:
            tabs.active = pane
        if focus:
            self.focus_pane(tabs.active)

    def focus_pane(self, pane: str) -> None:
        """Focus what pane ``pane`` scrolls, so arrows scroll what is on screen."""
        focus: dict[str, Callable[[], None]] = {
            "pane-lesson": self.lesson.focus_content,
            "pane-code": self.code.focus_content,
            "pane-train": self.train.focus_content,
            "pane-quiz": self.quiz.focus_content,
            "pane-exercise": self.exercise.focus_content,
        }
        focus.get(pane, self.train.focus_content)()

    def hand_down(self, link: StoreLink, store_note: str | None) -> None:
        """The store is open (``link.store`` None: it could not be, ``store_note`` says why)."""
        self.train.link = self.quiz.link = self.exercise.link = link
        self.train.store_note = store_note

    async def show(
        self,
        loaded: LoadedLesson,
        lang: str,
        others: Sequence[str] = (),
        values: dict[str, Any] | None = None,
    ) -> None:
        """Every pane shows ``loaded``; ``others``: the titles of lessons with exercises;
        ``values``: the form's text to keep (a language switch)."""
        await self.lesson.show(loaded, lang)
        self.code.show(loaded, lang)
        await self.train.show(loaded, lang, values)
        await self.quiz.show(loaded, lang)
        self.quiz.show_run(self.train.graded_run(loaded.id))
        self.exercise.show(loaded, lang, others)

    async def show_nothing(self, markdown: str, lang: str) -> None:
        """No lesson: ``markdown`` in the Lesson pane, the others empty."""
        await self.lesson.show_text(markdown)
        self.code.show_nothing()
        await self.train.show(None)
        await self.quiz.show(None)
        self.exercise.show(None, lang)

    async def show_problems(self, file: Path, problems: Sequence[Problem], lang: str) -> None:
        """A lesson file that cannot be used, and why."""
        await self.show_nothing("", lang)
        await self.lesson.show_problems(file, problems)
        self.code.show_problems(file, problems)

    # -- resetting a lesson's progress (R): every pane with a part in it forgets it ----------

    def ask_reset(self, loaded: LoadedLesson | None, lang: str) -> None:
        """Ask, then forget ``loaded``'s runs and answers (``ProgressStore.reset``)."""
        link = self.train.link
        if loaded is None:
            self.post_message(Say("Open a lesson first (l focuses the list)."))
        elif link is None or link.store is None:
            why = self.train.store_note
            self.post_message(Say(f"Nothing to reset: progress is not being saved ({why})."))
        elif self.train.active_run is not None and self.train.active_run.lesson_id == loaded.id:
            self.post_message(
                Say("Refused: the lesson is running: press s to stop it first.", "warning")
            )
        else:
            self.app.push_screen(
                ConfirmScreen(
                    f"Reset your progress in {lesson_label(loaded, lang)}?",
                    "Its stored runs and quiz answers are deleted. This cannot be undone.",
                    yes="Reset",
                ),
                partial(self._reset_answered, link, loaded, lang),
            )

    def _reset_answered(
        self, link: StoreLink, loaded: LoadedLesson, lang: str, yes: bool | None
    ) -> None:
        if not yes:
            self.post_message(Say("Reset cancelled: nothing was deleted."))
            return
        self.train.forget(loaded.id)
        self.exercise.forget(loaded.id)  # its attempts are deleted too
        job = partial(reset_lesson, loaded.id)
        link.submit(self, job, status_of=(loaded.id,), runs_of=loaded.id)
        self.post_message(self.LessonReset(loaded))
        title = lesson_label(loaded, lang)
        self.post_message(Say(f"Reset {title}: its runs and answers are gone.", "ok"))
