"""The sidebar: every lesson as ``<mark> NN title``, then broken lesson files marked ✗.

The mark is the learner's progress in that lesson (``ProgressStore.lesson_status``):
``✓`` done, ``•`` started, a blank for new; ``●`` while the lesson trains.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tutor.lesson.catalog import Catalog, LoadedLesson, Problem
from tutor.lesson.index import IndexEntry, LessonIndex
from tutor.text import inert

BROKEN_PREFIX = "broken:"  # option ids of broken files; lesson ids never contain ':'

# lesson_status -> (mark, style). Every mark is one cell wide, so titles stay aligned.
STATUS_MARKS = {"done": ("✓", "green"), "started": ("•", "yellow"), "new": (" ", "")}
RUNNING_MARK = ("●", "bold cyan")


def lesson_label(loaded: LoadedLesson | IndexEntry, lang: str = "en") -> str:
    # Inert: a cached index or a catalog built in code has not been through the loader.
    if isinstance(loaded, IndexEntry):
        return f"{loaded.order:02d} {inert(loaded.title(lang), multiline=False)}"
    return f"{loaded.lesson.order:02d} {inert(loaded.lesson.title.get(lang), multiline=False)}"


# app.tcss keeps each entry on one line, cut with … (by cell width, so CJK titles too),
# so a narrow sidebar stays scannable; the header shows the open lesson's full title.


def broken_label(file: Path) -> Text:
    # The directory names the lesson better than "lesson.yaml" does.
    return Text(inert(f"✗ {file.parent.name}/{file.name}", multiline=False), style="red")


class LessonList(OptionList):
    """Lessons by order; Enter (or a click) opens one.

    It lists a :class:`LessonIndex`: at start the cached one (before any lesson is loaded),
    then the loaded catalog's.
    """

    class LessonChosen(Message):
        def __init__(self, lesson_id: str) -> None:
            super().__init__()
            self.lesson_id = lesson_id

    class BrokenFileChosen(Message):
        def __init__(self, file: Path, problems: list[Problem]) -> None:
            super().__init__()
            self.file = file
            self.problems = problems

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lessons: dict[str, IndexEntry] = {}
        self._broken: dict[str, tuple[Path, list[Problem]]] = {}
        self._lang = "en"
        self._status: dict[str, str] = {}  # lesson id -> new | started | done
        self._training: str | None = None  # not `_running`: Textual's MessagePump uses that

    def show_catalog(self, catalog: Catalog | LessonIndex, lang: str = "en") -> None:
        """List ``catalog`` in ``lang`` (also to switch language: marks and the highlighted
        entry are kept)."""
        index = catalog if isinstance(catalog, LessonIndex) else LessonIndex.from_catalog(catalog)
        highlighted = self.highlighted
        self._lang = lang
        self._lessons = {x.id: x for x in index.lessons}
        self._broken = {
            f"{BROKEN_PREFIX}{i}": (file, [p for p in index.problems if p.file == file])
            for i, file in enumerate(index.broken_files)
        }
        options = [Option(self._prompt(x), id=x.id) for x in index.lessons]
        options += [Option(broken_label(file), id=key) for key, (file, _) in self._broken.items()]
        self.set_options(options)
        if highlighted is not None and highlighted < len(options):
            self.highlighted = highlighted

    def _prompt(self, loaded: IndexEntry) -> Text:
        if loaded.id == self._training:
            mark, style = RUNNING_MARK
        else:
            mark, style = STATUS_MARKS.get(self._status.get(loaded.id, "new"), STATUS_MARKS["new"])
        entry = Text(mark, style=style)
        entry.append(" " + lesson_label(loaded, self._lang))
        return entry

    def _redraw(self, lesson_id: str) -> None:
        loaded = self._lessons.get(lesson_id)
        if loaded is not None:
            self.replace_option_prompt(lesson_id, self._prompt(loaded))

    def mark_running(self, lesson_id: str | None) -> None:
        """Put ● before the lesson that is training, so it is findable from anywhere."""
        before, self._training = self._training, lesson_id
        for changed in {before, lesson_id} - {None}:
            self._redraw(changed)  # type: ignore[arg-type]

    def set_statuses(self, statuses: dict[str, str]) -> None:
        """Progress marks: ``{lesson_id: "new" | "started" | "done"}`` (others unchanged)."""
        for lesson_id, status in statuses.items():
            if self._status.get(lesson_id) != status:
                self._status[lesson_id] = status
                self._redraw(lesson_id)

    def status(self, lesson_id: str) -> str:
        """The progress mark's status of a lesson (``new`` until the store says otherwise)."""
        return self._status.get(lesson_id, "new")

    def select_lesson(self, lesson_id: str) -> None:
        if lesson_id in self._lessons:
            self.highlighted = self.get_option_index(lesson_id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        key = event.option.id or ""
        if key in self._lessons:
            self.post_message(self.LessonChosen(key))
        elif key in self._broken:
            self.post_message(self.BrokenFileChosen(*self._broken[key]))
