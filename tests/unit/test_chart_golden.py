"""Charts drawn by tutor.plot, compared with plain-text goldens in tests/golden/charts/.

A golden is what a learner sees (colour left out), so a diff of one reads like the chart.
After an intended change to the drawing, rewrite them and read the diff:

    UPDATE_GOLDEN=1 PYTHONPATH=$PWD .venv/bin/python -m pytest -q tests/unit/test_chart_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from chart_cases import cases

from tutor import plot

GOLDEN = Path(__file__).parents[1] / "golden" / "charts"
SIZES = [(80, 24), (120, 40)]


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    assert path.exists(), f"no golden {path.name}: run with UPDATE_GOLDEN=1 to write it"
    assert text + "\n" == path.read_text(encoding="utf-8"), f"{path.name} changed"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list(cases()))
def test_chart_matches_its_golden(name: str, size: tuple[int, int]) -> None:
    width, height = size
    rows = plot.render(cases()[name], width, height)
    assert len(rows) == height
    assert all(sum(len(text) for text, _ in row) == width for row in rows)
    check_golden(f"{name}-{width}x{height}", plot.to_plain(rows))
