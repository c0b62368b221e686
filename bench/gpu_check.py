"""GPU runs checked on a GPU, in one go: a prepared script for a machine lent for minutes.

    python bench/gpu_check.py [--dry-run] [--budget 300] [--out bench/gpu.md]
    bench/gpu_check.sh                      # the same, from the repository root

On a bare machine after ``pip install -e .``; offline (``DL_TUTOR_OFFLINE=1``: nothing is
downloaded, lessons use their offline data sets), in a data directory of its own. What it runs:

1. every lesson with ``--device cuda`` at smoke settings (the CLI, 4 at a time);
2. the CNN at default settings on cuda and on cpu (the CLI), and the same lesson code bare on
   cuda (a do-nothing context, no CLI, no store): the cuda/cpu and headless/bare ratios;
3. a few hundred training steps under ``torch.cuda.set_sync_debug_mode("warn")``, counting the
   synchronizations and where they came from (the run's reports, or the lesson's own code);
4. AMP off / bf16 / fp16 in the lessons that offer it (``amp``);
5. ``--device cuda:N`` with N = the GPU count: one clean line, no traceback (CLI and runner).

Prints one table and writes it to ``--out`` with the date and the GPU's name. ``--dry-run``
lists what it would run. Without CUDA it says so and runs its CPU-only parts (3 and most of
1 need a GPU). ``--tiny`` shrinks the CPU-only parts to seconds, for the tests.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

Row = tuple[str, str, str, str]  # check, result, target, verdict ("ok", "MISS", "")
AMP_LESSONS = ("cnn", "inception", "residual-network", "gpu")
SYNC_MESSAGE = "synchronizing CUDA operation"  # what set_sync_debug_mode("warn") warns


@dataclass
class Plan:
    cuda: bool
    gpu_count: int
    gpu_name: str
    tiny: bool
    budget: float
    data_dir: Path
    deadline: float = 0.0
    rows: list[Row] = field(default_factory=list)

    def left(self) -> float:
        return self.deadline - time.monotonic()


@dataclass(frozen=True)
class Part:
    title: str
    needs_cuda: bool
    what: Callable[[Plan], list[str]]  # the runs, in words, for --dry-run
    run: Callable[[Plan], list[Row]]
    estimate_s: float  # skipped when less than this is left of the budget


# -- running things ------------------------------------------------------------------------------


def env_for(plan: Plan) -> dict[str, str]:
    env = {
        **os.environ,
        "DL_TUTOR_OFFLINE": "1",
        "DL_TUTOR_DATA_DIR": str(plan.data_dir),
        "DL_TUTOR_CACHE_DIR": str(plan.data_dir / "cache"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return env


def cli_run(
    plan: Plan, lesson: str, device: str, sets: dict[str, Any] | None = None, smoke: bool = False
) -> dict[str, Any]:
    """``dl-tutor run`` in its own process; its final JSON event (status, seconds, …)."""
    cmd = [sys.executable, "-m", "tutor", "run", lesson, "--json", "--device", device]
    cmd += ["--smoke"] if smoke else []
    for name, value in (sets or {}).items():
        cmd += ["--set", f"{name}={value}"]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=env_for(plan),
        cwd=ROOT,
        timeout=max(plan.left(), 5),
    )
    wall = time.perf_counter() - start
    events = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    end = next((e for e in reversed(events) if e.get("event") == "end"), None)
    if end is None:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {
            "status": f"rc {proc.returncode}",
            "error": tail,
            "wall": wall,
            "rc": proc.returncode,
        }
    return {**end, "wall": wall, "rc": proc.returncode, "stderr": proc.stderr}


def in_child(plan: Plan, mode: str, *args: str) -> dict[str, Any]:
    """This file re-invoked with ``--child MODE …``: a fresh process, its own peak RSS."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, *args],
        capture_output=True,
        text=True,
        env=env_for(plan),
        cwd=ROOT,
        timeout=max(plan.left(), 5),
    )
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"status": "crashed", "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(lines[-1])


def fmt_s(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds:.2f} s"


# -- child modes (run in a fresh process) --------------------------------------------------------


