"""The typed shape of a lesson file (YAML), validated with pydantic.

docs/lesson-format.md documents every field; keep the two in step.
Unknown fields are errors (``extra="forbid"``) so typos are caught, and
expressions are parsed here so a broken one is reported at load time.
"""

from __future__ import annotations

import itertools
import keyword
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from tutor.lesson import expr
from tutor.lesson.spec import parse_spec

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A piece of text in English with an optional Simplified Chinese version.

    Other languages come from lesson packs' translations (tutor.lesson.translations), which
    fill ``_more`` after loading; a lesson file itself holds only ``en`` and ``zh``.
    """

    en: str
    zh: str | None = None
    _more: dict[str, str] = PrivateAttr(default_factory=dict)

    def get(self, lang: str = "en") -> str:
        if lang == "zh":
            return self.zh or self.en
        return self._more.get(lang) or self.en

    def add_translation(self, lang: str, text: str) -> None:
        self._more[lang] = text


def _text(value: Any) -> Any:
    # A plain string is shorthand for English-only text.
    return {"en": value} if isinstance(value, str) else value


# Use ``LText`` for every learner-facing string so a plain string is accepted too.
LText = Annotated[Text, BeforeValidator(_text)]


def _not_keyword(name: str) -> str:
    if keyword.iskeyword(name):
        raise ValueError(f"{name!r} is a Python keyword, so no check or answer could use it")
    return name


# A name checks and quiz answers use in expressions (tutor.lesson.names has the whole rule).
ExprName = Annotated[str, Field(pattern=NAME_PATTERN), AfterValidator(_not_keyword)]


class Hyperparam(Strict):
    name: ExprName
    type: Literal["int", "float", "str", "bool", "choice"]
    default: int | float | str | bool
    min: float | None = None
    max: float | None = None
    choices: list[str | int | float] | None = None
    help: LText | None = None

    @model_validator(mode="after")
    def _default_is_allowed(self) -> Hyperparam:
        if self.type == "choice" and not self.choices:
            raise ValueError("a 'choice' hyperparameter needs 'choices'")
        problem = self.problem_with(self.default)
        if problem:
            raise ValueError(f"default {self.default!r}: {problem}")
        return self

    def parse(self, raw: str | int | float | bool) -> int | float | str | bool:
        """Turn user input (a string from the CLI or a form) into a checked value."""
        value: Any = raw
        if isinstance(raw, str):
            text = raw.strip()
            try:
                if self.type == "int":
                    value = _parse_int(text)
                elif self.type == "float":
                    value = float(text)
                elif self.type == "bool":
                    lowered = text.lower()
                    if lowered not in {"true", "false", "1", "0", "yes", "no", "on", "off"}:
                        raise ValueError
                    value = lowered in {"true", "1", "yes", "on"}
                elif self.type == "choice":
                    value = next((c for c in self.choices or [] if str(c) == text), text)
                else:
                    value = text
            except ValueError:
                raise ValueError(f"{self.name}: {raw!r} is not a valid {self.type}") from None
        problem = self.problem_with(value)
        if problem:
            raise ValueError(f"{self.name}: {problem}")
        return value

    def problem_with(self, value: Any) -> str | None:
        if self.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{value!r} is not an int"
        if self.type == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"{value!r} is not a number"
            if value != value or value in (float("inf"), float("-inf")):
                return f"{value!r} is not a finite number"
        if self.type == "bool" and not isinstance(value, bool):
            return f"{value!r} is not true/false"
        if self.type == "str" and not isinstance(value, str):
            return f"{value!r} is not text"
        if self.type == "choice" and value not in (self.choices or []):
            return f"{value!r} is not one of {self.choices}"
        if self.type in ("int", "float"):
            if self.min is not None and value < self.min:
                return f"{value} is below the minimum {self.min:g}"
            if self.max is not None and value > self.max:
                return f"{value} is above the maximum {self.max:g}"
        return None

    def range_text(self) -> str:
        if self.type == "choice":
            return " | ".join(str(c) for c in self.choices or [])
        if self.min is not None or self.max is not None:
            lo = "" if self.min is None else f"{self.min:g}"
            hi = "" if self.max is None else f"{self.max:g}"
            return f"{lo}..{hi}"
        return self.type


def _parse_int(text: str) -> int:
    """``3``, ``3.0`` and ``1e3`` are ints; ``2.5`` is not."""
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise
        return int(number)


class Series(Strict):
    """One curve: the lesson reports values under ``name``; ``kind`` picks the chart."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    kind: Literal["loss", "accuracy", "other"]
    per: Literal["step", "epoch"] = "epoch"
    label: LText | None = None

    def title(self, lang: str = "en") -> str:
        return self.label.get(lang) if self.label else self.name


