"""What every ``dl-tutor`` command shares: the program name, one-line failures, finding the
lessons and the lesson named on the command line, and text that fits terminal cells."""

from __future__ import annotations

import argparse
import codecs
import json
import os
import re
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tutor.text import inert

if TYPE_CHECKING:
    from tutor.lesson.catalog import Catalog, LoadedLesson, Problem

PROG = "dl-tutor"
LIST_WIDTH = 80  # tables and charts fit this when stdout is not a terminal


def fail(message: str, code: int = 2) -> int:
    """Print ``dl-tutor: message`` on stderr; returns the exit code (2: a usage error)."""
    print(plain(f"{PROG}: {inert(message)}", sys.stderr), file=sys.stderr)
    return code


def say(text: str, out: TextIO | None = None) -> None:
    """Print text that may hold what lessons wrote (titles, values, file names), inert."""
    out = out or sys.stdout
    print(plain(inert(text), out), file=out)


# C1 controls survive json.dumps(ensure_ascii=False); as \u escapes they are the same JSON.
_JSON_C1 = re.compile("[\x7f-\x9f]")


def json_text(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` without raw control characters (C0 ones JSON escapes already)."""
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    return _JSON_C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def silence(stream: TextIO) -> None:
    """The reader of ``stream`` left (``| head``): send the rest to /dev/null, so neither
    later output nor Python's flush at exit reports the broken pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


# -- what the output can encode -----------------------------------------------------------

# Box lines, check marks, the ellipsis, braille and Chinese: all or nothing.
_PROBE = "─│✓✗…⠿中文"


def encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except (UnicodeError, LookupError):
        return False
    return True


def can_encode(text: str, stream: TextIO | None = None) -> bool:
    return encodes(text, getattr(stream or sys.stdout, "encoding", None) or "utf-8")


def fancy(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (stdout) can show box characters, ✓ ✗ and CJK; else (``LC_ALL=C``
    with ``PYTHONUTF8=0``: ASCII) the CLI draws with ASCII and defaults to English."""
    return can_encode(_PROBE, stream)


def marks(stream: TextIO | None = None) -> tuple[str, str, str]:
    """(passed, failed, ellipsis) marks that ``stream`` can show."""
    return ("✓", "✗", "…") if fancy(stream) else ("+", "x", "...")


# Typography with a plain ASCII spelling, for an output that cannot show the real thing.
_TO_ASCII = str.maketrans(
    {"≤": "<=", "≥": ">=", "×": "x", "·": ".", "–": "-", "—": "--", "−": "-", "…": "...",
     "→": "->", "←": "<-", "✓": "+", "✗": "x", "‘": "'", "’": "'", "“": '"', "”": '"'}
)  # fmt: skip


def plain(text: str, stream: TextIO | None = None) -> str:
    """``text`` as ``stream`` will show it: typography it cannot encode in ASCII spelling
    (``≤`` as ``<=``), anything else as ``?`` now, so widths are measured on what is
    printed (a CJK character is 2 cells, ``?`` one)."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "utf-8"
    if encodes(text, encoding):
        return text
    try:
        return text.translate(_TO_ASCII).encode(encoding, "replace").decode(encoding)
    except LookupError:
        return text


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


def warn_missing_dirs(args: argparse.Namespace) -> None:
    """Say on stderr which ``--lessons DIR`` does not exist (only ``list`` and ``validate``
    print the catalog's problems; every other command would be silent about it)."""
    for path in args.lessons:
        if not path.exists():
            say(f"{PROG}: warning: --lessons {path}: no such directory", sys.stderr)


def catalog_for(args: argparse.Namespace, *, warn: bool = True) -> Catalog:
    """Every lesson the command line can reach (loading imports pydantic: only when needed)."""
    from tutor.lesson.loader import load_paths

    if warn:
        warn_missing_dirs(args)
    return load_paths(lesson_dirs(args))


def print_problems(problems: Iterable[Problem], out: TextIO) -> None:
    for problem in problems:  # file names and quoted YAML are the lesson author's text
        say(str(problem), out)


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


# -- an ASCII terminal, cell for cell ------------------------------------------------------

# What the app draws (Textual's borders, the app's typography) that has a one-cell ASCII
# spelling; the CLI's plain() may use longer ones (``<=``), but the app's layout is measured
# before encoding, so here a character must become exactly as many cells as it took.
_ONE_CELL = {
    "≤": "<", "≥": ">", "×": "x", "·": ".", "•": "*", "–": "-", "—": "-", "−": "-",
    "…": ".", "→": ">", "←": "<", "↑": "^", "↓": "v", "✓": "+", "✔": "+", "✗": "x", "✘": "x",
    "‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " ",
}  # fmt: skip
_HORIZONTAL = {"LEFT", "RIGHT", "HORIZONTAL"}
_VERTICAL = {"UP", "DOWN", "VERTICAL"}
CELLS_ERRORS = "dl-tutor-cells"  # the error handler's name, for reconfigure(errors=...)


def ascii_cell(ch: str) -> str:
    """``ch`` in ASCII taking the same cells: box lines as ``- | +``, blocks as ``#``,
    arrows and marks by their shape, a wide (CJK) character as ``??``, a combining one as
    nothing; what has no likeness ``?`` per cell."""
    width = cell_width(ch)
    if ch in _ONE_CELL or width == 0:
        return _ONE_CELL.get(ch, "")
    name = unicodedata.name(ch, "")
    words = set(name.split())
    if name.startswith("BOX DRAWINGS"):
        if "DIAGONAL" in words:
            return "X" if "CROSS" in words else "/" if "UPPER RIGHT" in name else "\\"
        directions = words & (_HORIZONTAL | _VERTICAL)
        return "-" if directions <= _HORIZONTAL else "|" if directions <= _VERTICAL else "+"
    if "BLOCK" in words or "SHADE" in words or "QUADRANT" in words:
        # Textual's tall/wide borders: a one-eighth line along an edge is that edge's line.
        if "EIGHTH" in words and "ONE" in words:
            return "|" if words & {"LEFT", "RIGHT"} else "-"
        if words & {"LEFT", "RIGHT"} and "QUADRANT" not in words:  # ▌: a blockquote's bar
            return "|"
        return "#"
    if name.startswith("BRAILLE"):
        return ":"
    for word, mark in (("RIGHT-POINTING", ">"), ("LEFT-POINTING", "<"),
                       ("UP-POINTING", "^"), ("DOWN-POINTING", "v")):  # fmt: skip
        if word in words:
            return mark
    if words & {"CIRCLE", "BULLET"}:
        return "o"
    if "SQUARE" in words:
        return "#"
    if width == 1:  # an accented letter: its letter
        letter = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
        if len(letter) == 1:
            return letter
    return "?" * width


def _cells_errors(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(ascii_cell(ch) for ch in bad), error.end


codecs.register_error(CELLS_ERRORS, _cells_errors)


def fit(text: str, width: int, *, right: bool = False) -> str:
    """``text`` cut with … and padded to exactly ``width`` cells (inert, and as stdout can
    show it: on an ASCII terminal cut with ``...``)."""
    text = plain(inert(text, multiline=False))
    ellipsis = marks()[2]
    if cell_width(text) > width:
        out, used = "", 0
        for ch in text:
            w = cell_width(ch)
            if used + w > width - len(ellipsis):
                break
            out, used = out + ch, used + w
        text = (out + ellipsis)[:width] if width >= 1 else ""
    pad = " " * max(0, width - cell_width(text))
    return pad + text if right else text + pad
