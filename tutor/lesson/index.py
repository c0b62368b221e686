"""An index of the lessons, so the app can paint its first screen before loading any lesson.

Loading the catalog (YAML, pydantic validation, a scan of each lesson's code) takes about
half a second and needs pydantic, which alone takes a quarter of a second to import. The
index is what the first screen shows: each lesson's id, order, titles and page (what the
Lesson pane shows: :mod:`tutor.lesson.page`), and each broken file's problems. There are two:

- **the cache**, written after every full load to the user cache directory, used only if
  nothing it was built from changed: the same dl-tutor version, the same lesson files found
  in the same order, and the same size and mtime of every lesson file and every code file the
  lessons name;
- **the shipped index** of the built-in lessons (``lessons/index.json``, in the wheel as
  ``tutor/_lessons/index.json``), for the first start after installing, when there is no
  cache yet. It is used only when the built-in lessons are the whole catalog (no lesson
  pack, no ``--lessons``) and the content hash of their lesson and code files is the one it
  was made from. Regenerate it after editing a built-in lesson::

      python -m tutor.lesson.index --write-shipped

  (``tests/unit/test_lesson_index.py`` fails until you do.)

The app always loads the full catalog right after its first screen and shows that, so even
a stale index could only be seen for that moment; corrupt or foreign files are ignored (and
a cache is replaced by the next load).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor import __version__, paths
from tutor.lesson.catalog import Catalog, Problem, catalog_files, lesson_dirs, lesson_files
from tutor.lesson.page import lesson_page

INDEX_FORMAT = 2
LANGUAGES = ("en", "zh")
SHIPPED_NAME = "index.json"  # in the built-in lessons' directory

if TYPE_CHECKING:
    from tutor.lesson.catalog import LoadedLesson

Stamp = tuple[int, int] | None  # (size, mtime_ns), or None: the file does not exist


@dataclass(frozen=True)
class IndexEntry:
    """One lesson as the sidebar lists it, and its page as the Lesson pane shows it."""

    id: str
    order: int
    titles: Mapping[str, str]  # lang -> title; "en" is always there
    pages: Mapping[str, str] = field(default_factory=dict)  # lang -> Markdown page

    def title(self, lang: str = "en") -> str:
        return self.titles.get(lang) or self.titles["en"]

    def page(self, lang: str = "en") -> str:
        """The Lesson pane's Markdown ("" if the index has none)."""
        return self.pages.get(lang) or self.pages.get("en", "")


@dataclass
class LessonIndex:
    lessons: list[IndexEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def broken_files(self) -> list[Path]:
        return sorted({p.file for p in self.problems})

    def get(self, lesson_id: str | None) -> IndexEntry | None:
        return next((e for e in self.lessons if e.id == lesson_id), None)

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> LessonIndex:
        def entry(x: LoadedLesson) -> IndexEntry:
            lesson, exercises = x.lesson, bool(x.lesson.exercises)
            return IndexEntry(
                x.id,
                lesson.order,
                {lang: lesson.title.get(lang) for lang in LANGUAGES},
                {
                    lang: lesson_page(
                        lesson.title.get(lang),
                        lesson.summary.get(lang),
                        lesson.text.get(lang),
                        exercises,
                    )
                    for lang in LANGUAGES
                },
            )

        return cls([entry(x) for x in catalog.lessons], list(catalog.problems))


def index_path(extra_dirs: Iterable[Path] = (), *, builtin: bool = True) -> Path:
    """One index per set of lesson directories (tests and ``--lessons`` use their own)."""
    dirs = ([str(paths.builtin_lessons_dir())] if builtin else []) + [
        str(Path(d).resolve()) for d in extra_dirs
    ]
    digest = hashlib.sha256(json.dumps(dirs).encode()).hexdigest()[:16]
    return paths.cache_dir() / f"lesson-index-{digest}.json"


def _stamp(path: Path) -> Stamp:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns)


