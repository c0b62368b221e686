"""From the UI to the progress store and back, on worker threads.

A store write fsyncs, and may wait up to the store's busy timeout behind another process's
write (a second window, ``dl-tutor run``); reading a lesson's run history decodes up to 50
runs of JSON curves. None of that belongs on the thread that draws: :class:`StoreLink` runs
each job on a worker thread of the widget that asks for it, and posts the widget a
:class:`~tutor.ui.messages.StoreSnapshotReady` with a :class:`StoreSnapshot` of what the UI
needs to show afterwards. The message bubbles up to the App, which shows it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from textual.dom import DOMNode
from textual.message_pump import MessagePump

from tutor.events import RunResult
from tutor.lesson.catalog import Catalog
from tutor.progress import ProgressError, ProgressStore, StoredRun
from tutor.progress.pending import explain, keep_run, store_pending_runs
from tutor.ui.messages import StoreSnapshot, StoreSnapshotReady

# A write that met another process's lock (after the store's own busy timeout) is tried
# again after each of these pauses, then reported: a long `dl-tutor run` commit, a backup.
LOCK_PAUSES = (0.5, 1.0, 2.0)


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def write_retrying(write: Callable[[ProgressStore], Any], store: ProgressStore) -> Any:
    """``write(store)``, tried again while SQLite says the database is locked."""
    for pause in LOCK_PAUSES:
        try:
            return write(store)
        except sqlite3.OperationalError as e:
            if "locked" not in str(e):
                raise
        _pause(pause)
    return write(store)


class StoreLink:
    """Runs store jobs on worker threads, one at a time.

    A job is one write (or none) followed by the reads the UI needs to reflect it: the
    lesson's status mark, its run history. Doing both in the same job, under one lock,
    means a snapshot always includes its own write. Store errors (a full disk, a file
    made read-only) end up in ``StoreSnapshot.error`` instead of crashing a worker.
    """

    RUNS_SHOWN = 50  # newest runs of a lesson in the runs table

    def __init__(self, store: ProgressStore | None, catalog: Catalog) -> None:
        self.store = store  # None: progress is not saved, and jobs are not run
        self.catalog = catalog
        self._lock = threading.Lock()
        self._seq = 0
        self._seen: dict[tuple[str, str], int] = {}  # (what, lesson id) -> seq shown
        # Jobs (and runs to store) whose snapshot the UI has not shown yet; the first is
        # start-up. Changed on the UI thread only: by submit/expect and by the App.
        self.pending = 1

    def fresh(self, snapshot: StoreSnapshot) -> tuple[dict[str, str], dict[str, list[StoredRun]]]:
        """The statuses and run lists of ``snapshot`` newer than those already shown (UI
        thread): jobs run in order, but their snapshots can arrive out of order."""
        statuses = {
            k: v for k, v in snapshot.statuses.items() if self._newer(snapshot, "status", k)
        }
        runs = {k: v for k, v in snapshot.runs.items() if self._newer(snapshot, "runs", k)}
        return statuses, runs

    def _newer(self, snapshot: StoreSnapshot, what: str, lesson_id: str) -> bool:
        if snapshot.seq <= self._seen.get((what, lesson_id), 0):
            return False
        self._seen[what, lesson_id] = snapshot.seq
        return True

    def expect(self) -> None:
        """One more snapshot will come (a run stores itself when it ends)."""
        self.pending += 1

    def settled(self) -> None:
        """A snapshot (or its absence) was handled."""
        self.pending = max(0, self.pending - 1)

    def submit(
        self,
        owner: DOMNode,
        write: Callable[[ProgressStore], Any] | None = None,
        *,
        status_of: Iterable[str] = (),
        runs_of: str | None = None,
        purpose: str = "",
    ) -> None:
        """Run a job on a worker thread of ``owner``, which then gets a StoreSnapshotReady."""
        if self.store is None:
            return
        self.expect()
        job = partial(self._job_and_post, owner, write, tuple(status_of), runs_of, purpose)
        owner.run_worker(job, thread=True, group="store", exit_on_error=False)

    def _job_and_post(
        self,
        target: MessagePump,
        write: Callable[[ProgressStore], Any] | None,
        status_of: tuple[str, ...],
        runs_of: str | None,
        purpose: str,
    ) -> None:
        snapshot = None
        try:
            snapshot = self.job(write, status_of=status_of, runs_of=runs_of)
        finally:  # even if the job crashed: the App counts every job as settled
            target.post_message(StoreSnapshotReady(snapshot, purpose))

    def job(
        self,
        write: Callable[[ProgressStore], Any] | None = None,
        *,
        status_of: Iterable[str] = (),
        runs_of: str | None = None,
    ) -> StoreSnapshot:
        """Call on a worker thread (it blocks on SQLite)."""
        assert self.store is not None, "no store: nothing to do"
        with self._lock:
            self._seq += 1
            snapshot = StoreSnapshot(self._seq)
            try:
                if write is not None:
                    snapshot.written = write_retrying(write, self.store)
                for lesson_id in status_of:
                    snapshot.statuses[lesson_id] = self.status(lesson_id)
                if runs_of is not None:
                    snapshot.runs[runs_of] = self.store.runs(runs_of, limit=self.RUNS_SHOWN)
            except (ProgressError, sqlite3.Error, OSError) as e:
                snapshot.error = f"{type(e).__name__}: {e}"
            return snapshot

    def status(self, lesson_id: str) -> str:
        assert self.store is not None
        loaded = self.catalog.get(lesson_id)
        questions = [q.id for q in loaded.lesson.quiz] if loaded else []
        return self.store.lesson_status(lesson_id, len(questions), questions)

    def all_statuses(self) -> dict[str, str]:
        """Every lesson's status in three queries (``ProgressStore.summary``)."""
        assert self.store is not None
        rows = self.store.summary(
            [(x.id, x.id, [q.id for q in x.lesson.quiz]) for x in self.catalog.lessons]
        )
        return {row.lesson_id: row.status for row in rows}


