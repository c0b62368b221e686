"""The name rule: which names a check or a quiz answer may use, checked statically.

A check's ``expr``/``when`` and a quiz ``answer`` are evaluated over the run's values
(:func:`tutor.quiz.run_values`), which hold exactly:

- the hyperparameters (``hyperparams[].name``);
- the final value of every reported metric: each literal keyword of a ``ctx.report_step`` /
  ``ctx.report_epoch`` call (``epoch`` of ``report_epoch`` is the epoch number, not a metric);
- every recorded name: ``ctx.record("name", ...)`` with a literal name, ``ctx.record_model``
  (``model``, or its literal ``name=``), so also ``sample_images`` / ``sample_captions``;
- the run's own fields: ``dataset``, ``device``, ``status``, ``seconds``.

The validator accepts a name only when one of these makes it, so a lesson that validates
cannot fail at run time with an unknown name; the one gap it cannot close statically (a
declared series the code never reports) is a warning. These checks read the raw YAML data, so
they run even when the fields have other problems: an author sees every problem in one pass.
"""

from __future__ import annotations

import difflib
import keyword
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from tutor.lesson import expr
from tutor.lesson.catalog import Problem
from tutor.lesson.codefile import CodeFileError, resolve_inside
from tutor.lesson.source import CodeScan, entry_problem, read_code

RUN_FIELDS = frozenset({"dataset", "device", "status", "seconds"})

Lines = dict[tuple[Any, ...], int]


def bad_name(name: str) -> str | None:
    """Why ``name`` cannot be used in an expression (a hyperparameter or a recorded name)."""
    if keyword.iskeyword(name):
        return f"{name!r} is a Python keyword, so no check or answer could use it"
    if not name.isidentifier() or name.startswith("_"):
        return f"{name!r} is not a plain identifier (letters, digits, _; not starting with _)"
    return None


def _items(data: dict[str, Any], section: str) -> Iterator[tuple[int, dict[str, Any]]]:
    items = data.get(section)
    if isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, dict):
                yield i, item


def _names(source: Any) -> set[str]:
    if not isinstance(source, str):
        return set()
    try:
        return expr.names_in(source)
    except expr.ExprError:  # the schema reports an expression that does not parse
        return set()


def code_problems(
    file: Path, data: dict[str, Any], lines: Lines
) -> tuple[list[Problem], CodeScan | None]:
    """Problems of the code file and of every name the checks and the quiz use.

    Returns the problems (errors and warnings) and the scan (None without a readable code file).
    """
    code = data.get("code")
    if not isinstance(code, str) or not code:
        return [], None  # the schema says "required field is missing"

    def line(*path: Any) -> int:
        for n in range(len(path), 0, -1):
            if path[:n] in lines:
                return lines[path[:n]]
        return 1

    try:  # never outside the lesson's directory (/etc/passwd, /dev/stdin)
        code_path = resolve_inside(file.parent, code)
    except CodeFileError as e:
        return [Problem(file, line("code"), "code", str(e))], None
    scan = read_code(code_path)
    if scan.problem:
        return [Problem(file, line("code"), "code", scan.problem)], None
    problems: list[Problem] = []
    entry = data.get("entry", "train")
    if isinstance(entry, str) and entry.isidentifier() and entry not in scan.functions:
        at = ("entry",) if ("entry",) in lines else ("code",)
        problems.append(Problem(file, line(*at), at[0], entry_problem(code_path, entry, scan)))
    for name, code_line in sorted(scan.recorded.items(), key=lambda x: x[1]):
        why = bad_name(name)
        if why:
            message = f"{code_path.name}:{code_line}: recorded name {why}"
            problems.append(Problem(file, line("code"), "code", message))

    params = {str(h["name"]) for _, h in _items(data, "hyperparams") if "name" in h}
    series = {i: str(s["name"]) for i, s in _items(data, "series") if "name" in s}
    # A run's values are one namespace (quiz.run_values): a metric named like a hyperparameter
    # would silently replace it in every check and answer with the curve's last value.
    for i, name in series.items():
        if name in params:
            message = f"{name!r} is also a hyperparameter: name the series differently"
            problems.append(Problem(file, line("series", i, "name"), f"series[{i}].name", message))
    known = RUN_FIELDS | params | set(series.values()) | set(scan.recorded) | scan.reported
    problems += _unknown_names(file, data, line, known)
    if not scan.reports_unknown:
        for i, name in series.items():
            if name in scan.reported:
                continue
            close = difflib.get_close_matches(name, sorted(scan.reported), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                Problem(
                    file,
                    line("series", i, "name"),
                    f"series[{i}].name",
                    f"{name!r} is never reported: no ctx.report_step/report_epoch call in "
                    f"{code_path.name} has the keyword {name}=, so its chart stays empty{hint}",
                    "warning",
                )
            )
    return problems, scan


def _unknown_names(
    file: Path, data: dict[str, Any], line: Callable[..., int], known: AbstractSet[str]
) -> list[Problem]:
    problems = []
    uses = [
        ("checks", i, key, c.get(key))
        for i, c in _items(data, "checks")
        for key in ("expr", "when")
    ]
    uses += [("quiz", i, "answer", q.get("answer")) for i, q in _items(data, "quiz")]
    for section, i, key, source in uses:
        for name in sorted(_names(source) - known):
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                Problem(
                    file,
                    line(section, i, key),
                    f"{section}[{i}].{key}",
                    f"refers to {name!r}, which the code never records or reports, and which "
                    f"is no hyperparameter or run field ({', '.join(sorted(RUN_FIELDS))}){hint}",
                )
            )
    return problems
