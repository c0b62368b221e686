"""The run doctor in the app (#15), the last stored run shown again (#13), and the app's
reliability cases of #19: a device it cannot use, huge or hostile lesson output, a store
error too long for the status line, a store write that meets another process's lock.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import LESSON_01
from textual.app import App, ComposeResult
from textual.widgets import Input

import tutor.progress
from tutor import quiz
from tutor.lesson.loader import load_catalog
from tutor.lesson.schema import Text
from tutor.progress import ProgressStore
from tutor.testing import (
    finish_run,
    open_by_keys,
    started,
    store_settled,
    text_of,
    type_into,
    until,
)
from tutor.ui import store_link
from tutor.ui.app import TutorApp
from tutor.ui.store_link import StoreLink
from tutor.ui.widgets import LessonList, LiveChart, RunLog

pytestmark = pytest.mark.usefixtures("tutor_env")


# Logs and prints what a terminal would obey (retitle, clear the screen), and one huge line.
HOSTILE_CODE = """
def train(ctx):
    ctx.log("title \\x1b]0;x\\x07 clear \\x1b[2J")
    print("x" * 100_000)
    ctx.report_step(loss=1.0)
"""
HOSTILE_YAML = """\
id: hostile
order: 1
title: Hostile
summary: s
text: t
code: code.py
series:
  - {name: loss, kind: loss, per: step}
