"""From the training thread to the UI: a run's events as Textual messages.

``run_lesson`` runs in a thread worker and calls its sink with plain events
(:mod:`tutor.events`). :class:`RunBridge` is that sink: it posts messages to a
widget with ``post_message`` (thread-safe) and coalesces the frequent ones, so
however fast a lesson reports, the UI sees one pending update at a time and
never loses a point.

- ``RunStarted``, ``DatasetChosen`` and ``RunFinished`` are rare: one message each.
- ``Progress`` points and ``LogLine`` text are accumulated under a lock into a
  :class:`RunUpdate`; a single ``TrainingView.RunProgressed`` message is in flight
  until the UI drains it, then the next event posts another.
- ``EpochEnded`` is dropped: lesson 1 ends 100 epochs in 2 ms, and ``Progress``
  already carries the epoch points and latest metrics.

The same goes the other way for the progress store: :class:`StoreLink` runs store
work on worker threads (a write fsyncs, and may wait up to the store's busy timeout
behind another process's write) and hands the UI a :class:`StoreSnapshot` of what
the UI needs to show afterwards.

No torch and no training logic here: this is plumbing between two threads.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.message_pump import MessagePump

from tutor import events
from tutor.events import Event
from tutor.lesson.catalog import Catalog, LoadedLesson
from tutor.progress import ProgressError, ProgressStore, StoredRun
from tutor.ui.widgets.training import TrainingView

Point = tuple[float, float]


@dataclass
class RunUpdate:
    """Everything a run produced since the UI last drained its bridge."""

    points: dict[str, list[Point]] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    progress: events.Progress | None = None  # the latest one; its points are in ``points``

    def __bool__(self) -> bool:
        return bool(self.points or self.logs or self.progress)


class RunBridge:
    """The sink for one run: called on the worker thread, drained on the UI thread."""

    def __init__(self, target: MessagePump, run_id: int, lesson_id: str) -> None:
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
            self.target.post_message(TrainingView.RunStarted(self, event))
        elif isinstance(event, events.DatasetChosen):
            self.target.post_message(TrainingView.DatasetChosen(self, event.name, event.note))
        elif isinstance(event, events.RunFinished):
            # Posted after every earlier message, so the handler can drain what is left.
            self.target.post_message(TrainingView.RunFinished(self, event.result))
        # events.EpochEnded: deliberately ignored, see the module docstring.

    def _signal(self) -> None:
        # Called with the lock held: at most one RunProgressed is queued at a time.
        if not self._in_flight:
            self._in_flight = True
            self.target.post_message(TrainingView.RunProgressed(self))

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


# -- the progress store ------------------------------------------------------------------


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


class StoreLink:
    """Runs store jobs on worker threads, one at a time.

    A job is one write (or none) followed by the reads the UI needs to reflect it: the
    lesson's status mark, its run history. Doing both in the same job, under one lock,
    means a snapshot always includes its own write. Store errors (a full disk, a file
    made read-only) end up in ``StoreSnapshot.error`` instead of crashing a worker.
    """

    RUNS_SHOWN = 50  # newest runs of a lesson in the runs table

    def __init__(self, store: ProgressStore, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog
        self._lock = threading.Lock()
        self._seq = 0

    def job(
        self,
        write: Callable[[ProgressStore], Any] | None = None,
        *,
        status_of: Iterable[str] = (),
        runs_of: str | None = None,
    ) -> StoreSnapshot:
        """Call on a worker thread (it blocks on SQLite)."""
        with self._lock:
            self._seq += 1
            snapshot = StoreSnapshot(self._seq)
            try:
                if write is not None:
                    snapshot.written = write(self.store)
                for lesson_id in status_of:
                    snapshot.statuses[lesson_id] = self.status(lesson_id)
                if runs_of is not None:
                    snapshot.runs[runs_of] = self.store.runs(runs_of, limit=self.RUNS_SHOWN)
            except (ProgressError, sqlite3.Error, OSError) as e:
                snapshot.error = f"{type(e).__name__}: {e}"
            return snapshot

    def status(self, lesson_id: str) -> str:
        loaded = self.catalog.get(lesson_id)
        questions = [q.id for q in loaded.lesson.quiz] if loaded else []
        return self.store.lesson_status(lesson_id, len(questions), questions)

    def all_statuses(self) -> dict[str, str]:
        """Every lesson's status in three queries (``ProgressStore.summary``)."""
        rows = self.store.summary(
            [(x.id, x.id, [q.id for q in x.lesson.quiz]) for x in self.catalog.lessons]
        )
        return {row.lesson_id: row.status for row in rows}
