"""What every ``dl-tutor`` command shares: the program name, one-line failures, finding the
lessons and the lesson named on the command line, and text that fits terminal cells."""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tutor.lesson.catalog import Catalog, LoadedLesson, Problem

PROG = "dl-tutor"
LIST_WIDTH = 80  # tables and charts fit this when stdout is not a terminal


def fail(message: str, code: int = 2) -> int:
    """Print ``dl-tutor: message`` on stderr; returns the exit code (2: a usage error)."""
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# -- lessons ----------------------------------------------------------------------------


def lesson_dirs(args: argparse.Namespace) -> list[Path]:
    """The built-in lessons, the installed lesson packs', then each ``--lessons DIR``."""
    from tutor.lesson.catalog import lesson_dirs as all_dirs

    return all_dirs(args.lessons)


def catalog_for(args: argparse.Namespace) -> Catalog:
    """Every lesson the command line can reach (loading imports pydantic: only when needed)."""
    from tutor.lesson.loader import load_paths

    return load_paths(lesson_dirs(args))


def print_problems(problems: Iterable[Problem], out: TextIO) -> None:
    for problem in problems:
        print(problem, file=out)


def find_lesson(catalog: Catalog, key: str) -> LoadedLesson | None:
    """By id, or by order number (``dl-tutor run 1``) when exactly one lesson has it."""
    found = catalog.get(key)
    if found is None and key.isdigit():
        same = [x for x in catalog.lessons if x.lesson.order == int(key)]
        found = same[0] if len(same) == 1 else None
    return found


def unknown_lesson(catalog: Catalog, key: str) -> int:
    """Explain that no lesson is called ``key`` (with the closest ids); returns exit code 2."""
    same = [x.id for x in catalog.lessons if key.isdigit() and x.lesson.order == int(key)]
    if len(same) > 1:
        ids = ", ".join(repr(i) for i in same)
        return fail(f"ambiguous: lessons {ids} all have order {key}; name one by its id")
    close = catalog.suggest(key)
    if close:
        hint = "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    else:
        hint = f"; '{PROG} list' shows the lessons"
    if catalog.problems:
        hint += f" ({len(catalog.broken_files)} lesson files have problems: '{PROG} validate')"
    return fail(f"unknown lesson {key!r}{hint}")


# -- text in terminal cells ---------------------------------------------------------------


def one_line(text: str) -> str:
    return " ".join(text.split())


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes: CJK wide/fullwidth characters two, combining marks none."""
    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def fit(text: str, width: int, *, right: bool = False) -> str:
    """``text`` cut with … and padded to exactly ``width`` cells."""
    if cell_width(text) > width:
        out, used = "", 0
        for ch in text:
            w = cell_width(ch)
            if used + w > width - 1:
                break
            out, used = out + ch, used + w
        text = out + "…" if width >= 1 else ""
    pad = " " * max(0, width - cell_width(text))
    return pad + text if right else text + pad
