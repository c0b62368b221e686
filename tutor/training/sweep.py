"""Sweeps: one lesson run over a grid of hyperparameter values, one run after another.

Every run gets the same seed (so the same initial weights and batches) and differs only in
the swept values. The runs share one process: torch is imported once, which is what makes a
sweep of N short runs cost about N runs. The CLI calls :func:`run_sweep` in its own process;
the app calls ``Trainer.sweep`` (:mod:`tutor.training.process`), which runs this same loop
in its training child process. No torch at import time, like the runner.

Value specs (``dl-tutor sweep ID --set NAME=SPEC``, docs/experiments.md):

- ``0.01,0.1,0.5``: those values (any hyperparameter type: ``true,false``, ``sum,mean``);
- ``0.01:0.1:4``: 4 values evenly spaced from 0.01 to 0.1, both ends included;
- ``0.001:0.1:5log``: 5 values evenly spaced on a log scale.

Ints are rounded (duplicates dropped); every value is checked against the lesson's range.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.events import Event, RunResult

if TYPE_CHECKING:
    from tutor.lesson.catalog import LoadedLesson
    from tutor.lesson.schema import Lesson

SWEEP_RECORD = "_sweep"  # records key of a sweep's runs: a name expressions can never use
MAX_RUNS = 100  # a typo such as 1:100:1000 must not start a thousand runs


@dataclass(frozen=True)
class SweepEvent:
    """One event of run ``index`` (0-based) of a sweep, as a sweep's sink receives it."""

    index: int
    event: Event


SweepSink = Callable[[SweepEvent], None]


# -- the grid --------------------------------------------------------------------------------


def parse_values(lesson: Lesson, item: str) -> tuple[str, list[Any]]:
    """``"lr=0.01:0.1:4"`` → ``("lr", [0.01, 0.04, 0.07, 0.1])``, each value checked.

    Raises ``ValueError`` with a message for the command line.
    """
    name, sep, spec = item.partition("=")
    name, spec = name.strip(), spec.strip()
    if not sep or not name or not spec:
        raise ValueError(f"--set expects NAME=VALUES, got {item!r}")
    hp = lesson.hyperparam(name)
    if hp is None:
        known = ", ".join(h.name for h in lesson.hyperparams) or "none"
        raise ValueError(f"unknown hyperparameter {name!r}; known: {known}")
    if spec.count(":") == 2 and hp.type in ("int", "float"):
        raw: list[Any] = _range(name, spec)
        if hp.type == "int":
            raw = list(dict.fromkeys(round(v) for v in raw))
    else:
        raw = [v.strip() for v in spec.split(",")]
        if any(not v for v in raw):
            raise ValueError(f"{name}: empty value in {spec!r}")
    values = [hp.parse(v) for v in raw]  # ValueError names the parameter and the range
    return name, list(dict.fromkeys(values))


def _range(name: str, spec: str) -> list[float]:
    lo_text, hi_text, count_text = spec.split(":")
    log = count_text.endswith("log")
    try:
        lo, hi = float(lo_text), float(hi_text)
        count = int(count_text.removesuffix("log"))
    except ValueError:
        raise ValueError(
            f"{name}: a range is FROM:TO:COUNT or FROM:TO:COUNTlog, got {spec!r}"
        ) from None
    if not 2 <= count <= MAX_RUNS:
        raise ValueError(f"{name}: a range needs 2 to {MAX_RUNS} values, got {count}")
    if log and (lo <= 0 or hi <= 0):
        raise ValueError(f"{name}: a log range needs positive ends, got {spec!r}")
    if log:
        a, b = math.log10(lo), math.log10(hi)
        points = [10 ** (a + (b - a) * i / (count - 1)) for i in range(count)]
    else:
        points = [lo + (hi - lo) * i / (count - 1) for i in range(count)]
    # 6 significant digits: 0.1 and not 0.10000000000000002 in tables and stored params
    return [float(f"{p:.6g}") for p in points]


def grid(axes: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
    """Every combination, the first axis varying slowest; raises ValueError over MAX_RUNS."""
    names = [name for name, _ in axes]
    if len(set(names)) != len(names):
        raise ValueError("each hyperparameter can be swept by one --set only")
    combos = [dict(zip(names, values)) for values in itertools.product(*(v for _, v in axes))]
    if len(combos) > MAX_RUNS:
        raise ValueError(f"{len(combos)} runs: a sweep has at most {MAX_RUNS}")
    return combos


def sweep_tag(lesson_id: str, index: int, count: int, values: Mapping[str, Any]) -> dict[str, Any]:
    """What a stored run of a sweep carries in ``records[SWEEP_RECORD]``."""
    return {"id": f"{lesson_id}@{time.strftime('%Y%m%d-%H%M%S')}", "index": index,
            "of": count, "values": dict(values)}  # fmt: skip


def tagged(result: RunResult, tag: Mapping[str, Any]) -> RunResult:
    """``result`` with its sweep tag, ready for the progress store."""
    return replace(result, records={**result.records, SWEEP_RECORD: dict(tag)})


def main_metric(lesson: Lesson, result: RunResult) -> str | None:
    """The metric a sweep is ranked by: the lesson's first loss series the run reported."""
    names = [s.name for s in lesson.series if s.kind == "loss"]
    names += [n for n in result.metrics if "loss" in n.lower()]
    return next((n for n in names if n in result.metrics), None)


def best_run(lesson: Lesson, results: Sequence[RunResult]) -> tuple[int, str, float] | None:
    """``(index, metric, value)`` of the completed run with the lowest final loss; None when
    no run has one."""
    scored = []
    for i, result in enumerate(results):
        name = main_metric(lesson, result)
        if result.status == "completed" and name and math.isfinite(result.metrics[name]):
            scored.append((result.metrics[name], i, name))
    if not scored:
        return None
    value, index, name = min(scored)
    return index, name, value


# -- running -----------------------------------------------------------------------------------


def run_sweep(
    loaded: LoadedLesson,
    params_list: Sequence[Mapping[str, Any]],
    *,
    sink: SweepSink | None = None,
    cancel: threading.Event | None = None,
    device: str = "auto",
    code_path: Path | None = None,
    threads: int | None = None,
    lang: str = "en",
    on_result: Callable[[int, RunResult], None] | None = None,
) -> list[RunResult]:
    """Run the lesson with each of ``params_list`` (checked values) in turn, in this process.

    Never raises for lesson errors (like :func:`~tutor.training.runner.run_lesson`). Stop
    (``cancel``) ends the run in progress as ``cancelled`` and skips the rest, so the list
    may be shorter than ``params_list``. ``on_result`` is called after each run.
    """
    from tutor.training.runner import run_lesson

    emit: SweepSink = sink or (lambda event: None)
    results: list[RunResult] = []
    for index, params in enumerate(params_list):
        if cancel is not None and cancel.is_set():
            break

        def run_sink(event: Event, index: int = index) -> None:
            emit(SweepEvent(index, event))

        result = run_lesson(
            loaded,
            params,
            sink=run_sink,
            cancel=cancel,
            device=device,
            code_path=code_path,
            threads=threads,
            lang=lang,
        )
        results.append(result)
        if on_result is not None:
            on_result(index, result)
    return results
