"""What the Train pane writes: the progress line, metrics, checks, labels, sample pictures.

Plain functions from run data to Rich Text, kept apart from the views' wiring
(:mod:`tutor.ui.widgets.run_view`, :mod:`~tutor.ui.widgets.param_form`,
:mod:`~tutor.ui.widgets.charts_view`) so each reads on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from rich.text import Text

from tutor import events
from tutor.events import CheckResult, format_metric
from tutor.progress import StoredRun
from tutor.quiz import format_value
from tutor.ui.widgets.runs_table import changed_params


def format_progress(progress: events.Progress, done: bool = False) -> str:
    """``epoch 3/10 · step 120 · 4.2 s``; after the last epoch, the epoch count completed."""
    epoch = progress.epoch
    # report_epoch moves on to the next epoch: with no step in it yet, the last one is complete.
    finished_epoch = progress.step == 0 and epoch > 1
    past_the_end = done and progress.epochs is not None and epoch > progress.epochs
    if finished_epoch or past_the_end:
        epoch -= 1
    total = f"/{progress.epochs}" if progress.epochs else ""
    steps = f" · step {progress.global_step}" if progress.global_step else ""  # epoch-only lessons
    return f"epoch {epoch}{total}{steps} · {progress.elapsed:.1f} s"


def format_metrics(metrics: Mapping[str, float]) -> Text:
    """The CLI's numbers (:func:`tutor.events.format_metric`) with the names in bold."""
    text = Text()
    for i, (name, value) in enumerate(metrics.items()):
        if i:
            text.append("   ")
        text.append(name, style="bold")
        text.append(f" {format_metric(value)}")
    return text or Text("no metrics yet", style="dim")


def previous_label(run: StoredRun, defaults: Mapping[str, Any]) -> str:
    """``#12 · 09:07 · lr=0.01``: which stored run the dimmed curves are."""
    when = datetime.fromtimestamp(run.started_at).strftime("%H:%M")
    return f"#{run.id} · {when} · {changed_params(run.params, defaults)}"


def form_summary(values: Mapping[str, str]) -> Text:
    """The collapsed form: ``lr=0.01  epochs=3 · f edits``."""
    text = Text("  ".join(f"{k}={v}" for k, v in values.items()) or "no hyperparameters")
    text.append("  · f edits", style="dim")
    return text


def format_checks(checks: Iterable[CheckResult], pending: Iterable[str] = ()) -> Text:
    """One line per outcome check: ``✓ name  0.0003  (target ≤ 0.01)``."""
    text = Text()
    for check in checks:
        if text:
            text.append("\n")
        text.append("✓ " if check.passed else "✗ ", style="green" if check.passed else "red")
        text.append(check.name)
        if check.error:
            text.append(f"  {check.error}", style="red")
        else:
            text.append(f"  {format_value(check.value)}", style="bold")
        text.append(f"  (target {check.expected})", style="dim")
    for name in pending:
        if text:
            text.append("\n")
        text.append(f"· {name}", style="dim")
    return text


def runs_hint(count: int) -> Text:
    text = Text(f"runs: {count} stored", style="bold")
    text.append(
        " · enter/space overlays a run on the charts · o clears · R resets the lesson",
        style="dim",
    )
    return text


def draw_images(images: list[Any], captions: list[str] | None, width: int) -> Text:
    """The recorded sample images as half-block pictures under a title (a worker thread)."""
    from tutor.imageview import render_images

    # 28×28 digits are 28 columns each: halve them on narrow panes so several fit a row.
    downsample = 1 if width >= 90 else 2
    try:
        picture = render_images(images, captions, max_width=width, downsample=downsample)
    except Exception as e:  # a bad recording must not take the result view down
        picture = Text(f"cannot draw sample_images: {e}", style="red")
    return Text("sample images\n", style="bold") + picture
