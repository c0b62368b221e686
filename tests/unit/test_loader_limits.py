"""Lesson values YAML or Python cannot build, and code files that must not be read (#19).

Each one is a ``LessonError`` whose problems name the file, the field and a real line; the
other lessons (the built-in ones too) still load.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from helpers import MINIMAL_CODE, MINIMAL_YAML, write_lesson

from tutor.lesson.catalog import Problem, catalog_files
from tutor.lesson.index import load_catalog_indexed
from tutor.lesson.loader import LessonError, load_catalog, load_lesson


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    return info.value.problems


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    ("extra", "field", "says"),
    [
        ("created: 2024-02-30\n", "created", "'2024-02-30' is not a valid date"),
        ("order: " + "9" * 5000 + "\n", "order", "too large a number (5000 digits)"),
    ],
)
def test_a_value_yaml_cannot_build_is_a_problem_with_field_and_line(
    tmp_path: Path, extra: str, field: str, says: str
) -> None:
    yaml = MINIMAL_YAML.format(id="bad").replace("order: 1\n", "") + extra
    path = write_lesson(tmp_path, "bad", yaml=yaml)
    [problem] = problems_of(path)
    assert (problem.file, problem.field) == (path, field)
    assert problem.line == line_of(path, extra[:10]) and problem.line > 1
    assert says in problem.message


def test_a_broken_value_leaves_the_builtin_lessons_and_the_index_alone(tmp_path: Path) -> None:
    write_lesson(tmp_path, "good")
    bad = write_lesson(tmp_path, "bad", yaml=MINIMAL_YAML.format(id="bad") + "x: 2024-02-30\n")
    catalog = load_catalog([tmp_path])
    assert catalog.get("good") is not None and catalog.get("gradient-descent") is not None
    assert [p.file for p in catalog.problems] == [bad]
    indexed = load_catalog_indexed([tmp_path])  # re-reads broken files for their code paths
    assert [x.id for x in indexed.lessons] == [x.id for x in catalog.lessons]
    assert bad in catalog_files([tmp_path])


def test_many_plain_keys_are_too_many_values_but_not_an_alias_bomb(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text("".join(f"k{i}: {i}\n" for i in range(20_001)))
    [problem] = problems_of(path)
    assert "more than 20000 values" in problem.message
    assert "alias" not in problem.message
    assert problem.line > 1


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (MINIMAL_CODE + "x = '\0'\n", "code.py:9: syntax error: NUL byte"),
        (MINIMAL_CODE + "x = " + "-" * 100_000 + "1\n", "code.py: syntax error: nested too deeply"),
        (MINIMAL_CODE + "x = " + "9" * 5000 + "\n", "code.py:9: syntax error: Exceeds the limit"),
    ],
)
def test_code_the_parser_cannot_take_is_a_problem_with_a_line(
    tmp_path: Path, code: str, says: str
) -> None:
    path = write_lesson(tmp_path, "c", code=code)
    [problem] = problems_of(path)
    assert (problem.field, problem.line) == ("code", line_of(path, "code:"))
    assert says in problem.message
    assert "None" not in problem.message


def _with_code(tmp_path: Path, code: str) -> Path:
    yaml = MINIMAL_YAML.format(id="c").replace("code: code.py", f"code: {code}")
    return write_lesson(tmp_path, "c", yaml=yaml)


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("/dev/zero", "outside the lesson's directory"),
        ("/dev/stdin", "outside the lesson's directory"),
        ("/etc/passwd", "outside the lesson's directory"),
        ("../../../../etc/passwd", "outside the lesson's directory"),
    ],
)
def test_code_outside_the_lesson_directory_is_refused(
    tmp_path: Path, code: str, says: str
) -> None:
    path = _with_code(tmp_path, code)
    [problem] = problems_of(path)
    assert (problem.file, problem.field, problem.line) == (path, "code", line_of(path, "code:"))
    assert says in problem.message


def test_a_symlink_out_of_the_lesson_directory_is_refused(tmp_path: Path) -> None:
    path = _with_code(tmp_path, "link.py")
    (path.parent / "link.py").symlink_to("/dev/zero")
    [problem] = problems_of(path)
    assert "outside the lesson's directory" in problem.message


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    path = _with_code(tmp_path, "pipe.py")
    os.mkfifo(path.parent / "pipe.py")
    start = time.monotonic()
    [problem] = problems_of(path)  # before the fix: blocked forever in open()
    assert time.monotonic() - start < 5
    assert "is not a regular file" in problem.message


def test_a_directory_and_a_huge_file_are_refused(tmp_path: Path) -> None:
    path = _with_code(tmp_path, "big.py")
    (path.parent / "big.py").write_text("# x\n" * 300_000)  # 1.2 MB
    [problem] = problems_of(path)
    assert "larger than 1024 KiB" in problem.message
    path = _with_code(tmp_path, "sub")
    (path.parent / "sub").mkdir()
    [problem] = problems_of(path)
    assert "is not a regular file" in problem.message
