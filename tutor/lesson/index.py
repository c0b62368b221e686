"""A cached index of the lesson list, so the app can paint it before loading any lesson.

Loading the catalog (YAML, pydantic validation, a scan of each lesson's code) takes about
half a second and needs pydantic, which alone takes a quarter of a second to import. The
index is what the sidebar shows: each lesson's id, order and titles, and each broken file's
problems. It is written after every full load, to the user cache directory, and is used only
if nothing it was built from changed: the same dl-tutor version, the same lesson files found
in the same order, and the same size and mtime of every lesson file and every code file the
lessons name. The app always loads the full catalog right after its first screen and shows
that, so even a stale index could only be seen for that moment; corrupt or foreign files are
ignored (and replaced by the next load).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor import __version__
from tutor.lesson.catalog import Catalog, Problem, catalog_files
from tutor.paths import builtin_lessons_dir, cache_dir

INDEX_FORMAT = 1
LANGUAGES = ("en", "zh")

Stamp = tuple[int, int] | None  # (size, mtime_ns), or None: the file does not exist


@dataclass(frozen=True)
class IndexEntry:
    """One lesson as the sidebar lists it."""

    id: str
    order: int
    titles: Mapping[str, str]  # lang -> title; "en" is always there

    def title(self, lang: str = "en") -> str:
        return self.titles.get(lang) or self.titles["en"]


@dataclass
class LessonIndex:
    lessons: list[IndexEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def broken_files(self) -> list[Path]:
        return sorted({p.file for p in self.problems})

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> LessonIndex:
        return cls(
            [
                IndexEntry(
                    x.id, x.lesson.order, {lang: x.lesson.title.get(lang) for lang in LANGUAGES}
                )
                for x in catalog.lessons
            ],
            list(catalog.problems),
        )


def index_path(extra_dirs: Iterable[Path] = (), *, builtin: bool = True) -> Path:
    """One index per set of lesson directories (tests and ``--lessons`` use their own)."""
    dirs = ([str(builtin_lessons_dir())] if builtin else []) + [
        str(Path(d).resolve()) for d in extra_dirs
    ]
    digest = hashlib.sha256(json.dumps(dirs).encode()).hexdigest()[:16]
    return cache_dir() / f"lesson-index-{digest}.json"


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
        lessons = []
        for e in data["lessons"]:
            titles = {str(k): str(v) for k, v in e["titles"].items()}
            if "en" not in titles:
                return None
            lessons.append(IndexEntry(str(e["id"]), int(e["order"]), titles))
        problems = [
            Problem(Path(p["file"]), int(p["line"]), str(p["field"]), str(p["message"]))
            for p in data["problems"]
        ]
    except Exception:  # a cache must never stop the app: unreadable or corrupt = no cache
        return None
    return LessonIndex(lessons, problems)


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
        "lessons": [{"id": e.id, "order": e.order, "titles": e.titles} for e in index.lessons],
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

    paths = set()
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
                paths.add((file.parent / code).resolve())
            except (OSError, ValueError):
                continue
    return paths