class Check(Strict):
    """An automatic outcome check: ``expr`` is computed from the run and compared."""

    name: LText
    expr: str
    at_most: float | None = None
    at_least: float | None = None
    equals: float | int | str | bool | list[Any] | None = None
    tolerance: float = 0.0
    when: str | None = None  # only applies when this expression is true (e.g. a dataset)

    @field_validator("expr", "when")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value is not None:
            expr.compile_expr(value)
        return value

    @model_validator(mode="after")
    def _one_comparison(self) -> Check:
        given = [x for x in (self.at_most, self.at_least, self.equals) if x is not None]
        if len(given) != 1:
            raise ValueError("a check needs exactly one of 'at_most', 'at_least', 'equals'")
        return self

    def names(self) -> set[str]:
        found = expr.names_in(self.expr)
        if self.when:
            found |= expr.names_in(self.when)
        return found


class Question(Strict):
    """A quiz question. ``answer`` is an expression over the run's values (grounded) or,
    for conceptual questions, a literal (an option index for ``choice``)."""

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    kind: Literal["shape", "number", "choice"]
    prompt: LText
    answer: str | int | float | list[int]
    options: list[LText] | None = None
    tolerance: float = 0.0
    explain: LText | None = None  # shown after a reveal or a second wrong attempt
    hint: LText | None = None  # shown after a wrong answer: the concept, never the value
    # A prediction: answered before pressing run, graded against that run (docs/quiz.md).
    predict: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if isinstance(self.answer, str):
            expr.compile_expr(self.answer)
        if self.predict and not isinstance(self.answer, str):
            raise ValueError(
                "a 'predict' question is graded against the run: its answer must be an "
                "expression over the run's values, not a literal"
            )
        if self.kind == "choice":
            if not self.options or len(self.options) < 2:
                raise ValueError("a 'choice' question needs at least two 'options'")
            if isinstance(self.answer, int) and not 0 <= self.answer < len(self.options):
                raise ValueError(
                    f"answer {self.answer} is out of range: options are 0..{len(self.options) - 1}"
                )
        elif self.options:
            raise ValueError(f"'options' only belong to 'choice' questions, not '{self.kind}'")
        if self.kind in ("shape", "number") and not isinstance(self.answer, str):
            if self.kind == "number" and isinstance(self.answer, (int, float)):
                return self
            if self.kind == "shape" and isinstance(self.answer, list):
                return self
            raise ValueError(f"a '{self.kind}' answer must be an expression or a literal value")
        if self.tolerance < 0:
            raise ValueError("tolerance must be >= 0")
        return self

    @property
    def grounded(self) -> bool:
        """True when the expected answer comes from a run."""
        return isinstance(self.answer, str)

    def names(self) -> set[str]:
        return expr.names_in(self.answer) if isinstance(self.answer, str) else set()


def _case_spec(value: Any) -> Any:
    # Parsed here (no torch needed) so a bad spec is a load error with its line, like a bad
    # expression; the checker builds the values from the same spec later.
    parse_spec(value)
    return value


CaseArg = Annotated[Any, AfterValidator(_case_spec)]


