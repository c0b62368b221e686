"""Running a lesson's experiment (``experiments:``, docs/experiments.md) and reading it.

The runs are a sweep (:mod:`tutor.training.sweep`); afterwards :func:`values` gives the
names the experiment reads (``loss_0`` is run 0's final ``loss``), :func:`effect_shown`
evaluates its ``expect`` and :func:`conclusion` fills in its template. No torch at import.
"""

from __future__ import annotations

import math
import string
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor import quiz
from tutor.lesson import expr

if TYPE_CHECKING:
    from tutor.events import RunResult
    from tutor.lesson.catalog import LoadedLesson
    from tutor.lesson.schema import Experiment, Lesson
    from tutor.training.sweep import SweepSink

MISSING = "n/a"  # a placeholder whose run did not produce the value (a failed run)


def run_params(
    lesson: Lesson, experiment: Experiment, *, smoke: bool = False
) -> list[dict[str, Any]]:
    """The hyperparameters of each run: defaults < the experiment's ``set`` < the lesson's
    smoke settings (``smoke``: a quick run that only shows it works) < the swept values."""
    base = {**lesson.defaults(), **experiment.set, **(lesson.smoke if smoke else {})}
    return [{**base, **variant} for variant in experiment.variants()]


def values(results: Sequence[RunResult]) -> dict[str, Any]:
    """The names an experiment's expressions and template read: ``NAME_i`` for run ``i``."""
    out: dict[str, Any] = {"runs": len(results)}
    for i, result in enumerate(results):
        for name, value in quiz.run_values(result).items():
            if not name.startswith("_"):
                out[f"{name}_{i}"] = value
    return out


def effect_shown(experiment: Experiment, env: Mapping[str, Any]) -> bool | None:
    """Whether the runs show the effect the experiment claims; None if it cannot be told."""
    try:
        return expr.truth(expr.evaluate(experiment.expect, env))
    except (expr.ExprError, TypeError, ValueError):
        return None


class _Filler(string.Formatter):
    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        return kwargs.get(str(key), MISSING)

    def format_field(self, value: Any, format_spec: str) -> str:
        if value is MISSING or isinstance(value, str):
            return str(value)
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        try:
            return format(value, format_spec) if format_spec else quiz.format_value(value)
        except (TypeError, ValueError):
            return quiz.format_value(value)


def conclusion(experiment: Experiment, env: Mapping[str, Any], lang: str = "en") -> str:
    """The conclusion with the runs' values filled in (``n/a`` where a run has none)."""
    return _Filler().vformat(experiment.conclusion.get(lang), (), dict(env))


@dataclass(frozen=True)
class ExperimentResult:
    experiment: Experiment
    params: list[dict[str, Any]]  # every run's hyperparameters
    results: list[RunResult]  # fewer than params when stopped
    values: dict[str, Any]  # NAME_i for run i, and runs
    shown: bool | None  # the claimed effect (``expect``), None when it cannot be evaluated

    @property
    def complete(self) -> bool:
        return len(self.results) == len(self.params) and all(
            r.status != "cancelled" for r in self.results
        )

    def conclusion(self, lang: str = "en") -> str:
        return conclusion(self.experiment, self.values, lang)


def run_experiment(
    loaded: LoadedLesson,
    experiment: Experiment,
    *,
    smoke: bool = False,
    sink: SweepSink | None = None,
    cancel: threading.Event | None = None,
    device: str = "auto",
    lang: str = "en",
    on_result: Any = None,
) -> ExperimentResult:
    """Run every variant in this process (like :func:`~tutor.training.sweep.run_sweep`)."""
    from tutor.training.sweep import run_sweep

    params = run_params(loaded.lesson, experiment, smoke=smoke)
    results = run_sweep(
        loaded, params, sink=sink, cancel=cancel, device=device, lang=lang, on_result=on_result
    )
    return read(experiment, params, results)


def read(
    experiment: Experiment, params: list[dict[str, Any]], results: Sequence[RunResult]
) -> ExperimentResult:
    """What the runs say (also for runs made elsewhere, such as the app's Trainer.sweep)."""
    env = values(results)
    return ExperimentResult(experiment, params, list(results), env, effect_shown(experiment, env))


def variant_label(variant: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in variant.items())
