"""A lesson's hyperparameters for one run: its defaults overlaid with what the learner typed.

Part of the lesson format (the ranges and types live in ``hyperparams:``), so both front ends
check a learner's values the same way before anything is trained.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutor.lesson.catalog import LoadedLesson


def resolve_params(
    loaded: LoadedLesson, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Defaults overlaid with ``overrides`` (strings or values), each checked against its range.

    Raises ``ValueError`` naming the parameter; unknown names get a suggestion.
    """
    params = loaded.lesson.defaults()
    for name, raw in (overrides or {}).items():
        spec = loaded.lesson.hyperparam(name)
        if spec is None:
            import difflib

            close = difflib.get_close_matches(name, list(params), n=1)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; known: {', '.join(params) or 'none'}"
            )
            raise ValueError(f"unknown hyperparameter {name!r}{hint}")
        params[name] = spec.parse(raw)
    return params
