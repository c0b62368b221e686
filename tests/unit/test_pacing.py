"""The pace of screen updates during a run: a CPU budget, not a fixed rate."""

from __future__ import annotations

import pytest

from tutor.ui.pacing import FASTEST, IDLE, SLOWEST, Pacer


def settle(pacer: Pacer, cost_per_update: float, cost_per_second: float = 0.0) -> float:
    """Feed the pacer what the UI would spend, update after update; the final interval."""
    for _ in range(40):
        interval = pacer.interval
        pacer.next_interval(cost_per_update + cost_per_second * interval)
    return pacer.interval


def test_updates_are_spaced_so_their_cost_spends_the_budget() -> None:
    pacer = Pacer(budget=0.04)
    interval = settle(pacer, cost_per_update=0.03)
    assert interval == pytest.approx(0.75, rel=1e-3)  # 30 ms every 0.75 s is 4 %


def test_cost_that_does_not_depend_on_the_pace_lengthens_the_interval() -> None:
    pacer = Pacer(budget=0.04)
    interval = settle(pacer, cost_per_update=0.02, cost_per_second=0.01)
    share = 0.02 / interval + 0.01
    assert share == pytest.approx(0.04, rel=1e-3) and interval == pytest.approx(2 / 3, rel=1e-3)


@pytest.mark.parametrize(
    ("cost", "expected"),
    [(0.0, FASTEST), (0.001, FASTEST), (1.0, SLOWEST), (60.0, SLOWEST)],
)
def test_the_interval_stays_within_its_bounds(cost: float, expected: float) -> None:
    assert settle(Pacer(), cost) == expected


def test_one_costly_update_moves_the_interval_only_halfway() -> None:
    pacer = Pacer(budget=0.04)
    settle(pacer, 0.02)  # 0.5 s
    assert pacer.next_interval(0.06) == pytest.approx((0.5 + 1.5) / 2)


def test_reset_starts_a_run_from_the_idle_pace() -> None:
    pacer = Pacer()
    settle(pacer, 1.0)
    assert pacer.reset() == IDLE
    assert pacer.reset(0.0) == FASTEST and pacer.reset(10.0) == SLOWEST
