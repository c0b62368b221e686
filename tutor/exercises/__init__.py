"""Exercises: functions of a lesson's code that the learner writes, checked against the lesson.

A lesson lists ``exercises:`` (see :class:`tutor.lesson.schema.Exercise` and docs/exercises.md).
The learner's copy of the code lives in the user workspace
(``paths.data_dir() / "workspace" / <lesson id> / <code file name>``) and starts with each
target's body replaced by a TODO that raises ``NotImplementedError``. The lesson's own file is
the reference and is never written to.

:func:`check_exercises` calls the learner's function and the reference on the same generated
inputs (the *case spec* language below) and compares what they return and what they leave in
their arguments. Learner code runs in a subprocess (``python -m tutor.exercises``, one JSON
object per line on stdout), so an infinite loop or a crash cannot hang or kill the caller.

Plain Python: no Textual, and torch is imported only in the checking subprocess (or by
:func:`check_in_process`). Importing this module is cheap; the schema uses
:func:`parse_spec` to validate case specs when a lesson loads.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import io
import json
import math
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, TextIO

from tutor import paths

# The case-spec language and the static reads of lesson code belong to the lesson format;
# re-exported here, where callers have always found them.
from tutor.lesson.source import exercise_problems as exercise_problems
from tutor.lesson.source import find_exercise as find_exercise
from tutor.lesson.source import find_target as find_target
from tutor.lesson.source import solution as solution
from tutor.lesson.source import starter_code as starter_code
from tutor.lesson.spec import SpecError as SpecError
from tutor.lesson.spec import build_arg as build_arg
from tutor.lesson.spec import parse_spec as parse_spec
from tutor.lesson.spec import spec_text as spec_text

if TYPE_CHECKING:
    from tutor.lesson.loader import LoadedLesson
    from tutor.lesson.schema import Exercise

Status = Literal["passed", "failed", "error", "not-attempted"]
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "not-attempted")

DEFAULT_TIMEOUT = 30.0  # seconds per exercise (and for importing the learner's file)
# Starting the checker (Python, torch, the lesson's own code) is not the learner's doing and
# takes a few seconds on a busy machine; it gets its own, generous limit.
STARTUP_TIMEOUT = 120.0
MAX_GENERATOR_ITEMS = 100_000  # a generator that yields more is treated as endless
STDERR_TAIL_LINES = 15


# ============================================================================ results


@dataclass(frozen=True)
class ExerciseResult:
    """The outcome of checking one exercise.

    ``line`` is a line of the learner's file worth looking at: where an exception was raised,
    the TODO still raising, or the function's ``def`` when the result was wrong.
    """

    name: str
    status: Status
    message: str
    line: int | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "line": self.line,
        }


# ============================================================================ workspace


def workspace_file(loaded: LoadedLesson) -> Path:
    """Where the learner's copy of the lesson's code lives (it may not exist yet)."""
    return paths.data_dir() / "workspace" / loaded.id / loaded.code_path.name


def _write_atomically(path: Path, text: str) -> None:
    # A crash mid-write must not leave the learner with half a file; editors watching the
    # file see one change.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def ensure_workspace(loaded: LoadedLesson) -> Path:
    """The learner's file, created from :func:`starter_code` if it does not exist yet."""
    path = workspace_file(loaded)
    if not path.exists():
        _write_atomically(path, starter_code(loaded))
    return path


def save_workspace(loaded: LoadedLesson, text: str) -> Path:
    """Write the learner's file (the app's editor saves here); atomically, like the others."""
    path = workspace_file(loaded)
    _write_atomically(path, text)
    return path


def reset_workspace(loaded: LoadedLesson) -> Path:
    """Put the starter back. The previous file, if it differs, is kept as ``<name>.bak``."""
    path = workspace_file(loaded)
    starter = starter_code(loaded)
    if path.exists():
        old = path.read_text(encoding="utf-8", errors="replace")
        if old != starter:
            _write_atomically(path.with_name(path.name + ".bak"), old)
    _write_atomically(path, starter)
    return path


