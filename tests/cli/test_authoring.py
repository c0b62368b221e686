"""Writing lessons (issue #17): the scaffold, the schema, and validation an author can trust."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from helpers import MINIMAL_CODE, MINIMAL_YAML, write_lesson

from tutor import quiz
from tutor.cli import main
from tutor.cli.authoring import SCHEMA_FILE, schema_text
from tutor.lesson.loader import LessonError, load_lesson, load_paths
from tutor.training.runner import run_lesson

pytestmark = pytest.mark.usefixtures("tutor_env")


def test_new_scaffolds_a_lesson_that_validates_and_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "mine"
    assert main(["new", "my-lesson", "--dir", str(target)]) == 0
    yaml_text = (target / "lesson.yaml").read_text()
    assert yaml_text.startswith(f"# yaml-language-server: $schema={SCHEMA_FILE.as_uri()}\n")
    assert SCHEMA_FILE.is_file()
    assert main(["new", "my-lesson", "--dir", str(target)]) == 2  # never overwrites
    assert "would overwrite" in capsys.readouterr().err

    assert main(["validate", "--strict", str(target)]) == 0  # no warning either
    assert "1 lesson ok, 0 files with problems\n" in capsys.readouterr().out

    loaded = load_lesson(target / "lesson.yaml")
    assert {q.kind for q in loaded.lesson.quiz} == {"shape", "number", "choice"}
    assert len(loaded.lesson.series) == 1 and len(loaded.lesson.checks) == 1
    assert loaded.lesson.title.zh and loaded.lesson.text.zh

    code = main(["--lessons", str(target), "run", "my-lesson", "--json", "--strict"])
    end = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 0, end
    assert end["event"] == "end" and end["status"] == "completed"
    assert end["records"] == {"X_shape": {"type": "list", "shape": [2]}, "w": {"type": "float"}}
    assert end["quiz"] == [
        {"id": "x-shape", "resolved": True},
        {"id": "learned-w", "resolved": True},
        {"id": "why-lr", "resolved": True},
    ]


def test_new_refuses_a_bad_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "My Lesson"]) == 2
    assert "invalid id 'My Lesson'" in capsys.readouterr().err


def test_the_committed_schema_is_the_models(capsys: pytest.CaptureFixture[str]) -> None:
    # Regenerate with: dl-tutor schema > tutor/lesson/lesson.schema.json
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text()
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False  # unknown fields are errors there too
    assert set(schema["required"]) >= {"id", "title", "order", "summary", "text", "code"}
    # A plain string is English-only text, as the loader accepts it.
    assert {"type": "string"} in schema["properties"]["summary"]["anyOf"]


# -- the name rule, both ways -------------------------------------------------------------

NAMES_YAML = """\
id: names
order: 100
title: Names
summary: s
text: t
code: code.py
hyperparams:
  - {name: lr, type: float, default: 0.1}
series:
  - {name: loss, kind: loss, per: step}
  - {name: acc, kind: accuracy}
checks:
  - {name: c1, expr: "loss + lr + extra_metric", at_least: 0}
  - {name: c2, expr: "seconds", at_least: 0, when: "status == 'completed'"}
quiz:
  - {id: q1, kind: number, prompt: P, answer: "model['total_params']"}
  - {id: q2, kind: shape, prompt: P, answer: "shape(sample_images)"}
  - {id: q3, kind: number, prompt: P, answer: "val_loss + answer"}
  - {id: q4, kind: number, prompt: P, answer: "acc"}
"""

NAMES_CODE = """
import torch

def train(ctx):
    ctx.report_step(loss=0.5, extra_metric=1.0)
    ctx.report_epoch(1, val_loss=0.25)
    ctx.record("answer", 42)
    ctx.record("sample_images", [[[0.0, 1.0], [1.0, 0.0]]])
    ctx.record_model(torch.nn.Linear(2, 1), torch.zeros(1, 2))
"""


def _write(root: Path, yaml: str, code: str, name: str = "names") -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "lesson.yaml").write_text(yaml)
    (directory / "code.py").write_text(textwrap.dedent(code))
    return directory / "lesson.yaml"


def test_every_name_the_validator_accepts_is_there_after_a_run(tmp_path: Path) -> None:
    loaded = load_lesson(_write(tmp_path, NAMES_YAML, NAMES_CODE))
    # acc is declared but never reported: accepted, with a warning at its line.
    [warning] = loaded.warnings
    assert warning.line == 11 and warning.field == "series[1].name"
    assert "'acc' is never reported" in warning.message

    result = run_lesson(loaded, {"lr": 0.1}, sink=lambda event: None)
    assert result.status == "completed", result.error
    assert all(c.passed and not c.error for c in result.checks), result.checks
    values = quiz.run_values(result)
    questions = {q.id: q for q in loaded.lesson.quiz}
    assert quiz.expected_value(questions["q1"], values) == 3  # Linear(2, 1): 2 weights + bias
    assert tuple(quiz.expected_value(questions["q2"], values)) == (1, 2, 2)
    assert quiz.expected_value(questions["q3"], values) == 42.25
    with pytest.raises(Exception):  # noqa: B017 - the one gap the warning names
        quiz.expected_value(questions["q4"], values)


def test_run_strict_fails_on_a_question_the_run_cannot_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, NAMES_YAML, NAMES_CODE)
    assert main(["validate", str(path)]) == 0
    assert main(["validate", "--strict", str(path)]) == 1  # the warning about 'acc'
    capsys.readouterr()
    args = ["--lessons", str(path.parent), "run", "names", "--json"]
    assert main(args) == 0
    end = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert {q["id"]: q["resolved"] for q in end["quiz"]} == {
        "q1": True,
        "q2": True,
        "q3": True,
        "q4": False,
    }
    assert end["records"]["sample_images"] == {"type": "list", "shape": [1, 2, 2]}
    assert end["records"]["model"]["type"] == "dict"
    assert main([*args, "--strict"]) == 1


# -- every problem of a file, in one pass, at its line --------------------------------------

BAD_YAML = """\
id: bad
order: 100
title: Bad
summary: s
text: t
code: code.py
entry: trian
hyperparams:
  - name: lr
    type: float
    default: 5.0
    max: 1.0
  - {name: lambda, type: int, default: 1}
