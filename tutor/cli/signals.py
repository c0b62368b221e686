"""Ctrl+C, SIGTERM and SIGHUP during ``dl-tutor run``: stop the run, don't kill the process,
so the summary still prints and the run is still stored.

The lesson runs on the main thread, so a step that never returns (``while True: pass``, a
call stuck in C) would keep the process alive for good after its terminal is gone. After
SIGTERM or SIGHUP a timer therefore gives the lesson :data:`GRACE_SECONDS` to stop; then it
calls ``on_stuck`` (which stores the run as cancelled with what was reported) and ends the
process with 143 / 129, like the app kills a stuck training process after 1 s.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Longer than the app's 1 s: here a kill also loses the summary, and an evaluation pass
# between two steps may take a moment on a CPU.
GRACE_SECONDS = 2.0


@contextmanager
def ctrl_c_cancels(
    cancel: threading.Event,
    ended_by: list[int] | None = None,
    on_stuck: Callable[[int], None] | None = None,
) -> Iterator[None]:
    """The first Ctrl+C asks the run to stop at its next report (it ends as ``cancelled``
    and the summary prints); a second one interrupts at once.

    SIGTERM and SIGHUP (the terminal closed) stop the run the same way, so it is still
    stored; their numbers go to ``ended_by`` for the exit code. After a hang-up the output
    goes to /dev/null (there is no terminal left to print on). If the run has not stopped
    :data:`GRACE_SECONDS` after such a signal, ``on_stuck(signum)`` runs on a timer thread
    and the process ends with ``128 + signum``.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return
    from tutor.ui import shutdown

    # Held by whoever ends the run: the main thread leaving this block, or the timer. The
    # timer keeps it until os._exit, so a run that stops at the last moment is not stored
    # twice (the main thread waits here and never gets to store it).
    ending = threading.Lock()
    timers: list[threading.Timer] = []

    def stuck(signum: int) -> None:
        if not ending.acquire(blocking=False):
            return  # the run stopped in time
        try:
            print(
                f"\ndl-tutor: the lesson did not stop within {GRACE_SECONDS:g} s; ending it",
                file=sys.stderr,
                flush=True,
            )
            if on_stuck is not None:
                on_stuck(signum)
        except BaseException:  # whatever happens, the process must end now
            pass
        finally:
            os._exit(shutdown.exit_code(signum))

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
        if not timers:
            timer = threading.Timer(GRACE_SECONDS, stuck, (signum,))
            timer.daemon = True
            timers.append(timer)
            timer.start()

    handlers = {signal.SIGINT: on_sigint, **{s: on_exit_signal for s in shutdown.EXIT_SIGNALS}}
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        yield
    finally:
        ending.acquire()  # blocks for good if the timer is already ending the process
        for timer in timers:
            timer.cancel()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
