"""`dl-tutor progress`, `runs` and `reset`, and headless runs saved to the progress store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lesson.loader import load_catalog
from tutor.progress import ProgressStore


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DL_TUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DL_TUTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DL_TUTOR_OFFLINE", "1")


def test_headless_runs_are_stored_and_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "gradient-descent", "--json"]) == 0
    assert main(["run", "gradient-descent", "--epochs", "3", "--json"]) == 1
    capsys.readouterr()
    assert main(["runs", "gradient-descent", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["params"]["epochs"] for r in runs] == [3, 100]  # newest first
    assert [r["passed"] for r in runs] == [False, True]
    assert main(["runs", "gradient-descent"]) == 0
    text = capsys.readouterr().out
    assert "[epochs=3]" in text and "[defaults]" in text


def test_progress_table_and_reset(capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", "gradient-descent", "--json"])
    capsys.readouterr()
    assert main(["progress", "--json"]) == 0
    rows = {r["lesson_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["gradient-descent"]["status"] == "started"  # quiz not answered yet
    assert rows["gradient-descent"]["runs"] == 1
    assert rows["autograd"]["status"] == "new"
    assert main(["progress"]) == 0
    assert "started" in capsys.readouterr().out
    assert main(["reset", "gradient-descent", "--yes"]) == 0
    with ProgressStore() as store:
        assert store.runs("gradient-descent") == []


def test_done_when_checks_pass_and_answers_are_right(capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", "gradient-descent", "--json"])
    with ProgressStore() as store:
        for qid in [q.id for q in load_catalog().get("gradient-descent").lesson.quiz]:
            store.record_answer("gradient-descent", qid, "x", "correct")
    capsys.readouterr()
    main(["progress", "--json"])
    rows = {r["lesson_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["gradient-descent"]["status"] == "done"


def test_reset_without_a_terminal_needs_yes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reset"]) == 2
    assert "--yes" in capsys.readouterr().err


def test_runs_of_unknown_lesson_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "gradient-decent"]) == 2
    assert "did you mean 'gradient-descent'" in capsys.readouterr().err
