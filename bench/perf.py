"""Performance benchmark: start-up, UI responsiveness while training, throughput, memory.

    .venv/bin/python bench/perf.py [--repeat 3] [--lesson cnn] [--out bench/perf-table.md]
    .venv/bin/python bench/perf.py --startup-only [--repeat 7]   # prints, writes nothing
    .venv/bin/python bench/perf.py --only first-screen [--repeat 7]   # the pty rows alone

Every measurement runs in a fresh child process (this file re-invoked with a mode), so
imports and peak RSS are those of that case alone. Prints a table and writes it to --out.
Public tools only: time.perf_counter, resource.getrusage, Textual's App.run_test, and a
pseudo-terminal (the standard pty module) for the first screen as a learner sees it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import platform
import pty
import re
import resource
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time

START = time.perf_counter()  # as close to process start as Python code gets

from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# Hyperparameters for the lesson in every child mode (JSON; e.g. '{"epochs": 3}'), set by
# bench/fullsize.py; empty: the lesson's defaults, as perf.py itself measures.
BENCH_PARAMS_ENV = "DL_TUTOR_BENCH_PARAMS"


def bench_params() -> dict[str, Any]:
    return json.loads(os.environ.get(BENCH_PARAMS_ENV) or "{}")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def percentiles(lags: list[float]) -> dict[str, float]:
    if not lags:
        return {"p50": float("nan"), "p95": float("nan"), "max": float("nan")}
    ordered = sorted(lags)
    return {
        "p50": ordered[len(ordered) // 2],
        "p95": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
        "max": ordered[-1],
    }


# -- child modes -----------------------------------------------------------------------------


def child_startup() -> dict[str, Any]:
    """Time from interpreter start to the first painted screen (``app.first_paint_at``);
    was torch imported by then? And until the first lesson is shown (``startup_done``)."""
    import tutor.ui.app
    from tutor.ui.app import TutorApp

    seen: dict[str, Any] = {}

    class App(TutorApp):
        CSS_PATH = str(Path(tutor.ui.app.__file__).with_name("app.tcss"))  # else relative to here

        def _first_paint(self) -> None:
            seen["torch"] = "torch" in sys.modules
            seen["cpu"] = time.process_time()  # less sensitive to other processes than wall time
            seen["listed"] = self.query_one("#lesson-list").option_count  # type: ignore[attr-defined]
            super()._first_paint()

        async def _start_up(self) -> None:
            await super()._start_up()
            seen["lesson_shown"] = time.perf_counter() - START
            seen["lesson_shown_cpu"] = time.process_time()
            shown.set()

    async def go() -> None:
        app = App()
        async with app.run_test(size=(80, 24)):
            await shown.wait()  # no polling: the loop stays as idle as in a real start
            assert app.first_paint_at is not None
            seen["seconds"] = app.first_paint_at - START

    shown = asyncio.Event()

    asyncio.run(go())
    return {**seen, "rss_mb": peak_rss_mb()}


READING_SECONDS = 8.0


def child_app(lesson_id: str, probe: str = "") -> dict[str, Any]:
    """Train ``lesson_id`` in the app. With ``probe="lag"`` a 20 ms timer measures the event
    loop's lag; without, nothing but a cheap poll runs beside the app (a Textual timer 50
    times a second costs the UI ~1.5 % of a core, which the throughput should not pay).

    The run's time is the app's wall time from Run to the finished run being handled: it
    includes handing the run to the training process and relaying its events. Peak RSS is
    this process's plus its largest child's (the training process): an upper bound of the
    two together.
    """
    from tutor.ui.app import TutorApp

    period = 0.02

    async def go() -> dict[str, Any]:
        app = TutorApp()
        async with app.run_test(size=(120, 40)) as pilot:
            ticks: list[tuple[float, float]] = []  # (when, lag in ms)
            last = [time.perf_counter()]

            def tick() -> None:
                now = time.perf_counter()
                ticks.append((now, max(0.0, (now - last[0] - period) * 1000)))
                last[0] = now

            if probe == "lag":
                app.set_interval(period, tick)
            mounted = time.perf_counter()
            # Start-up (lessons, store) and the spare training process importing torch.
            while not (app.startup_done and app.torch_ready):
                await asyncio.sleep(0.05)
            ready = time.perf_counter()
            await app.open_lesson(app.catalog.get(lesson_id))
            # A learner reads before pressing Run; meanwhile the spare finishes its warm-up
            # (torch._dynamo: 2-2.5 s alone, more while the app starts up). A wait still
            # left shows as seconds over run_seconds.
            await pilot.pause(READING_SECONDS)
            if bench_params():  # as if typed into the form
                typed = app.training.param_values
                text = {k: str(v) for k, v in bench_params().items()}
                app.training.param_values = lambda: {**typed(), **text}  # type: ignore[method-assign]
            # The run's end is the moment its result is shown, caught where the Train pane
            # shows it: exact, and without a poll waking this process 50 times a second
            # (which a learner's app does not do; it measured as costing nothing, perf.md).
            shown_at: list[float] = []
            shown = asyncio.Event()
            show_result = app.training.show_result

            def result_shown(*args: Any, **kwargs: Any) -> None:
                show_result(*args, **kwargs)
                shown_at.append(time.perf_counter())
                shown.set()

            app.training.show_result = result_shown  # type: ignore[method-assign]
            start, cpu = time.perf_counter(), time.process_time()
            app.start_run()
            training: list[float] = []  # polls that saw the run reporting (lag probe only)
            while probe == "lag" and app.active_run is not None:
                if app.active_run.progress is not None:
                    training.append(time.perf_counter())
                await asyncio.sleep(0.02)  # not pilot.pause: it pokes every widget
            await asyncio.wait_for(shown.wait(), timeout=3600)  # a hung run fails the bench
            seconds = shown_at[0] - start
            ui_cpu = time.process_time() - cpu  # all the UI process's threads, until now
            result = app.last_result

        def lags(lo: float, hi: float) -> dict[str, float]:
            return percentiles([lag for t, lag in ticks if lo <= t <= hi])

        return {
            "status": result.status,
            "seconds": seconds,
            "run_seconds": result.seconds,  # run_lesson's own time, in the training process
            "ui_cpu_seconds": ui_cpu,
            "epochs": result.params.get("epochs"),
            # While the run reports (from its first points to its last poll), and the whole
            # run from Run to the finished run shown (start-up and the final display too).
            "lag": lags(training[0], training[-1]) if training else lags(0, 0),
            "lag_whole": lags(start, start + seconds + 0.1),
            "import_lag": lags(mounted, ready),
        }

    out = asyncio.run(go())
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {**out, "rss_mb": peak_rss_mb() + children, "ui_rss_mb": peak_rss_mb()}


# Bare and headless import what the app's spare imports before a run (process.warm_up), and
# bare keeps torch's objects from the collector as run_lesson does: torch._dynamo's import
# (about 2 s) varies by ±0.3 s between processes, and a full collection (0.3 s) comes or not,
# which would drown the differences the ratios are for.


def child_headless(lesson_id: str) -> dict[str, Any]:
    from tutor.cli import main
    from tutor.training.process import warm_up

    warm_up()

    with open(os.devnull, "w") as devnull:
        stdout, sys.stdout = sys.stdout, devnull
        try:
            sets = [a for k, v in bench_params().items() for a in ("--set", f"{k}={v}")]
            main(["run", lesson_id, "--json", "--device", "cpu", *sets])
        finally:
            sys.stdout = stdout
    from tutor.progress import ProgressStore

    with ProgressStore() as store:
        run = store.runs(lesson_id, limit=1)[0]
    return {
        "status": run.status,
        "seconds": run.seconds,
        "epochs": run.params.get("epochs"),
        "rss_mb": peak_rss_mb(),
    }


class BareContext:
    """A do-nothing stand-in for RunContext: what the lesson code costs on its own."""

    def __init__(self, params: dict[str, Any]) -> None:
        import torch

        from tutor.training.context import Params
        from tutor.training.data import Datasets

        self.params = Params(params)
        self.device = torch.device("cpu")
        self.cache_dir = Path(os.environ.get("DL_TUTOR_CACHE_DIR", "/tmp"))
        self.data = Datasets(self)
        self.cancelled = False
        self.dataset: str | None = None

    def use_dataset(self, name: str, note: str = "") -> None:
        self.dataset = name

    def report_step(self, **metrics: Any) -> None: ...
    def report_epoch(self, epoch: int | None = None, **metrics: Any) -> None: ...
    def record(self, name: str, value: Any) -> None: ...
    def record_model(self, model: Any, example: Any, name: str = "model") -> None: ...
    def log(self, *parts: Any) -> None: ...
    def check_cancelled(self) -> None: ...


def run_bare(loaded: Any, params: dict[str, Any]) -> float:
    """Seconds the lesson's own code takes with a do-nothing context (the bare case; also
    bench/floor_run.py's spare). Seeded and with the collector as ``run_lesson`` has them."""
    from tutor.training.runner import collector_past_imports, load_module, seed_everything

    seed_everything(params["seed"])
    module = load_module(loaded.code_path, loaded.id)
    ctx = BareContext(params)
    with collector_past_imports():
        start = time.perf_counter()
        getattr(module, loaded.lesson.entry)(ctx)
        return time.perf_counter() - start


