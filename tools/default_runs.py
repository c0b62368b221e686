"""Run every built-in lesson once at its defaults and store each RunResult as JSON.

The doctor's no-false-alarm test (tests/unit/test_doctor.py) reads these fixtures, so it checks
real curves without training anything in CI. Regenerate after a lesson's training changes:

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 DL_TUTOR_OFFLINE=1 .venv/bin/python -m tools.default_runs

Curves are thinned to at most MAX_POINTS points per series to keep the files small; the
doctor's rules look at trends and at the spread of step losses, which thinning keeps.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from tutor.events import RunResult

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "default_runs"
MAX_POINTS = 1500


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) <= MAX_POINTS:
        return points
    stride = math.ceil(len(points) / MAX_POINTS)
    kept = points[::stride]
    return kept if kept[-1] == points[-1] else [*kept, points[-1]]


def _num(v: float) -> float | str:
    return v if math.isfinite(v) else str(v)  # JSON has no NaN/inf: "nan", "inf"


def result_json(result: RunResult) -> dict[str, Any]:
    return {
        "lesson_id": result.lesson_id,
        "status": result.status,
        "params": result.params,
        "seed": result.seed,
        "seconds": round(result.seconds, 2),
        "metrics": {k: _num(v) for k, v in result.metrics.items()},
        "history": {
            k: [[x, _num(y)] for x, y in _thin(list(v))] for k, v in result.history.items()
        },
        "checks": [c.as_dict() for c in result.checks],
    }


def main(ids: list[str]) -> int:
    from tutor.lesson.loader import load_catalog
    from tutor.training.runner import run_lesson

    OUT.mkdir(parents=True, exist_ok=True)
    catalog = load_catalog()
    for loaded in catalog.lessons:
        if ids and loaded.id not in ids:
            continue
        result = run_lesson(loaded, device="cpu")
        path = OUT / f"{loaded.id}.json"
        path.write_text(json.dumps(result_json(result), default=str) + "\n", encoding="utf-8")
        print(f"{loaded.id}: {result.status} {result.seconds:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