def child_bare(lesson_id: str, device: str, params_json: str) -> dict[str, Any]:
    """The lesson's own code with a do-nothing context: what it costs without the tutor."""
    import torch

    from tutor.lesson.loader import load_catalog
    from tutor.training import device as devices
    from tutor.training.context import Params
    from tutor.training.data import Datasets
    from tutor.training.runner import load_module, seed_everything

    loaded = load_catalog().get(lesson_id)
    params = {**loaded.lesson.defaults(), **json.loads(params_json)}
    torch_device = devices.resolve(device)
    devices.prepare(torch_device)  # as the runner does: cudnn.benchmark on cuda
    steps = 0

    class Bare:
        def __init__(self) -> None:
            self.params = Params(params)
            self.device = torch_device
            self.cache_dir = Path(os.environ.get("DL_TUTOR_CACHE_DIR", "/tmp"))
            self.data = Datasets(self)  # type: ignore[arg-type]  # duck-typed context
            self.cancelled = False
            self.dataset: str | None = None

        def use_dataset(self, name: str, note: str = "") -> None:
            self.dataset = name

        def report_step(self, **metrics: Any) -> None:
            nonlocal steps
            steps += 1

        def report_epoch(self, epoch: int | None = None, **metrics: Any) -> None: ...
        def record(self, name: str, value: Any) -> None: ...
        def record_model(self, model: Any, example: Any, name: str = "model") -> None: ...
        def log(self, *parts: Any) -> None: ...
        def check_cancelled(self) -> None: ...

    seed_everything(params["seed"])
    module = load_module(loaded.code_path, loaded.id)
    ctx = Bare()
    start = time.perf_counter()
    getattr(module, loaded.lesson.entry)(ctx)
    if torch_device.type == "cuda":
        torch.cuda.synchronize(torch_device)
    return {
        "status": "completed",
        "seconds": time.perf_counter() - start,
        "steps": steps,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


REPORT_FUNCS = {"_emit_progress", "_flush_steps", "finish", "_to_floats", "_to_float"}


class SyncCounter:
    """Counts CUDA's sync-debug warnings by where they came from: ``report`` (the run's
    reports, tutor.training.context), ``lesson:FUNC`` (the innermost function of the lesson's
    own file, and the line), or ``tutor``. Other warnings are shown as usual."""

    def __init__(self, code_path: str) -> None:
        self.code_path = code_path
        self.places: dict[str, int] = {}

    def where(self) -> str:
        frame: Any = sys._getframe(1)
        lesson_line = None
        while frame is not None:
            code = frame.f_code
            if code.co_filename.endswith("context.py") and code.co_name in REPORT_FUNCS:
                return "report"
            if lesson_line is None and code.co_filename == self.code_path:
                lesson_line = f"{code.co_name}:{frame.f_lineno}"
            frame = frame.f_back
        return f"lesson:{lesson_line}" if lesson_line else "tutor"

    def __enter__(self) -> SyncCounter:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("always")  # every occurrence, not once per source line
        original = warnings.showwarning

        def show(message: Any, category: Any, filename: str, lineno: int, *rest: Any) -> None:
            if SYNC_MESSAGE in str(message):
                place = self.where()
                self.places[place] = self.places.get(place, 0) + 1
            else:
                original(message, category, filename, lineno, *rest)

        warnings.showwarning = show
        return self

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(*exc)


def child_sync(lesson_id: str, device: str, params_json: str) -> dict[str, Any]:
    """One run through the runner (as the training process does) with CUDA's sync debug mode
    warning on every synchronising call; each warning is put down to where it came from."""
    import torch

    from tutor import events
    from tutor.lesson.loader import load_catalog
    from tutor.training.runner import run_lesson

    loaded = load_catalog().get(lesson_id)
    progress: list[events.Progress] = []

    def sink(event: Any) -> None:
        if isinstance(event, events.Progress):
            progress.append(event)

    cuda = torch.cuda.is_available()  # without CUDA: the plumbing alone, nothing to count
    with SyncCounter(str(loaded.code_path.resolve())) as counter:
        if cuda:
            torch.cuda.set_sync_debug_mode("warn")
        try:
            result = run_lesson(loaded, json.loads(params_json), sink=sink, device=device)
        finally:
            if cuda:
                torch.cuda.set_sync_debug_mode("default")
    return {
        "status": result.status,
        "error": result.error,
        "steps": max((p.global_step for p in progress), default=0),
        "reports": len(progress),
        "places": counter.places,
    }


def child_runner_device(device: str) -> dict[str, Any]:
    """The app's path (the runner in the training process) with a device that is not there."""
    from tutor.lesson.loader import load_catalog
    from tutor.training.runner import run_lesson

    loaded = load_catalog().get("gradient-descent")
    result = run_lesson(loaded, {"epochs": 1}, device=device)
    return {"status": result.status, "error": result.error}


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "bare": child_bare,
    "sync": child_sync,
    "runner-device": child_runner_device,
}


