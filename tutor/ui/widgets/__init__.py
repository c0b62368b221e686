"""The app's widgets. They display and collect input; training and grading live elsewhere.

Each widget is imported from its own module on first use (``from tutor.ui.widgets import X``
works as usual): the first screen needs only the title bar, the lesson list, the status
line and the footer, and the panes' modules (charts, the code editor, Markdown) cost ~0.2 s
to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutor.ui.widgets.chart import LiveChart
    from tutor.ui.widgets.code_view import CodeView
    from tutor.ui.widgets.confirm import ConfirmScreen
    from tutor.ui.widgets.exercise import ExerciseView
    from tutor.ui.widgets.footer import KeyFooter
    from tutor.ui.widgets.lesson_list import LessonList
    from tutor.ui.widgets.lesson_text import LessonText
    from tutor.ui.widgets.quiz import QuizView
    from tutor.ui.widgets.run_log import RunLog
    from tutor.ui.widgets.runs_table import RunsTable
    from tutor.ui.widgets.status import StatusLine
    from tutor.ui.widgets.title_bar import TitleBar
    from tutor.ui.widgets.training import TrainingView

_MODULES = {
    "CodeView": "code_view",
    "ConfirmScreen": "confirm",
    "ExerciseView": "exercise",
    "KeyFooter": "footer",
    "LessonList": "lesson_list",
    "LessonText": "lesson_text",
    "LiveChart": "chart",
    "QuizView": "quiz",
    "RunLog": "run_log",
    "RunsTable": "runs_table",
    "StatusLine": "status",
    "TitleBar": "title_bar",
    "TrainingView": "training",
}

__all__ = [
    "CodeView",
    "ConfirmScreen",
    "ExerciseView",
    "KeyFooter",
    "LessonList",
    "LessonText",
    "LiveChart",
    "QuizView",
    "RunLog",
    "RunsTable",
    "StatusLine",
    "TitleBar",
    "TrainingView",
]


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
