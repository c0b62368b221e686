"""The progress store: round trips, durability under kill -9, concurrent writers,
recovery from corrupt or foreign files, schema migrations.

No test sleeps to synchronise: subprocesses are driven by the lines they print and the
lines we send, threads by barriers.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import typing
from pathlib import Path
from typing import Any

import pytest
from helpers import make_result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutor import progress
from tutor.progress import (
    APPLICATION_ID,
    MAX_POINTS_PER_SERIES,
    SCHEMA_VERSION,
    ProgressError,
    ProgressStore,
    decimate,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "progress.sqlite3"


@pytest.fixture
def store(db: Path) -> typing.Iterator[ProgressStore]:
    with ProgressStore(db) as s:
        yield s


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


# --------------------------------------------------------------------------- basics


def test_default_location_follows_env_and_creates_dirs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DL_TUTOR_DATA_DIR", str(tmp_path / "a" / "b"))
    with ProgressStore() as s:
        assert s.path == tmp_path / "a" / "b" / "progress.sqlite3"
        assert s.path.is_file()
        assert s.recovered_message is None


def test_pragmas(store: ProgressStore) -> None:
    conn = store._conn
    assert conn is not None
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_run_round_trip(store: ProgressStore) -> None:
    result = make_result(error=None, seed=7)
    run_id = store.record_run(result, started_at=1000.0)
    got = store.run(run_id)
    assert got is not None
    assert got.id == run_id
    assert got.lesson_id == "tensors"
    assert got.status == "completed"
    assert got.params == result.params
    assert got.seed == 7
    assert got.device == "cpu"
    assert got.dataset == result.dataset
    assert got.seconds == 1.5
    assert got.metrics == result.metrics
    assert got.history == result.history  # tuples come back as tuples
    assert got.checks == [c.as_dict() for c in result.checks]
    assert got.started_at == 1000.0
    assert got.finished_at >= got.started_at
    assert got.passed is True
    assert got.records == result.records
    assert store.run(run_id + 1000) is None


def test_started_at_defaults_to_finish_minus_seconds(store: ProgressStore) -> None:
    got = store.run(store.record_run(make_result(seconds=30.0)))
    assert got is not None
    assert got.finished_at - got.started_at == pytest.approx(30.0)


def test_stored_run_grades_like_the_original(store: ProgressStore) -> None:
    from tutor import quiz

    result = make_result()
    got = store.run(store.record_run(result))
    assert got is not None
    assert quiz.run_values(got.to_result()) == quiz.run_values(result)


def test_failed_and_diverged_runs_keep_error_and_non_finite_metrics(store: ProgressStore) -> None:
    result = make_result(
        status="diverged",
        metrics={"loss": math.nan, "grad": math.inf, "low": -math.inf},
        history={"loss": [(1.0, 0.5), (2.0, math.nan)]},
        error="loss became nan at step 2",
    )
    got = store.run(store.record_run(result))
    assert got is not None
    assert got.status == "diverged" and got.passed is False
    assert math.isnan(got.metrics["loss"]) and got.metrics["grad"] == math.inf
    assert got.metrics["low"] == -math.inf
    assert math.isnan(got.history["loss"][1][1])
    assert got.error == "loss became nan at step 2"


def test_big_seed_odd_text_and_oversized_records(store: ProgressStore) -> None:
    big = {"weights": [[0.123456789] * 100] * 100}
    result = make_result(
        lesson_id="l\ud800x",  # a lone surrogate from a bad paste must not break the write
        seed=2**64 - 1,  # torch accepts uint64 seeds; SQLite integers are int64
        records={"small": 1, "huge": big, "tuple": (1, 2), "aset": {3}},
    )
    got = store.run(store.record_run(result))
    assert got is not None
    assert got.seed == 2**64 - 1
    assert got.lesson_id == "l\ufffdx"
    assert got.records == {"small": 1, "tuple": [1, 2], "aset": [3]}
    assert got.records_omitted == ("huge",)


def test_runs_newest_first_filter_and_limit(store: ProgressStore) -> None:
    ids = [store.record_run(make_result("a" if i % 2 else "b", seed=i)) for i in range(6)]
    assert [r.id for r in store.runs()] == ids[::-1]
    assert [r.id for r in store.runs("a")] == [ids[5], ids[3], ids[1]]
    assert [r.id for r in store.runs(limit=2)] == [ids[5], ids[4]]
    assert store.runs("nobody") == []


def test_answers_latest_wins(store: ProgressStore) -> None:
    store.record_answer("l", "q1", "(10, 2)", "wrong")
    store.record_answer("l", "q1", "(10,2)", "correct")
    store.record_answer("l", "q2", "b", "correct")
    store.record_answer("l", "q2", "zz", "invalid")
    store.record_answer("other", "q1", "x", "wrong")
    assert store.answers("l") == {"q1": "correct", "q2": "invalid"}
    assert store.answers("none") == {}
    with pytest.raises(ValueError):
        store.record_answer("l", "q1", "x", "maybe")


def test_answer_statuses_match_quiz_verdicts() -> None:
    from tutor import quiz

    # A refused (too-late) prediction is the one verdict that is not stored as an answer.
    stored = set(typing.get_args(quiz.VerdictStatus)) - {"too-late"}
    assert stored == set(progress.ANSWER_STATUSES)


def test_attempts_round_trip_newest_first(store: ProgressStore) -> None:
    a = store.record_attempt("l", "relu", "failed", "expected 0 at -1")
    b = store.record_attempt("l", "relu", "passed")
    store.record_attempt("m", "x", "error", "SyntaxError")
    got = store.attempts("l")
    assert [x.id for x in got] == [b, a]
    assert (got[1].exercise, got[1].outcome, got[1].message) == (
        "relu",
        "failed",
        "expected 0 at -1",
    )
    assert got[0].message == ""
    with pytest.raises(ValueError):
        store.record_attempt("l", "relu", "meh")


def test_state_round_trip_and_persistence(db: Path) -> None:
    with ProgressStore(db) as s:
        assert s.get_state("lang") is None
        assert s.get_state("lang", "en") == "en"
        s.set_state("lang", "zh")
        s.set_state("lang", "en")
        s.set_state("last_lesson", "tensors")
        s.record_run(make_result())
    with ProgressStore(db) as s:
        assert s.get_state("lang") == "en"
        assert s.get_state("last_lesson") == "tensors"
        assert len(s.runs()) == 1
        s.set_state("last_lesson", None)
        assert s.get_state("last_lesson", "gone") == "gone"


def test_reset_one_and_all(store: ProgressStore) -> None:
    for lesson in ("a", "b"):
        store.record_run(make_result(lesson))
        store.record_answer(lesson, "q", "1", "correct")
        store.record_attempt(lesson, "ex", "passed")
    store.set_state("lang", "zh")
    store.reset("a")
    assert store.runs("a") == [] and store.answers("a") == {} and store.attempts("a") == []
    assert len(store.runs("b")) == 1 and store.answers("b") and store.attempts("b")
    store.reset()
    assert store.runs() == [] and store.answers("b") == {} and store.attempts("b") == []
    assert store.get_state("lang") == "zh"  # a preference, not progress


def test_lesson_status(store: ProgressStore) -> None:
    qs = ["q1", "q2"]
    assert store.lesson_status("l", 2, qs) == "new"
    store.record_attempt("l", "ex", "failed")
    assert store.lesson_status("l", 2, qs) == "started"
    store.record_run(make_result("l", checks_pass=False))
    store.record_run(make_result("l", status="cancelled"))
    store.record_answer("l", "q1", "1", "correct")
    store.record_answer("l", "q2", "1", "correct")
    assert store.lesson_status("l", 2, qs) == "started"  # no run passed its checks yet
    store.record_run(make_result("l"))
    assert store.lesson_status("l", 2, qs) == "done"
    assert store.lesson_status("l", 2) == "done"  # counting form
    assert store.lesson_status("l", 3) == "started"
    store.record_answer("l", "q2", "2", "wrong")  # the latest answer counts
    assert store.lesson_status("l", 2, qs) == "started"
    # an answer alone starts a lesson
    store.record_answer("m", "q1", "x", "wrong")
    assert store.lesson_status("m", 1, ["q1"]) == "started"
    # no questions: a passing run is enough
    store.record_run(make_result("n"))
    assert store.lesson_status("n", 0, []) == "done"


def test_summary(store: ProgressStore) -> None:
    store.record_run(make_result("a", checks_pass=False))
    store.record_run(make_result("a"))
    store.record_run(make_result("a", status="failed"))
    store.record_answer("a", "q1", "1", "correct")
    store.record_answer("a", "q2", "1", "correct")
    store.record_attempt("a", "e1", "failed")
    store.record_attempt("a", "e1", "passed")
    store.record_attempt("a", "e2", "error")
    store.record_answer("b", "q1", "1", "wrong")
    rows = store.summary([("a", "Alpha", ["q1", "q2"]), ("b", "Beta", ["q1"]), ("c", "Gamma", [])])
    a, b, c = rows
    assert (a.lesson_id, a.title, a.status) == ("a", "Alpha", "done")
    assert (a.runs, a.last_run_status, a.passed_run) == (3, "failed", True)
    assert a.last_run_at is not None
    assert (a.questions_correct, a.questions) == (2, 2)
    assert (a.exercises_passed, a.exercises_tried) == (1, 2)
    assert (b.status, b.runs, b.last_run_status, b.questions_correct) == ("started", 0, None, 0)
    assert (c.status, c.runs, c.questions) == ("new", 0, 0)
    # summary and lesson_status agree
    for row, qs in zip(rows, (["q1", "q2"], ["q1"], []), strict=True):
        assert row.status == store.lesson_status(row.lesson_id, len(qs), qs)


def test_closed_store_refuses(db: Path) -> None:
    s = ProgressStore(db)
    s.close()
    s.close()  # idempotent
    with pytest.raises(ProgressError):
        s.runs()


# --------------------------------------------------------------------------- decimation


def test_decimate_caps_keeps_ends_spikes_and_order() -> None:
    n = 100_000
    points = [(float(i), 1.0 / (i + 1)) for i in range(n)]
    points[54_321] = (54_321.0, 99.0)  # a one-step spike
    points[77_777] = (77_777.0, math.nan)  # the step where it diverged
    out = decimate(points)
    assert len(out) <= MAX_POINTS_PER_SERIES
    assert out[0] == points[0] and out[-1] == points[-1]
    assert (54_321.0, 99.0) in out
    assert any(x == 77_777.0 and math.isnan(y) for x, y in out)
    xs = [x for x, _ in out]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    short = points[:MAX_POINTS_PER_SERIES]
    assert decimate(short) == short


def test_record_run_decimates_long_series(store: ProgressStore) -> None:
    history = {
        "loss": [(float(i), float(i % 7)) for i in range(50_000)],
        "test_acc": [(1.0, 0.5), (2.0, 0.7)],
    }
    got = store.run(store.record_run(make_result(history=history)))
    assert got is not None
    assert len(got.history["loss"]) <= MAX_POINTS_PER_SERIES
    assert got.history["loss"][-1] == (49_999.0, float(49_999 % 7))
    assert got.history["test_acc"] == history["test_acc"]


# --------------------------------------------------------------------------- property


json_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _utf8_safe(text: str) -> str:
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(st.text(), json_value, max_size=6),
    metrics=st.dictionaries(st.text(), st.floats(allow_nan=False) | st.integers(), max_size=6),
    records=st.dictionaries(st.text(), json_value, max_size=4),
    seed=st.none() | st.integers(min_value=-(2**70), max_value=2**70),
    answer=st.text(),
)
def test_property_json_values_round_trip(
    store: ProgressStore,
    params: dict[str, Any],
    metrics: dict[str, Any],
    records: dict[str, Any],
    seed: int | None,
    answer: str,
) -> None:
    run_id = store.record_run(
        make_result("prop", params=params, metrics=metrics, records=records, seed=seed)
    )
    got = store.run(run_id)
    assert got is not None
    assert got.params == params
    assert got.metrics == metrics
    assert got.records == records
    assert got.seed == seed
    # the int/float distinction survives (1 stays 1, 1.0 stays 1.0)
    assert [type(v) for v in got.metrics.values()] == [type(v) for v in metrics.values()]
    answer_id = store.record_answer("prop", "q", answer, "wrong")
    assert store._conn is not None
    stored = store._conn.execute("SELECT answer FROM answers WHERE id = ?", (answer_id,))
    assert stored.fetchone()[0] == _utf8_safe(answer)


# --------------------------------------------------------------------------- kill -9

KILL_CHILD = r"""
import sys
from tutor.events import CheckResult, RunResult
from tutor.progress import ProgressStore

