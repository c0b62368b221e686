"""bench/floor_run.py: the minimal Textual app that gives the floor for a run's throughput
in an app trains the lesson's own code in its spare process and shows the result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_floor_app_trains_the_lesson_in_its_spare_and_times_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    import floor_run
    import perf

    monkeypatch.setattr(perf, "READING_SECONDS", 0.0)
    small = {"epochs": 1, "num_examples": 200}
    monkeypatch.setenv(perf.BENCH_PARAMS_ENV, json.dumps(small))
    out = floor_run.child_floor_run("linear-regression-concise")
    assert out["epochs"] == 1
    # Run pressed to result shown holds the spare's own run time, and the UI worked.
    assert 0 < out["run_seconds"] < out["seconds"]
    assert out["ui_cpu_seconds"] > 0
    assert out["rss_mb"] > 100  # this process and the spare, which imported torch
