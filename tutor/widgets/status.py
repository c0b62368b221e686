"""The status line above the footer: what is happening now, and whether PyTorch is ready."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

STYLES = {"info": "", "ok": "green", "warning": "yellow", "error": "bold red"}


class StatusLine(Static):
    """One line: the latest message, then a PyTorch note while it is still loading."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.message = ""
        self.level = "info"
        self.torch_note = ""

    def say(self, message: str, level: str = "info") -> None:
        self.message, self.level = message, level
        self._redraw()

    def set_torch_note(self, note: str) -> None:
        self.torch_note = note
        self._redraw()

    @property
    def text(self) -> str:
        """The line as plain text (what tests and screen readers see)."""
        return self._line().plain

    def _line(self) -> Text:
        line = Text(self.message, style=STYLES.get(self.level, ""))
        if self.torch_note:
            line.append(("  ·  " if self.message else "") + self.torch_note, style="dim italic")
        return line

    def _redraw(self) -> None:
        self.update(self._line())
