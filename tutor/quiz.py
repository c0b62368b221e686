"""Grading: parse a learner's answer, compare it with what the run produced.

Expected answers are expressions over a run's values (see :mod:`tutor.lesson.expr`),
so nothing here knows a lesson's numbers. Plain Python; no Textual, no torch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from tutor.events import CheckResult, RunResult
from tutor.lesson import expr
from tutor.text import inert

if TYPE_CHECKING:  # pydantic's models cost ~0.25 s to import: not before the app's first screen
    from tutor.lesson.schema import Check, Question

# "revealed": the learner asked for the answer; "too-late": a prediction made after its run
# started (refused, never stored as an answer).
VerdictStatus = Literal["correct", "wrong", "needs-run", "invalid", "revealed", "too-late"]

_SHAPE_WRAPPERS = re.compile(r"^(torch\.)?size\s*\(\s*(?P<inner>.*)\s*\)$", re.IGNORECASE)


class AnswerError(ValueError):
    """The learner's text cannot be read as an answer of that kind."""


def parse_shape(text: str) -> tuple[int, ...]:
    """Accept ``(10, 2)``, ``10,2``, ``[10, 2]``, ``torch.Size([10, 2])``, ``10x2``, ``()``."""
    s = text.strip()
    match = _SHAPE_WRAPPERS.match(s)
    if match:
        s = match.group("inner").strip()
    while len(s) >= 2 and s[0] + s[-1] in ("()", "[]"):
        s = s[1:-1].strip()
    if not s:
        return ()
    parts = [p for p in re.split(r"\s*[,x×\s]\s*", s) if p]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise AnswerError(f"{text!r} is not a shape; write it like (10, 2)") from None
    if any(d < 0 for d in dims):
        raise AnswerError("a shape has no negative sizes")
    return dims


def parse_number(text: str) -> float:
    s = text.strip().replace("−", "-")
    match = re.fullmatch(r"(?:tensor\()?\s*([^()]+?)\s*\)?", s)
    try:
        value = float(match.group(1) if match else s)
    except ValueError:
        raise AnswerError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise AnswerError("give a finite number")
    return value


