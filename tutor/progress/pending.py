"""Finished runs that could not be stored yet, and what to say when the store cannot be used.

A run can finish while the progress file is unusable: locked by another process for longer
than the busy timeout, on a full disk, in a read-only data directory, written by a newer
dl-tutor, or the data directory is a regular file. The run must not be lost, so it is kept
as one JSON file in the first of :func:`pending_dirs` that can be written, and
:func:`store_pending_runs` moves every such file into the store the next time a front end
opens it for writing (the CLI before each command that writes, the app where it opens the
store).

:func:`explain` turns any error from opening or writing the store into one line that names
the file and says what to do. Plain Python (no torch, no Textual), like the store itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor import paths
from tutor.events import CheckResult, RunResult

if TYPE_CHECKING:
    from tutor.progress.store import ProgressStore

PENDING_DIR_NAME = "pending-runs"
_CLAIM = ".claim-"  # <name>.json.claim-<pid>: taken by a process that is storing it


def pending_dirs() -> list[Path]:
    """Where pending runs may be kept, best first: next to the store, then in the cache
    directory, then in the temporary directory (one per user) when both are unusable."""
    dirs = []
    for where in (paths.data_dir, paths.cache_dir):
        try:
            dirs.append(where() / PENDING_DIR_NAME)
        except Exception:  # platformdirs itself failing: try the next place
            continue
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    dirs.append(Path(tempfile.gettempdir()) / f"dl-tutor-{uid}-{PENDING_DIR_NAME}")
    return dirs


# -------------------------------------------------------------------- keeping a run


def result_to_json(result: RunResult, started_at: float | None = None) -> dict[str, Any]:
    # Not dataclasses.asdict: it deep-copies, and records may hold objects it cannot copy.
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    fields["checks"] = [c.as_dict() for c in result.checks]
    finished = time.time()
    return {
        "version": 1,
        "started_at": started_at if started_at is not None else finished - result.seconds,
        "result": fields,
    }


def result_from_json(data: dict[str, Any]) -> tuple[RunResult, float | None]:
    fields = dict(data["result"])
    fields["history"] = {
        name: [(float(p[0]), float(p[1])) for p in points]
        for name, points in fields.get("history", {}).items()
    }
    fields["checks"] = [
        CheckResult(
            name=c.get("name", ""),
            passed=bool(c.get("passed")),
            value=c.get("value"),
            expected=c.get("expected", ""),
            error=c.get("error"),
        )
        for c in fields.get("checks", [])
    ]
    known = {f.name for f in dataclasses.fields(RunResult)}
    started = data.get("started_at")
    return RunResult(**{k: v for k, v in fields.items() if k in known}), started


def keep_run(result: RunResult, started_at: float | None = None) -> Path:
    """Write ``result`` to a pending file and return its path; raises OSError only when no
    place at all can be written (every one of :func:`pending_dirs`)."""
    from tutor.progress.runs import _dumps  # NaN-safe and never fails on odd values

    text = _dumps(result_to_json(result, started_at))
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns()}.json"
    last: OSError | None = None
    for directory in pending_dirs():
        try:
            directory.mkdir(parents=True, exist_ok=True)
            # Written aside, fsynced, then renamed: a pending file is whole or absent.
            tmp = directory / f".{name}.tmp"
            with open(tmp, "w", encoding="ascii") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, directory / name)
            return directory / name
        except OSError as e:
            last = e
            with contextlib.suppress(OSError):
                (directory / f".{name}.tmp").unlink()
    assert last is not None
    raise last


# -------------------------------------------------------------------- storing them later


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours to signal
        return True
    return True


def _claimable(directory: Path) -> list[Path]:
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return []
    found = []
    for path in entries:
        if path.name.endswith(".json"):
            found.append(path)
        elif _CLAIM in path.name:
            # Claimed by a process that died while storing it: take it over.
            pid = path.name.rsplit(_CLAIM, 1)[1]
            if pid.isdigit() and not _alive(int(pid)):
                found.append(path)
    return found


def store_pending_runs(store: ProgressStore) -> tuple[int, list[str]]:
    """Move every pending run into ``store``; returns (how many were stored, problems).

    Each file is first renamed to a claim of this process, so two front ends starting at
    once never store the same run twice. A file that cannot be read as a run is left where
    it is and named in the problems; one the store refuses is put back for the next time.
    """
    stored, problems = 0, []
    for directory in pending_dirs():
        for path in _claimable(directory):
            original = path.with_name(path.name.split(_CLAIM)[0])
            claim = original.with_name(f"{original.name}{_CLAIM}{os.getpid()}")
            try:
                os.replace(path, claim)
            except OSError:  # another process took it first, or the directory is read-only
                continue
            try:
                result, started_at = result_from_json(json.loads(claim.read_text("ascii")))
            except Exception as e:
                os.replace(claim, original.with_name(original.name + ".unreadable"))
                problems.append(f"pending run {original} is unreadable ({e}); left as .unreadable")
                continue
            try:
                store.record_run(result, started_at=started_at)
            except Exception as e:
                os.replace(claim, original)
                problems.append(explain(e, store.path))
                break
            claim.unlink()
            stored += 1
    return stored, problems


# -------------------------------------------------------------------- one line for a person


def explain(exc: BaseException, path: Path | None = None) -> str:
    """What went wrong with the progress file at ``path``, and what to do, in one line."""
    from tutor.progress.model import ProgressError
    from tutor.progress.store import DB_NAME

    path = path or paths.data_dir() / DB_NAME
    text = str(exc)
    low = text.lower()
    if isinstance(exc, ProgressError):
        return text if str(path) in text else f"{path}: {text}"
    code = getattr(exc, "errno", None)
    if isinstance(exc, (NotADirectoryError, FileExistsError)) or code == errno.ENOTDIR:
        return (
            f"the data directory {path.parent} is not a directory (a file is in the way); "
            f"move it away, or set {paths.ENV_DATA_DIR} to another directory"
        )
    if code == errno.ENOSPC or "disk is full" in low:
        return f"the disk holding {path} is full; free some space and run dl-tutor again"
    if "locked" in low or "busy" in low:
        return (
            f"{path} is locked by another process (another dl-tutor?) for more than "
            f"5 s; close it and try again"
        )
    if (
        isinstance(exc, PermissionError)
        or code in (errno.EACCES, errno.EPERM, errno.EROFS)
        or "readonly" in low
        or "read-only" in low
        or "unable to open" in low
    ):
        return (
            f"{path} cannot be written (read-only file or directory {path.parent}); "
            f"fix its permissions, or set {paths.ENV_DATA_DIR} to a writable directory"
        )
    if isinstance(exc, sqlite3.Error):
        return f"{path}: database error ({text}); see docs/progress.md"
    return f"{path}: {type(exc).__name__}: {text}"
