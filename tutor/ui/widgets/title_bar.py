"""The top line: the app's title and what is open, as ``App.format_title`` puts them."""

from __future__ import annotations

from textual.widgets import Static


class TitleBar(Static):
    """``#title-bar``: ``App.title`` and ``App.sub_title`` (the open lesson), centred.

    Textual's ``Header`` shows the same with four widgets and their styles, which the first
    frame had to lay out and parse (~0.02 s here); a keyboard user gains nothing from its
    icon (ctrl+p opens the command palette, as the footer says)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "title", self._retitle, init=False)
        self.watch(self.app, "sub_title", self._retitle)

    def _retitle(self) -> None:
        # One line high (app.tcss): a new title needs no layout.
        self.update(self.app.format_title(self.app.title, self.app.sub_title), layout=False)