def watch_changes(
    path: Path,
    *,
    interval: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Yield once each time ``path`` is saved; runs until the caller stops iterating.

    Uses the ``watchfiles`` package when it is installed, else polls the file's size and
    mtime every ``interval`` seconds. The directory is watched, not the file, because many
    editors save by writing a new file and renaming it over the old one.
    """
    try:
        import watchfiles  # type: ignore[import-not-found]
    except ImportError:
        watchfiles = None
    if watchfiles is not None and sleep is time.sleep:
        target = path.resolve()
        for changes in watchfiles.watch(target.parent):
            if any(Path(p).resolve() == target for _, p in changes) and target.exists():
                yield
        return
    last = _stat_key(path)
    while True:
        sleep(interval)
        now = _stat_key(path)
        if now is not None and now != last:  # missing: mid-save (renamed away); wait
            last = now
            yield


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


# ============================================================================ checking (parent)


def check_exercises(
    loaded: LoadedLesson,
    learner_path: Path | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    names: Iterable[str] | None = None,
) -> list[ExerciseResult]:
    """Check the learner's implementations (default: the workspace file, created if missing).

    One result per exercise (or per name in ``names``), in the lesson's order. Learner code
    runs in a subprocess; an exercise that runs longer than ``timeout`` seconds is an
    ``error`` and the others are still checked (in a fresh process).
    """
    wanted = set(names) if names is not None else None
    exercises = [e for e in loaded.lesson.exercises if wanted is None or e.name in wanted]
    if not exercises:
        return []
    path = Path(learner_path) if learner_path is not None else ensure_workspace(loaded)
    if not path.is_file():
        return [ExerciseResult(e.name, "error", f"{path} does not exist") for e in exercises]
    targets = {e.name: e.target for e in exercises}
    results: dict[str, ExerciseResult] = {}
    pending = [e.name for e in exercises]
    while pending:
        got = _run_checker(loaded, path, pending, targets, timeout)
        results.update(got)
        left = [n for n in pending if n not in results]
        if len(left) == len(pending):  # no progress: never loop forever
            for n in left:
                results[n] = ExerciseResult(n, "error", "the checker stopped without a result")
            break
        pending = left
    return [results[e.name] for e in exercises]


def _checker_env() -> dict[str, str]:
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env.setdefault("OMP_NUM_THREADS", "1")  # tiny tensors: threads only cost start-up time
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _run_checker(
    loaded: LoadedLesson,
    path: Path,
    names: list[str],
    targets: dict[str, str],
    timeout: float,
) -> dict[str, ExerciseResult]:
    """One checker subprocess for ``names``. Returns the results it produced; if it hung or
    died, the exercise it was on gets an error, and the ones it never reached are missing
    (the caller starts another process for them). Hanging before any exercise started is an
    error for all of them."""
    cmd = [
        sys.executable,
        "-m",
        "tutor.exercises",
        "--lesson",
        str(loaded.path),
        "--learner",
        str(path.resolve()),
        "--only",
        ",".join(names),
    ]
    results: dict[str, ExerciseResult] = {}
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=_checker_env(),
            cwd=str(path.parent),
            # Its own process group: a Ctrl+C in the terminal stops us, and we stop it and
            # anything learner code started (DataLoader workers) in one kill.
            start_new_session=os.name == "posix",
        )
        lines: queue.Queue[bytes | None] = queue.Queue()
        reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
        reader.start()
        phase, current = "startup", None
        deadline = time.monotonic() + max(STARTUP_TIMEOUT, timeout)
        try:
            while True:
                try:
                    raw = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    _timed_out(results, names, phase, current, targets, timeout)
                    break
                if raw is None:  # the process ended
                    code = proc.wait()
                    _died(results, names, phase, current, code, _tail(stderr))
                    break
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue  # not ours (a stray write to the real stdout fd)
                kind = event.get("event")
                if kind == "ready":
                    phase, deadline = "import", time.monotonic() + timeout
                elif kind == "start":
                    phase, current = "exercise", event["name"]
                    deadline = time.monotonic() + timeout
                elif kind == "result":
                    result = ExerciseResult(
                        event["name"], event["status"], event["message"], event.get("line")
                    )
                    results[result.name] = result
                    phase, current = "between", None
                    deadline = time.monotonic() + timeout
                elif kind == "done":
                    break
        finally:
            _stop(proc)
            # EOF reaches the reader once the process is gone; close the pipe only after it
            # stopped reading.
            reader.join(timeout=5)
            if proc.stdout is not None and not reader.is_alive():
                proc.stdout.close()
    return results


def _pump(stream: Any, lines: queue.Queue[bytes | None]) -> None:
    try:
        for raw in iter(stream.readline, b""):
            lines.put(raw)
    finally:
        lines.put(None)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except (ProcessLookupError, PermissionError):
            proc.kill()
    proc.wait()


def _tail(stderr: Any) -> str:
    stderr.seek(0)
    text = stderr.read().decode("utf-8", errors="replace")
    return "\n".join(text.rstrip().splitlines()[-STDERR_TAIL_LINES:])


def _timed_out(
    results: dict[str, ExerciseResult],
    names: list[str],
    phase: str,
    current: str | None,
    targets: dict[str, str],
    timeout: float,
) -> None:
    if phase == "exercise" and current is not None:
        message = (
            f"{targets.get(current, current)} took longer than {timeout:g} s (an infinite loop?)"
        )
        results[current] = ExerciseResult(current, "error", message)
        return
    if phase == "startup":
        message = f"the checker did not start within {max(STARTUP_TIMEOUT, timeout):g} s"
    elif phase == "import":
        message = (
            f"importing your file took longer than {timeout:g} s "
            "(an infinite loop outside the functions?)"
        )
    else:
        message = f"the checker stopped answering for {timeout:g} s"
    for name in names:
        results.setdefault(name, ExerciseResult(name, "error", message))


def _died(
    results: dict[str, ExerciseResult],
    names: list[str],
    phase: str,
    current: str | None,
    code: int,
    stderr_tail: str,
) -> None:
    if all(n in results for n in names):
        return  # finished everything, then exited (no "done" line): nothing is lost
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    detail = f"\n{stderr_tail}" if stderr_tail else ""
    if phase == "exercise" and current is not None:
        results[current] = ExerciseResult(
            current, "error", f"the check process {how} while running {current}{detail}"
        )
        return
    for name in names:
        results.setdefault(name, ExerciseResult(name, "error", f"the check process {how}{detail}"))


# ============================================================================ checking (child)

_module_ids = count()


def _load_source(path: Path, name: str) -> ModuleType:
    """Execute a Python file as a new module, from its text (never a cached .pyc: a learner
    may save twice within a second with the same size, which .pyc validation cannot see)."""
    source = path.read_text(encoding="utf-8")
    code = compile(source, str(path), "exec")
    spec = importlib.util.spec_from_loader(name, loader=None, origin=str(path))
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(path)
    # Registered so pickling, dataclasses and inspect can find the module.
    sys.modules[name] = module
    exec(code, module.__dict__)
    return module


def _seed_all(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@dataclass
class _Checker:
    """Checks exercises of one lesson: reference module against learner module."""

    reference: ModuleType
    learner: ModuleType
    learner_path: Path

    def run(self, exercise: Exercise) -> ExerciseResult:
        try:
            return self._run(exercise)
        except _Outcome as outcome:
            return outcome.result

    # -- one exercise ------------------------------------------------------------------

    def _run(self, ex: Exercise) -> ExerciseResult:
        import torch

        ref_owner, ref_func = _resolve(self.reference, ex.target)
        if ref_func is None:
            return ExerciseResult(ex.name, "error", f"the lesson's code has no {ex.target}")
        owner, func = _resolve(self.learner, ex.target)
        if func is None:
            what = (
                f"class {ex.target.split('.')[0]}" if ex.is_method and owner is None else ex.target
            )
            return ExerciseResult(
                ex.name,
                "error",
                f"your file has no {what}: did you rename or delete it? "
                "(`dl-tutor exercise ID --reset` brings the starter back)",
            )
        def_line = _first_line(func)
        param_names = _param_names(ref_func, skip_self=ex.is_method)
        for index, case in enumerate(ex.cases):
            seed = ex.seed + index
            call = _call_text(ex, case, param_names)

            # The reference first: its result is what we expect.
            ref_self, ref_args = self._inputs(ex, case, seed, ref_owner)
            try:
                _seed_all(seed)
                expected = _drain(_invoke(ref_func, ref_self, ref_args))
            except Exception as e:
                raise _Outcome(
                    ExerciseResult(
                        ex.name,
                        "error",
                        f"the lesson's own {ex.target} raised {_exc_text(e)} on {call}: "
                        "a bug in the lesson, please report it",
                    )
                ) from None

            mine_self, mine_args = self._inputs(ex, case, seed, owner, learner=True, call=call)
            got = self._call_learner(ex, func, mine_self, mine_args, seed, call)

            problem = _compare_result(expected, got, ex)
            if problem is None:
                _, pristine = self._inputs(ex, case, seed, ref_owner)
                problem = _compare_args(ref_args, mine_args, pristine, param_names, ex)
            if problem is None and ref_self is not None and isinstance(ref_self, torch.nn.Module):
                problem = _compare_module(ref_self, mine_self, ex)
            if problem is None and ex.order == "any" and isinstance(expected, _Drained):
                problem = self._shuffle_problem(
                    ex, (ref_owner, ref_func), (owner, func), case, seed, expected, got
                )
            if problem is not None:
                return ExerciseResult(ex.name, "failed", f"{call} {problem}", def_line)
        n = len(ex.cases)
        return ExerciseResult(
            ex.name, "passed", f"{n} case{'s' if n != 1 else ''} passed", def_line
        )

    def _inputs(
        self,
        ex: Exercise,
        case: Sequence[Any],
        seed: int,
        owner: type | None,
        *,
        learner: bool = False,
        call: str = "",
    ) -> tuple[Any, list[Any]]:
        """Fresh arguments (and, for a method, a fresh instance), the same for the same seed."""
        import torch

        instance = None
        if ex.is_method:
            generator = torch.Generator().manual_seed(seed)
            init_args = [build_arg(v, generator) for v in ex.init]
            _seed_all(seed)  # the constructor's own random weights: equal for both sides
            try:
                instance = owner(*init_args)  # type: ignore[misc]
            except Exception as e:
                if not learner:
                    raise
                raise _Outcome(
                    self._error(ex, e, f"creating {owner.__name__}(...) for {call}")
                ) from None
        generator = torch.Generator().manual_seed(seed)
        return instance, [build_arg(v, generator) for v in case]

    def _call_learner(
        self,
        ex: Exercise,
        func: Callable[..., Any],
        instance: Any,
        args: list[Any],
        seed: int,
        call: str,
    ) -> Any:
        try:
            with _quiet():
                _seed_all(seed)
                return _drain(_invoke(func, instance, args))
        except NotImplementedError as e:
            line = _learner_line(e, self.learner_path)
            if _raised_in(e, self.learner_path, ex.target.split(".")[-1]):
                where = f" (line {line})" if line else ""
                raise _Outcome(
                    ExerciseResult(
                        ex.name,
                        "not-attempted",
                        f"not written yet: replace the TODO in {ex.target}{where}",
                        line,
                    )
                ) from None
            raise _Outcome(self._error(ex, e, call)) from None
        except _TooMany:
            raise _Outcome(
                ExerciseResult(
                    ex.name,
                    "failed",
                    f"{call} yielded more than {MAX_GENERATOR_ITEMS:,} items: does it ever stop?",
                    _first_line(func),
                )
            ) from None
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # SystemExit too: exit() in learner code is an error
            raise _Outcome(self._error(ex, e, call)) from None

    def _error(self, ex: Exercise, exc: BaseException, call: str) -> ExerciseResult:
        line = _learner_line(exc, self.learner_path)
        where = ""
        if line is not None:
            code = _source_line(self.learner_path, line)
            where = f"\n  line {line}: {code}" if code else f" (line {line})"
        return ExerciseResult(ex.name, "error", f"{call} raised {_exc_text(exc)}{where}", line)

    def _shuffle_problem(
        self,
        ex: Exercise,
        ref: tuple[type | None, Callable[..., Any]],
        mine: tuple[type | None, Callable[..., Any]],
        case: Sequence[Any],
        seed: int,
        expected: Any,
        got: Any,
    ) -> str | None:
        """With ``order: any``, a generator that shuffles must still shuffle: when the
        reference's order changes with the random seed, the learner's must change too."""
        other = seed + 7919
        ref_self, ref_args = self._inputs(ex, case, seed, ref[0])
        _seed_all(other)
        if _same_sequence(expected, _drain(_invoke(ref[1], ref_self, ref_args))):
            return None  # the reference does not shuffle either
        mine_self, mine_args = self._inputs(ex, case, seed, mine[0], learner=True)
        try:
            with _quiet():
                _seed_all(other)
                again = _drain(_invoke(mine[1], mine_self, mine_args))
        except Exception:
            return None  # it worked once; a second failure is not what this looks for
        if _same_sequence(got, again):
            return (
                "yields the rows in the same order whatever the random seed: "
                "did you forget to shuffle?"
            )
        return None


class _Outcome(Exception):  # noqa: N818 - control flow, not an error
    """Ends the check of one exercise with ``result``."""

    def __init__(self, result: ExerciseResult) -> None:
        super().__init__(result.message)
        self.result = result


class _TooMany(Exception):  # noqa: N818
    pass


class _Drained(list):  # type: ignore[type-arg]
    """The items a generator (any iterator) yielded, so it can be compared as a list."""


def _drain(value: Any) -> Any:
    """Run a generator to its end (inside the seeded call, where its randomness happens)."""
    if isinstance(value, Iterator):
        items = _Drained()
        for item in value:
            items.append(item)
            if len(items) > MAX_GENERATOR_ITEMS:
                raise _TooMany
        return items
    return value


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # print() in learner code must not reach the caller's stdout; stderr is the log.
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _invoke(func: Callable[..., Any], instance: Any, args: list[Any]) -> Any:
    if instance is not None:
        return getattr(instance, func.__name__)(*args)
    return func(*args)


def _resolve(module: ModuleType, target: str) -> tuple[type | None, Callable[..., Any] | None]:
    if "." in target:
        class_name, method = target.split(".", 1)
        owner = getattr(module, class_name, None)
        if not isinstance(owner, type):
            return None, None
        func = inspect.getattr_static(owner, method, None)
        return owner, func if callable(func) else None
    func = getattr(module, target, None)
    return None, func if callable(func) else None


def _first_line(func: Callable[..., Any]) -> int | None:
    code = getattr(func, "__code__", None)
    return code.co_firstlineno if code is not None else None


def _param_names(func: Callable[..., Any], *, skip_self: bool) -> list[str]:
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return []
    if skip_self:
        params = params[1:]
    out = []
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            break
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            out.append(p.name)
    return out


def _call_text(ex: Exercise, case: Sequence[Any], names: Sequence[str]) -> str:
    args = ", ".join(
        f"{names[i]}={spec_text(v)}" if i < len(names) else spec_text(v) for i, v in enumerate(case)
    )
    if ex.is_method:
        class_name, method = ex.target.split(".", 1)
        init = ", ".join(spec_text(v) for v in ex.init)
        return f"{class_name}({init}).{method}({args})"
    return f"{ex.target}({args})"


def _same_file(filename: str, path: Path) -> bool:
    try:
        return Path(filename).resolve() == path.resolve()
    except OSError:
        return False


def _learner_frames(exc: BaseException, path: Path) -> list[traceback.FrameSummary]:
    return [f for f in traceback.extract_tb(exc.__traceback__) if _same_file(f.filename, path)]


def _learner_line(exc: BaseException, path: Path) -> int | None:
    own = _learner_frames(exc, path)
    if own:
        return own[-1].lineno
    if isinstance(exc, SyntaxError) and exc.filename and _same_file(exc.filename, path):
        return exc.lineno
    return None


def _raised_in(exc: BaseException, path: Path, function: str) -> bool:
    own = _learner_frames(exc, path)
    return bool(own) and own[-1].name == function


def _source_line(path: Path, line: int) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _exc_text(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc.msg}"
    text = str(exc).strip()
    # Keep messages short: torch's can run to many lines.
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


# -- comparing -----------------------------------------------------------------------------


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _shape(t: Any) -> str:
    dims = tuple(int(d) for d in t.shape)
    return str(dims)


def _num(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if _is_tensor(value):
        dtype = str(value.dtype).removeprefix("torch.")
        if value.dim() == 0:
            return f"a tensor {_num(value.item())} ({dtype})"
        return f"a tensor of shape {_shape(value)} ({dtype})"
    if isinstance(value, _Drained):
        return f"a generator of {len(value)} items"
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, float)):
        return f"{type(value).__name__} {_num(value)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(map(str, value))}"
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def _compare_result(expected: Any, got: Any, ex: Exercise) -> str | None:
    if expected is None:
        # A function that works by changing its arguments (sgd): its arguments are compared;
        # returning something as well does no harm.
        return None
    if got is None:
        return f"returned None; expected {_describe(expected)}. Did you forget to `return`?"
    if isinstance(expected, _Drained):
        if not isinstance(got, _Drained):
            return f"returned {_describe(got)}; expected a generator (use `yield`)"
        if ex.order == "any":
            return _compare_rows(expected, got, ex)
        if len(got) != len(expected):
            return f"yielded {len(got)} items; expected {len(expected)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = _compare(e, g, f"item {i}", ex)
            if problem:
                return f"yielded wrong items: {problem.removeprefix('gave ')}"
        return None
    return _compare(expected, got, "the result", ex, top=True)


def _compare(expected: Any, got: Any, where: str, ex: Exercise, *, top: bool = False) -> str | None:
    """None if ``got`` matches ``expected``; otherwise what differs, for the learner."""
    said = "returned" if top else f"gave {where} ="
    if _is_tensor(expected):
        if not _is_tensor(got):
            extra = " (a Python number; keep it a tensor)" if isinstance(got, (int, float)) else ""
            return f"{said} {_describe(got)}{extra}; expected {_describe(expected)}"
        return _compare_tensors(expected, got, where, ex, top=top)
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"{said} {_describe(got)}; expected {_describe(expected)}"
        if len(got) != len(expected):
            return f"{said} {len(got)} items; expected {len(expected)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = _compare(e, g, f"{where}[{i}]", ex)
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"{said} {_describe(got)}; expected {_describe(expected)}"
        for key in expected:
            problem = _compare(expected[key], got[key], f"{where}[{key!r}]", ex)
            if problem:
                return problem
        return None
    if isinstance(expected, bool) or isinstance(got, bool):
        return None if got == expected else f"{said} {got!r}; expected {expected!r}"
    if isinstance(expected, (int, float)):
        if _is_tensor(got) and got.numel() == 1:
            return (
                f"{said} {_describe(got)}; expected a Python number {_num(expected)} (use .item())"
            )
        if not isinstance(got, (int, float)):
            return f"{said} {_describe(got)}; expected {_describe(expected)}"
        if math.isclose(got, expected, rel_tol=ex.tolerance, abs_tol=ex.tolerance) or (
            math.isnan(got) and math.isnan(expected)
        ):
            return None
        return f"{said} {_num(got)}; expected {_num(expected)}"
    try:
        same = bool(got == expected)
    except Exception:
        same = False
    return None if same else f"{said} {_describe(got)}; expected {_describe(expected)}"


def _compare_tensors(expected: Any, got: Any, where: str, ex: Exercise, *, top: bool) -> str | None:
    import torch

    said = "returned" if top else f"gave {where} ="
    if tuple(got.shape) != tuple(expected.shape):
        return f"{said} a tensor of shape {_shape(got)}; expected shape {_shape(expected)}"
    if ex.check_dtype and got.dtype != expected.dtype:
        e_type = str(expected.dtype).removeprefix("torch.")
        g_type = str(got.dtype).removeprefix("torch.")
        return f"{said} a tensor of dtype {g_type}; expected {e_type}"
    e = expected.detach().cpu()
    g = got.detach().cpu()
    exact = not (e.is_floating_point() or e.is_complex() or g.is_floating_point())
    if exact:
        close = g.to(e.dtype) == e if g.dtype != e.dtype else g == e
    else:
        close = torch.isclose(
            g.double(), e.double(), rtol=ex.tolerance, atol=ex.tolerance, equal_nan=True
        )
    bad = ~close
    wrong = int(bad.sum())
    if wrong == 0:
        return None
    prefix = "returned wrong values" if top else f"gave wrong values in {where}"
    if e.dim() == 0:
        return f"{said} {_num(g.item())}; expected {_num(e.item())}"
    index = tuple(int(i) for i in bad.nonzero()[0])
    at = "[" + ", ".join(map(str, index)) + "]"
    expected_value, got_value = e[index].item(), g[index].item()
    text = (
        f"{prefix}: {wrong} of {e.numel()} differ; at {at} expected {_num(expected_value)}, "
        f"got {_num(got_value)}"
    )
    if (
        isinstance(got_value, float)
        and not math.isfinite(got_value)
        and math.isfinite(expected_value)
    ):
        text += " (an overflow? exp() of a large number is inf)"
    elif not exact:
        text += f" (tolerance {ex.tolerance:g})"
    return text


def _rows(items: Sequence[Any]) -> tuple[Any, list[int]] | str:
    """All yielded rows as one (N, D) float64 tensor (every component of an item flattened per
    row and placed side by side, so rows of X stay paired with their labels), and the item
    sizes. A string says why the items cannot be read as rows."""
    import torch

    blocks, sizes = [], []
    for i, item in enumerate(items):
        parts = item if isinstance(item, (list, tuple)) else (item,)
        if not parts or not all(_is_tensor(p) and p.dim() >= 1 for p in parts):
            return f"item {i} is {_describe(item)}, not a batch of tensors"
        n = len(parts[0])
        if any(len(p) != n for p in parts):
            return f"item {i} holds tensors with different numbers of rows"
        blocks.append(torch.cat([p.detach().cpu().reshape(n, -1).double() for p in parts], dim=1))
        sizes.append(n)
    if not blocks:
        return torch.zeros(0, 0, dtype=torch.float64), sizes
    widths = {b.shape[1] for b in blocks}
    if len(widths) != 1:
        return "items have different shapes"
    return torch.cat(blocks), sizes


def _sorted_rows(rows: Any) -> Any:
    import torch

    ordered = sorted(rows.tolist())
    return torch.tensor(ordered, dtype=torch.float64) if ordered else rows


def _compare_rows(expected: _Drained, got: _Drained, ex: Exercise) -> str | None:
    """``order: any``: the same items in number and structure, and the same rows overall."""
    import torch

    if len(got) != len(expected):
        return f"yielded {len(got)} items; expected {len(expected)}"
    for i, (e, g) in enumerate(zip(expected, got)):
        e_parts = e if isinstance(e, (list, tuple)) else (e,)
        g_parts = g if isinstance(g, (list, tuple)) else (g,)
        if len(g_parts) != len(e_parts):
            return f"yielded item {i} = {_describe(g)}; expected {_describe(e)}"
        for j, (ep, gp) in enumerate(zip(e_parts, g_parts)):
            if not _is_tensor(gp):
                return f"yielded item {i}[{j}] = {_describe(gp)}; expected {_describe(ep)}"
            if tuple(gp.shape) != tuple(ep.shape):
                sizes = ", ".join(str(_batch_size(x)) for x in expected)
                return (
                    f"yielded item {i}[{j}] of shape {_shape(gp)}; expected {_shape(ep)} "
                    f"(the batch sizes, in order: {sizes})"
                )
            if ex.check_dtype and gp.dtype != ep.dtype:
                return f"yielded item {i}[{j}] of dtype {gp.dtype}; expected {ep.dtype}"
    e_rows, g_rows = _rows(expected), _rows(got)
    if isinstance(g_rows, str):
        return f"yielded items that are not batches: {g_rows}"
    if isinstance(e_rows, str):
        return None  # the reference's items are not rows: nothing more to compare
    e_sorted, g_sorted = _sorted_rows(e_rows[0]), _sorted_rows(g_rows[0])
    if not torch.allclose(g_sorted, e_sorted, rtol=ex.tolerance, atol=ex.tolerance, equal_nan=True):
        return (
            "yielded different rows: every input row must appear exactly once, "
            "with its features and label kept together"
        )
    return None


def _batch_size(item: Any) -> int:
    first = item[0] if isinstance(item, (list, tuple)) and item else item
    return len(first) if _is_tensor(first) and first.dim() else 1


def _same_sequence(a: Any, b: Any) -> bool:
    import torch

    if not isinstance(a, _Drained) or not isinstance(b, _Drained) or len(a) != len(b):
        return False
    rows_a, rows_b = _rows(a), _rows(b)
    if isinstance(rows_a, str) or isinstance(rows_b, str):
        return False
    return bool(torch.equal(rows_a[0], rows_b[0]))


def _tensors_in(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    if _is_tensor(value):
        yield where, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _tensors_in(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _tensors_in(item, f"{where}[{key!r}]")


def _compare_args(
    expected: list[Any], got: list[Any], before: list[Any], names: Sequence[str], ex: Exercise
) -> str | None:
    """The arguments after the call: a function like sgd works by changing them (and their
    .grad); any other function must leave them alone."""
    for i, (e_arg, g_arg, b_arg) in enumerate(zip(expected, got, before)):
        name = names[i] if i < len(names) else f"argument {i + 1}"
        e_items = list(_tensors_in(e_arg, name))
        g_items = list(_tensors_in(g_arg, name))
        b_items = list(_tensors_in(b_arg, name))
        if len(g_items) != len(e_items):
            return (
                f"changed the contents of {name} (now {_describe(g_arg)}; "
                f"it must stay {_describe(e_arg)})"
            )
        for (where, e), (_, g), (_, b) in zip(e_items, g_items, b_items):
            for suffix, e_t, g_t, b_t in (
                ("", e, g, b),
                (".grad", e.grad, g.grad, b.grad),
            ):
                label = where + suffix
                if e_t is None and g_t is None:
                    continue
                if e_t is None or g_t is None:
                    now = "None" if g_t is None else _describe(g_t)
                    return f"left {label} = {now}; expected {_describe(e_t)}"
                problem = _compare_tensors(e_t, g_t, label, ex, top=False)
                if problem is None:
                    continue
                if b_t is not None and _equal_quietly(g_t, b_t) and not _equal_quietly(e_t, b_t):
                    if suffix == ".grad" and not bool(e_t.detach().any()):
                        return (
                            f"left {label} unchanged; expected all zeros "
                            "(did you forget to zero the gradient?)"
                        )
                    return (
                        f"left {label} unchanged; expected it to be updated in place "
                        "(e.g. `param -= ...`, not `param = param - ...`)"
                    )
                if b_t is not None and _equal_quietly(e_t, b_t):
                    return (
                        f"changed {label} in place; it must stay as it was "
                        "(compute a new tensor instead of modifying the argument)"
                    )
                return f"after the call, {problem.removeprefix('gave ')}"
    return None


def _equal_quietly(a: Any, b: Any) -> bool:
    import torch

    try:
        return tuple(a.shape) == tuple(b.shape) and bool(
            torch.equal(a.detach().cpu(), b.detach().cpu().to(a.dtype))
        )
    except Exception:
        return False


def _compare_module(expected: Any, got: Any, ex: Exercise) -> str | None:
    """A method must leave its module's parameters and buffers as the reference does."""
    e_state, g_state = expected.state_dict(), got.state_dict()
    for key, e in e_state.items():
        g = g_state.get(key)
        if g is None or not _is_tensor(g):
            continue  # a renamed layer: the learner's __init__ is not the exercise
        problem = _compare_tensors(e, g, f"self.{key}", ex, top=False)
        if problem:
            return f"changed the module's state: {problem.removeprefix('gave ')}"
    return None


# -- the child process ---------------------------------------------------------------------


def check_in_process(
    loaded: LoadedLesson, learner_path: Path, names: Iterable[str] | None = None
) -> list[ExerciseResult]:
    """Check in this process, without a timeout. For tests and debugging; prefer
    :func:`check_exercises`, which protects the caller from learner code."""
    wanted = set(names) if names is not None else None
    exercises = [e for e in loaded.lesson.exercises if wanted is None or e.name in wanted]
    return list(_check_all(loaded, Path(learner_path), exercises, emit=None))


def _check_all(
    loaded: LoadedLesson,
    learner_path: Path,
    exercises: Sequence[Exercise],
    emit: Callable[..., None] | None,
) -> Iterator[ExerciseResult]:
    say = emit or (lambda **fields: None)
    ident = f"{loaded.id.replace('-', '_')}_{next(_module_ids)}"
    try:
        reference = _load_source(loaded.code_path, f"dl_tutor_reference_{ident}")
    except Exception as e:
        for ex in exercises:
            yield ExerciseResult(
                ex.name, "error", f"the lesson's own code failed to load: {_exc_text(e)}"
            )
        return
    say(event="ready")
    try:
        with _quiet():
            learner = _load_source(learner_path, f"dl_tutor_learner_{ident}")
    except BaseException as e:  # SyntaxError, or anything its top level raises (even exit())
        if isinstance(e, KeyboardInterrupt):
            raise
        line = _learner_line(e, learner_path)
        code = _source_line(learner_path, line) if line else ""
        where = f"\n  line {line}: {code}" if code else (f" (line {line})" if line else "")
        message = f"your file could not be loaded: {_exc_text(e)}{where}"
        for ex in exercises:
            yield ExerciseResult(ex.name, "error", message, line)
        return
    say(event="imported")
    checker = _Checker(reference, learner, learner_path)
    for ex in exercises:
        say(event="start", name=ex.name)
        yield checker.run(ex)


def _protocol_stream() -> TextIO:
    """Our JSON lines go to the real stdout; everything else written to fd 1 from now on
    (print in learner code, C libraries) goes to stderr instead."""
    out_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return io.TextIOWrapper(os.fdopen(out_fd, "wb"), encoding="utf-8", line_buffering=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tutor.exercises --lesson YAML --learner FILE [--only a,b]``: JSON lines."""
    parser = argparse.ArgumentParser(prog="python -m tutor.exercises")
    parser.add_argument("--lesson", type=Path, required=True)
    parser.add_argument("--learner", type=Path, required=True)
    parser.add_argument("--only", default="")
    args = parser.parse_args(argv)
    out = _protocol_stream()

    def emit(**fields: Any) -> None:
        out.write(json.dumps(fields, ensure_ascii=False) + "\n")
        out.flush()

    import torch

    torch.set_num_threads(1)
    from tutor.lesson.loader import LessonError, load_lesson

    try:
        loaded = load_lesson(args.lesson)
    except LessonError as e:
        print(str(e), file=sys.stderr)
        return 2
    wanted = {n for n in args.only.split(",") if n}
    exercises = [e for e in loaded.lesson.exercises if not wanted or e.name in wanted]
    for result in _check_all(loaded, args.learner.resolve(), exercises, emit):
        emit(event="result", **result.as_dict())
    emit(event="done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
