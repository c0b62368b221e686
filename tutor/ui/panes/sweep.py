"""Sweeps and experiments in the Train pane: one lesson run over several settings.

:class:`SweepRuns` is part of :class:`~tutor.ui.panes.train.TrainPane` (its base class), kept
in this file so the single-run lifecycle stays readable there. A sweep goes one run after
another in the spare training process (``Trainer.sweep``, docs/experiments.md) on a thread
worker; each run's events reach the pane through their own
:class:`~tutor.ui.run_link.RunBridge`, wrapped in :class:`SweepRunMessage` so the pane's
single-run handlers never see them. The run in progress is the pane's ``active_run`` (so
``s`` stops the whole sweep, ``r`` is refused and quitting waits for it), each run is stored
as it ends, tagged like ``dl-tutor sweep`` does (``records["_sweep"]``), and the curves are
drawn on the Train pane's charts: the lesson's main series of each chart, one colour per run.

An experiment (``lesson.experiments``) is a sweep of its variants at the lesson's settings;
the learner predicts first (``#experiment-predict``), and after the runs sees the prediction
graded against them and the conclusion with their values (``#experiment-result``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from tutor import events, quiz
from tutor.events import RunResult
from tutor.lesson.catalog import LoadedLesson
from tutor.plot import PALETTE
from tutor.training.runner import RunRefused, resolve_params
from tutor.training.sweep import SweepEvent, best_run, grid, parse_values, sweep_tag, tagged
from tutor.ui import messages
from tutor.ui.messages import Point, RunUpdate, Say, StoreSnapshot, StoreSnapshotReady
from tutor.ui.run_link import ActiveRun, RunBridge
from tutor.ui.store_link import record_run
from tutor.ui.widgets.chart import LiveChart
from tutor.ui.widgets.sweep import SweepPanel, table_row, values_label
from tutor.ui.widgets.training import TrainingView

if TYPE_CHECKING:
    from tutor.lesson.schema import Experiment, Lesson
    from tutor.training.experiment import ExperimentResult
    from tutor.training.process import Trainer
    from tutor.ui.store_link import StoreLink

CHART_KINDS = ("loss", "accuracy", "other")


def parse_spec(lesson: Lesson, spec: str) -> list[dict[str, Any]]:
    """``lr = 0.01, 0.1; batch_size = 16, 64`` → every combination (the first varies slowest).

    Raises ``ValueError`` with a message for the learner: an unknown name, a value out of
    the lesson's range, fewer than two runs or more than a sweep allows.
    """
    items = [item for item in spec.split(";") if item.strip()]
    if not items:
        raise ValueError("type the values to compare, e.g. lr = 0.01, 0.1, 0.5")
    axes = []
    for item in items:
        if "=" not in item:
            raise ValueError(f"write NAME = VALUES, e.g. lr = 0.01, 0.1 (got {item.strip()!r})")
        axes.append(parse_values(lesson, item))
    names = [name for name, _ in axes]
    if len(set(names)) != len(names):
        raise ValueError("each hyperparameter is swept once: join its values with commas")
    variants = grid(axes)
    if len(variants) < 2:
        raise ValueError("a sweep compares at least two runs: give two values or more")
    return variants


class SweepRunMessage(Message, bubble=False):
    """A message of run ``index`` of ``sweep`` (RunStarted, RunProgressed, …), wrapped."""

    def __init__(self, sweep: ActiveSweep, index: int, message: Message) -> None:
        super().__init__()
        self.sweep, self.index, self.message = sweep, index, message

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, SweepRunMessage)
            and message.sweep is self.sweep
            and self.message.can_replace(message.message)
        )


class _Wrapper:
    """A RunBridge's target: posts each of its messages to the pane, wrapped."""

    def __init__(self, pane: Widget, sweep: ActiveSweep, index: int) -> None:
        self.pane, self.sweep, self.index = pane, sweep, index

    def post_message(self, message: Message) -> bool:
        return self.pane.post_message(SweepRunMessage(self.sweep, self.index, message))


