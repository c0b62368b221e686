"""The Quiz pane: the lesson's questions, graded on a worker thread against the run the App
hands it (:meth:`QuizPane.show_run`), each graded answer stored."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import TabPane
from textual.worker import Worker, WorkerState

from tutor import quiz
from tutor.events import RunResult
from tutor.lesson.catalog import LoadedLesson
from tutor.ui.messages import Say
from tutor.ui.run_link import GradedRun
from tutor.ui.store_link import StoreLink, record_answer
from tutor.ui.widgets.quiz import QuizView
from tutor.ui.widgets.runs_table import format_when

if TYPE_CHECKING:
    from tutor.lesson.schema import Question


@dataclass(frozen=True)
class GradedAnswer:
    lesson_id: str
    question_id: str
    answer: str
    verdict: quiz.Verdict


def params_text(params: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


class QuizPane(TabPane):
    """``#pane-quiz``: holds ``#quiz``. ``grading`` counts answers still being graded."""

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(title, id=id)
        self.link: StoreLink | None = None  # handed down by the App once the store is open
        self.grading = 0
        self._lesson_id: str | None = None
        self._lang = "en"
        self._run: RunResult | None = None  # what answers are graded against

    def compose(self) -> ComposeResult:
        yield QuizView(id="quiz")

    @property
    def view(self) -> QuizView:
        return self.query_one(QuizView)

    def focus_content(self) -> None:
        self.view.focus()

    async def show(self, loaded: LoadedLesson | None, lang: str = "en") -> None:
        self._lesson_id = loaded.id if loaded else None
        self._lang = lang
        await self.view.show_lesson(loaded.lesson if loaded else None, lang)

    def show_run(self, graded: GradedRun | None) -> None:
        """The run answers are graded against (None: no completed run of this lesson yet)."""
        self._run = graded.result if graded is not None else None
        if graded is None:
            self.view.show_run(None)
            return
        result = graded.result
        number = f"#{graded.run_id}; " if graded.run_id is not None else ""
        summary = (
            f"Answers are graded against your run of {format_when(graded.finished_at)} "
            f"({number}{params_text(result.params)}; {result.seconds:.1f} s on {result.device})."
        )
        self.view.show_run(summary, result.checks)

    @on(QuizView.AnswerSubmitted)
    def _answer_submitted(self, message: QuizView.AnswerSubmitted) -> None:
        message.stop()
        if self._lesson_id is None:
            return
        self.grading += 1
        self._grade(self._lesson_id, message.question, message.answer, self._run, self._lang)

    @work(thread=True, group="grading", exit_on_error=False)
    def _grade(
        self,
        lesson_id: str,
        question: Question,
        answer: str,
        result: RunResult | None,
        lang: str,
    ) -> GradedAnswer:
        """Off the UI thread: grading evaluates expressions over the run's values, with numpy
        for tensors (its first import alone takes ~0.1 s)."""
        values = quiz.run_values(result) if result is not None else None
        return GradedAnswer(
            lesson_id, question.id, answer, quiz.grade(question, answer, values, lang)
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.node is not self or worker.group != "grading":
            return
        event.stop()
        if state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        self.grading -= 1
        if state == WorkerState.SUCCESS and isinstance(worker.result, GradedAnswer):
            if self.is_attached:
                self._answer_graded(worker.result)
        elif state == WorkerState.ERROR:
            self.post_message(Say(f"Could not grade the answer: {worker.error}", "error"))

    def _answer_graded(self, graded: GradedAnswer) -> None:
        if graded.lesson_id == self._lesson_id:
            self.view.show_verdict(graded.question_id, graded.verdict)
        # Only graded answers count: "invalid" (unparsable) and "needs-run" are not answers.
        if graded.verdict.status in ("correct", "wrong") and self.link is not None:
            write = partial(
                record_answer,
                graded.lesson_id,
                graded.question_id,
                graded.answer,
                graded.verdict.status,
            )
            self.link.submit(self, write, status_of=(graded.lesson_id,))
