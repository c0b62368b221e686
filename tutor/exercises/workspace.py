"""The learner's copy of a lesson's code: ``paths.data_dir() / "workspace" / <lesson id> /
<code file name>``, created from the starter (each exercise's body replaced by a TODO), saved,
reset and watched for saves. The lesson's own file is the reference and is never written to."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tutor import paths
from tutor.lesson.source import starter_code

if TYPE_CHECKING:
    from tutor.lesson.catalog import LoadedLesson


def workspace_file(loaded: LoadedLesson) -> Path:
    """Where the learner's copy of the lesson's code lives (it may not exist yet)."""
    return paths.data_dir() / "workspace" / loaded.id / loaded.code_path.name


def _write_atomically(path: Path, text: str) -> None:
    # A crash mid-write must not leave the learner with half a file; editors watching the
    # file see one change.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def ensure_workspace(loaded: LoadedLesson) -> Path:
    """The learner's file, created from :func:`starter_code` if it does not exist yet."""
    path = workspace_file(loaded)
    if not path.exists():
        _write_atomically(path, starter_code(loaded))
    return path


def save_workspace(loaded: LoadedLesson, text: str) -> Path:
    """Write the learner's file (the app's editor saves here); atomically, like the others."""
    path = workspace_file(loaded)
    _write_atomically(path, text)
    return path


def reset_workspace(loaded: LoadedLesson) -> Path:
    """Put the starter back. The previous file, if it differs, is kept as ``<name>.bak``."""
    path = workspace_file(loaded)
    starter = starter_code(loaded)
    if path.exists():
        old = path.read_text(encoding="utf-8", errors="replace")
        if old != starter:
            _write_atomically(path.with_name(path.name + ".bak"), old)
    _write_atomically(path, starter)
    return path


def watch_changes(
    path: Path,
    *,
    interval: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Yield once each time ``path`` is saved; runs until the caller stops iterating.

    Uses the ``watchfiles`` package when it is installed, else polls the file's size and
    mtime every ``interval`` seconds. The directory is watched, not the file, because many
    editors save by writing a new file and renaming it over the old one.
    """
    try:
        import watchfiles  # type: ignore[import-not-found]
    except ImportError:
        watchfiles = None
    if watchfiles is not None and sleep is time.sleep:
        target = path.resolve()
        for changes in watchfiles.watch(target.parent):
            if any(Path(p).resolve() == target for _, p in changes) and target.exists():
                yield
        return
    last = _stat_key(path)
    while True:
        sleep(interval)
        now = _stat_key(path)
        if now is not None and now != last:  # missing: mid-save (renamed away); wait
            last = now
            yield


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino
