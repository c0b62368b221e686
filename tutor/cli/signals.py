"""Ctrl+C, SIGTERM and SIGHUP during ``dl-tutor run``: stop the run, don't kill the process,
so the summary still prints and the run is still stored."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def ctrl_c_cancels(cancel: threading.Event, ended_by: list[int] | None = None) -> Iterator[None]:
    """The first Ctrl+C asks the run to stop at its next report (it ends as ``cancelled``
    and the summary prints); a second one interrupts at once.

    SIGTERM and SIGHUP (the terminal closed) stop the run the same way, so it is still
    stored; their numbers go to ``ended_by`` for the exit code. After a hang-up the output
    goes to /dev/null (there is no terminal left to print on).
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return
    from tutor.ui import shutdown

    def on_sigint(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("\nstopping at the next step (Ctrl+C again to quit now)", file=sys.stderr, flush=True)

    def on_exit_signal(signum: int, frame: object) -> None:
        if cancel.is_set() and ended_by:  # a second one: the step in progress will not end
            raise SystemExit(shutdown.exit_code(signum))
        if signum == shutdown.SIGHUP:
            shutdown.detach_from_terminal()
        if ended_by is not None:
            ended_by.append(signum)
        cancel.set()

    handlers = {signal.SIGINT: on_sigint, **{s: on_exit_signal for s in shutdown.EXIT_SIGNALS}}
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
