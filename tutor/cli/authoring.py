"""``dl-tutor new`` (a lesson to start from) and ``dl-tutor schema`` (the lesson file's JSON
Schema, for editors). docs/lesson-format.md ("Writing a lesson") explains both."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from tutor.cli.common import PROG, fail

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "lesson" / "lesson.schema.json"

# The scaffold: it validates without warnings and runs in a second or two. Every piece an author
# needs once is here: en/zh text, hyperparameters, one series, one check, a question of each kind.
LESSON_YAML = """\
# yaml-language-server: $schema={schema}
# A new lesson: edit the text and the code, then `dl-tutor validate {dir}` and
# `dl-tutor --lessons {parent} run {id}`. docs/lesson-format.md explains every field.
id: {id}
order: 100  # built-in lessons use 1..99
title:
  en: {title}
  zh: {title}
summary:
  en: Fit a straight line with one linear layer.
  zh: 用一个线性层拟合一条直线。
code: {code}
entry: train
dataset:
  en: "64 points on y = 3x + 1 with a little noise"
  zh: "y = 3x + 1 上的 64 个带少量噪声的点"
text:
  en: |
    # {title}

    A model with two numbers, **y = w·x + b**, learns them from data by gradient descent.
  zh: |
    # {title}

    一个只有两个数的模型 **y = w·x + b**, 用梯度下降从数据中学到它们。
hyperparams:
  - name: lr
    type: float
    default: 0.1
    min: 0.0001
    max: 1.0
    help: {{en: learning rate, zh: 学习率}}
  - {{name: epochs, type: int, default: 50, min: 1, max: 1000}}
  - {{name: seed, type: int, default: 0}}
series:
  - {{name: loss, kind: loss, per: epoch, label: {{en: training loss, zh: 训练损失}}}}
checks:
  - name: {{en: the loss ends below 0.05, zh: 最终损失低于 0.05}}
    expr: loss
    at_most: 0.05
quiz:
  - id: x-shape
    kind: shape
    prompt: {{en: "What is the shape of X?", zh: "X 的形状是什么?"}}
    answer: X_shape
  - id: learned-w
    kind: number
    prompt: {{en: "Which w did the model learn?", zh: "模型学到的 w 是多少?"}}
    answer: w
    tolerance: 0.01
  - id: why-lr
    kind: choice
    prompt: {{en: "What does a much larger lr do?", zh: "lr 大很多会怎样?"}}
    options:
      - {{en: "It takes bigger steps", zh: "每一步迈得更大"}}
      - {{en: "It adds more layers", zh: "给模型加更多层"}}
      - {{en: "It loads more data", zh: "读入更多数据"}}
    answer: 0
smoke: {{epochs: 5}}
"""

CODE = '''\
"""{title}: fit y = 3x + 1 with one nn.Linear (see {id}.yaml)."""

import torch
from torch import nn


def train(ctx):
    X = torch.linspace(-1, 1, 64).unsqueeze(1)  # (64, 1): 64 samples, 1 feature
    y = 3 * X + 1 + 0.05 * torch.randn_like(X)
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=ctx.params.lr)
    for epoch in range(1, ctx.params.epochs + 1):
        loss = nn.functional.mse_loss(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ctx.report_epoch(epoch, loss=loss)
    ctx.record("X_shape", tuple(X.shape))
    ctx.record("w", model.weight.item())
    ctx.log(f"learned w = {{model.weight.item():.3f}}, b = {{model.bias.item():.3f}}")
'''


def scaffold(lesson_id: str, directory: Path) -> list[Path]:
    """Write ``<directory>/lesson.yaml`` and ``<directory>/<id>.py``; refuses to overwrite."""
    code_name = lesson_id.replace("-", "_") + ".py"
    title = lesson_id.replace("-", " ").capitalize()
    files = {
        directory / "lesson.yaml": LESSON_YAML.format(
            schema=SCHEMA_FILE.as_uri(),
            id=lesson_id,
            title=title,
            code=code_name,
            dir=directory,
            parent=directory.parent,
        ),
        directory / code_name: CODE.format(id=lesson_id, title=title),
    }
    existing = [str(f) for f in files if f.exists()]
    if existing:
        raise FileExistsError(f"would overwrite {', '.join(existing)}")
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)


def cmd_new(args: argparse.Namespace) -> int:
    from tutor.lesson.schema import ID_PATTERN

    if not re.match(ID_PATTERN, args.id):
        return fail(f"invalid id {args.id!r}: lowercase letters, digits and '-' (like my-lesson)")
    directory = args.dir if args.dir is not None else Path(args.id)
    try:
        written = scaffold(args.id, directory)
    except (FileExistsError, OSError) as e:
        return fail(f"new {args.id}: {e}")
    for path in written:
        print(f"wrote {path}")
    print(f"next: '{PROG} validate {directory}' and '{PROG} --lessons {directory} run {args.id}'")
    return 0


def lesson_schema() -> dict[str, Any]:
    """The JSON Schema of a lesson file, generated from the pydantic model."""
    from tutor.lesson.schema import Lesson

    schema = _text_or_string(Lesson.model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dl-tutor lesson"
    return schema


def _text_or_string(node: Any) -> Any:
    # Every learner-facing text also accepts a plain string (English only), through a
    # BeforeValidator that pydantic's schema cannot see.
    if isinstance(node, dict):
        if node.get("$ref") == "#/$defs/Text":
            return {"anyOf": [{"type": "string"}, dict(node)]}
        return {k: _text_or_string(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_text_or_string(v) for v in node]
    return node


def schema_text() -> str:
    return json.dumps(lesson_schema(), ensure_ascii=False, indent=2) + "\n"


def cmd_schema(args: argparse.Namespace) -> int:
    print(schema_text(), end="")
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("new", help="write a new lesson to start from (it validates and runs)")
    p.add_argument("id", metavar="ID", help="the lesson id, like my-lesson")
    p.add_argument("--dir", type=Path, help="where to write it (default: ./ID)")
    sub.add_parser("schema", help="print the lesson file's JSON Schema (for editors)")
