"""The quiz's tutoring rules, once for both front ends (``dl-tutor quiz`` and the app's Quiz
pane): they grade with :mod:`tutor.quiz`, then ask here what to show.

- **Fair choices.** Options are shown in an order of their own per learner and question
  (:func:`option_order`): the same on every restart for one learner, different across
  learners, so "it's always b" does not work and answers cannot be passed around by letter.
- **No copying back.** A first wrong answer gets a hint that points at the concept (the
  question's ``hint``, else a generic one) and, for numbers, which way it is off; never the
  value. The expected value and the explanation come after the *second* wrong attempt, or
  when the learner asks to reveal it; either is stored as a reveal.

Plain Python (no pydantic at import time, no Textual, no torch).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor.quiz import Verdict

if TYPE_CHECKING:
    from tutor.lesson.schema import Question

# Wrong attempts after which the expected value is shown (the second one).
SHOW_AFTER_WRONG = 2

GENERIC_HINTS: dict[str, str] = {
    "shape": "Follow one tensor through the code: which dimension does each operation keep, "
    "add or remove?",
    "number": "Think about which quantity the question asks for and how the code computes "
    "it, step by step.",
    "choice": "Think about the idea the question is about, then rule out the options that "
    "contradict it.",
}


def option_order(learner_id: str, lesson_id: str, question_id: str, n: int) -> list[int]:
    """The order a learner sees a question's ``n`` options in: ``order[k]`` is the index (in
    the lesson file) of the option shown at position ``k`` (letter ``a`` + k).

    A Fisher–Yates shuffle driven by SHA-256 of the three ids: deterministic for one learner
    (a restart does not reshuffle), independent across learners and questions, and stable
    across Python versions (unlike :mod:`random`'s seeding)."""
    order = list(range(n))
    seed = "\x00".join((learner_id, lesson_id, question_id)).encode("utf-8", "replace")
    for i in range(n - 1, 0, -1):
        digest = hashlib.sha256(seed + b"\x00" + str(i).encode()).digest()
        j = int.from_bytes(digest, "big") % (i + 1)  # 256 bits: the modulo bias is nil
        order[i], order[j] = order[j], order[i]
    return order


def displayed_options(question: Question, order: list[int] | None, lang: str = "en") -> list[str]:
    """A choice question's option texts in the order they are shown."""
    options = [o.get(lang) for o in question.options or []]
    return [options[i] for i in order] if order else options


@dataclass(frozen=True)
class Feedback:
    """What to show after one answer (or a reveal). ``expected`` and ``explain`` are ``None``
    unless the rule allows them; ``revealed`` says the value is shown now (store it)."""

    verdict: str  # correct | wrong | revealed | invalid | needs-run | too-late
    message: str
    hint: str | None = None
    expected: str | None = None
    explain: str | None = None
    revealed: bool = False

    @property
    def counts(self) -> bool:
        """A graded attempt (right or wrong); invalid input and a missing run are not."""
        return self.verdict in ("correct", "wrong")

    def as_dict(self, question_id: str) -> dict[str, Any]:
        """The ``dl-tutor quiz --json`` object: id, verdict, message, and hint / expected /
        explain only when present."""
        out: dict[str, Any] = {"id": question_id, "verdict": self.verdict, "message": self.message}
        for key in ("hint", "expected", "explain"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def hint_for(question: Question, lang: str = "en") -> str:
    """The question's own hint, else a generic one for its kind."""
    return question.hint.get(lang) if question.hint else GENERIC_HINTS[question.kind]


def next_feedback(
    question: Question,
    wrong_before: int,
    verdict: Verdict,
    lang: str = "en",
    revealed_before: bool = False,
) -> Feedback:
    """The tutoring rule. ``wrong_before``: wrong attempts at this question since its last
    correct answer (from the store, so it holds across sessions); ``revealed_before``: the
    value was already shown once. ``verdict`` comes from :func:`tutor.quiz.grade`,
    :func:`~tutor.quiz.grade_prediction` or :func:`~tutor.quiz.reveal`."""
    status = verdict.status
    if status == "correct":
        return Feedback("correct", verdict.message, explain=verdict.explanation)
    if status == "revealed":
        return Feedback(
            "revealed", verdict.message, None, verdict.expected, verdict.explanation, True
        )
    if status != "wrong":  # invalid input, no run, a late prediction: try again, no count
        return Feedback(status, verdict.message)
    hint = hint_for(question, lang)
    if wrong_before + 1 >= SHOW_AFTER_WRONG or revealed_before:
        message = f"{verdict.message} The answer: {verdict.expected}"
        return Feedback("wrong", message, hint, verdict.expected, verdict.explanation, True)
    return Feedback("wrong", f"{verdict.message} Try again.", hint)
