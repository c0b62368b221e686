"""The app's widgets. They display and collect input; training and grading live elsewhere."""

from tutor.widgets.chart import LiveChart
from tutor.widgets.code_view import CodeView
from tutor.widgets.confirm import ConfirmScreen
from tutor.widgets.exercise import ExerciseView
from tutor.widgets.footer import KeyFooter
from tutor.widgets.lesson_list import LessonList
from tutor.widgets.lesson_text import LessonText
from tutor.widgets.quiz import QuizView
from tutor.widgets.run_log import RunLog
from tutor.widgets.runs_table import RunsTable
from tutor.widgets.status import StatusLine
from tutor.widgets.training import TrainingView

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
    "TrainingView",
]
