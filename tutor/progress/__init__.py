"""The learner's progress: runs, quiz answers, exercise attempts and a little app state.

A single SQLite file (stdlib :mod:`sqlite3`, no ORM, no torch, no Textual; see
``docs/progress.md``). This package ``__init__`` is only its face: every name the front ends,
tests and tools import from ``tutor.progress`` is re-exported here from the module that
defines it.

- :mod:`tutor.progress.model`: row dataclasses, :class:`ProgressError`, the status sets;
- :mod:`tutor.progress.migrations`: the schema (``MIGRATIONS``, ``SCHEMA_VERSION``);
- :mod:`tutor.progress.store`: :class:`ProgressStore` (opening, recovery, transactions,
  attempts, lesson status, reset, app state), with its mixins
  :mod:`tutor.progress.runs` (run history) and :mod:`tutor.progress.answers` (quiz answers);
- :mod:`tutor.progress.pending`: runs that could not be stored yet (imported on its own).
"""

from __future__ import annotations

from tutor.progress.answers import LEARNER_ID_KEY as LEARNER_ID_KEY
from tutor.progress.answers import Prediction as Prediction
from tutor.progress.answers import QuestionRecord as QuestionRecord
from tutor.progress.migrations import APPLICATION_ID as APPLICATION_ID
from tutor.progress.migrations import MIGRATIONS as MIGRATIONS
from tutor.progress.migrations import SCHEMA_VERSION as SCHEMA_VERSION
from tutor.progress.model import ANSWER_STATUSES as ANSWER_STATUSES
from tutor.progress.model import ATTEMPT_OUTCOMES as ATTEMPT_OUTCOMES
from tutor.progress.model import LESSON_STATUSES as LESSON_STATUSES
from tutor.progress.model import AnswerStatus as AnswerStatus
from tutor.progress.model import Attempt as Attempt
from tutor.progress.model import AttemptOutcome as AttemptOutcome
from tutor.progress.model import LazyHistory as LazyHistory
from tutor.progress.model import LessonStatus as LessonStatus
from tutor.progress.model import LessonSummary as LessonSummary
from tutor.progress.model import ProgressError as ProgressError
from tutor.progress.model import StoredRun as StoredRun
from tutor.progress.runs import MAX_POINTS_PER_SERIES as MAX_POINTS_PER_SERIES
from tutor.progress.runs import MAX_RECORD_JSON_CHARS as MAX_RECORD_JSON_CHARS
from tutor.progress.runs import _dumps as _dumps
from tutor.progress.runs import decimate as decimate
from tutor.progress.store import BUSY_TIMEOUT_MS as BUSY_TIMEOUT_MS
from tutor.progress.store import DB_NAME as DB_NAME
from tutor.progress.store import ProgressStore as ProgressStore
from tutor.progress.store import hint_key as hint_key

__all__: list[str] = [
    "APPLICATION_ID",
    "Attempt",
    "LessonSummary",
    "MIGRATIONS",
    "Prediction",
    "QuestionRecord",
    "ProgressError",
    "ProgressStore",
    "SCHEMA_VERSION",
    "StoredRun",
    "decimate",
]
