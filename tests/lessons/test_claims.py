"""The lessons' claims about seeds, run over seeds 0-4: what the text promises is measured.

Lesson 20 says dropout narrows the train-test gap and batch norm speeds up training at
every seed 0-4; lessons 17 and 18 say the small RNNs learn "ohlol" at seed 0 and at least
4 of seeds 0-4. Slow (about two minutes on 2 CPU cores):
``pytest -m slow tests/lessons/test_claims.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.lesson.loader import load_catalog
from tutor.training.runner import run_lesson

LESSONS = {x.id: x for x in load_catalog().lessons}
SEEDS = range(5)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DL_TUTOR_OFFLINE", "1")
    monkeypatch.setenv("DL_TUTOR_CACHE_DIR", str(tmp_path / "cache"))


def run_at(lesson_id: str, seed: int):
    loaded = LESSONS[lesson_id]
    result = run_lesson(loaded, {**loaded.lesson.defaults(), "seed": seed}, device="cpu")
    assert result.status == "completed", f"{lesson_id} seed {seed}: {result.error}"
    return result


@pytest.mark.slow
def test_dropout_and_batch_norm_show_their_effect_at_every_seed() -> None:
    failed = []
    for seed in SEEDS:
        result = run_at("dropout-batchnorm", seed)
        failed += [(seed, c.name.en, c.value) for c in result.checks if not c.passed]
        r = result.records
        # The effects themselves, not only the checks' thresholds.
        assert r["final_gap_dropout"] < r["final_gap_plain"], seed
        assert r["memorised_dropout"] < r["memorised_plain"], seed
        assert r["bn_epoch1_loss_bn"] < r["bn_epoch1_loss_plain"], seed
    assert not failed, failed


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lesson_id", "records"),
    [("rnn-cell", ("predicted",)), ("rnn-module", ("onehot_predicted", "embedding_predicted"))],
)
def test_rnns_learn_ohlol_at_seed_0_and_most(lesson_id: str, records: tuple[str, ...]) -> None:
    learned = {name: [] for name in records}
    for seed in SEEDS:
        result = run_at(lesson_id, seed)
        for name in records:
            if result.records[name] == "ohlol":
                learned[name].append(seed)
    for name, seeds in learned.items():
        assert 0 in seeds, f"{lesson_id} {name}: not learned at seed 0 (learned at {seeds})"
        assert len(seeds) >= 4, f"{lesson_id} {name}: learned only at seeds {seeds}"
