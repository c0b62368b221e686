"""The lesson loader: good files load, every kind of bad file gets file:line: field: message."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import MINIMAL_YAML, write_lesson

from tutor.lesson.loader import LessonError, load_catalog, load_files, load_lesson


def problems_for(path: Path) -> list[str]:
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    return [str(p) for p in info.value.problems]


def test_minimal_lesson_loads(tmp_path: Path) -> None:
    loaded = load_lesson(write_lesson(tmp_path))
    assert loaded.id == "minimal"
    assert loaded.lesson.title.get("zh") == "最小"
    assert loaded.lesson.summary.get("zh") == "A lesson used by tests."  # falls back to English
    assert loaded.code_path.name == "code.py"
    assert {"answer", "X_shape"} <= loaded.recorded


def test_builtin_lessons_all_load() -> None:
    catalog = load_catalog()
    assert catalog.problems == []
    assert catalog.get("gradient-descent") is not None
    orders = [x.lesson.order for x in catalog.lessons]
    assert orders == sorted(orders)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, yaml="id: x\ntitle: [unclosed\nsummary: s\n")
    [message] = problems_for(path)
    assert message.startswith(f"{path}:")
    assert ": (yaml): " in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b"   \n\n", "empty file"),
        (b"- a\n- b\n", "not a list"),
        (b"just a string\n", "not a str"),
        (b"\xff\xfe\x00binary", "binary file"),
        (b"id: caf\xe9\n", "not UTF-8"),
        (b"---\nid: a\n---\nid: b\n", "exactly one YAML document"),
    ],
)
def test_unusable_files(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    [message] = problems_for(path)
    assert expected in message
    assert message.startswith(f"{path}:")


def test_oversized_file(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("text: " + "x" * 400_000 + "\n")
    assert "larger than" in problems_for(path)[0]


def test_unknown_field_suggests_close_match(tmp_path: Path) -> None:
    yaml = MINIMAL_YAML.format(id="typo").replace("summary:", "sumary:")
    [*messages] = problems_for(write_lesson(tmp_path, "typo", yaml=yaml))
    assert any(":5: sumary: unknown field; did you mean 'summary'?" in m for m in messages)
    assert any("summary: required field is missing" in m for m in messages)


def test_unknown_field_in_a_question(tmp_path: Path) -> None:
    yaml = MINIMAL_YAML.format(id="q").replace("tolerance: 0.5", "tolerence: 0.5")
    messages = problems_for(write_lesson(tmp_path, "q", yaml=yaml))
    assert any("quiz[1].tolerence: unknown field; did you mean 'tolerance'?" in m for m in messages)


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    yaml = MINIMAL_YAML.format(id="dup") + "order: 2\n"
    [message] = problems_for(write_lesson(tmp_path, "dup", yaml=yaml))
    assert "duplicate key 'order' (first at line 3)" in message


def test_python_tags_never_construct(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    yaml = (
        MINIMAL_YAML.format(id="tag")
        + f"extra: !!python/object/apply:os.system ['touch {marker}']\n"
    )
    [message] = problems_for(write_lesson(tmp_path, "tag", yaml=yaml))
    assert "tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed" in message
    assert not marker.exists()


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    [message] = problems_for(path)
    assert "alias bomb" in message


def test_default_outside_range(tmp_path: Path) -> None:
    yaml = MINIMAL_YAML.format(id="r").replace("default: 2, min: 1", "default: 200, min: 1")
    [message] = problems_for(write_lesson(tmp_path, "r", yaml=yaml))
    assert "hyperparams[0].default: default 200: 200 is above the maximum 100" in message
    assert ":9:" in message  # the line of that hyperparameter


def test_choice_answer_out_of_range(tmp_path: Path) -> None:
    yaml = MINIMAL_YAML.format(id="c") + (
        "  - {id: pick, kind: choice, prompt: P, options: [a, b], answer: 2}\n"
    )
    [message] = problems_for(write_lesson(tmp_path, "c", yaml=yaml))
    assert "quiz[2].answer: answer 2 is out of range: options are 0..1" in message


def test_reference_to_value_never_recorded(tmp_path: Path) -> None:
    yaml = MINIMAL_YAML.format(id="n").replace("answer: answer,", "answer: answr,")
    [message] = problems_for(write_lesson(tmp_path, "n", yaml=yaml))
    assert "quiz[1].answer: refers to 'answr', which the code never records" in message
    assert "did you mean 'answer'?" in message


def test_missing_code_file_and_missing_entry(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "m")
    (path.parent / "code.py").unlink()
    assert "code file 'code.py' not found" in problems_for(path)[0]
    (path.parent / "code.py").write_text("def not_train(ctx):\n    pass\n")
    assert "has no top-level function 'train'" in problems_for(path)[0]


def test_unsafe_expression_is_refused(tmp_path: Path) -> None:
    yaml = MINIMAL_YAML.format(id="e").replace("expr: answer", "expr: answer.__class__")
    [message] = problems_for(write_lesson(tmp_path, "e", yaml=yaml))
    assert "Attribute is not allowed" in message


def test_duplicate_ids_across_directories_name_both_files(tmp_path: Path) -> None:
    first = write_lesson(tmp_path / "one", "same")
    second = write_lesson(tmp_path / "two", "same")
    catalog = load_files([first, second])
    assert [x.id for x in catalog.lessons] == ["same"]
    [problem] = catalog.problems
    assert str(second) in str(problem) and str(first) in str(problem)


def test_broken_lesson_never_hides_good_ones(tmp_path: Path) -> None:
    write_lesson(tmp_path, "good")
    (tmp_path / "broken.yaml").write_text("id: [\n")
    catalog = load_catalog([tmp_path])
    assert catalog.get("good") is not None
    assert catalog.get("gradient-descent") is not None
    assert catalog.broken_files == [tmp_path / "broken.yaml"]


def test_suggest_close_ids() -> None:
    assert load_catalog().suggest("gradient-decent") == ["gradient-descent"]
