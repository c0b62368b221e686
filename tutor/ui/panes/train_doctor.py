"""The Train pane's device check and run doctor, kept apart from its run lifecycle.

:class:`DoctorMixin` is mixed into :class:`~tutor.ui.panes.train.TrainPane`: a device the
training process cannot use refuses Run up front (``Not run: …``, as ``dl-tutor run`` does),
and after each run ``#diagnosis`` shows :func:`tutor.doctor.diagnose`'s verdict, whose
suggestion ``t`` sets in the form and runs.
"""

from __future__ import annotations

from textual.widgets import Input, TabPane

from tutor.doctor import diagnose
from tutor.events import RunResult
from tutor.lesson.catalog import LoadedLesson
from tutor.training.process import UNAVAILABLE, Trainer
from tutor.ui.messages import Say
from tutor.ui.run_link import ActiveRun
from tutor.ui.widgets.diagnosis import DiagnosisView
from tutor.ui.widgets.training import TrainingView


class DoctorPane(TabPane):
    """The base of the Train pane: device refusal and the doctor's verdict."""

    # Set by TrainPane.__init__ (and kept there); read here.
    trainer: Trainer | None
    device: str
    device_problem: str | None = None  # the training process cannot use `device`
    active_run: ActiveRun | None
    _lesson: LoadedLesson | None
    _lang: str

    @property
    def view(self) -> TrainingView:
        return self.query_one(TrainingView)

    def _say(self, text: str, level: str = "info") -> None:
        self.post_message(Say(text, level))

    def _showing(self, run: ActiveRun) -> bool:
        return self._lesson is not None and self._lesson.id == run.lesson_id

    def device_seen(self, label: str) -> None:
        """The training process described the device (``unavailable: …``: it cannot use it)."""
        unusable = label.startswith(UNAVAILABLE)
        self.device_problem = label.removeprefix(UNAVAILABLE) if unusable else None

    def _device_problem_now(self) -> str | None:
        """Worker thread: why ``device`` cannot be used, once a spare has checked it."""
        if self.device in ("auto", "cpu") or self.trainer is None:
            return None
        ready = self.trainer.wait_ready()
        self.device_seen(ready.device if ready else "")
        return self.device_problem

    def _refused(self, why: str) -> None:
        """The training worker refused the run before it started: nothing was stored."""
        run, self.active_run = self.active_run, None
        if run is not None and self._showing(run) and self.is_attached:
            self.view.set_running(False)
            self.view.reset_run_display("not run")
        self._say(f"Not run: {why}", "error")

    def _show_diagnosis(self, result: RunResult) -> None:
        """The doctor's verdict on ``result`` in ``#diagnosis``; its change is the rerun key."""
        lesson = self._lesson.lesson if self._lesson else None
        self.query_one(DiagnosisView).show(diagnose(result, lesson), self._lang)
        self.app.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rerun_suggested":  # offered only while the doctor suggests a change
            return bool(self.is_mounted and self.query_one(DiagnosisView).suggestion)
        return True

    def action_rerun_suggested(self) -> None:
        """t: set the form to the doctor's suggestion and run, so what runs is what shows."""
        suggestion = self.query_one(DiagnosisView).suggestion
        if not suggestion:
            return
        if self.active_run is None:  # else Run says why not, and the form is left alone
            for name, value in suggestion.items():
                self.view.query_one(f"#param-{name}", Input).value = str(value)
        self.post_message(TrainingView.RunRequested())
