"""The learner's progress: runs, quiz answers, exercise attempts and a little app state.

A single SQLite file (stdlib :mod:`sqlite3`, no ORM) at ``paths.data_dir() /
"progress.sqlite3"``. Plain Python: no torch, no Textual, and deliberately not even
:mod:`tutor.quiz` (which pulls in pydantic) so ``dl-tutor progress`` starts fast.

Durability, in one sentence: every write is one short ``BEGIN IMMEDIATE … COMMIT``
transaction in WAL mode with ``synchronous=FULL``, so a kill (or a power cut) at any moment
loses at most the write that was in flight and never leaves a half-written row or a
corrupt file. See ``docs/progress.md`` for the whole story.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tutor import paths, series
from tutor.events import CheckResult, RunResult
from tutor.progress.answers import ANSWER_STATUSES as ANSWER_STATUSES
from tutor.progress.answers import LEARNER_ID_KEY as LEARNER_ID_KEY
from tutor.progress.answers import AnswersMixin, QuestionRecord
from tutor.progress.answers import AnswerStatus as AnswerStatus
from tutor.progress.answers import Prediction as Prediction
from tutor.progress.answers import clean_text as _text

DB_NAME = "progress.sqlite3"

# "DLTu" in ASCII. Written into the file header (PRAGMA application_id) so we can tell our
# database from any other SQLite file that happens to sit at our path.
APPLICATION_ID = 0x444C5475

# How long a writer waits for another process's write transaction before giving up.
# Our transactions take about a millisecond, so 5 s only runs out if something is badly stuck.
BUSY_TIMEOUT_MS = 5000

# Per-step series can have 100k+ points; the chart only needs a few thousand.
MAX_POINTS_PER_SERIES = 2000

# A recorded value bigger than this (as JSON) is not stored; a whole weight matrix does not
# belong in a progress file. Its name is kept in StoredRun.records_omitted.
MAX_RECORD_JSON_CHARS = 64_000

AttemptOutcome = Literal["passed", "failed", "error"]
LessonStatus = Literal["new", "started", "done"]

ATTEMPT_OUTCOMES: tuple[str, ...] = ("passed", "failed", "error")


def hint_key(lesson_id: str, exercise: str) -> str:
    """The app-state key holding the highest hint level shown for an exercise (CLI and app)."""
    return f"exercise-hint:{lesson_id}:{exercise}"


# SQLite primary result codes meaning "these bytes are not a (sound) database".
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


class ProgressError(Exception):
    """The progress database cannot be used, and moving it aside would be wrong
    (for example it was written by a newer dl-tutor)."""


# --------------------------------------------------------------------------- records


class LazyHistory(Mapping[str, list[tuple[float, float]]]):
    """A stored run's curves, decoded from their JSON when first used.

    Listing runs (the runs table, ``dl-tutor runs``) reads every row but draws no curve; a
    run's history is most of its row (~35 kB of JSON for a default CNN run). With 1,000 runs
    stored, decoding the 50 newest histories was most of the runs table's query, and all of
    them most of ``dl-tutor runs --limit 1000`` (bench/scaling.py).
    """

    __slots__ = ("_text", "_data")

    def __init__(self, text: str) -> None:
        self._text = text
        self._data: dict[str, list[tuple[float, float]]] | None = None

    def _decoded(self) -> dict[str, list[tuple[float, float]]]:
        # Two threads may both decode the first time; they build equal dicts, either is kept.
        data = self._data
        if data is None:
            data = {
                name: [(p[0], p[1]) for p in points]
                for name, points in json.loads(self._text).items()
            }
            self._data = data
        return data

    def __getitem__(self, name: str) -> list[tuple[float, float]]:
        return self._decoded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return repr(self._decoded())


@dataclass(frozen=True)
class StoredRun:
    id: int
    lesson_id: str
    status: str  # completed | cancelled | diverged | failed
    params: dict[str, Any]
    seed: int | None
    device: str
    dataset: str
    seconds: float
    metrics: dict[str, Any]
    history: Mapping[str, list[tuple[float, float]]]  # decimated to MAX_POINTS_PER_SERIES
    checks: list[dict[str, Any]]  # CheckResult.as_dict() of each check
    started_at: float  # unix time
    finished_at: float
    passed: bool  # completed and every check passed (RunResult.ok at the time)
    error: str | None = None
    records: dict[str, Any] | None = None
    records_omitted: tuple[str, ...] = ()

    def to_result(self) -> RunResult:
        """A RunResult again, so ``quiz.run_values`` can grade answers against a stored run
        after a restart. Records that were too big to store are missing."""
        return RunResult(
            lesson_id=self.lesson_id,
            status=self.status,  # type: ignore[arg-type]  # stored from a RunResult
            params=dict(self.params),
            seed=self.seed,
            device=self.device,
            dataset=self.dataset,
            seconds=self.seconds,
            metrics=dict(self.metrics),
            history={k: list(v) for k, v in self.history.items()},
            records=dict(self.records or {}),
            checks=[
                CheckResult(
                    name=c.get("name", ""),
                    passed=bool(c.get("passed")),
                    value=c.get("value"),
                    expected=c.get("expected", ""),
                    error=c.get("error"),
                )
                for c in self.checks
            ],
            error=self.error,
        )


@dataclass(frozen=True)
class Attempt:
    id: int
    lesson_id: str
    exercise: str
    outcome: str  # passed | failed | error
    message: str
    at: float


@dataclass(frozen=True)
class LessonSummary:
    """One row of the ``dl-tutor progress`` table."""

    lesson_id: str
    title: str
    status: LessonStatus
    runs: int
    last_run_status: str | None
    last_run_at: float | None
    passed_run: bool  # some run completed with every check passing
    # Questions answered right before their value was shown (first try or after a hint);
    # "done" needs all of them.
    questions_correct: int
    questions: int
    exercises_passed: int  # distinct exercises with at least one passed attempt
    exercises_tried: int
    questions_first_try: int = 0  # questions whose first graded answer was right
    questions_revealed: int = 0  # questions whose value was shown (reveal or 2nd wrong try)


# --------------------------------------------------------------------------- schema

# Each step takes the schema from version i to i+1 (the step at index 0 creates version 1).
# Steps are lists of single statements, not scripts: Connection.executescript() would COMMIT
# first and break the one-transaction-per-upgrade guarantee. Never edit a released step;
# append a new one.
MIGRATIONS: list[tuple[str, ...]] = [
    # 1: the first release.
    (
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            lesson_id TEXT NOT NULL,
            started_at REAL NOT NULL,
            finished_at REAL NOT NULL,
            status TEXT NOT NULL,
            passed INTEGER NOT NULL,   -- status = completed and all checks passed
            params TEXT NOT NULL,      -- JSON object
            seed,                      -- no affinity: an int, or its decimal text if > int64
            device TEXT NOT NULL,
            dataset TEXT NOT NULL,
            seconds REAL NOT NULL,
            metrics TEXT NOT NULL,     -- JSON object, final value of each metric
            history TEXT NOT NULL,     -- JSON object: series -> [[x, y], ...], decimated
            checks TEXT NOT NULL       -- JSON list of CheckResult.as_dict()
        )""",
        "CREATE INDEX runs_by_lesson ON runs (lesson_id, id)",
        """CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            lesson_id TEXT NOT NULL,
            question_id TEXT NOT NULL,
            answer TEXT NOT NULL,
            status TEXT NOT NULL,
            at REAL NOT NULL
        )""",
        "CREATE INDEX answers_by_question ON answers (lesson_id, question_id, id)",
        "CREATE TABLE app_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    ),
    # 2: exercise attempts; keep a run's error and recorded values (for grading after a
    # restart without training again).
    (
        "ALTER TABLE runs ADD COLUMN error TEXT",
        "ALTER TABLE runs ADD COLUMN records TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE runs ADD COLUMN records_omitted TEXT NOT NULL DEFAULT '[]'",
        """CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            lesson_id TEXT NOT NULL,
            exercise TEXT NOT NULL,
            outcome TEXT NOT NULL,
            message TEXT NOT NULL,
            at REAL NOT NULL
        )""",
        "CREATE INDEX attempts_by_lesson ON attempts (lesson_id, id)",
    ),
    # 3: quizzes that need understanding (docs/quiz.md): each answer's attempt number,
    # whether the expected value was shown with it, the run it was graded against and the
    # prediction it grades; predictions with the time they were made.
    (
        "ALTER TABLE answers ADD COLUMN attempt INTEGER",
        "ALTER TABLE answers ADD COLUMN revealed INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE answers ADD COLUMN run_id INTEGER",
        "ALTER TABLE answers ADD COLUMN prediction_id INTEGER",
        """CREATE TABLE predictions (
            id INTEGER PRIMARY KEY,
            lesson_id TEXT NOT NULL,
            question_id TEXT NOT NULL,
            answer TEXT NOT NULL,
            at REAL NOT NULL
        )""",
        "CREATE INDEX predictions_by_question ON predictions (lesson_id, question_id, id)",
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)
_TABLES = frozenset({"runs", "answers", "attempts", "app_state", "predictions"})


