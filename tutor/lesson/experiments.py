"""A lesson's experiments: the names their questions, expectations and conclusions use.

An experiment (``experiments:`` in a lesson file, docs/experiments.md) sweeps one or more
hyperparameters and compares the runs. Its ``predict`` question, ``expect`` expression and
``conclusion`` template read the runs' values with the run's index as a suffix: ``loss_0``
is run 0's final ``loss``, ``lr_2`` run 2's learning rate, ``status_1`` run 1's status. Any
value a check can use (hyperparameters, final metrics, recorded values, ``status``,
``seconds``) exists once per run this way, and ``runs`` is the number of runs.

The loader calls :func:`experiment_problems`; running an experiment and filling in its
conclusion is :mod:`tutor.training.experiment`. This module imports neither the schema nor
the grading (the loader imports it, and the import graph must stay free of circles), so
lessons and experiments are typed ``Any`` here.
"""

from __future__ import annotations

import re
import string
from collections.abc import Set as AbstractSet
from typing import Any

from tutor.lesson import expr

_SUFFIXED = re.compile(r"^(?P<base>[A-Za-z_][A-Za-z0-9_]*?)_(?P<index>\d+)$")


def split_name(name: str) -> tuple[str, int] | None:
    """``"loss_12"`` → ``("loss", 12)``; None for a name without a run index."""
    match = _SUFFIXED.match(name)
    return (match["base"], int(match["index"])) if match else None


def template_names(template: str) -> set[str]:
    """The names a conclusion template fills in (``{loss_0:.3g}`` → ``loss_0``).

    Raises ``ValueError`` for a template that is not a plain ``str.format`` one with names.
    """
    names = set()
    for _, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field):
            raise ValueError(f"placeholder {{{field}}}: use a plain name such as {{loss_0}}")
        if conversion or "{" in (spec or ""):
            raise ValueError(f"placeholder {{{field}}}: only a format spec such as :.3g")
        names.add(field)
    return names


def used_names(experiment: Any) -> dict[str, set[str]]:
    """Names read by each part of an experiment: {"predict": …, "expect": …, "conclusion": …}."""
    conclusion = experiment.conclusion
    texts = [conclusion.en, *([conclusion.zh] if conclusion.zh else [])]
    return {
        "predict": experiment.predict.names() if experiment.predict else set(),
        "expect": expr.names_in(experiment.expect),
        "conclusion": set().union(*(template_names(t) for t in texts)),
    }


def name_problems(names: set[str], runs: int, known: AbstractSet[str] | None) -> list[str]:
    """What is wrong with the names an experiment uses (``known``: base names, if known)."""
    problems = []
    for name in sorted(names - {"runs"}):
        split = split_name(name)
        if split is None:
            problems.append(f"{name!r} needs a run index, such as {name}_0")
        elif split[1] >= runs:
            problems.append(f"{name!r}: there are only {runs} runs (0..{runs - 1})")
        elif known is not None and split[0] not in known:
            problems.append(f"{name!r}: the code never records or reports {split[0]!r}")
    return problems


def experiment_problems(lesson: Any, known: AbstractSet[str]) -> list[tuple[int, str, str]]:
    """(experiment index, field, message) for names the lesson's code never produces."""
    out = []
    for i, experiment in enumerate(lesson.experiments):
        runs = len(experiment.variants())
        for field, names in used_names(experiment).items():
            out += [(i, field, m) for m in name_problems(names, runs, known)]
    return out
