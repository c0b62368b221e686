"""Full-size data: Fashion-MNIST's 60,000 training images instead of the offline 4,000 digits.

    PYTHONPATH=$PWD .venv/bin/python bench/fullsize.py [--repeat 3] [--epochs 3]
        [--fashion-dir /usr/share/datasets/fashion-mnist] [--as-installed] [--load-only]

Needs the idx files of Debian's ``dataset-fashion-mnist`` (``*-ubyte.gz`` in --fashion-dir).
Every measurement runs in a fresh process (bench/perf.py's child modes). Measures:

1. time to a usable data set, idx files → float tensors: ``ctx.data.fashion_mnist()`` in a
   fresh cache (the first run) and again (a warm cache), against torchvision's own
   ``FashionMNIST`` class on the same files (unpacking the ``.gz`` files as its ``download()``
   does, then loading; and loading alone from the unpacked files);
2. throughput at full size, app / bare and headless / bare, for softmax regression
   (``softmax-regression-concise``, which trains on Fashion-MNIST) and the CNN (``cnn``, at
   ``--epochs``): the CNN reads MNIST, so it is given Fashion-MNIST's files in MNIST's place
   (same shapes and sizes; its accuracy check is meaningless here, its speed is not);
3. peak RSS, the app (UI + training process) against bare;
4. the floor for app / bare: ``bench/floor_run.py``, a minimal Textual app that shows a run of
   the same lesson code trained bare in a spare process (a tab holding what the app's Train
   pane holds during a run, in stock widgets left empty; footer keys; one result line; nothing
   drawn or stored), measured like the app.

By default the files are linked into a temporary ``$DL_TUTOR_DATASETS`` in torchvision's
layout, which every version of the data loader reads. ``--as-installed`` leaves
``$DL_TUTOR_DATASETS`` unset for Fashion-MNIST, so ``ctx.data.fashion_mnist()`` must find
Debian's files on its own (the CNN still gets its link). Prints a table and writes it to --out.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import perf  # noqa: E402  (bench/perf.py: its child modes and environment)

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
LESSONS = ("softmax-regression-concise", "cnn")
MODES = ("bare", "headless", "app", "floor-run")  # floor-run: bench/floor_run.py


def link_layout(fashion_dir: Path, datasets: Path, folders: tuple[str, ...]) -> None:
    """``datasets/<folder>/raw/<file>.gz`` → the installed files (torchvision's layout)."""
    for folder in folders:
        raw = datasets / folder / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            (raw / f"{name}.gz").symlink_to(fashion_dir / f"{name}.gz")


# -- child modes: each in a fresh process --------------------------------------------------------


def child_load_ctx() -> dict[str, Any]:
    """``ctx.data.fashion_mnist()`` as a lesson calls it; which files it found is in the label."""
    import torch  # imported before the clock starts, as in a training process

    from tutor.training.context import RunContext

    ctx = RunContext({}, torch.device("cpu"), lambda event: None)
    start = time.perf_counter()
    train, test = ctx.data.fashion_mnist()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "n_train": len(train),
        "n_test": len(test),
        "dataset": ctx.dataset,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child_load_torchvision(root: str, unpack_from: str) -> dict[str, Any]:
    """torchvision's ``FashionMNIST`` on the same files, to the same float tensors."""
    import torch
    from torchvision.datasets import FashionMNIST

    start = time.perf_counter()
    raw = Path(root) / "FashionMNIST" / "raw"
    if unpack_from:  # what its download() does after fetching: unpack each .gz beside it
        raw.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            with gzip.open(Path(unpack_from) / f"{name}.gz") as src, open(raw / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
    splits = [FashionMNIST(root, train=t, download=False) for t in (True, False)]
    tensors = [(s.data.to(torch.float32).div_(255).unsqueeze(1), s.targets) for s in splits]
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "n_train": len(tensors[0][0]), "n_test": len(tensors[1][0])}


# -- parent --------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--fashion-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist")
    )
    parser.add_argument("--as-installed", action="store_true")
    parser.add_argument("--load-only", action="store_true", help="only part 1 (seconds)")
    parser.add_argument("--lessons", default=",".join(LESSONS), help="for parts 2 and 3")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "fullsize-table.md")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, *rest = args.child
        modes = {"load-ctx": child_load_ctx, "load-torchvision": child_load_torchvision}
        print(json.dumps(modes[mode](*rest)))
        return 0

    missing = [n for n in FILES if not (args.fashion_dir / f"{n}.gz").is_file()]
    if missing:
        print(f"{args.fashion_dir} lacks {', '.join(missing)} (.gz): install dataset-fashion-mnist")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="dl-tutor-fullsize-"))
    datasets = tmp / "datasets"
    folders = ("MNIST",) if args.as_installed else ("MNIST", "FashionMNIST")
    link_layout(args.fashion_dir, datasets, folders)
    os.environ["DL_TUTOR_DATASETS"] = str(datasets)  # perf.child_env passes os.environ on
    rows: list[tuple[str, str, str]] = []
    try:
        rows += load_rows(args, tmp)
        if not args.load_only:
            rows += throughput_rows(args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(perf.DATA_DIR, ignore_errors=True)
    load = os.getloadavg()
    header = (
        f"Medians of {args.repeat} (a ratio: the median of its ratios within each repeat, "
        f"whose runs are back to back); {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; Fashion-MNIST from {args.fashion_dir}"
        f"{' (found by the loader itself)' if args.as_installed else ' (linked)'}."
    )
    text = "\n".join([header, "", *perf.table(rows)]) + "\n"
    print(text)
    args.out.write_text(text)
    return 0


def in_child(mode: str, *rest: str) -> dict[str, Any]:
    """This file re-invoked in perf.py's child environment (offline, its own data dir)."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, *rest],
        capture_output=True,
        text=True,
        env=perf.child_env(),
        cwd=ROOT,
    )
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{mode} failed:\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1])


def load_rows(args: argparse.Namespace, tmp: Path) -> list[tuple[str, str, str]]:
    first, warm, tv_unpack, tv_load = [], [], [], []
    label = ""
    for i in range(args.repeat):
        shutil.rmtree(perf.CACHE_DIR, ignore_errors=True)  # a fresh cache: the first run
        out = in_child("load-ctx")
        first.append(out["seconds"])
        label = f"{out['dataset']}, {out['n_train']}/{out['n_test']}"
        warm.append(in_child("load-ctx")["seconds"])
        root = tmp / f"torchvision-{i}"
        tv_unpack.append(in_child("load-torchvision", str(root), str(args.fashion_dir))["seconds"])
        tv_load.append(in_child("load-torchvision", str(root), "")["seconds"])
    return [
        (
            f"usable data set: `ctx.data.fashion_mnist()`, first run / again (s) [{label}]",
            f"{median(first):.2f} / {median(warm):.2f}",
            "",
        ),
        (
            "usable data set: torchvision `FashionMNIST`, unpack + load / load alone (s)",
            f"{median(tv_unpack):.2f} / {median(tv_load):.2f}",
            "",
        ),
    ]


def throughput_rows(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """Whole runs at --epochs, and the same at 1 epoch: the difference is what each further
    epoch costs (the steady throughput), the rest is a fixed cost per run (handing the run
    over, the Train pane coming up, the result shown), which a short run cannot hide."""
    rows: list[tuple[str, str, str]] = []
    long, short = args.epochs, 1
    for lesson in args.lessons.split(","):
        runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for _ in range(args.repeat):  # interleaved, so drift in load hits every case alike
            for epochs in (long, short) if long > short else (long,):
                os.environ[perf.BENCH_PARAMS_ENV] = json.dumps({"epochs": epochs})
                for mode in MODES:
                    runs.setdefault((mode, epochs), []).append(perf.in_child(mode, lesson))

        def seconds(
            mode: str, epochs: int, key: str = "seconds", runs: dict[Any, Any] = runs
        ) -> float:
            return median([r[key] for r in runs[(mode, epochs)]])

        def ratio(mode: str, key: str = "seconds", runs: dict[Any, Any] = runs) -> float:
            """bare / mode within each repeat (its runs are back to back), then the median:
            the machine's speed drifts by ±10 % between repeats, which this cancels."""
            pairs = zip(runs[("bare", long)], runs[(mode, long)], strict=True)
            return median([b["seconds"] / m[key] for b, m in pairs])

        rss = {m: median([r["rss_mb"] for r in runs[(m, long)]]) for m in MODES}
        bare = seconds("bare", long)
        rows += [
            (
                f"{lesson}, {long} epochs of 60k: bare (samples/s; s)",
                f"{60_000 * long / bare:.0f}; {bare:.2f}",
                "",
            ),
            (
                f"{lesson}: throughput headless / bare",
                f"{ratio('headless'):.3f}",
                "≥ 0.98",
            ),
            (
                f"{lesson}: throughput app / bare (Run pressed to result shown)",
                f"{ratio('app'):.3f}",
                "≥ 0.95",
            ),
            (
                f"{lesson}: throughput app / bare (the training process's own run time)",
                f"{ratio('app', 'run_seconds'):.3f}",
                "",
            ),
            (
                f"{lesson}: the floor: a minimal Textual app showing the same run of the bare "
                "code (`bench/floor_run.py`) / bare, Run pressed to result shown",
                f"{ratio('floor-run'):.3f}",
                "",
            ),
        ]
        if long > short:
            per_epoch = {m: (seconds(m, long) - seconds(m, short)) / (long - short) for m in MODES}
            fixed = {m: seconds(m, short) - short * per_epoch[m] for m in MODES}
            rows += [
                (
                    f"{lesson}: each further epoch, headless / bare and app / bare "
                    f"({short} vs {long} epochs)",
                    f"{per_epoch['bare'] / per_epoch['headless']:.3f} / "
                    f"{per_epoch['bare'] / per_epoch['app']:.3f}",
                    "",
                ),
                (
                    f"{lesson}: fixed cost per run over bare's, headless / app / floor (s)",
                    f"{fixed['headless'] - fixed['bare']:+.2f} / "
                    f"{fixed['app'] - fixed['bare']:+.2f} / "
                    f"{fixed['floor-run'] - fixed['bare']:+.2f}",
                    "",
                ),
            ]
        rows.append(
            (
                f"{lesson}: the UI process's CPU time from Run to result shown, {long} / "
                f"{short} epochs, app; floor (s): on 2 cores it is taken from torch's threads",
                f"{seconds('app', long, 'ui_cpu_seconds'):.2f} / "
                f"{seconds('app', short, 'ui_cpu_seconds'):.2f}; "
                f"{seconds('floor-run', long, 'ui_cpu_seconds'):.2f} / "
                f"{seconds('floor-run', short, 'ui_cpu_seconds'):.2f}",
                "",
            )
        )
        rows.append(
            (
                f"{lesson}: peak RSS bare / headless / app: UI + training process (MB)",
                f"{rss['bare']:.0f} / {rss['headless']:.0f} / {rss['app']:.0f}",
                "app ≤ bare + 150",
            )
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
