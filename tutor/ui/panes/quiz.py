"""The Quiz pane: the lesson's questions, graded on a worker thread against the run the App
hands it (:meth:`QuizPane.show_run`) by the tutoring rule of :mod:`tutor.quiz_coach`.

Every answer, reveal and prediction goes through :mod:`tutor.ui.quiz_jobs` on a worker thread,
inside one store job (:meth:`StoreLink.job`), so the rule reads the question's record and the
answer is stored under the same lock: two quick wrong answers count as two. Predictions are
saved for the next run and graded once a completed run of the lesson is stored
(:func:`tutor.ui.quiz_jobs.catch_up`), also after a restart or a ``dl-tutor run``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import TabPane
from textual.worker import Worker, WorkerState

from tutor import quiz
from tutor.lesson.catalog import LoadedLesson
from tutor.quiz_coach import Feedback, displayed_options
from tutor.ui import quiz_jobs
from tutor.ui.messages import Say, StoreSnapshot, StoreSnapshotReady
from tutor.ui.run_link import GradedRun
from tutor.ui.store_link import StoreLink
from tutor.ui.widgets.quiz import QuizView
from tutor.ui.widgets.runs_table import format_when

if TYPE_CHECKING:
    from tutor.lesson.schema import Question
    from tutor.progress import ProgressStore

CATCH_UP = "quiz-catch-up"  # the purpose of the store job that grades waiting predictions


@dataclass(frozen=True)
class Answered:
    """A worker's answer, reveal or prediction, for the UI thread to show."""

    lesson_id: str
    question_id: str
    feedback: Feedback | None  # None: it could not be graded or stored (``error`` says why)
    error: str | None = None
    linked: bool = False  # a store job: the App waits for its StoreSnapshotReady
    snapshot: StoreSnapshot | None = None