checks:
  - {name: c, expr: "losss", at_most: 1}
quiz:
  - {id: q, kind: number, prompt: P, answer: "anwser"}
smoke: {lr: 9.0}
colour: red
"""

BAD_CODE = """
def train(ctx):
    ctx.report_step(loss=1.0)
    ctx.record("answer", 1)
    ctx.record("lambda", 2)
"""


def test_every_problem_of_a_file_in_one_pass_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(LessonError) as caught:
        load_lesson(_write(tmp_path, BAD_YAML, BAD_CODE, "bad"))
    found = [(p.line, p.field, p.message) for p in caught.value.problems]
    expected = [
        (6, "code", "code.py:5: recorded name 'lambda' is a Python keyword"),
        (7, "entry", "code.py has no top-level function 'trian'; did you mean 'train'?"),
        (11, "hyperparams[0].default", "default 5.0: 5.0 is above the maximum 1"),
        (13, "hyperparams[1].name", "'lambda' is a Python keyword"),
        (15, "checks[0].expr", "refers to 'losss'"),
        (17, "quiz[0].answer", "refers to 'anwser'"),
        (19, "colour", "unknown field"),
    ]
    for line, field, message in expected:
        assert any(
            (line, field) == (p[0], p[1]) and message in p[2] for p in found
        ), f"no {field} at line {line}: {found}"
    assert "did you mean 'loss'?" in next(p[2] for p in found if p[1] == "checks[0].expr")
    assert "did you mean 'answer'?" in next(p[2] for p in found if p[1] == "quiz[0].answer")
    assert [p[0] for p in found] == sorted(p[0] for p in found)  # in the order of the file


def test_a_bad_smoke_value_points_at_its_key(tmp_path: Path) -> None:
    yaml = BAD_YAML.replace("default: 5.0", "default: 0.5").replace("entry: trian", "entry: train")
    yaml = yaml.replace("  - {name: lambda, type: int, default: 1}\n", "")
    yaml = yaml.replace("colour: red\n", "")
    yaml = yaml.replace('"losss"', '"loss"').replace('"anwser"', '"answer"')
    with pytest.raises(LessonError) as caught:
        load_lesson(_write(tmp_path, yaml, BAD_CODE.replace('"lambda"', '"other"'), "smoke"))
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (17, "smoke.lr"), problem
    assert "9.0 is above the maximum 1" in problem.message


# -- across lesson directories ----------------------------------------------------------------


def test_duplicate_ids_and_orders_across_directories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = "def train(ctx):\n    ctx.report_step(loss=1.0)\n"
    yaml = NAMES_YAML[: NAMES_YAML.index("hyperparams:")]
    first = _write(tmp_path / "one", yaml, code)
    second = _write(tmp_path / "two", yaml.replace("order: 100", "order: 7"), code)
    third = _write(tmp_path / "two", yaml.replace("id: names", "id: other"), code, "other")
    catalog = load_paths([first.parent.parent, second.parent.parent])
    [dup] = catalog.problems
    assert (dup.file, dup.line, dup.field) == (second.resolve(), 1, "id")
    assert "duplicate id 'names'" in dup.message
    [order] = catalog.warnings
    assert (order.file, order.line, order.field) == (third.resolve(), 2, "order")
    assert "duplicate order 100, also used by 'names'" in order.message

    one, two = str(first.parent.parent), str(second.parent.parent)
    assert main(["--lessons", one, "--lessons", two, "run", "100"]) == 2
    err = capsys.readouterr().err
    assert "ambiguous: lessons 'names', 'other' all have order 100" in err
    assert "unknown lesson" not in err



def test_a_series_named_like_a_hyperparameter_is_refused(tmp_path: Path) -> None:
    # The run's values are one namespace: the curve's last value would replace the setting.
    yaml = MINIMAL_YAML.format(id="clash").replace(
        "{name: train_loss, kind: loss}", "{name: epochs, kind: loss}"
    )
    code = MINIMAL_CODE.replace("train_loss=1.0 / epoch", "epochs=1.0 / epoch")
    with pytest.raises(LessonError, match="'epochs' is also a hyperparameter"):
        load_lesson(write_lesson(tmp_path, "clash", yaml=yaml, code=code))
