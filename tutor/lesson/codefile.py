"""Reading a lesson's code file safely, and parsing it without ever raising past the caller.

``code:`` in a lesson file is text the lesson's author wrote: it may name a FIFO (reading it
blocks forever), ``/dev/zero`` (never ends), ``/dev/stdin`` (the terminal), a file outside the
lesson (``/etc/passwd``) or a huge file. Every one of these is refused with one sentence, so
the loader can report it as a ``Problem`` on the ``code`` field.
"""

from __future__ import annotations

import ast
import os
import stat
from pathlib import Path

MAX_CODE_BYTES = 1024 * 1024


class CodeFileError(ValueError):
    """A code file that cannot be used; the message is one sentence for the learner."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line  # a line in the code file, when the problem has one


def resolve_inside(lesson_dir: Path, code: str) -> Path:
    """``code`` resolved against ``lesson_dir``; it must stay inside that directory."""
    base = lesson_dir.resolve()
    try:
        path = (base / code).resolve()
    except (OSError, RuntimeError, ValueError) as e:  # symlink loops, NUL in the name
        raise CodeFileError(f"code file {code!r} cannot be resolved: {e}") from None
    if not path.is_relative_to(base):
        raise CodeFileError(f"code file {code!r} is outside the lesson's directory")
    return path


def read_source(path: Path, limit: int = MAX_CODE_BYTES) -> str:
    """The text of a regular file of at most ``limit`` bytes; :class:`CodeFileError` otherwise.

    Opened non-blocking and checked with ``fstat`` on the open file: opening a FIFO with no
    writer would otherwise block, and checking before opening leaves a window to swap files.
    """
    name = path.name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise CodeFileError(f"code file {name!r} not found") from None
    except (OSError, ValueError) as e:
        raise CodeFileError(f"cannot read code file {name!r}: {_reason(e)}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # a FIFO, a device, a directory
        os.close(fd)
        raise CodeFileError(f"code file {name!r} is not a regular file")
    with os.fdopen(fd, "rb") as f:
        if info.st_size > limit:
            raise CodeFileError(f"code file {name!r} is larger than {limit // 1024} KiB")
        try:
            raw = f.read(limit + 1)
        except OSError as e:
            raise CodeFileError(f"cannot read code file {name!r}: {_reason(e)}") from None
    if len(raw) > limit:  # grew after fstat
        raise CodeFileError(f"code file {name!r} is larger than {limit // 1024} KiB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise CodeFileError(f"code file {name!r} is not UTF-8 text", line) from None


def parse_source(source: str, path: Path) -> ast.Module:
    """``ast.parse`` whose every failure is a :class:`CodeFileError` with a line number.

    The parser raises more than ``SyntaxError``: ``ValueError`` for NUL bytes (3.11; 3.12 gives
    a ``SyntaxError`` with no line), ``MemoryError`` or ``RecursionError`` for very deep
    expressions (100,000 unary minus signs).
    """
    name = path.name
    nul = source.find("\0")
    if nul >= 0:
        line = source.count("\n", 0, nul) + 1
        raise CodeFileError(f"{name}:{line}: syntax error: NUL byte in the source", line)
    try:
        return ast.parse(source, filename=str(path))
    except SyntaxError as e:
        line = e.lineno or 1
        raise CodeFileError(f"{name}:{line}: syntax error: {e.msg}", line) from None
    except (MemoryError, RecursionError):
        raise CodeFileError(f"{name}: syntax error: nested too deeply to parse") from None
    except ValueError as e:
        raise CodeFileError(f"{name}: syntax error: {e}") from None


def _reason(e: BaseException) -> str:
    return (e.strerror if isinstance(e, OSError) else None) or str(e)
