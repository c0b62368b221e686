"""Control characters in lesson-supplied text are made inert (#19)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import BARE_YAML, MINIMAL_YAML, write_lesson

from tutor.lesson.loader import LessonError, load_lesson
from tutor.text import first_control, inert
from tutor.training.runner import run_lesson


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),  # retitles the terminal
        ("\x1b[2J", "\\x1b[2J"),  # clears the screen
        ("\x1b]52;c;aGVsbG8=\x07", "\\x1b]52;c;aGVsbG8=\\x07"),  # OSC 52: writes the clipboard
        ("\x9b2J", "\\x9b2J"),  # C1 CSI
        ("a\rb\x00c\x7f", "a\\x0db\\x00c\\x7f"),
        ("plain text, ünïcode ✓ 最小", "plain text, ünïcode ✓ 最小"),
    ],
)
def test_inert_shows_every_control_character(text: str, shown: str) -> None:
    assert inert(text) == shown
    assert first_control(inert(text)) is None


def test_newline_and_tab_are_kept_only_in_multiline_text() -> None:
    assert inert("a\n\tb") == "a\n\tb"
    assert inert("a\n\tb", multiline=False) == "a\\x0a\\x09b"
    assert first_control("a\nb") is None and first_control("a\nb", multiline=False) == "\n"


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", '"\\e]0;pwned\\a"'), ("summary", '"\\e[2J gone"'), ("text", '"\\x9b2J"')],
)
def test_the_loader_refuses_control_characters_in_lesson_text(
    tmp_path: Path, field: str, value: str
) -> None:
    yaml = MINIMAL_YAML.format(id="c")
    start = yaml.index(f"\n{field}:") + 1
    end = yaml.index("\n", start)
    yaml = yaml[:start] + f"{field}: {value}" + yaml[end:]
    path = write_lesson(tmp_path, "c", yaml=yaml)
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    [problem] = info.value.problems
    assert problem.field == field
    assert problem.line == path.read_text().splitlines().index(f"{field}: {value}") + 1
    assert "control character \\x" in problem.message and "not allowed" in problem.message
    assert "\x1b" not in str(problem) and "\x9b" not in str(problem)


def test_run_time_text_from_lesson_code_is_made_inert(tmp_path: Path) -> None:
    code = (
        "def train(ctx):\n"
        "    ctx.log('\\x1b[2J cleared?')\n"
        "    ctx.use_dataset('\\x1b]0;t\\x07 set')\n"
        "    raise ValueError('\\x1b]52;c;aGk=\\x07')\n"
    )
    loaded = load_lesson(write_lesson(tmp_path, "t", yaml=BARE_YAML.format(id="t"), code=code))
    result = run_lesson(loaded, device="cpu")
    assert result.logs == ["\\x1b[2J cleared?"]
    assert result.dataset == "\\x1b]0;t\\x07 set"
    assert result.status == "failed"
    assert result.error.splitlines()[-1] == "ValueError: \\x1b]52;c;aGk=\\x07"