class Exercise(Strict):
    """A function or method the learner writes, checked against the lesson's own code on
    generated inputs. docs/exercises.md documents the fields and the case spec language."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")]  # stable id
    target: Annotated[str, Field(pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)?$")]  # f or Class.f
    title: LText | None = None
    task: LText
    cases: Annotated[list[list[CaseArg]], Field(min_length=1)]  # argument lists
    init: list[CaseArg] = []  # constructor arguments, for a Class.method target
    tolerance: float = 1e-5  # relative and absolute, for floating-point values
    check_dtype: bool = True
    order: Literal["exact", "any"] = "exact"  # generators: same items in order, or same rows
    seed: int = 0  # case i is generated and called with seed + i
    hints: list[LText] = []

    @model_validator(mode="after")
    def _consistent(self) -> Exercise:
        if self.init and not self.is_method:
            raise ValueError("'init' (constructor arguments) only applies to a Class.method target")
        if self.tolerance < 0:
            raise ValueError("tolerance must be >= 0")
        return self

    @property
    def is_method(self) -> bool:
        return "." in self.target

    def heading(self, lang: str = "en") -> str:
        return self.title.get(lang) if self.title else self.target


Scalar = int | float | str | bool


class Experiment(Strict):
    """Runs compared to answer a question (docs/experiments.md). Run ``i`` is the ``i``-th
    combination of ``sweep`` (first name slowest); ``predict``, ``expect`` and ``conclusion``
    read its values as ``NAME_i`` (``loss_0``, ``lr_2``)."""

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    question: LText
    sweep: Annotated[dict[str, Annotated[list[Scalar], Field(min_length=1)]], Field(min_length=1)]
    set: dict[str, Scalar] = {}  # the same for every run (e.g. fewer epochs)
    predict: Question | None = None  # asked before the runs; its answer reads the runs
    expect: str  # true when the runs show the claimed effect (asserted at default settings)
    conclusion: LText  # a str.format template: {loss_0:.3g}

    @field_validator("expect")
    @classmethod
    def _parses(cls, value: str) -> str:
        expr.compile_expr(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        if len(self.variants()) < 2:
            raise ValueError("an experiment compares at least two runs")
        if len(self.variants()) > MAX_EXPERIMENT_RUNS:
            raise ValueError(f"an experiment makes at most {MAX_EXPERIMENT_RUNS} runs")
        both = sorted(set(self.sweep) & set(self.set))
        if both:
            raise ValueError(f"{both} cannot be both swept and set")
        return self

    def variants(self) -> list[dict[str, Any]]:
        """The swept values of each run, in run order."""
        names = list(self.sweep)
        return [dict(zip(names, combo)) for combo in itertools.product(*self.sweep.values())]


MAX_EXPERIMENT_RUNS = 12


class Lesson(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: LText
    order: int
    summary: LText
    text: LText
    code: str  # path of the Python file, relative to the YAML file
    entry: Annotated[str, Field(pattern=NAME_PATTERN)] = "train"
    dataset: LText | None = None  # what the code trains on when it does not call ctx.data
    hyperparams: list[Hyperparam] = []
    series: list[Series] = []
    checks: list[Check] = []
    quiz: list[Question] = []
    hints: list[LText] = []
    exercises: list[Exercise] = []  # functions the learner writes (docs/exercises.md)
    # Hyperparameter overrides for a quick smoke run (CI runs every lesson this way).
    smoke: dict[str, int | float | str | bool] = {}
    experiments: list[Experiment] = []  # runs compared to answer a question (docs/experiments.md)

    @model_validator(mode="after")
    def _smoke_params_exist(self) -> Lesson:
        for name, value in self.smoke.items():
            spec = self.hyperparam(name)
            if spec is None:
                raise ValueError(f"smoke: {name!r} is not a hyperparameter")
            problem = spec.problem_with(value)
            if problem:
                raise ValueError(f"smoke: {name}: {problem}")
        return self

    @model_validator(mode="after")
    def _experiment_settings_exist(self) -> Lesson:
        for exp in self.experiments:
            settings = [(n, v) for n, vs in exp.sweep.items() for v in vs] + list(exp.set.items())
            for name, value in settings:
                spec = self.hyperparam(name)
                if spec is None:
                    raise ValueError(f"experiment {exp.id}: {name!r} is not a hyperparameter")
                problem = spec.problem_with(value)
                if problem:
                    raise ValueError(f"experiment {exp.id}: {name}: {problem}")
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> Lesson:
        for what, names in (
            ("hyperparams", [h.name for h in self.hyperparams]),
            ("series", [s.name for s in self.series]),
            ("quiz", [q.id for q in self.quiz]),
            ("exercises", [e.name for e in self.exercises]),
            ("experiments", [e.id for e in self.experiments]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{what}: duplicate names {dupes}")
        return self

    def hyperparam(self, name: str) -> Hyperparam | None:
        return next((h for h in self.hyperparams if h.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {h.name: h.default for h in self.hyperparams}


class Translation(Strict):
    """``translations/<lang>/<lesson-id>.yaml`` in a lesson pack: one lesson's text in
    another language. Every field is optional; what is missing stays English."""

    title: str | None = None
    summary: str | None = None
    text: str | None = None
    quiz: dict[str, str] = {}  # question id -> prompt