# -- the parts -----------------------------------------------------------------------------------


def lesson_ids() -> list[str]:
    from tutor.lesson.loader import load_catalog

    return [loaded.id for loaded in load_catalog().lessons]


def part_smoke(plan: Plan) -> list[Row]:
    ids = lesson_ids()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(ids, pool.map(lambda i: cli_run(plan, i, "cuda", smoke=True), ids)))
    failed = [
        f"{i} ({r['status']}: {str(r.get('error'))[:80]})"
        for i, r in results.items()
        if r["status"] != "completed"
    ]
    slowest = max(results.items(), key=lambda kv: kv[1]["wall"])
    rows: list[Row] = [
        (
            "every lesson, `--device cuda --smoke`: completed",
            f"{len(ids) - len(failed)}/{len(ids)}",
            f"{len(ids)}/{len(ids)}",
            "ok" if not failed else "MISS",
        )
    ]
    rows += [("  failed", f, "", "MISS") for f in failed]
    rows.append(
        (
            "  slowest smoke run (wall, with the interpreter start)",
            f"{slowest[0]} {fmt_s(slowest[1]['wall'])}",
            "",
            "",
        )
    )
    return rows


def throughput_cases(plan: Plan) -> tuple[str, dict[str, Any]]:
    return ("gradient-descent", {}) if plan.tiny else ("cnn", {})


def part_throughput(plan: Plan) -> list[Row]:
    lesson, sets = throughput_cases(plan)
    params = json.dumps(sets)
    rows: list[Row] = []
    cpu = cli_run(plan, lesson, "cpu", sets)
    bare_cpu = in_child(plan, "bare", lesson, "cpu", params)
    rows.append(
        (
            f"{lesson} at defaults, headless on cpu / bare on cpu (s)",
            f"{fmt_s(cpu.get('seconds'))} / {fmt_s(bare_cpu.get('seconds'))}",
            "",
            "",
        )
    )
    if not plan.cuda:
        return rows
    gpu = cli_run(plan, lesson, "cuda", sets)
    bare_gpu = in_child(plan, "bare", lesson, "cuda", params)
    rows.append(
        (
            f"{lesson} at defaults, headless on cuda / bare on cuda (s)",
            f"{fmt_s(gpu.get('seconds'))} / {fmt_s(bare_gpu.get('seconds'))}",
            "",
            "",
        )
    )
    if gpu.get("seconds") and cpu.get("seconds") and bare_gpu.get("seconds"):
        speedup = cpu["seconds"] / gpu["seconds"]
        ratio = bare_gpu["seconds"] / gpu["seconds"]  # throughput headless / bare
        rows.append((f"{lesson} throughput cuda / cpu (headless)", f"{speedup:.2f}×", "> 1", ""))
        rows.append(
            (
                f"{lesson} throughput headless / bare on cuda",
                f"{ratio:.3f}",
                "≥ 0.98",
                "ok" if ratio >= 0.98 else "MISS",
            )
        )
        steps = bare_gpu.get("steps") or 0
        if steps:
            rows.append(
                (f"{lesson} bare on cuda: steps/s", f"{steps / bare_gpu['seconds']:.0f}", "", "")
            )
    return rows


# A few hundred steps each: the CNN (DataLoader batches copied to the GPU each step), the
# same with fp16 (GradScaler), and the GPU lesson (data moved to the GPU once).
SYNC_CASES = (
    ("cnn", {"epochs": 2}),
    ("cnn", {"epochs": 1, "amp": "fp16"}),
    ("gpu", {"epochs": 3, "hidden": 256}),
)


# Functions that synchronise every step on purpose: the GPU lesson's part 1 copies each
# batch to the device to show what that costs, and waits for the GPU to time it.
EXPECTED_SYNCS = {"gpu": ("one_epoch",)}