def read_index(extra_dirs: Sequence[Path] = (), *, builtin: bool = True) -> LessonIndex | None:
    """The cached index if it matches the lesson files as they are now, else None."""
    try:
        data = json.loads(index_path(extra_dirs, builtin=builtin).read_text(encoding="utf-8"))
        if data["format"] != INDEX_FORMAT or data["version"] != __version__:
            return None
        files = [str(f) for f in catalog_files(extra_dirs, builtin=builtin)]
        if data["files"] != files:
            return None
        for path, stamp in data["stamps"].items():
            if _stamp(Path(path)) != (None if stamp is None else tuple(stamp)):
                return None
        return _parse(data)
    except Exception:  # a cache must never stop the app: unreadable or corrupt = no cache
        return None


def _parse(data: dict[str, Any]) -> LessonIndex | None:
    """The lessons and problems of an index file's ``data`` (raises if malformed)."""
    lessons = []
    for e in data["lessons"]:
        titles = {str(k): str(v) for k, v in e["titles"].items()}
        pages = {str(k): str(v) for k, v in e["pages"].items()}
        if "en" not in titles:
            return None
        lessons.append(IndexEntry(str(e["id"]), int(e["order"]), titles, pages))
    problems = [
        Problem(Path(p["file"]), int(p["line"]), str(p["field"]), str(p["message"]))
        for p in data["problems"]
    ]
    return LessonIndex(lessons, problems)


def _lessons_data(index: LessonIndex) -> list[dict[str, Any]]:
    return [
        {"id": e.id, "order": e.order, "titles": e.titles, "pages": e.pages}
        for e in index.lessons
    ]


def read_first_index(
    extra_dirs: Sequence[Path] = (), *, builtin: bool = True
) -> LessonIndex | None:
    """What the first screen lists: the cache if it is valid, else the shipped index if it
    is (a first start after installing), else None."""
    index = read_index(extra_dirs, builtin=builtin)
    if index is None:
        index = read_shipped_index(extra_dirs, builtin=builtin)
    return index


def load_catalog_indexed(extra_dirs: Sequence[Path] = (), *, builtin: bool = True) -> Catalog:
    """``tutor.lesson.loader.load_catalog``, then the index refreshed for the next start."""
    from tutor.lesson.loader import load_files

    files = catalog_files(extra_dirs, builtin=builtin)
    before = {str(f): _stamp(f) for f in files}
    catalog = load_files(files)
    try:
        write_index(catalog, files, before, extra_dirs, builtin=builtin)
    except OSError:
        pass  # a read-only or full cache directory: the next start loads without an index
    return catalog


def write_index(
    catalog: Catalog,
    files: Sequence[Path],
    stamps: Mapping[str, Stamp],
    extra_dirs: Sequence[Path] = (),
    *,
    builtin: bool = True,
) -> None:
    """Save the index of ``catalog``, loaded from ``files`` whose ``stamps`` were taken
    before loading. Nothing is saved if a lesson file changed while it was loading."""
    if any(_stamp(f) != stamps[str(f)] for f in files):
        return
    code_paths = {x.code_path for x in catalog.lessons} | _broken_code_paths(catalog)
    index = LessonIndex.from_catalog(catalog)
    data: dict[str, Any] = {
        "format": INDEX_FORMAT,
        "version": __version__,
        "files": [str(f) for f in files],
        "stamps": {**stamps, **{str(p): _stamp(p) for p in sorted(code_paths)}},
        "lessons": _lessons_data(index),
        "problems": [
            {"file": str(p.file), "line": p.line, "field": p.field, "message": p.message}
            for p in index.problems
        ],
    }
    text = json.dumps(data, ensure_ascii=False, indent=1)
    path = index_path(extra_dirs, builtin=builtin)
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)  # atomic: a second app starting never reads half a file


