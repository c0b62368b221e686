"""The app as a real process in a pseudo-terminal: closing the terminal (SIGHUP), SIGTERM,
and limited terminals (TERM=dumb, vt100, linux). Slow-ish (start-up imports Textual, a run
imports torch), so every wait is bounded but generous: the machine may be busy.

See tests/terminal/ptyapp.py for the harness.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ptyapp import PtyApp, session_processes, wait_until

from tutor.progress import ProgressStore
from tutor.ui import shutdown

pytestmark = pytest.mark.pty

START_TIMEOUT = 90.0  # start-up, or a first run importing torch, on a loaded 2-core machine
STORED_TIMEOUT = 5.0  # from the signal until the cancelled run is stored
EXIT_TIMEOUT = 30.0  # from the signal until the process is gone (torch's teardown is slow)

SLOW_YAML = """
id: slow
order: 0
title: {en: Slow lesson, zh: 慢课}
summary: Trains slowly, for terminal tests.
text: Many small steps with a sleep in each.
code: code.py
hyperparams:
  - {name: steps, type: int, default: 100000, min: 1, max: 1000000}
  - {name: seed, type: int, default: 0}
series:
  - {name: loss, kind: loss, per: step}
"""

SLOW_CODE = """
import os
import pathlib
import time


def train(ctx):
    marker = os.environ.get("SLOW_LESSON_MARKER")
    for step in range(ctx.params.steps):
        ctx.report_step(loss=1.0 / (step + 1))
        if step == 5 and marker:  # the test waits for this file, not for a time
            pathlib.Path(marker).write_text("training")
            if os.environ.get("SLOW_LESSON_STUCK"):
                time.sleep(600)  # a step that never returns: cancelling cannot reach it
        time.sleep(0.01)
"""


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, str]:
    """A lesson directory with the slow lesson, reopened at start; the environment to use."""
    lesson = tmp_path / "lessons" / "slow"
    lesson.mkdir(parents=True)
    (lesson / "lesson.yaml").write_text(SLOW_YAML)
    (lesson / "code.py").write_text(SLOW_CODE)
    store = ProgressStore(tmp_path / "data" / "progress.sqlite3")
    store.set_state("last_lesson", "slow")  # the app opens it first
    store.close()
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "DL_TUTOR_DATA_DIR": str(tmp_path / "data"),
        "DL_TUTOR_CACHE_DIR": str(tmp_path / "cache"),
        "DL_TUTOR_OFFLINE": "1",
        "SLOW_LESSON_MARKER": str(tmp_path / "training"),
        "OMP_NUM_THREADS": "1",
    }
    env.pop("NO_COLOR", None)
    return env


@pytest.fixture
def start(tmp_path: Path, setup: dict[str, str]):  # type: ignore[no-untyped-def]
    """``start(args, **env)`` runs dl-tutor in a pty; every process is killed at the end."""
    apps: list[PtyApp] = []

    def _start(args: list[str] | None = None, **env: str) -> PtyApp:
        app = PtyApp(["--lessons", str(tmp_path / "lessons"), *(args or [])], {**setup, **env})
        apps.append(app)
        return app

    yield _start
    for app in apps:
        app.stop()


def stored_runs(tmp_path: Path) -> list[tuple[str, str]]:
    store = ProgressStore(tmp_path / "data" / "progress.sqlite3")
    try:
        return [(run.lesson_id, run.status) for run in store.runs()]
    finally:
        store.close()


def start_training(app: PtyApp, tmp_path: Path) -> None:
    assert app.wait_for_text("Slow lesson", START_TIMEOUT), app.text()[-2000:]
    app.press("3")
    assert app.wait_for_text("not run yet", START_TIMEOUT)  # the Train pane
    app.press("r")
    marker = tmp_path / "training"
    assert wait_until(marker.exists, START_TIMEOUT), app.text()[-2000:]


# -- closing the terminal, SIGTERM --------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "code"),
    [("SIGTERM", 128 + 15), ("SIGHUP", 128 + 1), ("close the terminal", 128 + 1)],
)
def test_a_run_is_stored_as_cancelled_and_nothing_is_left(
    start, tmp_path: Path, how: str, code: int
) -> None:  # type: ignore[no-untyped-def]
    app = start()
    start_training(app, tmp_path)
    assert stored_runs(tmp_path) == []
    shown = len(app.output)
    if how == "close the terminal":
        app.close_terminal()  # the kernel hangs up: SIGHUP, and the tty answers EIO
    else:
        os.kill(app.proc.pid, getattr(signal, how))

    assert wait_until(lambda: stored_runs(tmp_path), STORED_TIMEOUT), "the run was not stored"
    assert stored_runs(tmp_path) == [("slow", "cancelled")]
    assert app.wait(EXIT_TIMEOUT) == code
    assert wait_until(lambda: not app.leftovers(), 5.0), f"left alive: {app.leftovers()}"
    after = app.output[shown:]
    assert b"Traceback" not in app.output, app.text()[-3000:]
    if how == "SIGTERM":  # the terminal is still there: it is given back as it was
        assert b"\x1b[?1049l" in after and b"\x1b[?25h" in after  # main screen, cursor shown


def test_quitting_with_q_mid_run_exits_0(start, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The same path by key, for comparison: exit 0, run stored, nothing left."""
    app = start()
    start_training(app, tmp_path)
    app.press("q")
    assert app.wait(EXIT_TIMEOUT) == 0
    assert stored_runs(tmp_path) == [("slow", "cancelled")]
    assert not app.leftovers() and b"Traceback" not in app.output


