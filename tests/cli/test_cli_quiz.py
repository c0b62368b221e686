"""`dl-tutor quiz`: graded from flags (--answer/--reveal/--predict --json) and asked in a plain
terminal; the value only after a second wrong attempt or a reveal, counted in the store."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from helpers import MINIMAL_CODE, make_result, write_lesson

from tutor.cli import main
from tutor.progress import ProgressStore
from tutor.quiz_coach import option_order

QUIZ_YAML = """
id: quizlet
order: 1
title: Quizlet
summary: A lesson for quiz tests.
text: t
code: code.py
hyperparams:
  - {name: epochs, type: int, default: 1, min: 1, max: 5}
quiz:
  - id: num
    kind: number
    prompt: "What does the code record as answer?"
    answer: answer
    tolerance: 0.5
    hint: "Read the ctx.record line."
    explain: "The code records {{ answer }}."
  - id: pick
    kind: choice
    prompt: "Which one?"
    answer: 2
    options: ["red", "green", "blue", "grey"]
  - id: guess
    kind: number
    predict: true
    prompt: "Before you run: what will the answer be?"
    answer: answer
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DL_TUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DL_TUTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DL_TUTOR_OFFLINE", "1")


@pytest.fixture
def lessons(tmp_path: Path) -> Path:
    write_lesson(tmp_path / "lessons", "quizlet", yaml=QUIZ_YAML, code=MINIMAL_CODE)
    return tmp_path / "lessons"


def _store_run(started_at: float | None = None) -> int:
    with ProgressStore() as store:
        result = make_result("quizlet", records={"answer": 42}, params={"epochs": 1})
        return store.record_run(result, started_at=started_at)


def quiz(lessons: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list]:
    code = main(["--lessons", str(lessons), "quiz", "quizlet", *args])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.strip()]


def test_wrong_then_wrong_again_shows_the_value_only_the_second_time(
    lessons: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store_run()
    code, (first,) = quiz(lessons, capsys, "--answer", "num=400", "--json")
    assert code == 1
    assert first["verdict"] == "wrong" and "expected" not in first
    assert first["hint"] == "Read the ctx.record line."
    assert "42" not in json.dumps(first) and "about 10× too high" in first["message"]
    code, (second,) = quiz(lessons, capsys, "--answer", "num=3", "--json")
    assert code == 1
    assert second["verdict"] == "wrong" and second["expected"] == "42 ± 0.5"
    assert second["explain"] == "The code records 42."
    code, (right,) = quiz(lessons, capsys, "--answer", "num=42.2", "--json")
    assert code == 0 and right["verdict"] == "correct" and "expected" not in right


def test_choices_by_the_shown_letter_and_reveal(
    lessons: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ProgressStore() as store:
        order = option_order(store.learner_id(), "quizlet", "pick", 4)
    letter = "abcd"[order.index(2)]  # where "blue" is shown to this learner
    code, (right,) = quiz(lessons, capsys, "--answer", f"pick={letter}", "--json")
    assert code == 0 and right["verdict"] == "correct"  # literal: no run needed
    code, (shown,) = quiz(lessons, capsys, "--reveal", "pick", "--json")
    assert code == 1
    assert shown["verdict"] == "revealed" and shown["expected"] == f"{letter}) blue"
    with ProgressStore() as store:
        assert store.question_records("quizlet")["pick"].revealed


def test_exit_codes_for_usage_errors_and_no_run(
    lessons: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert quiz(lessons, capsys, "--answer", "nope=1")[0] == 2
    assert quiz(lessons, capsys, "--answer", "num")[0] == 2
    assert quiz(lessons, capsys, "--run", "99", "--json")[0] == 2
    assert main(["--lessons", str(lessons), "quiz", "no-such-lesson"]) == 2
    code, (needs,) = quiz(lessons, capsys, "--answer", "num=42", "--json")
    assert code == 1 and needs["verdict"] == "needs-run"


def test_predictions_count_only_before_the_run(
    lessons: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _store_run(started_at=1.0)  # long before any prediction
    code, (late,) = quiz(lessons, capsys, "--predict", "guess=42", "--run", str(old), "--json")
    assert code == 1 and late["verdict"] == "too-late"
    code, (after,) = quiz(lessons, capsys, "--answer", "guess=42", "--json")
    assert code == 1 and after["verdict"] == "too-late" and "prediction" in after["message"]
    code, (unreadable,) = quiz(lessons, capsys, "--predict", "guess=lots", "--json")
    assert code == 1 and unreadable["verdict"] == "invalid"
    assert quiz(lessons, capsys, "--predict", "num=40")[0] == 2  # not a prediction question
    code, (saved,) = quiz(lessons, capsys, "--predict", "guess=40", "--json")
    assert code == 0 and saved["verdict"] == "predicted"
    code, graded = quiz(lessons, capsys, "--json")
    assert (code, graded) == (0, [])  # no run since the prediction: nothing to grade yet
    assert main(["--lessons", str(lessons), "run", "quizlet"]) == 0  # a real run
    capsys.readouterr()
    code, (result,) = quiz(lessons, capsys, "--json")
    assert code == 1 and result["prediction"] is True
    assert result["verdict"] == "wrong" and "too low" in result["message"]
    assert "expected" not in result
    assert quiz(lessons, capsys, "--json") == (0, [])  # graded once


def test_plain_terminal_asks_with_input(
    lessons: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _store_run()
    # num: wrong, then right; pick: reveal; guess (a prediction): skipped.
    monkeypatch.setattr("sys.stdin", io.StringIO("41\n42\n?\n\n"))
    code = main(["--lessons", str(lessons), "quiz", "quizlet"])
    out = capsys.readouterr().out
    assert code == 1  # one revealed
    assert "hint: Read the ctx.record line." in out and "✓ Correct." in out
    assert "→ The answer:" in out and "blue" in out
    assert out.index("✗ Not quite: too low. Try again.") < out.index("✓ Correct.")


def test_progress_shows_first_try(lessons: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _store_run()
    quiz(lessons, capsys, "--answer", "num=42", "--json")
    assert main(["--lessons", str(lessons), "progress", "--json"]) == 0
    rows = {r["lesson_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert (rows["quizlet"]["questions_first_try"], rows["quizlet"]["questions"]) == (1, 3)
    assert main(["--lessons", str(lessons), "progress"]) == 0
    assert "first try" in capsys.readouterr().out
