"""The Train pane's hyperparameter form: one checked input per hyperparameter of the lesson.

Above the inputs, ``#form-hint`` says how to run; folded (during and after a run) it is the
form's one-line summary (``lr=0.01  epochs=3 · f edits``) and the inputs are hidden. The
Train pane decides when a run may start; Enter in an input only asks for one
(:class:`ParamForm.Submitted`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, Static

from tutor.ui.widgets.run_text import form_summary

if TYPE_CHECKING:
    from tutor.lesson.schema import (  # annotations only: keeps pydantic out of start-up
        Hyperparam,
        Lesson,
    )

HINT = "Edit a value, then Enter or r runs the lesson."


class HyperparamValidator(Validator):
    """Checks an input with the lesson's own rules (``Hyperparam.parse``), message included."""

    def __init__(self, spec: Hyperparam) -> None:
        super().__init__()
        self.spec = spec

    def validate(self, value: str) -> ValidationResult:
        try:
            self.spec.parse(value)
        except ValueError as e:
            return self.failure(str(e))
        return self.success()


class ParamForm(Vertical):
    """``#form-hint`` and ``#param-form``: a row per hyperparameter (``#param-<name>``, with
    its range, help or error in ``#param-<name>-message``)."""

    class Submitted(Message):
        """Enter in a hyperparameter input: the learner asks for a run."""

    def __init__(self) -> None:
        super().__init__()
        self._lesson: Lesson | None = None
        self._lang = "en"

    def compose(self) -> ComposeResult:
        yield Static(HINT, id="form-hint", markup=False)
        yield Container(id="param-form")

    async def show(self, lesson: Lesson | None, values: Mapping[str, Any], lang: str) -> None:
        """Rebuild the inputs for ``lesson`` (None: none) with these values, unfolded."""
        self._lesson, self._lang = lesson, lang
        self.fold(False)
        form = self.query_one("#param-form", Container)
        await form.remove_children()  # awaited: the new inputs reuse the same ids
        if lesson is not None and lesson.hyperparams:
            await form.mount_all([self._row(s, values[s.name]) for s in lesson.hyperparams])

    def fold(self, folded: bool) -> None:
        """The hint becomes the summary of the values (the view hides the inputs), or back."""
        hint = self.query_one("#form-hint", Static)
        hint.update(form_summary(self.values()) if folded else HINT)

    def values(self) -> dict[str, str]:
        """The raw text of every hyperparameter input, by name."""
        return {
            i.id.removeprefix("param-"): i.value
            for i in self.query(".param-input").results(Input)
            if i.id
        }

    def validate(self) -> list[tuple[str, str]]:
        """Validate every input (marking bad ones red) and return ``(name, message)`` failures."""
        failures = []
        for field in self.query(".param-input").results(Input):
            result = field.validate(field.value)
            self._show_validation(field, result)
            if result is not None and not result.is_valid and field.id:
                failures.append(
                    (field.id.removeprefix("param-"), "; ".join(result.failure_descriptions))
                )
        return failures

    def _help(self, spec: Hyperparam) -> str:
        return spec.range_text() + (f" · {spec.help.get(self._lang)}" if spec.help else "")

    def _row(self, spec: Hyperparam, value: Any) -> Horizontal:
        help_text = self._help(spec)
        return Horizontal(
            Label(spec.name, classes="param-name"),
            Input(
                str(value),
                placeholder=spec.range_text(),
                id=f"param-{spec.name}",
                classes="param-input",
                validators=[HyperparamValidator(spec)],
                validate_on=["changed", "submitted"],
                tooltip=help_text,
            ),
            Static(
                help_text, id=f"param-{spec.name}-message", classes="param-message", markup=False
            ),
            classes="param-row",
        )

    def _show_validation(self, field: Input, result: ValidationResult | None) -> None:
        name = (field.id or "").removeprefix("param-")
        spec = self._lesson.hyperparam(name) if self._lesson else None
        message = self.query_one(f"#param-{name}-message", Static)
        if result is not None and not result.is_valid:
            message.update(Text("; ".join(result.failure_descriptions)))
            message.add_class("-error")
        elif spec is not None:
            message.update(self._help(spec))
            message.remove_class("-error")

    @on(Input.Changed, ".param-input")
    def _param_changed(self, event: Input.Changed) -> None:
        self._show_validation(event.input, event.validation_result)

    @on(Input.Submitted, ".param-input")
    def _param_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted())
