"""The expression language bounds every result before computing it (#19)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import BARE_YAML, write_lesson

from tutor.lesson.expr import ExprError, evaluate
from tutor.lesson.loader import load_lesson
from tutor.training.runner import run_lesson


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("((9**999)**999)**999", "an integer of more than 100000 bits"),
        ("(9**999)**999", "an integer of more than 100000 bits"),
        ('"x" * 10**9', "more than 1000000 items or characters"),
        ('10**9 * "x"', "more than 1000000 items or characters"),
        ("(1, 2) * 10**7", "more than 1000000 items or characters"),
        ('"%999999999d" % 1', "string formatting with % is not allowed"),
        ("w[:, None] * w[None, :]", "an array of shape (2000, 2000)"),
    ],
    ids=["pow-pow-pow", "pow-pow", "str-times", "times-str", "tuple-times", "format", "outer"],
)
def test_a_result_too_large_is_refused_before_it_is_computed(source: str, says: str) -> None:
    start = time.monotonic()
    with pytest.raises(ExprError, match="result too large|not allowed") as info:
        evaluate(source, {"w": list(range(2000))})
    assert says in str(info.value)
    assert time.monotonic() - start < 2  # before the fix: minutes, or a gigabyte


def test_results_of_a_sensible_size_still_work() -> None:
    assert evaluate("2**64", {}) == 2**64
    assert evaluate("len(9**999 * 9**999) if false else 3", {}) == 3
    assert evaluate('"ab" * 3', {}) == "ababab"
    assert evaluate("len(w * 2)", {"w": list(range(1000))}) == 1000
    assert evaluate("shape(w[:, None] * w[None, :])", {"w": list(range(100))}) == (100, 100)


CHECK_YAML = BARE_YAML + """
checks:
  - {{name: too big for a float, expr: "9**999", at_most: 1}}
  - {{name: still measured, expr: answer, equals: 42}}
"""


def test_a_check_value_too_big_for_a_float_is_a_check_error(tmp_path: Path) -> None:
    code = "def train(ctx):\n    ctx.record('answer', 42)\n"
    loaded = load_lesson(write_lesson(tmp_path, "t", yaml=CHECK_YAML.format(id="t"), code=code))
    result = run_lesson(loaded, device="cpu")  # before the fix: OverflowError escaped
    assert result.status == "completed"
    big, fine = result.checks
    assert not big.passed and big.value is None and "too large" in (big.error or "")
    assert fine.passed and fine.error is None
