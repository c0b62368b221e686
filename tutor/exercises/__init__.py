"""Exercises: functions of a lesson's code that the learner writes, checked against the lesson.

A lesson lists ``exercises:`` (see :class:`tutor.lesson.schema.Exercise` and docs/exercises.md).
This package is the face of the exercises room; the work is in its modules:

- :mod:`~tutor.exercises.workspace`: the learner's copy of the code (ensure, save, reset, watch);
- :mod:`~tutor.exercises.check`: the parent's side of a check: :func:`check_exercises` runs
  the checker child and guards the caller against hangs and crashes in learner code;
- :mod:`~tutor.exercises.checker`: the child's side (``python -m tutor.exercises.checker``),
  which calls the learner's function and the reference on the same generated inputs;
- :mod:`~tutor.exercises.compare`: what differs between the two, in words for the learner;
- :mod:`~tutor.exercises.coach`: the tutoring rules both front ends follow.

The case-spec language and the static reads of lesson code (starter code, solution, targets)
are part of the lesson format (:mod:`tutor.lesson.spec`, :mod:`tutor.lesson.source`) and are
re-exported here, where callers have always found them.

Plain Python: no Textual, and torch is imported only in the checking subprocess (or by
:func:`check_in_process`). Importing this package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tutor.exercises.check import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from tutor.exercises.check import STARTUP_TIMEOUT as STARTUP_TIMEOUT
from tutor.exercises.check import check_exercises as check_exercises
from tutor.exercises.result import STATUSES as STATUSES
from tutor.exercises.result import ExerciseResult as ExerciseResult
from tutor.exercises.result import Status as Status
from tutor.exercises.workspace import ensure_workspace as ensure_workspace
from tutor.exercises.workspace import reset_workspace as reset_workspace
from tutor.exercises.workspace import save_workspace as save_workspace
from tutor.exercises.workspace import watch_changes as watch_changes
from tutor.exercises.workspace import workspace_file as workspace_file
from tutor.lesson.source import exercise_problems as exercise_problems
from tutor.lesson.source import find_exercise as find_exercise
from tutor.lesson.source import find_target as find_target
from tutor.lesson.source import solution as solution
from tutor.lesson.source import starter_code as starter_code
from tutor.lesson.spec import SpecError as SpecError
from tutor.lesson.spec import build_arg as build_arg
from tutor.lesson.spec import parse_spec as parse_spec
from tutor.lesson.spec import spec_text as spec_text

if TYPE_CHECKING:
    from tutor.exercises.checker import check_in_process as check_in_process
    from tutor.exercises.checker import main as main


def __getattr__(name: str) -> Any:
    # The checker is the child's entry point (`python -m tutor.exercises.checker`); imported
    # with the package, runpy would find it already loaded, run it a second time and warn on
    # the child's stderr, which the learner sees when a check crashes.
    if name in ("check_in_process", "main"):
        from tutor.exercises import checker

        return getattr(checker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
