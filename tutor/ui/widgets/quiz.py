"""The Quiz pane: the open lesson's questions, an input and a verdict for each.

Grading is not done here: the view posts :class:`QuizView.AnswerSubmitted` and the
app grades with :func:`tutor.quiz.grade` against the lesson's latest completed run,
then hands the :class:`~tutor.quiz.Verdict` back to :meth:`QuizView.show_verdict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Static

from tutor.events import CheckResult
from tutor.quiz import Verdict, option_label
from tutor.ui.widgets.run_text import format_checks

if TYPE_CHECKING:  # annotations only: pydantic stays out of the app's start-up
    from tutor.lesson.schema import Lesson, Question

PLACEHOLDERS = {
    "shape": "a shape, e.g. (10, 2)",
    "number": "a number",
    "choice": "a letter, e.g. b",
}
VERDICT_STYLES = {"correct": "green", "wrong": "red", "needs-run": "yellow", "invalid": "red"}


def question_prompt(number: int, question: Question, lang: str) -> Text:
    text = Text()
    text.append(f"{number}. ", style="bold")
    text.append(question.prompt.get(lang), style="bold")
    if question.kind == "number" and question.tolerance:
        text.append(f"  (± {question.tolerance:g})", style="dim")
    if question.grounded:
        text.append("  [from your run]", style="cyan")
    return text


def question_options(question: Question, lang: str) -> Text:
    return Text(
        "\n".join(
            f"  {option_label(i)}) {o.get(lang)}" for i, o in enumerate(question.options or [])
        )
    )


def verdict_text(verdict: Verdict) -> Text:
    mark = {"correct": "✓ ", "wrong": "✗ "}.get(verdict.status, "")
    text = Text(mark + verdict.message, style=VERDICT_STYLES[verdict.status])
    if verdict.explanation and verdict.status in ("correct", "wrong"):
        text.append("\n" + verdict.explanation, style="italic")
    return text


class QuizView(VerticalScroll):
    """Questions of the open lesson; scrolls when they do not fit."""

    class AnswerSubmitted(Message):
        """The learner asked to check an answer (Check button or Enter in its input)."""

        def __init__(self, question: Question, answer: str) -> None:
            super().__init__()
            self.question = question
            self.answer = answer

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._questions: dict[str, Question] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="quiz-summary", markup=False)
        yield Static("", id="quiz-checks", markup=False)
        yield Container(id="quiz-questions")

    async def show_lesson(self, lesson: Lesson | None, lang: str = "en") -> None:
        """Rebuild the questions for ``lesson`` (None: no lesson open)."""
        box = self.query_one("#quiz-questions", Container)
        await box.remove_children()  # awaited: ids like quiz-<qid>-input are reused
        self._questions = {q.id: q for q in lesson.quiz} if lesson else {}
        if lesson is None:
            self.query_one("#quiz-summary", Static).update("open a lesson from the list")
            return
        if not lesson.quiz:
            await box.mount(Static("This lesson has no quiz.", classes="question-prompt"))
            return
        await box.mount_all(self._question(i, q, lang) for i, q in enumerate(lesson.quiz, 1))

    def _question(self, number: int, question: Question, lang: str) -> Vertical:
        parts: list[Static | Horizontal] = [
            Static(question_prompt(number, question, lang), classes="question-prompt")
        ]
        if question.kind == "choice":
            parts.append(Static(question_options(question, lang), classes="question-options"))
        parts.append(
            Horizontal(
                Input(
                    placeholder=PLACEHOLDERS[question.kind],
                    id=f"quiz-{question.id}-input",
                    classes="quiz-input",
                ),
                Button("Check", id=f"quiz-{question.id}-check", classes="quiz-check"),
                classes="quiz-answer",
            )
        )
        parts.append(
            Static("", id=f"quiz-{question.id}-verdict", classes="quiz-verdict", markup=False)
        )
        return Vertical(*parts, classes="question")

    def show_run(self, summary: str | None, checks: Sequence[CheckResult] = ()) -> None:
        """Which run the answers are checked against, and its outcome checks.

        A new run makes earlier verdicts stale, so they are cleared.
        """
        if summary is None:
            self.query_one("#quiz-summary", Static).update(
                Text(
                    "No completed run of this lesson yet: questions marked [from your run] "
                    "need one (press r).",
                    style="yellow",
                )
            )
        else:
            self.query_one("#quiz-summary", Static).update(Text(summary, style="dim"))
        outcome = self.query_one("#quiz-checks", Static)
        outcome.update(format_checks(checks))
        outcome.display = bool(checks)
        for verdict in self.query(".quiz-verdict").results(Static):
            verdict.update("")
            verdict.remove_class("-shown")

    def show_verdict(self, question_id: str, verdict: Verdict) -> None:
        view = self.query_one(f"#quiz-{question_id}-verdict", Static)
        view.update(verdict_text(verdict))
        view.add_class("-shown")  # empty verdicts take no room until there is one

    def _submit(self, question_id: str) -> None:
        question = self._questions.get(question_id)
        if question is not None:
            answer = self.query_one(f"#quiz-{question_id}-input", Input).value
            self.post_message(self.AnswerSubmitted(question, answer))

    @on(Input.Submitted, ".quiz-input")
    def _input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id:
            self._submit(event.input.id.removeprefix("quiz-").removesuffix("-input"))

    @on(Button.Pressed, ".quiz-check")
    def _check_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id:
            self._submit(event.button.id.removeprefix("quiz-").removesuffix("-check"))
