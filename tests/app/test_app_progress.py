"""The app and the progress store: runs and answers kept, marks, history, reset, language.

Every test injects a ``ProgressStore`` on a temporary path (or lets the app open its own
under ``DL_TUTOR_DATA_DIR``, which the autouse ``tutor_env`` fixture points at a temporary
directory). Store work happens on worker threads; tests wait for it with
``store_settled`` (until ``app.store_pending == 0``), never with sleeps, and use only
keys (no mouse events).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import GATED_CODE, LESSON_01, SLOW_CODE, write_app_lesson
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from tutor import quiz
from tutor.lesson.schema import Question
from tutor.progress import ProgressStore
from tutor.testing import (
    finish_run,
    graded,
    open_by_keys,
    shown_letter,
    started,
    store_settled,
    text_of,
    type_into,
    until,
)
from tutor.ui.app import TutorApp
from tutor.ui.widgets import ConfirmScreen, LessonList, LiveChart, RunsTable
from tutor.ui.widgets.chart import OverlaySeries, use_log_scale
from tutor.ui.widgets.runs_table import changed_params, format_when

pytestmark = pytest.mark.usefixtures("tutor_env")

GD_ID = "gradient-descent"


LONG_TITLE_YAML = """\
id: long-title
order: 60
title:
  en: A lesson whose title is far too long for the sidebar
  zh: 一个标题非常非常非常长的课程用来测试截断
summary: {en: s, zh: 摘要}
text: {en: English text of the long lesson., zh: 这是中文正文。}
code: code.py
hyperparams:
  - {name: epochs, type: int, default: 1, min: 1, max: 10}
series:
  - {name: loss, kind: loss}
"""

# Positions in the lesson list of the `app` fixture (by order).
GD, SLOW, GATED = 0, 1, 2


@pytest.fixture
def lesson_dir(tmp_path: Path) -> Path:
    root = tmp_path / "lessons"
    write_app_lesson(root, "slow", 50, SLOW_CODE)
    write_app_lesson(root, "gated", 51, GATED_CODE)
    return root


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ProgressStore]:
    with ProgressStore(tmp_path / "progress-under-test.sqlite3") as opened:
        yield opened


def make_app(lesson_dir: Path, store: ProgressStore, **kwargs: object) -> TutorApp:
    return TutorApp([LESSON_01, lesson_dir], builtin=False, store=store, **kwargs)  # type: ignore[arg-type]


def mark(app: TutorApp, lesson_id: str) -> str:
    """The sidebar entry of a lesson as shown (mark included)."""
    options = app.query_one("#lesson-list", OptionList)
    prompt = options.get_option(lesson_id).prompt
    return prompt.plain if isinstance(prompt, Text) else str(prompt)


def right_answer(app: TutorApp, question: Question, values: dict[str, object]) -> str:
    """The answer a learner would type, from the run's values (never hard-coded); a choice
    by the letter it is shown under for this app's learner."""
    expected = quiz.expected_value(question, values)
    if question.kind == "choice":
        return shown_letter(app, GD_ID, question.id, expected)
    shown = quiz.format_expected(question, expected)
    if question.kind == "number":
        return shown.split(" ±")[0]
    return shown


async def answer(pilot: Pilot[None], question_id: str, text: str) -> None:
    await type_into(pilot, f"#quiz-{question_id}-input", text)
    await pilot.press("enter")
    await graded(pilot)


# -- runs, answers and the sidebar marks -----------------------------------------------


