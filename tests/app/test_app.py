"""The Textual app driven like a learner would: keys, a real run, the quiz.

Runs are real (lesson 01 is pure Python; the test lessons below are tiny). Nothing
waits on time: a run's end is awaited through its worker, and "until the app shows
X" loops wake on each message the app handles (see ``until``).
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    BROKEN_YAML,
    DIVERGING_CODE,
    FAILING_CODE,
    LESSON_01,
    SLOW_CODE,
    write_app_lesson,
)
from rich.text import Text
from textual.widgets import Input, OptionList, Static, TabbedContent

import tutor.ui.app
import tutor.ui.startup
import tutor.ui.widgets.run_view
from tutor import events, quiz
from tutor.lesson.index import load_catalog_indexed
from tutor.lesson.loader import load_catalog
from tutor.testing import (  # noqa: F401 - re-exported for the other test_app* modules
    SAFETY_SECONDS,
    expected_answer,
    finish_run,
    graded,
    open_by_keys,
    shown_letter,
    started,
    text_of,
    type_into,
    until,
)
from tutor.ui import messages
from tutor.ui.app import TutorApp
from tutor.ui.run_link import RunBridge
from tutor.ui.widgets import CodeView, KeyFooter, LiveChart, RunLog, TrainingView
from tutor.ui.widgets.footer import footer_items
from tutor.ui.widgets.lesson_list import LessonList, lesson_label

pytestmark = pytest.mark.usefixtures("tutor_env")

# Positions in the lesson list (ordered by `order`; broken files come last).
GD, SLOW, FAILING, DIVERGING, BROKEN = range(5)


@pytest.fixture
def lesson_dir(tmp_path: Path) -> Path:
    root = tmp_path / "lessons"
    write_app_lesson(root, "slow", 50, SLOW_CODE)
    write_app_lesson(root, "failing", 51, FAILING_CODE)
    write_app_lesson(root, "diverging", 52, DIVERGING_CODE, per="epoch")
    broken = root / "broken"
    broken.mkdir()
    (broken / "lesson.yaml").write_text(BROKEN_YAML)
    (broken / "code.py").write_text("def train(ctx):\n    pass\n")
    return root


@pytest.fixture
def app(lesson_dir: Path) -> TutorApp:
    return TutorApp([LESSON_01, lesson_dir], builtin=False)


# -- helpers -------------------------------------------------------------------------


# The helpers (text_of, until, started, finish_run, open_by_keys, graded, type_into) live in
# tutor.testing, for lesson authors' tests too.


# -- tests ---------------------------------------------------------------------------


def test_importing_the_app_does_not_import_torch() -> None:
    code = (
        "import importlib,sys; importlib.import_module('tutor.ui.app'); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_pick_run_and_quiz_lesson_01_by_keyboard(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_by_keys(pilot, SLOW)  # somewhere else first, then back by keys
        assert app.current is not None and app.current.id == "slow"
        await open_by_keys(pilot, GD)
        assert app.current is not None and app.current.id == "gradient-descent"
        assert "Gradient descent by hand" in text_of(app, "#lesson-text")

        # Code pane: exactly the file the runner executes, and its path.
        await pilot.press("2")
        assert app.query_one("#lesson-code", CodeView).code == app.current.code()
        assert text_of(app, "#code-path") == str(app.current.code_path)

        # A grounded question before any run asks for a run.
        await pilot.press("4")
        await type_into(pilot, "#quiz-learned-w-input", "2")
        await pilot.press("enter")
        await graded(pilot)
        assert "Run the lesson first" in text_of(app, "#quiz-learned-w-verdict")

        # Printable keys typed in an input stay in the input: "r" must not start a run.
        await pilot.press("escape", "3")
        await type_into(pilot, "#param-epochs", "4r")
        assert app.active_run is None
        await type_into(pilot, "#param-epochs", "60")
        await pilot.press("escape", "r")
        result = await finish_run(pilot)

        assert result.status == "completed" and result.params["epochs"] == 60
        loss = app.query_one("#chart-loss", LiveChart)
        assert loss.has_data and loss.point_count("loss") == 60
        assert (
            "no accuracy in this lesson" in app.query_one("#chart-accuracy", LiveChart).empty_text
        )
        assert "epoch 60/60" in text_of(app, "#progress")
        assert text_of(app, "#device") == f"device: {result.device}"
        assert "seed: 0" in text_of(app, "#seed")
        assert "three points" in text_of(app, "#dataset")
        assert "loss" in text_of(app, "#metrics")
        assert "✓ w ends within 0.01 of 2.0" in text_of(app, "#checks")
        assert "epoch  20" in text_of(app, "#run-log")  # the lesson's ctx.log lines
        assert "Completed" in text_of(app, "#status")

        # Quiz: the expected answers come from the run the app holds.
        await pilot.press("4")
        assert app.query_one("#main-tabs", TabbedContent).active == "pane-quiz"
        assert "✓ w ends within" in text_of(app, "#quiz-checks")
        values = quiz.run_values(result)
        questions = {q.id: q for q in app.current.lesson.quiz}
        w = quiz.expected_value(questions["learned-w"], values)
        await type_into(pilot, "#quiz-learned-w-input", f"{w:.6f}")
        await pilot.press("enter")
        await graded(pilot)
        assert text_of(app, "#quiz-learned-w-verdict").startswith("✓ Correct")

        prediction = quiz.expected_value(questions["prediction-4"], values)
        await type_into(pilot, "#quiz-prediction-4-input", f"{prediction + 1:.4f}")
        await pilot.click("#quiz-prediction-4-check")
        await graded(pilot)
        verdict = text_of(app, "#quiz-prediction-4-verdict")
        # No copying back: a wrong verdict never holds the value (tutor.quiz_coach shows it later).
        assert verdict.startswith("✗ Not quite") and f"{prediction:.6g}" not in verdict

        # Choices are typed with the letter shown, in the learner's own order of the options.
        right = expected_answer(app, "gradient-descent", "too-large-lr")
        await type_into(
            pilot,
            "#quiz-too-large-lr-input",
            shown_letter(app, "gradient-descent", "too-large-lr", right),
        )
        await pilot.press("enter")
        await graded(pilot)
        assert text_of(app, "#quiz-too-large-lr-verdict").startswith("✓ Correct")
        assert "(± 0.01)" in text_of(app, ".question-prompt")


async def test_stop_cancels_a_long_run_and_a_second_run_is_refused(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_by_keys(pilot, SLOW)
        await pilot.press("r")
        chart = app.query_one("#chart-loss", LiveChart)
        await until(pilot, lambda: chart.point_count("loss") > 0)  # midway: points arrived

        await pilot.press("r")
        assert "Refused" in text_of(app, "#status")
        await pilot.click("#stop")
        result = await finish_run(pilot)

        assert result.status == "cancelled"
        assert "Cancelled" in text_of(app, "#status")
        assert text_of(app, "#progress").startswith("cancelled")
        assert chart.point_count("loss") == len(result.history["loss"]) > 0
        assert "■ stopped" in text_of(app, "#run-log")


async def test_failed_run_shows_traceback_and_the_app_keeps_working(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_by_keys(pilot, FAILING)
        await pilot.press("r")
        result = await finish_run(pilot)
        assert result.status == "failed"
        log = text_of(app, "#run-log")
        assert "about to fail" in log
        assert "Traceback" in log and "ValueError: boom from the lesson" in log
        assert "Failed: ValueError: boom from the lesson" in text_of(app, "#status")

        await open_by_keys(pilot, GD)
        await pilot.press("r")
        assert (await finish_run(pilot)).status == "completed"


async def test_diverged_run_shows_the_hint(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_by_keys(pilot, DIVERGING)
        await pilot.press("r")
        result = await finish_run(pilot)
        assert result.status == "diverged" and result.hint
        # The doctor says it once, with the evidence (the run log no longer repeats the hint).
        diagnosis = text_of(app, "#diagnosis")
        assert diagnosis.startswith("diverged: loss became nan at epoch 2 (it started at 1)")
        assert "Diverged" in text_of(app, "#status")


async def test_invalid_hyperparameter_is_marked_and_refused(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("3")
        await type_into(pilot, "#param-epochs", "0")
        await pilot.pause()
        assert app.query_one("#param-epochs", Input).has_class("-invalid")
        assert "below the minimum" in text_of(app, "#param-epochs-message")
        await pilot.press("escape", "r")
        assert app.active_run is None and app.last_result is None
        status = text_of(app, "#status")
        assert status.startswith("Not run") and "epochs" in status

        await type_into(pilot, "#param-epochs", "abc")
        await pilot.press("enter")  # Enter in a field runs too: refused the same way
        assert app.active_run is None
        assert "not a valid int" in text_of(app, "#status")


async def test_broken_lesson_file_is_listed_with_its_problems(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        options = app.query_one("#lesson-list", OptionList)
        last = options.get_option_at_index(options.option_count - 1)
        assert str(last.prompt).startswith("✗ broken/lesson.yaml")
        await open_by_keys(pilot, BROKEN)
        problem = app.catalog.problems[0]
        assert str(problem) in text_of(app, "#lesson-text")  # file:line: field: message
        assert "titel" in text_of(app, "#lesson-text")
        assert "problem" in text_of(app, "#status")
        assert app.current is None
        await pilot.press("r")
        assert app.active_run is None and "open a lesson" in text_of(app, "#status")


async def test_a_crash_outside_the_lesson_is_reported_and_the_app_lives_on(
    app: TutorApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_runner(*args: object, **kwargs: object) -> None:
        raise RuntimeError("runner bug")

    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        with monkeypatch.context() as patch:
            patch.setattr("tutor.training.process.Trainer.run", broken_runner)
            await pilot.press("r")
            await app.workers.wait_for_complete()
            await until(pilot, lambda: "internal error" in text_of(app, "#status"))
        assert app.active_run is None
        await pilot.press("r")
        assert (await finish_run(pilot)).status == "completed"


async def test_status_says_loading_pytorch_until_the_preload_is_done(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await app.workers.wait_for_complete()
        await until(pilot, lambda: app.torch_ready)
        assert "loading PyTorch" not in text_of(app, "#status")
        assert app.device_label == "cpu" and app.title.endswith("· cpu")
        # The title bar says it, and which lesson is open.
        assert app.current is not None
        title_bar = text_of(app, "#title-bar")
        assert "dl-tutor · cpu" in title_bar and lesson_label(app.current, "en") in title_bar


async def test_quit_during_a_run_cancels_it(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_by_keys(pilot, SLOW)
        await pilot.press("r")
        run = app.active_run
        assert run is not None
        await pilot.press("q")
    assert run.cancel.is_set()  # so the training thread ends at its next step


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_every_pane_renders_at_small_and_large_sizes(
    app: TutorApp, size: tuple[int, int], tmp_path: Path
) -> None:
    async with app.run_test(size=size) as pilot:
        await started(pilot)
        await pilot.press("3", "r")
        await finish_run(pilot)
        wide = size[0] >= 140
        assert app.screen.has_class("-wide") == wide
        charts = [app.query_one(f"#chart-{k}", LiveChart) for k in ("loss", "accuracy")]
        view = app.query_one(TrainingView)
        assert charts[0].region.height >= (20 if wide else 8)
        if wide:  # side by side
            assert charts[0].region.y == charts[1].region.y
        # After a run the form is folded: progress and both charts show without scrolling.
        progress = app.query_one("#progress")
        assert view.has_class("-collapsed")
        for widget in (progress, *charts):
            assert view.region.contains_region(widget.region), widget
        for pane in ("1", "2", "3", "4"):
            await pilot.press(pane)
            await pilot.pause()
            path = app.save_screenshot(f"pane{pane}-{size[0]}x{size[1]}.svg", path=str(tmp_path))
            assert Path(path).stat().st_size > 0
        await pilot.press("b")  # the sidebar hides and comes back
        assert not app.query_one("#lesson-list").display
        await pilot.press("l")
        assert app.query_one("#lesson-list").has_focus


async def test_chinese_lesson_text_and_quiz() -> None:
    app = TutorApp([LESSON_01], builtin=False, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert "手写梯度下降" in text_of(app, "#lesson-text")
        await pilot.press("4")
        assert "梯度" in text_of(app, ".question-prompt")
        await pilot.press("r")
        await finish_run(pilot)
        assert "w 最终与 2.0 相差不超过 0.01" in text_of(app, "#quiz-checks")


async def test_reopening_a_running_lesson_replays_its_points(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_by_keys(pilot, SLOW)
        await pilot.press("r")
        chart = app.query_one("#chart-loss", LiveChart)
        await until(pilot, lambda: chart.point_count("loss") > 0)
        await open_by_keys(pilot, GD)
        assert chart.point_count("loss") == 0 and "● " not in text_of(app, "#progress")
        await open_by_keys(pilot, SLOW)
        run = app.active_run
        assert run is not None
        assert chart.point_count("loss") == len(run.points["loss"]) > 0
        await pilot.press("s")
        assert (await finish_run(pilot)).status == "cancelled"


IMAGES_CODE = """
def train(ctx):
    ctx.report_step(loss=1.0)
    ctx.record("sample_images", [[[0.0, 1.0], [1.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]]])
    ctx.record("sample_captions", ["cross", "bar"])
