"""The sidebar: every lesson as ``NN title``, then broken lesson files marked ✗."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tutor.lessons import Catalog, LoadedLesson, Problem

BROKEN_PREFIX = "broken:"  # option ids of broken files; lesson ids never contain ':'


def lesson_label(loaded: LoadedLesson, lang: str = "en") -> str:
    return f"{loaded.lesson.order:02d} {loaded.lesson.title.get(lang)}"


def _entry(text: str, style: str = "") -> Text:
    # app.tcss keeps each entry on one line, cut with …, so a narrow sidebar stays
    # scannable; the header shows the open lesson's full title.
    return Text(text, style=style)


def broken_label(file: Path) -> Text:
    # The directory names the lesson better than "lesson.yaml" does.
    return _entry(f"✗ {file.parent.name}/{file.name}", style="red")


class LessonList(OptionList):
    """Lessons by order; Enter (or a click) opens one."""

    class LessonChosen(Message):
        def __init__(self, loaded: LoadedLesson) -> None:
            super().__init__()
            self.loaded = loaded

    class BrokenFileChosen(Message):
        def __init__(self, file: Path, problems: list[Problem]) -> None:
            super().__init__()
            self.file = file
            self.problems = problems

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lessons: dict[str, LoadedLesson] = {}
        self._broken: dict[str, tuple[Path, list[Problem]]] = {}
        self._lang = "en"

    def show_catalog(self, catalog: Catalog, lang: str = "en") -> None:
        self._lang = lang
        self._lessons = {x.id: x for x in catalog.lessons}
        self._broken = {
            f"{BROKEN_PREFIX}{i}": (file, [p for p in catalog.problems if p.file == file])
            for i, file in enumerate(catalog.broken_files)
        }
        options = [Option(_entry(lesson_label(x, lang)), id=x.id) for x in catalog.lessons]
        options += [Option(broken_label(file), id=key) for key, (file, _) in self._broken.items()]
        self.set_options(options)

    def mark_running(self, lesson_id: str | None) -> None:
        """Put ● before the lesson that is training, so it is findable from anywhere."""
        for loaded in self._lessons.values():
            mark = "● " if loaded.id == lesson_id else ""
            self.replace_option_prompt(loaded.id, _entry(mark + lesson_label(loaded, self._lang)))

    def select_lesson(self, lesson_id: str) -> None:
        if lesson_id in self._lessons:
            self.highlighted = self.get_option_index(lesson_id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        key = event.option.id or ""
        if key in self._lessons:
            self.post_message(self.LessonChosen(self._lessons[key]))
        elif key in self._broken:
            self.post_message(self.BrokenFileChosen(*self._broken[key]))
