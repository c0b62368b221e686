"""``dl-tutor quiz ID``: a lesson's quiz in a plain terminal, or graded from flags for scripts.

Grading is :mod:`tutor.quiz`, what to show after an answer is :mod:`tutor.quiz_coach` (the
same rule as the app's Quiz pane), attempts and reveals are counted in the progress store so
they hold across invocations. docs/quiz.md documents the command. Plain ``input()`` prompts:
works over SSH and with ``TERM=dumb``.

This module does not import :mod:`tutor.cli` (that imports it): the lesson and the store are
handed in by :func:`run_quiz`'s caller.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from tutor.lesson.catalog import LoadedLesson
    from tutor.lesson.schema import Question
    from tutor.progress import ProgressStore, StoredRun
    from tutor.quiz_coach import Feedback

PROG = "dl-tutor"
MARKS = {"correct": "✓", "wrong": "✗", "revealed": "→", "predicted": "…"}


def add_quiz_parser(sub: Any) -> None:
    p = sub.add_parser("quiz", help="answer a lesson's quiz against your latest run")
    p.add_argument("lesson", metavar="ID", help="lesson id (or its order number)")
    p.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="QID=VALUE",
        help="grade this answer without asking (repeatable); choices by their shown letter",
    )
    p.add_argument(
        "--reveal", action="append", default=[], metavar="QID", help="show the answer (recorded)"
    )
    p.add_argument(
        "--predict",
        action="append",
        default=[],
        metavar="QID=VALUE",
        help="make a prediction before you run the lesson (repeatable)",
    )
    p.add_argument("--run", type=int, metavar="N", help="grade against stored run N")
    p.add_argument("--json", action="store_true", help="one JSON object per question, for scripts")


class UsageError(Exception):
    """A bad flag value: exit code 2."""


@dataclass
class Session:
    """What one ``dl-tutor quiz`` invocation grades against."""

    loaded: LoadedLesson
    store: ProgressStore | None
    run: StoredRun | None
    values: dict[str, Any] | None
    learner: str
    lang: str
    explicit_run: bool = False  # --run N: predictions of it are too late by definition

    def question(self, qid: str) -> Question:
        for q in self.loaded.lesson.quiz:
            if q.id == qid:
                return q
        known = ", ".join(q.id for q in self.loaded.lesson.quiz) or "none"
        raise UsageError(f"lesson {self.loaded.id!r} has no question {qid!r} (questions: {known})")

    def order(self, q: Question) -> list[int] | None:
        from tutor.quiz_coach import option_order

        if q.kind != "choice":
            return None
        return option_order(self.learner, self.loaded.id, q.id, len(q.options or []))

    def answer(self, q: Question, text: str) -> Feedback:
        """Grade one answer against the session's run, apply the rule, store it."""
        from tutor import quiz
        from tutor.quiz_coach import Feedback

        if q.predict:
            return Feedback(
                "too-late",
                f"{q.id} is a prediction: make it before a run ('{PROG} quiz {self.loaded.id} "
                f"--predict {q.id}=…'), then run the lesson",
            )
        verdict = quiz.grade(q, text, self.values, self.lang, self.order(q))
        return self._record(q, text, verdict, self.run)

    def reveal(self, q: Question) -> Feedback:
        from tutor import quiz

        return self._record(q, "", quiz.reveal(q, self.values, self.lang, self.order(q)), self.run)

    def predict(self, q: Question, text: str) -> Feedback:
        from tutor import quiz
        from tutor.quiz_coach import Feedback

        if not q.predict:
            raise UsageError(f"{q.id} is not a prediction; answer it with --answer {q.id}=…")
        if self.run is not None and self.explicit_run:
            # A prediction of a run that already exists is refused by the one rule in quiz.
            verdict = quiz.grade_prediction(
                q, text, self.values, time.time(), self.run.started_at, self.lang, self.order(q)
            )
            return self._record(q, text, verdict, self.run)
        try:  # an unreadable prediction is refused now, not after the run
            quiz.check_readable(q, text)
        except quiz.AnswerError as e:
            return Feedback("invalid", str(e))
        if self.store is None:
            return Feedback("invalid", "predictions need the progress store, which is unusable")
        self.store.record_prediction(self.loaded.id, q.id, text)
        return Feedback(
            "predicted",
            f"prediction saved: run the lesson ('{PROG} run {self.loaded.id}'), then "
            f"'{PROG} quiz {self.loaded.id}' grades it against that run",
        )

    def grade_pending(self) -> list[tuple[Question, Feedback]]:
        """Predictions whose run has completed since: graded and stored now."""
        from tutor import quiz

        if self.store is None:
            return []
        graded = []
        questions = {q.id: q for q in self.loaded.lesson.quiz}
        for p, run in self.store.pending_predictions(self.loaded.id):
            q = questions.get(p.question_id)
            if q is None:  # the question was removed from the lesson since
                continue
            values = quiz.run_values(run.to_result())
            verdict = quiz.grade_prediction(
                q, p.answer, values, p.at, run.started_at, self.lang, self.order(q)
            )
            graded.append((q, self._record(q, p.answer, verdict, run, p.id)))
        return graded

    def _record(
        self,
        q: Question,
        text: str,
        verdict: Any,
        run: StoredRun | None,
        prediction_id: int | None = None,
    ) -> Feedback:
        from tutor.progress import ANSWER_STATUSES
        from tutor.quiz_coach import next_feedback

        record = self.store.question_records(self.loaded.id).get(q.id) if self.store else None
        wrong_before = record.wrong_since_correct if record else 0
        revealed_before = record.revealed if record else False
        feedback = next_feedback(q, wrong_before, verdict, self.lang, revealed_before)
        if self.store is not None and verdict.status in ANSWER_STATUSES:
            self.store.record_answer(
                self.loaded.id,
                q.id,
                text,
                verdict.status,
                revealed=feedback.revealed,
                run_id=run.id if run is not None and q.grounded else None,
                prediction_id=prediction_id,
            )
        return feedback


