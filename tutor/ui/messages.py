"""Messages that cross a thread into the UI, and the one every pane posts up.

The run's messages are posted by :class:`tutor.ui.run_link.RunBridge` on the training
worker's thread, to the Train pane (they do not bubble: only it keeps the run). A store
job posts :class:`StoreSnapshotReady` from its worker thread to the widget that asked for
it; it bubbles up to the App, which shows the snapshot. Only ``textual.message`` is
imported: the App imports this module before its first paint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from textual.message import Message

if TYPE_CHECKING:
    from tutor import events
    from tutor.events import RunResult
    from tutor.progress import StoredRun

Point = tuple[float, float]


# -- what the messages carry ---------------------------------------------------------------


@dataclass
class RunUpdate:
    """Everything a run produced since the UI last drained its bridge."""

    points: dict[str, list[Point]] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    progress: events.Progress | None = None  # the latest one; its points are in ``points``

    def __bool__(self) -> bool:
        return bool(self.points or self.logs or self.progress)


class RunSource(Protocol):
    """What a run's messages carry: the run's sink (:class:`tutor.ui.run_link.RunBridge`)."""

    def drain(self) -> RunUpdate: ...


@dataclass
class StoreSnapshot:
    """What one store job wrote and then read back, for the UI thread to show.

    ``seq`` orders snapshots: jobs run one at a time, but their results may reach the UI
    in another order, so the UI keeps, per lesson, only reads newer than what it shows.
    """

    seq: int
    written: Any = None  # what the write returned (record_run: the new run's id)
    statuses: dict[str, str] = field(default_factory=dict)  # lesson id -> new/started/done
    runs: dict[str, list[StoredRun]] = field(default_factory=dict)  # newest first
    error: str | None = None  # the store failed: the UI says so, the app goes on


# -- the messages ----------------------------------------------------------------------------


class RunStarted(Message, bubble=False):
    """The runner resolved the device and is about to call the lesson's code."""

    def __init__(self, bridge: RunSource, info: events.RunStarted) -> None:
        super().__init__()
        self.bridge = bridge
        self.info = info


class DatasetChosen(Message, bubble=False):
    """The lesson code said which dataset it trains on (``ctx.data``)."""

    def __init__(self, bridge: RunSource, dataset: str, note: str) -> None:
        super().__init__()
        self.bridge = bridge
        self.dataset = dataset
        self.note = note


class RunProgressed(Message, bubble=False):
    """New points, log lines or progress wait in ``bridge.drain()``.

    Carries no data itself, so merging two of them loses nothing: whichever is handled
    drains everything accumulated so far (toolong's ``can_replace``).
    """

    def __init__(self, bridge: RunSource) -> None:
        super().__init__()
        self.bridge = bridge

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunProgressed) and message.bridge is self.bridge


class RunFinished(Message, bubble=False):
    """The run ended (completed, cancelled, diverged or failed): ``result`` says how."""

    def __init__(self, bridge: RunSource, result: RunResult) -> None:
        super().__init__()
        self.bridge = bridge
        self.result = result


class StoreSnapshotReady(Message):
    """A store job ended: ``snapshot`` is what it wrote and read back (None: the job itself
    crashed). ``purpose`` tells the widget that asked which job it was; the App counts it
    as settled (``store_pending``) and shows its status marks and run history."""

    def __init__(self, snapshot: StoreSnapshot | None, purpose: str = "") -> None:
        super().__init__()
        self.snapshot = snapshot
        self.purpose = purpose


class Say(Message):
    """A pane's line for the status line (levels: info, ok, warning, error)."""

    def __init__(self, text: str, level: str = "info") -> None:
        super().__init__()
        self.text = text
        self.level = level
