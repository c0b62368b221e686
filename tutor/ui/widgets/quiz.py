"""The Quiz pane: the open lesson's questions, an input, Check and Reveal, and a verdict each.

Grading is not done here: the view posts :class:`QuizView.AnswerSubmitted` (or
:class:`QuizView.RevealRequested`) and the Quiz pane grades on a worker thread
(:mod:`tutor.ui.quiz_jobs`), then hands the :class:`~tutor.quiz_coach.Feedback` back to
:meth:`QuizView.show_feedback`. Choice options are shown in the order the pane gives
(:meth:`QuizView.show_options`: the learner's own, see :func:`tutor.quiz_coach.option_order`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Static

from tutor.events import CheckResult
from tutor.quiz import option_label
from tutor.ui.messages import Say
from tutor.ui.widgets.run_text import format_checks

if TYPE_CHECKING:  # annotations only: pydantic stays out of the app's start-up
    from tutor.lesson.schema import Lesson, Question
    from tutor.quiz_coach import Feedback

PLACEHOLDERS = {
    "shape": "a shape, e.g. (10, 2)",
    "number": "a number",
    "choice": "a letter, e.g. b",
}
MARKS = {"correct": "✓ ", "wrong": "✗ ", "revealed": "→ ", "too-late": "✗ "}
VERDICT_STYLES = {
    "correct": "green",
    "wrong": "red",
    "revealed": "cyan",
    "predicted": "cyan",
    "needs-run": "yellow",
    "too-late": "yellow",
    "invalid": "red",
}
PREDICT_NOTE = "Predict before you run: your answer is graded against your next run."


def question_prompt(number: int, question: Question, lang: str) -> Text:
    text = Text()
    text.append(f"{number}. ", style="bold")
    text.append(question.prompt.get(lang), style="bold")
    if question.kind == "number" and question.tolerance:
        text.append(f"  (± {question.tolerance:g})", style="dim")
    if question.grounded and not question.predict:
        text.append("  [from your run]", style="cyan")
    return text


def options_text(shown: Sequence[str]) -> Text:
    """Option texts in the order shown, under the letters answers are typed with."""
    return Text("\n".join(f"  {option_label(i)}) {o}" for i, o in enumerate(shown)))


def feedback_text(feedback: Feedback, prefix: str = "") -> Text:
    """The verdict as shown: what the tutoring rule let through, and nothing else (a first
    wrong answer gets its hint, never the value)."""
    mark = MARKS.get(feedback.verdict, "")
    text = Text(prefix + mark + feedback.message, style=VERDICT_STYLES.get(feedback.verdict, ""))
    if feedback.hint:
        text.append(f"\nHint: {feedback.hint}", style="default")
    if feedback.explain:
        text.append("\n" + " ".join(feedback.explain.split()), style="italic")
    return text


class QuizView(VerticalScroll):
    """Questions of the open lesson; scrolls when they do not fit. ``v`` reveals the answer
    to the question last focused (its input, Check or Reveal)."""

    BINDINGS = [Binding("v", "reveal", "Reveal answer")]

    class AnswerSubmitted(Message):
        """The learner asked to check an answer (Check button or Enter in its input)."""

        def __init__(self, question: Question, answer: str) -> None:
            super().__init__()
            self.question = question
            self.answer = answer

    class RevealRequested(Message):
        """The learner asked for the answer (Reveal button, or ``v``)."""

        def __init__(self, question: Question) -> None:
            super().__init__()
            self.question = question

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._questions: dict[str, Question] = {}
        self._focused: str | None = None  # the question whose input or button had focus last

    def compose(self) -> ComposeResult:
        yield Static("", id="quiz-summary", markup=False)
        yield Static("", id="quiz-checks", markup=False)
        yield Container(id="quiz-questions")

    async def show_lesson(self, lesson: Lesson | None, lang: str = "en") -> None:
        """Rebuild the questions for ``lesson`` (None: no lesson open). Choice options stay
        empty until :meth:`show_options` gives their order."""
        box = self.query_one("#quiz-questions", Container)
        await box.remove_children()  # awaited: ids like quiz-<qid>-input are reused
        self._questions = {q.id: q for q in lesson.quiz} if lesson else {}
        self._focused = None
        if lesson is None:
            self.query_one("#quiz-summary", Static).update("open a lesson from the list")
            return
        if not lesson.quiz:
            await box.mount(Static("This lesson has no quiz.", classes="question-prompt"))
            return
        await box.mount_all(self._question(i, q, lang) for i, q in enumerate(lesson.quiz, 1))

    def _question(self, number: int, question: Question, lang: str) -> Vertical:
        qid = question.id
        parts: list[Static | Horizontal] = [
            Static(
                question_prompt(number, question, lang),
                id=f"quiz-{qid}-prompt",
                classes="question-prompt",
            )
        ]
        if question.predict:
            parts.append(Static(PREDICT_NOTE, classes="question-predict", markup=False))
        if question.kind == "choice":
            parts.append(Static("", id=f"quiz-{qid}-options", classes="question-options"))
        placeholder = PLACEHOLDERS[question.kind]
        parts.append(
            Horizontal(
                Input(
                    placeholder=f"predict: {placeholder}" if question.predict else placeholder,
                    id=f"quiz-{qid}-input",
                    classes="quiz-input",
                ),
                Button("Check", id=f"quiz-{qid}-check", classes="quiz-check"),
                Button("Reveal", id=f"quiz-{qid}-reveal", classes="quiz-reveal"),
                classes="quiz-answer",
            )
        )
        parts.append(Static("", id=f"quiz-{qid}-verdict", classes="quiz-verdict", markup=False))
        return Vertical(*parts, classes="question")

    def show_options(self, question_id: str, shown: Sequence[str]) -> None:
        """A choice question's option texts, in the order (and under the letters) shown."""
        if question_id in self._questions:
            self.query_one(f"#quiz-{question_id}-options", Static).update(options_text(shown))

    def show_run(self, summary: str | None, checks: Sequence[CheckResult] = ()) -> None:
        """Which run the answers are checked against, and its outcome checks.

        A new run makes earlier verdicts stale, so they are cleared; not those of
        predictions (saved or graded), which are about a run of their own.
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
        for question in self._questions.values():
            if not question.predict:
                self.clear_verdict(question.id)

    def clear_verdict(self, question_id: str) -> None:
        view = self.query_one(f"#quiz-{question_id}-verdict", Static)
        view.update("")
        view.remove_class("-shown")

    def show_feedback(self, question_id: str, feedback: Feedback, prefix: str = "") -> None:
        """Show ``feedback`` under the question (``prefix``: what it is about, e.g. which run
        graded a prediction)."""
        if question_id not in self._questions:
            return
        view = self.query_one(f"#quiz-{question_id}-verdict", Static)
        view.update(feedback_text(feedback, prefix))
        view.add_class("-shown")  # empty verdicts take no room until there is one

    def _question_of(self, widget_id: str | None, suffix: str) -> Question | None:
        if not widget_id:
            return None
        return self._questions.get(widget_id.removeprefix("quiz-").removesuffix(suffix))

    def _submit(self, question: Question | None) -> None:
        if question is not None:
            answer = self.query_one(f"#quiz-{question.id}-input", Input).value
            self.post_message(self.AnswerSubmitted(question, answer))

    @on(Input.Submitted, ".quiz-input")
    def _input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit(self._question_of(event.input.id, "-input"))

    @on(Button.Pressed, ".quiz-check")
    def _check_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._submit(self._question_of(event.button.id, "-check"))

    @on(Button.Pressed, ".quiz-reveal")
    def _reveal_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        question = self._question_of(event.button.id, "-reveal")
        if question is not None:
            self.post_message(self.RevealRequested(question))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Remembered for v, which acts once escape has left the input for the pane.
        widget_id = event.widget.id or ""
        for suffix in ("-input", "-check", "-reveal"):
            if widget_id.startswith("quiz-") and widget_id.endswith(suffix):
                self._focused = widget_id.removeprefix("quiz-").removesuffix(suffix)

    def action_reveal(self) -> None:
        """v: reveal the answer to the question last focused."""
        question = self._questions.get(self._focused or "")
        if question is not None:
            self.post_message(self.RevealRequested(question))
        elif self._questions:
            self.post_message(Say("Reveal which answer? Tab to its question first."))
