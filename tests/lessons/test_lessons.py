"""Every built-in lesson trains for real and its quiz and checks resolve against the run.

CI runs each lesson with its ``smoke`` overrides (few epochs), and at default settings where
every check must pass (marked ``slow``: ``pytest -m "not slow"`` skips them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor import quiz
from tutor.lesson.loader import LoadedLesson, load_catalog
from tutor.training.runner import run_lesson

CATALOG = load_catalog()
LESSONS = {x.id: x for x in CATALOG.lessons}


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DL_TUTOR_OFFLINE", "1")
    monkeypatch.setenv("DL_TUTOR_CACHE_DIR", str(tmp_path / "cache"))


def test_catalog_has_no_problems() -> None:
    assert CATALOG.problems == []


def test_every_lesson_is_bilingual_and_has_a_grounded_quiz() -> None:
    for loaded in CATALOG.lessons:
        lesson = loaded.lesson
        texts = [lesson.title, lesson.summary, lesson.text]
        texts += [q.prompt for q in lesson.quiz] + [c.name for c in lesson.checks]
        assert all(t.zh for t in texts), f"{loaded.id}: missing Chinese text"
        assert sum(q.grounded for q in lesson.quiz) >= 3, f"{loaded.id}: fewer than 3 run-grounded"
        assert lesson.checks, f"{loaded.id}: no outcome checks"
        assert lesson.hyperparam("seed") is not None, f"{loaded.id}: no seed hyperparameter"


def assert_resolves(loaded: LoadedLesson, params: dict) -> None:
    result = run_lesson(loaded, params, device="cpu")
    assert result.status == "completed", f"{loaded.id}: {result.status}\n{result.error}"
    errors = [f"{c.name}: {c.error}" for c in result.checks if c.error]
    assert not errors, f"{loaded.id}: checks did not resolve: {errors}"
    values = quiz.run_values(result)
    for question in loaded.lesson.quiz:
        expected = quiz.expected_value(question, values)
        # Raises if the run's value cannot serve as an answer of this kind (e.g. a bad shape).
        quiz.format_expected(question, expected)
        assert quiz.grade(question, "(0,)" if question.kind == "shape" else "0", values).status in (
            "correct",
            "wrong",
            "invalid",
        )
    return result


@pytest.mark.parametrize("lesson_id", sorted(LESSONS))
def test_lesson_smoke_run_resolves_quiz_and_checks(lesson_id: str) -> None:
    loaded = LESSONS[lesson_id]
    assert_resolves(loaded, {**loaded.lesson.defaults(), **loaded.lesson.smoke})


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", sorted(LESSONS))
def test_lesson_passes_its_checks_at_default_settings(lesson_id: str) -> None:
    loaded = LESSONS[lesson_id]
    result = assert_resolves(loaded, loaded.lesson.defaults())
    failed = [(c.name, c.value, c.expected) for c in result.checks if not c.passed]
    assert not failed, f"{lesson_id}: {failed}"
