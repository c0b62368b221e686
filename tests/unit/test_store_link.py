"""The app's store jobs (tutor.ui.store_link): a run the store refuses is kept, never lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers import make_result

from tutor.progress import ProgressError, ProgressStore
from tutor.progress.pending import pending_dirs
from tutor.ui.store_link import record_run


class RefusingStore(ProgressStore):
    def record_run(self, result, started_at=None):  # type: ignore[no-untyped-def, override]
        raise sqlite3.OperationalError("disk I/O error")


def test_a_run_the_store_refuses_is_kept_and_stored_at_the_next_start(tmp_path: Path) -> None:
    result = make_result("kept-lesson")
    with RefusingStore(tmp_path / "bad.sqlite3") as bad:
        with pytest.raises(ProgressError, match="kept in"):
            record_run(result, bad)
    assert list(pending_dirs()[0].glob("*.json"))  # the run is on disk

    from tutor.lesson.catalog import Catalog
    from tutor.ui.store_link import open_store

    good = ProgressStore(tmp_path / "good.sqlite3")
    try:
        opened = open_store(good, Catalog())
        assert opened.store is good
        assert [r.lesson_id for r in good.runs("kept-lesson")] == ["kept-lesson"]
        assert not list(pending_dirs()[0].glob("*.json"))
    finally:
        good.close()
