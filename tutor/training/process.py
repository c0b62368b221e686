"""Training in a child process, so the app's UI and the lesson never share an interpreter.

Measured in one process (bench/perf.md): the training loop holds the GIL between torch
calls, so the UI's event loop lagged (p95 36–79 ms) and drawing the UI slowed training to
0.44–0.55× a plain script. A child process trains at full speed and the app only handles
a few small messages a second.

The parent spawns ``python -m tutor.training.process FD`` *before* it is needed (it imports torch,
which takes seconds, then says it is ready), so pressing Run does not wait for the import.
One process serves one run and exits: no state leaks from one run into the next.

The protocol is pickled frames (4-byte length + pickle), parent and child being the same
program:

- child → parent, on file descriptor ``FD``: :class:`Ready`, then every event of the run
  (:mod:`tutor.events`), ending with ``RunFinished``; a :class:`WorkerCrashed` if the child's
  own code fails;
- parent → child, on stdin: one :class:`RunRequest`, then the byte :data:`CANCEL` to stop
  at the lesson's next step. End of file (the app exited, even by ``kill -9``) cancels too,
  and the child exits soon after whether or not the lesson checks for Stop.

The lesson's own output (``print``, warnings) arrives on the child's stdout/stderr and
becomes ``LogLine`` events; a single run's child ends both just before ``RunFinished``, so the
parent shows the result with its last lines without waiting for the child to exit.

No Textual here: the app calls :meth:`Trainer.run` from a thread worker, with the same
arguments as :func:`tutor.training.runner.run_lesson`.
"""

from __future__ import annotations

import collections
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

from tutor import events, paths
from tutor.events import Event, RunResult, Sink, Status
from tutor.lesson.catalog import LoadedLesson
from tutor.text import inert
from tutor.training import child
from tutor.training.runner import default_dataset
from tutor.training.sweep import SweepEvent, SweepSink

CANCEL = b"c"
# After Stop, a lesson gets this long to reach its next report_step before its process is
# killed: quitting and Stop end a run within a second even if the lesson never checks.
CANCEL_GRACE_SECONDS = 1.0
CANCEL_POLL_SECONDS = 0.1  # how soon a Stop pressed in the app reaches the child
# Once its parent is gone, a child lets its lesson stop cleanly for this long, then exits.
ORPHAN_EXIT_SECONDS = 2.0
_HEADER = struct.Struct(">I")
OUTPUT_LINES_KEPT = 40  # the tail of the child's output, for a crash report


def _tagged(sink: Any, index: int, event: Any) -> None:
    """Hand one run's event to a sweep's sink, tagged with the run's place in the sweep."""
    sink(SweepEvent(index, event))


@dataclass(frozen=True)
class Ready:
    pid: int
    torch_version: str
    device: str  # the device runs will use, described: "cpu", "cuda:0 (NVIDIA …, 0.3/80.0 GiB)"


UNAVAILABLE = "unavailable: "  # Ready.device of a device the child cannot use, then why


@dataclass(frozen=True)
class WorkerCrashed:
    """Our own code failed in the child (not the lesson's: run_lesson catches those)."""

    error: str


@dataclass(frozen=True)
class RunRequest:
    loaded: LoadedLesson
    params: dict[str, Any]
    device: str = "auto"
    code_path: Path | None = None
    threads: int | None = None
    lang: str = "en"


@dataclass(frozen=True)
class SweepRequest:
    """Several runs, one after another in one child (``Trainer.sweep``); each event comes
    back wrapped in a :class:`~tutor.training.sweep.SweepEvent`, then :class:`SweepDone`."""

    runs: list[RunRequest]


@dataclass(frozen=True)
class SweepDone:
    pass


# -- frames ------------------------------------------------------------------------------


