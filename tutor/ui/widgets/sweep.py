"""The Train pane's sweep and experiment area: what the learner types and what a sweep shows.

Display only: the Train pane runs sweeps (:mod:`tutor.ui.panes.sweep`); this widget asks for
them with messages (:class:`SweepPanel.SweepRequested`, :class:`SweepPanel.ExperimentRequested`)
and shows what it is told: a line about the sweep, its results table, the lesson's
experiments, and an experiment's graded prediction and conclusion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tutor.events import RunResult, format_metric

if TYPE_CHECKING:
    from tutor.lesson.schema import Experiment, Lesson

SPEC_HELP = "W: sweep · e.g. lr = 0.01, 0.1, 0.5 or lr = 0.001:0.1:3log; batch_size = 16, 64"
BEST_MARK = "★"


def values_label(values: Mapping[str, Any]) -> str:
    """``lr=0.1 batch_size=16``: a run of a sweep, in legends and in the table."""
    return " ".join(f"{k}={v}" for k, v in values.items())


def table_row(
    index: int,
    values: Mapping[str, Any],
    result: RunResult,
    names: Sequence[str],
    best: int | None,
    diagnosis: str | None,
) -> list[str | Text]:
    """One row of ``#sweep-table``: run, values, final metrics, status, checks, doctor, time."""
    mark = f" {BEST_MARK}" if best == index else ""
    metrics = [format_metric(result.metrics[n]) if n in result.metrics else "–" for n in names]
    passed = sum(c.passed for c in result.checks)
    checks = f"{passed}/{len(result.checks)}" if result.checks else "–"
    status = Text(result.status, style="green" if result.status == "completed" else "yellow")
    return [
        f"{index + 1}{mark}",
        values_label(values),
        *metrics,
        status,
        checks,
        diagnosis or "–",
        f"{result.seconds:.1f}s",
    ]


