"""The floor for a run shown in a Textual app: a minimal app that shows what the app's Train
pane shows during a run, training the same lesson code bare in a spare process.

Used by ``bench/fullsize.py`` (its ``floor`` case, beside bare, headless and app). The app
has a title bar, Textual's own footer, and two tabs: the lesson's text, and a Train tab with
the same parts as the app's Train pane in a run, drawn by stock widgets and left empty: the
form folded to its summary line, Run and Stop, the run's info line, two charts, the metrics
and checks lines, the sweep row, the runs table and the log. Run brings the Train tab to the
front and focuses it (its keys join the footer), hands the run to the spare process (which
has imported torch and ``torch._dynamo``, like the app's), and shows one line when the run's
time comes back. No curves are drawn and nothing is stored: what is left is Textual's cost
of showing that pane and the hand-over, on this machine.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import time
from multiprocessing.connection import Connection
from typing import Any

import perf


def train_bare(conn: Connection, lesson_id: str, params: dict[str, Any]) -> None:
    """The spare process: ready, then the lesson's code as bench/perf.py's bare case runs
    it, on "go"."""
    from tutor.lesson.loader import load_catalog
    from tutor.training.process import warm_up

    warm_up()
    loaded = load_catalog().get(lesson_id)
    conn.send("ready")
    conn.recv()
    conn.send(perf.run_bare(loaded, params))


def child_floor_run(lesson_id: str) -> dict[str, Any]:
    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.containers import Horizontal, VerticalScroll
    from textual.widgets import (
        Button,
        DataTable,
        Footer,
        Header,
        Input,
        Label,
        Markdown,
        RichLog,
        Static,
        TabbedContent,
        TabPane,
    )

    from tutor.lesson.loader import load_catalog

    loaded = load_catalog().get(lesson_id)
    params = {**loaded.lesson.defaults(), **perf.bench_params()}
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    spare = multiprocessing.get_context("spawn").Process(
        target=train_bare, args=(theirs, lesson_id, params), daemon=True
    )
    spare.start()

    class Train(VerticalScroll, can_focus=True):
        BINDINGS = [Binding("s", "noop", "Stop"), Binding("w", "noop", "Smoothing")]

        def action_noop(self) -> None:
            pass

    class Floor(App[None]):
        # The app's Train pane at 120x40 in a run: charts 8 rows, table 10, log 12.
        CSS = ".row { height: 1; } .row > * { width: auto; margin-right: 2; }"
        CSS += " .row Input { border: none; height: 1; width: 40; }"
        CSS += " .row Button { border: none; height: 1; min-width: 8; }"
        CSS += " .chart { height: 8; border: round $primary; } #checks { height: 3; }"
        CSS += " DataTable { height: 10; } RichLog { height: 12; }"
        BINDINGS = [Binding("r", "noop", "Run"), Binding("q", "quit", "Quit")]

        def action_noop(self) -> None:
            pass

        def compose(self) -> ComposeResult:
            yield Header()
            with TabbedContent():
                with TabPane("Lesson", id="lesson"), VerticalScroll(id="text"):
                    yield Markdown(loaded.lesson.text.get("en"))
                with TabPane("Train", id="train"), Train(id="train-view"):
                    yield Static("  ".join(f"{k}={v}" for k, v in params.items()))
                    with Horizontal(classes="row"):
                        yield Button("Run")
                        yield Button("Stop")
                    with Horizontal(classes="row"):
                        yield Static("not run yet", id="status")
                        yield Static(f"seed {params.get('seed')}")
                        yield Static("cpu")
                    yield Static(classes="chart")
                    yield Static(classes="chart")
                    yield Static("", id="metrics")
                    yield Static("", id="checks")
                    with Horizontal(classes="row"):
                        yield Label("sweep")
                        yield Input(placeholder="lr=0.01,0.1")
                        yield Button("Sweep")
                    yield Static("runs of this lesson")
                    yield DataTable()
                    yield RichLog()
            yield Footer()

    async def go() -> dict[str, Any]:
        app = Floor()
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one(DataTable)
            table.add_columns("when", "status", "loss", "accuracy", "seconds")
            table.add_rows([(f"run {i}", "completed", "0.5", "0.8", "1.0") for i in range(5)])
            loop = asyncio.get_running_loop()
            assert await loop.run_in_executor(None, ours.recv) == "ready"
            await pilot.pause(perf.READING_SECONDS)
            start, cpu = time.perf_counter(), time.process_time()
            ours.send("go")
            app.query_one(TabbedContent).active = "train"
            app.query_one("#train-view").focus()
            app.query_one("#status", Static).update("running…")
            run_seconds = await loop.run_in_executor(None, ours.recv)
            app.query_one("#status", Static).update(f"completed in {run_seconds:.2f} s")
            seconds = time.perf_counter() - start
            ui_cpu = time.process_time() - cpu
        spare.join(10)
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the spare
        return {
            "status": "completed",
            "seconds": seconds,
            "run_seconds": run_seconds,
            "ui_cpu_seconds": ui_cpu,
            "epochs": params.get("epochs"),
            "rss_mb": perf.peak_rss_mb() + children,
        }

    return asyncio.run(go())