"""


async def test_updates_during_a_run_are_paced_by_the_ui_cpu_budget(app: TutorApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await open_by_keys(pilot, SLOW)
        pacer = app.query_one(TrainingView).pacer
        pacer.budget = 1e-9  # any CPU the UI spends is over it: the slowest pace
        await pilot.press("r")
        await until(pilot, lambda: pacer.interval == pacer.slowest)
        pacer.budget = 1e9  # nothing is: the fastest
        await until(pilot, lambda: pacer.interval == pacer.fastest)
        await pilot.press("s")
        assert (await finish_run(pilot)).status == "cancelled"


async def test_log_lines_during_a_run_scroll_the_log_without_a_layout(
    app: TutorApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await until(pilot, lambda: app.torch_ready)  # its note and the header are laid out
        await pilot.press("3")
        await pilot.pause()
        log = app.query_one("#run-log", RunLog)
        layouts: list[int] = []
        lay_out = app.screen._refresh_layout
        monkeypatch.setattr(
            app.screen, "_refresh_layout", lambda *a, **k: layouts.append(1) or lay_out(*a, **k)
        )
        for i in range(30):  # a write a tick, as during a run
            log.add_lines([f"epoch {i}: loss 0.{i:03d}"])
            await pilot.pause()
        assert layouts == []
        assert log.vertical_scrollbar.window_virtual_size == log.line_count == 30
        assert log.scroll_y == log.max_scroll_y > 0  # following the newest line


async def test_start_up_is_frozen_out_of_the_collector_while_the_app_runs(
    app: TutorApp,
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert gc.get_freeze_count() > 0  # full collections skip what start-up built
    assert gc.get_freeze_count() == 0  # and it is collectable again once the app ends


async def test_recorded_images_are_drawn_after_the_run_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_app_lesson(tmp_path, "images", 1, IMAGES_CODE)
    app = TutorApp([tmp_path], builtin=False)
    drawn_on: list[str] = []
    draw = tutor.ui.widgets.run_view.draw_images

    def spy(*args: Any) -> Text:
        drawn_on.append(threading.current_thread().name)
        return draw(*args)

    monkeypatch.setattr(tutor.ui.widgets.run_view, "draw_images", spy)
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        await pilot.press("r")
        assert (await finish_run(pilot)).status == "completed"
        view = app.query_one("#image-view", Static)
        await until(pilot, lambda: view.display)
        shown = text_of(app, "#image-view")
        assert shown.startswith("sample images") and "cross" in shown and "bar" in shown
        assert drawn_on and drawn_on[0] != threading.main_thread().name
        await pilot.press("r")  # a new run hides the last run's pictures until it ends
        assert not view.display
        await finish_run(pilot)


async def test_the_footer_shows_the_focused_panes_keys_and_repaints_in_place(app: TutorApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        await pilot.pause()
        footer = app.query_one(KeyFooter)

        def keys() -> list[str]:
            return [key for item in footer.items for key, _ in item.keys]

        def line() -> str:
            return footer.render().plain

        assert "r Run" in line() and "q Quit" in line() and "^p palette" in line()
        assert "12345 Panes" in line()  # a binding group: its keys, then its description
        assert "escape" not in keys() and "v" not in keys()
        await pilot.press("4")  # the Quiz pane adds its reveal key (v)
        await until(pilot, lambda: "v Reveal answer" in line())
        await pilot.press("3")  # the Train pane adds its chart keys (w, g, f)
        await until(pilot, lambda: "w Smoothing" in line())
        assert "v" not in keys()
        app.query_one("#param-epochs", Input).focus()  # escape joins the keys
        await until(pilot, lambda: "escape" in keys())
        assert footer.items == footer_items(app.screen)
        assert not footer.children  # one widget: the keys are its text, nothing mounted
        assert footer.region.height == 1


async def test_clicking_a_key_in_the_footer_presses_it(app: TutorApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        text = footer.render().plain
        column = text.index("12345 Panes") + 3  # "4" of a binding group: that key
        await pilot.click(KeyFooter, offset=(column, 0))
        await until(pilot, lambda: app.query_one(TabbedContent).active == "pane-quiz")
        text = footer.render().plain  # the Quiz pane's keys came first
        column = text.index("b Sidebar") + 4  # a key alone: its description too
        await pilot.click(KeyFooter, offset=(column, 0))
        await until(pilot, lambda: not app.query_one(LessonList).display)


# -- the bridge, without an app ------------------------------------------------------


class Collector:
    """Stands in for the widget the bridge posts to."""

    def __init__(self) -> None:
        self.messages: list[object] = []

    def post_message(self, message: object) -> bool:
        self.messages.append(message)
        return True


def progress(step: int) -> events.Progress:
    return events.Progress(
        epoch=1,
        epochs=1,
        step=step,
        global_step=step,
        elapsed=0.0,
        points={"loss": [(float(step), 1.0 / step)]},
        metrics={"loss": 1.0 / step},
    )


def test_bridge_coalesces_progress_and_keeps_every_point() -> None:
    target = Collector()
    loaded = load_catalog([LESSON_01], builtin=False).lessons[0]
    bridge = RunBridge(target, 1, loaded.id)  # type: ignore[arg-type]
    for step in range(1, 101):
        bridge(progress(step))
        bridge(events.EpochEnded(step, {"loss": 1.0}, 0.0))  # never a message of its own
        bridge(events.LogLine(f"line {step}"))
    assert len(target.messages) == 1
    assert isinstance(target.messages[0], messages.RunProgressed)

    update = bridge.drain()
    assert [x for x, _ in update.points["loss"]] == [float(s) for s in range(1, 101)]
    assert update.logs == [f"line {s}" for s in range(1, 101)]
    assert update.progress is not None and update.progress.global_step == 100

    bridge(progress(101))  # after a drain, the next event posts again
    assert len(target.messages) == 2
    first, second = target.messages
    assert isinstance(first, messages.RunProgressed) and first.can_replace(second)  # type: ignore[arg-type]


async def test_torch_loading_after_the_app_closed_is_ignored(tmp_path: Path) -> None:
    """Quitting while the preload worker imports torch: its end arrives with the widgets gone."""
    from types import SimpleNamespace

    from textual.worker import WorkerState

    from tutor.progress import ProgressStore

    store = ProgressStore(tmp_path / "p.sqlite3")
    app = TutorApp([LESSON_01], builtin=False, store=store)
    async with app.run_test(size=(80, 24)):
        pass
    from tutor.training.process import Ready

    ready = Ready(1, "2.x", "cpu")
    worker = SimpleNamespace(group="preload", name="_preload_torch", error=None, result=ready)
    event = SimpleNamespace(worker=worker, state=WorkerState.SUCCESS)
    app.on_worker_state_changed(event)  # type: ignore[arg-type]
    assert app.torch_ready
    store.close()


async def test_a_run_ending_as_the_app_closes_is_ignored(tmp_path: Path) -> None:
    """The run's end is routed to the lesson list and the quiz: both may be gone already
    (a bench or a learner quitting the moment a run finishes raised NoMatches here, and
    again from the quiz when the run it grades changed)."""
    from tutor.progress import ProgressStore
    from tutor.ui.panes.train import TrainPane

    store = ProgressStore(tmp_path / "p.sqlite3")
    app = TutorApp([LESSON_01], builtin=False, store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.current is not None)
    app.on_train_pane_run_ended(TrainPane.RunEnded(None))
    assert app.current is not None  # the quiz would be asked to grade its new run
    app.on_train_pane_graded_run_changed(TrainPane.GradedRunChanged(app.current.id))
    app.say("Cnn completed: test accuracy 0.91")  # the run's outcome, said as it ends
    store.close()


# -- start-up: the first screen before the lessons are loaded -------------------------


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Holds the app's lesson loading (which starts after the first paint) until set."""
    release = threading.Event()
    real = tutor.ui.startup.load_catalog_indexed

    def held(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(SAFETY_SECONDS)
        return real(*args, **kwargs)

    monkeypatch.setattr(tutor.ui.startup, "load_catalog_indexed", held)
    return release


def listed(app: TutorApp) -> list[str]:
    options = app.query_one("#lesson-list", OptionList)
    prompts = [options.get_option_at_index(i).prompt for i in range(options.option_count)]
    return [p.plain if isinstance(p, Text) else str(p) for p in prompts]


async def test_the_first_screen_lists_lessons_from_the_index_of_the_last_start(
    lesson_dir: Path, gate: threading.Event
) -> None:
    # The very first start has no index: the list fills once the lessons are loaded.
    first = TutorApp([LESSON_01, lesson_dir], builtin=False)
    async with first.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: first.first_paint_at is not None)
        assert listed(first) == [] and not first.startup_done
        assert "Loading lessons" in text_of(first, "#status")
        gate.set()
        await started(pilot)
        shown = listed(first)
        assert len(shown) == 5 and shown[-1].startswith("✗ broken/lesson.yaml")
        assert first.current is not None and first.current.id == "gradient-descent"

    gate.clear()
    second = TutorApp([LESSON_01, lesson_dir], builtin=False)
    async with second.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: second.first_paint_at is not None)
        assert not second.startup_done and second.catalog.lessons == []
        assert listed(second) == shown  # from the index, broken file included
        await open_by_keys(pilot, SLOW)  # chosen before it is loaded: opened once it is
        assert second.current is None
        gate.set()
        await started(pilot)
        assert second.current is not None and second.current.id == "slow"
        assert listed(second) == shown


