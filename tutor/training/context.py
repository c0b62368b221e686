"""The one object lesson code receives: ``def train(ctx): ...``.

It carries the hyperparameters, the device, and four calls -- report metrics,
record values for the quiz, log a line, check for Stop -- and nothing of the
UI. Metric reporting is cheap on the hot path: per-step values are buffered
(tensors stay on their device, no ``.item()`` sync) and turned into numbers
and events at most 4 times a second.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor import events
from tutor.events import Sink
from tutor.text import inert

if TYPE_CHECKING:
    from tutor.training.data import Datasets

MAX_RECORD_ITEMS = 200_000  # recorded tensors are kept as lists; stop learners recording a dataset


class RunCancelled(Exception):
    """Raised inside lesson code when the learner pressed Stop."""


class Diverged(Exception):
    """A reported metric became NaN or infinite."""

    def __init__(self, name: str, value: float, where: str) -> None:
        super().__init__(f"{name} became {value} at {where}")
        self.name, self.value, self.where = name, value, where


class Params(dict):
    """Hyperparameter values; ``ctx.params.lr`` and ``ctx.params["lr"]`` both work."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no hyperparameter {name!r}") from None


class RunContext:
    # Seconds between Progress events: the app never redraws more often (tutor.ui.pacing), and
    # each event costs the training process a conversion and the app a message.
    emit_interval = 0.25
    # The newest context in this process: the training child's Stop watcher flushes its
    # buffered points before the process is killed (one child serves one run).
    latest: RunContext | None = None

    def __init__(
        self,
        params: Mapping[str, Any],
        device: Any,
        sink: Sink,
        cancel: threading.Event | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.params = Params(params)
        self.device = device
        self.cache_dir = cache_dir or Path.cwd()
        self._sink = sink
        self._cancel = cancel or threading.Event()
        self._start = time.perf_counter()
        self._last_emit = self._start
        self._epoch = 1
        self._step = 0
        self._global_step = 0
        self._pending: dict[str, list[Any]] = {}  # step values not yet converted
        self._pending_steps: list[int] = []
        self._pending_epoch_points: dict[str, list[tuple[float, float]]] = {}
        self.history: dict[str, list[tuple[float, float]]] = {}
        self.metrics: dict[str, float] = {}
        self.records: dict[str, Any] = {}
        self.logs: list[str] = []
        self.dataset: str | None = None
        self._data: Datasets | None = None
        self._lock = threading.Lock()  # the buffers, shared with flush_from_another_thread
        self._finished = False
        RunContext.latest = self

    # -- what lesson code calls -------------------------------------------------

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        """Raise :class:`RunCancelled` if Stop was pressed (for loops without report_step)."""
        if self._cancel.is_set():
            raise RunCancelled

    def report_step(self, **metrics: Any) -> None:
        """Call once per training step, e.g. ``ctx.report_step(loss=l)``; tensors are fine."""
        if self._cancel.is_set():
            raise RunCancelled
        with self._lock:
            self._step += 1
            self._global_step += 1
            self._pending_steps.append(self._global_step)
            for name, value in metrics.items():
                if hasattr(value, "detach"):
                    value = value.detach()
                self._pending.setdefault(name, []).append(value)
            now = time.perf_counter()
            if now - self._last_emit >= self.emit_interval:
                self._emit_progress(now)

    def report_epoch(self, epoch: int | None = None, **metrics: Any) -> None:
        """Call at the end of each epoch with its metrics, e.g. ``train_loss=..., test_acc=...``."""
        self.check_cancelled()
        with self._lock:
            epoch = self._epoch if epoch is None else int(epoch)
            values: dict[str, float] = {}
            for name, value in metrics.items():
                number = _to_float(value)
                if not math.isfinite(number):
                    self._flush_steps()
                    raise Diverged(name, number, f"epoch {epoch}")
                values[name] = number
                self._pending_epoch_points.setdefault(name, []).append((float(epoch), number))
            self.metrics.update(values)
            self._sink(events.EpochEnded(epoch, values, self.elapsed))
            self._epoch = epoch + 1
            self._step = 0
            now = time.perf_counter()
            # Epochs can be as fast as steps (lesson 1): they are throttled like steps.
            if now - self._last_emit >= self.emit_interval:
                self._emit_progress(now)

    def record(self, name: str, value: Any) -> None:
        """Keep a value for the quiz and the checks: a shape, a tensor, a number, a string."""
        if not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"record name {name!r} must be a plain identifier")
        self.records[name] = to_plain(value, name)

    def record_model(self, model: Any, example_input: Any, name: str = "model") -> None:
        """Record ``model``'s layers, output shapes for ``example_input`` and parameter counts.

        Kept as ``records[name]`` (``{"layers": [...], "total_params": N, ...}``) and shown
        in the app's model view.
        """
        from tutor.training.modelview import summarize

        self.records[name] = summarize(model, example_input)

    def log(self, *parts: Any) -> None:
        """A line of text for the learner (the app's run log, the CLI's output)."""
        text = inert(" ".join(str(p) for p in parts))  # ESC[2J must not clear a screen
        self.logs.append(text)
        self._sink(events.LogLine(text))

    @property
    def data(self) -> Datasets:
        """Dataset helpers (MNIST with offline fallback, ...), see :mod:`tutor.training.data`."""
        if self._data is None:
            from tutor.training.data import Datasets

            self._data = Datasets(self)
        return self._data

    def use_dataset(self, name: str, note: str = "") -> None:
        """Say which dataset this run trains on; the UI and ``--json`` show it."""
        self.dataset = name = inert(name, multiline=False)
        self._sink(events.DatasetChosen(name, inert(note)))

    # -- for the runner -------------------------------------------------------

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def finish(self) -> None:
        """Flush step values not yet sent (the runner calls this when the entry returns)."""
        with self._lock:
            self._finished = True
            self._emit_progress(time.perf_counter())

    def flush_from_another_thread(self) -> None:
        """Send the buffered points now: Stop came and the lesson is stuck between steps, so
        its process is about to be killed and the run stored "with what it had reported"."""
        if not self._lock.acquire(timeout=0.2):  # a step is being reported: it is not stuck
            return
        try:
            if not self._finished:
                self._emit_progress(time.perf_counter())
        except Exception:  # noqa: BLE001 - a NaN in the buffer: the points so far went out
            pass
        finally:
            self._lock.release()

    def _flush_steps(self) -> dict[str, list[tuple[float, float]]]:
        points: dict[str, list[tuple[float, float]]] = {}
        steps = self._pending_steps
        for name, values in self._pending.items():
            numbers = _to_floats(values)
            xs = steps[-len(numbers) :]
            pts = [(float(x), y) for x, y in zip(xs, numbers)]
            self.history.setdefault(name, []).extend(pts)
            points[name] = pts
            if numbers:
                self.metrics[name] = numbers[-1]
        self._pending = {}
        self._pending_steps = []
        for name, pts in points.items():
            bad = next((p for p in pts if not math.isfinite(p[1])), None)
            if bad is not None:
                raise Diverged(name, bad[1], f"step {int(bad[0])}")
        return points

    def _emit_progress(self, now: float) -> None:
        points = self._flush_steps()
        for name, pts in self._pending_epoch_points.items():
            self.history.setdefault(name, []).extend(pts)
            points.setdefault(name, []).extend(pts)
        self._pending_epoch_points = {}
        self._last_emit = now
        epochs = self.params.get("epochs")
        from tutor.training.device import live_description

        self._sink(
            events.Progress(
                epoch=self._epoch,
                epochs=int(epochs) if isinstance(epochs, int) else None,
                step=self._step,
                global_step=self._global_step,
                elapsed=now - self._start,
                points=points,
                metrics=dict(self.metrics),
                device_info=live_description(self.device),
            )
        )


