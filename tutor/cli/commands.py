"""``dl-tutor list``, ``validate``, ``run``, ``progress``, ``runs`` and ``reset``.

Each command finds the lessons, does its one thing through the core (the loader, the runner,
the progress store) and prints; anything heavy is imported inside the command that needs it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
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
    json_text,
    lesson_dirs,
    marks,
    one_line,
    plural,
    print_problems,
    say,
    unknown_lesson,
)
from tutor.cli.output import InertWriter, JsonOutput, TextOutput, jsonable
from tutor.cli.signals import ctrl_c_cancels
from tutor.events import format_metrics

if TYPE_CHECKING:
    from tutor.events import RunResult
    from tutor.lesson.catalog import LoadedLesson
    from tutor.progress import ProgressStore


# -- list ---------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    catalog = catalog_for(args, warn=False)  # a missing directory is one of its problems
    if args.json:
        rows = [lesson_json(x, args.lang) for x in catalog.lessons]
        print(json_text(rows, indent=2))
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
    from tutor.training.process import RunRequest
    from tutor.training.runner import run_lesson

    cancel = threading.Event()
    out = sys.stdout  # taken before any redirect: JSON and text output always go here
    sink: JsonOutput | TextOutput
    if args.json:
        sink = JsonOutput(out, loaded, args.lang)
    else:
        sink = TextOutput(out, loaded, args.lang, device_label)
    # What was reported so far, for a run that has to be ended by force (signals.py).
    seen = _so_far(RunRequest(loaded, params, device, lang=args.lang), sink)
    started_at = time.time()

    def store_stuck_run(signum: int) -> None:
        _store_run(seen.result(), started_at)

    # Lesson code's own print()s: inert (no escape sequences reach the terminal), and with
    # --json on stderr, so they cannot corrupt the event stream.
    lesson_out = InertWriter(sys.stderr if args.json else sys.stdout)
    ended_by: list[int] = []  # SIGTERM / SIGHUP received during the run
    with (
        ctrl_c_cancels(cancel, ended_by, on_stuck=store_stuck_run),
        redirect_stdout(lesson_out),
        redirect_stderr(InertWriter(sys.stderr)),
    ):
        result = run_lesson(
            loaded,
            params,
            sink=seen,
            cancel=cancel,
            device=device,
            lang=args.lang,
            code_path=_learner_code(loaded) if getattr(args, "mine", False) else None,
        )
    strict = getattr(args, "strict", False)
    unresolved = unresolved_questions(loaded, result)
    stored = True
    try:  # printing the summary can fail (a closed pipe): the run is stored all the same
        if isinstance(sink, JsonOutput):
            quiz = [{"id": q, "resolved": q not in unresolved} for q in _ids(loaded)]
            sink.finish(result, quiz=quiz)
        else:
            sink.finish(result)
            for qid in sorted(unresolved) if strict else ():
                print(f"{PROG}: quiz question {qid!r} has no answer from this run", file=sys.stderr)
    finally:
        stored = _store_run(result, started_at)
    if ended_by:
        return 128 + ended_by[0]  # the shell's "ended by signal N"
    if not stored:
        return 1
    if strict and (unresolved or any(c.error for c in result.checks)):
        return 1
    return 0 if result.ok else 1


def _so_far(request: Any, sink: Any) -> Any:
    """The app's collector of a run's events (``tutor.training.process``), which also keeps
    per-epoch values: in-process, the points of the last epochs may still be buffered in
    the lesson's context when a stuck run has to be stored as it is."""
    from tutor.events import EpochEnded
    from tutor.training.process import _Collector

    class SoFar(_Collector):
        def __init__(self, request: Any, sink: Any) -> None:
            super().__init__(request, sink)
            self.epoch_points: dict[str, list[tuple[float, float]]] = {}

        def __call__(self, event: Any) -> None:
            if isinstance(event, EpochEnded):
                for name, value in event.metrics.items():
                    point = (float(event.epoch), float(value))
                    self.epoch_points.setdefault(name, []).append(point)
            super().__call__(event)

        def result(self) -> RunResult:
            result = self.fallback_result("was ended", cancelled=True, output=[])
            for name, points in self.epoch_points.items():
                known = dict(result.history.get(name, []))
                result.history[name] = sorted({**known, **dict(points)}.items())
                result.metrics.setdefault(name, points[-1][1])
            return result

    return SoFar(request, sink)


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