def _broken_code_paths(catalog: Catalog) -> set[Path]:
    """The code files broken lesson files name: a problem such as "code file not found"
    or a syntax error in it goes away when that file changes."""
    from tutor.lesson.loader import LessonError, read_yaml

    found = set()
    for file in catalog.broken_files:
        try:
            data, _ = read_yaml(file)
        except LessonError:
            continue
        except Exception:  # noqa: BLE001 - a loader bug must not empty the lesson list
            continue
        code = data.get("code")
        if isinstance(code, str):
            try:
                found.add((file.parent / code).resolve())
            except (OSError, ValueError):
                continue
    return found


# -- the shipped index of the built-in lessons -------------------------------------------------


def shipped_index_path() -> Path:
    return paths.builtin_lessons_dir() / SHIPPED_NAME


def _builtin_digest(
    root: Path, files: Sequence[Path], code: Sequence[str], lessons: list[dict[str, Any]]
) -> str:
    """The content hash of the built-in lesson files, the code files they name, and the
    index's own ``lessons`` (so an index edited by hand, or merged, is not trusted)."""
    digest = hashlib.sha256()
    for path in [*files, *(root / c for c in code)]:
        data = path.read_bytes()
        name = path.relative_to(root).as_posix().encode()
        digest.update(b"%d:%s%d:" % (len(name), name, len(data)) + data)
    digest.update(json.dumps(lessons, ensure_ascii=False, sort_keys=True).encode())
    return digest.hexdigest()


def read_shipped_index(
    extra_dirs: Sequence[Path] = (), *, builtin: bool = True
) -> LessonIndex | None:
    """The shipped index, if the built-in lessons are the whole catalog and their files are
    the ones it was made from; else None. Costs a read and a hash of each (~1-3 ms)."""
    try:
        root = paths.builtin_lessons_dir()
        if not builtin or lesson_dirs(extra_dirs, builtin=builtin) != [root]:
            return None  # lesson packs or --lessons: the cache's job
        data = json.loads((root / SHIPPED_NAME).read_text(encoding="utf-8"))
        if data["format"] != INDEX_FORMAT:
            return None
        files = lesson_files(root)
        if data["files"] != [f.relative_to(root).as_posix() for f in files]:
            return None
        code = [str(c) for c in data["code"]]
        if data["digest"] != _builtin_digest(root, files, code, data["lessons"]):
            return None
        index = _parse(data)
    except Exception:  # unreadable or edited by hand: as if there were none
        return None
    return index if index is not None and not index.problems else None


def shipped_index_text() -> str:
    """The shipped index of the built-in lessons as they are now (loads them all)."""
    from tutor.lesson.loader import load_files

    root = paths.builtin_lessons_dir()
    files = lesson_files(root)
    catalog = load_files(files)
    if catalog.problems:
        raise ValueError(f"built-in lessons with problems: {catalog.problems}")
    code = sorted({x.code_path.relative_to(root).as_posix() for x in catalog.lessons})
    lessons = _lessons_data(LessonIndex.from_catalog(catalog))
    data = {
        "format": INDEX_FORMAT,
        "about": "generated: python -m tutor.lesson.index --write-shipped (do not edit)",
        "files": [f.relative_to(root).as_posix() for f in files],
        "code": code,
        "digest": _builtin_digest(root, files, code, lessons),
        "lessons": lessons,
        "problems": [],
    }
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m tutor.lesson.index", description="The shipped index of the lessons."
    )
    parser.add_argument(
        "--write-shipped", action="store_true", help=f"regenerate lessons/{SHIPPED_NAME}"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if it is not up to date (and say so)"
    )
    args = parser.parse_args(argv)
    path, text = shipped_index_path(), shipped_index_text()
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    if args.write_shipped:
        if current != text:
            path.write_text(text, encoding="utf-8")
        print(f"{path}: {'written' if current != text else 'up to date'}")
        return 0
    if current != text:
        print(f"{path} is out of date: python -m tutor.lesson.index --write-shipped")
        return 1
    print(f"{path}: up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
