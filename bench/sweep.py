"""What a sweep costs beyond its runs: N runs in one sweep against the same N runs alone.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 DL_TUTOR_OFFLINE=1 .venv/bin/python -m bench.sweep [ID] [N]

Both sides run in this process after a warm-up run (torch imported, data cached), so the
difference is the sweep's own work: building the grid, tagging events, calling back. The CLI's
``dl-tutor sweep`` adds one torch import for the whole sweep where N ``dl-tutor run``s pay N.
"""

from __future__ import annotations

import sys
import time

from tutor.lesson.loader import load_catalog
from tutor.training.runner import run_lesson
from tutor.training.sweep import run_sweep


def main(lesson_id: str = "gradient-descent", n: int = 5) -> int:
    loaded = load_catalog().get(lesson_id)
    if loaded is None:
        print(f"unknown lesson {lesson_id!r}", file=sys.stderr)
        return 2
    lr = loaded.lesson.hyperparam("lr")
    params = [
        {**loaded.lesson.defaults(), **({"lr": lr.default * (i + 1) / n} if lr else {})}
        for i in range(n)
    ]
    run_lesson(loaded, params[0], device="cpu")  # warm-up: imports and caches
    start = time.perf_counter()
    for p in params:
        run_lesson(loaded, p, device="cpu")
    alone = time.perf_counter() - start
    start = time.perf_counter()
    results = run_sweep(loaded, params, device="cpu", sink=lambda event: None)
    swept = time.perf_counter() - start
    assert len(results) == n
    print(f"{lesson_id}: {n} runs alone {alone:.3f}s, as one sweep {swept:.3f}s, "
          f"overhead {swept - alone:+.3f}s")  # fmt: skip
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(args[0] if args else "gradient-descent", int(args[1]) if len(args) > 1 else 5))