def params_text(params: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


class QuizPane(TabPane):
    """``#pane-quiz``: holds ``#quiz``. ``grading`` counts answers still being graded."""

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(title, id=id)
        self.link: StoreLink | None = None  # handed down by the App once the store is open
        self.grading = 0
        self.learner: str | None = None  # the store's learner id, once read
        self._loaded: LoadedLesson | None = None
        self._lang = "en"
        self._graded: GradedRun | None = None  # the run answers are graded against
        self._lesson_running: tuple[str, float] | None = None  # (lesson id, unix time it started)
        self._memory = quiz_jobs.Memory()  # the rule's counts when progress is not saved

    def compose(self) -> ComposeResult:
        yield QuizView(id="quiz")

    @property
    def view(self) -> QuizView:
        return self.query_one(QuizView)

    @property
    def _store_link(self) -> StoreLink | None:
        """The link, when progress is saved."""
        return self.link if self.link is not None and self.link.store is not None else None

    def focus_content(self) -> None:
        self.view.focus()

    # -- what the App hands down --------------------------------------------------------

    async def show(self, loaded: LoadedLesson | None, lang: str = "en") -> None:
        self._loaded = loaded
        self._lang = lang
        await self.view.show_lesson(loaded.lesson if loaded else None, lang)
        if self._store_link is None:
            self.learner = quiz_jobs.ANONYMOUS
        self._show_options()

    def show_run(self, graded: GradedRun | None) -> None:
        """The run answers are graded against (None: no completed run of this lesson yet).
        Once it is stored, predictions made before it are graded."""
        self._graded = graded
        if graded is None:
            self.view.show_run(None)
        else:
            result = graded.result
            number = f"#{graded.run_id}; " if graded.run_id is not None else ""
            summary = (
                f"Answers are graded against your run of {format_when(graded.finished_at)} "
                f"({number}{params_text(result.params)}; {result.seconds:.1f} s on "
                f"{result.device})."
            )
            self.view.show_run(summary, result.checks)
        if graded is None or graded.run_id is not None:  # else it is being stored
            self._catch_up()

    def run_started(self, lesson_id: str) -> None:
        """A run of ``lesson_id`` started: predictions of it are too late from now on."""
        self._lesson_running = (lesson_id, time.time())

    def run_ended(self) -> None:
        self._lesson_running = None

    # -- the learner's order of options, and predictions from the store -----------------

    def _show_options(self) -> None:
        loaded, learner = self._loaded, self.learner
        if loaded is None or learner is None:  # the order comes with the learner id
            return
        for q in loaded.lesson.quiz:
            if q.kind == "choice":
                order = quiz_jobs.order_for(learner, loaded.id, q)
                self.view.show_options(q.id, displayed_options(q, order, self._lang))

    def _catch_up(self) -> None:
        """Read the learner id (once) and grade predictions whose run is stored."""
        loaded, link = self._loaded, self._store_link
        if loaded is None or link is None:
            return
        if self.learner is not None and not any(q.predict for q in loaded.lesson.quiz):
            return
        job = partial(quiz_jobs.catch_up, loaded.id, list(loaded.lesson.quiz), self._lang)
        link.submit(self, job, status_of=(loaded.id,), purpose=CATCH_UP)

    def on_store_snapshot_ready(self, message: StoreSnapshotReady) -> None:
        """The learner id, graded and waiting predictions (the message goes on to the App)."""
        state = message.snapshot.written if message.snapshot is not None else None
        if message.purpose != CATCH_UP or not isinstance(state, quiz_jobs.QuizState):
            return
        if self.learner is None:
            self.learner = state.learner
            self._show_options()
        if self._loaded is None or self._loaded.id != state.lesson_id:
            return  # another lesson is shown: its verdicts are gone anyway
        for qid, text in state.waiting.items():
            self.view.show_feedback(qid, quiz_jobs.saved(text))
        for p in state.graded:
            prefix = f"Your prediction ({p.answer}) for run #{p.run_id}: "
            self.view.show_feedback(p.question_id, p.feedback, prefix)

    # -- answers, reveals, predictions --------------------------------------------------

    @on(QuizView.AnswerSubmitted)
    def _answer_submitted(self, message: QuizView.AnswerSubmitted) -> None:
        message.stop()
        loaded, q = self._loaded, message.question
        if loaded is None:
            return
        job: Callable[[ProgressStore | None], Feedback]
        if q.predict:
            running = self._lesson_running
            since = running[1] if running is not None and running[0] == loaded.id else None
            job = partial(quiz_jobs.predict, loaded.id, q, message.answer, time.time(), since)
        else:
            job = partial(
                quiz_jobs.answer,
                loaded.id,
                q,
                message.answer,
                self._values(),
                self._lang,
                self._run_id(),
                self._memory,
            )
        self._start(loaded.id, q, job)

    @on(QuizView.RevealRequested)
    def _reveal_requested(self, message: QuizView.RevealRequested) -> None:
        message.stop()
        loaded = self._loaded
        if loaded is not None:
            job = partial(
                quiz_jobs.reveal,
                loaded.id,
                message.question,
                self._values(),
                self._lang,
                self._run_id(),
                self._memory,
            )
            self._start(loaded.id, message.question, job)

    def _values(self) -> dict[str, Any] | None:
        return quiz.run_values(self._graded.result) if self._graded is not None else None

    def _run_id(self) -> int | None:
        return self._graded.run_id if self._graded is not None else None

    def _start(
        self, lesson_id: str, question: Question, job: Callable[[ProgressStore | None], Feedback]
    ) -> None:
        self.grading += 1
        link = self._store_link
        if link is not None:
            link.expect()  # the App settles it when this worker's snapshot comes up
        work = partial(self._work, link, lesson_id, question.id, job)
        self.run_worker(work, thread=True, group="grading", exit_on_error=False)

    @staticmethod
    def _work(
        link: StoreLink | None,
        lesson_id: str,
        question_id: str,
        job: Callable[[ProgressStore | None], Feedback],
    ) -> Answered:
        """Worker thread: grading evaluates expressions over the run's values (numpy for
        tensors); storing fsyncs. Never raises: the counts must come back down."""
        try:
            if link is None:
                return Answered(lesson_id, question_id, job(None))
            snapshot = link.job(job, status_of=(lesson_id,))  # the lesson's mark, read after
            feedback = snapshot.written if isinstance(snapshot.written, Feedback) else None
            return Answered(lesson_id, question_id, feedback, snapshot.error, True, snapshot)
        except Exception as e:  # a bug in grading: said, and the app goes on
            error = f"{type(e).__name__}: {e}"
            return Answered(lesson_id, question_id, None, error, link is not None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.node is not self or worker.group != "grading":
            return
        event.stop()
        if state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        self.grading -= 1
        answered = worker.result if state == WorkerState.SUCCESS else None
        if not isinstance(answered, Answered):
            self.post_message(Say(f"Could not grade the answer: {worker.error}", "error"))
            return
        if answered.linked:  # up to the App: it counted this job, and shows the lesson's mark
            self.post_message(StoreSnapshotReady(answered.snapshot, "quiz-answer"))
        if not self.is_attached or self._loaded is None:
            return
        if answered.lesson_id != self._loaded.id:
            return
        if answered.feedback is not None:
            self.view.show_feedback(answered.question_id, answered.feedback)
        else:
            why = Feedback("invalid", f"Not graded: {answered.error}. Your answer is still there.")
            self.view.show_feedback(answered.question_id, why)
