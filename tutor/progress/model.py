"""What the progress store keeps, as Python sees it: the row dataclasses, the error, ONE
definition of each status set (answer statuses, attempt outcomes, lesson statuses), and what
text a column may hold (:func:`clean_text`).

Plain data: no sqlite, no torch, no Textual. The store (:mod:`tutor.progress.store`), its
quiz half (:mod:`tutor.progress.answers`) and the front ends all read these names from here,
so a new status is added in one place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tutor.events import CheckResult, RunResult

# --------------------------------------------------------------------------- status sets

AnswerStatus = Literal["correct", "wrong", "needs-run", "invalid", "revealed"]
# Every status tutor.quiz.grade / reveal can return, except "too-late" (a refused prediction
# is not an answer).
ANSWER_STATUSES: tuple[str, ...] = ("correct", "wrong", "needs-run", "invalid", "revealed")
GRADED: tuple[str, ...] = ("correct", "wrong")  # the statuses that count as an attempt

AttemptOutcome = Literal["passed", "failed", "error"]
ATTEMPT_OUTCOMES: tuple[str, ...] = ("passed", "failed", "error")

LessonStatus = Literal["new", "started", "done"]
LESSON_STATUSES: tuple[str, ...] = ("new", "started", "done")


_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """SQLite stores UTF-8, and a lone surrogate (a bad terminal paste) cannot be encoded:
    the INSERT would raise. Replace just those code points with U+FFFD, keep the rest."""
    return _SURROGATES.sub("\ufffd", value)


class ProgressError(Exception):
    """The progress database cannot be used, and moving it aside would be wrong
    (for example it was written by a newer dl-tutor)."""


# --------------------------------------------------------------------------- records


class LazyHistory(Mapping[str, list[tuple[float, float]]]):
    """A stored run's curves, decoded from their JSON when first used.

    Listing runs (the runs table, ``dl-tutor runs``) reads every row but draws no curve; a
    run's history is most of its row (~35 kB of JSON for a default CNN run). With 1,000 runs
    stored, decoding the 50 newest histories was most of the runs table's query, and all of
    them most of ``dl-tutor runs --limit 1000`` (bench/scaling.py).
    """

    __slots__ = ("_text", "_data")

    def __init__(self, text: str) -> None:
        self._text = text
        self._data: dict[str, list[tuple[float, float]]] | None = None

    def _decoded(self) -> dict[str, list[tuple[float, float]]]:
        # Two threads may both decode the first time; they build equal dicts, either is kept.
        data = self._data
        if data is None:
            data = {
                name: [(p[0], p[1]) for p in points]
                for name, points in json.loads(self._text).items()
            }
            self._data = data
        return data

    def __getitem__(self, name: str) -> list[tuple[float, float]]:
        return self._decoded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return repr(self._decoded())


@dataclass(frozen=True)
class StoredRun:
    id: int
    lesson_id: str
    status: str  # completed | cancelled | diverged | failed
    params: dict[str, Any]
    seed: int | None
    device: str
    dataset: str
    seconds: float
    metrics: dict[str, Any]
    history: Mapping[str, list[tuple[float, float]]]  # decimated to MAX_POINTS_PER_SERIES
    checks: list[dict[str, Any]]  # CheckResult.as_dict() of each check
    started_at: float  # unix time
    finished_at: float
    passed: bool  # completed and every check passed (RunResult.ok at the time)
    error: str | None = None
    records: dict[str, Any] | None = None
    records_omitted: tuple[str, ...] = ()

    def to_result(self) -> RunResult:
        """A RunResult again, so ``quiz.run_values`` can grade answers against a stored run
        after a restart. Records that were too big to store are missing."""
        return RunResult(
            lesson_id=self.lesson_id,
            status=self.status,  # type: ignore[arg-type]  # stored from a RunResult
            params=dict(self.params),
            seed=self.seed,
            device=self.device,
            dataset=self.dataset,
            seconds=self.seconds,
            metrics=dict(self.metrics),
            history={k: list(v) for k, v in self.history.items()},
            records=dict(self.records or {}),
            checks=[
                CheckResult(
                    name=c.get("name", ""),
                    passed=bool(c.get("passed")),
                    value=c.get("value"),
                    expected=c.get("expected", ""),
                    error=c.get("error"),
                )
                for c in self.checks
            ],
            error=self.error,
        )


@dataclass(frozen=True)
class Attempt:
    id: int
    lesson_id: str
    exercise: str
    outcome: str  # passed | failed | error
    message: str
    at: float


@dataclass(frozen=True)
class LessonSummary:
    """One row of the ``dl-tutor progress`` table."""

    lesson_id: str
    title: str
    status: LessonStatus
    runs: int
    last_run_status: str | None
    last_run_at: float | None
    passed_run: bool  # some run completed with every check passing
    # Questions answered right before their value was shown (first try or after a hint);
    # "done" needs all of them.
    questions_correct: int
    questions: int
    exercises_passed: int  # distinct exercises with at least one passed attempt
    exercises_tried: int
    questions_first_try: int = 0  # questions whose first graded answer was right
    questions_revealed: int = 0  # questions whose value was shown (reveal or 2nd wrong try)