store = ProgressStore(sys.argv[1])
# Checkpoint after every couple of pages, so some kills land in the middle of a checkpoint
# (copying the WAL into the main file) and not only in the middle of a commit.
store._conn.execute("PRAGMA wal_autocheckpoint = 2")
# A long series makes each run a multi-page write, so a kill can land half-way through it.
# Under the decimation cap, so most of each iteration is spent inside the transaction.
history = {"loss": [(float(s), 1.0 / (s + 1)) for s in range(1500)]}
i = 0
while True:
    run_id = store.record_run(RunResult(
        lesson_id="k", status="completed", params={"i": i}, seed=i, device="cpu",
        dataset="d", seconds=0.1, metrics={"loss": 1.0 / (i + 1)}, history=history,
        records={"i": i}, checks=[CheckResult("c", True, i, "== i")],
    ))
    print("run", run_id, i, flush=True)
    answer_id = store.record_answer("k", "q%d" % i, str(i), "correct")
    print("answer", answer_id, i, flush=True)
    i += 1
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("after_lines", [1, 17, 50])
def test_kill_9_loses_nothing_committed(tmp_path: Path, after_lines: int) -> None:
    db = tmp_path / "progress.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_CHILD, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=REPO,
    )
    try:
        lines: list[str] = []
        assert proc.stdout is not None
        while len(lines) < after_lines:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"child ended early: {proc.stderr.read() if proc.stderr else ''}")
            lines.append(line)
        # The child is still writing flat out: the kill lands wherever it happens to be.
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL  # it was killed, it did not finish
        lines += proc.stdout.readlines()  # everything it reported before it died
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()

    reported: dict[str, dict[int, int]] = {"run": {}, "answer": {}}
    for line in lines:
        if line.endswith("\n"):
            kind, row_id, i = line.split()
            reported[kind][int(row_id)] = int(i)
    assert len(reported["run"]) >= (after_lines + 1) // 2

    with ProgressStore(db) as store:
        assert store.recovered_message is None  # nothing looked corrupt
        assert store._conn is not None
        assert store._conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        runs = {r.id: r for r in store.runs("k", limit=10_000)}
        answers = dict(
            store._conn.execute("SELECT id, answer FROM answers WHERE lesson_id = 'k'").fetchall()
        )
    # every id the child saw committed is there, with the content it wrote
    for run_id, i in reported["run"].items():
        assert run_id in runs
        assert runs[run_id].params == {"i": i} and runs[run_id].records == {"i": i}
    for answer_id, i in reported["answer"].items():
        assert answers[answer_id] == str(i)
    # at most the one in-flight write committed without being reported
    unreported = (set(runs) - set(reported["run"])) | (set(answers) - set(reported["answer"]))
    assert len(unreported) <= 1
    # and nothing is half-written: every stored run decodes completely
    for run in runs.values():
        assert len(run.history["loss"]) == 1500
        assert run.checks[0]["value"] == run.params["i"] == run.seed


