"""What ``dl-tutor run`` prints: one JSON object per event (``--json``), or text for people
(a header, throttled epoch lines, a live status line, charts, then the summary)."""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from tutor.cli.charts import CHART_MAX_WIDTH, render_charts, render_samples
from tutor.cli.common import (
    LIST_WIDTH,
    PROG,
    cell_width,
    fit,
    isatty,
    json_text,
    marks,
    plain,
    silence,
)
from tutor.events import format_metrics
from tutor.text import inert

if TYPE_CHECKING:
    from tutor.events import Event, RunResult
    from tutor.lesson.catalog import LoadedLesson

EPOCH_LINE_INTERVAL = 0.1  # seconds: at most ~10 progress lines a second


# -- JSON lines (--json) ---------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Strict JSON: NaN/inf become null (a diverged run's last step), unknown objects strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def describe_record(value: Any) -> dict[str, Any]:
    """A recorded value's type and shape, for authors: ``{"type": "list", "shape": [2]}``."""
    out: dict[str, Any] = {"type": type(value).__name__}
    if isinstance(value, (list, tuple)):
        shape, item = [], value
        while isinstance(item, (list, tuple)):
            shape.append(len(item))
            if not item:
                break
            item = item[0]
        out["shape"] = shape
    return out


class JsonOutput:
    """One JSON object per line, flushed, for every event a script may want."""

    def __init__(self, out: TextIO, loaded: LoadedLesson | None = None, lang: str = "en") -> None:
        self.out = out
        self.loaded = loaded  # for the doctor's ranges in the end event
        self.lang = lang
        self.logs_seen = 0

    def __call__(self, event: Event) -> None:
        from tutor import events as ev

        if isinstance(event, ev.RunStarted):
            self._write(
                event="start",
                lesson=event.lesson_id,
                params=event.params,
                seed=event.seed,
                device=event.device,
            )
        elif isinstance(event, ev.DatasetChosen):
            self._write(
                event="dataset", name=event.name, **({"note": event.note} if event.note else {})
            )
        elif isinstance(event, ev.EpochEnded):
            self._write(
                event="epoch",
                epoch=event.epoch,
                metrics=event.metrics,
                elapsed=round(event.elapsed, 4),
            )
        elif isinstance(event, ev.LogLine):
            self.logs_seen += 1
            self._write(event="log", text=event.text)

    def finish(self, result: RunResult, quiz: list[dict[str, Any]] | None = None) -> None:
        for text in result.logs[self.logs_seen :]:  # notes the runner adds after the run
            self._write(event="log", text=text)
        self._write(
            **end_fields(result, self.loaded, self.lang),
            records={name: describe_record(v) for name, v in result.records.items()},
            quiz=quiz or [],
        )

    def _write(self, **fields: Any) -> None:
        line = json_text(jsonable(fields), allow_nan=False) + "\n"
        try:
            self.out.write(line)
            self.out.flush()
        except BrokenPipeError:  # `run --json | head -1`: the run goes on and is stored
            silence(self.out)


def end_fields(result: RunResult, loaded: LoadedLesson | None, lang: str) -> dict[str, Any]:
    """The ``end`` event of a run (also each ``sweep-run``'s ``end``), with the doctor's word."""
    from tutor.doctor import diagnose

    diagnosis = diagnose(result, loaded.lesson if loaded else None)
    return {
        "event": "end",
        "lesson": result.lesson_id,
        "status": result.status,
        "metrics": result.metrics,
        "checks": [c.as_dict() for c in result.checks],
        "dataset": result.dataset,
        "device": result.device,
        "seconds": round(result.seconds, 3),
        "seed": result.seed,
        "error": result.error,
        "hint": result.hint,
        "diagnosis": diagnosis.as_json(lang) if diagnosis else None,
    }


# -- text ------------------------------------------------------------------------------------


def dumb_terminal(environ: Mapping[str, str] = os.environ) -> bool:
    """TERM=dumb: no colours and no cursor control (Emacs' M-x shell, some CI logs)."""
    return environ.get("TERM", "") == "dumb"


