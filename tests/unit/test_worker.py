"""Training in a child process: same results as in-process, Stop, kills, crashes, orphans.

Each test spawns real child processes that import torch (a few seconds each), so the
lessons are tiny and every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from helpers import BARE_YAML, write_lesson

from tutor import events
from tutor.lesson.loader import load_lesson
from tutor.training.process import Trainer, TrainingProcess
from tutor.training.runner import run_lesson

# Reports a step every few ms until Stop (the deadline only stops a broken test).
SLOW_CODE = """
import time

def train(ctx):
    print("hello from the lesson")
    deadline = time.monotonic() + 60
    step = 0
    while time.monotonic() < deadline:
        step += 1
        ctx.report_step(loss=1.0 / step)
        time.sleep(0.005)
"""

# Never reaches a step after the first: Stop cannot take effect inside the lesson.
STUCK_CODE = """
import time

def train(ctx):
    ctx.report_step(loss=1.0)
    ctx.log("stuck now")
    time.sleep(60)
"""


@pytest.fixture
def trainer() -> object:
    t = Trainer()
    yield t
    t.close()


def lesson(tmp_path: Path, code: str | None = None, lesson_id: str = "t"):
    yaml = None if code is None else BARE_YAML.format(id=lesson_id)
    return load_lesson(write_lesson(tmp_path, lesson_id, yaml=yaml, code=code))


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_a_run_in_a_child_gives_what_the_runner_gives_in_process(
    tmp_path: Path, trainer: Trainer
) -> None:
    loaded = lesson(tmp_path)
    seen: list[object] = []
    result = trainer.run(loaded, {"epochs": 3}, sink=seen.append, device="cpu")
    here = run_lesson(loaded, {"epochs": 3}, device="cpu")
    assert result.status == here.status == "completed"
    assert result.records == here.records == {"answer": 42, "X_shape": [10, 2]}
    assert result.history == here.history and result.metrics == here.metrics
    assert [c.passed for c in result.checks] == [c.passed for c in here.checks] == [True]
    assert isinstance(seen[0], events.RunStarted) and seen[0].params["epochs"] == 3
    assert isinstance(seen[-1], events.RunFinished) and seen[-1].result == result
    sent = [p for e in seen if isinstance(e, events.Progress) for p in e.points.get("loss", [])]
    assert sent == result.history["loss"]


def test_the_spare_is_warm_before_the_run_and_used_by_it(tmp_path: Path, trainer: Trainer) -> None:
    ready = trainer.wait_ready()
    assert ready is not None and ready.torch_version
    started: list[events.RunStarted] = []

    def sink(event: object) -> None:
        if isinstance(event, events.RunStarted):
            started.append(event)

    t0 = time.perf_counter()
    assert trainer.run(lesson(tmp_path), sink=sink, device="cpu").status == "completed"
    assert started  # and the spare's process ran it: it had torch imported already
    assert time.perf_counter() - t0 < 30


@pytest.mark.parametrize("warm_up", [True, False])
def test_the_spare_has_imported_what_optimizers_import_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm_up: bool
) -> None:
    # torch.optim's optimizers import torch._dynamo when made (about 2 s): the spare pays it
    # while the learner reads, so the run does not. Tests turn that off (see isolate).
    if warm_up:
        monkeypatch.delenv("DL_TUTOR_NO_WARM_UP")
    code = """
import sys

def train(ctx):
    ctx.record("warm", "torch._dynamo" in sys.modules)
