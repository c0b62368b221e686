"""Making text from lessons inert before a terminal sees it.

Lesson files, lesson code and its output are written by others. A title like
``"\\e]0;pwned\\a"`` or a log line with ``ESC[2J`` would otherwise retitle the terminal,
clear the screen, or (OSC 52) write to the learner's clipboard. :func:`inert` turns every
control character into a visible escape (``\\x1b``), so the text shows what it contains and
does nothing.

The loader refuses control characters in lesson files outright (see ``docs/reliability.md``);
what lesson *code* produces at run time (``ctx.log``, ``print``, an exception's message) is
passed through :func:`inert` where it enters the core (the run's log lines and its error).
Plain Python, no imports beyond ``re``: every front end and the core may use it.
"""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls (0x9b is a one-byte CSI on some terminals). Newline and
# tab are layout, not commands: kept in multi-line text, escaped in one-line text.
_CONTROLS_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROLS_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def inert(text: str, *, multiline: bool = True) -> str:
    """``text`` with every control character shown as ``\\xNN`` (ESC becomes ``\\x1b``).

    ``multiline`` keeps newlines and tabs (log blocks, tracebacks); without it they are
    escaped too (titles, one status line). Not meant to round-trip: an existing backslash
    is left as it is.
    """
    pattern = _CONTROLS_MULTILINE if multiline else _CONTROLS_ONE_LINE
    return pattern.sub(_escape, text)


def first_control(text: str, *, multiline: bool = True) -> str | None:
    """The first control character in ``text`` (as :func:`inert` would escape it), or None."""
    pattern = _CONTROLS_MULTILINE if multiline else _CONTROLS_ONE_LINE
    match = pattern.search(text)
    return match.group() if match else None
