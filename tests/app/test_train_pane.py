"""The Train pane (TrainingView) on its own: its screen at 80×24 after a fixed run, compared
with a plain-text golden, and a stored run shown dimmed until a new run starts.

The view is mounted alone in a small App with the app's own stylesheets (app.tcss, then
panes.tcss, as TutorApp reads them), and fed the calls TutorApp makes during a run. Rewrite
the golden after an intended change, and read the diff:

    UPDATE_GOLDEN=1 PYTHONPATH=$PWD .venv/bin/python -m pytest -q tests/app/test_train_pane.py
"""

from __future__ import annotations

import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from helpers import MINIMAL_YAML, write_lesson
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tutor import events
from tutor.lesson.loader import load_lesson
from tutor.progress import StoredRun
from tutor.ui.widgets.chart import PREVIOUS_COLOUR, LiveChart
from tutor.ui.widgets.training import TrainingView

UI = Path(__file__).parents[2] / "tutor" / "ui"
GOLDEN = Path(__file__).parents[1] / "golden" / "train-pane-80x24.txt"
EPOCHS, STEPS = 4, 50  # steps per epoch
# The minimal test lesson with a learning rate, so a stored run reads ``lr=0.01``.
LR_YAML = MINIMAL_YAML.replace(
    "hyperparams:\n", "hyperparams:\n  - {{name: lr, type: float, default: 0.1, min: 0.0001}}\n"
)


class PaneApp(App[None]):
    CSS_PATH = [UI / "app.tcss", UI / "panes" / "panes.tcss"]

    def compose(self) -> ComposeResult:
        yield TrainingView(id="training")  # the id panes.tcss styles it by


@pytest.fixture
def lesson(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DL_TUTOR_CHARTS", "braille")  # not the test machine's TERM
    return load_lesson(write_lesson(tmp_path, yaml=LR_YAML.format(id="minimal"))).lesson


def fixed_history() -> dict[str, list[tuple[float, float]]]:
    """A loss that falls with a deterministic wobble, and its per-epoch mean."""
    steps = [
        (float(s), 1.8 * math.exp(-s / 60) + 0.2 + 0.08 * math.sin(s * 1.7))
        for s in range(1, EPOCHS * STEPS + 1)
    ]
    epochs = [
        (float(e), sum(y for _, y in steps[(e - 1) * STEPS : e * STEPS]) / STEPS)
        for e in range(1, EPOCHS + 1)
    ]
    return {"loss": steps, "train_loss": epochs}


async def until_drawn(pilot: Pilot[None]) -> None:
    """Until every chart shows a drawing of its current points at its current size."""
    charts = list(pilot.app.query(LiveChart))
    for _ in range(200):
        await pilot.pause(0.02)
        if not any(c.wants_drawing() or c._drawing for c in charts if c.display):
            await pilot.pause()
            return
    raise AssertionError("the charts were never drawn")


def screen_text(app: App[None]) -> str:
    """The screen as plain text, a line per row (what the terminal shows, colour left out)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip).rstrip() for strip in strips)


async def test_train_pane_after_a_fixed_run_matches_its_golden(lesson: Any) -> None:
    history = fixed_history()
    params = {"lr": 0.1, "epochs": EPOCHS, "seed": 0}
    metrics = {"loss": history["loss"][-1][1], "train_loss": history["train_loss"][-1][1]}
    result = events.RunResult(
        "minimal", "completed", params, 0, "cpu", "synthetic", 1.5, metrics, history,
        {"answer": 42}, [events.CheckResult("answer is 42", True, 42, "= 42")],
    )  # fmt: skip
    last = events.Progress(EPOCHS, EPOCHS, STEPS, EPOCHS * STEPS, 1.5, metrics=metrics)
    app = PaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(TrainingView)
        await view.show_lesson(lesson)
        view.begin_run(params)
        view.show_started(events.RunStarted("minimal", params, 0, "cpu", EPOCHS))
        view.show_result(result, last)
        await until_drawn(pilot)
        text = screen_text(app)
    lines = text.split("\n")
    assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
    assert "completed · epoch 4/4" in text and "● train_loss" in text  # progress, a legend
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text + "\n", encoding="utf-8")
    assert GOLDEN.exists(), f"no golden {GOLDEN.name}: run with UPDATE_GOLDEN=1 to write it"
    assert text + "\n" == GOLDEN.read_text(encoding="utf-8"), f"{GOLDEN.name} changed"


def chart_text(chart: LiveChart) -> Text:
    return chart.render_text(80, 14)


async def test_previous_run_shows_dimmed_and_labelled_until_a_new_run_begins(lesson: Any) -> None:
    started = datetime(2024, 5, 1, 9, 7).timestamp()  # 09:07 local time, whatever the zone
    stored = StoredRun(
        12, "minimal", "completed", {"lr": 0.01, "epochs": 2, "seed": 0}, 0, "cpu", "synthetic",
        1.0, {}, {"loss": [(float(s), 1 / s) for s in range(1, 101)], "train_loss": [(1.0, 0.2)]},
        [], started, started + 1.0, True,
    )  # fmt: skip
    label = "#12 · 09:07 · lr=0.01"
    app = PaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(TrainingView)
        await view.show_lesson(lesson)
        view.show_previous(stored)
        await pilot.pause()
        chart = app.query_one("#chart-loss", LiveChart)
        assert {(o.label, o.colour) for o in chart.overlays} == {(label, PREVIOUS_COLOUR)}
        assert {o.name for o in chart.overlays} == {f"{label} loss", f"{label} train_loss"}
        drawn = chart_text(chart)
        assert label in drawn.plain  # named in the legend
        dim_grey = {str(span.style) for span in drawn.spans} & {f"color({PREVIOUS_COLOUR}) dim"}
        assert dim_grey, "the stored run's curve is not drawn dim grey"
        # The screen shows it too, once the view's tick has drawn the charts.
        await until_drawn(pilot)
        assert label in screen_text(app)

        view.begin_run({"lr": 0.1, "epochs": 2, "seed": 0})  # a new run: the old curves go
        await pilot.pause()
        assert chart.overlays == []
        assert label not in chart_text(chart).plain
        await until_drawn(pilot)
        assert label not in screen_text(app)
