"""The five panes beside the lesson list: Lesson, Code, Train, Quiz and Exercise, as tabs.

Mounted right after the first screen is painted, not in it: the tabs and what they hold
(Markdown, the code editor, the charts) cost the first frame ~0.1 s of layout and styling
and another ~0.2 s of imports, and there is nothing to show in them before the lessons are
loaded anyway.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from tutor.ui.widgets.code_view import CodeView
from tutor.ui.widgets.exercise import ExerciseView
from tutor.ui.widgets.lesson_text import LessonText
from tutor.ui.widgets.quiz import QuizView
from tutor.ui.widgets.training import TrainingView


class Panes(Vertical):
    """``#panes``: holds ``#main-tabs`` and its ``#pane-*`` tabs with their contents."""

    def compose(self) -> ComposeResult:
        with TabbedContent(id="main-tabs", initial="pane-lesson"):
            with TabPane("1 Lesson", id="pane-lesson"):
                with VerticalScroll(id="lesson-scroll"):
                    yield LessonText("", id="lesson-text")
            with TabPane("2 Code", id="pane-code"):
                yield Static("", id="code-path", markup=False)
                with VerticalScroll(id="code-scroll"):
                    yield CodeView(id="lesson-code")
            with TabPane("3 Train", id="pane-train"):
                yield TrainingView(id="training")
            with TabPane("4 Quiz", id="pane-quiz"):
                yield QuizView(id="quiz")
            with TabPane("5 Exercise", id="pane-exercise"):
                yield ExerciseView(id="exercise")