def write_frame(stream: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any | None:
    """The next object, or None at end of file (the other side is gone)."""
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    data = _read_exactly(stream, _HEADER.unpack(header)[0])
    return None if data is None else pickle.loads(data)  # noqa: S301 - our own child


def _read_exactly(stream: IO[bytes], n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# -- the parent's side -------------------------------------------------------------------


class TrainingProcess:
    """One child process: spawned ahead of a run, it imports torch and waits for a request.

    ``device`` (auto, cpu, cuda, …) is only described in its :class:`Ready`; each run's
    request names the device it trains on.
    """

    def __init__(self, device: str = "auto") -> None:
        read_fd, write_fd = os.pipe()
        try:
            self.proc = child.spawn(
                "tutor.training.process",
                [str(write_fd), device],
                env={
                    "PYTHONUNBUFFERED": "1",  # a lesson's print() shows up as it happens
                    "PYTHONIOENCODING": "utf-8:backslashreplace",  # print("\udcff") must not fail
                },
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        self._frames = os.fdopen(read_fd, "rb")
        self._ready: Ready | None = None
        self._ready_checked = threading.Lock()
        self._lock = threading.Lock()  # the child's stdin: the request, CANCEL, closing
        self._sink_lock = threading.Lock()  # apart: output must flow while stdin is written
        self._sink: Sink | None = None
        self._sent = False  # the request was written: CANCEL bytes may follow it
        self._cancelled = False
        self.output: collections.deque[str] = collections.deque(maxlen=OUTPUT_LINES_KEPT)
        self._output_done = threading.Event()
        threading.Thread(target=self._pump_output, daemon=True, name="worker-output").start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self) -> Ready | None:
        """Block until the child has imported torch; None if it died first."""
        with self._ready_checked:
            if self._ready is None and self.proc.returncode is None:
                frame = read_frame(self._frames)
                if isinstance(frame, Ready):
                    self._ready = frame
            return self._ready

    def run(self, request: RunRequest, sink: Sink, cancel: threading.Event) -> RunResult:
        """Send ``request``, pass each event to ``sink``, return the result. Never raises for
        what happens in the child: a crash or kill becomes a ``failed`` (or ``cancelled``)
        result built from the events received so far."""
        collector = _Collector(request, sink)
        with self._sink_lock:
            self._sink = collector
        finished: RunResult | None = None
        done = threading.Event()
        threading.Thread(
            target=self._watch_cancel, args=(cancel, done), daemon=True, name="worker-cancel"
        ).start()
        try:
            if self.wait_ready() is not None and self._send_request(request):
                finished = self._read_events(collector)
            if finished is not None:
                # Shown before the child is reaped: its exit (unmapping ~1 GB) takes ~50 ms.
                sink(events.RunFinished(finished))
        finally:
            done.set()
            self._reap()
        if finished is None:
            finished = collector.fallback_result(
                self.ended_how(), cancel.is_set(), list(self.output)
            )
            sink(events.RunFinished(finished))
        return finished

    def sweep(
        self, request: SweepRequest, sink: SweepSink, cancel: threading.Event
    ) -> list[RunResult]:
        """Like :meth:`run` for each of ``request.runs`` in turn; the list ends at the run
        that was stopped or whose process died (that one gets a fallback result)."""
        collectors = [
            _Collector(r, partial(_tagged, sink, i)) for i, r in enumerate(request.runs)
        ]
        results: list[RunResult] = []
        with self._sink_lock:  # printed lines belong to the run in progress
            self._sink = lambda e: collectors[min(len(results), len(collectors) - 1)](e)
        done = threading.Event()
        threading.Thread(
            target=self._watch_cancel, args=(cancel, done), daemon=True, name="worker-cancel"
        ).start()
        finished = False
        try:
            if self.wait_ready() is not None and self._send_request(request):
                while (frame := read_frame(self._frames)) is not None:
                    if isinstance(frame, SweepDone):
                        finished = True
                        break
                    if isinstance(frame, WorkerCrashed):
                        collectors[min(len(results), len(collectors) - 1)].crash = frame.error
                    elif not isinstance(frame, SweepEvent):
                        continue
                    elif isinstance(frame.event, events.RunFinished):
                        results.append(frame.event.result)
                        sink(frame)
                    else:
                        collectors[frame.index](frame.event)
        finally:
            done.set()
            self._reap()
        if not finished and len(results) < len(collectors):
            index = len(results)
            lost = collectors[index].fallback_result(
                self.ended_how(), cancel.is_set(), list(self.output)
            )
            results.append(lost)
            sink(SweepEvent(index, events.RunFinished(lost)))
        return results

    def close(self) -> None:
        """End the child: a spare exits when its stdin closes; a busy one gets the grace
        time to stop at a step, then it is killed."""
        self._close_stdin()
        try:
            self.proc.wait(timeout=CANCEL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self._kill()

    # -- internals ----------------------------------------------------------------------

    def _send_request(self, request: RunRequest | SweepRequest) -> bool:
        """Send the request unless Stop came first; False if it was not sent."""
        assert self.proc.stdin is not None
        with self._lock:
            if self._cancelled:
                return False
            try:
                write_frame(self.proc.stdin, request)
            except OSError:  # the child died after Ready: reading its events ends at once
                pass
            self._sent = True
            return True

    def _read_events(self, collector: _Collector) -> RunResult | None:
        while True:
            frame = read_frame(self._frames)
            if frame is None:
                return None
            if isinstance(frame, WorkerCrashed):
                collector.crash = frame.error
                continue
            if isinstance(frame, events.RunFinished):
                # Its last printed lines travel on another pipe: let them arrive first.
                self._output_done.wait(timeout=CANCEL_GRACE_SECONDS)
                return frame.result
            collector(frame)

    def _watch_cancel(self, cancel: threading.Event, done: threading.Event) -> None:
        # Polled: a thread cannot wait on two threading.Events at once. Ten times a second is
        # soon enough for Stop and keeps this thread from waking for nothing (its wake-ups
        # did not measurably slow a run, bench/perf.md: this is tidiness, not speed).
        while not done.is_set():
            if cancel.wait(CANCEL_POLL_SECONDS):
                break
        if done.is_set():
            return
        with self._lock:
            self._cancelled = True
            sent = self._sent
            if sent:  # after the request, so the byte cannot be read as part of it
                try:
                    assert self.proc.stdin is not None
                    self.proc.stdin.write(CANCEL)
                    self.proc.stdin.flush()
                except OSError:
                    pass
        if not sent or not done.wait(CANCEL_GRACE_SECONDS):
            self._kill()  # still importing torch, or a lesson that never reached a step

    def _close_stdin(self) -> None:
        with self._lock:
            try:
                if self.proc.stdin:
                    self.proc.stdin.close()
            except OSError:
                pass

    def _pump_output(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = inert(raw.decode("utf-8", "replace").rstrip("\r\n"))  # lesson output
            self.output.append(line)
            with self._sink_lock:
                sink = self._sink
            if sink is not None:
                sink(events.LogLine(line))
        self._output_done.set()

    def _kill(self) -> None:
        child.kill_group(self.proc)

    def _reap(self) -> None:
        """Wait for the child and kill what it left behind (DataLoader workers)."""
        try:
            self.proc.wait(timeout=CANCEL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        self._kill()
        self.proc.wait()
        self._close_stdin()
        self._frames.close()  # only run() reads it, and run() is done

    def ended_how(self) -> str:
        return child.how_it_ended(self.proc.poll())


class _Collector:
    """Forwards a run's events and remembers enough to report a run whose process died."""

    def __init__(self, request: RunRequest, sink: Sink) -> None:
        self.request = request
        self.sink = sink
        self.started: events.RunStarted | None = None
        self.dataset: str | None = None
        self.progress: events.Progress | None = None
        self.history: dict[str, list[tuple[float, float]]] = {}
        self.logs: list[str] = []
        self.crash: str | None = None
        self.start = time.perf_counter()

    def __call__(self, event: Event) -> None:
        if isinstance(event, events.RunStarted):
            self.started = event
        elif isinstance(event, events.DatasetChosen):
            self.dataset = event.name
        elif isinstance(event, events.Progress):
            self.progress = event
            for name, points in event.points.items():
                self.history.setdefault(name, []).extend(points)
        elif isinstance(event, events.LogLine):
            self.logs.append(event.text)
        self.sink(event)

    def fallback_result(self, ended: str, cancelled: bool, output: list[str]) -> RunResult:
        """The result of a run whose process ended without sending one."""
        loaded, lang = self.request.loaded, self.request.lang
        status: Status = "cancelled" if cancelled and self.crash is None else "failed"
        error = None
        if status == "failed":
            error = self.crash or "\n".join(
                [f"The training process {ended} before the run ended.", *output[-10:]]
            )
        params = (
            dict(self.started.params)
            if self.started
            else {**loaded.lesson.defaults(), **self.request.params}
        )
        seed = params.get("seed")
        return RunResult(
            lesson_id=loaded.id,
            status=status,
            params=params,
            seed=seed if isinstance(seed, int) else None,
            device=self.started.device if self.started else self.request.device,
            dataset=self.dataset or default_dataset(loaded, lang),
            seconds=self.progress.elapsed if self.progress else time.perf_counter() - self.start,
            metrics=dict(self.progress.metrics) if self.progress else {},
            history=self.history,
            records={},
            checks=[],
            error=error,
            logs=self.logs,
        )


class Trainer:
    """Runs lessons in child processes, keeping one spare process warm (torch imported).

    Thread-safe; the app calls it from worker threads only (spawning and waiting block).
    """

    def __init__(self, device: str = "auto") -> None:
        self.device = device  # what spares describe when ready (runs name their own)
        self._lock = threading.Lock()
        self._spare: TrainingProcess | None = None
        self._busy: set[TrainingProcess] = set()
        self._closed = False

    def warm(self) -> TrainingProcess | None:
        """Make sure a spare process exists (spawning one if needed) and return it."""
        with self._lock:
            if self._closed:
                return None
            if self._spare is None or self._spare.proc.poll() is not None:
                self._spare = TrainingProcess(self.device)
            return self._spare

    def wait_ready(self) -> Ready | None:
        """Warm a spare and wait until it has imported torch (the app's preload)."""
        spare = self.warm()
        return spare.wait_ready() if spare else None

    def spare_failure(self) -> str:
        """Why the spare process ended before it was ready, from its last output line."""
        with self._lock:
            spare = self._spare
        if spare is None:
            return "no training process"
        last = next((line for line in reversed(spare.output) if line.strip()), "")
        return f"the training process {spare.ended_how()}" + (f": {last}" if last else "")

    def run(
        self,
        loaded: LoadedLesson,
        params: Mapping[str, Any] | None = None,
        *,
        sink: Sink | None = None,
        cancel: threading.Event | None = None,
        device: str = "auto",
        code_path: Path | None = None,
        threads: int | None = None,
        lang: str = "en",
    ) -> RunResult:
        """Like :func:`tutor.training.runner.run_lesson`, in the spare process."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the trainer is closed")
            proc = self._spare if self._spare and self._spare.proc.poll() is None else None
            self._spare = None
            proc = proc or TrainingProcess(self.device)
            self._busy.add(proc)
        request = RunRequest(loaded, dict(params or {}), device, code_path, threads, lang)
        try:
            return proc.run(request, sink or (lambda event: None), cancel or threading.Event())
        finally:
            with self._lock:
                self._busy.discard(proc)

    def sweep(
        self,
        loaded: LoadedLesson,
        params_list: list[dict[str, Any]],
        *,
        sink: SweepSink | None = None,
        cancel: threading.Event | None = None,
        device: str = "auto",
        threads: int | None = None,
        lang: str = "en",
    ) -> list[RunResult]:
        """Run the lesson once per ``params_list`` entry, one after another in the spare
        process (torch imported once); ``sink`` gets each event as ``SweepEvent(index, event)``.
        Stop ends the run in progress and skips the rest (the list is then shorter)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the trainer is closed")
            proc = self._spare if self._spare and self._spare.proc.poll() is None else None
            self._spare = None
            proc = proc or TrainingProcess(self.device)
            self._busy.add(proc)
        runs = [RunRequest(loaded, dict(p), device, None, threads, lang) for p in params_list]
        try:
            return proc.sweep(
                SweepRequest(runs), sink or (lambda event: None), cancel or threading.Event()
            )
        finally:
            with self._lock:
                self._busy.discard(proc)

    def close(self) -> None:
        """End the spare and any run still going (the app is exiting)."""
        with self._lock:
            self._closed = True
            procs = [p for p in (self._spare, *self._busy) if p is not None]
            self._spare = None
        for proc in procs:
            proc.close()


# -- the child's side --------------------------------------------------------------------


def _watch_parent(stdin: IO[bytes], cancel: threading.Event) -> None:
    """CANCEL bytes stop the run; end of file means the parent is gone: stop, then exit."""
    while True:
        data = stdin.read(1)
        if not data:
            break
        if data == CANCEL and not cancel.is_set():
            cancel.set()
            # Half the grace time: a lesson stuck between steps still sends what it reported.
            flush = threading.Timer(CANCEL_GRACE_SECONDS / 2, _flush_context)
            flush.daemon = True
            flush.start()
    cancel.set()
    time.sleep(ORPHAN_EXIT_SECONDS)  # the lesson had its chance to stop at a step
    os._exit(3)


def _flush_context() -> None:
    from tutor.training.context import RunContext

    if RunContext.latest is not None:
        RunContext.latest.flush_from_another_thread()


class _FrameSink:
    """The run's sink in the child: every event becomes a frame to the parent."""

    def __init__(self, stream: IO[bytes], cancel: threading.Event) -> None:
        self.stream = stream
        self.cancel = cancel
        self.broken = False
        self.lock = threading.Lock()  # Stop's flush writes from the watcher thread

    def __call__(self, event: object) -> None:
        if self.broken:
            return
        try:
            with self.lock:
                write_frame(self.stream, event)
        except (BrokenPipeError, OSError):  # the parent is gone: stop at the next step
            self.broken = True
            self.cancel.set()


def _output_ends_first(sink: _FrameSink, event: object) -> None:
    """A single run's sink: stdout and stderr end just before ``RunFinished``, so the parent,
    which waits for the last printed line before it shows the result, has it at once and not
    when this process has exited (tearing down ~1 GB takes ~50 ms, bench/perf.md)."""
    if isinstance(event, events.RunFinished):
        sys.stdout.flush()
        sys.stderr.flush()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
    sink(event)


def warm_up() -> None:
    """Import what nearly every run imports on first use, while the learner is still reading:
    torch.optim's optimizers import torch._dynamo when constructed (about 2 s on a 2-core
    machine, bench/perf.md). After Ready, so the app's start is not held up; on this thread,
    before the request is read, because a second thread importing beside lesson code could
    meet it in the import locks. A run asked for sooner waits here, as it would in its
    optimizer."""
    try:
        import torch._dynamo  # noqa: F401
    except Exception:  # noqa: BLE001 - the lesson's own import shows the error, if it needs it
        pass


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    frames = os.fdopen(int(args[0]), "wb")
    cancel = threading.Event()
    sink = _FrameSink(frames, cancel)
    try:
        import torch

        from tutor.lesson import schema  # noqa: F401 - the request's lesson unpickles into it (~0.2 s)
        from tutor.training import device as devices
        from tutor.training.runner import run_lesson

        try:
            device = devices.describe(devices.resolve(args[1] if len(args) > 1 else "auto"))
        except devices.DeviceUnavailable as e:  # the run will say so too, as a failed run
            device = f"{UNAVAILABLE}{e}"
        # Plain strings: unpickling a TorchVersion in the app would import torch there.
        sink(Ready(os.getpid(), str(torch.__version__), device))
        if os.environ.get(paths.ENV_NO_WARM_UP) != "1":
            warm_up()
        # The control pipe moves off fd 0, which becomes /dev/null: lesson code (and the
        # processes it starts) can never read, or steal, the parent's requests and CANCEL.
        stdin = os.fdopen(os.dup(0), "rb")
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        request = read_frame(stdin)
        if isinstance(request, SweepRequest):
            threading.Thread(target=_watch_parent, args=(stdin, cancel), daemon=True).start()
            for index, run in enumerate(request.runs):
                if cancel.is_set():
                    break
                run_lesson(
                    run.loaded,
                    run.params,
                    sink=partial(_tagged, sink, index),
                    cancel=cancel,
                    device=run.device,
                    threads=run.threads,
                    lang=run.lang,
                )
            sink(SweepDone())
            return 0
        if not isinstance(request, RunRequest):
            return 0  # the app closed without a run for us (a spare at exit)
        threading.Thread(target=_watch_parent, args=(stdin, cancel), daemon=True).start()
        run_lesson(
            request.loaded,
            request.params,
            sink=partial(_output_ends_first, sink),
            cancel=cancel,
            device=request.device,
            code_path=request.code_path,
            threads=request.threads,
            lang=request.lang,
        )
    except BaseException:  # noqa: BLE001 - reported to the parent, which shows it
        sink(WorkerCrashed(traceback.format_exc()))
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


if __name__ == "__main__":
    # Through the module's real name, so the frames' classes pickle as tutor.training.process.*;
    # os._exit skips interpreter teardown (torch's takes a while); everything is flushed.
    from tutor.training import process as worker

    os._exit(worker.main())
