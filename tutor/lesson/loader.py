"""Finding, loading and validating lesson files.

A lesson is a YAML file plus the Python file it names. Loading never raises
for a bad file: every problem becomes a :class:`Problem` that says
``file:line: field: message``, and good lessons load even when others are
broken. YAML is composed with the safe loader and turned into Python values
by hand, so we know each value's line, can refuse duplicate keys, alias bombs
and language tags (``!!python/object`` never constructs anything).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from tutor import paths
from tutor.lesson import expr

# The types live in tutor.lesson.catalog (light: the app imports them before its first screen);
# re-exported here, where they always were.
from tutor.lesson.catalog import Catalog as Catalog
from tutor.lesson.catalog import LessonError as LessonError
from tutor.lesson.catalog import LoadedLesson as LoadedLesson
from tutor.lesson.catalog import Problem as Problem
from tutor.lesson.catalog import catalog_files
from tutor.lesson.catalog import lesson_files as lesson_files
from tutor.lesson.names import RUN_FIELDS, code_problems
from tutor.lesson.schema import (
    Check,
    Exercise,
    Hyperparam,
    Lesson,
    Question,
    Series,
    Text,
    Translation,
)
from tutor.lesson.source import exercise_problems
from tutor.text import first_control, inert

MAX_FILE_BYTES = 256 * 1024
MAX_NODES = 20_000  # values after alias expansion; stops "billion laughs"
SAFE_TAGS = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}
# libyaml's parser is ~10x faster (dl-tutor list must be quick); same nodes and marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
BUILTIN_NAMES = RUN_FIELDS  # the run's own fields a check or an answer may use


# -- YAML with line numbers ------------------------------------------------------


class _Builder:
    """Turns a composed YAML node tree into Python values, remembering lines."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.lines: dict[tuple[Any, ...], int] = {}
        self.count = 0
        self.scalars = yaml.constructor.SafeConstructor()
        self.seen: set[int] = set()
        self.aliased = False

    def build(self, node: yaml.Node, path: tuple[Any, ...] = ()) -> Any:
        self.count += 1
        if id(node) in self.seen:  # an alias: the composer shares the node
            self.aliased = True
        self.seen.add(id(node))
        if self.count > MAX_NODES:
            # Only aliases make a small file this big; 20,000 plain keys are just too many.
            why = " after expanding aliases (alias bomb?)" if self.aliased else ""
            message = f"more than {MAX_NODES} values{why}"
            raise LessonError([Problem(self.file, _line(node), _field(path), message)])
        self.lines.setdefault(path, _line(node))
        if node.tag not in SAFE_TAGS:
            raise LessonError(
                [
                    Problem(
                        self.file,
                        _line(node),
                        _field(path),
                        f"tag {node.tag!r} is not allowed in lesson files",
                    )
                ]
            )
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise LessonError(
                        [
                            Problem(
                                self.file,
                                _line(key_node),
                                _field(path),
                                "merge keys (<<) are not supported",
                            )
                        ]
                    )
                key = self.build(key_node, path + ("<key>",))
                if not isinstance(key, str):
                    key = str(key)
                if key in result:
                    first_line = self.lines[path + (key,)]
                    raise LessonError(
                        [
                            Problem(
                                self.file,
                                _line(key_node),
                                _field(path + (key,)),
                                f"duplicate key {key!r} (first at line {first_line})",
                            )
                        ]
                    )
                self.lines[path + (key,)] = _line(key_node)
                result[key] = self.build(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        try:
            value = self.scalars.construct_object(node)
        except (ValueError, OverflowError) as e:  # 2024-02-30, an int of 5,000 digits
            message = _scalar_problem(node, e)
            raise LessonError([Problem(self.file, _line(node), _field(path), message)]) from None
        control = first_control(value) if isinstance(value, str) else None
        if control is not None:  # "\e]0;title\a", "\e[2J": lesson text never commands a terminal
            message = f"control character {inert(control)} is not allowed in lesson text"
            raise LessonError([Problem(self.file, _line(node), _field(path), message)])
        return value


def _scalar_problem(node: yaml.Node, error: Exception) -> str:
    value = str(node.value)
    shown = value if len(value) <= 40 else f"{value[:20]}…({len(value)} characters)"
    if node.tag.endswith(":timestamp"):
        return f"{shown!r} is not a valid date: {error}"
    if node.tag.endswith(":int"):
        return f"{shown!r} is too large a number ({len(value)} digits)"
    return f"{shown!r} cannot be read: {error}"


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _field(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "<key>":
            out += ("." if out else "") + str(part)
    return out or "(file)"


def read_yaml(file: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Safely read one YAML file; returns its data and a path → line map."""
    try:
        raw = file.read_bytes()
    except OSError as e:
        raise LessonError([Problem(file, 1, "(file)", f"cannot read: {e.strerror or e}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise LessonError([Problem(file, 1, "(file)", f"larger than {MAX_FILE_BYTES // 1024} KiB")])
    if b"\0" in raw:
        raise LessonError([Problem(file, 1, "(file)", "binary file, not YAML text")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise LessonError([Problem(file, line, "(file)", "not UTF-8 text")]) from None
    if not text.strip():
        raise LessonError([Problem(file, 1, "(file)", "empty file")])
    try:
        documents = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        message = " ".join(str(x) for x in (e.context, e.problem) if x)
        raise LessonError([Problem(file, line, "(yaml)", message or "invalid YAML")]) from None
    except yaml.YAMLError as e:
        raise LessonError([Problem(file, 1, "(yaml)", str(e))]) from None
    if len(documents) != 1 or documents[0] is None:
        raise LessonError([Problem(file, 1, "(file)", "expected exactly one YAML document")])
    builder = _Builder(file)
    try:
        data = builder.build(documents[0])
    except RecursionError:
        raise LessonError([Problem(file, 1, "(yaml)", "nested too deeply")]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise LessonError([Problem(file, mark.line + 1 if mark else 1, "(yaml)", str(e))]) from None
    if not isinstance(data, dict):
        raise LessonError(
            [
                Problem(
                    file,
                    1,
                    "(file)",
                    f"a lesson is a mapping of fields, not a {type(data).__name__}",
                )
            ]
        )
    return data, builder.lines


# -- validation ---------------------------------------------------------------------

_SECTION_MODELS: dict[str, type[BaseModel]] = {
    "hyperparams": Hyperparam,
    "series": Series,
    "checks": Check,
    "quiz": Question,
    "exercises": Exercise,
}


def _fields_for(loc: Sequence[Any]) -> list[str]:
    """The field names allowed where ``loc`` points, for close-match suggestions."""
    parent = [p for p in loc[:-1] if isinstance(p, str)]
    if not parent:
        return list(Lesson.model_fields)
    model = _SECTION_MODELS.get(parent[0])
    if model and len(parent) == 1:
        return list(model.model_fields)
    return list(Text.model_fields)


def _problems_from(
    file: Path, error: ValidationError, lines: dict[tuple[Any, ...], int], data: Any = None
) -> list[Problem]:
    problems = []
    seen = set()
    for err in error.errors():
        loc = tuple(p for p in err["loc"] if isinstance(p, int) or not _is_type_name(p))
        line = 1
        for n in range(len(loc), -1, -1):
            if loc[:n] in lines:
                line = lines[loc[:n]]
                break
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "value_error":  # a whole-item rule: point at the key it is about
            loc = _key_named(loc, message, data, lines)
            line = lines.get(loc, line)
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(loc[-1]), _fields_for(loc), n=1)
            message = "unknown field" + (f"; did you mean {close[0]!r}?" if close else "")
        elif err["type"] == "missing":
            message = "required field is missing"
        key = (line, _field(loc), message)
        if key not in seen:  # unions report one error per branch
            seen.add(key)
            problems.append(Problem(file, line, _field(loc), message))
    return problems


def _key_named(
    loc: tuple[Any, ...], message: str, data: Any, lines: dict[tuple[Any, ...], int]
) -> tuple[Any, ...]:
    """``loc`` made more precise from a rule's message: "default 200: ..." on a hyperparameter
    points at its ``default:`` line, "smoke: 'lr' is not ..." at ``smoke.lr``."""
    item = data
    for part in loc:
        try:
            item = item[part]
        except (KeyError, IndexError, TypeError):
            return loc
    for _ in range(2):  # a key, then a key inside it ("smoke: lr: ...")
        if not isinstance(item, dict):
            break
        first = re.match(r"'?(\w+)'?[\s:]", message)
        candidates = ([first.group(1)] if first else []) + re.findall(r"'(\w+)'", message)
        key = next((k for k in candidates if k in item and loc + (k,) in lines), None)
        if key is None:
            break
        loc, item = loc + (key,), item[key]
        message = message.split(key, 1)[1].lstrip("': ")
    return loc


def _is_type_name(part: Any) -> bool:
    # pydantic adds union branch names ("str", "list[int]", "function-after[...]") to locations
    return isinstance(part, str) and (
        part in {"str", "int", "float", "bool", "list[int]", "list[any]", "none"}
        or "[" in part
        or part.startswith("function-")
    )


def load_lesson(file: Path) -> LoadedLesson:
    """Load and validate one lesson file; raises :class:`LessonError` with every problem.

    The fields, the code file and the names (tutor.lesson.names) are all checked in one pass,
    so a file with several problems reports them together, in the order of their lines.
    """
    file = Path(file)
    data, lines = read_yaml(file)
    problems: list[Problem] = []
    lesson: Lesson | None = None
    try:
        lesson = Lesson.model_validate(data)
    except ValidationError as e:
        problems += _problems_from(file, e, lines, data)
    except expr.ExprError as e:  # raised outside pydantic's wrapping in rare paths
        problems.append(Problem(file, 1, "(expression)", str(e)))
    code_found, scan = code_problems(file, data, lines)
    warnings = [p for p in code_found if p.severity == "warning"]
    problems += [p for p in code_found if p.severity != "warning"]
    if lesson is not None and scan is not None:
        code_path = (file.parent / lesson.code).resolve()  # code_problems checked it is inside
        if lesson.exercises:  # each target must exist in the code and fit its cases
            for i, key, message in exercise_problems(code_path, lesson.exercises):
                line = lines.get(("exercises", i, key), lines.get(("exercises", i), 1))
                problems.append(Problem(file, line, f"exercises[{i}].{key}", message))
        if lesson.experiments:  # NAME_i: run i's value of a name the code produces
            from tutor.lesson.experiments import experiment_problems

            known = (
                RUN_FIELDS
                | {h.name for h in lesson.hyperparams}
                | {s.name for s in lesson.series}
                | set(scan.recorded)
                | scan.reported
            )
            for i, key, message in experiment_problems(lesson, known):
                line = lines.get(("experiments", i, key), lines.get(("experiments", i), 1))
                problems.append(Problem(file, line, f"experiments[{i}].{key}", message))
    if problems or lesson is None:
        raise LessonError(sorted(problems, key=lambda p: p.line))
    from tutor.lesson.quiz_lint import quiz_warnings

    warnings += [
        Problem(file, _line_at(lines, path), name, message, "warning")
        for path, name, message in quiz_warnings(lesson)
    ]
    code_path = (file.parent / lesson.code).resolve()
    recorded = frozenset(scan.recorded) if scan else frozenset()
    key_lines = {k: lines[(k,)] for k in ("id", "order") if (k,) in lines}
    return LoadedLesson(
        lesson, file.resolve(), code_path, recorded, tuple(warnings), key_lines=key_lines
    )


def _line_at(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int:
    """The line of ``path``, else of its nearest parent that has one."""
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return 1


def load_catalog(extra_dirs: Iterable[Path] = (), *, builtin: bool = True) -> Catalog:
    """Every lesson from the built-in directory and ``extra_dirs``, ordered by ``order``."""
    return load_files(catalog_files(extra_dirs, builtin=builtin))


def load_files(files: Iterable[Path]) -> Catalog:
    """Load every file; across them, a duplicate id is an error (the second file is left out)
    and a duplicate ``order`` a warning (``dl-tutor run N`` then asks for an id)."""
    from tutor.lesson.packs import installed_packs, pack_of

    catalog = Catalog()
    by_id: dict[str, LoadedLesson] = {}
    for file in files:
        try:
            loaded = load_lesson(file)
        except LessonError as e:
            catalog.problems.extend(e.problems)
            continue
        except Exception as e:  # a loader bug must not hide the other lessons
            catalog.problems.append(
                Problem(
                    Path(file),
                    1,
                    "(file)",
                    f"unexpected error while loading: {type(e).__name__}: {e}",
                )
            )
            continue
        first = by_id.get(loaded.id)
        if first is not None:
            if first.path == loaded.path:
                continue  # the same file reached through two directories
            catalog.problems.append(
                Problem(
                    loaded.path,
                    loaded.key_lines.get("id", 1),
                    "id",
                    f"duplicate id {loaded.id!r}, also used by {first.path}",
                )
            )
            continue
        pack = pack_of(loaded.path)
        if pack:
            loaded = replace(loaded, pack=pack)
        by_id[loaded.id] = loaded
        catalog.lessons.append(loaded)
        catalog.warnings.extend(loaded.warnings)
    catalog.lessons.sort(key=lambda x: (x.lesson.order, x.id))
    for before, after in zip(catalog.lessons, catalog.lessons[1:]):
        if before.lesson.order == after.lesson.order:
            catalog.warnings.append(
                Problem(
                    after.path,
                    after.key_lines.get("order", 1),
                    "order",
                    f"duplicate order {after.lesson.order}, also used by {before.id!r} "
                    f"({before.path}); built-in lessons use 1..99: use 100 or more",
                    "warning",
                )
            )
    # Packs load with the built-in lessons (catalog_files): say why one is missing then.
    builtin = paths.builtin_lessons_dir().resolve()
    with_builtin = any(x.path.is_relative_to(builtin) for x in catalog.lessons)
    for installed in installed_packs() if with_builtin else ():
        if installed.error:
            catalog.problems.append(Problem(Path(installed.name), 1, "(pack)", installed.error))
    if any(p.translation_files() for p in installed_packs()):
        from tutor.lesson.translations import apply_translations

        apply_translations(catalog, load_translation)
    return catalog


def load_translation(file: Path) -> tuple[Translation, dict[tuple[Any, ...], int]]:
    """One ``translations/<lang>/<lesson-id>.yaml`` of a lesson pack; raises LessonError."""
    data, lines = read_yaml(file)
    try:
        return Translation.model_validate(data), lines
    except ValidationError as e:
        raise LessonError(_problems_from(file, e, lines, data)) from None


# -- loading what a command line names (never a traceback) -------------------------------


def load_paths(paths: Iterable[Path]) -> Catalog:
    """Lesson files and directories → a Catalog. Missing paths and unexpected loader
    errors become problems naming the file, so no command ever shows a traceback."""
    files, problems = _expand_paths(paths)
    try:
        catalog = load_files(files)
    except Exception:  # a loader bug on one odd file: find it, load the rest
        catalog = _load_one_by_one(files)
    catalog.problems[:0] = problems
    return catalog


def _expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = lesson_files(path)
            files += found
            if not found:
                problems.append(
                    Problem(path, 1, "(file)", "no lesson files (*.yaml) in this directory")
                )
        elif path.exists():
            files.append(path)
        else:
            problems.append(Problem(path, 1, "(file)", "no such file or directory"))
    return files, problems


def _load_one_by_one(files: list[Path]) -> Catalog:
    usable: list[Path] = []
    problems: list[Problem] = []
    for file in files:
        try:
            load_lesson(file)
        except LessonError:
            pass  # load_files reports these problems itself
        except Exception as e:
            problems.append(
                Problem(
                    file, 1, "(file)", f"unexpected error while loading: {type(e).__name__}: {e}"
                )
            )
            continue
        usable.append(file)
    catalog = load_files(usable)
    catalog.problems += problems
    return catalog
