"""``dl-tutor check``, ``watch``, ``exercise``, ``hint`` and ``solution``.

The checking itself lives in :mod:`tutor.exercises` (no Textual, torch only in its subprocess)
and the tutoring rules (what counts as an attempt, the next hint, when the solution opens,
each result's mark) in :mod:`tutor.exercises.coach`, shared with the app's Exercise pane.
These commands find the lesson, print, and record attempts in the progress store.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.cli.common import PROG, catalog_for, fail, find_lesson, unknown_lesson

if TYPE_CHECKING:
    from tutor.exercises import ExerciseResult
    from tutor.lesson.catalog import LoadedLesson
    from tutor.lesson.schema import Exercise
    from tutor.progress import ProgressStore

# tutor.exercises (and its coach) is imported inside each command: `dl-tutor list` and
# `--version` import this module too, and must stay fast.


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("check", help="check your exercise solutions for a lesson")
    p.add_argument("lesson", metavar="ID", help="lesson id (or its order number)")
    p.add_argument("--json", action="store_true", help="one JSON object, for scripts")

    p = sub.add_parser("watch", help="check your exercises again whenever you save the file")
    p.add_argument("lesson", metavar="ID", help="lesson id (or its order number)")

    p = sub.add_parser("exercise", help="create (or reset) your copy of a lesson's exercises")
    p.add_argument("lesson", metavar="ID", help="lesson id (or its order number)")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--reset", action="store_true", help="put the starter back (the old file becomes .bak)"
    )
    group.add_argument("--path", action="store_true", help="print only the file's path")

    p = sub.add_parser("hint", help="the next hint for an exercise")
    p.add_argument("lesson", metavar="ID", help="lesson id (or its order number)")
    p.add_argument("name", metavar="NAME", help="the exercise")
    p.add_argument("--level", type=int, metavar="N", help="show hint N (1 = the gentlest)")

    p = sub.add_parser("solution", help="the lesson's own code for an exercise you attempted")
    p.add_argument("lesson", metavar="ID", help="lesson id (or its order number)")
    p.add_argument("name", metavar="NAME", help="the exercise")


def _exercise_lesson(args: argparse.Namespace) -> LoadedLesson | int:
    """The lesson named on the command line, or an exit code after explaining the problem."""
    catalog = catalog_for(args)
    loaded = find_lesson(catalog, args.lesson)
    if loaded is None:
        return unknown_lesson(catalog, args.lesson)
    if not loaded.lesson.exercises:
        with_exercises = [x.id for x in catalog.lessons if x.lesson.exercises]
        known = ", ".join(with_exercises) or "none"
        return fail(f"lesson {loaded.id!r} has no exercises; these do: {known}")
    return loaded


def progress_store() -> ProgressStore | None:
    """The progress store, or None (with a warning) when it cannot be opened: checking must
    still work on a read-only or broken data directory."""
    from tutor.progress import ProgressStore

    try:
        return ProgressStore()
    except Exception as e:  # ProgressError, sqlite3.Error, OSError
        print(f"{PROG}: progress not saved: {e}", file=sys.stderr)
        return None


def _record_attempts(loaded: LoadedLesson, results: Iterable[ExerciseResult]) -> None:
    from tutor.exercises import coach

    attempts = coach.attempts(results)
    if not attempts:
        return
    store = progress_store()
    if store is None:
        return
    with store:
        for r in attempts:
            store.record_attempt(loaded.id, r.name, r.status, r.message)


def exercise_report(
    loaded: LoadedLesson, path: Path, results: Sequence[ExerciseResult]
) -> list[str]:
    """Text lines for ``check``/``watch``: one mark and message per exercise, then a summary."""
    from tutor.exercises import coach

    lines = [f"{loaded.id}: {path}"]
    for r in results:
        # Only a try that went wrong points at a line: the message of a not-attempted
        # exercise already names the TODO's.
        where = f" (line {r.line})" if r.line and coach.opens_solution(r.status) else ""
        first, *rest = r.message.splitlines() or [""]
        lines.append(f"  {coach.mark(r.status)} {r.name}{where}: {first}")
        lines += [f"      {line.strip()}" for line in rest]
    passed = sum(r.status == "passed" for r in results)
    lines.append(f"{passed}/{len(results)} exercises passed")
    if any(coach.opens_solution(r.status) for r in results):
        lines.append(
            f"stuck? '{PROG} hint {loaded.id} NAME' shows a hint; after a failed attempt, "
            f"'{PROG} solution {loaded.id} NAME' shows the lesson's code"
        )
    elif any(r.status == "not-attempted" for r in results):
        lines.append(f"edit {path}, replace each TODO, then check again")
    return lines


def cmd_check(args: argparse.Namespace) -> int:
    from tutor import exercises

    loaded = _exercise_lesson(args)
    if isinstance(loaded, int):
        return loaded
    path = exercises.ensure_workspace(loaded)
    results = exercises.check_exercises(loaded, path)
    _record_attempts(loaded, results)
    all_passed = all(r.status == "passed" for r in results)
    if args.json:
        payload = {
            "lesson": loaded.id,
            "file": str(path),
            "passed": all_passed,
            "results": [r.as_dict() for r in results],
        }
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print("\n".join(exercise_report(loaded, path, results)))
    return 0 if all_passed else 1


def cmd_watch(args: argparse.Namespace) -> int:
    from tutor import exercises

    loaded = _exercise_lesson(args)
    if isinstance(loaded, int):
        return loaded
    path = exercises.ensure_workspace(loaded)
    print(f"watching {path}: save it to check again (Ctrl+C to stop)", flush=True)
    last: dict[str, tuple[str, str]] = {}
    try:
        changes = exercises.watch_changes(path)
        while True:
            results = exercises.check_exercises(loaded, path)
            # Only what changed since the last save is recorded: saving ten times without
            # touching an exercise is not ten attempts at it.
            fresh = [r for r in results if last.get(r.name) != (r.status, r.message)]
            last = {r.name: (r.status, r.message) for r in results}
            _record_attempts(loaded, fresh)
            print("\n".join(exercise_report(loaded, path, results)), flush=True)
            next(changes)
            print(f"\n— saved at {time.strftime('%H:%M:%S')}, checking again", flush=True)
    except KeyboardInterrupt:
        print("\nstopped watching", flush=True)
        return 0


def cmd_exercise(args: argparse.Namespace) -> int:
    import textwrap

    from tutor import exercises

    loaded = _exercise_lesson(args)
    if isinstance(loaded, int):
        return loaded
    if args.reset:
        path = exercises.reset_workspace(loaded)
        backup = path.with_name(path.name + ".bak")
        note = f" (your previous file is {backup})" if backup.exists() else ""
        print(f"reset {path} to the starter{note}")
        return 0
    path = exercises.ensure_workspace(loaded)
    if args.path:
        print(path)
        return 0
    print(f"{loaded.id}: {loaded.lesson.title.get(args.lang)}")
    print(f"your file: {path}")
    for exercise in loaded.lesson.exercises:
        print(f"\n  {exercise.name} — {exercise.heading(args.lang)}")
        for line in textwrap.wrap(" ".join(exercise.task.get(args.lang).split()), 76):
            print(f"    {line}")
    print(f"\nedit the file, then '{PROG} check {loaded.id}' (or '{PROG} watch {loaded.id}')")
    return 0


def _lesson_and_exercise(args: argparse.Namespace) -> tuple[LoadedLesson, Exercise] | int:
    """The lesson and its exercise ``args.name``, or the exit code of a usage error."""
    from tutor import exercises

    loaded = _exercise_lesson(args)
    if isinstance(loaded, int):
        return loaded
    try:
        return loaded, exercises.find_exercise(loaded, args.name)
    except KeyError as e:
        return fail(str(e.args[0]))


def cmd_hint(args: argparse.Namespace) -> int:
    from tutor.exercises import coach

    found = _lesson_and_exercise(args)
    if isinstance(found, int):
        return found
    loaded, exercise = found
    hints = exercise.hints
    if not hints:
        print(f"{exercise.name} has no hints; its task: {exercise.task.get(args.lang)}")
        return 0
    key = coach.hint_key(loaded.id, exercise.name)  # the highest level shown so far
    store = progress_store()
    shown = coach.stored_hint_level(store.get_state(key)) if store is not None else 0
    if args.level is not None:
        if not 1 <= args.level <= len(hints):
            if store is not None:
                store.close()
            return fail(f"{exercise.name} has hints 1 to {len(hints)}, not {args.level}")
        level = args.level
    else:
        level = coach.next_hint_level(shown, len(hints))
    if store is not None:
        with store:
            if level > shown:
                store.set_state(key, str(level))
    print(f"hint {level}/{len(hints)} for {exercise.name}: {hints[level - 1].get(args.lang)}")
    if level < len(hints):
        print(f"(run it again for hint {level + 1})")
    return 0


def cmd_solution(args: argparse.Namespace) -> int:
    from tutor import exercises
    from tutor.exercises import coach

    found = _lesson_and_exercise(args)
    if isinstance(found, int):
        return found
    loaded, exercise = found
    store = progress_store()
    attempts = []
    if store is not None:
        with store:
            attempts = store.attempts(loaded.id)
    if not coach.solution_open(exercise.name, attempts):
        print(
            f"the solution to {exercise.name} opens after a failed attempt: write it in "
            f"{exercises.workspace_file(loaded)} and run '{PROG} check {loaded.id}' "
            f"('{PROG} hint {loaded.id} {exercise.name}' helps on the way)",
            file=sys.stderr,
        )
        return 1
    print(f"# the lesson's {exercise.target} ({loaded.code_path.name})")
    print(exercises.solution(loaded, exercise.name), end="")
    return 0
