"""The Chinese text of the built-in lessons: full-width punctuation and one glossary term per
concept (docs/glossary.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tutor.paths import builtin_lessons_dir

CJK = r"[\u3400-\u9fff]"
# A half-width mark touching Chinese text on either side (spaces between allowed).
HALF_WIDTH = re.compile(rf"(?<={CJK})\s*[,:;?!]|[,:;?!]\s*(?={CJK})")
# Parentheses around Chinese text.
HALF_PARENS = re.compile(rf"(?<![A-Za-z_\])])\([^()]*{CJK}[^()]*\)")
CODE = re.compile(r"`[^`]*`|^(?: {4,}|\t).*$", re.M)
REJECTED = {  # variant → the glossary's term
    r"(?<!混合)(?<!半)(?<!单)(?<!双)(?<!浮点)(?<!数值)精度": "准确率",
    "正确率": "准确率",
    r"批次大小|(?<!量)批大小": "批量大小",
    "补零": "填充",
    "丢弃法|随机失活": "暂退法",
    "批标准化|批归一化|批量归一化|批量标准化": "批量规范化",
    "笔记": "(the learner has not seen the notes)",
}


def zh_strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "zh" and isinstance(value, str):
                yield path, value
            else:
                yield from zh_strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from zh_strings(value, f"{path}[{i}]")


def lesson_files() -> list[Path]:
    return sorted(builtin_lessons_dir().glob("*/lesson.yaml"))


def prose(text: str) -> str:
    """The text with code spans, indented code and fenced blocks replaced by a stand-in."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return CODE.sub("X", text)  # a stand-in, so "(试试 `lr`)" still reads as parentheses


@pytest.mark.parametrize("file", lesson_files(), ids=lambda f: f.parent.name)
def test_chinese_text_uses_full_width_punctuation_and_the_glossary(file: Path) -> None:
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    found = []
    for where, text in zh_strings(data):
        plain = prose(text)
        for match in [*HALF_WIDTH.finditer(plain), *HALF_PARENS.finditer(plain)]:
            mark = match.group().strip()
            found.append(f"{where}: half-width {mark!r} in …{_around(plain, match)}…")
        for pattern, term in REJECTED.items():
            for match in re.finditer(pattern, plain):
                found.append(f"{where}: {match.group()!r} (glossary: {term})")
    assert not found, "\n".join(found[:30])


def _around(text: str, match: re.Match[str]) -> str:
    return text[max(0, match.start() - 8) : match.end() + 8].replace("\n", " ")


def test_the_check_finds_what_it_should() -> None:
    bad = "学习率太大, 损失会发散(见图)。测试精度和批大小。"
    assert HALF_WIDTH.search(bad) and HALF_PARENS.search(bad)
    assert re.search(next(iter(REJECTED)), bad)
    good = "学习率太大，损失会发散（见图）。混合精度下，形状是 (10, 2)，`f(x, y)` 照常。"
    assert not HALF_WIDTH.search(prose(good)) and not HALF_PARENS.search(prose(good))
    assert not re.search(next(iter(REJECTED)), good)
