"""The store's quiz half (tutor/progress/answers.py): attempts, reveals, first-try
correctness, "done" without a reveal, predictions and the learner id; and migration 3."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers import make_result

from tutor import progress
from tutor.progress import APPLICATION_ID, SCHEMA_VERSION, ProgressStore


@pytest.fixture
def store(tmp_path: Path) -> ProgressStore:
    with ProgressStore(tmp_path / "p.sqlite3") as s:
        yield s


def test_attempts_reveals_and_first_try(store: ProgressStore) -> None:
    store.record_answer("l", "q1", "7", "wrong")
    store.record_answer("l", "q1", "x", "invalid")  # not an attempt
    store.record_answer("l", "q1", "2", "correct")
    store.record_answer("l", "q2", "1", "correct")
    store.record_answer("l", "q3", "1", "wrong")
    store.record_answer("l", "q3", "1", "wrong", revealed=True)  # 2nd wrong: value shown
    store.record_answer("l", "q3", "2", "correct")  # copied back: does not count
    store.record_reveal("l", "q4")
    r = store.question_records("l")
    assert (r["q1"].attempts, r["q1"].first_try, r["q1"].earned, r["q1"].revealed) == (
        2,
        False,
        True,
        False,
    )
    assert (r["q2"].first_try, r["q2"].earned) == (True, True)
    assert (r["q3"].revealed, r["q3"].earned, r["q3"].wrong_since_correct) == (True, False, 0)
    assert (r["q4"].revealed, r["q4"].earned, r["q4"].attempts, r["q4"].latest) == (
        True,
        False,
        0,
        "revealed",
    )
    attempts = [
        row[0]
        for row in store._connection().execute(
            "SELECT attempt FROM answers WHERE question_id = 'q1' ORDER BY id"
        )
    ]
    assert attempts == [1, 1, 2]  # the invalid answer is not counted


def test_wrong_since_correct_counts_across_store_reopens(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite3"
    with ProgressStore(db) as s:
        s.record_answer("l", "q", "1", "wrong")
    with ProgressStore(db) as s:
        assert s.question_records("l")["q"].wrong_since_correct == 1
        s.record_answer("l", "q", "2", "correct")
        assert s.question_records("l")["q"].wrong_since_correct == 0


def test_done_needs_every_question_right_before_a_reveal(store: ProgressStore) -> None:
    qs = ["q1", "q2"]
    store.record_run(make_result("l"))
    store.record_answer("l", "q1", "1", "wrong")
    store.record_answer("l", "q1", "2", "correct")  # after a hint: counts
    store.record_reveal("l", "q2")
    store.record_answer("l", "q2", "2", "correct")  # after the reveal: does not count
    assert store.lesson_status("l", 2, qs) == "started"
    (row,) = store.summary([("l", "L", qs)])
    assert (row.status, row.questions_correct, row.questions_first_try) == ("started", 1, 0)
    assert row.questions_revealed == 1
    store.record_run(make_result("m"))
    store.record_answer("m", "q1", "1", "correct")
    store.record_answer("m", "q2", "1", "wrong")
    store.record_answer("m", "q2", "2", "correct")
    (row,) = store.summary([("m", "M", qs)])
    assert (row.status, row.questions_correct, row.questions_first_try) == ("done", 2, 1)
    assert store.lesson_status("m", 2, qs) == "done"


def test_predictions_are_graded_against_the_first_run_started_after_them(
    store: ProgressStore,
) -> None:
    early = store.record_run(make_result("l"), started_at=50.0)
    p = store.record_prediction("l", "q", "b", at=100.0)
    assert store.pending_predictions("l") == []  # run 'early' started before it
    store.record_run(make_result("l", status="cancelled"), started_at=150.0)  # not completed
    target = store.record_run(make_result("l"), started_at=200.0)
    store.record_run(make_result("l"), started_at=300.0)
    ((pending, run),) = store.pending_predictions("l")
    assert (pending.id, pending.at, run.id) == (p.id, 100.0, target)
    assert run.id != early
    store.record_answer("l", "q", "b", "correct", run_id=run.id, prediction_id=p.id)
    assert store.pending_predictions("l") == []  # graded once
    assert store.predictions("l")[0].graded


def test_the_latest_prediction_before_a_run_counts(store: ProgressStore) -> None:
    store.record_prediction("l", "q", "a", at=100.0)
    second = store.record_prediction("l", "q", "b", at=110.0)
    store.record_run(make_result("l"), started_at=200.0)
    ((pending, _run),) = store.pending_predictions("l")
    assert pending.id == second.id and pending.answer == "b"


def test_learner_id_is_made_once(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite3"
    with ProgressStore(db) as s:
        first = s.learner_id()
        assert len(first) == 16 and s.learner_id() == first
    with ProgressStore(db) as s:
        assert s.learner_id() == first
        s.reset()  # progress, not the learner
        assert s.learner_id() == first
    with ProgressStore(tmp_path / "other.sqlite3") as s:
        assert s.learner_id() != first


def test_version_2_database_is_migrated(tmp_path: Path) -> None:
    # Version 2 as released (test_progress checks step 1 against a spelled-out copy).
    db = tmp_path / "p.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    for step in progress.MIGRATIONS[:2]:
        for statement in step:
            conn.execute(statement)
    conn.execute(
        "INSERT INTO answers (lesson_id, question_id, answer, status, at)"
        " VALUES ('l', 'q1', '(10, 2)', 'correct', 11.0)"
    )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 2")
    conn.close()
    with ProgressStore(db) as s:
        assert s.recovered_message is None
        assert s._connection().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        old = s.question_records("l")["q1"]
        assert (old.earned, old.first_try, old.revealed) == (True, True, False)
        s.record_run(make_result("l"))
        assert s.lesson_status("l", 1, ["q1"]) == "done"
        s.record_prediction("l", "q2", "a")  # the table migration 3 adds
        s.record_answer("l", "q2", "a", "wrong", revealed=True, run_id=1, prediction_id=1)
        assert s.question_records("l")["q2"].revealed
