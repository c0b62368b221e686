"""Answer parsing and grading against a run's values."""

from __future__ import annotations

import pytest

from tutor.lesson.schema import Check, Question
from tutor.quiz import AnswerError, evaluate_checks, grade, parse_choice, parse_number, parse_shape


@pytest.mark.parametrize(
    "text",
    [
        "(10, 2)",
        "10,2",
        "[10, 2]",
        "torch.Size([10, 2])",
        " ( 10 ,2 ) ",
        "10x2",
        "10 2",
        "Size([10, 2])",
    ],
)
def test_shape_spellings(text: str) -> None:
    assert parse_shape(text) == (10, 2)


def test_scalar_and_one_dim_shapes() -> None:
    assert parse_shape("()") == ()
    assert parse_shape("torch.Size([])") == ()
    assert parse_shape("(10,)") == (10,)
    assert parse_shape("10") == (10,)


@pytest.mark.parametrize("text", ["ten by two", "(10, -2)", "(1.5, 2)"])
def test_bad_shapes(text: str) -> None:
    with pytest.raises(AnswerError):
        parse_shape(text)


def test_numbers_and_choices() -> None:
    assert parse_number("−3.4") == -3.4
    assert parse_number("tensor(4.2)") == 4.2
    assert parse_number("1e-3") == 0.001
    with pytest.raises(AnswerError):
        parse_number("nan")
    assert parse_choice("b", 3) == 1
    assert parse_choice("B)", 3) == 1
    assert parse_choice("3", 3) == 2
    with pytest.raises(AnswerError):
        parse_choice("d", 3)


SHAPE_Q = Question(id="x", kind="shape", prompt="Shape of X?", answer="X_shape")
NUMBER_Q = Question(
    id="b", kind="number", prompt="b?", answer="b", tolerance=0.01, explain="b is the bias"
)
CHOICE_Q = Question(
    id="c", kind="choice", prompt="Which is larger?", options=["w", "b"], answer="0 if w > b else 1"
)
CONCEPT_Q = Question(id="k", kind="choice", prompt="Why?", options=["no", "yes"], answer=1)
RUN = {"X_shape": [10, 2], "b": 4.2003, "w": 2.0}


def test_grounded_question_before_a_run_says_run_first() -> None:
    verdict = grade(SHAPE_Q, "(10, 2)", None)
    assert verdict.status == "needs-run"
    assert "Run the lesson first" in verdict.message


def test_conceptual_question_needs_no_run() -> None:
    assert grade(CONCEPT_Q, "b", None).correct
    assert grade(CONCEPT_Q, "a", None).status == "wrong"


def test_shape_grading_uses_the_run() -> None:
    assert grade(SHAPE_Q, "torch.Size([10, 2])", RUN).correct
    wrong = grade(SHAPE_Q, "(2, 10)", RUN)
    assert wrong.status == "wrong"
    # The value is the verdict's `expected` (shown when the tutoring rule allows), never the
    # message: a first wrong answer must not hand over the answer to copy back.
    assert wrong.expected == "(10, 2)" and "(10, 2)" not in wrong.message


def test_number_tolerance_and_explanation() -> None:
    assert grade(NUMBER_Q, "4.21", RUN).correct
    wrong = grade(NUMBER_Q, "4.3", RUN)
    assert wrong.status == "wrong"
    assert wrong.expected == "4.2003 ± 0.01" and "4.2" not in wrong.message
    assert wrong.off == "too high"
    assert wrong.explanation == "b is the bias"


def test_choice_computed_from_the_run() -> None:
    assert grade(CHOICE_Q, "b", RUN).correct  # b = 4.2 > w = 2
    assert grade(CHOICE_Q, "a", {**RUN, "w": 9.0}).correct


def test_unreadable_answer_is_invalid_not_wrong() -> None:
    assert grade(NUMBER_Q, "four", RUN).status == "invalid"


def test_missing_recorded_value_is_reported() -> None:
    verdict = grade(NUMBER_Q, "4.2", {"w": 1.0})
    assert verdict.status == "needs-run"
    assert "did not record 'b'" in verdict.message


def test_checks() -> None:
    checks = [
        Check(name="close", expr="max(abs(w - true_w))", at_most=2e-3),
        Check(name="acc", expr="test_acc", at_least=0.85),
        Check(name="word", expr="predicted", equals="ohlol"),
        Check(name="vector", expr="out", equals=[1, 2], tolerance=0.1),
        Check(name="only full", expr="test_acc", at_least=0.99, when="full"),
        Check(name="missing", expr="nothing", at_most=1),
    ]
    values = {
        "w": [2.001, -3.4],
        "true_w": [2, -3.4],
        "test_acc": 0.9,
        "predicted": "ohlol",
        "out": [1.05, 2.0],
        "full": False,
    }
    results = {r.name: r for r in evaluate_checks(checks, values)}
    assert "only full" not in results  # `when` does not apply
    assert results["close"].passed and results["close"].value == pytest.approx(0.001)
    assert results["close"].expected == "≤ 0.002"
    assert results["acc"].passed and results["word"].passed and results["vector"].passed
    assert not results["missing"].passed and "did not record" in results["missing"].error
    values["test_acc"] = 0.5
    assert not {r.name: r for r in evaluate_checks(checks, values)}["acc"].passed


def test_an_expected_value_too_large_for_a_float_is_an_invalid_question_not_a_crash() -> None:
    huge = Question(id="h", kind="number", prompt="How big?", answer="9**999")
    verdict = grade(huge, "1", {"x": 1})
    assert verdict.status == "invalid" and "too large" in verdict.message