def _store_run(result: RunResult, started_at: float | None = None) -> bool:
    """Headless runs count as progress too. Returns whether the run is in the store; if it
    cannot be, it is kept as a pending file (stored at the next start that can write) and
    one line says why and where. Never raises."""
    from tutor.progress import ProgressStore
    from tutor.progress.pending import explain, keep_run

    try:
        with ProgressStore() as store:
            if store.recovered_message:
                say(f"{PROG}: {store.recovered_message}", sys.stderr)
            _store_pending(store)
            store.record_run(result, started_at=started_at)
        return True
    except Exception as e:  # locked, read-only, full, newer, not a directory, ...
        problem = explain(e)
    try:
        kept = keep_run(result, started_at)
    except OSError as e:
        say(f"{PROG}: could not save this run: {problem} (nor keep it aside: {e})", sys.stderr)
        return False
    say(
        f"{PROG}: could not save this run: {problem}. It is kept in {kept} and will be "
        "stored the next time dl-tutor can write",
        sys.stderr,
    )
    return False


def _store_pending(store: ProgressStore) -> None:
    """Store the runs kept aside while the store could not be written (pending.py)."""
    from tutor.progress.pending import store_pending_runs

    count, problems = store_pending_runs(store)
    if count:
        say(f"{PROG}: stored {count} {plural(count, 'run')} kept from before", sys.stderr)
    for problem in problems:
        say(f"{PROG}: {problem}", sys.stderr)


# -- progress, runs, reset ------------------------------------------------------------------


class StoreUnusable(Exception):
    """The progress file cannot be used; the message is one line for the learner."""


def _open_store(*, reading: bool = False) -> ProgressStore:
    """The store, with pending runs stored first; for a command that only reads, a store
    that cannot be written is opened read-only (with a note). Raises StoreUnusable."""
    from tutor.progress import ProgressError, ProgressStore
    from tutor.progress.pending import explain

    try:
        store = ProgressStore()
    except Exception as e:
        if not reading or isinstance(e, ProgressError):
            raise StoreUnusable(explain(e)) from e
        try:
            store = ProgressStore.open_readonly()
        except Exception:
            raise StoreUnusable(explain(e)) from e
        say(f"{PROG}: {explain(e)} (shown read-only)", sys.stderr)
        return store
    if store.recovered_message:
        say(f"{PROG}: {store.recovered_message}", sys.stderr)
    try:
        _store_pending(store)
    except Exception as e:
        store.close()
        raise StoreUnusable(explain(e, store.path)) from e
    return store


def _store_failed(e: Exception) -> int:
    """One line for a store error (exit 1); the message of StoreUnusable is that line."""
    from tutor.progress.pending import explain

    return fail(str(e) if isinstance(e, StoreUnusable) else explain(e), 1)


def cmd_progress(args: argparse.Namespace) -> int:
    catalog = catalog_for(args)
    try:
        with _open_store(reading=True) as store:
            rows = store.summary(
                [
                    (x.id, x.lesson.title.get(args.lang), [q.id for q in x.lesson.quiz])
                    for x in catalog.lessons
                ]
            )
    except Exception as e:  # sqlite3.Error, OSError, ProgressError: never a traceback
        return _store_failed(e)
    if args.json:
        print(json_text([dict(vars(r)) for r in rows], indent=1))
        return 0
    done, _, more = marks()
    status_marks = {"done": f"{done} done", "started": f"{more[0]} started", "new": "  new"}
    header = ("#", "lesson", "status", "runs", "quiz", "first try", "exercises")
    table = [header] + [
        (
            str(x.lesson.order),
            fit(r.title, 34),
            status_marks[r.status],
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
    try:
        with _open_store(reading=True) as store:
            runs = store.runs(loaded.id, limit=args.limit)
    except Exception as e:
        return _store_failed(e)
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
        print(json_text([{f: jsonable(getattr(r, f)) for f in fields} for r in runs]))
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
        say(  # metric names and parameter values come from lesson code and --set
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
    try:
        with _open_store() as store:
            store.reset(lesson_id)
    except Exception as e:
        return _store_failed(e)
    print(f"progress of {target} cleared")
    return 0
