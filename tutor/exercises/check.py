"""Checking, the parent's side: run the checker child (:mod:`tutor.exercises.checker`), read
its JSON lines, and turn a hang or a crash into an ``error`` result instead of a stuck caller.

Learner code never runs in this process: an infinite loop or a crash in it costs one child,
and the exercises it never reached are checked in a fresh one.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.exercises.result import ExerciseResult
from tutor.exercises.workspace import ensure_workspace
from tutor.training import child

if TYPE_CHECKING:
    from tutor.lesson.catalog import LoadedLesson

DEFAULT_TIMEOUT = 30.0  # seconds per exercise (and for importing the learner's file)
# Starting the checker (Python, torch, the lesson's own code) is not the learner's doing and
# takes a few seconds on a busy machine; it gets its own, generous limit.
STARTUP_TIMEOUT = 120.0
STDERR_TAIL_LINES = 15


def check_exercises(
    loaded: LoadedLesson,
    learner_path: Path | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    names: Iterable[str] | None = None,
) -> list[ExerciseResult]:
    """Check the learner's implementations (default: the workspace file, created if missing).

    One result per exercise (or per name in ``names``), in the lesson's order. Learner code
    runs in a subprocess; an exercise that runs longer than ``timeout`` seconds is an
    ``error`` and the others are still checked (in a fresh process).
    """
    wanted = set(names) if names is not None else None
    exercises = [e for e in loaded.lesson.exercises if wanted is None or e.name in wanted]
    if not exercises:
        return []
    path = Path(learner_path) if learner_path is not None else ensure_workspace(loaded)
    if not path.is_file():
        return [ExerciseResult(e.name, "error", f"{path} does not exist") for e in exercises]
    targets = {e.name: e.target for e in exercises}
    results: dict[str, ExerciseResult] = {}
    pending = [e.name for e in exercises]
    while pending:
        got = _run_checker(loaded, path, pending, targets, timeout)
        results.update(got)
        left = [n for n in pending if n not in results]
        if len(left) == len(pending):  # no progress: never loop forever
            for n in left:
                results[n] = ExerciseResult(n, "error", "the checker stopped without a result")
            break
        pending = left
    return [results[e.name] for e in exercises]


def _run_checker(
    loaded: LoadedLesson,
    path: Path,
    names: list[str],
    targets: dict[str, str],
    timeout: float,
) -> dict[str, ExerciseResult]:
    """One checker subprocess for ``names``. Returns the results it produced; if it hung or
    died, the exercise it was on gets an error, and the ones it never reached are missing
    (the caller starts another process for them). Hanging before any exercise started is an
    error for all of them."""
    args = ["--lesson", str(loaded.path), "--learner", str(path.resolve())]
    args += ["--only", ",".join(names)]
    results: dict[str, ExerciseResult] = {}
    with tempfile.TemporaryFile() as stderr:
        proc = child.spawn(
            "tutor.exercises.checker",
            args,
            env={
                # tiny tensors: threads only cost start-up time
                "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
                "PYTHONDONTWRITEBYTECODE": "1",
            },
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=str(path.parent),
        )
        lines: queue.Queue[bytes | None] = queue.Queue()
        reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
        reader.start()
        phase, current = "startup", None
        deadline = time.monotonic() + max(STARTUP_TIMEOUT, timeout)
        try:
            while True:
                try:
                    raw = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    _timed_out(results, names, phase, current, targets, timeout)
                    break
                if raw is None:  # the process ended
                    code = proc.wait()
                    _died(results, names, phase, current, code, _tail(stderr))
                    break
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue  # not ours (a stray write to the real stdout fd)
                kind = event.get("event")
                if kind == "ready":
                    phase, deadline = "import", time.monotonic() + timeout
                elif kind == "start":
                    phase, current = "exercise", event["name"]
                    deadline = time.monotonic() + timeout
                elif kind == "result":
                    result = ExerciseResult(
                        event["name"], event["status"], event["message"], event.get("line")
                    )
                    results[result.name] = result
                    phase, current = "between", None
                    deadline = time.monotonic() + timeout
                elif kind == "done":
                    break
        finally:
            _stop(proc)
            # EOF reaches the reader once the process is gone; close the pipe only after it
            # stopped reading.
            reader.join(timeout=5)
            if proc.stdout is not None and not reader.is_alive():
                proc.stdout.close()
    return results


def _pump(stream: Any, lines: queue.Queue[bytes | None]) -> None:
    try:
        for raw in iter(stream.readline, b""):
            lines.put(raw)
    finally:
        lines.put(None)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # The whole group, even after a clean exit: learner code may have started processes.
    child.kill_group(proc)
    proc.wait()


def _tail(stderr: Any) -> str:
    stderr.seek(0)
    text = stderr.read().decode("utf-8", errors="replace")
    return "\n".join(text.rstrip().splitlines()[-STDERR_TAIL_LINES:])


def _timed_out(
    results: dict[str, ExerciseResult],
    names: list[str],
    phase: str,
    current: str | None,
    targets: dict[str, str],
    timeout: float,
) -> None:
    if phase == "exercise" and current is not None:
        message = (
            f"{targets.get(current, current)} took longer than {timeout:g} s (an infinite loop?)"
        )
        results[current] = ExerciseResult(current, "error", message)
        return
    if phase == "startup":
        message = f"the checker did not start within {max(STARTUP_TIMEOUT, timeout):g} s"
    elif phase == "import":
        message = (
            f"importing your file took longer than {timeout:g} s "
            "(an infinite loop outside the functions?)"
        )
    else:
        message = f"the checker stopped answering for {timeout:g} s"
    for name in names:
        results.setdefault(name, ExerciseResult(name, "error", message))


def _died(
    results: dict[str, ExerciseResult],
    names: list[str],
    phase: str,
    current: str | None,
    code: int,
    stderr_tail: str,
) -> None:
    if all(n in results for n in names):
        return  # finished everything, then exited (no "done" line): nothing is lost
    how = child.how_it_ended(code)
    detail = f"\n{stderr_tail}" if stderr_tail else ""
    if phase == "exercise" and current is not None:
        results[current] = ExerciseResult(
            current, "error", f"the check process {how} while running {current}{detail}"
        )
        return
    for name in names:
        results.setdefault(name, ExerciseResult(name, "error", f"the check process {how}{detail}"))
