"""The run doctor on synthetic curves (one per kind), and on every lesson's default run."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

from tutor.doctor import diagnose
from tutor.events import RunResult
from tutor.lesson.loader import load_catalog

FIXTURES = Path(__file__).parents[1] / "fixtures" / "default_runs"

LESSON = """
id: doc
order: 1
title: Doctor
summary: s
text: t
code: code.py
hyperparams:
  - {name: lr, type: float, default: 0.1, min: 0.001, max: 0.5}
  - {name: batch_size, type: int, default: 8, min: 1, max: 256}
  - {name: epochs, type: int, default: 10, min: 1, max: 100}
series:
  - {name: loss, kind: loss, per: step}
  - {name: train_loss, kind: loss}
  - {name: test_loss, kind: loss}
"""


@pytest.fixture(scope="module")
def lesson() -> Any:
    import yaml

    from tutor.lesson.schema import Lesson

    return Lesson.model_validate(yaml.safe_load(LESSON))


def run(history: dict[str, list[float]], status: str = "completed", **params: Any) -> RunResult:
    curves = {name: [(float(i + 1), y) for i, y in enumerate(ys)] for name, ys in history.items()}
    values = {"lr": 0.1, "batch_size": 8, "epochs": 10, **params}
    return RunResult("doc", status, values, 0, "cpu", "", 1.0, {}, curves, {}, [])  # type: ignore[arg-type]


def test_a_loss_that_grows_tenfold_is_diverged_with_a_smaller_lr(lesson: Any) -> None:
    d = diagnose(run({"loss": [2.3 * 1.5**i for i in range(40)]}), lesson)
    assert d is not None and d.kind == "diverged"
    assert d.suggestion == {"lr": 0.03}  # 0.1 / 3 = 0.033, rounded down to one digit
    assert "2.3" in d.text("evidence") and "step 40" in d.text("evidence")
    assert "学习率" in d.text("cause", "zh")


def test_nan_in_the_curve_or_a_diverged_status_is_diverged(lesson: Any) -> None:
    d = diagnose(run({"loss": [2.0, 1.0, math.nan]}), lesson)
    assert d is not None and d.kind == "diverged" and "nan" in d.text("evidence")
    d = diagnose(run({"loss": [2.0, 1.0]}, status="diverged", lr=0.5), lesson)
    assert d is not None and d.kind == "diverged" and d.suggestion == {"lr": 0.1}
    # The NaN stopped the run before it reached the curve: the error is the evidence.
    stopped = run({"loss": [2.0, 1.0]}, "diverged")
    nan = dataclasses.replace(stopped, error="loss became nan at step 3")
    d = diagnose(nan, lesson)
    assert d is not None and d.text("evidence") == "loss became nan at step 3 (it started at 2)"


def test_smaller_lr_stays_within_the_declared_range(lesson: Any) -> None:
    d = diagnose(run({"loss": [1.0, 100.0]}, lr=0.002), lesson)
    assert d is not None and d.kind == "diverged" and d.suggestion == {"lr": 0.001}
    d = diagnose(run({"loss": [1.0, 100.0]}, lr=0.001), lesson)
    assert d is not None and d.suggestion is None  # already at the minimum


def test_a_loss_that_barely_moves_is_a_plateau_with_a_larger_lr(lesson: Any) -> None:
    d = diagnose(run({"loss": [2.30 - 0.001 * i for i in range(50)]}, lr=0.01), lesson)
    assert d is not None and d.kind == "plateau" and d.suggestion == {"lr": 0.03}
    d = diagnose(run({"loss": [2.30] * 50}, lr=0.5), lesson)  # lr at its max: more epochs
    assert d is not None and d.kind == "plateau" and d.suggestion == {"epochs": 30}


def test_a_test_loss_rising_after_its_best_epoch_is_overfitting(lesson: Any) -> None:
    train = [1.0 / (i + 1) for i in range(10)]
    test = [1.0, 0.7, 0.55, 0.5, 0.52, 0.56, 0.6, 0.65, 0.7, 0.75]
    loss = [1.0 / (i + 1) for i in range(100)]
    d = diagnose(run({"loss": loss, "train_loss": train, "test_loss": test}), lesson)
    assert d is not None and d.kind == "overfitting"
    assert d.suggestion == {"epochs": 4} and "epoch 4" in d.text("evidence")


def test_a_dev_set_counts_as_the_held_out_side(lesson: Any) -> None:
    train = [1.0 / (i + 1) for i in range(10)]
    dev = [1.0, 0.7, 0.55, 0.5, 0.52, 0.56, 0.6, 0.65, 0.7, 0.75]
    loss = [1.0 / (i + 1) for i in range(100)]
    d = diagnose(run({"loss": loss, "train_loss": train, "dev_loss": dev}), lesson)
    assert d is not None and d.kind == "overfitting" and "dev_loss" in d.text("evidence")


def test_accuracy_gap_counts_too_but_a_flat_test_side_does_not(lesson: Any) -> None:
    loss = [1.0 / (i + 1) for i in range(100)]
    train = [0.80, 0.85, 0.90, 0.95, 0.97, 0.99]
    test = [0.80, 0.84, 0.86, 0.83, 0.82, 0.80]
    d = diagnose(run({"loss": loss, "train_acc": train, "test_acc": test}), lesson)
    assert d is not None and d.kind == "overfitting" and d.suggestion == {"epochs": 3}
    steady = [0.80, 0.84, 0.86, 0.86, 0.855, 0.86]
    d = diagnose(run({"loss": loss, "train_acc": train, "test_acc": steady}), lesson)
    assert d is not None and d.kind == "fine"


def test_step_losses_jumping_by_more_than_their_fall_are_noisy(lesson: Any) -> None:
    rng = random.Random(0)
    loss = [1.0 + 0.8 * rng.random() - 0.002 * i for i in range(200)]
    d = diagnose(run({"loss": loss}, batch_size=8), lesson)
    assert d is not None and d.kind == "noisy" and d.suggestion == {"batch_size": 32}


def test_a_smooth_falling_curve_is_fine(lesson: Any) -> None:
    d = diagnose(run({"loss": [2.3 * 0.95**i for i in range(200)]}), lesson)
    assert d is not None and d.kind == "fine" and d.suggestion is None
    assert d.as_json()["suggestion"] is None and d.lines()[0].startswith("fine: loss went")


def test_failed_runs_and_runs_without_a_loss_get_no_diagnosis(lesson: Any) -> None:
    assert diagnose(run({"loss": [1.0, 0.5]}, status="failed"), lesson) is None
    assert diagnose(run({"acc": [0.1, 0.9]}), lesson) is None


def test_as_json_is_what_the_end_event_carries(lesson: Any) -> None:
    d = diagnose(run({"loss": [1.0, 50.0]}, lr=0.3), lesson)
    assert d is not None
    assert d.as_json("zh")["suggestion"] == {"set": {"lr": 0.1}}
    assert d.as_json()["kind"] == "diverged" and d.rerun_label() == "lr=0.1"


def _stored(path: Path) -> RunResult:
    data = json.loads(path.read_text(encoding="utf-8"))
    history = {k: [(x, float(y)) for x, y in v] for k, v in data["history"].items()}
    return RunResult(
        data["lesson_id"], data["status"], data["params"], data["seed"], "cpu", "",
        data["seconds"], {}, history, {}, [],
    )  # fmt: skip


def test_no_false_alarm_on_any_default_run() -> None:
    """tools/default_runs.py stored each lesson's run at its defaults: the doctor must call
    each of them fine (or have nothing to judge: convolution-playground trains nothing)."""
    catalog = load_catalog()
    files = sorted(FIXTURES.glob("*.json"))
    assert len(files) == len(catalog.lessons) == 24
    verdicts = {}
    for path in files:
        result = _stored(path)
        loaded = catalog.get(result.lesson_id)
        assert loaded is not None and result.status == "completed"
        d = diagnose(result, loaded.lesson)
        verdicts[result.lesson_id] = d.kind if d else None
    assert verdicts.pop("convolution-playground") is None
    # Lesson 20 over-fits on purpose: its plain network learns 1,000 digits with 30 % wrong
    # labels by heart (test accuracy peaks after a few epochs, then falls while the training
    # accuracy climbs to ~1), so that dropout has something to fix. The doctor is right there.
    assert verdicts.pop("dropout-batchnorm") == "overfitting"
    # Lesson 24 shows over-fitting on a dev set on purpose, and picks the epoch by it.
    assert verdicts.pop("dev-set-early-stopping") == "overfitting"
    assert set(verdicts.values()) == {"fine"}, verdicts
