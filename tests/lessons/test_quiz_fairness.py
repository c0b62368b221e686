"""The built-in quizzes are fair and make the learner think (issue #14).

- A choice question with a fixed answer does not give itself away by length: its correct
  option is at most 1.5 times as long as the longest distractor, in English and Chinese.
- At most one question per lesson is a pure read-off: its answer is a recorded value as is
  (a bare name, maybe indexed with constants or wrapped in ``shape``), no reasoning step;
  predictions do not count, they are answered before the run.
- At least eight lessons ask for a prediction (``predict: true``), answered before the run
  and graded against it, so its answer must be an expression over the run's values.
- Every question has a hint in both languages.
"""

from __future__ import annotations

import ast

import pytest

from tutor.lesson.loader import load_catalog
from tutor.lesson.schema import Question

CATALOG = load_catalog()
LESSONS = {x.id: x.lesson for x in CATALOG.lessons}
MAX_RATIO = 1.5


def is_read_off(question: Question) -> bool:
    """True when the answer is a run's value taken as it is, without any reasoning step.

    A prediction is never a read-off: it is answered before the run."""
    if not question.grounded or question.predict:
        return False
    node = ast.parse(str(question.answer), mode="eval").body
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "shape"
        and len(node.args) == 1
    ):
        node = node.args[0]
    while isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        node = node.value
    return isinstance(node, ast.Name)


def length_problems(question: Question) -> list[str]:
    if question.kind != "choice" or question.grounded or not question.options:
        return []
    answer = int(question.answer)  # type: ignore[arg-type]
    problems = []
    for lang in ("en", "zh"):
        texts = [o.get(lang) for o in question.options]
        correct = len(texts[answer])
        longest = max(len(t) for i, t in enumerate(texts) if i != answer)
        if correct > MAX_RATIO * longest:
            problems.append(f"{question.id} ({lang}): correct option {correct} chars, "
                            f"longest distractor {longest}")
    return problems


def test_is_read_off() -> None:
    def q(answer: str) -> Question:
        return Question(id="q", kind="number", prompt="?", answer=answer)

    assert is_read_off(q("test_acc"))
    assert is_read_off(q("model['total_params']"))
    assert is_read_off(q("shape(X)"))
    assert not is_read_off(q("features_shape[1] * features_shape[2]"))
    assert not is_read_off(q("1 - test_acc"))
    assert not is_read_off(Question(id="q", kind="number", prompt="?", answer=3))


@pytest.mark.parametrize("lesson_id", sorted(LESSONS))
def test_correct_option_is_not_the_giveaway(lesson_id: str) -> None:
    problems = [p for q in LESSONS[lesson_id].quiz for p in length_problems(q)]
    assert not problems, problems


@pytest.mark.parametrize("lesson_id", sorted(LESSONS))
def test_at_most_one_read_off(lesson_id: str) -> None:
    read_offs = [q.id for q in LESSONS[lesson_id].quiz if is_read_off(q)]
    assert len(read_offs) <= 1, f"{lesson_id}: read-off questions {read_offs}"


@pytest.mark.parametrize("lesson_id", sorted(LESSONS))
def test_every_question_has_a_hint(lesson_id: str) -> None:
    missing = [q.id for q in LESSONS[lesson_id].quiz if not (q.hint and q.hint.zh)]
    assert not missing, f"{lesson_id}: no hint (en and zh) for {missing}"


def test_predictions() -> None:
    predicting = [i for i, lesson in LESSONS.items() if any(q.predict for q in lesson.quiz)]
    assert len(predicting) >= 8, f"only {len(predicting)} lessons ask for a prediction"
    for lesson_id, lesson in LESSONS.items():
        for q in lesson.quiz:
            if q.predict:
                assert q.grounded, f"{lesson_id}/{q.id}: a prediction is graded by the run"
