"""What the Quiz pane asks of the quiz engine and the store, on worker threads.

Each function grades (:mod:`tutor.quiz`), applies the tutoring rule with the question's stored
record (:func:`tutor.quiz_coach.next_feedback`) and stores what happened: the same steps as
``dl-tutor quiz`` (:class:`tutor.cli.quiz.Session`), so both front ends count attempts and
reveals alike. They block on SQLite and may import numpy: never call them on the UI thread.
The last argument is the store (``None``: progress is not saved; :class:`Memory` then keeps
the counts the rule needs for the session). No Textual here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tutor import quiz
from tutor.progress import ANSWER_STATUSES
from tutor.quiz_coach import Feedback, next_feedback, option_order

if TYPE_CHECKING:
    from tutor.lesson.schema import Question
    from tutor.progress import ProgressStore

ANONYMOUS = "anonymous"  # the learner id without a store (as `dl-tutor quiz`)


@dataclass
class Memory:
    """Without a store: wrong attempts since the last right answer, and reveals, per
    ``(lesson id, question id)`` for this session."""

    wrong: dict[tuple[str, str], int] = field(default_factory=dict)
    revealed: set[tuple[str, str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class GradedPrediction:
    question_id: str
    answer: str  # as the learner typed it
    run_id: int  # the run it was graded against
    feedback: Feedback


@dataclass(frozen=True)
class QuizState:
    """What the pane shows of a lesson's quiz from the store (:func:`catch_up`)."""

    lesson_id: str
    learner: str
    graded: list[GradedPrediction]  # predictions graded just now
    waiting: dict[str, str]  # question id -> the latest prediction no run has graded yet


def learner_of(store: ProgressStore | None) -> str:
    return store.learner_id() if store is not None else ANONYMOUS


def order_for(learner: str, lesson_id: str, question: Question) -> list[int] | None:
    """The order ``learner`` sees a choice question's options in (None: not a choice)."""
    if question.kind != "choice":
        return None
    return option_order(learner, lesson_id, question.id, len(question.options or []))


def answer(
    lesson_id: str,
    question: Question,
    text: str,
    values: dict[str, Any] | None,
    lang: str,
    run_id: int | None,
    memory: Memory,
    store: ProgressStore | None,
) -> Feedback:
    """Grade an answer typed as the options are shown, against the run's ``values``."""
    order = order_for(learner_of(store), lesson_id, question)
    verdict = quiz.grade(question, text, values, lang, order)
    return _record(lesson_id, question, text, verdict, lang, run_id, memory, store)


def reveal(
    lesson_id: str,
    question: Question,
    values: dict[str, Any] | None,
    lang: str,
    run_id: int | None,
    memory: Memory,
    store: ProgressStore | None,
) -> Feedback:
    """The learner asks for the answer: shown, and stored as a reveal."""
    order = order_for(learner_of(store), lesson_id, question)
    verdict = quiz.reveal(question, values, lang, order)
    feedback = next_feedback(question, 0, verdict, lang)
    if verdict.status != "revealed":  # no run yet: nothing was shown
        return feedback
    if store is not None:
        store.record_reveal(lesson_id, question.id, run_id if question.grounded else None)
    else:
        with memory.lock:
            memory.revealed.add((lesson_id, question.id))
    return feedback


def predict(
    lesson_id: str,
    question: Question,
    text: str,
    at: float,
    running_since: float | None,
    store: ProgressStore | None,
) -> Feedback:
    """Store a prediction made at ``at`` for the lesson's next run. Refused (``too-late``)
    while the lesson runs (``running_since``: when that run started): it would predict a run
    whose curves are already on screen."""
    if running_since is not None:
        late = quiz.grade_prediction(question, text, None, at, running_since)
        if late.status == "too-late":
            return Feedback(
                "too-late",
                "Too late for this run: a prediction must be made before the run it "
                "predicts. Make it again once the run ends: it counts for your next run.",
            )
    try:  # an unreadable prediction is refused now, not after the run
        quiz.check_readable(question, text)
    except quiz.AnswerError as e:
        return Feedback("invalid", str(e))
    if store is None:
        return Feedback("invalid", "Predictions need the progress store, which is not available.")
    store.record_prediction(lesson_id, question.id, text, at=at)
    return saved(text)


def saved(prediction: str) -> Feedback:
    """A prediction stored and not graded yet (also shown again after a restart)."""
    return Feedback(
        "predicted", f"Prediction saved ({prediction.strip()}): graded after your next run."
    )


def catch_up(
    lesson_id: str, questions: list[Question], lang: str, store: ProgressStore
) -> QuizState:
    """The learner id; predictions whose run has completed since, graded and stored now
    (against the stored run, as ``dl-tutor quiz`` does); the predictions still waiting."""
    learner = store.learner_id()
    by_id = {q.id: q for q in questions}
    graded = []
    for p, run in store.pending_predictions(lesson_id):
        q = by_id.get(p.question_id)
        if q is None:  # the question was removed from the lesson since
            continue
        values = quiz.run_values(run.to_result())
        order = order_for(learner, lesson_id, q)
        verdict = quiz.grade_prediction(q, p.answer, values, p.at, run.started_at, lang, order)
        feedback = _record(lesson_id, q, p.answer, verdict, lang, run.id, Memory(), store, p.id)
        graded.append(GradedPrediction(q.id, p.answer, run.id, feedback))
    waiting = {
        p.question_id: p.answer
        for p in store.predictions(lesson_id)  # oldest first: the latest wins
        if not p.graded and store.first_run_after(lesson_id, p.at) is None
    }
    return QuizState(lesson_id, learner, graded, waiting)


def _record(
    lesson_id: str,
    question: Question,
    text: str,
    verdict: quiz.Verdict,
    lang: str,
    run_id: int | None,
    memory: Memory,
    store: ProgressStore | None,
    prediction_id: int | None = None,
) -> Feedback:
    """The rule with the question's record, then the answer stored (not a refused one)."""
    key = (lesson_id, question.id)
    if store is None:
        with memory.lock:
            feedback = next_feedback(
                question, memory.wrong.get(key, 0), verdict, lang, key in memory.revealed
            )
            if feedback.counts:
                memory.wrong[key] = memory.wrong.get(key, 0) + 1 if not verdict.correct else 0
            if feedback.revealed:
                memory.revealed.add(key)
        return feedback
    record = store.question_records(lesson_id).get(question.id)
    wrong_before, revealed_before = (
        (record.wrong_since_correct, record.revealed) if record else (0, False)
    )
    feedback = next_feedback(question, wrong_before, verdict, lang, revealed_before)
    if verdict.status in ANSWER_STATUSES:
        store.record_answer(
            lesson_id,
            question.id,
            text,
            verdict.status,
            revealed=feedback.revealed,
            run_id=run_id if question.grounded else None,
            prediction_id=prediction_id,
        )
    return feedback
