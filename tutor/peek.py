"""A glance at the progress store's app state (language, last lesson) for the first frame.

The app opens :class:`tutor.progress.ProgressStore` on a worker thread after its first
screen is painted (opening checks, and may repair or migrate, the file). The first screen
wants two of its values before that: which lesson to show and in which language. This reads
them with one plain SQLite query and nothing else (no ``tutor.progress`` import, which
costs the first frame ~10-40 ms): a file that is missing, locked, foreign or damaged gives
no values, and the store's own opening deals with it as always.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

DB_NAME = "progress.sqlite3"  # tutor.progress.DB_NAME (a test checks that they agree)


def store_path() -> Path:
    """Where ``ProgressStore()`` keeps its file."""
    from tutor.paths import data_dir

    return data_dir() / DB_NAME


def peek_state(keys: Iterable[str], path: Path | None = None) -> dict[str, str]:
    """The values of ``keys`` in the store's ``app_state`` ({} for any failure)."""
    path = path if path is not None else store_path()
    keys = list(keys)
    if not keys or not os.path.isfile(path):  # never create a store: ProgressStore does
        return {}
    try:
        # Read-only, and without waiting: a writer holding the file for longer than this is
        # rare, and the store's opening reads the same values a moment later anyway.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.05)
        try:
            marks = ", ".join("?" * len(keys))
            rows = conn.execute(
                f"SELECT key, value FROM app_state WHERE key IN ({marks})", keys
            ).fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in rows if isinstance(v, str)}
