"""Running one lesson: load its code, call its entry point, judge the outcome.

Plain Python with no Textual import: the CLI calls :func:`run_lesson` directly
and the app calls it from a thread worker. Whatever the lesson code does, the
caller gets a :class:`RunResult` (completed, cancelled, diverged or failed);
nothing raises out of here.
"""

from __future__ import annotations

import dataclasses
import gc
import io
import random
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from tutor import events, paths, quiz
from tutor.events import CheckResult, RunResult, Sink, Status
from tutor.lesson.catalog import LoadedLesson
from tutor.lesson.codefile import read_source

# resolve_params is part of the lesson format now; re-exported for the front ends' imports.
from tutor.lesson.params import resolve_params as resolve_params
from tutor.text import inert
from tutor.training.context import Diverged, RunCancelled, RunContext
from tutor.training.data import DatasetUnavailable
from tutor.training.device import DeviceUnavailable

DIVERGED_HINT = "The loss became NaN or infinite: lower the learning rate (lr) and run again."


EXIT_HINT = "Lesson code ends by returning from its function, not with exit() or sys.exit()."
BASE_EXCEPTION_HINT = "Lesson code raised an exception meant to stop Python; Stop ends a run."
NO_INPUT = "lesson code cannot read input: a run has no keyboard (use hyperparameters instead)"


class NoInput(io.TextIOBase):
    """``sys.stdin`` while lesson code runs: reading fails at once with a clear message,
    instead of waiting on the terminal (CLI) or reading the training child's control pipe."""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        raise EOFError(NO_INPUT)

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        raise EOFError(NO_INPUT)

    def fileno(self) -> int:  # input() asks; no descriptor means "not a terminal"
        raise io.UnsupportedOperation(NO_INPUT)


@contextmanager
def no_input() -> Iterator[None]:
    previous, sys.stdin = sys.stdin, NoInput()
    try:
        yield
    finally:
        if isinstance(sys.stdin, NoInput):  # exit() closes sys.stdin; ours, so nothing lost
            sys.stdin = previous


def _from_front_end(exc: BaseException) -> bool:
    """True for a KeyboardInterrupt/SystemExit raised by a front end's signal handler (its
    frame is the innermost one, inside tutor/), not by lesson code."""
    if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    tutor_dir = Path(__file__).resolve().parents[1]
    return Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(tutor_dir)


class RunRefused(RuntimeError):
    """A second run was asked for while one is still going."""


