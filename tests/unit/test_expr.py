"""The safe expression language of checks and quiz answers."""

from __future__ import annotations

import pytest

from tutor.lesson.expr import ExprError, compile_expr, evaluate, names_in


def test_elementwise_arithmetic_over_recorded_lists() -> None:
    values = {"w": [1.999, -3.4005], "true_w": [2.0, -3.4]}
    assert evaluate("max(abs(w - true_w))", values) == pytest.approx(0.001)


def test_names_exclude_functions_and_constants() -> None:
    assert names_in("max(abs(w - true_w)) if flag == true else 0") == {"w", "true_w", "flag"}


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("shape(X)", {"X": [[1, 2], [3, 4], [5, 6]]}, (3, 2)),
        ("X_shape[0] * 2", {"X_shape": [10, 2]}, 20.0),
        ("ceil(n / b)", {"n": 1000, "b": 32}, 32),
        ("s == 'ohlol'", {"s": "ohlol"}, True),
        ("argmax(p)", {"p": [0.1, 0.7, 0.2]}, 1),
        ("model['total_params']", {"model": {"total_params": 7}}, 7),
        ("0 if a < 1 else 1", {"a": 3}, 1),
        ("not a and b", {"a": False, "b": True}, True),
    ],
)
def test_evaluate(source: str, values: dict, expected: object) -> None:
    assert evaluate(source, values) == expected


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os')",
        "w.__class__",
        "open('x')",
        "[x for x in w]",
        "lambda: 1",
        "_secret",
        "max(w, key=abs)",
        "",
        "a +",
    ],
)
def test_unsafe_or_broken_expressions_are_refused(source: str) -> None:
    with pytest.raises(ExprError):
        compile_expr(source)


def test_missing_name_says_so() -> None:
    with pytest.raises(ExprError, match="did not record 'w'"):
        evaluate("w + 1", {})


def test_runtime_errors_become_expr_errors() -> None:
    with pytest.raises(ExprError):
        evaluate("x[10]", {"x": [1, 2]})
    with pytest.raises(ExprError, match="exponent too large"):
        evaluate("9 ** 99999", {})
