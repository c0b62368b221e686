"""Ending the app cleanly when its terminal closes (SIGHUP) or it is asked to (SIGTERM).

Python's default for both signals is to die on the spot: the run in progress is never
recorded and the terminal is left in raw mode. Textual handles neither, so the app routes
them through its normal exit (cancel the run, store it, restore the terminal).

Plain Python, no Textual import: the app calls :func:`handle_exit_signals` at mount, and
:func:`signalled` when one of them comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

# SIGHUP does not exist on Windows; there the console closes the process differently.
SIGHUP: int | None = getattr(signal, "SIGHUP", None)
EXIT_SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGHUP", "SIGTERM") if hasattr(signal, name)
)
# Once the app has ended (or been told to), the process gets this long to finish on its own.
# Normal teardown takes a few seconds at most; more means a lesson step that never returns
# (the training thread cannot be interrupted, and Python waits for it) or a stuck terminal.
FORCE_EXIT_SECONDS = 15.0


def handle_exit_signals(handler: Callable[[int], None]) -> Callable[[], None]:
    """Call ``handler(signum)`` on the running event loop for SIGHUP and SIGTERM.

    Returns a function that puts the previous handlers back. Where the loop cannot take
    signal handlers (Windows, or a loop off the main thread) nothing changes.
    """
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {}
    for signum in EXIT_SIGNALS:
        before = signal.getsignal(signum)
        try:
            loop.add_signal_handler(signum, handler, signum)
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        previous[signum] = before

    def restore() -> None:
        for signum, before in previous.items():
            with contextlib.suppress(Exception):  # the loop may already be closed
                loop.remove_signal_handler(signum)  # this leaves SIG_DFL: put back the old one
                signal.signal(signum, signal.SIG_DFL if before is None else before)

    return restore


def exit_code(signum: int) -> int:
    """The shell's convention for "ended by signal N": 128 + N (129 for SIGHUP, 143 SIGTERM)."""
    return 128 + signum


def signalled(signum: int, owns_process: bool) -> int:
    """The app got ``signum``: make ending possible, and return the exit code to end with.

    After a hang-up the terminal is gone; a process the app owns (``dl-tutor``, never a test's)
    is ended by force if shutting down gets stuck.
    """
    if signum == SIGHUP:
        detach_from_terminal()  # the terminal is gone: nothing can be shown
    code = exit_code(signum)
    if owns_process:
        force_exit_after(FORCE_EXIT_SECONDS, code)
    return code


def detach_from_terminal() -> None:
    """After a hang-up: point stdin, stdout and stderr at /dev/null.

    Restoring the terminal and any last message then write nowhere, instead of failing
    with EIO (which would also stop Textual's output thread and leave the app waiting on it).
    """
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.dup2(null, fd)
    os.close(null)


def force_exit_after(seconds: float, code: int) -> None:
    """Last resort: end the process with ``code`` after ``seconds`` if it is still alive.

    Only for the process that runs the app (``dl-tutor``), never inside tests. The progress
    store is closed before this can fire, so nothing stored is lost.
    """
    timer = threading.Timer(seconds, os._exit, (code,))
    timer.daemon = True  # never what keeps the process alive
    timer.start()