async def test_an_edited_lesson_is_never_listed_from_a_stale_index(
    lesson_dir: Path, gate: threading.Event
) -> None:
    load_catalog_indexed([LESSON_01, lesson_dir], builtin=False)  # as a last start left it
    slow = lesson_dir / "slow" / "lesson.yaml"
    slow.write_text(slow.read_text() + "titel: a typo\n")
    app = TutorApp([LESSON_01, lesson_dir], builtin=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.first_paint_at is not None)
        assert listed(app) == []  # the index is stale: nothing is listed from it
        gate.set()
        await started(pilot)
        assert app.catalog.get("slow") is None
        assert "✗ slow/lesson.yaml" in listed(app)


async def test_a_catalog_given_is_listed_at_the_first_paint_and_nothing_is_loaded(
    lesson_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_loading(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a catalog was given: nothing to load")

    monkeypatch.setattr(tutor.ui.startup, "load_catalog_indexed", no_loading)
    catalog = load_catalog([LESSON_01, lesson_dir], builtin=False)
    painted: list[list[str]] = []

    class Watched(TutorApp):
        CSS_PATH = str(Path(tutor.ui.app.__file__).with_name("app.tcss"))

        def _first_paint(self) -> None:
            painted.append(listed(self))
            super()._first_paint()

    app = Watched(catalog=catalog)
    assert app.catalog is catalog
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert app.first_paint_at is not None and app.catalog is catalog
        assert painted == [listed(app)] and len(painted[0]) == 5
        assert app.current is not None and app.current.id == "gradient-descent"


async def test_keys_pressed_before_the_panes_are_filled_do_no_harm(lesson_dir: Path) -> None:
    # The first frame has no panes; they are mounted right after it. Held here, so every key
    # lands in that moment: nothing fails, a lesson chosen opens, the Lesson pane is in front.
    release = asyncio.Event()

    class Held(TutorApp):
        CSS_PATH = str(Path(tutor.ui.app.__file__).with_name("app.tcss"))

        async def _mount_panes(self) -> None:
            await release.wait()
            await super()._mount_panes()

    catalog = load_catalog([LESSON_01, lesson_dir], builtin=False)
    app = Held(catalog=catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.first_paint_at is not None)
        assert not app.query("#main-tabs") and not app.query("#training")
        # Nor their styles: the first frame parses app.tcss only.
        assert not app.stylesheet.has_source(str(tutor.ui.app.PANES_CSS_PATH), "")
        await pilot.press("2", "3", "4", "5", "h", "b", "b", "r", "R", "ctrl+l", "ctrl+l", "1")
        await pilot.press("l", "home", "down", "enter")  # the second lesson, given: not opened yet
        await pilot.press("3")
        await pilot.pause()
        assert app.current is None and not app.startup_done
        release.set()
        await started(pilot)
        assert app.current is not None and app.current.id == catalog.lessons[1].id
        assert app.query_one("#main-tabs", TabbedContent).active == "pane-lesson"
        assert app.stylesheet.has_source(str(tutor.ui.app.PANES_CSS_PATH), "")
        for selector in ("#lesson-text", "#lesson-code", "#training", "#quiz", "#exercise"):
            assert app.query(selector), selector
        await pilot.press("3")
        assert app.focused is app.training
