"""Run every lesson at its default settings, headless, and write a results table.

    .venv/bin/python bench/lessons.py [--out bench/lessons.md] [ID ...]

Each lesson runs in its own `dl-tutor run ID --json` process (offline, on the CPU), so times
include starting Python and importing torch, as a learner would see them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lesson_ids() -> list[tuple[int, str]]:
    out = subprocess.run(
        [sys.executable, "-m", "tutor", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [(x["order"], x["id"]) for x in json.loads(out.stdout)]


def run(lesson_id: str) -> tuple[dict, float]:
    env = {**os.environ, "DL_TUTOR_OFFLINE": "1"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tutor", "run", lesson_id, "--json", "--device", "cpu"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    wall = time.perf_counter() - start
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    end = next((x for x in reversed(lines) if x.get("event") == "end"), {"status": "no end event"})
    return end, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "lessons.md")
    args = parser.parse_args()
    rows = []
    for order, lesson_id in lesson_ids():
        if args.ids and lesson_id not in args.ids:
            continue
        end, wall = run(lesson_id)
        checks = end.get("checks", [])
        passed = sum(c["passed"] for c in checks)
        metrics = end.get("metrics", {})
        acc = metrics.get("test_acc")
        row = (
            f"| {order} | `{lesson_id}` | {end['status']} | {passed}/{len(checks)} | "
            f"{'' if acc is None else f'{acc:.3f}'} | {end.get('dataset', '')} | "
            f"{end.get('seconds', 0):.1f} | {wall:.1f} |"
        )
        print(row, flush=True)
        rows.append(row)
    header = [
        f"Default-settings runs, offline, CPU ({os.cpu_count()} cores, {platform.machine()}), "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
        "| # | lesson | status | checks passed | test acc | dataset | run s | wall s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    args.out.write_text("\n".join(header + rows) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
