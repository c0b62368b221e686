"""Run ``dl-tutor`` in a real pseudo-terminal, as a learner's terminal would, for tests of
what only a real process shows: signals, hang-ups, TERM settings, exit codes.

The child gets its own session with the pty as its controlling terminal (like a terminal
window's shell), so closing the master sends it SIGHUP; every process it starts can be found
afterwards by session id, or by a tag in its inherited environment.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

# This checkout's installed entry point; `python -m tutor` where there is none.
_SCRIPT = Path(sys.executable).with_name("dl-tutor")
DL_TUTOR = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "tutor"]
# CSI/OSC/other escape sequences, so tests can search the text that was drawn.
_ESCAPES = re.compile(
    rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)"
)


def _take_terminal() -> None:
    """In the child, after setsid: make the pty (its stdin) the controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def wait_until(condition: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds pass; its last truth value."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return bool(condition())
        time.sleep(interval)


def session_processes(sid: int, tag: str | None = None) -> list[int]:
    """Every live (not zombie) process whose session id is ``sid`` or, with ``tag``, whose
    environment holds ``PTYAPP_TAG=<tag>``: children that start their own session (a worker
    process, say) inherit the environment, so they are found too. From /proc."""
    found = []
    marker = f"PTYAPP_TAG={tag}".encode() if tag else None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # pid (comm) state ppid pgrp session ...; comm may contain spaces and parentheses.
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] == "Z":
                continue
            ours = int(fields[3]) == sid
            if not ours and marker is not None:
                ours = marker in (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # it just ended, or is not ours to read
            continue
        if ours:
            found.append(int(entry.name))
    return found


class PtyApp:
    """``dl-tutor ARGS`` on an 80×24 pty; its output is read continuously (a full pty
    buffer would block the app) and kept for assertions."""

    def __init__(
        self,
        args: list[str],
        env: Mapping[str, str],
        size: tuple[int, int] = (80, 24),
    ) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.master: int | None = master
        self.tag = uuid.uuid4().hex  # marks every process it starts, see session_processes
        self.proc = subprocess.Popen(
            [*DL_TUTOR, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "PTYAPP_TAG": self.tag},
            start_new_session=True,
            preexec_fn=_take_terminal,
        )
        os.close(slave)
        self.sid = self.proc.pid  # setsid: the child leads its own session and group
        self._output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, args=(master,), daemon=True)
        self._reader.start()

    def _read(self, fd: int) -> None:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO once the child side is closed, EBADF once we close it
                return
            if not chunk:
                return
            with self._lock:
                self._output += chunk

    @property
    def output(self) -> bytes:
        with self._lock:
            return bytes(self._output)

    def text(self) -> str:
        """What was written, escape sequences removed."""
        return _ESCAPES.sub(b"", self.output).decode("utf-8", "replace")

    def wait_for_text(self, needle: str, timeout: float) -> bool:
        wait_until(lambda: needle in self.text() or self.proc.poll() is not None, timeout)
        return needle in self.text()

    def press(self, keys: str) -> None:
        assert self.master is not None
        os.write(self.master, keys.encode())

    def close_terminal(self) -> None:
        """Close the master side, as a terminal window closing does (the kernel hangs up)."""
        if self.master is not None:
            os.close(self.master)
            self.master = None

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def leftovers(self) -> list[int]:
        """Processes of this app still alive: its session, or carrying its tag."""
        return session_processes(self.sid, self.tag)

    def stop(self) -> None:
        """Clean up whatever the test left: SIGKILL every process of the child's session."""
        for pid in [self.proc.pid, *self.leftovers()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.wait(10)
        self.close_terminal()
