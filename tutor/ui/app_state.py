"""What tests and tools read on the app (docs/testing.md) but others keep.

The panes keep the runs, the overlays, the check and the grading; start-up keeps its own
progress; the store link keeps the store. :class:`AppState`, mixed into
:class:`~tutor.ui.app.TutorApp`, reads them through, with the default of the moment before
the panes (or the link) exist, so ``app.active_run`` and the rest keep working wherever the
state moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from tutor.events import RunResult
    from tutor.progress import ProgressStore
    from tutor.training.process import Trainer
    from tutor.ui.panes import Panes
    from tutor.ui.panes.sweep import ActiveSweep
    from tutor.ui.run_link import ActiveRun
    from tutor.ui.startup import StartUp
    from tutor.ui.store_link import StoreLink
    from tutor.ui.widgets.training import TrainingView

T = TypeVar("T")


class _FromPane(Generic[T]):
    """A read-only app attribute that a pane keeps: ``app.<attr>`` reads ``panes.<pane>.<attr>``,
    or ``default`` in the moment before the panes are mounted."""

    def __init__(self, pane: str, attr: str, default: T) -> None:
        self.pane, self.attr, self.default = pane, attr, default

    def __get__(self, app: AppState | None, owner: type[AppState]) -> T:
        if app is None or app._panes is None:
            return self.default
        value: T = getattr(getattr(app._panes, self.pane), self.attr)
        return value


class AppState:
    """The documented attributes of the app that read through to their owners."""

    # Set by TutorApp (see its __init__ and its start-up).
    _panes: Panes | None  # mounted right after the first paint
    _startup: StartUp
    _link: StoreLink | None  # made at start-up
    _given_store: ProgressStore | None
    # Set by the CLI on a terminal that cannot show Unicode: shown once at start.
    terminal_note: str | None = None

    @property
    def startup_done(self) -> bool:
        """Lessons loaded, store opened, the first lesson shown."""
        return self._startup.done

    @property
    def first_paint_at(self) -> float | None:
        """``time.perf_counter()`` at the first paint."""
        return self._startup.first_paint_at

    @property
    def torch_ready(self) -> bool:
        """A spare training process has imported torch (the preload worker is done)."""
        return self._startup.torch_ready

    @property
    def store(self) -> ProgressStore | None:
        return self._link.store if self._link is not None else self._given_store

    @property
    def store_pending(self) -> int:
        """Store jobs (and runs to store) not yet reflected in the UI; start-up is the first."""
        return self._link.pending if self._link is not None else 1

    # Kept by the panes, read here (docs/testing.md); the default before they are mounted.
    active_run: _FromPane[ActiveRun | None] = _FromPane("train", "active_run", None)
    last_result: _FromPane[RunResult | None] = _FromPane("train", "last_result", None)
    last_run_id: _FromPane[int | None] = _FromPane("train", "last_run_id", None)
    overlays: _FromPane[dict[int, int]] = _FromPane("train", "overlays", {})
    my_code: _FromPane[set[str]] = _FromPane("train", "my_code", set())
    sweep: _FromPane[ActiveSweep | None] = _FromPane("train", "sweep", None)
    checking: _FromPane[bool] = _FromPane("exercise", "checking", False)
    grading: _FromPane[int] = _FromPane("quiz", "grading", 0)

    def completed_run(self, lesson_id: str) -> RunResult | None:
        """The run quiz answers are graded against: the lesson's latest completed run, from
        this session or, after a restart, from the store."""
        return self._panes.train.completed_run(lesson_id) if self._panes else None

    @property
    def training(self) -> TrainingView:
        assert self._panes is not None, "no panes before the first paint"
        return self._panes.train.view

    @property
    def trainer(self) -> Trainer:
        """Trains lessons in child processes, one spare kept warm (made at the first paint)."""
        assert self._startup.trainer is not None, "no trainer before the first paint"
        return self._startup.trainer