def latest_completed_run(store: ProgressStore | None, lesson_id: str) -> StoredRun | None:
    if store is None:
        return None
    return next((r for r in store.runs(lesson_id, limit=200) if r.status == "completed"), None)


def _pairs(items: list[str], flag: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        qid, sep, value = item.partition("=")
        if not sep or not qid.strip():
            raise UsageError(f"{flag} wants QID=VALUE, not {item!r}")
        out.append((qid.strip(), value))
    return out


def run_quiz(
    args: argparse.Namespace,
    loaded: LoadedLesson,
    open_store: Callable[[], ProgressStore | None],
    out: TextIO | None = None,
) -> int:
    """The ``quiz`` command, once the lesson is found. 0: every answer given was right."""
    from tutor import quiz

    out = out or sys.stdout  # looked up now: tests and callers may have replaced it

    store = open_store()
    try:
        run = latest_completed_run(store, loaded.id)
        if args.run is not None:
            run = store.run(args.run) if store is not None else None
            if run is None or run.lesson_id != loaded.id:
                raise UsageError(f"no stored run {args.run} of lesson {loaded.id!r}")
        session = Session(
            loaded,
            store,
            run,
            quiz.run_values(run.to_result()) if run is not None else None,
            store.learner_id() if store is not None else "anonymous",
            args.lang,
            explicit_run=args.run is not None,
        )
        if args.answer or args.reveal or args.predict or args.json:
            return _flags(args, session, out)
        return _interactive(session, out)
    except UsageError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    finally:
        if store is not None:
            store.close()


def _flags(args: argparse.Namespace, session: Session, out: TextIO) -> int:
    # Check every flag before grading any, so a typo does not leave half the answers stored.
    answers = [(session.question(q), v) for q, v in _pairs(args.answer, "--answer")]
    predictions = [(session.question(q), v) for q, v in _pairs(args.predict, "--predict")]
    reveals = [session.question(q) for q in args.reveal]
    results = [(q, f, True) for q, f in session.grade_pending()]
    results += [(q, session.predict(q, v), False) for q, v in predictions]
    results += [(q, session.answer(q, v), False) for q, v in answers]
    results += [(q, session.reveal(q), False) for q in reveals]
    for q, feedback, graded_prediction in results:
        if args.json:
            obj = feedback.as_dict(q.id)
            if graded_prediction:
                obj["prediction"] = True
            print(json.dumps(obj, ensure_ascii=False), file=out)
        else:
            _print_feedback(q, feedback, out, graded_prediction)
    ok = all(f.verdict in ("correct", "predicted") for _, f, _ in results)
    return 0 if ok else 1


def _print_feedback(q: Question, f: Feedback, out: TextIO, prediction: bool = False) -> None:
    label = f"{q.id} (prediction)" if prediction else q.id
    print(f"{label}: {MARKS.get(f.verdict, '!')} {f.message}", file=out)
    if f.hint:
        print(f"  hint: {f.hint}", file=out)
    if f.explain:  # the rule only lets it through with the answer, or after a right one
        print(f"  why: {' '.join(f.explain.split())}", file=out)


def _interactive(session: Session, out: TextIO) -> int:
    lesson, lang = session.loaded.lesson, session.lang
    print(f"{session.loaded.id}: {lesson.title.get(lang)} — quiz", file=out)
    if session.run is not None:
        print(f"graded against your run {session.run.id} ({session.run.status})", file=out)
    else:
        print(f"no completed run yet: '{PROG} run {session.loaded.id}' first", file=out)
    print("type an answer; '?' shows it (counted as revealed); Enter skips\n", file=out)
    all_right = True
    for q, f in session.grade_pending():
        _print_feedback(q, f, out, prediction=True)
        all_right &= f.verdict == "correct"
    try:
        for q in lesson.quiz:
            all_right &= _ask(session, q, out)
    except EOFError:  # stdin closed (Ctrl+D or a pipe that ended)
        print("", file=out)
        return 1
    return 0 if all_right else 1


def _ask(session: Session, q: Question, out: TextIO) -> bool:
    from tutor.quiz_coach import displayed_options

    print(f"\n{q.id}: {' '.join(q.prompt.get(session.lang).split())}", file=out)
    for k, text in enumerate(displayed_options(q, session.order(q), session.lang)):
        print(f"  {'abcdefghijklmnopqrstuvwxyz'[k]}) {' '.join(text.split())}", file=out)
    if q.predict:
        text = input("your prediction for your next run (Enter skips): ").strip()
        if not text:
            return True
        feedback = session.predict(q, text)
        _print_feedback(q, feedback, out)
        return feedback.verdict in ("predicted", "correct")
    while True:
        out.flush()
        text = input("answer: ").strip()
        if not text:
            return True
        feedback = session.reveal(q) if text == "?" else session.answer(q, text)
        _print_feedback(q, feedback, out)
        if feedback.verdict == "correct":
            return True
        if feedback.revealed or feedback.verdict == "needs-run":
            return False


def cmd_quiz(args: argparse.Namespace) -> int:
    """``dl-tutor quiz ID``: find the lesson, then :func:`run_quiz` against its latest run."""
    from tutor.cli.common import catalog_for, find_lesson, unknown_lesson
    from tutor.cli.exercises import progress_store

    catalog = catalog_for(args)
    loaded = find_lesson(catalog, args.lesson)
    if loaded is None:
        return unknown_lesson(catalog, args.lesson)
    return run_quiz(args, loaded, progress_store)
