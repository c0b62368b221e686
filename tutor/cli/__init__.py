"""``dl-tutor``: the app, and its commands for shells and scripts.

This module parses the command line and hands it to one command: ``commands.py`` (list,
validate, run, progress, runs, reset), ``exercises.py`` (check, watch, exercise, hint,
solution), ``sweep.py`` (sweep, experiment); ``output.py`` prints a run, ``signals.py`` turns
Ctrl+C into a stopped run, ``common.py`` holds what they share. The CLI keeps no rules of
its own: it prints what the core (``tutor.lesson``, ``tutor.training``, ``tutor.exercises``,
``tutor.progress``) answers.

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
import os
import re
import sys
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from tutor import __version__
from tutor.cli import authoring, commands, exercises, quiz, sweep
from tutor.cli.common import CELLS_ERRORS, PROG, encodes, fancy, silence
from tutor.training.device import DEVICE_CHOICES

# -- entry point ----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dl-tutor`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    _tolerate_unencodable_output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version and usage errors: return, don't exit
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    args.lang_given = args.lang is not None
    args.lang = args.lang or default_lang(os.environ, getattr(sys.stdout, "encoding", None))
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:  # Ctrl+C outside a run (or twice during one)
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `dl-tutor list | head`: the reader left, nothing to report
        silence(sys.stdout)
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


# SQLite's LIMIT is a 64-bit integer; more runs than this cannot exist anyway.
MAX_LIMIT = 2**63 - 1


def _limit(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return min(number, MAX_LIMIT)


def _language(text: str) -> str:
    if text in ("en", "zh"):
        return text
    # Only a language outside en/zh pays for the look-up of the installed lesson packs.
    from tutor.lesson.packs import pack_languages

    known = ["en", "zh", *pack_languages()]
    if text in known:
        return text
    raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {', '.join(known)})")


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
        "--lang",
        type=_language,
        metavar="{en,zh,...}",
        help="language of lesson text (default: from the locale); lesson packs may add more",
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
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 also when a quiz answer or a check cannot be computed from the run",
    )

    p = sub.add_parser("progress", help="your progress in every lesson")
    p.add_argument("--json", action="store_true", help="a JSON array, for scripts")

    p = sub.add_parser("runs", help="the stored runs of a lesson, newest first")
    p.add_argument("lesson", metavar="ID", help="lesson id (or its order number)")
    p.add_argument("--json", action="store_true", help="a JSON array, for scripts")
    p.add_argument("--limit", type=_limit, default=20, help="how many runs (default 20)")

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
    p.add_argument("--strict", action="store_true", help="warnings are errors too (exit 1)")
    authoring.add_parsers(sub)
    exercises.add_parsers(sub)
    quiz.add_quiz_parser(sub)
    sweep.add_parsers(sub, _device_name)
    return parser


def default_lang(environ: Mapping[str, str], encoding: str | None = None) -> str:
    """``zh`` when the locale is Chinese (POSIX precedence: LC_ALL, LC_MESSAGES, then LANG)
    and the output (``encoding``) can show Chinese; otherwise English, not a row of ``?``."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            if not value.lower().startswith("zh"):
                return "en"
            if encoding and not encodes("中文", encoding):
                return "en"
            return "zh"
    return "en"



def _tolerate_unencodable_output() -> None:
    # A latin-1 or ASCII terminal must not turn a ✓ or a Chinese title into a traceback.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass


# -- the app ------------------------------------------------------------------------------


ASCII_NOTE = "This terminal cannot show Unicode: ASCII charts, English."


def plain_terminal(
    args: argparse.Namespace, environ: MutableMapping[str, str], screen: TextIO
) -> str | None:
    """Set the app up for a terminal whose encoding cannot show box lines and Chinese
    (``LC_ALL=C`` with ``PYTHONUTF8=0``); ``screen``: the stream Textual draws on. Textual
    has no ASCII mode: it lays out in cells as if for Unicode and the stream then writes ``?``
    for a box line (1 cell, aligned) and for a CJK character (2 cells: the rest of the line
    shifts). So: English unless ``--lang`` asked otherwise, the charts' ASCII tier unless
    ``DL_TUTOR_CHARTS`` chose one, and what still cannot be encoded is written as ASCII of
    the same width (``+-|`` boxes, ``??``). Returns the note to show, None on a Unicode one."""
    if fancy(screen):
        return None
    if not getattr(args, "lang_given", False):
        args.lang = "en"
    environ.setdefault("DL_TUTOR_CHARTS", "ascii")
    try:
        screen.reconfigure(errors=CELLS_ERRORS)  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        pass  # not a text file: it keeps main()'s errors="replace"
    return ASCII_NOTE


def _cmd_app(args: argparse.Namespace) -> int:
    from tutor.ui.app import TutorApp  # Textual is only imported for the app

    # Textual draws on the original stderr (its Linux driver writes to sys.__stderr__).
    note = plain_terminal(args, os.environ, sys.__stderr__ or sys.stderr)
    app = TutorApp(list(args.lessons), lang=args.lang, device=args.device or "auto")
    app.terminal_note = note
    app.owns_process = True  # may end the process by force if shutting down gets stuck
    app.run()
    return app.return_code or 0  # 129 / 143 after SIGHUP / SIGTERM (tutor.ui.shutdown)


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: _cmd_app,
    "list": commands.cmd_list,
    "run": commands.cmd_run,
    "validate": commands.cmd_validate,
    "progress": commands.cmd_progress,
    "runs": commands.cmd_runs,
    "reset": commands.cmd_reset,
    "check": exercises.cmd_check,
    "watch": exercises.cmd_watch,
    "exercise": exercises.cmd_exercise,
    "hint": exercises.cmd_hint,
    "solution": exercises.cmd_solution,
    "quiz": quiz.cmd_quiz,
    "sweep": sweep.cmd_sweep,
    "experiment": sweep.cmd_experiment,
    "new": authoring.cmd_new,
    "schema": authoring.cmd_schema,
}
