"""Lesson code that tries to end Python, or to read input, gives a stored failed run (#19)."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import BARE_YAML, write_lesson

from tutor import events
from tutor.lesson.loader import load_lesson
from tutor.training.process import Trainer
from tutor.training.runner import NO_INPUT, NoInput, run_lesson


def lesson_with(tmp_path: Path, body: str):
    code = "import sys\n\n\ndef helper():\n    " + body + "\n\n\ndef train(ctx):\n"
    code += "    ctx.report_step(loss=1.0)\n    helper()\n"
    return load_lesson(write_lesson(tmp_path, "t", yaml=BARE_YAML.format(id="t"), code=code))


@pytest.mark.parametrize(
    ("body", "last_line"),
    [
        ("sys.exit(3)", "SystemExit: 3"),
        ("exit()", "SystemExit: None"),
        ("raise BaseException('boom')", "BaseException: boom"),
        ("raise KeyboardInterrupt", "KeyboardInterrupt"),
        ("input('your lr? ')", f"EOFError: {NO_INPUT}"),
    ],
    ids=["sys.exit", "exit", "BaseException", "KeyboardInterrupt", "input"],
)
def test_ending_python_or_reading_input_is_a_failed_run_with_the_lessons_frames(
    tmp_path: Path, body: str, last_line: str
) -> None:
    stdin = sys.stdin
    result = run_lesson(lesson_with(tmp_path, body), device="cpu")  # before: it raised
    assert result.status == "failed"
    error = result.error or ""
    assert error.splitlines()[-1] == last_line
    assert 'code.py", line 5, in helper' in error and "in train" in error
    assert "runner.py" not in error and "process.py" not in error
    assert result.history["loss"] == [(1.0, 1.0)]  # what ran is kept
    assert sys.stdin is stdin  # the real stdin is back (exit() closed only ours)


def test_lesson_stdin_refuses_to_be_read() -> None:
    with pytest.raises(EOFError, match="cannot read input"):
        NoInput().readline()
    with pytest.raises(EOFError, match="cannot read input"):
        NoInput().read()


CHILD_CODE = """
import os
import sys


def train(ctx):
    ctx.report_step(loss=1.0)
    print("odd \\udcff bytes", flush=True)
    print("\\x1b]0;retitled\\x07", flush=True)
    if ctx.params.epochs == 1:
        sys.exit(4)
    input()
"""


@pytest.mark.parametrize(("epochs", "last_line"), [(1, "SystemExit: 4"), (2, NO_INPUT)])
def test_in_the_training_child_too(tmp_path: Path, epochs: int, last_line: str) -> None:
    loaded = load_lesson(
        write_lesson(tmp_path, "t", yaml=BARE_YAML.format(id="t"), code=CHILD_CODE)
    )
    trainer = Trainer()
    box: list[object] = []
    lines: list[str] = []

    def sink(event: object) -> None:
        if isinstance(event, events.LogLine):
            lines.append(event.text)

    try:
        thread = threading.Thread(
            target=lambda: box.append(
                trainer.run(loaded, {"epochs": epochs}, sink=sink, device="cpu")
            )
        )
        thread.start()
        thread.join(120)  # before: input() read the control pipe and waited for ever
        assert not thread.is_alive()
    finally:
        trainer.close()
    (result,) = box
    assert result.status == "failed"
    assert result.error.splitlines()[-1].endswith(last_line)
    assert "runner.py" not in result.error and "process.py" not in result.error
    assert "odd \\udcff bytes" in lines  # before: UnicodeEncodeError failed the run
    assert "\\x1b]0;retitled\\x07" in lines  # lesson output is made inert


# Reports a few steps within one emit interval (so they are still buffered), then gets stuck.
BUFFERED_THEN_STUCK = """
import time


def train(ctx):
    for step in range(5):
        ctx.report_step(loss=1.0 / (step + 1))
    ctx.log("stuck now")
    time.sleep(60)
"""


def test_stop_keeps_the_points_a_stuck_lesson_had_reported(tmp_path: Path) -> None:
    loaded = load_lesson(
        write_lesson(tmp_path, "t", yaml=BARE_YAML.format(id="t"), code=BUFFERED_THEN_STUCK)
    )
    cancel, logged = threading.Event(), threading.Event()

    def sink(event: object) -> None:
        if isinstance(event, events.LogLine) and event.text == "stuck now":
            logged.set()

    trainer = Trainer()
    box: list[object] = []
    try:
        thread = threading.Thread(
            target=lambda: box.append(trainer.run(loaded, sink=sink, cancel=cancel, device="cpu"))
        )
        thread.start()
        assert logged.wait(120)
        cancel.set()
        thread.join(30)
        assert not thread.is_alive()
    finally:
        trainer.close()
    (result,) = box
    assert result.status == "cancelled"
    # before the fix: [] (the five points were still buffered when the process was killed)
    assert [x for x, _ in result.history["loss"]] == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_a_fifo_as_the_code_to_run_fails_the_run_at_once(tmp_path: Path) -> None:
    loaded = lesson_with(tmp_path, "pass")
    fifo = tmp_path / "exercise.py"
    os.mkfifo(fifo)
    start = time.monotonic()
    result = run_lesson(loaded, device="cpu", code_path=fifo)  # before: blocked in open()
    assert time.monotonic() - start < 30
    assert result.status == "failed"
    assert "code file 'exercise.py' is not a regular file" in (result.error or "")
