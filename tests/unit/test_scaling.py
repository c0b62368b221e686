"""A long run history stays quick to list (bench/scaling.py measures the curve)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from tutor.events import CheckResult, RunResult
from tutor.progress import LazyHistory, ProgressStore


def cnn_sized_result() -> RunResult:
    """About what a default CNN run stores: 1,250 minibatch losses and two epoch series."""
    loss = [(float(s), 2.3 / (1 + s / 300)) for s in range(1250)]
    epochs = [(float(e), 0.9 + 0.008 * e) for e in range(1, 11)]
    return RunResult(
        lesson_id="cnn",
        status="completed",
        params={"lr": 0.01, "epochs": 10, "seed": 0},
        seed=0,
        device="cpu",
        dataset="d",
        seconds=60.0,
        metrics={"loss": loss[-1][1], "test_acc": epochs[-1][1]},
        history={"loss": loss, "train_loss": epochs, "test_acc": epochs},
        records={"n_params": 8490, "batch_shape": [32, 1, 28, 28]},
        checks=[CheckResult("test accuracy at least 0.95", True, 0.98, "≥ 0.95")],
    )


def test_a_thousand_stored_runs_list_in_under_half_a_second(tmp_path: Path) -> None:
    path = tmp_path / "progress.sqlite3"
    result = cnn_sized_result()
    with ProgressStore(path) as store:
        store.record_run(result)
    conn = sqlite3.connect(path)  # copies of that row, doubled ten times: 1,024 runs
    columns = [r[1] for r in conn.execute("PRAGMA table_info(runs)") if r[1] != "id"]
    names = ", ".join(columns)
    for _ in range(10):
        conn.execute(f"INSERT INTO runs ({names}) SELECT {names} FROM runs")
    conn.commit()
    conn.close()
    with ProgressStore(path) as store:
        start = time.perf_counter()
        runs = store.runs("cnn", limit=1000)
        seconds = time.perf_counter() - start
        assert len(runs) == 1000
        assert seconds < 0.5, f"{seconds:.3f} s to list 1,000 runs"
        # The curves were not decoded to list the runs, and still come back whole when used.
        assert isinstance(runs[0].history, LazyHistory)
        assert runs[0].history == result.history
        assert runs[-1].to_result().history["loss"][:2] == result.history["loss"][:2]


def test_lazy_history_behaves_as_the_mapping_it_replaces() -> None:
    history = LazyHistory(json.dumps({"loss": [[1.0, 2.0], [2.0, 1.5]], "acc": []}))
    assert list(history) == ["loss", "acc"] and len(history) == 2
    assert history["loss"] == [(1.0, 2.0), (2.0, 1.5)]
    assert dict(history.items()) == {"loss": [(1.0, 2.0), (2.0, 1.5)], "acc": []}
    assert history.get("missing") is None and "acc" in history
