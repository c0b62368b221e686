"""What checking one exercise gives: :class:`ExerciseResult`, shared by both sides of the
checker (the child writes it as a JSON line, the parent reads it back) and by the front ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["passed", "failed", "error", "not-attempted"]
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "not-attempted")


@dataclass(frozen=True)
class ExerciseResult:
    """The outcome of checking one exercise.

    ``line`` is a line of the learner's file worth looking at: where an exception was raised,
    the TODO still raising, or the function's ``def`` when the result was wrong.
    """

    name: str
    status: Status
    message: str
    line: int | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "line": self.line,
        }
