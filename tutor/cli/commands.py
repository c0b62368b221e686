"""``dl-tutor list``, ``validate``, ``run``, ``progress``, ``runs`` and ``reset``.

Each command finds the lessons, does its one thing through the core (the loader, the runner,
the progress store) and prints; anything heavy is imported inside the command that needs it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.cli.common import (
    LIST_WIDTH,
    PROG,
    catalog_for,
    cell_width,
    fail,
    find_lesson,
    fit,
    isatty,
    lesson_dirs,
    one_line,
    plural,
    print_problems,
    unknown_lesson,
)
from tutor.cli.output import JsonOutput, TextOutput, jsonable
from tutor.cli.signals import ctrl_c_cancels
from tutor.events import format_metrics

if TYPE_CHECKING:
    from tutor.events import RunResult
    from tutor.lesson.catalog import LoadedLesson
    from tutor.progress import ProgressStore


# -- list ---------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    catalog = catalog_for(args)
    if args.json:
        rows = [lesson_json(x, args.lang) for x in catalog.lessons]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for line in lesson_table(catalog.lessons, args.lang, _list_width()):
            print(line)
    # Problems go to stderr so stdout (the table or the JSON array) stays clean for scripts.
    print_problems(catalog.problems, sys.stderr)
    return 0


def lesson_json(loaded: LoadedLesson, lang: str) -> dict[str, Any]:
    lesson = loaded.lesson
    return {
        "id": loaded.id,
        "title": lesson.title.get(lang),
        "order": lesson.order,
        "summary": lesson.summary.get(lang),
        "path": str(loaded.path),
        "code": str(loaded.code_path),
        "hyperparams": lesson.defaults(),
        "pack": loaded.pack,
        "ok": True,
    }


def _list_width() -> int:
    if isatty(sys.stdout):
        return max(40, shutil.get_terminal_size((LIST_WIDTH, 24)).columns)
    return LIST_WIDTH


def lesson_table(lessons: Sequence[LoadedLesson], lang: str, width: int = LIST_WIDTH) -> list[str]:
    """Order, id, title, summary; every line at most ``width`` terminal cells."""
    header = ("#", "id", "title", "summary")
    rows = [
        # A summary written over several YAML lines is one table cell.
        (
            str(x.lesson.order),
            x.id,
            (f"[{x.pack}] " if x.pack else "") + one_line(x.lesson.title.get(lang)),
            one_line(x.lesson.summary.get(lang)),
        )
        for x in lessons
    ]
    widths = [max(cell_width(r[i]) for r in [header, *rows]) for i in range(4)]
    gaps = 2 * 3
    # Ids are never cut (they are typed back in); the title gets at most half of what is left.
    rest = max(0, width - widths[0] - widths[1] - gaps)
    widths[2] = min(widths[2], max(8, rest // 2))
    widths[3] = max(0, rest - widths[2])
    lines = []
    for row in [header, *rows]:
        cells = [fit(row[0], widths[0], right=True)] + [
            fit(c, w) for c, w in zip(row[1:], widths[1:])
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


# -- validate -----------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from tutor.lesson.loader import load_paths

    catalog = load_paths(args.paths or lesson_dirs(args))
    print_problems(catalog.problems, sys.stdout)
    print_problems(catalog.warnings, sys.stdout)  # non-fatal: the exit code ignores them
    n_ok, n_bad = len(catalog.lessons), len(catalog.broken_files)
    n_warn = len(catalog.warnings)
    warned = f", {n_warn} {plural(n_warn, 'warning')}" if n_warn else ""
    print(
        f"{n_ok} {plural(n_ok, 'lesson')} ok, {n_bad} {plural(n_bad, 'file')} with problems"
        + warned
    )
    if getattr(args, "strict", False) and catalog.warnings:
        return 1
    return 1 if catalog.problems else 0


# -- run ------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    catalog = catalog_for(args)
    loaded = find_lesson(catalog, args.lesson)
    if loaded is None:
        return unknown_lesson(catalog, args.lesson)
    try:
        params = run_params(
            loaded, args.overrides, epochs=args.epochs, seed=args.seed, smoke=args.smoke
        )
    except ValueError as e:
        return fail(str(e))
    device_name = args.run_device or args.device or "auto"
    from tutor.training import device as devices

    try:  # up front, so an unavailable GPU is a usage error and not a failed run
        device_label = devices.describe(devices.resolve(device_name))
    except devices.DeviceUnavailable as e:
        return fail(str(e))
    return _run(loaded, params, device_name, device_label, args)


def run_params(
    loaded: LoadedLesson,
    overrides: Sequence[str],
    *,
    epochs: int | None = None,
    seed: int | None = None,
    smoke: bool = False,
) -> dict[str, Any]:
    """Checked hyperparameters: defaults < smoke < --set < --epochs/--seed; raises ValueError."""
    from tutor.training.runner import resolve_params

    values: dict[str, Any] = dict(loaded.lesson.smoke) if smoke else {}
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--set expects NAME=VALUE, got {item!r}")
        values[name.strip()] = value
    for flag, number in (("epochs", epochs), ("seed", seed)):
        if number is None:
            continue
        if loaded.lesson.hyperparam(flag) is None:
            raise ValueError(
                f"lesson {loaded.id!r} has no {flag!r} hyperparameter, so --{flag} does not apply"
            )
        values[flag] = number
    return resolve_params(loaded, values)


def _run(
    loaded: LoadedLesson,
    params: dict[str, Any],
    device: str,
    device_label: str,
    args: argparse.Namespace,
) -> int:
    from tutor.training.runner import run_lesson

    cancel = threading.Event()
    out = sys.stdout  # taken before any redirect: JSON and text output always go here
    sink: JsonOutput | TextOutput
    if args.json:
        sink = JsonOutput(out, loaded, args.lang)
    else:
        sink = TextOutput(out, loaded, args.lang, device_label)
    # With --json, print()s in lesson code would corrupt the event stream: send them to stderr.
    quiet = redirect_stdout(sys.stderr) if args.json else nullcontext()
    ended_by: list[int] = []  # SIGTERM / SIGHUP received during the run
    with ctrl_c_cancels(cancel, ended_by), quiet:
        result = run_lesson(
            loaded,
            params,
            sink=sink,
            cancel=cancel,
            device=device,
            lang=args.lang,
            code_path=_learner_code(loaded) if getattr(args, "mine", False) else None,
        )
    strict = getattr(args, "strict", False)
    unresolved = unresolved_questions(loaded, result)
    if isinstance(sink, JsonOutput):
        sink.finish(result, quiz=[{"id": q, "resolved": q not in unresolved} for q in _ids(loaded)])
    else:
        sink.finish(result)
        for qid in sorted(unresolved) if strict else ():
            print(f"{PROG}: quiz question {qid!r} has no answer from this run", file=sys.stderr)
    _store_run(result)
    if ended_by:
        return 128 + ended_by[0]  # the shell's "ended by signal N"
    if strict and (unresolved or any(c.error for c in result.checks)):
        return 1
    return 0 if result.ok else 1


def _ids(loaded: LoadedLesson) -> list[str]:
    return [q.id for q in loaded.lesson.quiz]


def unresolved_questions(loaded: LoadedLesson, result: RunResult) -> set[str]:
    """Ids of grounded questions whose expected answer the run's values cannot give."""
    from tutor import quiz

    if result.status != "completed":
        return {q.id for q in loaded.lesson.quiz if q.grounded}
    values = quiz.run_values(result)
    missing = set()
    for question in loaded.lesson.quiz:
        try:
            if quiz.expected_value(question, values) is None:
                missing.add(question.id)
        except Exception:  # an unknown name, a bad index, ...: the question cannot be graded
            missing.add(question.id)
    return missing


