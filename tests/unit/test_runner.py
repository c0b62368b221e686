"""The runner core: outcomes, cancellation, divergence, tracebacks, seeds, throttled events."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from helpers import BARE_YAML, MINIMAL_YAML, write_lesson

from tutor import events
from tutor.lesson.loader import load_catalog, load_lesson
from tutor.lesson.params import resolve_params
from tutor.training.runner import run_lesson


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DL_TUTOR_OFFLINE", "1")
    monkeypatch.setenv("DL_TUTOR_CACHE_DIR", str(tmp_path / "cache"))


def lesson_with(tmp_path: Path, code: str, lesson_id: str = "t"):
    """A lesson running ``code``, with no checks or quiz to satisfy."""
    return load_lesson(
        write_lesson(tmp_path, lesson_id, yaml=BARE_YAML.format(id=lesson_id), code=code)
    )


def test_completed_run_records_metrics_history_and_checks(tmp_path: Path) -> None:
    seen: list[object] = []
    result = run_lesson(load_lesson(write_lesson(tmp_path)), sink=seen.append, device="cpu")
    assert result.status == "completed"
    assert result.ok
    assert result.records == {"answer": 42, "X_shape": [10, 2]}
    assert [x for x, _ in result.history["loss"]] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert result.history["train_loss"] == [(1.0, 1.0), (2.0, 0.5)]
    assert [c.passed for c in result.checks] == [True]
    assert isinstance(seen[0], events.RunStarted) and isinstance(seen[-1], events.RunFinished)
    assert sum(isinstance(e, events.EpochEnded) for e in seen) == 2
    # Progress events together carry every point exactly once.
    sent = [p for e in seen if isinstance(e, events.Progress) for p in e.points.get("loss", [])]
    assert sent == result.history["loss"]


def test_progress_events_are_throttled_not_per_step(tmp_path: Path) -> None:
    code = """
def train(ctx):
    for step in range(5000):
        ctx.report_step(loss=1.0)
    ctx.report_epoch(1, train_loss=1.0)
    ctx.record("answer", 42)
    ctx.record("X_shape", (10, 2))
"""
    seen: list[object] = []
    result = run_lesson(lesson_with(tmp_path, code), sink=seen.append, device="cpu")
    progress = [e for e in seen if isinstance(e, events.Progress)]
    assert result.status == "completed"
    assert len(result.history["loss"]) == 5000
    assert len(progress) < 50  # a handful of batches, never 5000 messages


def test_tensor_losses_are_converted_in_batches(tmp_path: Path) -> None:
    code = """
import torch

def train(ctx):
    w = torch.tensor([1.0], requires_grad=True)
    for step in range(20):
        loss = (w * 3 - 6).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w -= 0.01 * w.grad
            w.grad.zero_()
        ctx.report_step(loss=loss)
    ctx.report_epoch(1, train_loss=loss)
    ctx.record("answer", w)
    ctx.record("X_shape", w.shape)
"""
    result = run_lesson(lesson_with(tmp_path, code), device="cpu")
    assert result.status == "completed", result.error
    losses = [y for _, y in result.history["loss"]]
    assert losses[0] == pytest.approx(9.0) and losses[-1] < losses[0]
    assert result.records["X_shape"] == [1]
    assert isinstance(result.records["answer"], list)


def test_what_existed_before_the_run_is_out_of_the_collectors_sight_only_during_it(
    tmp_path: Path,
) -> None:
    code = """
import gc

class Cycle:
    def __init__(self):
        self.me = self

def train(ctx):
    ctx.record("frozen", gc.get_freeze_count())
    Cycle()  # the run's own garbage is still collected
    ctx.record("collected", gc.collect())
"""
    import gc

    assert gc.get_freeze_count() == 0
    before = len(gc.get_objects())
    result = run_lesson(lesson_with(tmp_path, code), device="cpu")
    assert result.status == "completed", result.error
    # Everything alive before the run was frozen (a full collection skips it) ...
    assert result.records["frozen"] >= before // 2
    assert result.records["collected"] >= 1
    assert gc.get_freeze_count() == 0  # ... and is collectable again after it


def test_a_collector_frozen_by_someone_else_is_left_as_it_was(tmp_path: Path) -> None:
    import gc

    code = "def train(ctx):\n    ctx.record('answer', 42)\n"
    gc.freeze()  # as the app's start-up does
    try:
        assert run_lesson(lesson_with(tmp_path, code), device="cpu").status == "completed"
        assert gc.get_freeze_count() > 0  # still frozen: the run's unfreeze would empty it
    finally:
        gc.unfreeze()


def test_stop_cancels_within_one_step(tmp_path: Path) -> None:
    code = """