# --------------------------------------------------------------------------- helpers


def _json_default(obj: Any) -> Any:
    # The runner already turns tensors into plain values; this is the safety net so a stray
    # numpy scalar or set never makes record_run fail after a long training run.
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    return repr(obj)


def _dumps(obj: Any) -> str:
    # allow_nan: a diverged run's last loss is NaN/inf, and Python's json reads them back.
    # ensure_ascii: the text is pure ASCII, so odd strings can never fail to encode.
    return json.dumps(obj, default=_json_default, separators=(",", ":"), allow_nan=True)


def _seed_in(seed: int | None) -> int | str | None:
    if seed is None:
        return None
    seed = int(seed)
    return seed if -(2**63) <= seed < 2**63 else str(seed)


def _seed_out(value: Any) -> int | None:
    return None if value is None else int(value)


def decimate(points: Sequence[tuple[float, float]], cap: int = MAX_POINTS_PER_SERIES) -> list:
    """At most ``cap`` points keeping the curve's shape (spikes, NaN, both ends): the one
    thinner every chart uses too (:func:`tutor.series.decimate`)."""
    return series.decimate(points, cap)


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


class ProgressStore(AnswersMixin):
    """The progress database (answers and predictions: :class:`AnswersMixin`). Safe to share
    between the UI thread and worker threads.

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
            if os.name == "nt":
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
                if app_id != APPLICATION_ID:
                    return "foreign", f"application_id {app_id:#x}, tables {sorted(tables)[:5]}"
                if version > SCHEMA_VERSION:
                    raise ProgressError(
                        f"{self.path} was written by a newer dl-tutor (schema {version}, this "
                        f"version knows {SCHEMA_VERSION}); upgrade dl-tutor or set "
                        "DL_TUTOR_DATA_DIR to use another progress file"
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
            if app_id not in (0, APPLICATION_ID):
                return "foreign", f"application_id {app_id:#x}"
            if version > SCHEMA_VERSION:
                raise ProgressError(f"{self.path} was written by a newer dl-tutor")
            for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in step:
                    conn.execute(statement)
                # PRAGMAs cannot take parameters; both values are our own ints.
                conn.execute(f"PRAGMA user_version = {number:d}")
            if app_id != APPLICATION_ID:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        missing = _TABLES - tables
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

    # ---------------------------------------------------------------- runs

    def record_run(self, result: RunResult, started_at: float | None = None) -> int:
        """Store a finished run; returns its id. ``started_at`` defaults to now - seconds."""
        finished_at = time.time()
        if started_at is None:
            started_at = finished_at - max(0.0, float(result.seconds))
        records: dict[str, Any] = {}
        omitted: list[str] = []
        for name, value in result.records.items():
            text = _dumps(value)
            if len(text) > MAX_RECORD_JSON_CHARS:
                omitted.append(name)
            else:
                records[name] = json.loads(text)
        history = {name: decimate(points) for name, points in result.history.items()}
        row = (
            _text(result.lesson_id),
            float(started_at),
            finished_at,
            _text(result.status),
            int(result.ok),
            _dumps(result.params),
            _seed_in(result.seed),
            _text(result.device),
            _text(result.dataset),
            float(result.seconds),
            _dumps(result.metrics),
            _dumps(history),
            _dumps([c.as_dict() for c in result.checks]),
            None if result.error is None else _text(result.error),
            _dumps(records),
            _dumps(omitted),
        )
        # JSON is encoded before the transaction opens: the write lock is held only for the
        # INSERT itself.
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO runs (lesson_id, started_at, finished_at, status, passed, params,"
                " seed, device, dataset, seconds, metrics, history, checks, error, records,"
                " records_omitted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cur.lastrowid)  # type: ignore[arg-type]

    _RUN_COLUMNS = (
        "id, lesson_id, status, params, seed, device, dataset, seconds, metrics, history,"
        " checks, started_at, finished_at, passed, error, records, records_omitted"
    )

    @staticmethod
    def _run_from_row(row: Sequence[Any]) -> StoredRun:
        return StoredRun(
            id=row[0],
            lesson_id=row[1],
            status=row[2],
            params=json.loads(row[3]),
            seed=_seed_out(row[4]),
            device=row[5],
            dataset=row[6],
            seconds=row[7],
            metrics=json.loads(row[8]),
            history=LazyHistory(row[9]),
            checks=json.loads(row[10]),
            started_at=row[11],
            finished_at=row[12],
            passed=bool(row[13]),
            error=row[14],
            records=json.loads(row[15]),
            records_omitted=tuple(json.loads(row[16])),
        )

    def runs(self, lesson_id: str | None = None, limit: int = 50) -> list[StoredRun]:
        """Newest first (most recently recorded first)."""
        sql = f"SELECT {self._RUN_COLUMNS} FROM runs"
        args: tuple[Any, ...] = ()
        if lesson_id is not None:
            sql += " WHERE lesson_id = ?"
            args = (lesson_id,)
        # id, not a timestamp: ids only grow, the wall clock may jump back.
        sql += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._connection().execute(sql, (*args, int(limit))).fetchall()
        return [self._run_from_row(r) for r in rows]

    def run(self, run_id: int) -> StoredRun | None:
        with self._lock:
            row = (
                self._connection()
                .execute(f"SELECT {self._RUN_COLUMNS} FROM runs WHERE id = ?", (int(run_id),))
                .fetchone()
            )
        return None if row is None else self._run_from_row(row)

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


__all__: list[str] = [
    "APPLICATION_ID",
    "Attempt",
    "LessonSummary",
    "MIGRATIONS",
    "Prediction",
    "QuestionRecord",
    "ProgressError",
    "ProgressStore",
    "SCHEMA_VERSION",
    "StoredRun",
    "decimate",
]