def _learner_code(loaded: LoadedLesson) -> Path:
    """The learner's copy of the lesson code (created from the starter if missing)."""
    from tutor.exercises import ensure_workspace

    path = ensure_workspace(loaded)
    print(f"{PROG}: training with your file {path}", file=sys.stderr)
    return path


def _store_run(result: RunResult) -> None:
    """Headless runs count as progress too; a store problem must not fail the run."""
    from tutor.progress import ProgressError, ProgressStore

    try:
        with ProgressStore() as store:
            if store.recovered_message:
                print(f"{PROG}: {store.recovered_message}", file=sys.stderr)
            store.record_run(result)
    except (ProgressError, OSError) as e:
        print(f"{PROG}: could not save this run to your progress: {e}", file=sys.stderr)


# -- progress, runs, reset ------------------------------------------------------------------


def _open_store() -> ProgressStore:
    from tutor.progress import ProgressStore

    store = ProgressStore()
    if store.recovered_message:
        print(f"{PROG}: {store.recovered_message}", file=sys.stderr)
    return store


def cmd_progress(args: argparse.Namespace) -> int:
    catalog = catalog_for(args)
    with _open_store() as store:
        rows = store.summary(
            [
                (x.id, x.lesson.title.get(args.lang), [q.id for q in x.lesson.quiz])
                for x in catalog.lessons
            ]
        )
    if args.json:
        print(json.dumps([dict(vars(r)) for r in rows], ensure_ascii=False, indent=1))
        return 0
    marks = {"done": "✓ done", "started": "… started", "new": "  new"}
    header = ("#", "lesson", "status", "runs", "quiz", "first try", "exercises")
    table = [header] + [
        (
            str(x.lesson.order),
            fit(r.title, 34),
            marks[r.status],
            str(r.runs),
            f"{r.questions_correct}/{r.questions}",
            f"{r.questions_first_try}/{r.questions}" if r.questions else "-",
            f"{r.exercises_passed}/{r.exercises_tried}" if r.exercises_tried else "-",
        )
        for x, r in zip(catalog.lessons, rows)
    ]
    widths = [max(cell_width(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print(
            "  ".join(
                fit(c, w, right=i in (0, 3)) for i, (c, w) in enumerate(zip(row, widths))
            ).rstrip()
        )
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    catalog = catalog_for(args)
    loaded = find_lesson(catalog, args.lesson)
    if loaded is None:
        return unknown_lesson(catalog, args.lesson)
    with _open_store() as store:
        runs = store.runs(loaded.id, limit=args.limit)
    if args.json:
        fields = (
            "id",
            "status",
            "params",
            "seed",
            "device",
            "dataset",
            "seconds",
            "metrics",
            "checks",
            "started_at",
            "passed",
        )
        print(
            json.dumps(
                [{f: jsonable(getattr(r, f)) for f in fields} for r in runs], ensure_ascii=False
            )
        )
        return 0
    if not runs:
        print(f"no runs of {loaded.id} yet: '{PROG} run {loaded.id}' or press r in the app")
        return 0
    defaults = loaded.lesson.defaults()
    for r in runs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started_at))
        changed = {k: v for k, v in r.params.items() if defaults.get(k) != v}
        params = " ".join(f"{k}={v}" for k, v in changed.items()) or "defaults"
        checks = sum(c.get("passed", False) for c in r.checks)
        print(
            f"#{r.id:<4} {when}  {r.status:<9}  checks {checks}/{len(r.checks)}  "
            f"{format_metrics(r.metrics)}  [{params}]"
        )
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    lesson_id: str | None = None  # None: every lesson
    if args.lesson:
        catalog = catalog_for(args)
        loaded = find_lesson(catalog, args.lesson)
        if loaded is None:
            return unknown_lesson(catalog, args.lesson)
        lesson_id = loaded.id
    target = lesson_id or "every lesson"
    if not args.yes:
        if not sys.stdin.isatty():
            return fail(f"reset {target}: add --yes to confirm (no terminal to ask)")
        answer = input(f"Forget runs, answers and exercise attempts of {target}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing changed")
            return 1
    with _open_store() as store:
        store.reset(lesson_id)
    print(f"progress of {target} cleared")
    return 0