# --------------------------------------------------------------------------- concurrency

WRITER_CHILD = r"""
import sys
from tutor.events import RunResult
from tutor.progress import ProgressStore

path, lesson, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with ProgressStore(path) as store:
    print("ready", flush=True)
    sys.stdin.readline()  # "go"
    for i in range(n):
        store.record_run(RunResult(
            lesson_id=lesson, status="completed", params={"i": i}, seed=i, device="cpu",
            dataset="d", seconds=0.0, metrics={}, history={}, records={}, checks=[],
        ))
        store.record_answer(lesson, "q%d" % i, str(i), "correct")
print("done", flush=True)
"""


def test_concurrent_writers_lose_no_update(db: Path) -> None:
    n = 25
    ProgressStore(db).close()  # created up front; creation races have their own test
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER_CHILD, str(db), "child", str(n)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=REPO,
    )
    own_a, own_b, shared = ProgressStore(db), ProgressStore(db), ProgressStore(db)
    writers = [("own-a", own_a), ("own-b", own_b), ("shared-1", shared), ("shared-2", shared)]
    start = threading.Barrier(len(writers) + 1)
    errors: list[BaseException] = []

    def write(lesson: str, s: ProgressStore) -> None:
        try:
            start.wait()
            for i in range(n):
                s.record_run(make_result(lesson, params={"i": i}))
                s.record_answer(lesson, f"q{i}", str(i), "correct")
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=w) for w in writers]
    for t in threads:
        t.start()
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline() == "ready\n", proc.stderr.read() if proc.stderr else ""
        proc.stdin.write("go\n")
        proc.stdin.flush()
        start.wait()  # release the threads as the child starts writing
        for t in threads:
            t.join(timeout=60)
        assert proc.stdout.readline() == "done\n", proc.stderr.read() if proc.stderr else ""
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream:
                stream.close()
        for s in (own_a, own_b, shared):
            s.close()
    assert errors == []

    with ProgressStore(db) as store:
        assert store._conn is not None
        lessons = ["child", *(name for name, _ in writers)]
        for lesson in lessons:
            assert len(store.runs(lesson, limit=10_000)) == n
            assert len(store.answers(lesson)) == n
        total = store._conn.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM runs").fetchone()
        assert total == (n * len(lessons), n * len(lessons))
        assert store._conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_concurrent_first_open_creates_once(db: Path) -> None:
    db.parent.mkdir(parents=True)
    k = 6
    start = threading.Barrier(k)
    stores: list[ProgressStore] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            start.wait()
            stores.append(ProgressStore(db))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == [] and len(stores) == k
        assert all(s.recovered_message is None for s in stores)
        assert not list(db.parent.glob("*.corrupt-*")) and not list(db.parent.glob("*.foreign-*"))
        ids = [s.record_run(make_result(f"l{i}")) for i, s in enumerate(stores)]
        assert len(set(ids)) == k
        assert len(stores[0].runs()) == k
    finally:
        for s in stores:
            s.close()


