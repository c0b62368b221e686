"""``dl-tutor`` when the progress file cannot be used (#19): one line naming the file and
what to do, exit 1, never a traceback; and a finished run is never lost (kept as a pending
file, stored at the next start that can write)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers import BARE_YAML, write_lesson

from tutor import cli, progress
from tutor.events import CheckResult, RunResult
from tutor.progress import ProgressError, ProgressStore
from tutor.progress import pending as pending_runs

CODE = """
def train(ctx):
    for epoch in range(1, ctx.params.epochs + 1):
        ctx.report_epoch(epoch, train_loss=1.0 / epoch)
    ctx.record("answer", "forty-two")
"""


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DL_TUTOR_OFFLINE", "1")
    monkeypatch.setenv("DL_TUTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DL_TUTOR_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "tmp").mkdir()  # the last place for pending runs
    monkeypatch.setattr(pending_runs.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))


@pytest.fixture
def lessons(tmp_path: Path) -> Path:
    root = tmp_path / "lessons"
    write_lesson(root, "fast", yaml=BARE_YAML.format(id="fast"), code=CODE)
    return root


def cli_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def newer_database(tmp_path: Path) -> Path:
    path = tmp_path / "data" / progress.DB_NAME
    ProgressStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {progress.SCHEMA_VERSION + 1}")
    conn.close()
    return path


def pending_files(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.rglob("pending-runs/*.json"))


def stored(lesson: str = "fast") -> list[str]:
    with ProgressStore() as store:
        return [r.status for r in store.runs(lesson)]


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_a_newer_database_is_one_line_and_the_run_is_kept_then_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lessons: Path
) -> None:
    path = newer_database(tmp_path)
    for argv in (["progress"], ["runs", "gradient-descent"], ["reset", "--yes"]):
        code, out, err = cli_run(capsys, *argv)
        line = one_line(err)
        assert code == 1 and out == ""
        assert str(path) in line and "newer dl-tutor" in line and "upgrade" in line

    code, out, err = cli_run(capsys, "--lessons", str(lessons), "run", "fast")
    assert code == 1 and "status   completed" in out  # the summary, then one line
    line = one_line(err)
    [kept] = pending_files(tmp_path)
    assert str(path) in line and f"kept in {kept}" in line

    path.unlink()  # the learner upgrades (here: starts over): the next start stores it
    code, out, err = cli_run(capsys, "--lessons", str(lessons), "runs", "fast", "--json")
    assert code == 0 and "stored 1 run kept from before" in err
    assert '"status": "completed"' in out and pending_files(tmp_path) == []
    with ProgressStore() as store:
        [run] = store.runs("fast")
    assert run.records == {"answer": "forty-two"} and run.params["epochs"] == 2


def test_a_locked_database_is_read_only_for_progress_and_keeps_the_run(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    lessons: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress.store, "BUSY_TIMEOUT_MS", 50)  # instead of waiting 5 s
    path = tmp_path / "data" / progress.DB_NAME
    ProgressStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, for good
    try:
        code, out, err = cli_run(capsys, "--lessons", str(lessons), "run", "fast")
        assert code == 1 and "status   completed" in out
        line = one_line(err)
        assert f"{path} is locked by another process" in line and "kept in" in line
        code, out, err = cli_run(capsys, "progress")
        assert code == 0 and "Gradient descent by hand" in out  # shown read-only
        assert "locked" in one_line(err) and "read-only" in err
        code, _, err = cli_run(capsys, "reset", "--yes")
        assert code == 1 and "locked" in one_line(err)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert cli_run(capsys, "--lessons", str(lessons), "run", "fast")[0] == 0
    assert stored() == ["completed", "completed"]  # the kept one first, then the new one


def test_a_read_only_data_dir_shows_progress_read_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root on CI, where chmod cannot make a directory read-only: the store
    # fails the way SQLite does in one.
    assert cli_run(capsys, "run", "gradient-descent", "--epochs", "2")[0] == 1
    capsys.readouterr()

    def readonly(self: ProgressStore, kind: str = "") -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(ProgressStore, "_migrate", readonly)
    code, out, err = cli_run(capsys, "runs", "gradient-descent")
    assert code == 0 and "checks 0/1" in out
    line = one_line(err)
    assert "cannot be written" in line and "DL_TUTOR_DATA_DIR" in line
    assert "shown read-only" in line


def test_open_readonly_reads_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    with ProgressStore(path) as store:
        store.set_state("lang", "zh")
    with ProgressStore.open_readonly(path) as store:
        assert store.get_state("lang") == "zh"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.set_state("lang", "en")
    newer = newer_database(tmp_path)
    with pytest.raises(ProgressError, match="newer dl-tutor"):
        ProgressStore.open_readonly(newer)


def test_a_data_dir_that_is_a_file_keeps_the_run_in_the_cache_dir(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    lessons: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "data").write_text("not a directory")
    code, _, err = cli_run(capsys, "progress")
    line = one_line(err)
    assert code == 1 and f"{tmp_path / 'data'} is not a directory" in line
    code, _, err = cli_run(capsys, "--lessons", str(lessons), "run", "fast")
    assert code == 1
    [kept] = pending_files(tmp_path)
    assert kept.parent == tmp_path / "cache" / "pending-runs" and f"kept in {kept}" in err

    monkeypatch.setenv("DL_TUTOR_DATA_DIR", str(tmp_path / "data2"))  # the learner fixes it
    assert cli_run(capsys, "--lessons", str(lessons), "progress")[0] == 0
    assert stored() == ["completed"] and pending_files(tmp_path) == []


def test_a_full_disk_says_so_and_keeps_the_run(
    capsys: pytest.CaptureFixture[str], lessons: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: ProgressStore, *args: object, **kwargs: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ProgressStore, "record_run", full)
    code, _, err = cli_run(capsys, "--lessons", str(lessons), "run", "fast")
    assert code == 1
    assert "is full; free some space" in one_line(err) and "kept in" in err


def test_when_no_place_can_be_written_the_line_still_says_why(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    lessons: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("data", "cache", "tmp"):
        if (tmp_path / name).is_dir():
            (tmp_path / name).rmdir()
        (tmp_path / name).write_text("a file")
    code, _, err = cli_run(capsys, "--lessons", str(lessons), "run", "fast")
    assert code == 1
    assert "is not a directory" in one_line(err) and "nor keep it aside" in err


def _result(lesson: str = "x") -> RunResult:
    return RunResult(
        lesson_id=lesson,
        status="completed",
        params={"epochs": 2},
        seed=None,
        device="cpu",
        dataset="toy",
        seconds=1.5,
        metrics={"loss": float("nan")},
        history={"loss": [(1.0, 0.5), (2.0, float("nan"))]},
        records={"v": [1, 2]},
        checks=[CheckResult("c", True, 1.0, "<= 2")],
    )


def test_pending_runs_round_trip_and_are_stored_once(tmp_path: Path) -> None:
    first = pending_runs.keep_run(_result(), started_at=100.0)
    pending_runs.keep_run(_result("y"))
    (first.parent / "broken.json").write_text("{not json")
    with ProgressStore(tmp_path / "p.sqlite3") as store:
        count, problems = pending_runs.store_pending_runs(store)
        assert count == 2 and len(problems) == 1 and "broken.json" in problems[0]
        assert pending_runs.store_pending_runs(store) == (0, [])  # nothing stored twice
        [x] = store.runs("x")
        assert x.started_at == 100.0 and x.passed and x.records == {"v": [1, 2]}
        assert x.history["loss"][0] == (1.0, 0.5)
    assert (first.parent / "broken.json.unreadable").exists()


def test_a_claim_left_by_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    kept = pending_runs.keep_run(_result())
    kept.rename(kept.with_name(f"{kept.name}.claim-999999999"))  # no such process
    with ProgressStore(tmp_path / "p.sqlite3") as store:
        assert pending_runs.store_pending_runs(store)[0] == 1


def test_explain_names_the_file_and_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "data" / "progress.sqlite3"
    cases = {
        sqlite3.OperationalError("database is locked"): "locked by another process",
        sqlite3.OperationalError("attempt to write a readonly database"): "cannot be written",
        PermissionError(13, "Permission denied"): "cannot be written",
        sqlite3.OperationalError("database or disk is full"): "is full",
        OSError(28, "No space left on device"): "is full",
        FileExistsError(17, "File exists"): "is not a directory",
        sqlite3.DatabaseError("something else"): "database error",
    }
    for exc, words in cases.items():
        line = pending_runs.explain(exc, path)
        assert words in line and str(path.parent) in line and "\n" not in line
