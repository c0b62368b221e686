"""Run history: storing a finished run and reading runs back; the store's runs half.

A mixin of :class:`tutor.progress.store.ProgressStore` (kept apart, like
:mod:`tutor.progress.answers`, so neither file nor class grows past reading size). A run is
one row; its params, metrics, history, checks and records are JSON text, encoded before the
write transaction opens. The JSON helpers here (:func:`_dumps`) are also what
:mod:`tutor.progress.pending` writes a run with that could not be stored yet.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from tutor import series
from tutor.events import RunResult
from tutor.progress.model import LazyHistory, StoredRun
from tutor.progress.model import clean_text as _text

if TYPE_CHECKING:
    import threading

# Per-step series can have 100k+ points; the chart only needs a few thousand.
MAX_POINTS_PER_SERIES = 2000

# A recorded value bigger than this (as JSON) is not stored; a whole weight matrix does not
# belong in a progress file. Its name is kept in StoredRun.records_omitted.
MAX_RECORD_JSON_CHARS = 64_000

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


class RunsMixin:
    """Recording and reading runs; mixed into ``ProgressStore``."""

    if TYPE_CHECKING:  # provided by ProgressStore
        _lock: threading.RLock

        def _connection(self) -> sqlite3.Connection: ...
        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

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
