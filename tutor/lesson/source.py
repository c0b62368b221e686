"""Static reads of a lesson's code: what it records and reports, where an exercise's target is,
the learner's starter copy and the reference solution.

Only ``ast`` and text: nothing here executes lesson code (that is :mod:`tutor.training` and
:mod:`tutor.exercises`), so the loader can use it to validate a lesson cheaply.
"""

from __future__ import annotations

import ast
import difflib
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.lesson.codefile import CodeFileError, parse_source, read_source

if TYPE_CHECKING:
    from tutor.lesson.catalog import LoadedLesson
    from tutor.lesson.schema import Exercise


@dataclass
class CodeScan:
    """What a static read of lesson code finds (nothing is executed)."""

    recorded: dict[str, int] = field(default_factory=dict)  # ctx.record names -> first line
    reported: set[str] = field(default_factory=set)  # literal keywords of report_step/epoch
    # True when some report call passes ``**extra``: its names are unknown, so "a declared
    # series is never reported" cannot be claimed.
    reports_unknown: bool = False
    functions: list[str] = field(default_factory=list)  # top-level function names
    problem: str | None = None  # the file cannot be read or parsed


def read_code(code_path: Path) -> CodeScan:
    """Statically read lesson code: recorded names (with lines), reported metrics, functions.

    The names a check or a quiz answer may use at run time come from exactly these calls:
    ``ctx.record("name", ...)`` with a literal name, ``ctx.record_model(...)`` (``model``, or
    its literal ``name``), and every literal keyword of ``ctx.report_step``/``report_epoch``.
    """
    scan = CodeScan()
    try:  # a regular file of at most 1 MiB; any parser failure is a message with a line
        tree = parse_source(read_source(code_path), code_path)
    except CodeFileError as e:
        scan.problem = str(e)
        return scan
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        if method == "record" and node.args and isinstance(node.args[0], ast.Constant):
            scan.recorded.setdefault(str(node.args[0].value), node.lineno)
        elif method == "record_model":
            named: list[ast.expr] = [k.value for k in node.keywords if k.arg == "name"]
            if len(node.args) > 2:
                named.append(node.args[2])
            name = "model"
            if named and isinstance(named[0], ast.Constant):
                name = str(named[0].value)
            scan.recorded.setdefault(name, node.lineno)
        elif method in ("report_step", "report_epoch"):
            for k in node.keywords:
                if k.arg is None:
                    scan.reports_unknown = True
                elif not (method == "report_epoch" and k.arg == "epoch"):
                    scan.reported.add(k.arg)
    scan.functions = [
        n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    return scan


def scan_code(code_path: Path, entry: str) -> tuple[frozenset[str], frozenset[str], list[str]]:
    """Statically read lesson code: names it records, metric names it reports, problems."""
    scan = read_code(code_path)
    if scan.problem:
        return frozenset(), frozenset(), [scan.problem]
    problems = [] if entry in scan.functions else [entry_problem(code_path, entry, scan)]
    return frozenset(scan.recorded), frozenset(scan.reported), problems


def entry_problem(code_path: Path, entry: str, scan: CodeScan) -> str:
    """``code.py has no top-level function 'trian'; did you mean 'train'?``"""
    close = difflib.get_close_matches(entry, scan.functions, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{code_path.name} has no top-level function {entry!r}{hint}"


def find_target(tree: ast.Module, target: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The ``def`` of a top-level function ``f`` or a method ``Class.f``."""
    owner: Sequence[ast.stmt] = tree.body
    name = target
    if "." in target:
        class_name, name = target.split(".", 1)
        cls = next(
            (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name), None
        )
        if cls is None:
            return None
        owner = cls.body
    return next(
        (
            n
            for n in owner
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name
        ),
        None,
    )


def exercise_problems(code_path: Path, exercises: Sequence[Exercise]) -> list[tuple[int, str, str]]:
    """Static checks of ``exercises`` against the code: (index, field, message) for each problem.

    The target must exist, and every case (and ``init``) must fit the signature.
    """
    try:
        tree = ast.parse(code_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError):
        return []  # the loader reports an unreadable code file itself
    problems: list[tuple[int, str, str]] = []
    for i, exercise in enumerate(exercises):
        node = find_target(tree, exercise.target)
        if node is None:
            what = "method" if exercise.is_method else "top-level function"
            problems.append((i, "target", f"{code_path.name} has no {what} {exercise.target!r}"))
            continue
        low, high = _arity(node, skip_self=exercise.is_method)
        for j, case in enumerate(exercise.cases):
            if not low <= len(case) <= high:
                problems.append(
                    (
                        i,
                        "cases",
                        f"case {j} has {len(case)} arguments; "
                        f"{exercise.target} takes {_arity_text(low, high)}",
                    )
                )
        if exercise.is_method:
            init = find_target(tree, exercise.target.split(".")[0] + ".__init__")
            if init is not None:
                low, high = _arity(init, skip_self=True)
                if not low <= len(exercise.init) <= high:
                    problems.append(
                        (
                            i,
                            "init",
                            f"{len(exercise.init)} constructor arguments given; "
                            f"__init__ takes {_arity_text(low, high)}",
                        )
                    )
    return problems


def _arity(node: ast.FunctionDef | ast.AsyncFunctionDef, *, skip_self: bool) -> tuple[int, float]:
    positional = [*node.args.posonlyargs, *node.args.args][1 if skip_self else 0 :]
    required = len(positional) - len(node.args.defaults)
    return max(required, 0), math.inf if node.args.vararg else len(positional)


def _arity_text(low: int, high: float) -> str:
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} or more arguments" if high == math.inf else f"{low} to {int(high)} arguments"


def _body_range(
    lines: Sequence[str], node: ast.FunctionDef | ast.AsyncFunctionDef
) -> tuple[int, int]:
    """0-based [start, end) of the lines that make up the body, after any docstring.

    Comment lines right after the header or the docstring belong to the body (they often
    explain the solution); comments indented under the function after its last statement too.
    """
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        start = first.end_lineno or first.lineno  # the line after the docstring (1-based end)
    else:
        # The header may span lines; it ends at the last code line before the first statement.
        start = node.lineno  # 0-based index of the line after the def line
        for index in range(node.lineno - 1, first.lineno - 1):
            text = lines[index].strip()
            if text and not text.startswith("#"):
                start = index + 1
    end = node.end_lineno or first.lineno
    # Trailing comments still indented under the function are part of its body.
    probe = end
    while probe < len(lines):
        text = lines[probe]
        stripped = text.strip()
        if stripped.startswith("#") and _indent(text) > node.col_offset:
            probe += 1
            end = probe
        elif not stripped:
            probe += 1
        else:
            break
    return start, end


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _todo_lines(exercise: Exercise, indent: str) -> list[str]:
    task = " ".join(exercise.task.en.split())
    wrapped = textwrap.wrap(task, width=max(40, 88 - len(indent) - 2)) or [""]
    return [
        f"{indent}# TODO: {wrapped[0]}",
        *(f"{indent}# {line}" for line in wrapped[1:]),
        f'{indent}raise NotImplementedError("write {exercise.target}")',
    ]


def starter_code(loaded: LoadedLesson) -> str:
    """The lesson's code with each exercise's body replaced by a TODO that raises.

    Everything else (imports, other functions, the def lines, docstrings, comments outside
    the bodies) is kept byte for byte.
    """
    source = loaded.code()
    exercises = list(loaded.lesson.exercises)
    if not exercises:
        return source
    tree = ast.parse(source, filename=str(loaded.code_path))
    lines = source.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    edits: list[tuple[int, int, list[str]]] = []
    for exercise in exercises:
        node = find_target(tree, exercise.target)
        if node is None:  # the loader refuses such a lesson; be safe for hand-made ones
            raise ValueError(f"{loaded.code_path.name} has no {exercise.target!r}")
        first = node.body[0]
        if first.lineno == node.lineno:  # `def f(x): return x`: split the one line
            line = lines[node.lineno - 1]
            header = line[: first.col_offset].rstrip()
            indent = " " * (node.col_offset + 4)
            edits.append((node.lineno - 1, node.lineno, [header, *_todo_lines(exercise, indent)]))
            continue
        start, end = _body_range(lines, node)
        indent = " " * first.col_offset
        edits.append((start, end, _todo_lines(exercise, indent)))
    for start, end, new in sorted(edits, reverse=True):  # bottom-up: earlier lines stay put
        lines[start:end] = [text + newline for text in new]
    return "".join(lines)


def solution(loaded: LoadedLesson, name: str) -> str:
    """The reference implementation of exercise ``name``: its source in the lesson's code."""
    exercise = find_exercise(loaded, name)
    source = loaded.code()
    node = find_target(ast.parse(source), exercise.target)
    if node is None:
        raise ValueError(f"{loaded.code_path.name} has no {exercise.target!r}")
    lines = source.splitlines(keepends=True)
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
    return textwrap.dedent("".join(lines[start : node.end_lineno])).rstrip() + "\n"


def find_exercise(loaded: LoadedLesson, name: str) -> Exercise:
    """The exercise called ``name`` (or whose target is ``name``); KeyError with suggestions."""
    for exercise in loaded.lesson.exercises:
        if name in (exercise.name, exercise.target):
            return exercise
    names = [e.name for e in loaded.lesson.exercises]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(names) or 'none'}"
    raise KeyError(f"lesson {loaded.id!r} has no exercise {name!r}{hint}")
