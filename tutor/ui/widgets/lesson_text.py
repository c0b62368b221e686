"""The lesson text: Textual's Markdown, with code blocks that name no language shown plain.

Textual guesses the language of such a block with Pygments' ``guess_lexer``, which imports
and tries every lexer Pygments has: ~0.3 s the first time, tens of ms after, per block.
Lesson texts indent formulas (``cost(w) = mean(…)``), which no guess colours sensibly.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock, MarkdownFence


class PlainFence(MarkdownFence):
    """A code block; without a language it is plain text (no guessing)."""

    @classmethod
    def highlight(cls, code: str, language: str, ansi: bool = False, dark: bool = False) -> Content:
        return super().highlight(code, language or "text", ansi=ansi, dark=dark)


class LessonText(Markdown):
    """``#lesson-text``: a Markdown widget whose unlabelled code blocks are not guessed."""

    BLOCKS: dict[str, type[MarkdownBlock]] = {
        **Markdown.BLOCKS,
        "fence": PlainFence,
        "code_block": PlainFence,
    }
