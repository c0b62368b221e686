"""What a loaded set of lessons is: :class:`Catalog`, :class:`LoadedLesson`, :class:`Problem`.

Light on purpose (no YAML, no pydantic): the app imports these types before its first
screen, and loads lessons with :mod:`tutor.lesson.loader` (which re-exports them) only after.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tutor import paths

if TYPE_CHECKING:
    from tutor.lesson.schema import Lesson


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    field: str
    message: str
    # "warning": worth fixing, but the lesson loads and `dl-tutor validate` still passes.
    severity: str = "error"

    def __str__(self) -> str:
        label = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {self.field}: {label}{self.message}"


class LessonError(Exception):
    """A lesson file that cannot be used; carries every problem found in it."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class LoadedLesson:
    lesson: Lesson
    path: Path  # the YAML file
    code_path: Path  # the Python file the runner executes and the app shows
    recorded: frozenset[str] = frozenset()  # names the code passes to ctx.record
    warnings: tuple[Problem, ...] = ()  # non-fatal problems (Problem.severity "warning")
    # Lines of top-level keys ("id", "order") for problems found across lessons.
    key_lines: Mapping[str, int] = field(default_factory=dict, hash=False, compare=False)
    pack: str | None = None  # the lesson pack (entry point name) it came from; None: not a pack

    @property
    def id(self) -> str:
        return self.lesson.id

    def code(self) -> str:
        return self.code_path.read_text(encoding="utf-8")


@dataclass
class Catalog:
    lessons: list[LoadedLesson] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # of the loaded lessons; non-fatal

    def get(self, lesson_id: str) -> LoadedLesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def suggest(self, lesson_id: str) -> list[str]:
        return difflib.get_close_matches(lesson_id, [x.id for x in self.lessons], n=3, cutoff=0.5)

    @property
    def broken_files(self) -> list[Path]:
        return sorted({p.file for p in self.problems})


def lesson_files(directory: Path) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` under ``directory``, except in a top-level ``translations/``
    folder (a lesson pack's translations, tutor.lesson.packs)."""
    return sorted(
        p
        for p in directory.rglob("*")
        if p.suffix in (".yaml", ".yml")
        and p.is_file()
        and p.relative_to(directory).parts[0] != "translations"
    )


def lesson_dirs(extra_dirs: Iterable[Path] = (), *, builtin: bool = True) -> list[Path]:
    """Where lessons come from, in order: the built-in directory and every installed lesson
    pack's (when ``builtin``), then each of ``extra_dirs``."""
    from tutor.lesson.packs import installed_packs

    dirs = [paths.builtin_lessons_dir()] if builtin else []  # looked up late: tests patch it
    if builtin:
        dirs += [p.directory for p in installed_packs() if p.directory is not None]
    return dirs + [Path(d) for d in extra_dirs]


def catalog_files(extra_dirs: Iterable[Path] = (), *, builtin: bool = True) -> list[Path]:
    """The lesson files ``load_catalog`` reads, in its order: the built-in directory and the
    lesson packs first, then each of ``extra_dirs`` (a directory, or a single lesson file)."""
    dirs = lesson_dirs(extra_dirs, builtin=builtin)
    return [f for d in dirs for f in (lesson_files(d) if d.is_dir() else [d])]
