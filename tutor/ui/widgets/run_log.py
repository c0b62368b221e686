"""The run log: ctx.log lines, tracebacks and hints, wrapped to the pane's width.

Lesson output is written by others and can be anything: control characters are made inert
(:func:`tutor.text.inert`), a line is cut after :data:`MAX_LINE_CHARS` characters and only
the last ``max_lines`` lines are kept. Wrapping one 10 MB line blocked the UI for 28-94 s.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from textual import events
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Log

from tutor.text import inert

FALLBACK_WIDTH = 76
MAX_LINE_CHARS = 2000  # then "… (N more characters)"


def cut(line: str) -> str:
    """``line`` made inert, and cut after :data:`MAX_LINE_CHARS` characters, saying so."""
    if len(line) <= MAX_LINE_CHARS:
        return inert(line)
    more = len(line) - MAX_LINE_CHARS
    return f"{inert(line[:MAX_LINE_CHARS])} … ({more:,} more characters)"


class RunLog(Log):
    """A ``Log`` that wraps long lines (tracebacks!) instead of hiding them off to the right.

    ``entries`` keeps every line as written, unwrapped, for tests and copying; the display
    is re-wrapped when the widget's width changes.

    Lines arrive during a run, and a ``Log`` lays out the whole screen for each write (its
    ``virtual_size`` is a layout reactive): 70-90 ms of the event loop per write on a slow
    machine. Here the scrollbars never come or go (the app's CSS: vertical always shown,
    horizontal never, lines are wrapped), so a write only moves the vertical scrollbar.
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, *, max_lines: int | None = None, id: str | None = None) -> None:
        super().__init__(id=id)  # the Log keeps every wrapped line; entries are capped here
        self.max_entries = max_lines
        self.entries: list[str] = []  # the first says how many were dropped, once some are
        self.dropped = 0
        self._wrapped_at = 0

    def add_lines(self, lines: Iterable[str]) -> None:
        new = [cut(part) for line in lines for part in line.splitlines() or [""]]
        if not new:
            return
        self.entries.extend(new)
        cap = self.max_entries
        if cap is None or len(self.entries) - bool(self.dropped) <= cap:
            self.write_lines(self._wrapped(new))
            return
        # Dropped a tenth more than needed, so the display is rebuilt once per cap/10 lines.
        body = self.entries[1:] if self.dropped else self.entries
        drop = len(body) - cap + cap // 10
        self.dropped += drop
        note = f"… {self.dropped:,} earlier lines not kept (the log keeps the last {cap:,})"
        self.entries = [note, *body[drop:]]
        self.clear()
        self.write_lines(self._wrapped(self.entries))

    def watch_virtual_size(self, size: Size) -> None:
        scrollbar = self.vertical_scrollbar
        scrollbar.window_virtual_size = size.height
        scrollbar.refresh()

    def reset(self) -> None:
        self.entries.clear()
        self.dropped = 0
        self.clear()

    @property
    def text(self) -> str:
        """Every entry, unwrapped, one per line."""
        return "\n".join(self.entries)

    def _text_width(self) -> int:
        width = self.scrollable_content_region.width
        return width if width > 10 else FALLBACK_WIDTH

    def _wrapped(self, lines: Iterable[str]) -> list[str]:
        width = self._wrapped_at = self._text_width()
        out: list[str] = []
        for line in lines:
            indent = " " * (len(line) - len(line.lstrip(" ")) + 2)
            out.extend(textwrap.wrap(line, width, subsequent_indent=indent) or [""])
        return out

    def on_resize(self, event: events.Resize) -> None:
        if self.entries and self._text_width() != self._wrapped_at:
            self.clear()
            self.write_lines(self._wrapped(self.entries))