def train(ctx):
    step = 0
    while True:
        step += 1
        ctx.record("answer", step)
        if step == 10:
            ctx.stop_for_test.set()
        ctx.report_step(loss=1.0)
"""
    cancel = threading.Event()
    loaded = lesson_with(tmp_path, code.replace("ctx.stop_for_test", "STOP"), "c")
    # The lesson module reads STOP from its globals; give it our event.
    import builtins

    builtins.STOP = cancel  # type: ignore[attr-defined]
    try:
        result = run_lesson(loaded, cancel=cancel, device="cpu")
    finally:
        del builtins.STOP  # type: ignore[attr-defined]
    assert result.status == "cancelled"
    assert result.records["answer"] == 10  # the step that set Stop was the last
    assert result.checks == []


def test_exception_in_lesson_code_fails_with_trimmed_traceback(tmp_path: Path) -> None:
    code = """
def helper(x):
    return x / 0

def train(ctx):
    ctx.report_epoch(1, train_loss=1.0)
    helper(1)
"""
    loaded = lesson_with(tmp_path, code, "f")
    result = run_lesson(loaded, device="cpu")
    assert result.status == "failed"
    assert "ZeroDivisionError: division by zero" in result.error
    assert str(loaded.code_path) in result.error
    assert "line 3, in helper" in result.error
    assert "runner.py" not in result.error  # only the lesson's own frames
    assert result.history["train_loss"] == [(1.0, 1.0)]  # what ran before is kept


def test_nan_loss_diverges_with_a_hint(tmp_path: Path) -> None:
    code = """
def train(ctx):
    loss = 1.0
    for step in range(100):
        loss = loss * 1e10
        ctx.report_step(loss=loss)
"""
    result = run_lesson(lesson_with(tmp_path, code, "d"), device="cpu")
    assert result.status == "diverged"
    assert "loss became inf" in result.error
    assert "lower the learning rate" in result.hint


def test_same_seed_same_run(tmp_path: Path) -> None:
    code = """
import torch

def train(ctx):
    x = torch.randn(3)
    ctx.record("answer", x)
    ctx.record("X_shape", x.shape)
"""
    loaded = lesson_with(tmp_path, code, "s")
    first = run_lesson(loaded, {"seed": 7}, device="cpu")
    again = run_lesson(loaded, {"seed": 7}, device="cpu")
    other = run_lesson(loaded, {"seed": 8}, device="cpu")
    assert first.seed == 7
    assert first.records["answer"] == again.records["answer"] != other.records["answer"]


def test_resolve_params_checks_ranges_and_names(tmp_path: Path) -> None:
    loaded = load_lesson(write_lesson(tmp_path))
    assert resolve_params(loaded, {"epochs": "5"}) == {"epochs": 5, "seed": 0}
    with pytest.raises(ValueError, match="above the maximum"):
        resolve_params(loaded, {"epochs": "1000"})
    with pytest.raises(ValueError, match="not a valid int"):
        resolve_params(loaded, {"epochs": "many"})
    with pytest.raises(ValueError, match="did you mean 'epochs'"):
        resolve_params(loaded, {"epoch": "3"})


def test_missing_quiz_value_is_reported_at_the_end(tmp_path: Path) -> None:
    yaml = MINIMAL_YAML.format(id="late")
    code = """
def train(ctx):
    ctx.record("answer", 42)
    if False:
        ctx.record("X_shape", (1,))
"""
    result = run_lesson(
        load_lesson(write_lesson(tmp_path, "late", yaml=yaml, code=code)), device="cpu"
    )
    assert any("'shape' needs 'X_shape'" in line for line in result.logs)


def test_first_lesson_passes_its_checks() -> None:
    result = run_lesson(load_catalog().get("gradient-descent"), device="cpu")
    assert result.ok
    assert result.records["grad_at_w1"] == pytest.approx(-28 / 3)


def test_cuda_out_of_memory_suggests_a_smaller_batch(tmp_path: Path) -> None:
    code = """
def train(ctx):
    raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
"""
    result = run_lesson(lesson_with(tmp_path, code, "oom"), device="cpu")
    assert result.status == "failed"
    assert "batch_size" in result.hint and "cpu" in result.hint