@dataclass(eq=False)
class ActiveSweep:
    """A sweep going or done (``app.sweep``): its runs' values, settings and results."""

    loaded: LoadedLesson
    variants: list[dict[str, Any]]  # the swept values of each run
    params: list[dict[str, Any]]  # each run's hyperparameters
    tags: list[dict[str, Any]]  # records["_sweep"] of each stored run
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)  # ended and stored
    experiment: Experiment | None = None
    prediction: str = ""
    running: bool = True
    results: list[RunResult] = field(default_factory=list)
    points: list[dict[str, list[Point]]] = field(default_factory=list)  # live, per run
    bridges: list[RunBridge] = field(default_factory=list)
    last_progress: events.Progress | None = None
    experiment_result: ExperimentResult | None = None
    verdict: quiz.Verdict | None = None  # the prediction graded (experiments with predict)

    @property
    def lesson_id(self) -> str:
        return self.loaded.id

    def label(self, index: int) -> str:
        return values_label(self.variants[index])


class SweepRuns(Widget):
    """The sweeps of :class:`~tutor.ui.panes.train.TrainPane` (its second base class: Textual
    takes CSS type names from the first base only, and that must be TabPane)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("W", "sweep", "Sweep"),
        Binding("x", "experiments", "Experiments"),
    ]

    # Kept by TrainPane (ui/panes/train.py), which this class is part of.
    trainer: Trainer | None
    link: StoreLink | None
    device: str
    active_run: ActiveRun | None
    last_result: RunResult | None
    last_run_id: int | None
    _lesson: LoadedLesson | None
    _lang: str
    _last_done: threading.Event | None
    _finished: dict[str, tuple[RunResult, events.Progress | None]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sweep: ActiveSweep | None = None  # the latest sweep, of any lesson
        self._sweeps: dict[str, ActiveSweep] = {}  # per lesson: its latest sweep

    @property
    def _view(self) -> TrainingView:
        return self.query_one(TrainingView)

    @property
    def sweep_panel(self) -> SweepPanel:
        return self.query_one(SweepPanel)

    # -- showing a lesson (TrainPane.show calls this last) ---------------------------------

    def show_sweeps(self, loaded: LoadedLesson | None, lang: str) -> None:
        """The sweep area for ``loaded``, and its sweep if one is going or is what it ran last."""
        panel = self.sweep_panel
        panel.show_lesson(loaded.lesson if loaded else None, lang)
        sweep = self._sweeps.get(loaded.id) if loaded else None
        if sweep is None:
            return
        finished = self._finished.get(sweep.lesson_id)
        if sweep.running or (sweep.results and finished and finished[0] is sweep.results[-1]):
            self._draw_sweep(sweep)
            self._show_table(sweep)
            if not sweep.running:
                self._show_outcome(sweep)

    # -- keys -------------------------------------------------------------------------------

    def action_sweep(self) -> None:
        """W: to the sweep field (Enter runs it)."""
        if self._lesson is None:
            self.post_message(Say("Open a lesson first (l focuses the list)."))
            return
        self.sweep_panel.focus_spec()
        self.post_message(Say("Type the values to compare (lr = 0.01, 0.1, 0.5), then Enter."))

    def action_experiments(self) -> None:
        """x: to the lesson's experiments (Enter: predict, then Enter runs it)."""
        if not self.sweep_panel.focus_experiments():
            self.post_message(Say("This lesson has no experiments: W sweeps any value."))

    # -- starting ---------------------------------------------------------------------------

    @on(SweepPanel.SweepRequested)
    def _sweep_requested(self, message: SweepPanel.SweepRequested) -> None:
        loaded = self._lesson
        if loaded is None:
            return
        view = self._view
        try:
            variants = parse_spec(loaded.lesson, message.spec)
            failures = view.validate_params()
            if failures:
                raise ValueError(f"{failures[0][0]}: {failures[0][1]}")
            base = resolve_params(loaded, view.param_values())
        except (ValueError, RunRefused) as e:
            self._refuse(str(e))
            return
        self.start_sweep(loaded, variants, [{**base, **v} for v in variants])

    @on(SweepPanel.ExperimentRequested)
    def _experiment_requested(self, message: SweepPanel.ExperimentRequested) -> None:
        from tutor.training.experiment import run_params

        loaded = self._lesson
        exp = self.sweep_panel.experiment(message.experiment_id)
        if loaded is None or exp is None:
            return
        prediction = message.prediction.strip()
        if exp.predict is not None:
            problem = _prediction_problem(exp.predict, prediction)
            if problem:
                self._refuse(problem)
                return
        params = run_params(loaded.lesson, exp)
        self.start_sweep(loaded, exp.variants(), params, exp, prediction)

    def _refuse(self, text: str) -> None:
        self.sweep_panel.say(f"Not run: {text}", error=True)
        self.post_message(Say(f"Not run: {text}", "error"))

    def start_sweep(
        self,
        loaded: LoadedLesson,
        variants: list[dict[str, Any]],
        params: list[dict[str, Any]],
        experiment: Experiment | None = None,
        prediction: str = "",
    ) -> ActiveSweep | None:
        """Run ``params`` one after another (None: refused, the status line says why)."""
        if self.active_run is not None:
            title = self.active_run.loaded.lesson.title.get(self._lang)
            self._refuse(f"{title} is still running: press s to stop it first")
            return None
        tags = [sweep_tag(loaded.id, i, len(params), v) for i, v in enumerate(variants)]
        if experiment is not None:
            tags = [{**t, "experiment": experiment.id} for t in tags]
        sweep = ActiveSweep(loaded, variants, params, tags, experiment=experiment)
        sweep.prediction = prediction
        sweep.points = [{} for _ in params]
        sweep.bridges = [
            RunBridge(_Wrapper(self, sweep, i), -1 - i, loaded.id) for i in range(len(params))
        ]
        self.sweep = self._sweeps[loaded.id] = sweep
        self.active_run = self._run_of_sweep(sweep, 0)
        self._last_done = sweep.done  # quitting waits for it (TrainPane.finish)
        if self.link is not None and self.link.store is not None:
            self.link.expect()  # the worker stores every run; one snapshot at the end
        view = self._view
        view.begin_run(params[0])
        self._draw_sweep(sweep)
        self._show_table(sweep)
        self.sweep_panel.show_experiment_result(None)
        view.focus()  # out of the field: s stops, arrows scroll the curves
        what = f"experiment {experiment.id}" if experiment else "sweep"
        self.sweep_panel.say(f"{what}: run 1/{len(params)} {sweep.label(0)}…")
        n = len(params)
        self.post_message(Say(f"Running a {what} of {n} runs… (s stops the sweep)"))
        self._run_sweep(sweep, self._lang)
        return sweep

    def _run_of_sweep(self, sweep: ActiveSweep, index: int) -> ActiveRun:
        return ActiveRun(
            sweep.loaded, sweep.bridges[index], sweep.cancel, sweep.params[index], done=sweep.done
        )

    @work(thread=True, group="sweep", exit_on_error=False)
    def _run_sweep(self, sweep: ActiveSweep, lang: str) -> StoreSnapshot | None:
        assert self.trainer is not None, "no trainer before the first paint"
        link = self.link
        stored: list[StoreSnapshot] = []

        def sink(event: SweepEvent) -> None:
            sweep.bridges[event.index](event.event)
            if isinstance(event.event, events.RunFinished) and link and link.store:
                # Stored as each run ends: a sweep stopped or quit keeps its finished runs.
                result = tagged(event.event.result, sweep.tags[event.index])
                job = partial(record_run, result)
                stored.append(link.job(job, status_of=(sweep.lesson_id,), runs_of=sweep.lesson_id))

        try:
            self.trainer.sweep(
                sweep.loaded,
                sweep.params,
                sink=sink,
                cancel=sweep.cancel,
                device=self.device,
                lang=lang,
            )
            self.trainer.warm()  # the next run's process imports torch in the meantime
            return stored[-1] if stored else None
        finally:
            sweep.done.set()

    # -- the runs' messages -----------------------------------------------------------------

    @on(SweepRunMessage)
    def _sweep_message(self, wrapped: SweepRunMessage) -> None:
        sweep, index, message = wrapped.sweep, wrapped.index, wrapped.message
        update = message.bridge.drain() if hasattr(message, "bridge") else RunUpdate()
        if not self.is_attached or not sweep.running:
            return
        for name, points in update.points.items():
            sweep.points[index].setdefault(name, []).extend(points)
        if update.progress is not None:
            sweep.last_progress = update.progress
        showing = self._lesson is not None and self._lesson.id == sweep.lesson_id
        view = self._view
        run = self.active_run
        if isinstance(message, messages.RunStarted):
            run = self.active_run = self._run_of_sweep(sweep, index)
            run.started = message.info
            if showing:
                self._add_run_series(sweep, index)
                view.show_started(message.info)
                view.log_lines([f"▶ run {index + 1}/{len(sweep.params)}: {sweep.label(index)}"])
                self.sweep_panel.say(f"run {index + 1}/{len(sweep.params)}: {sweep.label(index)}…")
        elif isinstance(message, messages.DatasetChosen) and showing:
            view.show_dataset(message.dataset, message.note)
        if run is not None and update.progress is not None:
            run.progress = update.progress
        if showing:
            self._add_run_points(sweep, index, update.points)
            view.apply_update(RunUpdate(logs=update.logs, progress=update.progress))
        if isinstance(message, messages.RunFinished):
            result = message.result
            sweep.results.append(result)
            self.last_result = result
            if showing:
                mark = {"completed": "✓", "cancelled": "■"}.get(result.status, "✗")
                line = f"{mark} run {index + 1}: {sweep.label(index)} {result.status}"
                view.log_lines([f"{line} in {result.seconds:.2f} s"])
                self._show_table(sweep)

    def _chart_series(self, sweep: ActiveSweep) -> list[tuple[LiveChart, str, str]]:
        """Each chart that draws a sweep, with the lesson series it shows (its first of that
        kind) and that series' title."""
        out = []
        view = self._view
        for kind in CHART_KINDS:
            main = next((s for s in sweep.loaded.lesson.series if s.kind == kind), None)
            if main is not None:
                chart = view.query_one(f"#chart-{kind}", LiveChart)
                out.append((chart, main.name, main.title(self._lang)))
        return out

    def _draw_sweep(self, sweep: ActiveSweep) -> None:
        """Every run so far on the charts, one colour each (TrainingView.begin_run and
        show_lesson put the lesson's own series back)."""
        started = len(sweep.results) + (1 if sweep.running else 0)
        per = {s.name: s.per for s in sweep.loaded.lesson.series}
        for chart, name, title in self._chart_series(sweep):
            kind = (chart.id or "").removeprefix("chart-")
            chart.configure(
                f"{'other curves' if kind == 'other' else kind} · {title}",
                [],
                empty_text="waiting for the first points…",
                y_range=(0.0, 1.0) if kind == "accuracy" else None,
            )
            for i in range(min(started, len(sweep.params))):
                colour = PALETTE[i % len(PALETTE)]
                chart.add_series(f"{name}#{i}", sweep.label(i), per[name], colour)
                history = sweep.results[i].history if i < len(sweep.results) else sweep.points[i]
                chart.add_points(f"{name}#{i}", history.get(name, []))
        epochs = sweep.params[0].get("epochs")
        self._view.set_epochs(epochs if isinstance(epochs, int) else None)

    def _add_run_series(self, sweep: ActiveSweep, index: int) -> None:
        per = {s.name: s.per for s in sweep.loaded.lesson.series}
        for chart, name, _ in self._chart_series(sweep):
            colour = PALETTE[index % len(PALETTE)]
            chart.add_series(f"{name}#{index}", sweep.label(index), per[name], colour)

    def _add_run_points(
        self, sweep: ActiveSweep, index: int, points: dict[str, list[Point]]
    ) -> None:
        for chart, name, _ in self._chart_series(sweep):
            if points.get(name):
                chart.add_points(f"{name}#{index}", points[name])

    def _show_table(self, sweep: ActiveSweep) -> None:
        from tutor.doctor import diagnose

        results = sweep.results
        names = list(dict.fromkeys(n for r in results for n in r.metrics))[:3]
        best = best_run(sweep.loaded.lesson, results) if not sweep.running else None
        header = ["run", "values", *names, "status", "checks", "doctor", "time"]
        rows = []
        for i, result in enumerate(results):
            diagnosis = diagnose(result, sweep.loaded.lesson)
            kind = diagnosis.kind if diagnosis else None
            rows.append(
                table_row(i, sweep.variants[i], result, names, best[0] if best else None, kind)
            )
        self.sweep_panel.show_table(header, rows)

    # -- the end ----------------------------------------------------------------------------

    @on(Worker.StateChanged)
    def _sweep_worker_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.node is not self or worker.group != "sweep":
            return
        event.stop()
        if state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        sweep = self.sweep if self.sweep is not None and self.sweep.running else None
        snapshot = worker.result if state == WorkerState.SUCCESS else None
        if sweep is not None and self.is_attached:
            self._sweep_ended(sweep, worker.error if state == WorkerState.ERROR else None)
        if isinstance(snapshot, StoreSnapshot) and isinstance(snapshot.written, int):
            self.last_run_id = snapshot.written
        if self.link is not None and self.link.store is not None:
            self.post_message(StoreSnapshotReady(snapshot, "run"))  # the App counted it

    def _sweep_ended(self, sweep: ActiveSweep, error: BaseException | None) -> None:
        sweep.running = False
        if self.active_run is not None and self.active_run.cancel is sweep.cancel:
            self.active_run = None
        if sweep.results:
            self._finished[sweep.lesson_id] = (sweep.results[-1], sweep.last_progress)
        if sweep.experiment is not None:
            self._grade(sweep)
        if self._lesson is not None and self._lesson.id == sweep.lesson_id:
            view = self._view
            if sweep.results:
                view.show_result(sweep.results[-1], sweep.last_progress)  # its numbers, log
            else:
                view.set_running(False)
            self._draw_sweep(sweep)  # every run's curves again (show_result drew only the last)
            self._show_table(sweep)
            self._show_outcome(sweep)
        if error is not None:
            self.post_message(Say(f"The sweep stopped with an internal error: {error}", "error"))
        else:
            self.post_message(Say(_outcome(sweep), "ok" if _complete(sweep) else "warning"))

    def _grade(self, sweep: ActiveSweep) -> None:
        from tutor.training.experiment import read

        exp = sweep.experiment
        assert exp is not None
        sweep.experiment_result = found = read(exp, sweep.params, sweep.results)
        if exp.predict is not None and found.complete and sweep.prediction:
            sweep.verdict = quiz.grade(exp.predict, sweep.prediction, found.values, self._lang)

    def _show_outcome(self, sweep: ActiveSweep) -> None:
        panel = self.sweep_panel
        panel.say(_outcome(sweep), error=not sweep.results)
        found = sweep.experiment_result
        if found is None:
            return
        lines = Text()
        if not found.complete:
            done = len(found.results)
            lines.append(f"Stopped after {done} of {len(found.params)} runs: ", style="yellow")
            lines.append("the prediction is graded, and the conclusion drawn, on all of them.")
            panel.show_experiment_result(lines)
            return
        verdict = sweep.verdict
        if verdict is not None:
            style = "green" if verdict.correct else "red"
            mark = "✓" if verdict.correct else "✗"
            lines.append(f"your prediction: {sweep.prediction} · {mark} {verdict.message}", style)
            if not verdict.correct and verdict.expected:
                lines.append(f" The runs say: {verdict.expected}")
            lines.append("\n")
        lines.append(found.conclusion(self._lang))
        shown = {True: "yes", False: "no", None: "cannot tell (a run did not complete)"}
        lines.append(f"\neffect shown: {shown[found.shown]}", style="dim")
        panel.show_experiment_result(lines)


