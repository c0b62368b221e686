"""Quizzes that need understanding (issue #14): fair option order, the feedback rule (hint
first, the value only after a second wrong attempt or a reveal), predictions, and the
warnings `dl-tutor validate` gives about guessable choices."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from helpers import write_lesson

from tutor import quiz
from tutor.lesson.loader import LessonError, load_files, load_lesson
from tutor.lesson.schema import Question
from tutor.quiz_coach import GENERIC_HINTS, next_feedback, option_order

NUMBER_Q = Question.model_validate(
    {
        "id": "w",
        "kind": "number",
        "prompt": "w?",
        "answer": "w",
        "tolerance": 0.01,
        "hint": "The weight moves against the gradient.",
        "explain": "w ends near {{ w }}.",
    }
)
CHOICE_Q = Question.model_validate(
    {
        "id": "c",
        "kind": "choice",
        "prompt": "Which?",
        "answer": 2,
        "options": ["zero", "one", "two", "three"],
    }
)
RUN = {"w": 2.0}


# -- option order -------------------------------------------------------------------------


def test_option_order_is_a_deterministic_permutation_per_learner() -> None:
    first = option_order("learner-a", "lesson", "q", 4)
    assert sorted(first) == [0, 1, 2, 3]
    assert option_order("learner-a", "lesson", "q", 4) == first  # a restart: same order
    others = {tuple(option_order(f"learner-{i}", "lesson", "q", 4)) for i in range(50)}
    assert len(others) > 10  # different learners see different orders
    assert option_order("x", "l", "q", 0) == [] and option_order("x", "l", "q", 1) == [0]


def test_the_right_option_lands_on_every_position_across_learners() -> None:
    # Option 2 is right; where is it shown? Each of 4 positions ~1/4 of 2000 learners.
    shown_at = Counter(option_order(f"id{i}", "l", "q", 4).index(2) for i in range(2000))
    assert set(shown_at) == {0, 1, 2, 3}
    assert all(400 < n < 600 for n in shown_at.values()), shown_at


def test_choices_are_answered_by_the_letter_they_are_shown_under() -> None:
    order = [3, 2, 0, 1]  # "two" (index 2) is shown second: letter b
    assert quiz.grade(CHOICE_Q, "b", None, order=order).correct
    assert not quiz.grade(CHOICE_Q, "c", None, order=order).correct  # c in the file order
    assert quiz.grade(CHOICE_Q, "c", None).correct  # no order: the file's order
    assert quiz.reveal(CHOICE_Q, None, order=order).expected == "b) two"


# -- the feedback rule --------------------------------------------------------------------


def test_first_wrong_answer_gets_a_hint_and_a_direction_not_the_value() -> None:
    verdict = quiz.grade(NUMBER_Q, "20", RUN)
    f = next_feedback(NUMBER_Q, 0, verdict)
    assert f.verdict == "wrong" and not f.revealed
    assert f.hint == "The weight moves against the gradient."
    assert "about 10× too high" in f.message
    assert f.expected is None and f.explain is None
    assert "2" not in f.message.replace("10×", "") and "2" not in str(f.as_dict("w"))[30:]
    low = next_feedback(NUMBER_Q, 0, quiz.grade(NUMBER_Q, "1.3", RUN))
    assert "too low" in low.message and low.expected is None


def test_second_wrong_answer_shows_the_value_and_the_explanation() -> None:
    f = next_feedback(NUMBER_Q, 1, quiz.grade(NUMBER_Q, "3", RUN))
    assert f.verdict == "wrong" and f.revealed
    assert f.expected == "2 ± 0.01"
    assert f.explain == "w ends near 2."  # rendered with the run's value
    assert f.as_dict("w")["expected"] == "2 ± 0.01"


def test_reveal_shows_the_value_and_is_marked_revealed() -> None:
    f = next_feedback(NUMBER_Q, 0, quiz.reveal(NUMBER_Q, RUN))
    assert (f.verdict, f.expected, f.revealed) == ("revealed", "2 ± 0.01", True)
    assert next_feedback(NUMBER_Q, 0, quiz.reveal(NUMBER_Q, None)).verdict == "needs-run"


def test_after_a_reveal_a_wrong_answer_shows_the_value_again() -> None:
    f = next_feedback(NUMBER_Q, 0, quiz.grade(NUMBER_Q, "3", RUN), revealed_before=True)
    assert f.expected == "2 ± 0.01"


def test_correct_invalid_and_generic_hint() -> None:
    right = next_feedback(NUMBER_Q, 3, quiz.grade(NUMBER_Q, "2.005", RUN))
    assert right.verdict == "correct" and right.hint is None and right.expected is None
    bad = next_feedback(NUMBER_Q, 1, quiz.grade(NUMBER_Q, "two", RUN))
    assert bad.verdict == "invalid" and not bad.counts and bad.expected is None
    wrong = next_feedback(CHOICE_Q, 0, quiz.grade(CHOICE_Q, "a", None))
    assert wrong.hint == GENERIC_HINTS["choice"] and wrong.expected is None


@pytest.mark.parametrize(
    ("given", "want", "phrase"),
    [
        (5.0, 2.0, "too high"),
        (1.5, 2.0, "too low"),
        (0.2, 2.0, "about 10× too low"),
        (4.0, 2.0, "about 2× too high"),
        (200.0, 2.0, "about 100× too high"),
        (-2.0, 2.0, "the sign is wrong"),
        (1.0, 0.0, "too high"),
    ],
)
def test_number_offset(given: float, want: float, phrase: str) -> None:
    assert quiz.number_offset(given, want) == phrase


def test_explain_placeholders_that_cannot_be_computed_stay() -> None:
    assert quiz.render_text("w={{ w }}, b={{ b }}", RUN) == "w=2, b={{ b }}"
    assert quiz.render_text("w={{ w }}", None) == "w={{ w }}"


# -- predictions --------------------------------------------------------------------------


def test_a_prediction_made_after_its_run_started_is_refused() -> None:
    late = quiz.grade_prediction(NUMBER_Q, "2", RUN, predicted_at=100.0, run_started_at=99.0)
    assert late.status == "too-late" and "after the run started" in late.message
    assert next_feedback(NUMBER_Q, 0, late).verdict == "too-late"
    on_time = quiz.grade_prediction(NUMBER_Q, "2", RUN, predicted_at=98.0, run_started_at=99.0)
    assert on_time.correct


def test_a_prediction_must_be_grounded(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="predict"):
        Question.model_validate(
            {"id": "p", "kind": "number", "prompt": "?", "answer": 3, "predict": True}
        )
    assert Question.model_validate(
        {"id": "p", "kind": "number", "prompt": "?", "answer": "w", "predict": True}
    ).predict


# -- validate's warnings ------------------------------------------------------------------

LINT_YAML = """
id: lint
order: 1
title: Lint
summary: s
text: t
code: code.py
hyperparams:
  - {{name: epochs, type: int, default: 1}}