async def test_runs_and_answers_are_stored_and_marks_go_new_started_done(
    lesson_dir: Path, store: ProgressStore
) -> None:
    app = make_app(lesson_dir, store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await store_settled(pilot)
        lessons = app.query_one(LessonList)
        assert lessons.status(GD_ID) == "new" and not mark(app, GD_ID).startswith(("✓", "•"))

        # A cancelled run is stored too, with its status.
        await open_by_keys(pilot, SLOW)
        await pilot.press("r")
        await until(pilot, lambda: app.query_one("#chart-loss", LiveChart).point_count() > 0)
        await pilot.press("s")
        assert (await finish_run(pilot)).status == "cancelled"
        await store_settled(pilot)
        assert [r.status for r in store.runs("slow")] == ["cancelled"]
        assert app.last_run_id == store.runs("slow")[0].id
        assert lessons.status("slow") == "started"

        await open_by_keys(pilot, GD)
        await pilot.press("3", "r")
        result = await finish_run(pilot)
        await store_settled(pilot)
        stored = store.runs(GD_ID)
        assert [r.status for r in stored] == ["completed"] and stored[0].passed
        assert stored[0].params == result.params
        assert lessons.status(GD_ID) == "started" and mark(app, GD_ID).startswith("•")

        # Answers: wrong and right ones are stored; invalid text is not an attempt.
        await pilot.press("4")
        values = quiz.run_values(result)
        questions = {q.id: q for q in app.current.lesson.quiz}  # type: ignore[union-attr]
        await answer(pilot, "learned-w", "not a number")
        await store_settled(pilot)
        # Kept as `invalid` (as `dl-tutor quiz` does), but not an attempt.
        assert store.answers(GD_ID) == {"learned-w": "invalid"}
        assert store.question_records(GD_ID)["learned-w"].attempts == 0
        await answer(pilot, "learned-w", "123")
        await store_settled(pilot)
        assert store.answers(GD_ID) == {"learned-w": "wrong"}

        await store_settled(pilot)
        asked = [q for q in questions.values() if not q.predict]
        for question in asked:
            await answer(pilot, question.id, right_answer(app, question, values))
            assert text_of(app, f"#quiz-{question.id}-verdict").startswith("✓ Correct")
        await store_settled(pilot)
        assert store.answers(GD_ID) == dict.fromkeys([q.id for q in asked], "correct")
        assert lessons.status(GD_ID) == "started"  # the prediction is still to make

        # A prediction is made before a run (this one: the same settings as the last run).
        predicted = [q for q in questions.values() if q.predict]
        for question in predicted:
            await answer(pilot, question.id, right_answer(app, question, values))
            assert "Prediction saved" in text_of(app, f"#quiz-{question.id}-verdict")
        await pilot.press("escape", "r")
        await finish_run(pilot)
        await store_settled(pilot)
        for question in predicted:
            assert "✓ Correct" in text_of(app, f"#quiz-{question.id}-verdict")
        assert store.answers(GD_ID) == dict.fromkeys(questions, "correct")
        assert lessons.status(GD_ID) == "done" and mark(app, GD_ID).startswith("✓")
        assert store.lesson_status(GD_ID, len(questions), list(questions)) == "done"


async def test_a_new_app_reopens_the_last_lesson_and_grades_against_the_stored_run(
    lesson_dir: Path, store: ProgressStore
) -> None:
    first = make_app(lesson_dir, store)
    async with first.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("3", "r")
        await finish_run(pilot)
        await open_by_keys(pilot, SLOW)  # the last lesson opened
        await store_settled(pilot)
    assert store.get_state("last_lesson") == "slow"
    stored = store.runs(GD_ID)[0]

    second = make_app(lesson_dir, store)
    async with second.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await store_settled(pilot)
        assert second.current is not None and second.current.id == "slow"
        assert second.query_one("#lesson-list", OptionList).highlighted == SLOW
        assert second.last_result is None  # nothing ran in this session

        await open_by_keys(pilot, GD)
        await store_settled(pilot)
        assert second.completed_run(GD_ID) is not None
        await pilot.press("4")
        summary = text_of(second, "#quiz-summary")
        assert f"graded against your run of {format_when(stored.finished_at)}" in summary
        assert f"#{stored.id}" in summary

        question = next(q for q in second.current.lesson.quiz if q.id == "learned-w")  # type: ignore[union-attr]
        values = quiz.run_values(stored.to_result())
        await answer(pilot, "learned-w", right_answer(second, question, values))
        assert text_of(second, "#quiz-learned-w-verdict").startswith("✓ Correct")


# -- run history and overlays --------------------------------------------------------


async def test_runs_table_lists_runs_and_overlays_them_on_the_charts(
    lesson_dir: Path, store: ProgressStore
) -> None:
    app = make_app(lesson_dir, store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("3", "r")
        await finish_run(pilot)
        await type_into(pilot, "#param-lr", "0.1")
        await pilot.press("enter")
        await finish_run(pilot)
        await store_settled(pilot)

        table = app.query_one("#runs-table", RunsTable)
        newest, oldest = store.runs(GD_ID)
        assert [r.id for r in table.runs] == [newest.id, oldest.id]
        assert table.row_count == 2
        row = [str(c.plain if isinstance(c, Text) else c) for c in table.get_row(str(newest.id))]
        assert row[0].strip() == f"#{newest.id}" and row[2] == "completed"
        assert row[3] == "lr=0.1" and row[5] == "1/1"
        assert table.get_row(str(oldest.id))[3] == "defaults"
        assert "2 stored" in text_of(app, "#runs-hint")

        # Keyboard only: h focuses the table, enter and space toggle rows.
        await pilot.press("h")
        assert table.has_focus
        await pilot.press("enter", "down", "space")
        loss = app.query_one("#chart-loss", LiveChart)
        other = app.query_one("#chart-other", LiveChart)
        labels = [o.label for o in loss.overlays]
        assert labels == [f"#{newest.id} lr=0.1", f"#{oldest.id} defaults"]
        assert [o.points for o in loss.overlays] == [newest.history["loss"], oldest.history["loss"]]
        assert [o.points for o in other.overlays] == [newest.history["w"], oldest.history["w"]]
        assert len({o.colour for o in loss.overlays}) == 2  # distinct colours
        assert sorted(app.overlays) == sorted([newest.id, oldest.id])
        # The live run's points are still there; the legend names each overlaid run.
        assert loss.point_count("loss") == len(newest.history["loss"])
        legend = loss.render_text(60, 14).plain.splitlines()[1]
        assert f"#{newest.id} lr=0.1" in legend and f"#{oldest.id} defaults" in legend

        await pilot.press("space")  # toggles the oldest off again
        assert [o.label for o in loss.overlays] == [f"#{newest.id} lr=0.1"]
        await pilot.press("o")
        assert loss.overlays == [] and other.overlays == [] and app.overlays == {}

        # A new run keeps overlays; opening another lesson drops them.
        await pilot.press("up", "enter")
        assert len(loss.overlays) == 1
        await pilot.press("r")
        await finish_run(pilot)
        await store_settled(pilot)
        assert len(loss.overlays) == 1 and table.row_count == 3
        await open_by_keys(pilot, SLOW)
        assert loss.overlays == [] and app.overlays == {}


def test_changed_params_names_only_what_differs_from_the_defaults() -> None:
    defaults = {"lr": 0.01, "epochs": 100, "seed": 0}
    assert changed_params({"lr": 0.01, "epochs": 100, "seed": 0}, defaults) == "defaults"
    assert changed_params({"lr": 0.3, "epochs": 20, "seed": 0}, defaults) == "lr=0.3, epochs=20"


def test_overlays_render_at_the_exact_size_and_a_diverged_run_switches_to_log_scale() -> None:
    chart = LiveChart()
    chart.configure("loss", [("loss", "train loss", "epoch")])
    chart.add_points("loss", [(e, 1.0 / e) for e in range(1, 11)])
    calm = OverlaySeries(
        "#1 loss", "#1 defaults", 208, "epoch", [(e, 2.0 / e) for e in range(1, 11)]
    )
    chart.set_overlays([calm])
    for width, height in [(60, 14), (31, 10), (120, 20)]:
        lines = chart.render_text(width, height).split("\n")
        assert len(lines) == height and all(line.cell_len == width for line in lines)
    assert not use_log_scale(list(chart.series.values()), chart.overlays)

    exploded = [(float(e), 10.0 ** (3 * e)) for e in range(1, 21)] + [(21.0, math.inf)]
    chart.set_overlays([calm, OverlaySeries("#2 loss", "#2 lr=3", 141, "epoch", exploded)])
    assert use_log_scale(list(chart.series.values()), chart.overlays)
    text = chart.render_text(60, 16).plain
    assert "log y" in text.splitlines()[0] and "1e" in text  # ticks at powers of ten
    # Overlays alone (no live run yet, e.g. after a restart) are drawn.
    chart.clear()
    assert not chart.has_data and "no points yet" not in chart.render_text(60, 16).plain
    lines = chart.render_text(40, 10).split("\n")
    assert len(lines) == 10 and "┈ #2 lr=3" in lines[1].plain


# -- reset -----------------------------------------------------------------------------


async def test_reset_asks_first_n_keeps_and_y_clears(
    lesson_dir: Path, store: ProgressStore
) -> None:
    app = make_app(lesson_dir, store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("3", "r")
        await finish_run(pilot)
        await store_settled(pilot)
        assert len(store.runs(GD_ID)) == 1

        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        question = app.screen.query_one("#confirm-question", Static).content
        assert "Reset your progress" in str(question)
        await pilot.press("r")  # the app's keys wait while the dialog is open
        assert app.active_run is None
        await pilot.press("n")
        await store_settled(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert len(store.runs(GD_ID)) == 1 and "cancelled" in text_of(app, "#status")

        await pilot.press("R")
        await pilot.press("escape")  # escape is "no" too
        assert not isinstance(app.screen, ConfirmScreen) and len(store.runs(GD_ID)) == 1

        await pilot.press("R", "y")
        await store_settled(pilot)
        assert store.runs(GD_ID) == [] and store.answers(GD_ID) == {}
        assert app.query_one(LessonList).status(GD_ID) == "new"
        assert app.query_one("#runs-table", RunsTable).row_count == 0
        assert app.completed_run(GD_ID) is None
        assert text_of(app, "#progress") == "not run yet"
        assert "Reset" in text_of(app, "#status")


# -- language --------------------------------------------------------------------------


async def test_language_toggle_switches_lesson_text_and_is_saved(
    lesson_dir: Path, store: ProgressStore
) -> None:
    long_title = lesson_dir / "long-title"
    long_title.mkdir()
    (long_title / "lesson.yaml").write_text(LONG_TITLE_YAML)
    (long_title / "code.py").write_text("def train(ctx):\n    ctx.report_epoch(1, loss=1.0)\n")

    app = make_app(lesson_dir, store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert app.lang == "en" and "Gradient descent by hand" in text_of(app, "#lesson-text")
        await pilot.press("3")
        await type_into(pilot, "#param-epochs", "7")  # typed, not run: kept across the switch
        await pilot.press("ctrl+l")  # works while typing in a field
        await store_settled(pilot)
        assert app.lang == "zh" and store.get_state("lang") == "zh"
        assert "手写梯度下降" in text_of(app, "#lesson-text")
        assert "手写梯度下降" in mark(app, GD_ID)
        assert "学习率" in text_of(app, "#param-lr-message")
        assert app.query_one("#param-epochs").value == "7"  # type: ignore[attr-defined]
        assert "梯度" in text_of(app, ".question-prompt")

        # The one-line cut of a CJK title is measured in cells: every row is exactly as wide
        # as the list, and the long title ends in an ellipsis.
        lessons = app.query_one(LessonList)
        width = lessons.scrollable_content_region.width
        rows = [lessons.render_line(y) for y in range(lessons.option_count)]
        assert {row.cell_length for row in rows} == {lessons.size.width}
        long_row = next(r for r in rows if "一个标题" in r.text)
        assert "…" in long_row.text and width < 40

        await pilot.press("escape", "L")  # L is the same key without ctrl
        await store_settled(pilot)
        assert app.lang == "en" and store.get_state("lang") == "en"
        assert "Gradient descent by hand" in text_of(app, "#lesson-text")
        await pilot.press("ctrl+l")
        await store_settled(pilot)

    # The saved language is used when the app is not given one; an explicit one wins.
    reopened = make_app(lesson_dir, store)
    async with reopened.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert reopened.lang == "zh" and "手写梯度下降" in text_of(reopened, "#lesson-text")
    explicit = make_app(lesson_dir, store, lang="en")
    async with explicit.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert explicit.lang == "en"


# -- terminal robustness ---------------------------------------------------------------


async def test_resize_while_training_then_back(
    lesson_dir: Path, store: ProgressStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = tmp_path / "gate"
    monkeypatch.setenv("DL_TUTOR_TEST_GATE", str(gate))
    app = make_app(lesson_dir, store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_by_keys(pilot, GATED)
        await pilot.press("r")
        chart = app.query_one("#chart-loss", LiveChart)
        await until(pilot, lambda: chart.point_count("loss") > 0)

        await pilot.resize_terminal(60, 20)
        seen = chart.point_count("loss")
        await until(pilot, lambda: chart.point_count("loss") > seen)  # still training
        assert app.size == (60, 20) and app.active_run is not None
        assert app.export_screenshot()  # the whole screen renders at 60×20
        status = app.query_one("#status")
        assert status.region.width == 60 and text_of(app, "#status").startswith("Running")

        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.size == (80, 24)
        gate.touch()
        result = await finish_run(pilot)
        await store_settled(pilot)
        assert result.status == "completed"
        assert app.export_screenshot()
        assert status.region.width == 80 and text_of(app, "#status").startswith("Completed")
        assert [r.status for r in store.runs("gated")] == ["completed"]


async def test_no_color_starts_and_runs(
    lesson_dir: Path, store: ProgressStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(lesson_dir, store)
    assert app.no_color  # Textual reads NO_COLOR when the app is built
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("3", "r")
        assert (await finish_run(pilot)).status == "completed"
        assert text_of(app, "#status").startswith("Completed")
        assert app.export_screenshot()


async def test_quit_mid_run_stores_it_as_cancelled(lesson_dir: Path, store: ProgressStore) -> None:
    app = make_app(lesson_dir, store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_by_keys(pilot, SLOW)
        await pilot.press("r")
        run = app.active_run
        assert run is not None
        await until(pilot, lambda: app.query_one("#chart-loss", LiveChart).point_count() > 0)
        await pilot.press("q")
    assert run.cancel.is_set() and run.done.is_set()  # the worker ended, its run stored
    assert [r.status for r in store.runs("slow")] == ["cancelled"]


# -- the store itself ------------------------------------------------------------------


async def test_the_app_opens_its_own_store_and_reports_a_recovered_file(
    lesson_dir: Path, tutor_env: Path
) -> None:
    data = tutor_env / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "progress.sqlite3").write_bytes(b"this is not a database" * 100)
    app = TutorApp([LESSON_01, lesson_dir], builtin=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await store_settled(pilot)
        assert app.store is not None and app.store.path.parent == data
        status = text_of(app, "#status")
        assert "progress file" in status and "moved" in status
        await pilot.press("3", "r")
        await finish_run(pilot)
        await store_settled(pilot)
        assert len(app.store.runs(GD_ID)) == 1
    assert list(data.glob("progress.sqlite3.corrupt-*"))


async def test_a_failing_store_is_reported_and_the_app_goes_on(
    lesson_dir: Path, tmp_path: Path
) -> None:
    store = ProgressStore(tmp_path / "closing.sqlite3")
    app = make_app(lesson_dir, store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await store_settled(pilot)
        store.close()  # every write now fails with ProgressError
        await pilot.press("3", "r")
        assert (await finish_run(pilot)).status == "completed"
        await store_settled(pilot)
        assert "Progress not saved" in text_of(app, "#status")
        await pilot.press("r")
        assert (await finish_run(pilot)).status == "completed"
