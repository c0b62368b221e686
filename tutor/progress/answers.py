"""Quiz answers, reveals, predictions and the learner id: the store's quiz half.

A mixin of :class:`tutor.progress.store.ProgressStore` (kept apart so neither file nor class
grows past reading size). Every answer row is kept; what a question's history means (attempts,
first-try correctness, reveals, "earned") is worked out here by :func:`question_records`,
once for ``dl-tutor quiz``, ``dl-tutor progress`` and the app.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

# The answer statuses are defined once, in model; the `as` keeps them importable from here.
from tutor.progress.model import ANSWER_STATUSES as ANSWER_STATUSES
from tutor.progress.model import GRADED as GRADED
from tutor.progress.model import AnswerStatus as AnswerStatus
from tutor.progress.model import StoredRun, clean_text

if TYPE_CHECKING:
    import threading

LEARNER_ID_KEY = "learner-id"


@dataclass(frozen=True)
class QuestionRecord:
    """One question's history, as the tutoring rule and the summaries need it."""

    question_id: str
    attempts: int  # graded answers (correct or wrong)
    wrong_since_correct: int  # wrong answers since the latest correct one (the rule's count)
    first_try: bool | None  # the first graded answer was right; None: never answered
    revealed: bool  # the expected value was shown (a reveal, or a second wrong attempt)
    # Counts towards "done": answered right before the value was ever shown, and the latest
    # graded answer is still right.
    earned: bool
    latest: str | None  # status of the latest answer row


@dataclass(frozen=True)
class Prediction:
    id: int
    lesson_id: str
    question_id: str
    answer: str
    at: float  # unix time the prediction was made
    graded: bool  # an answer row grades it


def question_records(rows: Iterable[tuple[str, str, int]]) -> dict[str, QuestionRecord]:
    """``(question_id, status, revealed)`` rows, oldest first → one record per question."""
    state: dict[str, dict[str, Any]] = {}
    for question_id, status, revealed in rows:
        s = state.setdefault(
            question_id,
            {"attempts": 0, "wrong": 0, "first": None, "shown": False, "once": False},
        )
        if status in GRADED:
            s["attempts"] += 1
            if s["first"] is None:  # right at once, and not after a reveal
                s["first"] = status == "correct" and not s["shown"]
            s["wrong"] = 0 if status == "correct" else s["wrong"] + 1
            if status == "correct" and not s["shown"]:
                s["once"] = True
        if revealed:
            s["shown"] = True
        s["latest"] = status
    return {
        q: QuestionRecord(
            q,
            s["attempts"],
            s["wrong"],
            s["first"],
            s["shown"],
            s["once"] and s["attempts"] > 0 and s["wrong"] == 0,
            s["latest"],
        )
        for q, s in state.items()
    }


_text = clean_text


