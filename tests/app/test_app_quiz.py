"""The Quiz pane and the quiz's tutoring rules (docs/quiz.md), driven by keys.

No copying back (a first wrong answer gets a hint, the second the value), reveals recorded,
each learner's own order of the options, predictions made before a run and graded after it,
and refused once the run has started. Lesson 01 runs for real; expected values come from the
run (``expected_answer``), never from this file.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import GATED_CODE, LESSON_01
from textual.pilot import Pilot

from tutor import quiz
from tutor.progress import ProgressStore
from tutor.quiz_coach import displayed_options, option_order
from tutor.testing import (
    expected_answer,
    finish_run,
    graded,
    shown_letter,
    started,
    store_settled,
    text_of,
    type_into,
    until,
)
from tutor.ui.app import TutorApp
from tutor.ui.widgets import LiveChart

pytestmark = pytest.mark.usefixtures("tutor_env")

GD = "gradient-descent"

# Trains until the test creates the gate file: a run certainly in progress while the test
# types a prediction. The deadline only keeps a broken test from hanging.
GATED_YAML = """\
id: gated
order: 50
title: Gated
summary: A lesson that waits for the test.
text: t
code: code.py
hyperparams:
  - {name: epochs, type: int, default: 2, min: 1, max: 10}
series:
  - {name: loss, kind: loss}
quiz:
  - id: epochs-run
    kind: number
    predict: true
    prompt: "Predict before you run: how many epochs will it train?"
    answer: epochs
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ProgressStore]:
    with ProgressStore(tmp_path / "progress.sqlite3") as opened:
        yield opened


def lesson_01(store: ProgressStore) -> TutorApp:
    return TutorApp([LESSON_01], builtin=False, store=store)


async def answer(pilot: Pilot[None], question_id: str, text: str) -> str:
    """Type an answer, Enter, and return the verdict once graded and stored."""
    await type_into(pilot, f"#quiz-{question_id}-input", text)
    await pilot.press("enter")
    await graded(pilot)
    await store_settled(pilot)
    return text_of(pilot.app, f"#quiz-{question_id}-verdict")


async def reveal_by_button(pilot: Pilot[None], question_id: str) -> None:
    """Tab from the answer to Check, to Reveal, and press it."""
    await type_into(pilot, f"#quiz-{question_id}-input", "")
    await pilot.press("tab", "tab")
    assert pilot.app.focused is pilot.app.query_one(f"#quiz-{question_id}-reveal")
    await pilot.press("enter")
    await graded(pilot)


async def run_lesson(pilot: Pilot[None]) -> None:
    await pilot.press("escape", "r")
    await finish_run(pilot)
    await store_settled(pilot)
    await pilot.press("4")