def child_bare(lesson_id: str) -> dict[str, Any]:
    from tutor.lesson.loader import load_catalog
    from tutor.training.process import warm_up

    warm_up()

    loaded = load_catalog().get(lesson_id)
    params = {**loaded.lesson.defaults(), **bench_params()}
    seconds = run_bare(loaded, params)
    return {
        "status": "completed",
        "seconds": seconds,
        "epochs": params.get("epochs"),
        "rss_mb": peak_rss_mb(),
    }


# -- parent ------------------------------------------------------------------------------------


def in_child(mode: str, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, *args],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
    )
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{mode} failed:\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1])


DATA_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / f"dl-tutor-bench-{os.getpid()}"
CACHE_DIR = DATA_DIR / "cache"  # datasets (offline fallback) and the lesson index


def child_env() -> dict[str, str]:
    """Offline, in a data directory of the bench's own. Python writes and reads bytecode in
    a cache of the bench's own as well, even where PYTHONDONTWRITEBYTECODE is set: an
    installed dl-tutor starts from bytecode (pip compiles a wheel when it installs it), so
    after the first start so does every measured one."""
    env = {
        **os.environ,
        "DL_TUTOR_OFFLINE": "1",
        "DL_TUTOR_DATA_DIR": str(DATA_DIR),
        "DL_TUTOR_CACHE_DIR": str(CACHE_DIR),
        "PYTHONPYCACHEPREFIX": str(DATA_DIR / "pycache"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def startup(cold: bool) -> dict[str, Any]:
    """One start-up in a fresh process: ``cold`` without the cached lesson index."""
    if cold:
        for index in CACHE_DIR.glob("lesson-index-*.json"):
            index.unlink()
    return in_child("startup")


_ESCAPES = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|.)")


def terminal_startup(*needles: str, argv: list[str] | None = None) -> list[float]:
    """Seconds from spawning ``dl-tutor`` (or ``argv``) in an 80x24 pseudo-terminal to each of
    ``needles`` in what it has drawn (the first lesson's title, a line of its text): the
    first screen as a learner sees it, with the interpreter's own start and the real
    terminal driver included."""
    if argv is None:
        script = Path(sys.executable).with_name("dl-tutor")
        argv = [str(script)] if script.is_file() else [sys.executable, "-m", "tutor"]
    env = {**child_env(), "TERM": "xterm-256color"}
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: its terminal is 80x24 before Textual asks
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.chdir(ROOT)
        os.execve(argv[0], argv, env)
    drawn = b""
    seen: dict[str, float] = {}
    try:
        while len(seen) < len(needles) and time.perf_counter() - start < 30:
            if select.select([fd], [], [], 0.5)[0]:
                drawn += os.read(fd, 1 << 16)
                now = time.perf_counter() - start
                text = _ESCAPES.sub(b"", drawn)
                seen.update({x: now for x in needles if x not in seen and x.encode() in text})
    finally:
        os.kill(pid, signal.SIGTERM)  # quits as q does
        with contextlib.suppress(OSError):  # drain, so its last writes never block it
            while select.select([fd], [], [], 5)[0] and os.read(fd, 1 << 16):
                pass
        os.waitpid(pid, 0)
        os.close(fd)
    missing = [x for x in needles if x not in seen]
    if missing:
        raise RuntimeError(f"{missing!r} never appeared in the terminal")
    return [seen[x] for x in needles]


def first_screen_needles() -> tuple[str, str]:
    """What the pty measures wait for: the first lesson's title (its first word, as the list
    and the title bar show it) and the first words of its text (the Lesson pane's)."""
    from tutor.lesson.loader import load_catalog

    lesson = load_catalog().lessons[0].lesson
    text = lesson.text.get("en").strip()
    if text.startswith("# "):  # the pane shows its own title instead
        text = text.partition("\n")[2]
    first_line = next(line for line in text.splitlines() if line.strip())
    words = re.sub(r"[`*_>#\[\]]", "", first_line).split()[:2]
    return lesson.title.get("en").split()[0], " ".join(words)


def child_floor(title: str, text: str) -> None:
    """A minimal Textual app with what the first screen shows: a one-line header, a list of
    22 lessons (the first is ``title``), a paragraph of text beside it (``text``) and a
    footer: the floor for the pty measures, started the same way (an interpreter running a
    script)."""
    from textual.app import App, ComposeResult
    from textual.containers import Horizontal
    from textual.widgets import Footer, Header, OptionList, Static

    class Floor(App[None]):
        CSS = "OptionList { width: 24; } Static { width: 1fr; padding: 0 1; }"

        def compose(self) -> ComposeResult:
            yield Header()
            with Horizontal():
                yield OptionList(*[f"{i:02d} {title} number {i}" for i in range(1, 23)])
                yield Static(f"{title}\n\n{text}\n" * 3)
            yield Footer()

    Floor().run()


def first_screen_rows(n: int) -> list[tuple[str, str, str]]:
    """The first screen in an 80x24 pty: warm (the index of the last start) and cold (a fresh
    cache directory: the first start after installing) and the floor, interleaved."""
    title, text = first_screen_needles()
    floor_argv = [sys.executable, __file__, "--child", "floor", title, text]
    terminal_startup(title, text)  # writes the index, and the bytecode of every later start
    terminal_startup(title, text, argv=floor_argv)
    warm: list[list[float]] = []
    cold: list[list[float]] = []
    floor: list[list[float]] = []
    for _ in range(n):  # interleaved, so drift in machine load hits every case alike
        warm.append(terminal_startup(title, text))
        for index in CACHE_DIR.glob("lesson-index-*.json"):
            index.unlink()
        cold.append(terminal_startup(title, text))
        floor.append(terminal_startup(title, text, argv=floor_argv))

    def med(runs: list[list[float]], i: int) -> str:
        return f"{median([r[i] for r in runs]):.2f}"

    return [
        (
            "first screen in a terminal: `dl-tutor` in an 80x24 pty until the first lesson's "
            "title is drawn (the list), warm / cold (s)",
            f"{med(warm, 0)} / {med(cold, 0)}",
            "≤ 0.5 / ≤ 0.5",
        ),
        (
            "the start lesson's text in a terminal: until its first words are drawn, warm / "
            "cold (s)",
            f"{med(warm, 1)} / {med(cold, 1)}",
            "≤ 0.5 / ≤ 0.8",
        ),
        (
            "floor: a minimal Textual app (header, 22-option list, text, footer) in the same "
            "pty, until the title / the text is drawn (s)",
            f"{med(floor, 0)} / {med(floor, 1)}",
            "",
        ),
    ]


def startup_rows(n: int) -> list[tuple[str, str, str]]:
    """Warm (index of the last start) and cold (none) start-ups, interleaved, and `list`."""
    startup(cold=True)  # writes the index and the bytecode the first warm start uses
    warm: list[dict[str, Any]] = []
    cold: list[dict[str, Any]] = []
    for _ in range(n):
        warm.append(startup(cold=False))
        cold.append(startup(cold=True))
    list_seconds()  # writes the bytecode of what `list` imports beyond the app
    lists = [list_seconds() for _ in range(max(5, n))]
    def med(runs: list[dict[str, Any]], key: str) -> str:
        return f"{median([r[key] for r in runs]):.2f}"

    return [
        (
            "first screen painted (headless, `app.first_paint_at`), warm / cold (s)",
            f"{med(warm, 'seconds')} / {med(cold, 'seconds')}",
            "≤ 0.5",
        ),
        *first_screen_rows(n),
        (
            "lessons listed at first paint, warm / cold",
            f"{warm[0]['listed']} / {cold[0]['listed']}",
            "",
        ),
        (
            "first lesson shown, warm / cold (s)",
            f"{med(warm, 'lesson_shown')} / {med(cold, 'lesson_shown')}",
            "",
        ),
        ("torch imported by the first paint", str(any(s["torch"] for s in warm + cold)), "False"),
        ("`dl-tutor list` wall (s)", f"{median(lists):.2f}", "≤ 0.8"),
        ("peak RSS at first lesson shown (MB)", med(warm, "rss_mb"), ""),
    ]


def table(rows: list[tuple[str, str, str]]) -> list[str]:
    return [
        "| measure | value | target |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
    ]


def list_seconds() -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tutor", "list"],
        capture_output=True,
        check=True,
        cwd=ROOT,
        env=child_env(),
    )
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lesson", default="cnn")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "perf-table.md")
    parser.add_argument(
        "--startup-only", action="store_true", help="only start-up and `list`; print, write nothing"
    )
    parser.add_argument(
        "--only",
        choices=["first-screen"],
        help="first-screen: only the first screen in a pty (warm, cold, floor); print only",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child and args.child[0] == "floor":
        child_floor(*args.child[1:])
        return 0
    if args.child and args.child[0] == "floor-run":  # bench/floor_run.py, for fullsize.py
        from floor_run import child_floor_run  # beside this file, on sys.path already

        print(json.dumps(child_floor_run(*args.child[1:])))
        return 0
    if args.child:
        mode, *rest = args.child
        result = {
            "startup": child_startup,
            "app": child_app,
            "headless": child_headless,
            "bare": child_bare,
        }[mode](*rest)
        print(json.dumps(result))
        return 0

    n = args.repeat
    header = (
        f"Medians of {n} runs; {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}."
    )
    if args.only == "first-screen":
        print("\n".join([header, "", *table(first_screen_rows(n))]))
        return 0
    startup_table = startup_rows(n)
    if args.startup_only:
        print("\n".join([header, "", *table(startup_table)]))
        return 0
    # Throughput and memory from runs without the lag probe; lag from runs with it.
    cases = {  # name: the child's mode and its arguments
        "bare": ("bare", args.lesson),
        "headless": ("headless", args.lesson),
        "app": ("app", args.lesson),
        "app-probed": ("app", args.lesson, "lag"),
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in cases}
    for _ in range(n):  # interleaved, so drift in machine load hits every case alike
        for name, child in cases.items():
            runs[name].append(in_child(*child))
    n_train = 4000  # the offline MNIST fallback; the table says which data set ran

    def throughput(mode: str) -> float:
        return median([n_train * r["epochs"] / r["seconds"] for r in runs[mode]])

    def run_throughput(mode: str) -> float:
        return median([n_train * r["epochs"] / r["run_seconds"] for r in runs[mode]])

    bare = throughput("bare")
    probed = runs["app-probed"]
    app_lag = {k: median([r["lag"][k] for r in probed]) for k in ("p50", "p95", "max")}
    whole = {k: median([r["lag_whole"][k] for r in probed]) for k in ("p50", "p95", "max")}
    imp_lag = {k: median([r["import_lag"][k] for r in probed]) for k in ("p50", "p95", "max")}
    rows = [
        *startup_table,
        (
            "loop lag while training p50 / p95 / max (ms)",
            f"{app_lag['p50']:.1f} / {app_lag['p95']:.1f} / {app_lag['max']:.1f}",
            "p95 ≤ 5, max ≤ 100",
        ),
        (
            "loop lag over the whole run, Run pressed to result shown (ms)",
            f"{whole['p50']:.1f} / {whole['p95']:.1f} / {whole['max']:.1f}",
            "",
        ),
        (
            "loop lag while torch imports p50 / p95 / max (ms)",
            f"{imp_lag['p50']:.1f} / {imp_lag['p95']:.1f} / {imp_lag['max']:.1f}",
            "",
        ),
        (f"throughput bare ({args.lesson}, samples/s)", f"{bare:.0f}", ""),
        ("throughput headless / bare", f"{throughput('headless') / bare:.3f}", "≥ 0.98"),
        (
            "throughput app / bare (Run pressed to result shown)",
            f"{throughput('app') / bare:.3f}",
            "≥ 0.95",
        ),
        (
            "throughput app / bare (the training process's own run time)",
            f"{run_throughput('app') / bare:.3f}",
            "",
        ),
        (
            "peak RSS bare / headless / app: UI + training process (MB)",
            " / ".join(
                f"{median([r['rss_mb'] for r in runs[m]]):.0f}" for m in ("bare", "headless", "app")
            ),
            "app ≤ bare + 150",
        ),
    ]
    lines = [
        f"Medians of {n} runs; lesson `{args.lesson}` at default settings, offline data set, CPU; "
        f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}. Loop lag from app runs with a 20 ms probe timer; "
        "throughput and memory from app runs without it.",
        "",
        *table(rows),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
