"""Sweeps and lesson experiments: value specs, the schema's checks, every experiment at smoke
settings (CI) and at default settings with its claimed effect (slow)."""

from __future__ import annotations

import io
import json
import textwrap
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from helpers import MINIMAL_YAML, write_lesson

from tutor import quiz
from tutor.cli import main
from tutor.lesson.loader import LessonError, load_catalog, load_lesson
from tutor.training.experiment import run_experiment
from tutor.training.sweep import grid, parse_values

CATALOG = load_catalog()
WITH_EXPERIMENTS = [x.id for x in CATALOG.lessons if x.lesson.experiments]


def test_value_specs_lists_linear_and_log_ranges() -> None:
    lesson = CATALOG.get("gradient-descent").lesson  # type: ignore[union-attr]
    assert parse_values(lesson, "lr=0.01,0.1,0.5") == ("lr", [0.01, 0.1, 0.5])
    assert parse_values(lesson, "lr=0.01:0.1:4") == ("lr", [0.01, 0.04, 0.07, 0.1])
    assert parse_values(lesson, "lr=0.001:0.1:5log") == (
        "lr", [0.001, 0.00316228, 0.01, 0.0316228, 0.1]
    )  # fmt: skip
    assert parse_values(lesson, "epochs=10:20:3") == ("epochs", [10, 15, 20])
    for bad in ("lr=2", "lr=0:1:5log", "nope=1", "lr=", "lr=1:2:1", "lr=a:b:3"):
        with pytest.raises(ValueError):
            parse_values(lesson, bad)
    assert grid([("a", [1, 2]), ("b", [3, 4])]) == [
        {"a": 1, "b": 3}, {"a": 1, "b": 4}, {"a": 2, "b": 3}, {"a": 2, "b": 4}
    ]  # fmt: skip


def _experiment_yaml(body: str) -> str:
    return MINIMAL_YAML.format(id="e") + textwrap.dedent(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("experiments:\n  - {id: x, question: q, sweep: {lr: [1, 2]}, expect: 'true', "
         "conclusion: c}\n", "'lr' is not a hyperparameter"),
        ("experiments:\n  - {id: x, question: q, sweep: {epochs: [1, 500]}, expect: 'true', "
         "conclusion: c}\n", "above the maximum"),
        ("experiments:\n  - {id: x, question: q, sweep: {epochs: [1]}, expect: 'true', "
         "conclusion: c}\n", "at least two runs"),
        ("experiments:\n  - {id: x, question: q, sweep: {epochs: [1, 2]}, expect: 'lossy_0 > 1', "
         "conclusion: c}\n", "never records or reports 'lossy'"),
        ("experiments:\n  - {id: x, question: q, sweep: {epochs: [1, 2]}, expect: 'loss_2 > 1', "
         "conclusion: c}\n", "only 2 runs"),
        ("experiments:\n  - {id: x, question: q, sweep: {epochs: [1, 2]}, expect: 'true', "
         "conclusion: 'ended at {loss}'}\n", "needs a run index"),
    ],
)  # fmt: skip
def test_the_loader_refuses_bad_experiments(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(LessonError) as info:
        load_lesson(write_lesson(tmp_path, "e", yaml=_experiment_yaml(body)))
    assert message in str(info.value)


@pytest.mark.parametrize("lesson_id", WITH_EXPERIMENTS)
def test_every_experiment_runs_at_smoke_settings(lesson_id: str) -> None:
    loaded = CATALOG.get(lesson_id)
    assert loaded is not None
    for experiment in loaded.lesson.experiments:
        read = run_experiment(loaded, experiment, smoke=True, device="cpu")
        assert [r.status for r in read.results] == ["completed"] * len(read.params)
        assert read.shown is not None  # its expect evaluates on real runs
        for lang in ("en", "zh"):
            assert "n/a" not in read.conclusion(lang)
        if experiment.predict:  # its answer is an option of the question
            expected = quiz.expected_value(experiment.predict, read.values)
            assert quiz.format_expected(experiment.predict, expected)


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", WITH_EXPERIMENTS)
def test_every_experiment_shows_its_effect_at_default_settings(lesson_id: str) -> None:
    loaded = CATALOG.get(lesson_id)
    assert loaded is not None
    for experiment in loaded.lesson.experiments:
        read = run_experiment(loaded, experiment, device="cpu")
        assert read.shown is True, (experiment.id, read.conclusion())


def test_at_least_ten_lessons_have_an_experiment() -> None:
    assert len(WITH_EXPERIMENTS) >= 10


def test_sweep_json_diagnoses_the_diverged_run() -> None:
    """The done-when of issue #15: lr = 0.3 diverges on w·x (the edge is 2/(28/3) ≈ 0.214)."""
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["sweep", "gradient-descent", "--set", "lr=0.01,0.1,0.3", "--json"])
    assert code == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    runs = [e for e in lines if e["event"] == "sweep-run"]
    assert [r["values"] for r in runs] == [{"lr": 0.01}, {"lr": 0.1}, {"lr": 0.3}]
    assert lines[-1]["event"] == "sweep-end" and len(lines[-1]["runs"]) == 3
    assert lines[-1]["best"]["values"] == {"lr": 0.1}
    diagnosis = runs[2]["end"]["diagnosis"]
    assert diagnosis["kind"] == "diverged"
    assert diagnosis["suggestion"]["set"]["lr"] < 0.214
    assert [r["end"]["diagnosis"]["kind"] for r in runs[:2]] == ["fine", "fine"]
    # Stored like any run, tagged with the sweep.
    from tutor.progress import ProgressStore

    with ProgressStore() as store:
        stored = store.runs("gradient-descent")
    assert sorted(r.records["_sweep"]["index"] for r in stored) == [0, 1, 2]


def test_experiment_text_prints_the_conclusion_with_values() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["experiment", "gradient-descent", "learning-rate"])
    text = out.getvalue()
    assert code == 0
    assert "predict: Which run ends with the largest loss?" in text
    assert "lr = 0.3 at 1.63e+51" in text and "effect shown: yes" in text
