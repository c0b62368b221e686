"""Small builders shared by tests: write a lesson directory with given YAML and code."""

from __future__ import annotations

import textwrap
from pathlib import Path

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