def load_module(code_path: Path, lesson_id: str) -> ModuleType:
    """Execute the lesson's Python file as a fresh module (the same file the app shows).

    Compiled from the file's current text, never from a cached ``.pyc``: a learner who
    saves an exercise twice within a second must still run what they just wrote.
    """
    module_name = f"dl_tutor_lesson_{lesson_id.replace('-', '_')}"
    source = read_source(code_path)  # a regular file of at most 1 MiB: a FIFO never hangs a run
    module = ModuleType(module_name)
    module.__file__ = str(code_path)
    # Registered so pickling, dataclasses and DataLoader workers can find the module.
    sys.modules[module_name] = module
    exec(compile(source, str(code_path), "exec"), module.__dict__)  # noqa: S102 - lesson code
    return module


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def trim_traceback(exc: BaseException, code_path: Path) -> str:
    """The traceback reduced to frames in the lesson's own file (all frames if none are)."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if Path(f.filename) == code_path]
    lines = ["Traceback (lesson code, most recent call last):\n"]
    lines += traceback.format_list(own or frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return inert("".join(lines).rstrip())  # the message is the lesson's text


def _failure_hint(exc: BaseException) -> str | None:
    text = f"{type(exc).__name__}: {exc}"
    if "out of memory" in text.lower() and ("cuda" in text.lower() or "OutOfMemory" in text):
        return "The GPU ran out of memory: lower batch_size, or run on the CPU (--device cpu)."
    return None


def run_lesson(
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
    """Run a lesson to its end and return what happened. Never raises for lesson errors.

    ``params`` are already-checked values (see :func:`tutor.lesson.params.resolve_params`);
    missing ones take their defaults. ``code_path`` swaps in another implementation of the code
    (a learner's exercise copy); by default the lesson's own file runs.
    """
    with collector_past_imports():
        return _run_lesson(loaded, params, sink, cancel, device, code_path, threads, lang)


@contextmanager
def collector_past_imports() -> Iterator[None]:
    """Keep what exists before the run (torch's modules, ~300,000 objects) out of the garbage
    collector's sight while it runs: a full collection scans them all (0.3 s on a 2-core
    machine, once in a 2-epoch softmax run from the CLI; bench/perf.md), and a run's garbage
    never includes them. Collectable again afterwards; left alone if someone froze first (the
    app)."""
    if gc.get_freeze_count():
        yield
        return
    gc.collect(1)  # the young generations first, so little garbage is kept out of sight
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _run_lesson(
    loaded: LoadedLesson,
    params: Mapping[str, Any] | None,
    sink: Sink | None,
    cancel: threading.Event | None,
    device: str,
    code_path: Path | None,
    threads: int | None,
    lang: str,
) -> RunResult:
    emit: Sink = sink or (lambda event: None)
    code_path = (code_path or loaded.code_path).resolve()
    values = {**loaded.lesson.defaults(), **(params or {})}
    seed = values.get("seed")
    start = time.perf_counter()
    device_name = device
    ctx: RunContext | None = None
    status: Status = "completed"
    error: str | None = None
    hint: str | None = None
    try:
        from tutor.training import device as devices

        torch_device = devices.resolve(device)
        devices.prepare(torch_device)
        device_name = str(torch_device)
        if threads:
            import torch

            torch.set_num_threads(threads)
        epochs = values.get("epochs")
        emit(
            events.RunStarted(
                loaded.id,
                dict(values),
                seed,
                device_name,
                epochs if isinstance(epochs, int) else None,
            )
        )
        if isinstance(seed, int):
            seed_everything(seed)
        ctx = RunContext(
            values, torch_device, emit, cancel, cache_dir=paths.cache_dir() / "lessons" / loaded.id
        )
        with no_input():
            module = load_module(code_path, loaded.id)
            entry = getattr(module, loaded.lesson.entry, None)
            if not callable(entry):
                raise AttributeError(f"{code_path.name} has no function {loaded.lesson.entry}()")
            entry(ctx)
    except RunCancelled:
        status = "cancelled"
    except Diverged as e:
        status, error, hint = "diverged", str(e), DIVERGED_HINT
    except OverflowError as e:  # plain-Python floats overflow instead of becoming inf
        status, error, hint = "diverged", f"numbers overflowed: {e}", DIVERGED_HINT
    except (DatasetUnavailable, DeviceUnavailable) as e:  # not the lesson's fault: one line
        status, error = "failed", str(e)
    except Exception as e:  # lesson code can raise anything; the caller must live on
        status, error, hint = "failed", trim_traceback(e, code_path), _failure_hint(e)
    except BaseException as e:  # sys.exit(), exit(), KeyboardInterrupt, BaseException
        if _from_front_end(e):
            raise  # the CLI's second Ctrl+C or signal: the learner wants to quit now
        status, error = "failed", trim_traceback(e, code_path)
        hint = EXIT_HINT if isinstance(e, SystemExit) else BASE_EXCEPTION_HINT
    if ctx is not None:
        status, error, hint = _flush(ctx, status, error, hint)
    result = _result(loaded, ctx, values, seed, device_name, status, error, hint, start, lang)
    emit(events.RunFinished(result))
    return result


def _flush(
    ctx: RunContext, status: Status, error: str | None, hint: str | None
) -> tuple[Status, str | None, str | None]:
    """Send points still buffered, whatever the outcome: what ran is kept and shown."""
    try:
        ctx.finish()
    except Diverged as e:  # a NaN in the last buffered steps
        if status == "completed":
            return "diverged", str(e), DIVERGED_HINT
    return status, error, hint


def default_dataset(loaded: LoadedLesson, lang: str) -> str:
    """The dataset a run names until the lesson code says (``ctx.data``, ``use_dataset``)."""
    return (
        loaded.lesson.dataset.get(lang) if loaded.lesson.dataset else "generated in the lesson code"
    )


def _result(
    loaded: LoadedLesson,
    ctx: RunContext | None,
    values: dict[str, Any],
    seed: Any,
    device_name: str,
    status: Status,
    error: str | None,
    hint: str | None,
    start: float,
    lang: str,
) -> RunResult:
    result = RunResult(
        lesson_id=loaded.id,
        status=status,
        params=values,
        seed=seed if isinstance(seed, int) else None,
        device=device_name,
        dataset=(ctx.dataset if ctx and ctx.dataset else default_dataset(loaded, lang)),
        seconds=time.perf_counter() - start,
        metrics=dict(ctx.metrics) if ctx else {},
        history={k: list(v) for k, v in ctx.history.items()} if ctx else {},
        records=dict(ctx.records) if ctx else {},
        checks=[],
        error=error,
        hint=hint,
        logs=list(ctx.logs) if ctx else [],
    )
    if status != "completed":
        return result
    run_values = quiz.run_values(result)
    checks: list[CheckResult] = quiz.evaluate_checks(list(loaded.lesson.checks), run_values, lang)
    missing = _missing_quiz_values(loaded, run_values)
    logs = result.logs + [
        f"quiz question {qid!r} needs {name!r}, which this run did not record"
        for qid, name in missing
    ]
    return dataclasses.replace(result, checks=checks, logs=logs)


def _missing_quiz_values(loaded: LoadedLesson, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(q.id, n) for q in loaded.lesson.quiz for n in sorted(q.names()) if n not in values]
