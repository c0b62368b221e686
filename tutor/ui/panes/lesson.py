"""The Lesson and Code panes: the lesson's text, and its code as the learner reads it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static, TabPane

from tutor.lesson.catalog import LoadedLesson, Problem
from tutor.lesson.page import lesson_page
from tutor.text import inert
from tutor.ui.widgets.code_view import CodeView
from tutor.ui.widgets.lesson_text import LessonText


def lesson_markdown(loaded: LoadedLesson, lang: str = "en") -> str:
    """Title, summary and text of a lesson as one Markdown document (its index page too)."""
    lesson = loaded.lesson
    return lesson_page(
        lesson.title.get(lang),
        lesson.summary.get(lang),
        lesson.text.get(lang),
        bool(lesson.exercises),
    )


def problems_markdown(file: Path, problems: Sequence[Problem]) -> str:
    # A list of inline code rather than a code block: long paths wrap instead of being cut.
    lines = "\n".join(f"- `{p}`" for p in problems)
    return (
        f"# ✗ {file.parent.name}/{file.name}\n\n"
        "This lesson file cannot be used. Fix these problems and restart the app:\n\n"
        f"{lines}\n"
    )


class LessonPane(TabPane):
    """``#pane-lesson``: the lesson's text (``#lesson-text`` in ``#lesson-scroll``)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="lesson-scroll"):
            yield LessonText("", id="lesson-text")

    async def show(self, loaded: LoadedLesson, lang: str) -> None:
        await self._show_markdown(lesson_markdown(loaded, lang))

    async def show_problems(self, file: Path, problems: Sequence[Problem]) -> None:
        """A lesson file that cannot be used: what is wrong with it."""
        await self._show_markdown(problems_markdown(file, problems))

    async def show_text(self, markdown: str) -> None:
        await self._show_markdown(markdown)

    async def _show_markdown(self, markdown: str) -> None:
        # Lesson text, titles and problems quote files written by others: inert escapes.
        await self.query_one(LessonText).update(inert(markdown))
        self.query_one("#lesson-scroll", VerticalScroll).scroll_home(animate=False)

    def focus_content(self) -> None:
        self.query_one("#lesson-scroll").focus()


class CodePane(TabPane):
    """``#pane-code``: the lesson's file (``#code-path``) and code (``#lesson-code``)."""

    def compose(self) -> ComposeResult:
        yield Static("", id="code-path", markup=False)
        with VerticalScroll(id="code-scroll"):
            yield CodeView(id="lesson-code")

    def show(self, loaded: LoadedLesson, lang: str) -> None:
        try:
            code = loaded.code()
        except OSError as e:
            code = f"# cannot read {loaded.code_path}: {e}"
        self._show_code(str(loaded.code_path), code)

    def show_problems(self, file: Path, problems: Sequence[Problem]) -> None:
        """A lesson file that cannot be used: its path, no code (the Lesson pane says why)."""
        self._show_code(str(file), "")

    def show_nothing(self) -> None:
        self._show_code("", "")

    def _show_code(self, path: str, code: str) -> None:
        self.query_one("#code-path", Static).update(path)
        self.query_one(CodeView).show_code(code)
        self.query_one("#code-scroll", VerticalScroll).scroll_home(animate=False)

    def focus_content(self) -> None:
        self.query_one("#code-scroll").focus()
