"""From the training thread to the UI: a run's events as Textual messages.

The training process's events reach a thread worker of the Train pane, which calls its sink
with plain events (:mod:`tutor.events`). :class:`RunBridge` is that sink: it posts
:mod:`tutor.ui.messages` to the pane with ``post_message`` (thread-safe) and coalesces the
frequent ones, so however fast a lesson reports, the UI sees one pending update at a time
and never loses a point.

- ``RunStarted``, ``DatasetChosen`` and ``RunFinished`` are rare: one message each.
- ``Progress`` points and ``LogLine`` text are accumulated under a lock into a
  :class:`RunUpdate`; a single ``RunProgressed`` message is in flight until the UI
  drains it, then the next event posts another.
- ``EpochEnded`` is dropped: lesson 1 ends 100 epochs in 2 ms, and ``Progress``
  already carries the epoch points and latest metrics.

No torch and no training logic here: this is plumbing between two threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from textual.message import Message

from tutor import events
from tutor.events import Event, RunResult
from tutor.lesson.catalog import LoadedLesson
from tutor.ui import messages
from tutor.ui.messages import Point, RunUpdate


class MessageTarget(Protocol):
    """Where a bridge posts: the Train pane (a sweep's runs: a wrapper, ui/panes/sweep.py)."""

    def post_message(self, message: Message) -> bool: ...


class RunBridge:
    """The sink for one run: called on the worker thread, drained on the UI thread."""

    def __init__(self, target: MessageTarget, run_id: int, lesson_id: str) -> None:
        self.target = target
        self.run_id = run_id
        self.lesson_id = lesson_id
        self._lock = threading.Lock()
        self._pending = RunUpdate()
        self._in_flight = False  # a RunProgressed message is queued and not yet drained

    # -- worker thread ----------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if isinstance(event, events.Progress):
            with self._lock:
                for name, points in event.points.items():
                    self._pending.points.setdefault(name, []).extend(points)
                self._pending.progress = event
                self._signal()
        elif isinstance(event, events.LogLine):
            with self._lock:
                self._pending.logs.append(event.text)
                self._signal()
        elif isinstance(event, events.RunStarted):
            self.target.post_message(messages.RunStarted(self, event))
        elif isinstance(event, events.DatasetChosen):
            self.target.post_message(messages.DatasetChosen(self, event.name, event.note))
        elif isinstance(event, events.RunFinished):
            # Posted after every earlier message, so the handler can drain what is left.
            self.target.post_message(messages.RunFinished(self, event.result))
        # events.EpochEnded: deliberately ignored, see the module docstring.

    def _signal(self) -> None:
        # Called with the lock held: at most one RunProgressed is queued at a time.
        if not self._in_flight:
            self._in_flight = True
            self.target.post_message(messages.RunProgressed(self))

    # -- UI thread --------------------------------------------------------------------

    def drain(self) -> RunUpdate:
        """Take everything accumulated so far; the next event will post a new message."""
        with self._lock:
            update, self._pending = self._pending, RunUpdate()
            self._in_flight = False
        return update


@dataclass
class ActiveRun:
    """What the UI knows about the run in progress (kept while the learner looks elsewhere).

    If the learner opens another lesson and comes back, the training view is rebuilt from
    this: every point so far, the log, the latest progress.
    """

    loaded: LoadedLesson
    bridge: RunBridge
    cancel: threading.Event
    params: dict[str, Any]
    started: events.RunStarted | None = None
    dataset: tuple[str, str] | None = None
    progress: events.Progress | None = None
    points: dict[str, list[Point]] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    # Set by the training worker once the run has ended *and* been stored: quitting waits
    # for it (bounded), so a run cancelled by quitting is still recorded as cancelled.
    done: threading.Event = field(default_factory=threading.Event)
    # The learner's exercise file to train with instead of the lesson's code (None: the lesson's).
    code_path: Path | None = None

    @property
    def lesson_id(self) -> str:
        return self.bridge.lesson_id

    def absorb(self, update: RunUpdate) -> None:
        for name, points in update.points.items():
            self.points.setdefault(name, []).extend(points)
        self.logs.extend(update.logs)
        if update.progress is not None:
            self.progress = update.progress


@dataclass
class GradedRun:
    """The run a lesson's quiz answers are graded against."""

    result: RunResult
    finished_at: float  # unix time
    run_id: int | None = None  # the stored run's id, once known