@dataclass
class StoreOpened:
    """What the app reads from the store at start (on a worker thread)."""

    store: ProgressStore | None
    error: str | None = None
    lang: str | None = None
    last_lesson: str | None = None
    statuses: dict[str, str] = field(default_factory=dict)


def open_store(given: ProgressStore | None, catalog: Catalog) -> StoreOpened:
    """Worker thread: open the store (unless ``given``) and read what start-up shows."""
    store = given
    try:
        if store is None:
            store = ProgressStore()
        # Runs a front end finished but could not store (tutor.progress.pending) go in first.
        store_pending_runs(store)
        return StoreOpened(
            store,
            lang=store.get_state("lang"),
            last_lesson=store.get_state("last_lesson"),
            statuses=StoreLink(store, catalog).all_statuses(),
        )
    except (ProgressError, OSError, sqlite3.Error) as e:
        if store is not None and given is None:
            store.close()
        return StoreOpened(None, f"{type(e).__name__}: {e}")


# -- the small jobs: each one write, run with StoreLink.submit -----------------------------


def remember_lesson(lesson_id: str, store: ProgressStore) -> None:
    store.set_state("last_lesson", lesson_id)


def record_run(result: RunResult, store: ProgressStore) -> int:
    """Store a finished run; if the store refuses it (after the lock retries), the run is kept
    in a pending file, stored at the next start, and the error says where: never lost."""
    try:
        return int(write_retrying(lambda s: s.record_run(result), store))
    except (ProgressError, sqlite3.Error, OSError) as e:
        try:
            kept = f"the run is kept in {keep_run(result)} and stored at the next start"
        except OSError:
            kept = "the run could not be kept either"
        raise ProgressError(f"{explain(e, store.path)}; {kept}") from e


def reset_lesson(lesson_id: str, store: ProgressStore) -> None:
    store.reset(lesson_id)


def save_language(lang: str, store: ProgressStore) -> None:
    store.set_state("lang", lang)

