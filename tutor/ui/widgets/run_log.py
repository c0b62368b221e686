"""The run log: ctx.log lines, tracebacks and hints, wrapped to the pane's width."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from textual import events
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Log

FALLBACK_WIDTH = 76


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
        super().__init__(max_lines=max_lines, id=id)
        self.entries: list[str] = []
        self._wrapped_at = 0

    def add_lines(self, lines: Iterable[str]) -> None:
        new = [part for line in lines for part in line.splitlines() or [""]]
        if not new:
            return
        self.entries.extend(new)
        if self.max_lines is not None:
            del self.entries[: -self.max_lines]
        self.write_lines(self._wrapped(new))

    def watch_virtual_size(self, size: Size) -> None:
        scrollbar = self.vertical_scrollbar
        scrollbar.window_virtual_size = size.height
        scrollbar.refresh()

    def reset(self) -> None:
        self.entries.clear()
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
