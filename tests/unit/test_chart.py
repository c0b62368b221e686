"""LiveChart: points accumulate, the drawing fits the widget, decimation keeps the shape."""

from __future__ import annotations

import math

import pytest
from textual.app import App, ComposeResult

from tutor import plot
from tutor.series import decimate
from tutor.ui.widgets.chart import LiveChart


def make_chart() -> LiveChart:
    chart = LiveChart()
    chart.configure("loss", [("loss", "train loss", "step"), ("test_loss", "test loss", "epoch")])
    return chart


def test_points_accumulate_per_series_and_clear_keeps_the_series() -> None:
    chart = make_chart()
    assert not chart.has_data
    chart.add_points("loss", [(1, 0.9), (2, 0.8)])
    chart.add_points("loss", [(3, 0.7)])
    chart.add_points("test_loss", [(1, 0.85)])
    assert chart.series["loss"].points == [(1.0, 0.9), (2.0, 0.8), (3.0, 0.7)]
    assert chart.point_count() == 4 and chart.has_data

    chart.add_points("lr", [(1, 0.1)])  # an undeclared name gets its own series
    assert chart.series["lr"].per == "step"

    chart.clear()
    assert not chart.has_data and list(chart.series) == ["loss", "test_loss", "lr"]


@pytest.mark.parametrize("size", [(60, 14), (31, 10), (120, 20)])
def test_render_text_is_exactly_the_requested_size(size: tuple[int, int]) -> None:
    chart = make_chart()
    chart.add_points("loss", [(s, 1 / s) for s in range(1, 500)])
    chart.add_points("test_loss", [(e, 0.5 / e) for e in range(1, 6)])
    width, height = size
    lines = chart.render_text(width, height).split("\n")
    assert len(lines) == height
    assert all(line.cell_len == width for line in lines)
    assert lines[0].plain.startswith("loss")  # the title line, then the legend
    assert "train loss" in lines[0].plain + lines[1].plain


def test_empty_and_tiny_charts_say_so_instead_of_drawing() -> None:
    chart = make_chart()
    chart.empty_text = "no accuracy in this lesson"
    text = chart.render_text(40, 6)
    assert len(text.split("\n")) == 6 and "no accuracy in this lesson" in text.plain
    chart.add_points("loss", [(1, 1.0), (2, 0.5)])
    assert "too small" in chart.render_text(40, 3).plain


def test_step_and_epoch_series_share_one_step_axis_with_epochs_marked() -> None:
    chart = plot.Chart(
        "loss",
        (
            plot.Curve("loss", [(float(s), 1 / s) for s in range(1, 101)]),
            plot.Curve("test", [(1.0, 0.5), (2.0, 0.3)], "epoch"),
        ),
        tier="ascii",
        color=False,
    )
    lines = plot.to_plain(plot.render(chart, 60, 16)).splitlines()
    axis, ticks = lines[-2], lines[-1]
    assert ticks.rstrip().endswith("step") and "epoch" not in ticks
    # Epoch 1 ends at step 50, epoch 2 at step 100: their numbers sit on the axis there.
    assert axis.rstrip().endswith("2") and "1" in axis
    assert sum(line.count("o") for line in lines[2:-2]) == 2  # one marker per epoch value


def test_non_finite_points_are_kept_but_not_drawn() -> None:
    chart = make_chart()
    chart.add_points("loss", [(1, 1.0), (2, 0.5), (3, math.nan), (4, math.inf)])
    assert chart.point_count("loss") == 4
    assert len(chart.render_text(50, 12).split("\n")) == 12


def test_decimate_caps_length_and_keeps_endpoints_and_extremes() -> None:
    points = [(float(i), math.sin(i / 50)) for i in range(10_000)]
    points[5_000] = (5_000.0, 9.0)  # a spike must survive
    kept = decimate(points, 200)
    assert len(kept) <= 202
    assert kept[0] == points[0] and kept[-1] == points[-1]
    assert (5_000.0, 9.0) in kept
    assert [x for x, _ in kept] == sorted(x for x, _ in kept)
    short = points[:50]
    assert decimate(short, 200) == short


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        chart = make_chart()
        chart.styles.width = 48
        chart.styles.height = 12
        yield chart


async def test_mounted_chart_draws_its_own_size_off_the_loop_and_only_when_dirty() -> None:
    app = ChartApp()
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(LiveChart)
        await pilot.pause()
        chart.redraw_if_dirty()  # the first drawing (empty) at the mounted size
        before = chart.drawings
        for step in range(1, 101):  # a burst of batches: no drawing per batch
            chart.add_points("loss", [(step, 1 / step)])
        assert chart.drawings == before
        while chart.drawings == before or chart._drawing:
            chart.redraw_if_dirty()
            await pilot.pause(0.01)
        chart.redraw_if_dirty()  # nothing new: no second drawing
        assert chart.drawings == before + 1

        lines = [chart.render_line(y) for y in range(chart.content_size.height)]
        assert (len(lines), {line.cell_length for line in lines}) == (12, {48})
        assert "".join(seg.text for seg in lines[0]).startswith("loss")
        assert chart.point_count("loss") == 100
