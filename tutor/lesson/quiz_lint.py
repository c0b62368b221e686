"""Warnings about quiz questions that can be answered without understanding (issue #14).

Non-fatal: the lesson loads, ``dl-tutor validate`` prints them and still passes.

- the right option of a choice question is much longer than every distractor (learners pick
  the longest, most careful-sounding answer);
- every literal right option sits in the file's first two positions (authors' habit; the
  shuffle hides it from learners, but it hints that distractors were an afterthought).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the loader imports this module; it needs the types only for annotations
    from tutor.lesson.schema import Lesson, Question
# (the YAML path of the offending value, the field as printed, the message)
QuizWarning = tuple[tuple[Any, ...], str, str]

# The right option may be this many times longer than the longest distractor.
MAX_LENGTH_RATIO = 1.5
# The position warning needs this many literal choice questions with more than two options
# (with two options every answer is in the first two positions).
MIN_QUESTIONS_FOR_POSITIONS = 2


def quiz_warnings(lesson: Lesson) -> list[QuizWarning]:
    """The lesson's quiz warnings; the loader turns each into a ``Problem`` with its line."""
    found: list[QuizWarning] = []
    for i, q in enumerate(lesson.quiz):
        over = [(ratio, lang) for lang, ratio in _length_ratios(q) if ratio > MAX_LENGTH_RATIO]
        if over:  # one warning per question, for its worst language
            ratio, lang = max(over)
            index = q.answer
            found.append(
                (
                    ("quiz", i, "options", index),
                    f"quiz[{i}].options[{index}]",
                    f"the right option is {ratio:.1f}× as long as the longest distractor"
                    f" ({lang}); learners pick the longest answer: make them alike",
                )
            )
    literal = [
        (i, q)
        for i, q in enumerate(lesson.quiz)
        if q.kind == "choice" and isinstance(q.answer, int) and len(q.options or []) > 2
    ]
    if len(literal) >= MIN_QUESTIONS_FOR_POSITIONS and all(q.answer in (0, 1) for _, q in literal):
        first = literal[0][0]
        found.append(
            (
                ("quiz", first),
                "quiz",
                f"all {len(literal)} literal right options are first or second in the file;"
                " spread them over the positions",
            )
        )
    return found


def _length_ratios(q: Question) -> Iterator[tuple[str, float]]:
    """(language, right option length / longest distractor length) of a literal choice."""
    if q.kind != "choice" or not isinstance(q.answer, int) or not q.options:
        return
    langs = ["en"] + (["zh"] if all(o.zh for o in q.options) else [])
    for lang in langs:
        texts = [" ".join(o.get(lang).split()) for o in q.options]
        right = len(texts[q.answer])
        longest = max((len(t) for k, t in enumerate(texts) if k != q.answer), default=0)
        if longest:
            yield lang, right / longest