"""


def charts_previous(app: TutorApp) -> list[str]:
    """The labels of the dimmed stored run on the loss chart."""
    return [o.label for o in app.query_one("#chart-loss", LiveChart).overlays]


async def test_a_diverged_run_is_diagnosed_and_t_reruns_with_the_suggestion(
    tmp_path: Path,
) -> None:
    store = ProgressStore(tmp_path / "p.sqlite3")
    app = TutorApp([LESSON_01], builtin=False, store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("3")
        await type_into(pilot, "#param-lr", "0.5")
        await pilot.press("enter")  # runs
        diverged = await finish_run(pilot)  # its loss grows: the doctor calls it diverged
        diagnosis = text_of(app, "#diagnosis")
        assert diagnosis.startswith("diverged: loss went from ")  # the evidence, in numbers
        assert "likely cause: the learning rate is too high" in diagnosis
        assert "t: rerun with lr=0.1" in diagnosis
        assert "hint:" not in text_of(app, "#run-log")  # said once, by the doctor

        await pilot.press("t")
        await until(pilot, lambda: app.last_result is not diverged)
        rerun = await finish_run(pilot)
        assert app.query_one("#param-lr", Input).value == "0.1"  # what ran is what shows
        assert rerun.params["lr"] == 0.1 and rerun.status == "completed"
        assert not text_of(app, "#diagnosis").startswith("diverged")
        await store_settled(pilot)

    # #13: a new app on the same store shows the latest stored run dimmed, until r.
    latest = store.runs("gradient-descent")[0]
    app = TutorApp([LESSON_01], builtin=False, store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await store_settled(pilot)
        labels = charts_previous(app)
        assert labels and labels[0].startswith(f"#{latest.id} · ")
        assert labels[0].endswith("lr=0.1")
        await pilot.press("3", "r")
        await finish_run(pilot)
        assert charts_previous(app) == []


def cuda_available() -> bool:
    probe = "import torch; print(torch.cuda.is_available())"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    return out.stdout.strip() == "True"


async def test_cuda_without_a_gpu_is_refused_up_front_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    if cuda_available():
        pytest.skip("this machine has CUDA")
    store = ProgressStore(tmp_path / "p.sqlite3")
    app = TutorApp([LESSON_01], builtin=False, store=store, device="cuda")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("3", "r")  # maybe before the spare has checked the device
        await until(pilot, lambda: "Not run" in text_of(app, "#status") and not app.active_run)
        await until(pilot, lambda: app.torch_ready)
        await store_settled(pilot)
        await pilot.press("r")  # now refused before any worker starts
        assert text_of(app, "#status").startswith("Not run: CUDA was asked for but no CUDA")
        assert app.active_run is None and app.last_result is None
        await store_settled(pilot)
    assert store.runs("gradient-descent") == []


async def test_control_characters_and_a_huge_line_from_a_lesson_are_shown_inert(
    tmp_path: Path,
) -> None:
    root = tmp_path / "lessons" / "hostile"
    root.mkdir(parents=True)
    (root / "lesson.yaml").write_text(HOSTILE_YAML)
    (root / "code.py").write_text(textwrap.dedent(HOSTILE_CODE))
    catalog = load_catalog([root.parent], builtin=False)
    loaded = catalog.lessons[0]
    # The loader refuses these; a catalog built in code (or a stale index) has not been there.
    bad = Text(en="Evil \x1b]0;x\x07 \x1b[2J")
    lesson = loaded.lesson.model_copy(update={"title": bad, "text": bad})
    catalog.lessons[0] = dataclasses.replace(loaded, lesson=lesson)
    app = TutorApp(catalog=catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        prompt = app.query_one(LessonList).get_option("hostile").prompt
        assert "\x1b" not in str(prompt) and "Evil \\x1b]0;x\\x07 \\x1b[2J" in str(prompt)
        assert "\\x1b[2J" in text_of(app, "#lesson-text") and "\x1b" not in app.sub_title
        await pilot.press("3", "r")
        await finish_run(pilot)
        log = text_of(app, "#run-log")
        assert "title \\x1b]0;x\\x07 clear \\x1b[2J" in log and "\x1b" not in log
        assert "x" * 2000 + " … (98,000 more characters)" in log
        assert "\x1b" not in text_of(app, "#status")


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RunLog(id="run-log", max_lines=100)


async def test_the_run_log_keeps_its_last_lines_and_says_how_many_it_dropped() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 24)):
        log = app.query_one(RunLog)
        log.add_lines(f"line {i}" for i in range(250))
        assert log.entries[-1] == "line 249" and len(log.entries) <= 101
        note = f"… {log.dropped} earlier lines not kept (the log keeps the last 100)"
        assert log.entries[0] == note
        assert log.entries[1] == f"line {log.dropped}"  # nothing lost in between
        log.reset()
        assert log.entries == [] and log.dropped == 0


def test_recorded_values_in_quiz_verdicts_are_inert() -> None:
    assert quiz.format_value("\x1b[2J") == "\\x1b[2J"
    assert quiz.format_value(["\x1b]0;x\x07"]) == "[\\x1b]0;x\\x07]"


async def test_a_store_error_is_shown_in_full_in_a_notification(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "p.sqlite3")
    app = TutorApp([LESSON_01], builtin=False, store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await store_settled(pilot)
        store.close()  # every store job now fails
        await open_by_keys(pilot, 0)  # a job: remember the lesson, read its runs
        await store_settled(pilot)
        note = "Progress not saved: ProgressError: the progress store is closed"
        assert note in text_of(app, "#status")
        assert [n.message for n in app._notifications] == [note]


def test_a_store_write_that_meets_a_lock_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tutor.progress.store, "BUSY_TIMEOUT_MS", 50)  # SQLite's own wait, per try
    path = tmp_path / "p.sqlite3"
    store = ProgressStore(path)
    link = StoreLink(store, load_catalog([LESSON_01], builtin=False))
    other = sqlite3.connect(path, isolation_level=None)  # another process, say
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    pauses: list[float] = []
    release_after = {"pauses": 2}

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == release_after["pauses"]:
            other.execute("COMMIT")  # the other writer finishes

    monkeypatch.setattr(store_link, "_pause", pause)

    def answer(s: ProgressStore) -> int:
        return s.record_answer("gradient-descent", "q", "1", "wrong")

    snapshot = link.job(answer)
    assert snapshot.error is None and isinstance(snapshot.written, int)
    assert len(pauses) == 2

    other.execute("BEGIN IMMEDIATE")  # held for good: reported after every try
    pauses.clear()
    release_after["pauses"] = 0
    snapshot = link.job(answer)
    assert snapshot.error == "OperationalError: database is locked"
    assert len(pauses) == len(store_link.LOCK_PAUSES)
    other.execute("ROLLBACK")
    other.close()
    store.close()
