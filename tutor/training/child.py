"""What both kinds of child process share: the training process (:mod:`tutor.training.process`)
and the exercise checker (:mod:`tutor.exercises.checker`).

Both run ``python -m tutor.…`` from this checkout, in their own session, and both are killed
as a whole process group: lesson and learner code may start processes of their own
(DataLoader workers) that must not outlive a run or a check.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# `python -m tutor…` in the child must import this copy of the package, wherever the caller
# was started from (an editable checkout, a test's temporary directory).
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment with this package first on PYTHONPATH, UTF-8 I/O and ``extra``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH")) if p
    )
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra or {})
    return env


def spawn(
    module: str,
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    **popen: Any,
) -> subprocess.Popen[bytes]:
    """Start ``python -m module args`` with :func:`child_env` (plus ``env``) in its own session.

    Its own session: the terminal's Ctrl+C and hang-up reach only the parent, which then stops
    the child in order; and its process group is what :func:`kill_group` kills.
    """
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        env=child_env(env),
        start_new_session=os.name == "posix",
        **popen,
    )


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the child and everything it started. Safe to call after the child exited: the
    processes it left behind in its group are killed too."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
            return
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already (or was never ours): at least the child itself
    proc.kill()  # a no-op once the child has been waited for


def how_it_ended(code: int | None) -> str:
    """``returncode`` in words for an error message: "was killed by SIGKILL (out of memory?)"."""
    if code is None:
        return "is still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"was killed by {name}{why}"
    return f"exited with code {code}"