# --------------------------------------------------------------------------- recovery


def _random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(0).randbytes(8192))


def _text_file(path: Path) -> None:
    path.write_text("lesson,score\ntensors,1\n")


def _truncated_db(path: Path) -> None:
    with ProgressStore(path) as s:
        for i in range(40):
            s.record_run(make_result(history={"loss": [(float(j), 1.0) for j in range(500)]}))
            s.record_answer("l", f"q{i}", "1", "correct")
    data = path.read_bytes()
    assert len(data) > 16 * 4096
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("make_bad", [_random_bytes, _text_file, _truncated_db])
def test_corrupt_file_is_moved_aside(db: Path, make_bad) -> None:
    db.parent.mkdir(parents=True)
    make_bad(db)
    original = db.read_bytes()
    with ProgressStore(db) as s:
        assert s.recovered_message is not None
        assert "moved" in s.recovered_message and str(db) in s.recovered_message
        assert s.moved_to is not None and s.moved_to.name in s.recovered_message
        assert s.moved_to.name.startswith("progress.sqlite3.corrupt-")
        assert s.moved_to.read_bytes() == original  # the learner's bytes are kept
        run_id = s.record_run(make_result())  # the fresh store works
        assert s.run(run_id) is not None
    with ProgressStore(db) as s:
        assert s.recovered_message is None
        assert len(s.runs()) == 1