def _to_float(value: Any) -> float:
    if hasattr(value, "detach"):
        return float(value.detach().float().mean().item())
    return float(value)


def _to_floats(values: list[Any]) -> list[float]:
    """Convert buffered step values with one device sync, not one per step."""
    if values and any(hasattr(v, "detach") for v in values):
        import torch

        stacked = torch.stack([torch.as_tensor(v).float().mean() for v in values])
        return [float(x) for x in stacked.cpu().tolist()]
    return [float(v) for v in values]


def to_plain(value: Any, name: str = "value") -> Any:
    """Tensors, arrays, shapes and numpy scalars to plain JSON-able Python values."""
    if hasattr(value, "detach"):  # torch.Tensor
        value = value.detach().cpu()
        if value.numel() > MAX_RECORD_ITEMS:
            raise ValueError(f"{name}: {value.numel()} items is too many to record")
        return value.tolist()
    if type(value).__name__ == "Size" or isinstance(value, tuple):  # torch.Size is a tuple
        return [to_plain(v, name) for v in value]
    if hasattr(value, "tolist"):  # numpy array or scalar
        return value.tolist()
    if isinstance(value, list):
        return [to_plain(v, name) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v, name) for k, v in value.items()}
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    raise TypeError(f"{name}: cannot record a {type(value).__name__}")