class SweepPanel(Vertical):
    """``#sweep``: the ``#sweep-spec`` field, ``#sweep-message``, ``#sweep-table`` and the
    lesson's ``#experiments`` with ``#experiment-predict`` and ``#experiment-result``."""

    DEFAULT_CSS = """
    SweepPanel { height: auto; margin-top: 1; }
    SweepPanel #sweep-row { height: 1; }
    SweepPanel #sweep-row Label { width: 7; }
    SweepPanel #sweep-spec { width: 1fr; height: 1; border: none; padding: 0 1; }
    SweepPanel #sweep-message, SweepPanel #experiment-question { height: auto; }
    SweepPanel #sweep-message.-error { color: $error; }
    SweepPanel #sweep-table { height: auto; max-height: 14; margin-bottom: 1; }
    SweepPanel #experiments-title { margin-top: 1; text-style: bold; }
    SweepPanel #experiments { height: auto; max-height: 8; }
    SweepPanel #experiment-predict { height: 1; border: none; padding: 0 1; }
    SweepPanel #experiment-result { height: auto; margin-bottom: 1; }
    """

    class SweepRequested(Message):
        """Enter in ``#sweep-spec``: sweep over ``spec`` (``lr = 0.01, 0.1; epochs = 2, 4``)."""

        def __init__(self, spec: str) -> None:
            super().__init__()
            self.spec = spec

    class ExperimentRequested(Message):
        """Run the experiment ``experiment_id`` after the learner predicted ``prediction``."""

        def __init__(self, experiment_id: str, prediction: str) -> None:
            super().__init__()
            self.experiment_id = experiment_id
            self.prediction = prediction

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._experiments: list[Experiment] = []
        self._lang = "en"

    def compose(self) -> ComposeResult:
        with Horizontal(id="sweep-row"):
            yield Label("sweep", classes="param-name")
            yield Input(placeholder="lr = 0.01, 0.1, 0.5", id="sweep-spec")
        yield Static(Text(SPEC_HELP, style="dim"), id="sweep-message", markup=False)
        yield DataTable(id="sweep-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="experiments-title", markup=False)
        yield OptionList(id="experiments")
        yield Static("", id="experiment-question", markup=False)
        yield Input(id="experiment-predict")
        yield Static("", id="experiment-result", markup=False)

    def on_mount(self) -> None:
        self.query_one("#sweep-table").display = False
        self.show_lesson(None)

    # -- the lesson ---------------------------------------------------------------------

    def show_lesson(self, lesson: Lesson | None, lang: str = "en") -> None:
        """The form empty, the table hidden, the lesson's experiments listed (if any)."""
        self._lang = lang
        self._experiments = list(lesson.experiments) if lesson else []
        self.display = lesson is not None
        self.say(SPEC_HELP)
        self.show_table([], [])
        exps = self.query_one("#experiments", OptionList)
        exps.clear_options()
        exps.add_options(Option(f"? {e.question.get(lang)}", id=e.id) for e in self._experiments)
        for widget_id in ("#experiments-title", "#experiments", "#experiment-question"):
            self.query_one(widget_id).display = bool(self._experiments)
        self.query_one("#experiments-title", Static).update(
            "experiments · x: pick one · enter: predict, then enter runs it"
        )
        self.show_experiment_result(None)
        if self._experiments:
            exps.highlighted = 0
            self._show_question(self._experiments[0])
        else:
            self.query_one("#experiment-predict").display = False

    def experiment(self, experiment_id: str) -> Experiment | None:
        return next((e for e in self._experiments if e.id == experiment_id), None)

    def _show_question(self, exp: Experiment) -> None:
        from tutor.quiz import option_label

        predict = exp.predict
        field = self.query_one("#experiment-predict", Input)
        field.display = predict is not None
        field.value = ""
        if predict is None:
            text = Text("no prediction asked: enter runs it", style="dim")
        else:
            lines = [f"predict: {predict.prompt.get(self._lang)}"]
            lines += [
                f"  {option_label(i)}) {o.get(self._lang)}"
                for i, o in enumerate(predict.options or [])
            ]
            text = Text("\n".join(lines))
            field.placeholder = "your prediction, then enter runs the experiment"
        self.query_one("#experiment-question", Static).update(text)

    # -- what a sweep shows ---------------------------------------------------------------

    def say(self, text: str | Text, error: bool = False) -> None:
        """``#sweep-message``: help, a refusal, the run in progress, the outcome."""
        message = self.query_one("#sweep-message", Static)
        message.update(Text(SPEC_HELP, style="dim") if text == SPEC_HELP else text)
        message.set_class(error, "-error")

    def show_table(self, header: Sequence[str], rows: Sequence[Sequence[str | Text]]) -> None:
        """``#sweep-table``: one row per finished run (row keys ``"0"``, ``"1"``…)."""
        table = self.query_one("#sweep-table", DataTable)
        table.clear(columns=True)
        table.display = bool(rows)
        if not rows:
            return
        table.add_columns(*header)
        for i, row in enumerate(rows):
            table.add_row(*row, key=str(i))

    def show_experiment_result(self, text: Text | str | None) -> None:
        result = self.query_one("#experiment-result", Static)
        result.display = text is not None
        result.update(text or "")

    # -- keys -----------------------------------------------------------------------------

    def focus_spec(self) -> None:
        spec = self.query_one("#sweep-spec", Input)
        spec.focus()
        self.call_after_refresh(spec.scroll_visible, animate=False)

    def focus_experiments(self) -> bool:
        """Focus the experiment list; False when the lesson has none."""
        if not self._experiments:
            return False
        exps = self.query_one("#experiments", OptionList)
        exps.focus()
        self.call_after_refresh(exps.scroll_visible, animate=False)
        return True

    @on(Input.Submitted, "#sweep-spec")
    def _spec_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.SweepRequested(event.value))

    @on(OptionList.OptionHighlighted, "#experiments")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        exp = self.experiment(event.option.id or "")
        if exp is not None:
            self._show_question(exp)

    @on(OptionList.OptionSelected, "#experiments")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on an experiment: predict first (if it asks), else run it."""
        event.stop()
        exp = self.experiment(event.option.id or "")
        if exp is None:
            return
        if exp.predict is not None:
            self.query_one("#experiment-predict", Input).focus()
        else:
            self.post_message(self.ExperimentRequested(exp.id, ""))

    @on(Input.Submitted, "#experiment-predict")
    def _predicted(self, event: Input.Submitted) -> None:
        event.stop()
        exps = self.query_one("#experiments", OptionList)
        index = exps.highlighted
        if index is not None and index < len(self._experiments):
            self.post_message(self.ExperimentRequested(self._experiments[index].id, event.value))