async def test_a_wrong_answer_gets_a_hint_and_the_second_the_value(store: ProgressStore) -> None:
    app = lesson_01(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("3")
        await run_lesson(pilot)
        w = expected_answer(app, GD, "learned-w")
        question = next(q for q in app.current.lesson.quiz if q.id == "learned-w")  # type: ignore[union-attr]
        shown = quiz.format_expected(question, w)

        first = await answer(pilot, "learned-w", str(w * 10))
        assert first.startswith("✗ Not quite: about 10× too high") and "Hint:" in first
        assert shown not in first and f"{w:.4f}" not in first  # never the value at first
        assert not store.question_records(GD)["learned-w"].revealed

        second = await answer(pilot, "learned-w", str(w - 0.3))
        assert second.startswith("✗ Not quite: too low") and shown in second
        assert "y = 2x" in second  # the explanation comes with the value
        record = store.question_records(GD)["learned-w"]
        assert record.attempts == 2 and record.revealed and not record.earned

        # Right now, but after the value was shown: it does not count towards "done".
        assert (await answer(pilot, "learned-w", f"{w:.6f}")).startswith("✓ Correct")
        assert not store.question_records(GD)["learned-w"].earned


async def test_reveal_by_key_and_button_shows_the_value_and_is_recorded(
    store: ProgressStore,
) -> None:
    app = lesson_01(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("4")
        # Before a run there is nothing to reveal: not recorded.
        await reveal_by_button(pilot, "learned-w")
        await store_settled(pilot)
        assert "Run the lesson first" in text_of(app, "#quiz-learned-w-verdict")
        assert store.question_records(GD) == {}

        await pilot.press("3")
        await run_lesson(pilot)
        question = next(q for q in app.current.lesson.quiz if q.id == "first-step")  # type: ignore[union-attr]
        shown = quiz.format_expected(question, expected_answer(app, GD, "first-step"))
        app.query_one("#quiz-first-step-input").focus()
        await pilot.press("escape", "v")  # v: the question last focused
        await graded(pilot)
        await store_settled(pilot)
        verdict = text_of(app, "#quiz-first-step-verdict")
        assert verdict.startswith("→ The answer: ") and shown in verdict
        record = store.question_records(GD)["first-step"]
        assert record.revealed and record.attempts == 0 and record.latest == "revealed"

        # The button does the same; a right answer afterwards is not "earned".
        await reveal_by_button(pilot, "learned-w")
        await store_settled(pilot)
        assert text_of(app, "#quiz-learned-w-verdict").startswith("→ The answer: ")
        w = expected_answer(app, GD, "learned-w")
        assert (await answer(pilot, "learned-w", f"{w:.6f}")).startswith("✓ Correct")
        assert not store.question_records(GD)["learned-w"].earned


def options_shown(app: TutorApp) -> dict[str, list[str]]:
    """Each choice question's option texts, in the order shown (``  a) text`` lines)."""
    return {
        q.id: [
            line.split(") ", 1)[1] for line in text_of(app, f"#quiz-{q.id}-options").splitlines()
        ]
        for q in app.current.lesson.quiz  # type: ignore[union-attr]
        if q.kind == "choice"
    }


async def test_each_learner_sees_the_options_in_an_order_of_their_own(tmp_path: Path) -> None:
    learners = ("learner-one", "learner-two")
    shown: list[dict[str, list[str]]] = []
    for learner in (*learners, learners[0]):  # the first learner again: a restart
        with ProgressStore(tmp_path / f"{learner}.sqlite3") as store:
            store.set_state("learner-id", learner)
            app = lesson_01(store)
            async with app.run_test(size=(80, 24)) as pilot:
                await started(pilot)
                await store_settled(pilot)
                await pilot.press("4")
                shown.append(options_shown(app))
                for q in app.current.lesson.quiz:  # type: ignore[union-attr]
                    if q.kind == "choice":
                        order = option_order(learner, GD, q.id, len(q.options or []))
                        assert shown[-1][q.id] == displayed_options(q, order)
    assert shown[0] and shown[0] != shown[1]  # some question is shown in another order
    assert shown[2] == shown[0]  # the same learner: the same order on every start
    for q_id, texts in shown[0].items():  # the same options, only the order differs
        assert sorted(texts) == sorted(shown[1][q_id])


async def test_a_prediction_made_before_a_run_is_graded_after_it(store: ProgressStore) -> None:
    app = lesson_01(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("4")
        assert "Predict before you run" in text_of(app, "#pane-quiz .question-predict")
        saved = await answer(pilot, "converges", "a")
        assert saved.startswith("Prediction saved (a): graded after your next run")
        assert [p.answer for p in store.predictions(GD)] == ["a"]
        assert "converges" not in store.answers(GD)

        await pilot.press("3")
        await run_lesson(pilot)
        verdict = text_of(app, "#quiz-converges-verdict")
        assert verdict.startswith(f"Your prediction (a) for run #{app.last_run_id}: ")
        right = shown_letter(app, GD, "converges", expected_answer(app, GD, "converges"))
        rows = store.question_records(GD)["converges"]
        if right == "a":
            assert "✓ Correct" in verdict and rows.earned
        else:
            assert "✗ Not quite" in verdict and "Hint:" in verdict and not rows.revealed
        assert rows.attempts == 1 and store.pending_predictions(GD) == []

        # A restart does not grade it twice, and a saved prediction is shown again.
        await answer(pilot, "converges", right)
    second = lesson_01(store)
    async with second.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await store_settled(pilot)
        await pilot.press("4")
        assert text_of(second, "#quiz-converges-verdict").startswith(f"Prediction saved ({right})")
        assert store.question_records(GD)["converges"].attempts == 1


async def test_a_prediction_typed_once_its_run_has_started_is_refused(
    store: ProgressStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = tmp_path / "gate"
    monkeypatch.setenv("DL_TUTOR_TEST_GATE", str(gate))
    lessons = tmp_path / "lessons" / "gated"
    lessons.mkdir(parents=True)
    (lessons / "lesson.yaml").write_text(GATED_YAML)
    (lessons / "code.py").write_text(textwrap.dedent(GATED_CODE))
    app = TutorApp([lessons.parent], builtin=False, store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("3", "r")
        await until(pilot, lambda: app.query_one("#chart-loss", LiveChart).point_count() > 0)
        await pilot.press("4")
        late = await answer(pilot, "epochs-run", "2")
        assert late.startswith("✗ Too late for this run: a prediction must be made before")
        assert store.predictions("gated") == []  # refused: not stored

        gate.touch()
        await finish_run(pilot)
        await store_settled(pilot)
        # It can still be made, for the next run.
        saved = await answer(pilot, "epochs-run", "2")
        assert saved.startswith("Prediction saved (2)")
        assert [p.answer for p in store.predictions("gated")] == ["2"]
        assert store.answers("gated") == {}
