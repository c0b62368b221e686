"""The Code pane's text: exactly the file the runner executes, syntax highlighted."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.widgets import Static


class CodeView(Static):
    """Highlighted Python source; ``code`` holds the exact text shown.

    A ``Static`` with rich's ``Syntax`` (pygments) rather than ``TextArea``: TextArea
    highlights only with the optional tree-sitter packages, which we do not require.
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.code = ""

    def show_code(self, code: str) -> None:
        self.code = code
        if not code:
            self.update("")
            return
        self.update(
            Syntax(
                code,
                "python",
                theme="ansi_dark",
                line_numbers=True,
                word_wrap=False,
                background_color="default",
            )
        )
