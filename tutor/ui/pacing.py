"""How often the Train pane redraws while a run trains: as often as a small CPU budget allows.

Each screen update during a run (plotext drawing the curves on the drawing thread, then
Textual painting them) costs the UI process CPU that the training process would otherwise
use: on a 2-core machine the training process wants both cores. So the pace is measured,
not fixed. Before each update the UI's CPU time since the last one is compared with a
budget, and the next update comes sooner or later: a fast machine redraws several times a
second, a slow or busy one about once a second.

Plain Python, no Textual: :class:`Pacer` is fed CPU seconds and gives back the next interval.
"""

from __future__ import annotations

from dataclasses import dataclass

# The share of one core the UI may spend while a run trains (updates and all else it does).
# On a 2-core machine the training process's two threads want both cores, and each moment the
# UI takes costs the run about as much wall time (one thread waits for the other). A 3-epoch
# CNN on 60k images took 20.1-20.35 s in the app at 4 %, 19.7-19.8 s at 2 %, and 18.4-19.7 s
# with no UI at all (bench/perf.md); at 4 % the charts were redrawn every 0.33 s.
BUDGET = 0.02
FASTEST = 0.25  # seconds: four updates a second is as live as a learner can follow
SLOWEST = 2.0  # seconds: slower looks stuck, whatever it costs
IDLE = 0.5  # seconds between checks for work when no run is going (a resize, overlays)


@dataclass
class Pacer:
    """Spaces updates so the UI's CPU time stays near ``budget`` of one core.

    If the UI spent ``busy`` CPU seconds since the last update, waiting ``busy / budget``
    seconds before the next one spends exactly the budget. Each measurement moves the
    interval halfway there (one costly update, such as a layout, does not swing it), within
    ``fastest..slowest``. Work that costs CPU whatever the pace (messages from the run)
    makes the interval longer, never shorter, so the budget still holds when it can.
    """

    budget: float = BUDGET
    fastest: float = FASTEST
    slowest: float = SLOWEST
    interval: float = IDLE

    def next_interval(self, busy_seconds: float) -> float:
        """The wait before the next update, after the UI spent ``busy_seconds`` of CPU
        time since the last one."""
        ideal = max(0.0, busy_seconds) / self.budget
        return self.reset((self.interval + ideal) / 2)

    def reset(self, interval: float = IDLE) -> float:
        """Start again from ``interval`` (a new run), kept within ``fastest..slowest``."""
        self.interval = min(self.slowest, max(self.fastest, interval))
        return self.interval