def _prediction_problem(question: Any, answer: str) -> str | None:
    """Why ``answer`` cannot be a prediction of ``question`` (None: it can)."""
    if not answer:
        return "predict first: type your answer in the field, then Enter"
    if question.kind == "choice":
        try:
            quiz.parse_choice(answer, len(question.options or []))
        except quiz.AnswerError as e:
            return str(e)
    return None


def _complete(sweep: ActiveSweep) -> bool:
    return len(sweep.results) == len(sweep.params) and all(
        r.status == "completed" for r in sweep.results
    )


def _outcome(sweep: ActiveSweep) -> str:
    """``Sweep done: 3/3 runs completed · best ★ lr=0.1 (loss 0.0123)``."""
    what = "Experiment" if sweep.experiment else "Sweep"
    n, done = len(sweep.params), sum(r.status == "completed" for r in sweep.results)
    text = f"{what} done: {done}/{n} runs completed"
    if len(sweep.results) < n or any(r.status == "cancelled" for r in sweep.results):
        text = f"{what} stopped: {done}/{n} runs completed, the rest skipped"
    best = best_run(sweep.loaded.lesson, sweep.results)
    if best is not None:
        index, metric, value = best
        text += f" · best ★ {sweep.label(index)} ({metric} {events.format_metric(value)})"
    return text