quiz:
{quiz}
"""


def _choice(qid: str, answer: int, options: list[str]) -> str:
    opts = ", ".join(f'"{o}"' for o in options)
    return f'  - {{id: {qid}, kind: choice, prompt: "?", answer: {answer}, options: [{opts}]}}'


def test_a_long_right_option_is_a_warning_not_an_error(tmp_path: Path) -> None:
    quiz_yaml = _choice("long", 2, ["no", "nope", "yes, because of the chain rule", "never"])
    path = write_lesson(tmp_path, "lint", yaml=LINT_YAML.format(quiz=quiz_yaml))
    loaded = load_lesson(path)  # loads: warnings are not problems
    (warning,) = loaded.warnings
    assert warning.severity == "warning" and warning.field == "quiz[0].options[2]"
    line = 1 + next(i for i, t in enumerate(path.read_text().splitlines()) if "id: long" in t)
    assert warning.line == line and "as long as the longest distractor" in warning.message
    assert ": warning: " in str(warning)
    catalog = load_files([path])
    assert catalog.problems == [] and catalog.warnings == [warning]


def test_similar_lengths_and_spread_positions_give_no_warning(tmp_path: Path) -> None:
    quiz_yaml = "\n".join(
        [
            _choice("a", 0, ["alpha", "beta", "gamma"]),
            _choice("b", 2, ["alpha", "beta", "gamma"]),
            _choice("two", 0, ["yes", "a much longer distractor"]),
        ]
    )
    path = write_lesson(tmp_path, "lint", yaml=LINT_YAML.format(quiz=quiz_yaml))
    assert load_lesson(path).warnings == ()


def test_all_right_options_first_or_second_is_a_warning(tmp_path: Path) -> None:
    quiz_yaml = "\n".join(
        [_choice("a", 0, ["alpha", "beta", "gamma"]), _choice("b", 1, ["alpha", "beta", "gamma"])]
    )
    path = write_lesson(tmp_path, "lint", yaml=LINT_YAML.format(quiz=quiz_yaml))
    (warning,) = load_lesson(path).warnings
    assert warning.field == "quiz" and "first or second" in warning.message


def test_an_error_still_fails_the_lesson(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "lint", yaml=LINT_YAML.format(quiz=_choice("a", 5, ["x", "y"])))
    with pytest.raises(LessonError):
        load_lesson(path)