class AnswersMixin:
    """Answers, predictions and the learner id; mixed into ``ProgressStore``."""

    if TYPE_CHECKING:  # provided by ProgressStore (_RUN_COLUMNS, _run_from_row: RunsMixin)
        _lock: threading.RLock
        _RUN_COLUMNS: str

        def _connection(self) -> sqlite3.Connection: ...
        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...
        def _read(self) -> AbstractContextManager[sqlite3.Connection]: ...
        @staticmethod
        def _run_from_row(row: Sequence[Any]) -> StoredRun: ...

    # ---------------------------------------------------------------- answers

    def record_answer(
        self,
        lesson_id: str,
        question_id: str,
        answer: str,
        status: AnswerStatus | str,
        *,
        revealed: bool = False,
        run_id: int | None = None,
        prediction_id: int | None = None,
    ) -> int:
        """Append an answer; every answer is kept. ``revealed``: the expected value was shown
        with this answer (a second wrong attempt, or status ``revealed``); ``run_id``: the run
        it was graded against; ``prediction_id``: the prediction it grades. The attempt number
        (graded answers to this question so far, this one included) is stored with it."""
        if status not in ANSWER_STATUSES:
            raise ValueError(f"unknown verdict status {status!r}; expected {ANSWER_STATUSES}")
        revealed = revealed or status == "revealed"
        with self._write() as conn:
            before = conn.execute(
                "SELECT COUNT(*) FROM answers WHERE lesson_id = ? AND question_id = ?"
                " AND status IN ('correct', 'wrong')",
                (lesson_id, question_id),
            ).fetchone()[0]
            cur = conn.execute(
                "INSERT INTO answers (lesson_id, question_id, answer, status, at, attempt,"
                " revealed, run_id, prediction_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _text(lesson_id),
                    _text(question_id),
                    _text(answer),
                    status,
                    time.time(),
                    before + (status in GRADED),
                    int(revealed),
                    run_id,
                    prediction_id,
                ),
            )
            return int(cur.lastrowid)  # type: ignore[arg-type]

    def record_reveal(self, lesson_id: str, question_id: str, run_id: int | None = None) -> int:
        """The learner asked for the answer: stored, and the question no longer counts as
        earned unless it was answered right before."""
        return self.record_answer(lesson_id, question_id, "", "revealed", run_id=run_id)

    def answers(self, lesson_id: str) -> dict[str, str]:
        """question_id -> status of the latest answer to it."""
        with self._lock:
            return dict(_latest_answers(self._connection(), lesson_id))

    def question_records(self, lesson_id: str) -> dict[str, QuestionRecord]:
        """question_id -> its history (attempts, first try, reveals, earned)."""
        with self._lock:
            rows = self._connection().execute(
                "SELECT question_id, status, revealed FROM answers WHERE lesson_id = ?"
                " ORDER BY id",
                (lesson_id,),
            )
            return question_records(rows)

    def _all_question_records(self, conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
        rows: dict[str, list[tuple[str, str, int]]] = {}
        for lesson_id, *row in conn.execute(
            "SELECT lesson_id, question_id, status, revealed FROM answers ORDER BY id"
        ):
            rows.setdefault(lesson_id, []).append((row[0], row[1], row[2]))
        return {lesson_id: question_records(r) for lesson_id, r in rows.items()}

    # ---------------------------------------------------------------- predictions

    def record_prediction(
        self, lesson_id: str, question_id: str, answer: str, at: float | None = None
    ) -> Prediction:
        """Store a prediction made now (``at``: for tests). It is graded against the first
        completed run of the lesson that starts after it (:meth:`pending_predictions`)."""
        when = time.time() if at is None else float(at)
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO predictions (lesson_id, question_id, answer, at) VALUES (?, ?, ?, ?)",
                (_text(lesson_id), _text(question_id), _text(answer), when),
            )
            pid = int(cur.lastrowid)  # type: ignore[arg-type]
        return Prediction(pid, lesson_id, question_id, answer, when, False)

    def predictions(self, lesson_id: str) -> list[Prediction]:
        """Oldest first."""
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT p.id, p.lesson_id, p.question_id, p.answer, p.at,"
                    " EXISTS (SELECT 1 FROM answers a WHERE a.prediction_id = p.id)"
                    " FROM predictions p WHERE p.lesson_id = ? ORDER BY p.id",
                    (lesson_id,),
                )
                .fetchall()
            )
        return [Prediction(row[0], row[1], row[2], row[3], row[4], bool(row[5])) for row in rows]

    def first_run_after(self, lesson_id: str, at: float) -> StoredRun | None:
        """The first completed run of the lesson that started after ``at``."""
        with self._lock:
            row = (
                self._connection()
                .execute(
                    f"SELECT {self._RUN_COLUMNS} FROM runs WHERE lesson_id = ?"
                    " AND status = 'completed' AND started_at > ? ORDER BY id LIMIT 1",
                    (lesson_id, float(at)),
                )
                .fetchone()
            )
        return None if row is None else self._run_from_row(row)

    def pending_predictions(self, lesson_id: str) -> list[tuple[Prediction, StoredRun]]:
        """Predictions ready to grade, each with the run it predicts. Of several predictions
        of one question made before the same run, the latest counts (a changed mind); none
        is returned twice once its answer is recorded with ``prediction_id``."""
        latest: dict[tuple[str, int], tuple[Prediction, StoredRun]] = {}
        graded: set[tuple[str, int]] = set()
        for p in self.predictions(lesson_id):
            run = self.first_run_after(lesson_id, p.at)
            if run is None:
                continue
            key = (p.question_id, run.id)
            if p.graded:
                graded.add(key)
            latest[key] = (p, run)
        return [pair for key, pair in latest.items() if key not in graded]

    # ---------------------------------------------------------------- the learner

    def learner_id(self) -> str:
        """A random id made once per progress file; it seeds the order of choice options
        (:func:`tutor.quiz_coach.option_order`). Two processes asking at once get one id."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO app_state (key, value) VALUES (?, ?)",
                (LEARNER_ID_KEY, secrets.token_hex(8)),
            )
            return str(
                conn.execute(
                    "SELECT value FROM app_state WHERE key = ?", (LEARNER_ID_KEY,)
                ).fetchone()[0]
            )


def _latest_answers(conn: sqlite3.Connection, lesson_id: str) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT a.question_id, a.status FROM answers a"
        " JOIN (SELECT MAX(id) AS id FROM answers WHERE lesson_id = ?"
        "       GROUP BY question_id) latest ON a.id = latest.id",
        (lesson_id,),
    ).fetchall()