@pytest.mark.parametrize("how", ["SIGTERM", "q"])
def test_a_stuck_lesson_step_is_killed_and_the_run_still_stored(
    start, tmp_path: Path, how: str
) -> None:  # type: ignore[no-untyped-def]
    """A step that never returns cannot see Stop; its training process is killed after the
    grace time (tutor.training.process.CANCEL_GRACE_SECONDS), so the app neither hangs nor needs the
    forced exit, and the run is stored as cancelled with what it had reported."""
    app = start(SLOW_LESSON_STUCK="1")
    start_training(app, tmp_path)
    if how == "q":
        app.press("q")
    else:
        os.kill(app.proc.pid, signal.SIGTERM)
    assert app.wait(EXIT_TIMEOUT) == (0 if how == "q" else 143)
    assert wait_until(lambda: not app.leftovers(), 5.0), f"left alive: {app.leftovers()}"
    assert b"Traceback" not in app.output, app.text()[-3000:]
    assert b"\x1b[?1049l" in app.output  # the terminal was given back
    assert stored_runs(tmp_path) == [("slow", "cancelled")]


async def test_exit_signal_handlers_call_back_and_are_removed() -> None:
    """The plain-Python part: the handler gets the signal number; restore puts the previous
    handler back. A Python-level handler stands by so a bug cannot kill the test process."""
    caught: list[int] = []
    got = asyncio.Event()

    def standby(signum: int, frame: object) -> None:
        caught.append(-signum)

    previous = signal.signal(signal.SIGTERM, standby)
    try:
        restore = shutdown.handle_exit_signals(lambda signum: (caught.append(signum), got.set()))
        signal.raise_signal(signal.SIGTERM)
        await asyncio.wait_for(got.wait(), 5)
        assert caught == [signal.SIGTERM]
        restore()
        assert signal.getsignal(signal.SIGTERM) is standby
        assert shutdown.exit_code(signal.SIGHUP) == 129
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize(("how", "code"), [("SIGTERM", 143), ("close the terminal", 129)])
def test_a_headless_run_is_stored_as_cancelled_on_a_signal(
    start, tmp_path: Path, how: str, code: int
) -> None:  # type: ignore[no-untyped-def]
    app = start(["run", "slow"])
    assert wait_until((tmp_path / "training").exists, START_TIMEOUT), app.text()[-2000:]
    if how == "close the terminal":
        app.close_terminal()
    else:
        os.kill(app.proc.pid, signal.SIGTERM)
    assert app.wait(EXIT_TIMEOUT) == code
    assert stored_runs(tmp_path) == [("slow", "cancelled")]
    assert not app.leftovers() and b"Traceback" not in app.output
    if how == "SIGTERM":
        assert b"status   cancelled" in app.output  # the summary is still printed