def part_sync(plan: Plan) -> list[Row]:
    rows: list[Row] = []
    for lesson, sets in SYNC_CASES:
        out = in_child(plan, "sync", lesson, "cuda", json.dumps(sets))
        if out.get("status") != "completed":
            rows.append(
                (
                    f"{lesson}: syncs per step",
                    out.get("status", "?"),
                    "",
                    f"MISS {str(out.get('error'))[:80]}",
                )
            )
            continue
        places: dict[str, int] = out["places"]
        steps, reports = out["steps"], out["reports"]
        # A line of the lesson that synchronised on (nearly) every step of an epoch is a
        # per-step sync; set-up, evaluation and epoch ends sync a few times an epoch. An
        # epoch here is ≥ 60 steps (4,000 images, batches ≤ 64), so 10 % of the steps (the
        # GPU lesson's steps include its timed epochs) separates the two.
        lesson_sites = {p: n for p, n in places.items() if p.startswith("lesson:")}
        per_step = {
            p: n
            for p, n in lesson_sites.items()
            if n >= max(10, steps // 10) and p.split(":")[1] not in EXPECTED_SYNCS.get(lesson, ())
        }
        worst = (
            ", ".join(
                f"{p.removeprefix('lesson:')} ×{n}"
                for p, n in sorted(per_step.items(), key=lambda kv: -kv[1])
            )
            or "none"
        )
        rows.append(
            (
                f"{lesson} {sets}: lines syncing every step ({steps} steps in all)",
                worst,
                "none",
                "ok" if not per_step else "MISS",
            )
        )
        rows.append(
            (
                f"  {lesson}: syncs in reports / reports",
                f"{places.get('report', 0)} / {reports}",
                "≤ a few per report",
                "",
            )
        )
        others = ", ".join(
            f"{p.removeprefix('lesson:')} ×{n}"
            for p, n in sorted(places.items())
            if p != "report" and p not in per_step
        )
        rows.append(
            (f"  {lesson}: other syncs (set-up, evaluation, epoch ends)", others or "none", "", "")
        )
    return rows


def amp_cases(plan: Plan) -> list[tuple[str, str, dict[str, Any]]]:
    """(lesson, device, params) for each AMP run; every lesson that offers amp, on the GPU."""
    if plan.tiny:
        return []
    if not plan.cuda:
        return [("cnn", "cpu", {"epochs": 1, "amp": a}) for a in ("off", "bf16", "fp16")]
    cases = [("cnn", "cuda", {"epochs": 3, "amp": a}) for a in ("off", "bf16", "fp16")]
    cases += [
        ("gpu", "cuda", {"epochs": 3, "batch_size": 1000, "hidden": 2048, "amp": a})
        for a in ("off", "bf16", "fp16")
    ]
    cases += [
        (lesson, "cuda", {"epochs": 1, "amp": a})
        for lesson in ("inception", "residual-network")
        for a in ("off", "bf16")
    ]
    return cases


def part_amp(plan: Plan) -> list[Row]:
    rows: list[Row] = []
    for lesson, device, sets in amp_cases(plan):
        out = cli_run(plan, lesson, device, sets)
        acc = (out.get("metrics") or {}).get("test_acc")
        label = ", ".join(f"{k}={v}" for k, v in sets.items())
        result = (
            f"{fmt_s(out.get('seconds'))}, test_acc {acc:.3f}"
            if acc is not None
            else (f"{out['status']}: {str(out.get('error'))[:80]}")
        )
        rows.append(
            (
                f"AMP: {lesson} on {device} ({label})",
                result,
                "",
                "" if out["status"] == "completed" else "MISS",
            )
        )
    return rows


def part_bad_device(plan: Plan) -> list[Row]:
    bad = f"cuda:{plan.gpu_count}"  # one past the last GPU (cuda:0 where there is none)
    out = cli_run(plan, "gradient-descent", bad)
    text = out.get("stderr", "") + str(out.get("error") or "")
    clean = out["rc"] != 0 and "Traceback" not in text
    rows: list[Row] = [
        (
            f"`dl-tutor run … --device {bad}`: exit code, one clean line",
            f"rc {out['rc']}: {str(out.get('error'))[:90]}",
            "rc ≠ 0, no traceback",
            "ok" if clean else "MISS",
        )
    ]
    runner = in_child(plan, "runner-device", bad)
    error = str(runner.get("error"))
    clean = runner.get("status") == "failed" and "Traceback" not in error
    rows.append(
        (
            f"runner (the app's path) with `{bad}`",
            f"{runner.get('status')}: {error[:90]}",
            "failed, no traceback",
            "ok" if clean else "MISS",
        )
    )
    return rows


def _what_smoke(plan: Plan) -> list[str]:
    return [f"dl-tutor run {i} --device cuda --smoke --json (4 at a time)" for i in lesson_ids()]


def _what_throughput(plan: Plan) -> list[str]:
    lesson, _ = throughput_cases(plan)
    gpu = "" if plan.cuda else "  (needs a GPU: skipped)"
    return [
        f"dl-tutor run {lesson} --device cpu --json",
        f"bare {lesson} on cpu",
        f"dl-tutor run {lesson} --device cuda --json{gpu}",
        f"bare {lesson} on cuda{gpu}",
    ]


PARTS = (
    Part(
        "device cuda:N past the last GPU",
        False,
        lambda p: [
            f"dl-tutor run gradient-descent --device cuda:{p.gpu_count}",
            f"runner with cuda:{p.gpu_count}",
        ],
        part_bad_device,
        10,
    ),
    Part("every lesson on cuda at smoke settings", True, _what_smoke, part_smoke, 60),
    Part("throughput cuda / cpu / bare", False, _what_throughput, part_throughput, 60),
    Part(
        "synchronisations per step",
        True,
        lambda p: [
            f"{lesson} {sets} on cuda under set_sync_debug_mode('warn')"
            for lesson, sets in SYNC_CASES
        ],
        part_sync,
        40,
    ),
    Part(
        "AMP off / bf16 / fp16",
        False,
        lambda p: [
            f"dl-tutor run {lesson} --device {d} "
            + " ".join(f"--set {k}={v}" for k, v in s.items())
            for lesson, d, s in amp_cases(p)
        ],
        part_amp,
        60,
    ),
)


# -- main ----------------------------------------------------------------------------------------


def probe_cuda() -> tuple[bool, int, str]:
    import torch

    if not torch.cuda.is_available():
        return False, 0, ""
    return True, torch.cuda.device_count(), torch.cuda.get_device_name(0)


def table(rows: list[Row]) -> list[str]:
    lines = ["| check | result | target | |", "|---|---|---|---|"]
    lines += [f"| {c} | {r} | {t} | {v} |" for c, r, t, v in rows]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="list what would run, run nothing")
    parser.add_argument("--budget", type=float, default=290.0, help="seconds for everything")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "gpu.md")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, *rest = args.child
        print(json.dumps(CHILDREN[mode](*rest)))
        return 0

    cuda, count, name = probe_cuda()
    if not cuda:
        print(
            "No CUDA GPU here (torch.cuda.is_available() is False): running the CPU-only "
            "parts; the GPU parts are listed as skipped."
        )
    plan = Plan(cuda, count, name, args.tiny, args.budget, Path(tempfile.gettempdir()))
    if args.dry_run:
        for part in PARTS:
            runs = "" if plan.cuda or not part.needs_cuda else "  (skipped: no CUDA GPU)"
            print(f"{part.title}{runs}")
            for what in part.what(plan):
                print(f"  {what}")
        return 0

    plan.data_dir = Path(tempfile.mkdtemp(prefix="dl-tutor-gpu-check-"))
    start = time.monotonic()
    plan.deadline = start + args.budget
    try:
        for part in PARTS:
            if part.needs_cuda and not cuda:
                plan.rows.append((part.title, "skipped: no CUDA GPU", "", ""))
            elif plan.left() < part.estimate_s:
                plan.rows.append(
                    (part.title, f"skipped: {plan.left():.0f} s of budget left", "", "MISS")
                )
            else:
                part_start = time.monotonic()
                try:
                    plan.rows += part.run(plan)
                except subprocess.TimeoutExpired:
                    plan.rows.append((part.title, "stopped: out of budget", "", "MISS"))
                plan.rows.append(
                    (f"  ({part.title}: {time.monotonic() - part_start:.0f} s)", "", "", "")
                )
    finally:
        shutil.rmtree(plan.data_dir, ignore_errors=True)

    import torch

    gpu = f"{name} × {count}" if cuda else "no CUDA GPU (CPU-only parts)"
    header = (
        f"{time.strftime('%Y-%m-%d %H:%M')}, {gpu}; torch {torch.__version__}, "
        f"{os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f}; "
        f"{time.monotonic() - start:.0f} s in all."
    )
    text = (
        "\n".join(
            [f"# GPU check ({'tiny' if args.tiny else 'full'})", "", header, "", *table(plan.rows)]
        )
        + "\n"
    )
    print(text)
    args.out.write_text(text)
    misses = sum(row[3].startswith("MISS") for row in plan.rows)
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
