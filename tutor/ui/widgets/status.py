"""The status line above the footer: what is happening now, plus standing notes
(PyTorch still loading, progress not being saved) that stay until their cause is gone."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tutor.text import inert

STYLES = {"info": "", "ok": "green", "warning": "yellow", "error": "bold red"}


class StatusLine(Static):
    """One line: the latest message, then the standing notes."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.message = ""
        self.level = "info"
        self.torch_note = ""
        self.store_note = ""

    def say(self, message: str, level: str = "info") -> None:
        self.message, self.level = message, level
        self._redraw()

    def set_torch_note(self, note: str) -> None:
        self.torch_note = note
        self._redraw()

    def set_store_note(self, note: str) -> None:
        """A problem with the progress store; shown after every message until cleared,
        so a later message (a run's outcome) cannot hide it."""
        self.store_note = note
        self._redraw()

    @property
    def text(self) -> str:
        """The line as plain text (what tests and screen readers see)."""
        return self._line().plain

    def _line(self) -> Text:
        # Messages quote lesson titles, errors and paths: one line, nothing a terminal obeys.
        line = Text(inert(self.message, multiline=False), style=STYLES.get(self.level, ""))
        for note, style in ((self.store_note, "bold red"), (self.torch_note, "dim italic")):
            if note:
                line.append(("  ·  " if line else "") + note, style=style)
        return line

    def _redraw(self) -> None:
        # One line high whatever it says (app.tcss): a new message needs no layout.
        self.update(self._line(), layout=False)
