"""Checking, the child's side: ``python -m tutor.exercises.checker --lesson YAML --learner FILE
[--only a,b]`` loads the lesson's code (the reference) and the learner's file, calls both on the
same generated inputs (:mod:`tutor.lesson.spec`) and prints one JSON object per line:
``ready``, ``imported``, then ``start``/``result`` per exercise, then ``done``.

The parent (:mod:`tutor.exercises.check`) reads those lines and owns the timeouts; anything
else written to stdout (print in learner code) is sent to stderr so it cannot break them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import io
import json
import os
import random
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO

from tutor.exercises.compare import (
    Drained,
    compare_args,
    compare_module,
    compare_result,
    same_sequence,
)
from tutor.exercises.result import ExerciseResult
from tutor.lesson.spec import build_arg, spec_text

if TYPE_CHECKING:
    from tutor.lesson.catalog import LoadedLesson
    from tutor.lesson.schema import Exercise

MAX_GENERATOR_ITEMS = 100_000  # a generator that yields more is treated as endless

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

            problem = compare_result(expected, got, ex)
            if problem is None:
                _, pristine = self._inputs(ex, case, seed, ref_owner)
                problem = compare_args(ref_args, mine_args, pristine, param_names, ex)
            if problem is None and ref_self is not None and isinstance(ref_self, torch.nn.Module):
                problem = compare_module(ref_self, mine_self, ex)
            if problem is None and ex.order == "any" and isinstance(expected, Drained):
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
                class_name = ex.target.split(".")[0]
                raise _Outcome(
                    self._error(ex, e, f"creating {class_name}(...) for {call}")
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
        if same_sequence(expected, _drain(_invoke(ref[1], ref_self, ref_args))):
            return None  # the reference does not shuffle either
        mine_self, mine_args = self._inputs(ex, case, seed, mine[0], learner=True)
        try:
            with _quiet():
                _seed_all(other)
                again = _drain(_invoke(mine[1], mine_self, mine_args))
        except Exception:
            return None  # it worked once; a second failure is not what this looks for
        if same_sequence(got, again):
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


def _drain(value: Any) -> Any:
    """Run a generator to its end (inside the seeded call, where its randomness happens)."""
    if isinstance(value, Iterator):
        items = Drained()
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
    """The checker child: ``--lesson YAML --learner FILE [--only a,b]``; prints JSON lines."""
    parser = argparse.ArgumentParser(prog="python -m tutor.exercises.checker")
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
