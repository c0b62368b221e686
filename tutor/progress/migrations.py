"""The progress file's schema: the steps that build it, one schema version each.

:class:`tutor.progress.store.ProgressStore` runs the steps a file still lacks, all in one
transaction, when it opens the file (``docs/progress.md``, "Migrations"). Plain data: the
store reads these names through the module (``migrations.SCHEMA_VERSION``), so a test can
swap the steps for broken ones in one place.
"""

from __future__ import annotations

# "DLTu" in ASCII. Written into the file header (PRAGMA application_id) so we can tell our
# database from any other SQLite file that happens to sit at our path.
APPLICATION_ID = 0x444C5475

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
# Every table the current schema has; a file missing one is damaged.
TABLES = frozenset({"runs", "answers", "attempts", "app_state", "predictions"})