def test_leftover_processes_are_found_by_session_or_by_tag() -> None:
    """The harness itself: a process in its own session is found by that session id, and by
    the tag in its environment (what a worker started with start_new_session would carry)."""
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"],
        env={**os.environ, "PTYAPP_TAG": "test-tag"},
        start_new_session=True,
    )
    try:
        assert sleeper.pid in session_processes(sleeper.pid)
        assert sleeper.pid in session_processes(-1, "test-tag")
        assert sleeper.pid not in session_processes(-1, "other-tag")
    finally:
        sleeper.kill()
        sleeper.wait(10)
    assert sleeper.pid not in session_processes(sleeper.pid, "test-tag")


# -- limited terminals ---------------------------------------------------------------------------


@pytest.mark.parametrize("term", ["dumb", "vt100", "linux"])
def test_the_app_starts_draws_and_quits_on_limited_terminals(start, term: str) -> None:  # type: ignore[no-untyped-def]
    app = start(TERM=term, NO_COLOR="1")
    assert app.wait_for_text("Slow lesson", START_TIMEOUT), app.text()[-2000:]
    app.press("2")
    assert app.wait_for_text("def train(ctx):", START_TIMEOUT)  # the Code pane
    app.press("3")
    assert app.wait_for_text("not run yet", START_TIMEOUT)  # the Train pane
    app.press("q")
    assert app.wait(EXIT_TIMEOUT) == 0
    assert b"Traceback" not in app.output, app.text()[-3000:]
    assert b"\x1b[?1049l" in app.output  # the main screen is back


@pytest.mark.parametrize("term", ["dumb", "xterm-256color"])
def test_headless_run_uses_no_escape_sequences_on_a_dumb_terminal(start, term: str) -> None:  # type: ignore[no-untyped-def]
    app = start(["run", "slow", "--set", "steps=300"], TERM=term)
    assert app.wait(START_TIMEOUT) == 0, app.text()[-2000:]
    assert b"completed" in app.output
    if term == "dumb":
        assert b"\x1b" not in app.output, app.output[-500:]
    else:  # what the dumb case avoids: the live status line is erased with ESC[K
        assert b"\x1b[K" in app.output


def test_the_app_draws_ascii_where_the_terminal_cannot_encode_unicode(start) -> None:  # type: ignore[no-untyped-def]
    # LC_ALL=C without UTF-8 mode: stderr (where Textual draws) encodes ASCII only.
    app = start(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0", LANG="zh_CN.UTF-8")
    assert app.wait_for_text("cannot show Unicode", START_TIMEOUT), app.text()[-2000:]
    assert app.wait_for_text("Slow lesson", START_TIMEOUT)  # English, though LANG says zh
    # ctrl+l's label joins the footer once the panes are up: quitting before that left it
    # out (a flake on a slow machine).
    assert app.wait_for_text("????/", START_TIMEOUT), app.text()[-2000:]
    app.press("q")
    assert app.wait(EXIT_TIMEOUT) == 0
    assert app.output.isascii()
    text = app.text()
    assert "+- Lessons ---" in text  # the list's round border as ASCII, not ?- Lessons ???
    # Box lines, "·" and "…" have an ASCII likeness; "中文" (ctrl+l's label) takes 4 cells.
    assert "????/" in text and "?" not in text.replace("????/", ""), text[-2000:]
    assert "Traceback" not in text
