"""The tutoring rules both front ends follow (``dl-tutor hint``/``solution``/``check`` and the
app's Exercise pane). They live here once: the CLI and the UI only print or show their answers.

- an attempt is a result that ran the learner's code: ``passed``, ``failed`` or ``error``
  (``not-attempted`` means a TODO is still there, so nothing was tried);
- hints open one level at a time, then the last one again; the highest level shown is stored
  (as state :func:`hint_key`) so a new session goes on from there;
- the lesson's own code of an exercise (its solution) opens after a ``failed`` or ``error``
  attempt: trying comes first;
- each result has one mark.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

# Stored names are the store's: an attempt's outcomes and the hint level's state key.
from tutor.progress.model import ATTEMPT_OUTCOMES as ATTEMPT_OUTCOMES
from tutor.progress.store import hint_key as hint_key

# Outcomes that open the solution: the learner tried and it did not work.
TRIED_OUTCOMES: tuple[str, ...] = ("failed", "error")
RESULT_MARKS: dict[str, str] = {"passed": "✓", "failed": "✗", "error": "!", "not-attempted": "○"}


class HasStatus(Protocol):
    @property
    def status(self) -> str: ...


R = TypeVar("R", bound=HasStatus)


class HasOutcome(Protocol):
    @property
    def exercise(self) -> str: ...

    @property
    def outcome(self) -> str: ...


def mark(status: str) -> str:
    """The one-character mark of a result status (``?`` for one we do not know)."""
    return RESULT_MARKS.get(status, "?")


def is_attempt(status: str) -> bool:
    """Whether a check result counts as an attempt (and is stored as one)."""
    return status in ATTEMPT_OUTCOMES


def attempts(results: Iterable[R]) -> list[R]:
    """The results that are attempts, in order."""
    return [r for r in results if is_attempt(r.status)]


def opens_solution(status: str) -> bool:
    """Whether a result of this status opens the exercise's solution."""
    return status in TRIED_OUTCOMES


def solution_open(
    name: str, stored: Iterable[HasOutcome], this_session: Iterable[str] = ()
) -> bool:
    """May the learner see the lesson's code of exercise ``name``?

    ``stored``: the lesson's stored attempts; ``this_session``: names of exercises that failed
    or errored in checks of this session not stored (yet)."""
    return name in set(this_session) or any(
        a.exercise == name and opens_solution(a.outcome) for a in stored
    )


def stored_hint_level(text: str | None) -> int:
    """The hint level read back from the store; anything we cannot trust starts over at 0."""
    try:
        return max(0, int(text or 0))
    except ValueError:
        return 0


def next_hint_level(shown: int, count: int) -> int:
    """The level to show next: one more each time, then the last one again."""
    return min(shown + 1, count)