"""
    trainer = Trainer()
    try:
        assert trainer.wait_ready() is not None
        result = trainer.run(lesson(tmp_path, code), device="cpu")
    finally:
        trainer.close()
    assert result.status == "completed", result.error
    assert result.records == {"warm": warm_up}


def test_stop_cancels_at_the_next_step_and_prints_become_log_lines(
    tmp_path: Path, trainer: Trainer
) -> None:
    cancel = threading.Event()
    seen: list[object] = []
    points = [0]

    def sink(event: object) -> None:
        seen.append(event)
        if isinstance(event, events.Progress):
            points[0] += len(event.points.get("loss", []))
            cancel.set()  # Stop as soon as the run has reported something

    result = trainer.run(lesson(tmp_path, SLOW_CODE), sink=sink, cancel=cancel, device="cpu")
    assert result.status == "cancelled"
    assert len(result.history["loss"]) >= points[0] > 0
    logs = [e.text for e in seen if isinstance(e, events.LogLine)]
    assert "hello from the lesson" in logs


def test_a_lesson_that_never_reaches_a_step_is_killed_after_the_grace_time(
    tmp_path: Path, trainer: Trainer
) -> None:
    cancel = threading.Event()
    logged = threading.Event()

    def sink(event: object) -> None:
        if isinstance(event, events.LogLine) and event.text == "stuck now":
            logged.set()

    box: list[object] = []
    thread = threading.Thread(
        target=lambda: box.append(
            trainer.run(lesson(tmp_path, STUCK_CODE), sink=sink, cancel=cancel, device="cpu")
        )
    )
    thread.start()
    assert logged.wait(120)
    stopped = time.monotonic()
    cancel.set()
    thread.join(30)
    assert not thread.is_alive()
    assert time.monotonic() - stopped < 10  # the grace time is 1 s; a loaded machine is slow
    (result,) = box
    assert result.status == "cancelled"
    assert result.logs == ["stuck now"]  # what arrived before the kill is kept


def test_a_killed_training_process_is_a_failed_run_that_says_so(tmp_path: Path) -> None:
    proc = TrainingProcess()
    try:
        assert proc.wait_ready() is not None
        from tutor.training.process import RunRequest

        killed = threading.Event()

        def sink(event: object) -> None:
            if isinstance(event, events.Progress) and not killed.is_set():
                killed.set()
                os.kill(proc.pid, signal.SIGKILL)

        request = RunRequest(lesson(tmp_path, SLOW_CODE), {}, "cpu")
        result = proc.run(request, sink, threading.Event())
    finally:
        proc.close()
    assert result.status == "failed"
    assert result.error is not None and "killed by SIGKILL" in result.error
    assert result.history["loss"]  # the points received before the kill


def test_a_missing_code_file_fails_the_run_with_its_name(tmp_path: Path, trainer: Trainer) -> None:
    loaded = lesson(tmp_path)
    bad = loaded.__class__(loaded.lesson, loaded.path, tmp_path / "missing.py", loaded.recorded)
    result = trainer.run(bad, sink=None, device="cpu")
    assert result.status == "failed"
    assert "missing.py" in (result.error or "")


def test_the_result_is_shown_before_the_child_is_reaped_with_every_printed_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finished run reaches the sink before the parent waits for the child to exit (which
    takes ~50 ms for a process holding torch and 60k images), its last print already in."""
    code = """
def train(ctx):
    ctx.report_step(loss=1.0)
    print("the last line")
"""
    seen: list[object] = []
    at_reap: list[list[object]] = []
    reap = TrainingProcess._reap

    def reap_after_the_result(self: TrainingProcess) -> None:
        at_reap.append(list(seen))
        reap(self)

    monkeypatch.setattr(TrainingProcess, "_reap", reap_after_the_result)
    trainer = Trainer()
    try:
        result = trainer.run(lesson(tmp_path, code), sink=seen.append, device="cpu")
    finally:
        trainer.close()
    assert result.status == "completed", result.error
    assert at_reap and isinstance(at_reap[0][-1], events.RunFinished)
    lines = [e.text for e in at_reap[0] if isinstance(e, events.LogLine)]
    assert lines == ["the last line"]


def test_a_runs_output_ends_before_its_result_not_when_the_child_exits() -> None:
    """The parent waits for the output's end before it shows a result: the child ends its
    stdout and stderr as it sends RunFinished, not at its exit."""
    code = textwrap.dedent("""
        import sys, time
        from tutor import events
        from tutor.training.process import _output_ends_first
        print("the last line")
        print("and a warning", file=sys.stderr)
        _output_ends_first(lambda event: None, events.RunFinished(None))
        print("after the result: nowhere")
        time.sleep(30)
    """)
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert child.stdout is not None
        out = child.stdout.read()  # returns at the output's end
        assert out.decode().split("\n") == ["the last line", "and a warning", ""]
        assert child.poll() is None  # still sleeping: the end came before the exit
    finally:
        child.kill()
        child.wait()


def test_the_app_process_never_imports_torch(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "t")
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from tutor.lesson.loader import load_lesson
        from tutor.training.process import Trainer
        t = Trainer()
        assert t.wait_ready() is not None
        r = t.run(load_lesson(Path({str(path)!r})), device="cpu")
        t.close()
        print(r.status, "torch" in sys.modules)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.split() == ["completed", "False"]


def test_an_orphaned_training_process_exits_by_itself(tmp_path: Path) -> None:
    """The app killed with -9 mid-run: its child stops and exits, no stray processes."""
    path = write_lesson(tmp_path, "t", yaml=BARE_YAML.format(id="t"), code=SLOW_CODE)
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from tutor import events
        from tutor.lesson.loader import load_lesson
        from tutor.training.process import Trainer
        t = Trainer()
        proc = t.warm()
        def sink(event):
            if isinstance(event, events.Progress):
                print(proc.pid, flush=True)
        t.run(load_lesson(Path({str(path)!r})), sink=sink, device="cpu")
    """)
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        parent.kill()
        parent.wait(30)
        wait_for(lambda: not _alive(child), seconds=30)
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
