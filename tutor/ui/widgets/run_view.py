"""``#run-view``: everything about a run of the open lesson, Run/Stop first.

Run/Stop and the progress line, the run's device, seed and dataset, the charts
(:mod:`tutor.ui.widgets.charts_view`), and what the run produced: the last metrics, the
outcome checks, the doctor's ``#diagnosis``, the sweep panel, the stored runs, the run log,
and the recorded models and images. It displays what it is told; the Train pane decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Horizontal
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState

from tutor import events
from tutor.events import RunResult
from tutor.progress import StoredRun
from tutor.text import inert
from tutor.training.modelview import format_summary
from tutor.ui.widgets.charts_view import ChartsView
from tutor.ui.widgets.diagnosis import DiagnosisView
from tutor.ui.widgets.run_log import RunLog
from tutor.ui.widgets.run_text import (
    draw_images,
    format_checks,
    format_metrics,
    format_progress,
    runs_hint,
)
from tutor.ui.widgets.runs_table import RunsTable
from tutor.ui.widgets.sweep import SweepPanel


class RunView(Container):
    """The run's controls, numbers, charts, history and log (``#run`` … ``#image-view``)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.charts = ChartsView(id="charts")  # stacked; side by side on wide screens
        self.run_log = RunLog(id="run-log", max_lines=5000)
        self._pending_progress: events.Progress | None = None  # shown at the next tick
        self._pending_logs: list[str] = []  # written at the next tick (a write lays out)

    def compose(self) -> ComposeResult:
        with Horizontal(id="run-controls"):
            yield Button(
                "▶ Run", id="run", variant="success", tooltip="Run the lesson (r)", compact=True
            )
            yield Button(
                "■ Stop",
                id="stop",
                variant="error",
                disabled=True,
                tooltip="Stop (s)",
                compact=True,
            )
            yield Static("not run yet", id="progress", markup=False)
        with Horizontal(id="run-info"):
            yield Static("device: –", id="device", markup=False)
            yield Static("seed: –", id="seed", markup=False)
            yield Static("dataset: –", id="dataset", markup=False)
        # Lessons with exercises: whose code trains, the lesson's or the learner's (m).
        yield Static("", id="run-code", markup=False)
        yield self.charts
        yield Static("", id="metrics", markup=False)
        yield Static("", id="checks", markup=False)
        yield DiagnosisView(id="diagnosis")  # the run doctor's verdict (the Train pane's)
        yield SweepPanel(id="sweep")  # sweeps and experiments: ui/panes/sweep.py runs them
        yield Static("", id="runs-hint", markup=False)
        yield RunsTable(id="runs-table")
        yield self.run_log
        yield Static("", id="model-view", markup=False)
        yield Static("", id="image-view", markup=False)

    def _static(self, selector: str) -> Static:
        return self.query_one(selector, Static)

    # -- before and during a run ---------------------------------------------------------

    def reset(
        self,
        progress: str,
        *,
        dataset: str | None = None,
        seed: Any = None,
        device: str | None = None,
    ) -> None:
        """Empty every display of the last run; ``progress`` is the line to show."""
        self.charts.clear()
        self.run_log.reset()
        self._pending_logs, self._pending_progress = [], None
        self._static("#progress").update(progress)
        self._static("#metrics").update(format_metrics({}))
        self._static("#device").update(f"device: {device or '–'}")
        self._static("#seed").update(f"seed: {'–' if seed is None else seed}")
        self._dataset_line(dataset or "–")
        self.show_checks("")
        self.query_one("#diagnosis", DiagnosisView).show(None)
        self.workers.cancel_group(self, "image-view")  # a drawing of the last run's images
        for view_id in ("#model-view", "#image-view"):
            view = self._static(view_id)
            view.update("")
            view.display = False

    def show_checks(self, text: str | Text) -> None:
        self._static("#checks").update(text)

    def show_pending_checks(self, names: Sequence[str]) -> None:
        """The lesson's checks, not measured yet."""
        self.show_checks(
            format_checks([], pending=names)
            or Text("this lesson has no outcome checks", style="dim")
        )

    def set_running(self, running: bool) -> None:
        self.query_one("#stop", Button).disabled = not running

    def show_started(self, info: events.RunStarted) -> None:
        self._static("#device").update(f"device: {info.device}")
        self._static("#seed").update(f"seed: {'none' if info.seed is None else info.seed}")
        epochs = f"epoch 1/{info.epochs} · " if info.epochs else ""
        self._static("#progress").update(f"{epochs}running…")

    def show_dataset(self, name: str, note: str = "") -> None:
        # The note can be a sentence ("MNIST not downloaded: offline"): the log has room.
        self._dataset_line(name)
        if note:
            self.log_lines([f"dataset: {name}: {note}"])

    def _dataset_line(self, name: str) -> None:
        # The name comes from the lesson (its code may pick it): inert before the terminal.
        self._static("#dataset").update(f"dataset: {inert(name, multiline=False)}")

    def show_code_source(self, text: str | None) -> None:
        """``code: yours (path)`` / ``code: the lesson's``; None hides the line."""
        line = self._static("#run-code")
        line.display = text is not None
        if text is not None:
            mine = text.startswith("code: yours")
            line.update(Text(text, style="bold yellow" if mine else "dim"))

    def log_lines(self, lines: Iterable[str]) -> None:
        self.flush_logs()  # in the order they came
        self.run_log.add_lines(lines)

    def queue(self, logs: Iterable[str], progress: events.Progress | None) -> None:
        """Log lines and progress for the next tick (:meth:`show_progress`)."""
        self._pending_logs.extend(logs)
        if progress is not None:
            self._pending_progress = progress

    def take_progress(self) -> events.Progress | None:
        progress, self._pending_progress = self._pending_progress, None
        return progress

    def flush_logs(self) -> None:
        if self._pending_logs:
            lines, self._pending_logs = self._pending_logs, []
            self.run_log.add_lines(lines)

    def show_progress(self, progress: events.Progress | None) -> None:
        """The progress line, metrics and log lines that arrived since the last tick."""
        self.flush_logs()
        if progress is None:
            return
        # A layout of the whole screen at every update would cost more than everything else
        # the UI does during a run, so only when a height changes.
        self._static("#progress").update(format_progress(progress), layout=False)
        metrics = self._static("#metrics")
        text = format_metrics(progress.metrics)
        lines = len(text.wrap(self.app.console, max(1, metrics.content_size.width)))
        metrics.update(text, layout=lines != metrics.content_size.height)

    # -- after a run ---------------------------------------------------------------------

    def show_result(self, result: RunResult, last_progress: events.Progress | None) -> None:
        """The run's final numbers, checks, log lines, and the model and image views."""
        self._pending_progress = None  # the final line below replaces it
        self.flush_logs()
        where = (
            format_progress(last_progress, done=True)
            if last_progress
            else f"{result.seconds:.1f} s"
        )
        self._static("#progress").update(f"{result.status} · {where}")
        self._static("#metrics").update(format_metrics(result.metrics))
        self._static("#device").update(f"device: {result.device}")
        self._dataset_line(result.dataset)
        if result.status == "completed":
            self.show_checks(format_checks(result.checks) or Text("no outcome checks", style="dim"))
        else:
            self.show_checks(
                Text(
                    f"checks are measured on completed runs (this one {result.status})", style="dim"
                )
            )
        self.run_log.add_lines(_ending(result))
        self._show_models(result.records)
        self._show_images(result.records)

    def _show_models(self, records: Mapping[str, Any]) -> None:
        view = self._static("#model-view")
        tables = [
            f"model {name!r}\n{format_summary(value)}"
            for name, value in records.items()
            if isinstance(value, dict) and isinstance(value.get("layers"), list)
        ]
        view.update(Text("\n\n".join(tables)))
        view.display = bool(tables)

    def _show_images(self, records: Mapping[str, Any]) -> None:
        view = self._static("#image-view")
        images, captions = records.get("sample_images"), records.get("sample_captions")
        view.display = False
        if not images:
            return
        width = max(20, (self.content_region.width or 80) - 2)
        # Drawn on a thread: the first drawing imports numpy (~0.2 s), and a grid of
        # pictures is thousands of styled cells; the run's result shows without waiting.
        self.run_worker(
            partial(draw_images, list(images), list(captions) if captions else None, width),
            thread=True,
            exclusive=True,
            group="image-view",
        )

    @on(Worker.StateChanged)
    def _images_drawn(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "image-view" or event.state != WorkerState.SUCCESS:
            return
        event.stop()
        view = self._static("#image-view")
        view.update(event.worker.result or "")
        view.display = True

    # -- stored runs ----------------------------------------------------------------------

    def show_runs(
        self,
        runs: Sequence[StoredRun] | None,
        defaults: Mapping[str, Any],
        overlays: Mapping[int, int] | None = None,
        *,
        note: str | None = None,
    ) -> None:
        """The stored runs of this lesson (None: not known, ``note`` says why)."""
        table = self.query_one("#runs-table", RunsTable)
        hint = self._static("#runs-hint")
        table.show_runs(runs or [], defaults, overlays)
        table.display = bool(runs)
        if note is not None:
            hint.update(Text(note, style="dim"))
        elif not runs:
            hint.update(Text("runs: none stored yet (each run you start is kept)", style="dim"))
        else:
            hint.update(runs_hint(len(runs)))

    def mark_overlays(self, overlays: Mapping[int, int]) -> None:
        self.query_one("#runs-table", RunsTable).mark_overlays(overlays)


def _ending(result: RunResult) -> list[str]:
    """The run log's last lines: how the run ended, and the lesson's hint."""
    if result.status == "failed":
        lines = ["✗ the lesson code raised an error:", *(result.error or "").splitlines()]
    elif result.status == "diverged":
        lines = [f"✗ diverged: {result.error}"]
    elif result.status == "cancelled":
        lines = ["■ stopped"]
    else:
        lines = [f"✓ completed in {result.seconds:.2f} s"]
    if result.hint and result.status != "diverged":  # #diagnosis says it, with evidence
        lines.append(f"hint: {result.hint}")
    return lines