def use_color(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    return isatty(stream) and not environ.get("NO_COLOR") and not dumb_terminal(environ)


class InertWriter:
    """A text stream for lesson code's own ``print``: control characters become visible
    (``\\x1b``) before they reach ``target``; newlines and tabs stay (``\\r`` does not: a
    progress bar redrawn in place shows as one line per redraw, never as a command)."""

    def __init__(self, target: TextIO) -> None:
        self.target = target

    def write(self, text: str) -> int:
        try:
            self.target.write(inert(text))
        except BrokenPipeError:
            silence(self.target)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self.target.flush()
        except BrokenPipeError:
            silence(self.target)

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno, ...
        return getattr(self.target, name)


class TextOutput:
    """Human output: a header, throttled epoch lines, logs, then the summary (:meth:`finish`)."""

    def __init__(self, out: TextIO, loaded: LoadedLesson, lang: str, device_label: str) -> None:
        self.out = out
        self.loaded = loaded
        self.lang = lang
        self.device_label = device_label
        self.color = use_color(out)
        self.live = isatty(out)  # an in-place status line during long epochs
        self.dumb = dumb_terminal()  # then the status line is blanked with spaces, not ESC[K
        self._status_width = 0
        self.width = shutil.get_terminal_size((LIST_WIDTH, 24)).columns if self.live else LIST_WIDTH
        self.epochs: int | None = None
        self.epoch_names: set[str] = set()  # metrics reported per epoch (the rest are per step)
        self.logs_seen = 0
        self._pending: str | None = None  # the newest epoch line not printed yet
        self._last_epoch_print = -math.inf
        self._status_shown = False

    # events
    def __call__(self, event: Event) -> None:
        from tutor import events as ev

        if isinstance(event, ev.RunStarted):
            self.epochs = event.epochs
            self._header(event)
        elif isinstance(event, ev.DatasetChosen):
            note = f" ({inert(event.note, multiline=False)})" if event.note else ""
            self._line(f"dataset  {event.name}{note}")
        elif isinstance(event, ev.EpochEnded):
            self._epoch(event)
        elif isinstance(event, ev.LogLine):
            self.logs_seen += 1
            self._line(event.text)
        elif isinstance(event, ev.Progress) and self.live:
            self._status(event)

    def _header(self, event: Any) -> None:
        lesson = self.loaded.lesson
        self._line(f"{self.loaded.id}: {inert(lesson.title.get(self.lang), multiline=False)}")
        params = "  ".join(f"{k}={v}" for k, v in event.params.items())
        self._line(f"params  {params or '(none)'}")
        self._line(
            f"seed {event.seed if event.seed is not None else '-'}  device {self.device_label}"
        )

    def _epoch(self, event: Any) -> None:
        self.epoch_names.update(event.metrics)
        total = f"/{self.epochs}" if self.epochs else ""
        number = f"{event.epoch:>{len(str(self.epochs or ''))}}"
        self._pending = (
            f"epoch {number}{total}  {format_metrics(event.metrics)}  {event.elapsed:.1f}s"
        )
        now = time.monotonic()
        # Fast lessons end thousands of epochs a second: keep ~10 lines a second, and the last.
        if event.epoch == self.epochs or now - self._last_epoch_print >= EPOCH_LINE_INTERVAL:
            self._flush_epoch()

    def _flush_epoch(self) -> None:
        if self._pending is not None:
            line, self._pending = self._pending, None
            self._last_epoch_print = time.monotonic()
            self._line(line)

    def _status(self, event: Any) -> None:
        if event.step == 0:  # between epochs (or after the last): the epoch line says it all
            return
        total = f"/{event.epochs}" if event.epochs else ""
        epoch = min(event.epoch, event.epochs) if event.epochs else event.epoch
        text = f"  epoch {epoch}{total}  step {event.step}  {format_metrics(event.metrics)}"
        text = fit(f"{text}  {event.elapsed:.1f}s", max(10, self.width - 1)).rstrip()
        self._write(self._erase_status() + text)
        self._status_shown = True
        self._status_width = cell_width(text)

    def _erase_status(self) -> str:
        if not self.dumb:
            return "\r\x1b[K"
        return "\r" + " " * self._status_width + "\r"

    def _line(self, text: str = "", *, raw: bool = False) -> None:
        """Print a line; inert (lesson text, logs, values) unless ``raw`` (our own colours)."""
        if self._status_shown:
            self._write(self._erase_status())
            self._status_shown = False
        self._write((text if raw else plain(inert(text), self.out)) + "\n")

    def _write(self, text: str) -> None:
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:  # `run | head`: the run goes on and is stored
            silence(self.out)

    # the summary
    def finish(self, result: RunResult) -> None:
        self._flush_epoch()
        for text in result.logs[self.logs_seen :]:
            self._line(f"note: {text}")
        for block in (*self._charts(result), self._images(result)):
            if block:
                self._line()
                self._line(block, raw=True)  # ANSI colours; labels made inert when drawn
        self._line()
        for line in summary_lines(result, self.loaded, self.lang):
            self._line(line)

    def _charts(self, result: RunResult) -> list[str]:
        width = min(self.width, CHART_MAX_WIDTH)
        epochs = result.params.get("epochs")
        try:
            return render_charts(
                result.history,
                self.loaded,
                self.epoch_names,
                self.lang,
                width=width,
                color=self.color,
                epochs=epochs if isinstance(epochs, int) else None,
            )
        except Exception as e:  # a plotting problem must not hide the results
            print(f"{PROG}: chart unavailable: {type(e).__name__}: {e}", file=sys.stderr)
            return []

    def _images(self, result: RunResult) -> str | None:
        images = result.records.get("sample_images")
        if not images:
            return None
        try:
            return render_samples(
                images, result.records.get("sample_captions"), self.width, self.color
            )
        except ImportError:  # the image view is optional
            return None
        except Exception as e:
            print(f"{PROG}: sample images unavailable: {type(e).__name__}: {e}", file=sys.stderr)
            return None


def summary_lines(result: RunResult, loaded: LoadedLesson, lang: str) -> list[str]:
    """Final metrics, checks ✓/✗, status, and the traceback or hint of a run that went wrong."""
    from tutor.quiz import format_value

    passed_mark, failed_mark, _ = marks()
    lines = []
    if result.metrics:
        lines.append(f"final    {format_metrics(result.metrics)}")
    if result.checks:
        lines.append("checks")
        for c in result.checks:
            value = f"error: {c.error}" if c.error else format_value(c.value)
            mark = passed_mark if c.passed else failed_mark
            lines.append(f"  {mark} {c.name}: {value} (target {c.expected})")
    elif loaded.lesson.checks and result.status != "completed":
        lines.append(f"checks   not evaluated: the run {result.status}")
    passed = sum(c.passed for c in result.checks)
    checks = f", {passed}/{len(result.checks)} checks passed" if result.checks else ""
    lines.append(f"status   {result.status}{checks}  ({result.seconds:.1f}s, {result.device})")
    lines.append(f"dataset  {result.dataset}")
    if result.error:
        lines += ["", result.error]
    if result.hint:
        lines.append(f"hint: {result.hint}")
    from tutor.doctor import diagnose

    diagnosis = diagnose(result, loaded.lesson)
    if diagnosis:
        lines += ["", *(f"doctor   {line}" for line in diagnosis.lines(lang))]
    return lines
