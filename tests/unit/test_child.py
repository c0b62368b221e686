"""tutor.training.child: what the training process and the exercise checker share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tutor.training import child


def test_how_it_ended_says_it_in_words() -> None:
    assert child.how_it_ended(None) == "is still running"
    assert child.how_it_ended(0) == "exited with code 0"
    assert child.how_it_ended(3) == "exited with code 3"
    assert child.how_it_ended(-signal.SIGKILL) == "was killed by SIGKILL (out of memory?)"
    assert child.how_it_ended(-signal.SIGTERM) == "was killed by SIGTERM"


def test_child_env_puts_this_package_first_and_keeps_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    monkeypatch.setenv("DL_TUTOR_SOMETHING", "kept")
    env = child.child_env({"PYTHONUNBUFFERED": "1"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(child.PACKAGE_ROOT), "/elsewhere"]
    assert (child.PACKAGE_ROOT / "tutor" / "training" / "child.py").is_file()
    assert env["DL_TUTOR_SOMETHING"] == "kept"
    assert env["PYTHONIOENCODING"] == "utf-8"
    assert env["PYTHONUNBUFFERED"] == "1"


def test_spawn_runs_this_packages_module_in_its_own_session() -> None:
    proc = child.spawn(
        "tutor.exercises.checker", ["--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert b"python -m tutor.exercises.checker" in out
    assert err == b""  # runpy must not warn about running the checker twice


@pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")
def test_kill_group_also_kills_what_the_child_left_behind() -> None:
    # The child starts a grandchild that would sleep for a minute, prints its pid and exits:
    # killing the group after the child is gone must still end the grandchild.
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(p.pid, flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True
    )
    assert proc.stdout is not None
    grandchild = int(proc.stdout.readline())
    proc.stdout.close()
    proc.wait()
    child.kill_group(proc)
    deadline = time.monotonic() + 5
    while not _dead(grandchild):
        if time.monotonic() > deadline:
            os.kill(grandchild, signal.SIGKILL)
            pytest.fail("the grandchild outlived kill_group")
        time.sleep(0.05)


def _dead(pid: int) -> bool:
    # An orphan is reaped by init; until then a killed process is a zombie: dead enough.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