def option_label(index: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[index]


def parse_choice(text: str, n_options: int) -> int:
    """``b``, ``B``, ``b)`` or ``2`` (1-based) → option index 1."""
    s = text.strip().lower().rstrip(").")
    if len(s) == 1 and s.isalpha():
        index = ord(s) - ord("a")
    elif s.isdigit():
        index = int(s) - 1
    else:
        raise AnswerError(f"answer with a letter a–{option_label(n_options - 1)}")
    if not 0 <= index < n_options:
        raise AnswerError(f"there are only {n_options} options")
    return index


def check_readable(question: Question, text: str) -> None:
    """Raise :class:`AnswerError` unless ``text`` reads as an answer of the question's kind:
    a prediction is refused when it is made, not after the run it predicts."""
    if question.kind == "choice":
        parse_choice(text, len(question.options or []))
    elif question.kind == "number":
        parse_number(text)
    else:
        parse_shape(text)


def run_values(result: RunResult) -> dict[str, Any]:
    """The names checks and quiz answers can use: hyperparameters, final metrics,
    recorded values, and a few facts about the run."""
    return {
        **result.params,
        **result.metrics,
        **result.records,
        "dataset": result.dataset,
        "device": result.device,
        "status": result.status,
        "seconds": result.seconds,
    }


@dataclass(frozen=True)
class Verdict:
    status: VerdictStatus
    message: str
    expected: str | None = None  # shown only as the tutoring rule allows (tutor.quiz_coach)
    explanation: str | None = None
    off: str | None = None  # a wrong number: "too high", "about 10× too low", …; never the value

    @property
    def correct(self) -> bool:
        return self.status == "correct"


def expected_value(question: Question, values: Mapping[str, Any] | None) -> Any:
    """The right answer for this question, from the run when it is grounded.

    Returns ``None`` when the question is grounded and there is no run yet.
    """
    if not question.grounded:
        return question.answer
    if values is None:
        return None
    return expr.evaluate(str(question.answer), values)


def _choice_index(question: Question, expected: Any, lang: str) -> int:
    options = [o.get(lang) for o in question.options or []]
    en_options = [o.en for o in question.options or []]
    if isinstance(expected, bool) or not isinstance(expected, (int, float, str)):
        raise expr.ExprError(f"choice answer evaluated to {expected!r}")
    if isinstance(expected, str):
        for opts in (options, en_options):
            if expected in opts:
                return opts.index(expected)
        raise expr.ExprError(f"choice answer {expected!r} is not one of the options")
    return int(expected)


def format_expected(
    question: Question, expected: Any, lang: str = "en", order: Sequence[int] | None = None
) -> str:
    """The expected answer as shown; a choice under the letter it is displayed with
    (``order``: display position → option index, see :func:`tutor.quiz_coach.option_order`)."""
    if question.kind == "shape":
        return str(tuple(int(d) for d in expected))
    if question.kind == "number":
        text = f"{_scalar(expected):.6g}"
        return f"{text} ± {question.tolerance:g}" if question.tolerance else text
    index = _choice_index(question, expected, lang)
    shown_at = list(order).index(index) if order else index
    return f"{option_label(shown_at)}) {question.options[index].get(lang)}"  # type: ignore[index]


def _scalar(value: Any) -> float:
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise expr.ExprError(f"expected one number, the run gave {len(value)}")
        return _scalar(value[0])
    try:
        return float(value)
    except OverflowError:  # an int past 1e308 (9**999): an error of the question, not a crash
        raise expr.ExprError("the expected value is too large for a number") from None


def grade(
    question: Question,
    answer: str,
    values: Mapping[str, Any] | None,
    lang: str = "en",
    order: Sequence[int] | None = None,
) -> Verdict:
    """Grade ``answer`` against the run's ``values`` (``None``: no run yet).

    A choice is answered with the letter it is displayed under: ``order`` maps display
    positions to option indices (``None``: the file's order). A wrong verdict's message never
    holds the expected value; :func:`tutor.quiz_coach.next_feedback` decides when to show it.
    """
    explanation = render_text(question.explain.get(lang), values) if question.explain else None
    found = _expected_or_verdict(question, values)
    if isinstance(found, Verdict):
        return found
    expected = found
    off = None
    try:
        if question.kind == "shape":
            given_shape = parse_shape(answer)
            want = tuple(int(d) for d in expected)
            correct = given_shape == want
        elif question.kind == "number":
            given = parse_number(answer)
            want_n = _scalar(expected)
            correct = abs(given - want_n) <= question.tolerance + 1e-9 * max(1.0, abs(want_n))
            off = None if correct else number_offset(given, want_n)
        else:
            n = len(question.options or [])
            shown_at = parse_choice(answer, n)
            given_i = list(order)[shown_at] if order else shown_at
            correct = given_i == _choice_index(question, expected, lang)
    except (AnswerError, expr.ExprError) as e:  # the learner's text, or a broken question
        return Verdict("invalid", str(e))
    shown = format_expected(question, expected, lang, order)
    if correct:
        return Verdict("correct", "Correct.", shown, explanation)
    message = f"Not quite: {off}." if off else "Not quite."
    return Verdict("wrong", message, shown, explanation, off)


def _expected_or_verdict(question: Question, values: Mapping[str, Any] | None) -> Any:
    if question.grounded and values is None:
        return Verdict("needs-run", "Run the lesson first: this answer comes from your run.")
    try:
        return expected_value(question, values)
    except expr.ExprError as e:
        return Verdict(
            "needs-run", f"This run did not produce the value this question needs ({e})."
        )


def reveal(
    question: Question,
    values: Mapping[str, Any] | None,
    lang: str = "en",
    order: Sequence[int] | None = None,
) -> Verdict:
    """The learner gives up and asks for the answer: a ``revealed`` verdict with the
    expected value and explanation (``needs-run`` when the run is missing)."""
    found = _expected_or_verdict(question, values)
    if isinstance(found, Verdict):
        return found
    shown = format_expected(question, found, lang, order)
    explanation = render_text(question.explain.get(lang), values) if question.explain else None
    return Verdict("revealed", f"The answer: {shown}", shown, explanation)


def grade_prediction(
    question: Question,
    answer: str,
    values: Mapping[str, Any] | None,
    predicted_at: float,
    run_started_at: float,
    lang: str = "en",
    order: Sequence[int] | None = None,
) -> Verdict:
    """Grade a prediction against the run it predicts. A prediction counts only when it was
    made before that run started: one made after it (having seen the curves) is refused."""
    if predicted_at >= run_started_at:
        return Verdict(
            "too-late",
            "This prediction was made after the run started, so it does not count: "
            "predict first, then run the lesson again.",
        )
    return grade(question, answer, values, lang, order)


# Factors worth naming: a slip of a power of ten, or of two (a missing 1/2 in a gradient).
_FACTORS = (1000.0, 100.0, 10.0, 2.0)


def number_offset(given: float, want: float) -> str:
    """How a wrong number is off, without saying the right one: ``"too high"``,
    ``"about 10× too low"``, ``"the sign is wrong"``."""
    if want != 0 and given != 0 and (given < 0) != (want < 0):
        if math.isclose(abs(given), abs(want), rel_tol=0.05):
            return "the sign is wrong"
        return "the sign is wrong, and the size is off too"
    if want != 0 and given != 0:
        ratio = abs(given / want)
        for factor in _FACTORS:
            for r, word in ((factor, "high"), (1 / factor, "low")):
                if math.isclose(ratio, r, rel_tol=0.05):
                    return f"about {factor:g}× too {word}"
    return "too high" if given > want else "too low"


_PLACEHOLDER = re.compile(r"\{\{\s*(?P<expr>[^{}]+?)\s*\}\}")


def render_text(text: str, values: Mapping[str, Any] | None) -> str:
    """Fill ``{{ expression }}`` placeholders in an explanation with this run's values, so an
    explanation never contradicts the run. One that cannot be computed stays as written."""
    if values is None or "{{" not in text:
        return text

    def fill(match: re.Match[str]) -> str:
        try:
            return format_value(expr.evaluate(match.group("expr"), values))
        except (expr.ExprError, TypeError, ValueError):
            return match.group(0)

    return _PLACEHOLDER.sub(fill, text)


def check_target(check: Check) -> str:
    if check.at_most is not None:
        return f"≤ {check.at_most:g}"
    if check.at_least is not None:
        return f"≥ {check.at_least:g}"
    tol = f" ± {check.tolerance:g}" if check.tolerance else ""
    return f"= {check.equals!r}{tol}"


def evaluate_check(check: Check, values: Mapping[str, Any], lang: str = "en") -> CheckResult | None:
    """Measure one outcome check; ``None`` when its ``when`` does not apply to this run."""
    import numpy as np

    name = check.name.get(lang)
    target = check_target(check)
    try:
        if check.when is not None and not expr.truth(expr.evaluate(check.when, values)):
            return None
        value = expr.evaluate(check.expr, values)
        if check.at_most is not None:
            passed = bool(np.all(np.asarray(value, dtype=float) <= check.at_most))
        elif check.at_least is not None:
            passed = bool(np.all(np.asarray(value, dtype=float) >= check.at_least))
        elif isinstance(check.equals, (str, bool)) or isinstance(value, str):
            passed = value == check.equals
        else:
            a, b = np.asarray(value, dtype=float), np.asarray(check.equals, dtype=float)
            passed = a.shape == b.shape and bool(np.allclose(a, b, rtol=0, atol=check.tolerance))
    except (expr.ExprError, TypeError, ValueError, OverflowError) as e:  # 9**999 as a float
        return CheckResult(name, False, None, target, error=str(e))
    return CheckResult(name, passed, value, target)


def evaluate_checks(
    checks: list[Check], values: Mapping[str, Any], lang: str = "en"
) -> list[CheckResult]:
    results = (evaluate_check(c, values, lang) for c in checks)
    return [r for r in results if r is not None]


def format_value(value: Any) -> str:
    """A measured value, short enough for one line; inert (a recorded string is the lesson
    code's text: no escape sequence in it reaches a terminal)."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(format_value(v) for v in value[:8])
        return f"[{inner}{', …' if len(value) > 8 else ''}]"
    return inert(str(value), multiline=False)  # a recorded string goes to a terminal
