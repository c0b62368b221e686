"""Sweeps and experiments in the Train pane (keyboard only; a store on a temporary path).

A sweep of three learning rates over the CNN at one epoch draws three coloured curves and
ends in a three-row table, every run stored with its sweep tag; Stop mid-sweep keeps the
finished runs and skips the rest; lesson 01's experiment grades a prediction after its runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import BARE_YAML, write_lesson
from textual.pilot import Pilot
from textual.widgets import DataTable

from tutor import quiz
from tutor.lesson.loader import load_catalog
from tutor.plot import render
from tutor.progress import ProgressStore
from tutor.testing import started, store_settled, text_of, type_into, until
from tutor.training.sweep import SWEEP_RECORD
from tutor.ui.app import TutorApp
from tutor.ui.widgets.chart import LiveChart

LESSONS = Path(__file__).parents[2] / "lessons"

# Ten steps an epoch, a little sleep each: one epoch is quick, a hundred take long enough
# to press Stop in the middle.
SLOW_CODE = """
import time

def train(ctx):
    for epoch in range(1, ctx.params.epochs + 1):
        for step in range(10):
            ctx.report_step(loss=1.0 / (epoch + step))
            time.sleep(0.01)
"""


def app_for(lesson_dir: Path, store: ProgressStore) -> TutorApp:
    return TutorApp(catalog=load_catalog([lesson_dir], builtin=False), store=store)


async def sweep_ended(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, TutorApp)
    await until(pilot, lambda: app.sweep is not None and not app.sweep.running)
    await app.workers.wait_for_complete()
    await store_settled(pilot)


def styles_drawn(chart: LiveChart, width: int = 76, height: int = 14) -> str:
    """Every style of the chart as it is drawn at this size, joined."""
    rows = render(chart.snapshot().chart(log_y=False), width, height)
    return " ".join(style for row in rows for _, style in row)


async def test_a_sweep_of_three_lrs_on_the_cnn(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "p.sqlite3")
    app = app_for(LESSONS / "14-cnn", store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("3")
        await type_into(pilot, "#param-epochs", "1")  # the lesson's smoke setting
        await pilot.press("escape", "W")
        assert app.focused is not None and app.focused.id == "sweep-spec"
        await type_into(pilot, "#sweep-spec", "lr = 0.01, 0.05, 0.1")
        await pilot.press("enter")
        assert app.sweep is not None and app.active_run is not None  # r is refused meanwhile
        await sweep_ended(pilot)

        sweep = app.sweep
        assert [r.status for r in sweep.results] == ["completed"] * 3
        assert [r.params["lr"] for r in sweep.results] == [0.01, 0.05, 0.1]
        assert all(r.params["epochs"] == 1 for r in sweep.results)
        chart = app.query_one("#chart-loss", LiveChart)
        drawn = {name: s for name, s in chart.series.items() if s.points}
        assert sorted(drawn) == ["loss#0", "loss#1", "loss#2"]
        assert [s.label for s in drawn.values()] == ["lr=0.01", "lr=0.05", "lr=0.1"]
        colours = {s.colour for s in drawn.values()}
        assert len(colours) == 3 and None not in colours
        styles = styles_drawn(chart)
        assert all(f"color({c})" in styles for c in colours)  # each run in its colour
        legend = chart.render_text(76, 14).plain
        assert "lr=0.01" in legend and "lr=0.1" in legend

        table = app.query_one("#sweep-table", DataTable)
        assert table.row_count == 3
        assert str(table.get_row("0")[1]) == "lr=0.01"
        marked = [i for i in range(3) if "★" in str(table.get_row(str(i))[0])]
        assert len(marked) == 1  # the best run
        assert "Sweep done: 3/3 runs completed" in text_of(app, "#sweep-message")

        stored = store.runs("cnn")
        assert len(stored) == 3
        tags = sorted((r.records[SWEEP_RECORD] for r in stored), key=lambda t: t["index"])
        assert [t["values"] for t in tags] == [{"lr": 0.01}, {"lr": 0.05}, {"lr": 0.1}]
        assert len({t["id"] for t in tags}) == 1 and all(t["of"] == 3 for t in tags)

        # A plain run afterwards puts the lesson's own series back on the charts.
        await pilot.press("3", "r")
        await until(pilot, lambda: app.active_run is not None)
        assert "loss#0" not in chart.series and "loss" in chart.series
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: app.active_run is None)
    store.close()


async def test_stop_mid_sweep_keeps_the_finished_runs(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    write_lesson(lessons, "slow", yaml=BARE_YAML.format(id="slow"), code=SLOW_CODE)
    store = ProgressStore(tmp_path / "p.sqlite3")
    app = app_for(lessons, store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("3", "W")
        await type_into(pilot, "#sweep-spec", "epochs = 1, 100, 2")
        await pilot.press("enter")
        sweep = app.sweep
        assert sweep is not None
        # The second run trains: stop the whole sweep.
        await until(pilot, lambda: len(sweep.results) == 1 and sweep.points[1].get("loss"))
        await pilot.press("s")
        await sweep_ended(pilot)
        assert [r.status for r in sweep.results] == ["completed", "cancelled"]
        assert app.active_run is None
        assert app.query_one("#sweep-table", DataTable).row_count == 2
        assert "Sweep stopped: 1/3 runs completed" in text_of(app, "#sweep-message")
        chart = app.query_one("#chart-loss", LiveChart)
        assert chart.point_count("loss#0") == 10  # the finished run's curve stays
        assert sorted(r.status for r in store.runs("slow")) == ["cancelled", "completed"]
    store.close()


async def test_an_experiment_grades_the_prediction_after_its_runs(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "p.sqlite3")
    app = app_for(LESSONS / "01-gradient-descent", store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("3")
        # A value out of the lesson's range is refused with its reason, nothing runs.
        await pilot.press("W")
        await type_into(pilot, "#sweep-spec", "lr = 0.1, 5")
        await pilot.press("enter")
        assert app.sweep is None
        assert "Not run: " in text_of(app, "#sweep-message")
        assert "lr" in text_of(app, "#status") and "Not run" in text_of(app, "#status")

        await pilot.press("escape", "x")
        assert app.focused is not None and app.focused.id == "experiments"
        assert "What happens to the final loss" in str(
            app.query_one("#experiments").get_option_at_index(0).prompt
        )
        await pilot.press("enter")  # the experiment asks for a prediction first
        assert app.focused is not None and app.focused.id == "experiment-predict"
        await type_into(pilot, "#experiment-predict", "lr")
        await pilot.press("enter")
        assert app.sweep is None and "answer with a letter" in text_of(app, "#status")

        await type_into(pilot, "#experiment-predict", "c")
        await pilot.press("enter")
        await sweep_ended(pilot)
        sweep = app.sweep
        assert sweep is not None and sweep.experiment_result is not None
        found = sweep.experiment_result
        assert found.complete and len(sweep.results) == 3
        exp = app.current.lesson.experiments[0] if app.current else None
        assert exp is not None and exp.predict is not None
        right = quiz.option_label(quiz.expected_value(exp.predict, found.values))
        shown = text_of(app, "#experiment-result")
        assert ("✓ Correct." in shown) == (right == "c")
        assert found.conclusion("en") in shown
        assert "effect shown: yes" in shown
        stored = store.runs("gradient-descent")
        assert {r.records[SWEEP_RECORD]["experiment"] for r in stored} == {"learning-rate"}
    store.close()
