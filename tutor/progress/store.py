"""The progress store: one SQLite file holding the learner's runs, quiz answers, exercise
attempts and a little app state.

A single SQLite file (stdlib :mod:`sqlite3`, no ORM) at ``paths.data_dir() /
"progress.sqlite3"``. Plain Python: no torch, no Textual, and deliberately not even
:mod:`tutor.quiz` (which pulls in pydantic) so ``dl-tutor progress`` starts fast.

Durability, in one sentence: every write is one short ``BEGIN IMMEDIATE … COMMIT``
transaction in WAL mode with ``synchronous=FULL``, so a kill (or a power cut) at any moment
loses at most the write that was in flight and never leaves a half-written row or a
corrupt file. See ``docs/progress.md`` for the whole story.

This module opens, recovers and migrates the file and holds the transactions, exercise
attempts, lesson status, reset and app state; run history is :mod:`tutor.progress.runs` and
quiz answers :mod:`tutor.progress.answers` (mixins), the schema
:mod:`tutor.progress.migrations`, the row types :mod:`tutor.progress.model`.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import tutor.progress.migrations as migrations
from tutor import paths
from tutor.progress.answers import AnswersMixin, QuestionRecord
from tutor.progress.model import (
    ATTEMPT_OUTCOMES,
    Attempt,
    AttemptOutcome,
    LessonStatus,
    LessonSummary,
    ProgressError,
)
from tutor.progress.model import clean_text as _text
from tutor.progress.runs import RunsMixin

DB_NAME = "progress.sqlite3"

# How long a writer waits for another process's write transaction before giving up.
# Our transactions take about a millisecond, so 5 s only runs out if something is badly stuck.
BUSY_TIMEOUT_MS = 5000


def hint_key(lesson_id: str, exercise: str) -> str:
    """The app-state key holding the highest hint level shown for an exercise (CLI and app;
    the rules that use it are tutor.exercises.coach's)."""
    return f"exercise-hint:{lesson_id}:{exercise}"


# SQLite primary result codes meaning "these bytes are not a (sound) database".
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def _lesson_status(
    anything: bool,
    passed_run: bool,
    records: Mapping[str, QuestionRecord],
    n_questions: int,
    question_ids: Iterable[str] | None,
) -> LessonStatus:
    # A question counts once answered right before its value was shown (QuestionRecord.earned).
    if not anything:
        return "new"
    earned = {q for q, r in records.items() if r.earned}
    if question_ids is not None:
        answered = all(q in earned for q in question_ids)
    else:
        answered = len(earned) >= n_questions
    return "done" if passed_run and answered else "started"


# --------------------------------------------------------------------------- the store


class ProgressStore(RunsMixin, AnswersMixin):
    """The progress database (run history: :class:`RunsMixin`; answers and predictions:
    :class:`AnswersMixin`). Safe to share between the UI thread and worker threads.

    Threading: one connection (``check_same_thread=False``) guarded by a lock, rather than a
    connection per thread. Every operation is a millisecond-long transaction, so serialising
    them within the process costs nothing, and one connection means ``close()`` really closes
    everything: Textual starts a fresh thread per worker, and per-thread connections would
    outlive those threads with open file handles and an un-checkpointed WAL.

    Several processes (two app windows, the CLI while the app is open) are handled by SQLite's
    file locks: writes start with ``BEGIN IMMEDIATE`` so a second writer waits on the busy
    timeout instead of failing half-way through.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else paths.data_dir() / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.recovered_message: str | None = None
        self.moved_to: Path | None = None
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._open()

    @classmethod
    def open_readonly(cls, path: Path | str | None = None) -> ProgressStore:
        """The store for reading only, where it cannot be opened for writing (a read-only
        data directory, a writer holding the lock): no migration, no recovery; writes fail.

        Even a reader of a WAL database must create the ``-shm`` file; where it cannot (the
        directory is read-only) the file is opened ``immutable``: the main file as it is,
        without the tail of a ``-wal`` a crashed writer may have left.
        """
        store = cls.__new__(cls)
        store.path = Path(path) if path is not None else paths.data_dir() / DB_NAME
        store.recovered_message, store.moved_to = None, None
        store._lock, store._conn = threading.RLock(), None
        last: sqlite3.Error | None = None
        for query in ("mode=ro", "mode=ro&immutable=1"):
            try:
                conn = sqlite3.connect(
                    f"{store.path.resolve().as_uri()}?{query}",
                    uri=True,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None,
                    check_same_thread=False,
                )
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            except sqlite3.Error as e:
                last = e
                continue
            if app_id != migrations.APPLICATION_ID or version != migrations.SCHEMA_VERSION:
                conn.close()
                newer = "a newer" if version > migrations.SCHEMA_VERSION else "another"
                raise ProgressError(
                    f"{store.path} cannot be read: written by {newer} dl-tutor, and it "
                    "cannot be written (read-only) to upgrade it"
                )
            store._conn = conn
            return store
        assert last is not None
        raise last

    # ---------------------------------------------------------------- opening

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit BEGINs; _write() and _read() say exactly where
        # each transaction starts and ends.
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return conn

    def _open(self) -> None:
        problem = self._try_open()
        if problem is None:
            return
        # Recovery is rare, so it may be slow and careful: under an exclusive lock, look again
        # (another window of the app may have recovered the file while we waited), and only
        # then move it. Without the lock, two instances finding the same bad file could each
        # move something aside, the second one the first one's fresh database.
        with self._recovery_lock():
            problem = self._try_open()
            if problem is None:
                return
            kind, reason = problem
            self.moved_to = self._move_aside(kind)
            what = "damaged" if kind == "corrupt" else "not a dl-tutor progress database"
            self.recovered_message = (
                f"The progress file {self.path} was {what} ({reason}). It was moved to "
                f"{self.moved_to.name} and a fresh progress file was started."
            )
            problem = self._try_open()
        if problem is not None:  # a brand-new file is bad: nothing sensible left to do
            raise ProgressError(f"cannot create a progress database at {self.path}: {problem}")

    def _try_open(self) -> tuple[str, str] | None:
        """Connect, inspect, migrate. On a problem the connection is closed again."""
        conn = self._connect()
        try:
            problem = self._inspect(conn)
            if problem is None:
                self._conn = conn
                problem = self._migrate()
        except BaseException:
            self._conn = None
            conn.close()
            raise
        if problem is not None:
            self._conn = None
            conn.close()
        return problem

    @contextmanager
    def _recovery_lock(self) -> Iterator[None]:
        # An OS file lock, released by the OS if we are killed, so it can never go stale.
        # The file itself (progress.sqlite3.lock) stays; it is empty and harmless.
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for ~10 s, then raises
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _inspect(self, conn: sqlite3.Connection) -> tuple[str, str] | None:
        """Set the connection up and decide whether the file is ours.

        Returns None (ours, or empty) or ``(kind, reason)`` with kind ``corrupt`` / ``foreign``.
        Corruption is judged only from SQLite's own error codes, never by reading the bytes
        ourselves: another process may be creating the file right now, and SQLite reads it
        under its locks.
        """
        try:
            # Look before touching anything: these are pure reads, so a file that turns out
            # not to be ours is moved aside as we found it (not switched to WAL mode). One
            # read transaction, so all answers come from the same snapshot: otherwise a
            # process creating the file right now could commit between two of them, and
            # "no application_id yet" plus "has tables" would look like a foreign database.
            conn.execute("BEGIN")
            try:
                check = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                tables = {
                    row[0]
                    for row in conn.execute(
                        "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
                    )
                }
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
            if check != ["ok"]:
                return "corrupt", "quick_check: " + "; ".join(map(str, check[:3]))
            if not (app_id == 0 and version == 0 and not tables):  # not a new, empty file
                if app_id != migrations.APPLICATION_ID:
                    return "foreign", f"application_id {app_id:#x}, tables {sorted(tables)[:5]}"
                if version > migrations.SCHEMA_VERSION:
                    raise ProgressError(
                        f"{self.path} was written by a newer dl-tutor (schema {version}, this "
                        f"version knows {migrations.SCHEMA_VERSION}); upgrade dl-tutor or "
                        "set DL_TUTOR_DATA_DIR to use another progress file"
                    )
            # WAL: readers never block the writer, and a commit is one append to the -wal
            # file, so a kill mid-write leaves at worst an incomplete tail that is ignored.
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            # FULL (not NORMAL): NORMAL in WAL mode already survives a killed process, but
            # may lose the last commits on power loss. FULL fsyncs each commit (~1 ms); we
            # write a few rows a minute, so we take the stronger promise for free.
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            if _is_corruption(exc):
                return "corrupt", str(exc)
            raise  # locked, read-only, I/O error: not the file's fault, do not move it
        return None

    def _migrate(self) -> tuple[str, str] | None:
        # All pending steps, the version bump and the application_id go in one transaction:
        # a kill half-way leaves the old version intact, and a second process opening a new
        # file at the same moment waits here and then finds nothing left to do.
        with self._write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            if app_id not in (0, migrations.APPLICATION_ID):
                return "foreign", f"application_id {app_id:#x}"
            if version > migrations.SCHEMA_VERSION:
                raise ProgressError(f"{self.path} was written by a newer dl-tutor")
            for number, step in enumerate(migrations.MIGRATIONS[version:], start=version + 1):
                for statement in step:
                    conn.execute(statement)
                # PRAGMAs cannot take parameters; both values are our own ints.
                conn.execute(f"PRAGMA user_version = {number:d}")
            if app_id != migrations.APPLICATION_ID:
                conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID:d}")
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        missing = migrations.TABLES - tables
        if missing:
            return "corrupt", f"missing tables {sorted(missing)}"
        return None

    def _move_aside(self, kind: str) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = self.path.with_name(f"{self.path.name}.{kind}-{stamp}")
        target, n = base, 1
        while target.exists():
            target = base.with_name(f"{base.name}-{n}")
            n += 1
        os.replace(self.path, target)
        # The -wal/-shm files belong to the old file. Left behind, SQLite could replay the old
        # log into the new database; moved along, the aside copy still opens with its tail.
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                os.replace(side, Path(f"{target}{suffix}"))
        return target

    # ---------------------------------------------------------------- transactions

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ProgressError("the progress store is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, like ``with conn:`` but with ``BEGIN IMMEDIATE``.

        A deferred BEGIN takes the write lock only at the first write, and if another process
        committed in between, SQLite fails with SQLITE_BUSY without waiting. IMMEDIATE takes
        the lock up front, where the busy timeout applies.
        """
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """Several SELECTs that see one snapshot (a concurrent writer cannot interleave)."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    # ---------------------------------------------------------------- exercise attempts

    def record_attempt(
        self, lesson_id: str, exercise: str, outcome: AttemptOutcome | str, message: str = ""
    ) -> int:
        if outcome not in ATTEMPT_OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; expected {ATTEMPT_OUTCOMES}")
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO attempts (lesson_id, exercise, outcome, message, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (_text(lesson_id), _text(exercise), outcome, _text(message), time.time()),
            )
            return int(cur.lastrowid)  # type: ignore[arg-type]

    def attempts(self, lesson_id: str) -> list[Attempt]:
        """Newest first."""
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT id, lesson_id, exercise, outcome, message, at FROM attempts"
                    " WHERE lesson_id = ? ORDER BY id DESC",
                    (lesson_id,),
                )
                .fetchall()
            )
        return [Attempt(*row) for row in rows]

    # ---------------------------------------------------------------- status

    def lesson_status(
        self,
        lesson_id: str,
        n_questions: int = 0,
        question_ids: Iterable[str] | None = None,
    ) -> LessonStatus:
        """``new`` (nothing recorded), ``done`` (a completed run with every check passing and
        every question answered right before its value was shown) or ``started``.

        Pass ``question_ids`` (the lesson's questions); without it, ``n_questions`` distinct
        questions answered correctly are required.
        """
        with self._read() as conn:
            anything = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM runs WHERE lesson_id = :l)"
                " OR EXISTS (SELECT 1 FROM answers WHERE lesson_id = :l)"
                " OR EXISTS (SELECT 1 FROM attempts WHERE lesson_id = :l)"
                " OR EXISTS (SELECT 1 FROM predictions WHERE lesson_id = :l)",
                {"l": lesson_id},
            ).fetchone()[0]
            passed = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM runs WHERE lesson_id = ? AND passed)", (lesson_id,)
            ).fetchone()[0]
            records = self.question_records(lesson_id)  # same snapshot (the lock is an RLock)
        return _lesson_status(bool(anything), bool(passed), records, n_questions, question_ids)

    def summary(self, lessons: Sequence[tuple[str, str, Sequence[str]]]) -> list[LessonSummary]:
        """One row per ``(lesson_id, title, question_ids)``, in the order given. Three grouped
        queries in one snapshot, however many lessons there are."""
        with self._read() as conn:
            run_rows = conn.execute(
                "SELECT r.lesson_id, g.n, g.any_passed, r.status, r.finished_at FROM runs r"
                " JOIN (SELECT lesson_id, COUNT(*) AS n, MAX(passed) AS any_passed,"
                "       MAX(id) AS last FROM runs GROUP BY lesson_id) g ON r.id = g.last"
            ).fetchall()
            records = self._all_question_records(conn)
            attempt_rows = conn.execute(
                "SELECT lesson_id, exercise, MAX(outcome = 'passed') FROM attempts"
                " GROUP BY lesson_id, exercise"
            ).fetchall()
        runs = {r[0]: r[1:] for r in run_rows}
        exercises: dict[str, list[bool]] = {}
        for lesson_id, _exercise, passed in attempt_rows:
            exercises.setdefault(lesson_id, []).append(bool(passed))

        rows: list[LessonSummary] = []
        for lesson_id, title, question_ids in lessons:
            n_runs, any_passed, last_status, last_at = runs.get(lesson_id, (0, 0, None, None))
            answers = records.get(lesson_id, {})
            tried = exercises.get(lesson_id, [])
            anything = bool(n_runs or answers or tried)
            rows.append(
                LessonSummary(
                    lesson_id=lesson_id,
                    title=title,
                    status=_lesson_status(
                        anything, bool(any_passed), answers, len(question_ids), question_ids
                    ),
                    runs=n_runs,
                    last_run_status=last_status,
                    last_run_at=last_at,
                    passed_run=bool(any_passed),
                    questions_correct=sum(
                        q in answers and answers[q].earned for q in question_ids
                    ),
                    questions=len(question_ids),
                    exercises_passed=sum(tried),
                    exercises_tried=len(tried),
                    questions_first_try=sum(
                        q in answers and answers[q].first_try is True for q in question_ids
                    ),
                    questions_revealed=sum(
                        q in answers and answers[q].revealed for q in question_ids
                    ),
                )
            )
        return rows

    # ---------------------------------------------------------------- reset and state

    def reset(self, lesson_id: str | None = None) -> None:
        """Forget one lesson's runs, answers, predictions and attempts, or every lesson's.

        App state (language, last lesson) is a preference, not progress, and is kept.
        """
        with self._write() as conn:
            for table in ("runs", "answers", "attempts", "predictions"):
                if lesson_id is None:
                    conn.execute(f"DELETE FROM {table}")
                else:
                    conn.execute(f"DELETE FROM {table} WHERE lesson_id = ?", (lesson_id,))

    def get_state(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT value FROM app_state WHERE key = ?", (key,))
                .fetchone()
            )
        return default if row is None else row[0]

    def set_state(self, key: str, value: str | None) -> None:
        """Set (or, with None, delete) a small piece of app state such as ``lang``."""
        with self._write() as conn:
            if value is None:
                conn.execute("DELETE FROM app_state WHERE key = ?", (key,))
            else:
                conn.execute(
                    "INSERT INTO app_state (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (_text(key), _text(str(value))),
                )

    # ---------------------------------------------------------------- lifetime

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()  # the last connection to close checkpoints and removes the -wal

    def __enter__(self) -> ProgressStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
