"""The run history of the open lesson, in the Train pane: one row per stored run.

Enter or space on a row asks the app to overlay (or stop overlaying) that run's curves on
the live charts; the app decides colours and tells the table which rows are overlaid, so
the ``■`` swatch in the first column matches the curve. The table only displays stored
runs (:class:`tutor.progress.StoredRun`); it reads nothing from the store itself.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from tutor.progress import StoredRun
from tutor.quiz import format_value

COLUMNS = ("run", "when", "status", "changed", "final metrics", "checks")
STATUS_STYLES = {"completed": "green", "cancelled": "yellow", "diverged": "red", "failed": "red"}
METRICS_SHOWN = 3  # the table stays scannable; `dl-tutor runs` shows them all


def changed_params(params: Mapping[str, Any], defaults: Mapping[str, Any]) -> str:
    """The hyperparameters that differ from the lesson's defaults: ``lr=0.3, epochs=20``."""
    changed = [
        f"{name}={format_value(value)}"
        for name, value in params.items()
        if name not in defaults or defaults[name] != value
    ]
    return ", ".join(changed) or "defaults"


def run_label(run: StoredRun, defaults: Mapping[str, Any]) -> str:
    """How a run is named in chart legends: ``#3 lr=0.3`` (``#1 defaults``)."""
    return f"#{run.id} {changed_params(run.params, defaults)}"


def format_when(timestamp: float, now: float | None = None) -> str:
    """``14:03:22`` for today, ``2024-05-01 14:03`` for another day (local time)."""
    moment = time.localtime(timestamp)
    today = time.localtime(time.time() if now is None else now)
    if moment[:3] == today[:3]:
        return time.strftime("%H:%M:%S", moment)
    return time.strftime("%Y-%m-%d %H:%M", moment)


def metrics_text(metrics: Mapping[str, Any]) -> str:
    shown = [f"{name} {format_value(value)}" for name, value in list(metrics.items())]
    more = len(shown) - METRICS_SHOWN
    return "  ".join(shown[:METRICS_SHOWN]) + (f"  +{more}" if more > 0 else "")


def checks_text(run: StoredRun) -> str:
    """``2/2`` for a completed run with checks; ``–`` when nothing was measured."""
    if run.status != "completed" or not run.checks:
        return "–"
    passed = sum(bool(c.get("passed")) for c in run.checks)
    return f"{passed}/{len(run.checks)}"


class RunsTable(DataTable[Any]):
    """Stored runs of the open lesson, newest first; row keys are run ids (as text)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "select_cursor", "Overlay", show=False),
    ]

    class OverlayToggled(Message):
        """Enter or space on a row: overlay that run's curves, or stop overlaying them."""

        def __init__(self, run_id: int) -> None:
            super().__init__()
            self.run_id = run_id

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.runs: list[StoredRun] = []
        self._colours: dict[int, int] = {}
        self._defaults: Mapping[str, Any] = {}
        self.add_columns(*COLUMNS)

    def show_runs(
        self,
        runs: Sequence[StoredRun],
        defaults: Mapping[str, Any],
        overlays: Mapping[int, int] | None = None,
    ) -> None:
        """Show ``runs`` (newest first); ``overlays`` maps overlaid run ids to their colour."""
        cursor = self.cursor_row
        self.runs = list(runs)
        self._defaults = defaults
        self._colours = dict(overlays or {})
        self.clear()
        for run in self.runs:
            self.add_row(*self._cells(run), key=str(run.id))
        if self.runs:
            self.move_cursor(row=min(cursor, len(self.runs) - 1), scroll=False)

    def mark_overlays(self, overlays: Mapping[int, int]) -> None:
        """Which runs are overlaid, and in which colour (the swatch in the first column)."""
        self._colours = dict(overlays)
        column = self.ordered_columns[0].key if self.ordered_columns else None
        for run in self.runs:
            if column is not None:
                self.update_cell(str(run.id), column, self._run_cell(run))

    @property
    def overlaid(self) -> list[int]:
        return list(self._colours)

    def _run_cell(self, run: StoredRun) -> Text:
        colour = self._colours.get(run.id)
        if colour is None:
            return Text(f"  #{run.id}")
        cell = Text("■ ", style=Style(color=f"color({colour})", bold=True))
        cell.append(f"#{run.id}", style="bold")
        return cell

    def _cells(self, run: StoredRun) -> list[Any]:
        return [
            self._run_cell(run),
            format_when(run.finished_at),
            Text(run.status, style=STATUS_STYLES.get(run.status, "")),
            changed_params(run.params, self._defaults),
            metrics_text(run.metrics),
            checks_text(run),
        ]

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value
        if key is not None and key.isdigit():
            self.post_message(self.OverlayToggled(int(key)))
