"""``dl-tutor``: the app, and ``list`` / ``run`` / ``validate`` for shells and scripts.

Import cost matters here: ``list``, ``validate`` and ``--version`` must never
import torch (or the Textual app), so everything heavy is imported inside the
command that needs it. ``run`` calls the runner on the main thread; Ctrl+C sets
the run's cancel event instead of tearing the process down, so the summary of a
stopped run still prints.

Exit codes: 0 success; 1 a run that did not complete with every check passing,
or ``validate`` found problems; 2 usage errors (bad flags, unknown lesson, bad
``--set``, unavailable device); 130 a second Ctrl+C.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from tutor import __version__
from tutor.cli.charts import CHART_MAX_WIDTH, chart_groups, render_chart, render_samples
from tutor.cli.quiz import add_quiz_parser, run_quiz
from tutor.training.device import DEVICE_CHOICES

if TYPE_CHECKING:
    from tutor.events import Event, RunResult
    from tutor.lesson.loader import Catalog, LoadedLesson, Problem

PROG = "dl-tutor"
LIST_WIDTH = 80  # the table fits this when stdout is not a terminal
EPOCH_LINE_INTERVAL = 0.1  # seconds: at most ~10 progress lines a second


# -- entry point ----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dl-tutor`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    _tolerate_unencodable_output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version and usage errors: return, don't exit
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    args.lang = args.lang or default_lang(os.environ)
    handlers: dict[str | None, Callable[[argparse.Namespace], int]] = {
        None: _cmd_app,
        "list": _cmd_list,
        "run": _cmd_run,
        "validate": _cmd_validate,
        "progress": _cmd_progress,
        "runs": _cmd_runs,
        "reset": _cmd_reset,
        **EXERCISE_COMMANDS,
        "quiz": _cmd_quiz,
    }
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:  # Ctrl+C outside a run (or twice during one)
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `dl-tutor list | head`: the reader left, nothing to report
        _silence_stdout()
        return 1


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error instead of the full usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _device_name(text: str) -> str:
    if text in DEVICE_CHOICES or re.fullmatch(r"cuda:\d+", text):
        return text
    raise argparse.ArgumentTypeError(
        f"invalid device {text!r} (choose from {', '.join(DEVICE_CHOICES)})"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="A terminal tutor for deep learning with PyTorch. "
        "Without a COMMAND, starts the app.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--lessons",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="another directory of lessons (repeatable)",
    )
    parser.add_argument(
        "--lang", choices=("en", "zh"), help="language of lesson text (default: from the locale)"
    )
    parser.add_argument(
        "--device",
        type=_device_name,
        metavar="{auto,cpu,cuda,mps}",
        help="where the app trains (default: auto)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="the lessons, in order")
    p.add_argument("--json", action="store_true", help="a JSON array, for scripts")

    p = sub.add_parser("run", help="train a lesson headless and check its outcome")
    p.add_argument("lesson", metavar="ID", help="lesson id (or its order number)")
    p.add_argument("--epochs", type=int, help="set the 'epochs' hyperparameter")
    p.add_argument("--seed", type=int, help="set the 'seed' hyperparameter")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a hyperparameter (repeatable)",
    )
    p.add_argument(
        "--device",
        dest="run_device",
        type=_device_name,
        metavar="{auto,cpu,cuda,mps}",
        help="where to train (default: the global --device, else auto)",
    )
    p.add_argument("--json", action="store_true", help="one JSON event per line on stdout")
    p.add_argument(
        "--smoke", action="store_true", help="apply the lesson's quick 'smoke' settings first"
    )
    p.add_argument(
        "--mine",
        action="store_true",
        help="train with your exercise file (see 'dl-tutor exercise ID --path')",
    )

    p = sub.add_parser("progress", help="your progress in every lesson")
    p.add_argument("--json", action="store_true", help="a JSON array, for scripts")

    p = sub.add_parser("runs", help="the stored runs of a lesson, newest first")
    p.add_argument("lesson", metavar="ID", help="lesson id (or its order number)")
    p.add_argument("--json", action="store_true", help="a JSON array, for scripts")
    p.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")

    p = sub.add_parser("reset", help="forget the progress of one lesson, or of all")
    p.add_argument("lesson", metavar="ID", nargs="?", help="lesson id (default: every lesson)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = sub.add_parser("validate", help="check lesson files; prints file:line: field: message")
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="lesson files or directories (default: every known lesson)",
    )
    _add_exercise_commands(sub)
    add_quiz_parser(sub)
    return parser


def default_lang(environ: Mapping[str, str]) -> str:
    """``zh`` when the locale is Chinese; POSIX precedence: LC_ALL, LC_MESSAGES, then LANG."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def _fail(message: str, code: int = 2) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def _tolerate_unencodable_output() -> None:
    # A latin-1 or ASCII terminal must not turn a ✓ or a Chinese title into a traceback.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass


def _silence_stdout() -> None:
    # Python would report the broken pipe again when it flushes stdout at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


# -- loading lessons (never a traceback) ------------------------------------------------


def _lesson_dirs(args: argparse.Namespace) -> list[Path]:
    from tutor.paths import builtin_lessons_dir

    return [builtin_lessons_dir(), *args.lessons]


def load_paths(paths: Iterable[Path]) -> Catalog:
    """Lesson files and directories → a Catalog. Missing paths and unexpected loader
    errors become problems naming the file, so no command ever shows a traceback."""
    from tutor.lesson import loader as lessons

    files, problems = _expand(paths)
    try:
        catalog = lessons.load_files(files)
    except Exception:  # a loader bug on one odd file: find it, load the rest
        catalog = _load_one_by_one(files)
    catalog.problems[:0] = problems
    return catalog


def _expand(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    from tutor.lesson.loader import Problem, lesson_files

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
    from tutor.lesson import loader as lessons

    usable: list[Path] = []
    problems: list[Problem] = []
    for file in files:
        try:
            lessons.load_lesson(file)
        except lessons.LessonError:
            pass  # load_files reports these problems itself
        except Exception as e:
            problems.append(
                lessons.Problem(
                    file, 1, "(file)", f"unexpected error while loading: {type(e).__name__}: {e}"
                )
            )
            continue
        usable.append(file)
    catalog = lessons.load_files(usable)
    catalog.problems += problems
    return catalog


def _catalog(args: argparse.Namespace) -> Catalog:
    return load_paths(_lesson_dirs(args))


def _print_problems(problems: Iterable[Problem], out: TextIO) -> None:
    for problem in problems:
        print(problem, file=out)


# -- the app ------------------------------------------------------------------------------


def _cmd_app(args: argparse.Namespace) -> int:
    from tutor.ui.app import TutorApp  # Textual is only imported for the app

    app = TutorApp(list(args.lessons), lang=args.lang, device=args.device or "auto")
    app.owns_process = True  # may end the process by force if shutting down gets stuck
    app.run()
    return app.return_code or 0  # 129 / 143 after SIGHUP / SIGTERM (tutor.ui.shutdown)


# -- list ---------------------------------------------------------------------------------


def _cmd_list(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    if args.json:
        rows = [lesson_json(x, args.lang) for x in catalog.lessons]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for line in lesson_table(catalog.lessons, args.lang, _list_width()):
            print(line)
    # Problems go to stderr so stdout (the table or the JSON array) stays clean for scripts.
    _print_problems(catalog.problems, sys.stderr)
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
        "ok": True,
    }


def _list_width() -> int:
    if _isatty(sys.stdout):
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
            _one_line(x.lesson.title.get(lang)),
            _one_line(x.lesson.summary.get(lang)),
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


def _one_line(text: str) -> str:
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


# -- validate -----------------------------------------------------------------------------


def _cmd_validate(args: argparse.Namespace) -> int:
    catalog = load_paths(args.paths or _lesson_dirs(args))
    _print_problems(catalog.problems, sys.stdout)
    _print_problems(catalog.warnings, sys.stdout)  # non-fatal: the exit code ignores them
    n_ok, n_bad = len(catalog.lessons), len(catalog.broken_files)
    n_warn = len(catalog.warnings)
    warned = f", {n_warn} {_plural(n_warn, 'warning')}" if n_warn else ""
    print(
        f"{n_ok} {_plural(n_ok, 'lesson')} ok, {n_bad} {_plural(n_bad, 'file')} with problems"
        + warned
    )
    return 1 if catalog.problems else 0


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


# -- run ------------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    loaded = find_lesson(catalog, args.lesson)
    if loaded is None:
        return _unknown_lesson(catalog, args.lesson)
    try:
        params = run_params(
            loaded, args.overrides, epochs=args.epochs, seed=args.seed, smoke=args.smoke
        )
    except ValueError as e:
        return _fail(str(e))
    device_name = args.run_device or args.device or "auto"
    from tutor.training import device as devices

    try:  # up front, so an unavailable GPU is a usage error and not a failed run
        device_label = devices.describe(devices.resolve(device_name))
    except devices.DeviceUnavailable as e:
        return _fail(str(e))
    return _run(loaded, params, device_name, device_label, args)


def find_lesson(catalog: Catalog, key: str) -> LoadedLesson | None:
    """By id, or by order number (``dl-tutor run 1``) when exactly one lesson has it."""
    found = catalog.get(key)
    if found is None and key.isdigit():
        same = [x for x in catalog.lessons if x.lesson.order == int(key)]
        found = same[0] if len(same) == 1 else None
    return found


def _unknown_lesson(catalog: Catalog, key: str) -> int:
    close = catalog.suggest(key)
    if close:
        hint = "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    else:
        hint = f"; '{PROG} list' shows the lessons"
    if catalog.problems:
        hint += f" ({len(catalog.broken_files)} lesson files have problems: '{PROG} validate')"
    return _fail(f"unknown lesson {key!r}{hint}")


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
    for name, value in (("epochs", epochs), ("seed", seed)):
        if value is None:
            continue
        if loaded.lesson.hyperparam(name) is None:
            raise ValueError(
                f"lesson {loaded.id!r} has no {name!r} hyperparameter, so --{name} does not apply"
            )
        values[name] = value
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
        sink = JsonOutput(out)
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
    sink.finish(result)
    _store_run(result)
    if ended_by:
        return 128 + ended_by[0]  # the shell's "ended by signal N"
    return 0 if result.ok else 1


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


def _open_store() -> Any:
    from tutor.progress import ProgressStore

    store = ProgressStore()
    if store.recovered_message:
        print(f"{PROG}: {store.recovered_message}", file=sys.stderr)
    return store


def _cmd_progress(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
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


def _cmd_runs(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    loaded = find_lesson(catalog, args.lesson)
    if loaded is None:
        return _unknown_lesson(catalog, args.lesson)
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


def _cmd_reset(args: argparse.Namespace) -> int:
    target = "every lesson"
    if args.lesson:
        loaded = find_lesson(_catalog(args), args.lesson)
        if loaded is None:
            return _unknown_lesson(_catalog(args), args.lesson)
        target = loaded.id
    if not args.yes:
        if not sys.stdin.isatty():
            return _fail(f"reset {target}: add --yes to confirm (no terminal to ask)")
        answer = input(f"Forget runs, answers and exercise attempts of {target}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing changed")
            return 1
    with _open_store() as store:
        store.reset(loaded.id if args.lesson else None)
    print(f"progress of {target} cleared")
    return 0


@contextmanager
def ctrl_c_cancels(cancel: threading.Event, ended_by: list[int] | None = None) -> Iterator[None]:
    """The first Ctrl+C asks the run to stop at its next report (it ends as ``cancelled``
    and the summary prints); a second one interrupts at once.

    SIGTERM and SIGHUP (the terminal closed) stop the run the same way, so it is still
    stored; their numbers go to ``ended_by`` for the exit code. After a hang-up the output
    goes to /dev/null (there is no terminal left to print on).
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return
    from tutor.ui import shutdown

    def on_sigint(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("\nstopping at the next step (Ctrl+C again to quit now)", file=sys.stderr, flush=True)

    def on_exit_signal(signum: int, frame: object) -> None:
        if cancel.is_set() and ended_by:  # a second one: the step in progress will not end
            raise SystemExit(shutdown.exit_code(signum))
        if signum == shutdown.SIGHUP:
            shutdown.detach_from_terminal()
        if ended_by is not None:
            ended_by.append(signum)
        cancel.set()

    handlers = {signal.SIGINT: on_sigint, **{s: on_exit_signal for s in shutdown.EXIT_SIGNALS}}
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# -- run output: JSON lines ------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Strict JSON: NaN/inf become null (a diverged run's last step), unknown objects strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


class JsonOutput:
    """One JSON object per line, flushed, for every event a script may want."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.logs_seen = 0

    def __call__(self, event: Event) -> None:
        from tutor import events as ev

        if isinstance(event, ev.RunStarted):
            self._write(
                event="start",
                lesson=event.lesson_id,
                params=event.params,
                seed=event.seed,
                device=event.device,
            )
        elif isinstance(event, ev.DatasetChosen):
            self._write(
                event="dataset", name=event.name, **({"note": event.note} if event.note else {})
            )
        elif isinstance(event, ev.EpochEnded):
            self._write(
                event="epoch",
                epoch=event.epoch,
                metrics=event.metrics,
                elapsed=round(event.elapsed, 4),
            )
        elif isinstance(event, ev.LogLine):
            self.logs_seen += 1
            self._write(event="log", text=event.text)

    def finish(self, result: RunResult) -> None:
        for text in result.logs[self.logs_seen :]:  # notes the runner adds after the run
            self._write(event="log", text=text)
        self._write(
            event="end",
            lesson=result.lesson_id,
            status=result.status,
            metrics=result.metrics,
            checks=[c.as_dict() for c in result.checks],
            dataset=result.dataset,
            device=result.device,
            seconds=round(result.seconds, 3),
            seed=result.seed,
            error=result.error,
            hint=result.hint,
        )

    def _write(self, **fields: Any) -> None:
        self.out.write(json.dumps(jsonable(fields), ensure_ascii=False, allow_nan=False) + "\n")
        self.out.flush()


# -- run output: text --------------------------------------------------------------------------


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def dumb_terminal(environ: Mapping[str, str] = os.environ) -> bool:
    """TERM=dumb: no colours and no cursor control (Emacs' M-x shell, some CI logs)."""
    return environ.get("TERM", "") == "dumb"


def use_color(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    return _isatty(stream) and not environ.get("NO_COLOR") and not dumb_terminal(environ)


def format_metric(value: float) -> str:
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4f}"
    return f"{value:.3e}"


def format_metrics(metrics: Mapping[str, float]) -> str:
    return "  ".join(f"{k} {format_metric(v)}" for k, v in metrics.items())


class TextOutput:
    """Human output: a header, throttled epoch lines, logs, then the summary (:meth:`finish`)."""

    def __init__(self, out: TextIO, loaded: LoadedLesson, lang: str, device_label: str) -> None:
        self.out = out
        self.loaded = loaded
        self.lang = lang
        self.device_label = device_label
        self.color = use_color(out)
        self.live = _isatty(out)  # an in-place status line during long epochs
        self.dumb = dumb_terminal()  # then the status line is blanked with spaces, not ESC[K
        self._status_width = 0
        self.width = shutil.get_terminal_size((LIST_WIDTH, 24)).columns if self.live else LIST_WIDTH
        self.epochs: int | None = None
        self.epoch_names: set[str] = set()  # metrics reported per epoch (the rest are per step)
        self.logs_seen = 0
        self._pending: str | None = None  # the newest epoch line not printed yet
        self._last_epoch_print = -math.inf
        self._status_shown = False

    # events
    def __call__(self, event: Event) -> None:
        from tutor import events as ev

        if isinstance(event, ev.RunStarted):
            self.epochs = event.epochs
            self._header(event)
        elif isinstance(event, ev.DatasetChosen):
            self._line(f"dataset  {event.name}" + (f" ({event.note})" if event.note else ""))
        elif isinstance(event, ev.EpochEnded):
            self._epoch(event)
        elif isinstance(event, ev.LogLine):
            self.logs_seen += 1
            self._line(event.text)
        elif isinstance(event, ev.Progress) and self.live:
            self._status(event)

    def _header(self, event: Any) -> None:
        lesson = self.loaded.lesson
        self._line(f"{self.loaded.id}: {lesson.title.get(self.lang)}")
        params = "  ".join(f"{k}={v}" for k, v in event.params.items())
        self._line(f"params  {params or '(none)'}")
        self._line(
            f"seed {event.seed if event.seed is not None else '-'}  device {self.device_label}"
        )

    def _epoch(self, event: Any) -> None:
        self.epoch_names.update(event.metrics)
        total = f"/{self.epochs}" if self.epochs else ""
        number = f"{event.epoch:>{len(str(self.epochs or ''))}}"
        self._pending = (
            f"epoch {number}{total}  {format_metrics(event.metrics)}  {event.elapsed:.1f}s"
        )
        now = time.monotonic()
        # Fast lessons end thousands of epochs a second: keep ~10 lines a second, and the last.
        if event.epoch == self.epochs or now - self._last_epoch_print >= EPOCH_LINE_INTERVAL:
            self._flush_epoch()

    def _flush_epoch(self) -> None:
        if self._pending is not None:
            line, self._pending = self._pending, None
            self._last_epoch_print = time.monotonic()
            self._line(line)

    def _status(self, event: Any) -> None:
        if event.step == 0:  # between epochs (or after the last): the epoch line says it all
            return
        total = f"/{event.epochs}" if event.epochs else ""
        epoch = min(event.epoch, event.epochs) if event.epochs else event.epoch
        text = f"  epoch {epoch}{total}  step {event.step}  {format_metrics(event.metrics)}"
        text = fit(f"{text}  {event.elapsed:.1f}s", max(10, self.width - 1)).rstrip()
        self.out.write(self._erase_status() + text)
        self.out.flush()
        self._status_shown = True
        self._status_width = cell_width(text)

    def _erase_status(self) -> str:
        if not self.dumb:
            return "\r\x1b[K"
        return "\r" + " " * self._status_width + "\r"

    def _line(self, text: str = "") -> None:
        if self._status_shown:
            self.out.write(self._erase_status())
            self._status_shown = False
        print(text, file=self.out, flush=True)

    # the summary
    def finish(self, result: RunResult) -> None:
        self._flush_epoch()
        for text in result.logs[self.logs_seen :]:
            self._line(f"note: {text}")
        for block in (*self._charts(result), self._images(result)):
            if block:
                self._line()
                self._line(block)
        self._line()
        for line in summary_lines(result, self.loaded, self.lang):
            self._line(line)

    def _charts(self, result: RunResult) -> list[str]:
        width = min(self.width, CHART_MAX_WIDTH)
        groups = chart_groups(result.history, self.loaded, self.epoch_names, self.lang)
        try:
            return [
                render_chart(title, xlabel, series, width, self.color)
                for title, xlabel, series in groups
            ]
        except Exception as e:  # a plotting problem must not hide the results
            print(f"{PROG}: chart unavailable: {type(e).__name__}: {e}", file=sys.stderr)
            return []

    def _images(self, result: RunResult) -> str | None:
        images = result.records.get("sample_images")
        if not images:
            return None
        try:
            return render_samples(
                images, result.records.get("sample_captions"), self.width, self.color
            )
        except ImportError:  # the image view is optional
            return None
        except Exception as e:
            print(f"{PROG}: sample images unavailable: {type(e).__name__}: {e}", file=sys.stderr)
            return None


def summary_lines(result: RunResult, loaded: LoadedLesson, lang: str) -> list[str]:
    """Final metrics, checks ✓/✗, status, and the traceback or hint of a run that went wrong."""
    from tutor.quiz import format_value

    lines = []
    if result.metrics:
        lines.append(f"final    {format_metrics(result.metrics)}")
    if result.checks:
        lines.append("checks")
        for c in result.checks:
            value = f"error: {c.error}" if c.error else format_value(c.value)
            lines.append(f"  {'✓' if c.passed else '✗'} {c.name}: {value} (target {c.expected})")
    elif loaded.lesson.checks and result.status != "completed":
        lines.append(f"checks   not evaluated: the run {result.status}")
    passed = sum(c.passed for c in result.checks)
    checks = f", {passed}/{len(result.checks)} checks passed" if result.checks else ""
    lines.append(f"status   {result.status}{checks}  ({result.seconds:.1f}s, {result.device})")
    lines.append(f"dataset  {result.dataset}")
    if result.error:
        lines += ["", result.error]
    if result.hint:
        lines.append(f"hint: {result.hint}")
    return lines


# -- exercises: check, watch, exercise, hint, solution ------------------------------------------
# The checking itself lives in tutor/exercises/ (no Textual, torch only in its subprocess);
# these commands find the lesson, print, and record attempts in the progress store.

RESULT_MARKS = {"passed": "✓", "failed": "✗", "error": "!", "not-attempted": "○"}


def _add_exercise_commands(sub: Any) -> None:
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
    catalog = _catalog(args)
    loaded = find_lesson(catalog, args.lesson)
    if loaded is None:
        return _unknown_lesson(catalog, args.lesson)
    if not loaded.lesson.exercises:
        with_exercises = [x.id for x in catalog.lessons if x.lesson.exercises]
        known = ", ".join(with_exercises) or "none"
        return _fail(f"lesson {loaded.id!r} has no exercises; these do: {known}")
    return loaded


def _progress_store() -> Any:
    """The progress store, or None (with a warning) when it cannot be opened: checking must
    still work on a read-only or broken data directory."""
    from tutor.progress import ProgressStore

    try:
        return ProgressStore()
    except Exception as e:  # ProgressError, sqlite3.Error, OSError
        print(f"{PROG}: progress not saved: {e}", file=sys.stderr)
        return None


def _record_attempts(loaded: LoadedLesson, results: Iterable[Any]) -> None:
    from tutor.progress import ATTEMPT_OUTCOMES

    # "not-attempted" is not an attempt: nothing was written yet.
    attempts = [r for r in results if r.status in ATTEMPT_OUTCOMES]
    if not attempts:
        return
    store = _progress_store()
    if store is None:
        return
    with store:
        for r in attempts:
            store.record_attempt(loaded.id, r.name, r.status, r.message)


def exercise_report(loaded: LoadedLesson, path: Path, results: Sequence[Any]) -> list[str]:
    """Text lines for ``check``/``watch``: one mark and message per exercise, then a summary."""
    lines = [f"{loaded.id}: {path}"]
    for r in results:
        # The message of a not-attempted exercise already names the TODO's line.
        where = f" (line {r.line})" if r.line and r.status in ("failed", "error") else ""
        first, *rest = r.message.splitlines() or [""]
        lines.append(f"  {RESULT_MARKS.get(r.status, '?')} {r.name}{where}: {first}")
        lines += [f"      {line.strip()}" for line in rest]
    passed = sum(r.status == "passed" for r in results)
    lines.append(f"{passed}/{len(results)} exercises passed")
    if any(r.status in ("failed", "error") for r in results):
        lines.append(
            f"stuck? '{PROG} hint {loaded.id} NAME' shows a hint; after a failed attempt, "
            f"'{PROG} solution {loaded.id} NAME' shows the lesson's code"
        )
    elif any(r.status == "not-attempted" for r in results):
        lines.append(f"edit {path}, replace each TODO, then check again")
    return lines


def _cmd_check(args: argparse.Namespace) -> int:
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


def _cmd_watch(args: argparse.Namespace) -> int:
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


def _cmd_exercise(args: argparse.Namespace) -> int:
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


def _cmd_hint(args: argparse.Namespace) -> int:
    from tutor import exercises
    from tutor.progress import hint_key

    loaded = _exercise_lesson(args)
    if isinstance(loaded, int):
        return loaded
    try:
        exercise = exercises.find_exercise(loaded, args.name)
    except KeyError as e:
        return _fail(str(e.args[0]))
    hints = exercise.hints
    if not hints:
        print(f"{exercise.name} has no hints; its task: {exercise.task.get(args.lang)}")
        return 0
    key = hint_key(loaded.id, exercise.name)  # the highest level shown so far
    store = _progress_store()
    shown = 0
    if store is not None:
        try:
            shown = int(store.get_state(key) or 0)
        except ValueError:  # not ours to trust: start from the first hint again
            shown = 0
    if args.level is not None:
        if not 1 <= args.level <= len(hints):
            if store is not None:
                store.close()
            return _fail(f"{exercise.name} has hints 1 to {len(hints)}, not {args.level}")
        level = args.level
    else:
        level = min(shown + 1, len(hints))  # one more each time, then the last one again
    if store is not None:
        with store:
            if level > shown:
                store.set_state(key, str(level))
    print(f"hint {level}/{len(hints)} for {exercise.name}: {hints[level - 1].get(args.lang)}")
    if level < len(hints):
        print(f"(run it again for hint {level + 1})")
    return 0


def _cmd_solution(args: argparse.Namespace) -> int:
    from tutor import exercises

    loaded = _exercise_lesson(args)
    if isinstance(loaded, int):
        return loaded
    try:
        exercise = exercises.find_exercise(loaded, args.name)
    except KeyError as e:
        return _fail(str(e.args[0]))
    store = _progress_store()
    attempts = []
    if store is not None:
        with store:
            attempts = store.attempts(loaded.id)
    tried = any(a.exercise == exercise.name and a.outcome in ("failed", "error") for a in attempts)
    if not tried:
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


def _cmd_quiz(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    loaded = find_lesson(catalog, args.lesson)
    if loaded is None:
        return _unknown_lesson(catalog, args.lesson)
    return run_quiz(args, loaded, _progress_store)  # tutor/cli/quiz.py


EXERCISE_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": _cmd_check,
    "watch": _cmd_watch,
    "exercise": _cmd_exercise,
    "hint": _cmd_hint,
    "solution": _cmd_solution,
}
