"""Trainer.sweep: several runs in one child process, each event tagged with its run."""

from __future__ import annotations

import threading
from pathlib import Path

from helpers import BARE_YAML, write_lesson

from tutor import events
from tutor.lesson.loader import load_lesson
from tutor.training.process import Trainer
from tutor.training.runner import run_lesson
from tutor.training.sweep import SweepEvent

# Prints its pid, so the test can tell the runs shared one process.
PID_CODE = """
import os

def train(ctx):
    print("pid", os.getpid())
    for epoch in range(1, ctx.params.epochs + 1):
        ctx.report_step(loss=1.0 / epoch)
        ctx.report_epoch(epoch, train_loss=1.0 / epoch)
    ctx.record("epochs_seen", ctx.params.epochs)
"""


def test_a_sweep_runs_every_setting_in_one_child_and_tags_events(tmp_path: Path) -> None:
    loaded = load_lesson(write_lesson(tmp_path, "t", yaml=BARE_YAML.format(id="t"), code=PID_CODE))
    seen: list[SweepEvent] = []
    trainer = Trainer()
    try:
        results = trainer.sweep(
            loaded, [{"epochs": 2}, {"epochs": 3}], sink=seen.append, device="cpu"
        )
    finally:
        trainer.close()
    assert [r.status for r in results] == ["completed", "completed"]
    assert [r.records["epochs_seen"] for r in results] == [2, 3]
    # The same values as in-process runs: the child changes nothing but where it runs.
    here = run_lesson(loaded, {"epochs": 3}, device="cpu")
    assert results[1].history == here.history
    assert all(isinstance(e, SweepEvent) for e in seen)
    finished = [e.index for e in seen if isinstance(e.event, events.RunFinished)]
    assert finished == [0, 1]
    epochs = [(e.index, e.event.epoch) for e in seen if isinstance(e.event, events.EpochEnded)]
    assert epochs == [(0, 1), (0, 2), (1, 1), (1, 2), (1, 3)]
    pids = {e.event.text for e in seen if isinstance(e.event, events.LogLine)}
    assert len(pids) == 1 and next(iter(pids)).startswith("pid ")  # one process for both


def test_stop_ends_the_sweep_at_the_run_in_progress(tmp_path: Path) -> None:
    code = """
import time

def train(ctx):
    for step in range(1, 100000):
        ctx.report_step(loss=1.0 / step)
        time.sleep(0.005)
"""
    loaded = load_lesson(write_lesson(tmp_path, "s", yaml=BARE_YAML.format(id="s"), code=code))
    cancel = threading.Event()

    def sink(event: SweepEvent) -> None:
        if isinstance(event.event, events.Progress):
            cancel.set()

    trainer = Trainer()
    try:
        results = trainer.sweep(loaded, [{}, {}, {}], sink=sink, cancel=cancel, device="cpu")
    finally:
        trainer.close()
    assert [r.status for r in results] == ["cancelled"]