def test_two_recoveries_in_one_second_keep_both_files(db: Path) -> None:
    db.parent.mkdir(parents=True)
    moved = []
    for text in ("first", "second"):
        db.write_text(text)
        with ProgressStore(db) as s:
            moved.append(s.moved_to)
    assert moved[0] != moved[1]
    assert [m.read_text() for m in moved] == ["first", "second"]


def test_concurrent_opens_of_a_corrupt_file_recover_once(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.write_text("garbage, not a database")
    k = 6
    start = threading.Barrier(k)
    stores: list[ProgressStore] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            start.wait()
            stores.append(ProgressStore(db))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == [] and len(stores) == k
        asides = [p for p in db.parent.iterdir() if ".corrupt-" in p.name]
        assert [p.read_text() for p in asides] == ["garbage, not a database"]
        assert sum(s.recovered_message is not None for s in stores) == 1
        # every store is connected to the same, live file
        for i, s in enumerate(stores):
            s.set_state(f"k{i}", "v")
        assert all(stores[0].get_state(f"k{i}") == "v" for i in range(k))
    finally:
        for s in stores:
            s.close()
    with ProgressStore(db) as s:
        assert s.get_state(f"k{k - 1}") == "v"


def test_empty_file_is_a_new_database_not_corruption(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(b"")
    with ProgressStore(db) as s:
        assert s.recovered_message is None
        s.record_answer("l", "q", "1", "correct")
        assert s.answers("l") == {"q": "correct"}


def test_foreign_database_in_use_is_moved_aside_with_its_wal(db: Path) -> None:
    db.parent.mkdir(parents=True)
    # Another program's database in WAL mode, still open in that program: its latest rows
    # are only in the -wal, and our close does not checkpoint it (we are not the last user).
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("PRAGMA journal_mode = WAL")
    other.execute("PRAGMA wal_autocheckpoint = 0")
    other.execute("CREATE TABLE notes (text TEXT)")
    other.execute("INSERT INTO notes VALUES ('keep me')")
    try:
        with ProgressStore(db) as s:
            assert s.recovered_message is not None and "not a dl-tutor" in s.recovered_message
            assert s.moved_to is not None
            assert s.moved_to.name.startswith("progress.sqlite3.foreign-")
            assert Path(f"{s.moved_to}-wal").is_file()  # the log went with its file
            assert s._conn is not None
            names = {r[0] for r in s._conn.execute("SELECT name FROM sqlite_master")}
            assert "notes" not in names  # the old log was not replayed into the new file
            s.set_state("lang", "en")
    finally:
        other.close()
    aside = sqlite3.connect(s.moved_to)
    try:
        assert aside.execute("SELECT text FROM notes").fetchall() == [("keep me",)]
    finally:
        aside.close()


def test_sqlite_file_with_another_application_id_is_foreign(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA application_id = 1234")
    conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY)")  # our table name, not our file
    conn.commit()
    conn.close()
    original = db.read_bytes()
    with ProgressStore(db) as s:
        assert s.moved_to is not None and ".foreign-" in s.moved_to.name
        # only looked at, never written (not even switched to WAL mode)
        assert s.moved_to.read_bytes() == original


def test_stale_wal_next_to_a_corrupt_file_is_not_replayed(db: Path, tmp_path: Path) -> None:
    import shutil

    db.parent.mkdir(parents=True)
    src = tmp_path / "other.db"
    other = sqlite3.connect(src, isolation_level=None)
    other.execute("PRAGMA journal_mode = WAL")
    other.execute("PRAGMA wal_autocheckpoint = 0")
    other.execute("CREATE TABLE notes (text TEXT)")
    other.execute("INSERT INTO notes VALUES ('old log')")
    shutil.copy(f"{src}-wal", f"{db}-wal")
    other.close()
    db.write_text("not a database")
    # SQLite reads page 1 from the log, so this pair looks like the other program's database;
    # whatever it is judged to be, it must go, and the fresh file must not inherit the log.
    with ProgressStore(db) as s:
        assert s.moved_to is not None and s.moved_to.exists()
        assert s._conn is not None
        names = {r[0] for r in s._conn.execute("SELECT name FROM sqlite_master")}
        assert "notes" not in names and "runs" in names
        assert s._conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]


def test_our_id_without_our_tables_is_corrupt(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.close()
    with ProgressStore(db) as s:
        assert s.moved_to is not None and ".corrupt-" in s.moved_to.name
        assert s.recovered_message is not None and "missing tables" in s.recovered_message


def test_newer_schema_is_refused_not_moved(db: Path) -> None:
    ProgressStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(ProgressError, match="newer dl-tutor"):
        ProgressStore(db)
    assert sorted(p.name for p in db.parent.iterdir()) == ["progress.sqlite3"]


def test_a_locked_database_is_not_mistaken_for_corruption(db: Path, monkeypatch) -> None:
    ProgressStore(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a long write
    monkeypatch.setattr(progress.store, "BUSY_TIMEOUT_MS", 50)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            ProgressStore(db)
        assert not any(".corrupt-" in p.name for p in db.parent.iterdir())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with ProgressStore(db) as s:
        assert s.recovered_message is None


# --------------------------------------------------------------------------- migrations

# Version 1 exactly as the first release wrote it, spelled out here rather than taken from
# progress.MIGRATIONS, so an accidental edit of a released step is caught.
V1_SCHEMA = [
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY, lesson_id TEXT NOT NULL, started_at REAL NOT NULL,
        finished_at REAL NOT NULL, status TEXT NOT NULL, passed INTEGER NOT NULL,
        params TEXT NOT NULL, seed, device TEXT NOT NULL, dataset TEXT NOT NULL,
        seconds REAL NOT NULL, metrics TEXT NOT NULL, history TEXT NOT NULL,
        checks TEXT NOT NULL)""",
    "CREATE INDEX runs_by_lesson ON runs (lesson_id, id)",
    """CREATE TABLE answers (
        id INTEGER PRIMARY KEY, lesson_id TEXT NOT NULL, question_id TEXT NOT NULL,
        answer TEXT NOT NULL, status TEXT NOT NULL, at REAL NOT NULL)""",
    "CREATE INDEX answers_by_question ON answers (lesson_id, question_id, id)",
    "CREATE TABLE app_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
]


def _make_v1(db: Path) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    for statement in V1_SCHEMA:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO runs (lesson_id, started_at, finished_at, status, passed, params, seed,"
        " device, dataset, seconds, metrics, history, checks) VALUES"
        " ('tensors', 10.0, 12.0, 'completed', 1, ?, 3, 'cpu', 'd', 2.0, ?, ?, ?)",
        (
            json.dumps({"lr": 0.1}),
            json.dumps({"loss": 0.1}),
            json.dumps({"loss": [[1, 0.5], [2, 0.1]]}),
            json.dumps([{"name": "c", "passed": True, "value": 1, "expected": "== 1"}]),
        ),
    )
    conn.execute(
        "INSERT INTO answers (lesson_id, question_id, answer, status, at)"
        " VALUES ('tensors', 'q1', '(10, 2)', 'correct', 11.0)"
    )
    conn.execute("INSERT INTO app_state VALUES ('lang', 'zh')")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.close()


def test_version_1_database_is_migrated(db: Path) -> None:
    _make_v1(db)
    with ProgressStore(db) as s:
        assert s.recovered_message is None
        assert s._conn is not None
        assert s._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        (old,) = s.runs()
        assert (old.lesson_id, old.params, old.seed, old.passed) == (
            "tensors",
            {"lr": 0.1},
            3,
            True,
        )
        assert old.history == {"loss": [(1, 0.5), (2, 0.1)]}
        assert old.error is None and old.records == {} and old.records_omitted == ()
        assert s.answers("tensors") == {"q1": "correct"}
        assert s.get_state("lang") == "zh"
        assert s.lesson_status("tensors", 1, ["q1"]) == "done"
        s.record_attempt("tensors", "ex", "passed")  # a table version 2 added
        assert s.attempts("tensors")[0].outcome == "passed"
        new = s.run(s.record_run(make_result(error="boom", status="failed")))
        assert new is not None and new.error == "boom"


def test_failed_migration_leaves_the_old_version_intact(db: Path, monkeypatch) -> None:
    _make_v1(db)
    broken = [*progress.MIGRATIONS, ("CREATE TABLE half_done (x)", "THIS IS NOT SQL")]
    monkeypatch.setattr(progress.migrations, "MIGRATIONS", broken)
    monkeypatch.setattr(progress.migrations, "SCHEMA_VERSION", len(broken))
    with pytest.raises(sqlite3.OperationalError):
        ProgressStore(db)
    conn = sqlite3.connect(db)
    try:
        # steps 2 and 3 ran in one transaction, so neither is visible: still version 1
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "half_done" not in names and "attempts" not in names
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    finally:
        conn.close()
    assert not any(".corrupt-" in p.name or ".foreign-" in p.name for p in db.parent.iterdir())


MIGRATION_KILL_CHILD = r"""
import os, signal, sys
from tutor import progress

path, kill_at = sys.argv[1], int(sys.argv[2])
ticks = 0
migration_started_at = None


def tick():
    # Called by SQLite every VM instruction: a deterministic point inside a statement.
    global ticks
    ticks += 1
    if ticks == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return 0


connect, migrate = progress.ProgressStore._connect, progress.ProgressStore._migrate


def connect_with_handler(self):
    conn = connect(self)
    conn.set_progress_handler(tick, 1)
    return conn


def migrate_marked(self):
    global migration_started_at
    migration_started_at = ticks
    return migrate(self)


progress.ProgressStore._connect = connect_with_handler
progress.ProgressStore._migrate = migrate_marked
progress.ProgressStore(path).close()
print(migration_started_at, ticks, flush=True)
"""


def _run_migration_child(db: Path, kill_at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", MIGRATION_KILL_CHILD, str(db), str(kill_at)],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO,
        timeout=60,
    )


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_9_inside_a_migration_leaves_version_1_intact(tmp_path: Path) -> None:
    # Count SQLite VM instructions in one full upgrade, then kill at points spread over the
    # migration transaction: right after BEGIN, in the middle of the DDL, just before COMMIT.
    calibrate = tmp_path / "calibrate" / "progress.sqlite3"
    _make_v1(calibrate)
    done = _run_migration_child(calibrate, kill_at=0)
    assert done.returncode == 0, done.stderr
    start, total = map(int, done.stdout.split())
    assert total - start > 20
    for fraction in (0.02, 0.5, 0.98):
        kill_at = start + max(1, int((total - start) * fraction))
        db = tmp_path / f"at-{kill_at}" / "progress.sqlite3"
        _make_v1(db)
        killed = _run_migration_child(db, kill_at)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stdout, killed.stderr)
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 1  # all or nothing
            columns = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
            assert "error" not in columns
            assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
        finally:
            conn.close()
        with ProgressStore(db) as s:  # and the next start finishes the upgrade
            assert s.recovered_message is None
            assert len(s.runs()) == 1 and s.answers("tensors") == {"q1": "correct"}
            s.record_attempt("tensors", "ex", "passed")
