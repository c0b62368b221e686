"""Exercises: starter code, the workspace, the case spec language and the checker.

Most comparison cases run in-process (``check_in_process``: torch is imported once); the
protocol, timeouts and crashes go through ``check_exercises``, which starts a subprocess
(about 2 s each, mostly importing torch).
"""

from __future__ import annotations

import ast
import hashlib
import textwrap
from pathlib import Path

import pytest
from helpers import MINIMAL_YAML, write_lesson

from tutor import exercises
from tutor.exercises import ExerciseResult, SpecError, parse_spec
from tutor.lesson.loader import LessonError, LoadedLesson, load_catalog, load_lesson
from tutor.training.runner import run_lesson

CATALOG = load_catalog()
WITH_EXERCISES = {x.id: x for x in CATALOG.lessons if x.lesson.exercises}
LINREG = CATALOG.get("linear-regression-scratch")
SOFTMAX = CATALOG.get("softmax-regression-scratch")
assert LINREG is not None and SOFTMAX is not None

# Lines of lesson 02's reference that the tests swap for mistakes.
SHUFFLE = "    indices = torch.randperm(num_examples)  # a new random order every epoch"
LINREG_BODY = "    return X @ w + b"
LOSS_BODY = "    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2"
SGD_STEP = "            param -= lr * param.grad / batch_size"
NO_GRAD = "    with torch.no_grad():  # the update itself must not become part of the graph"
YIELD = "        yield features[batch], labels[batch]"
ACCURACY = "    return (y_hat.argmax(dim=1) == y).sum()"
RNN_STEP = "F.linear(x, weight_ih, bias_ih) + F.linear(h, weight_hh, bias_hh)"
SGD_ZERO = (
    "            param.grad.zero_()  # backward() adds to .grad; start the next batch from zero"
)


def write_learner(loaded: LoadedLesson, replacements: dict[str, str] | None = None) -> Path:
    """The reference code with some lines swapped, written as the learner's workspace file."""
    source = loaded.code()
    for old, new in (replacements or {}).items():
        assert old in source, old
        source = source.replace(old, new)
    path = exercises.workspace_file(loaded)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


def by_name(results: list[ExerciseResult]) -> dict[str, ExerciseResult]:
    return {r.name: r for r in results}


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text.strip() in line)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- curriculum


def test_at_least_eight_exercises_across_the_curriculum() -> None:
    names = {(x.id, e.name) for x in WITH_EXERCISES.values() for e in x.lesson.exercises}
    assert len(names) >= 8
    for lesson_id, expected in {
        "linear-regression-scratch": {"data_iter", "linreg", "squared_loss", "sgd"},
        "softmax-regression-scratch": {"softmax", "cross_entropy", "accuracy"},
        "rnn-cell": {"rnn_step"},
        "inception": {"inception_forward"},
        "residual-network": {"residual_forward"},
    }.items():
        assert {e.name for e in WITH_EXERCISES[lesson_id].lesson.exercises} == expected


def test_every_exercise_is_bilingual_with_hint_levels() -> None:
    for loaded in WITH_EXERCISES.values():
        for e in loaded.lesson.exercises:
            texts = [e.task, *e.hints] + ([e.title] if e.title else [])
            assert all(t.zh for t in texts), f"{loaded.id}/{e.name}: missing Chinese"
            assert 2 <= len(e.hints) <= 3, f"{loaded.id}/{e.name}: {len(e.hints)} hints"
            assert len(e.cases) >= 2, f"{loaded.id}/{e.name}: needs edge cases"


@pytest.mark.parametrize("lesson_id", sorted(WITH_EXERCISES))
def test_reference_passes_and_starter_is_not_attempted(lesson_id: str) -> None:
    loaded = WITH_EXERCISES[lesson_id]
    original = digest(loaded.code_path)

    reference = exercises.check_exercises(loaded, loaded.code_path)
    assert [r.status for r in reference] == ["passed"] * len(loaded.lesson.exercises), reference

    starter = exercises.ensure_workspace(loaded)
    results = exercises.check_exercises(loaded)  # default: the workspace file
    assert [r.status for r in results] == ["not-attempted"] * len(results), results
    for r, e in zip(results, loaded.lesson.exercises):
        assert r.line == line_of(starter, f'raise NotImplementedError("write {e.target}")')
        assert f"line {r.line}" in r.message
    assert digest(loaded.code_path) == original


# ----------------------------------------------------------------------------- starter code


def _strip_targets(source: str, targets: list[str]) -> str:
    """The module's AST with each target's body reduced to its docstring."""
    tree = ast.parse(source)
    for target in targets:
        node = exercises.find_target(tree, target)
        assert node is not None
        node.body = [s for s in node.body[:1] if isinstance(s, ast.Expr)]
    return ast.dump(tree)


@pytest.mark.parametrize("lesson_id", sorted(WITH_EXERCISES))
def test_starter_keeps_everything_except_the_bodies(lesson_id: str) -> None:
    loaded = WITH_EXERCISES[lesson_id]
    original = loaded.code()
    starter = exercises.starter_code(loaded)
    targets = [e.target for e in loaded.lesson.exercises]

    assert _strip_targets(starter, targets) == _strip_targets(original, targets)
    tree = ast.parse(starter)
    for exercise in loaded.lesson.exercises:
        node = exercises.find_target(tree, exercise.target)
        assert node is not None
        body = [s for s in node.body if not isinstance(s, ast.Expr)]  # minus the docstring
        assert len(body) == 1 and isinstance(body[0], ast.Raise)
        assert f'raise NotImplementedError("write {exercise.target}")' in starter
        assert f"# TODO: {exercise.task.en.split()[0]}" in starter
    # Lines outside the bodies are kept byte for byte: every line of the starter that is not
    # a TODO comment or a raise is a line of the original, in the same order.
    kept = [
        line
        for line in starter.splitlines()
        if not line.strip().startswith(("# TODO", "raise NotImplementedError"))
        and not (line.strip().startswith("#") and line not in original)
    ]
    original_lines = iter(original.splitlines())
    assert all(any(line == o for o in original_lines) for line in kept)


def test_starter_handles_one_line_defs_comments_and_multiline_headers(tmp_path: Path) -> None:
    code = textwrap.dedent(
        '''
        def one(x): return x + 1


        def two(
            a,  # first
            b,
        ):
            # the idea, explained
            total = a + b
            return total
            # trailing note, still in the body


        class Box:
            def __init__(self, n):
                self.n = n

            def size(self):
                """How big."""
                return self.n


        def train(ctx):
            pass
        '''
    )
    yaml = MINIMAL_YAML.format(id="tiny")[: MINIMAL_YAML.format(id="tiny").index("checks:")]
    yaml += textwrap.dedent(
        """
        exercises:
          - {name: one, target: one, task: add one, cases: [[1]]}
          - {name: two, target: two, task: add them, cases: [[1, 2]]}
          - {name: size, target: Box.size, task: the size, init: [3], cases: [[]]}
        """
    )
    loaded = load_lesson(write_lesson(tmp_path, "tiny", yaml=yaml, code=code))
    starter = exercises.starter_code(loaded)
    assert "def one(x):\n    # TODO: add one\n    raise NotImplementedError" in starter
    assert "    a,  # first\n    b,\n):\n    # TODO: add them\n" in starter
    assert "the idea" not in starter and "total" not in starter and "trailing note" not in starter
    assert '        """How big."""\n        # TODO: the size\n' in starter
    assert "self.n = n" in starter  # __init__ is not an exercise
    results = by_name(exercises.check_in_process(loaded, loaded.code_path))
    assert {r.status for r in results.values()} == {"passed"}


# ----------------------------------------------------------------------------- workspace


def test_workspace_lives_in_the_data_dir_and_reset_restores_the_starter(tutor_env: Path) -> None:
    original = digest(LINREG.code_path)
    path = exercises.workspace_file(LINREG)
    assert path == tutor_env / "data" / "workspace" / LINREG.id / LINREG.code_path.name
    assert not path.exists()

    assert exercises.ensure_workspace(LINREG) == path
    starter = exercises.starter_code(LINREG)
    assert path.read_text(encoding="utf-8") == starter

    path.write_text("my work", encoding="utf-8")
    exercises.ensure_workspace(LINREG)  # never overwrites the learner's file
    assert path.read_text(encoding="utf-8") == "my work"

    exercises.reset_workspace(LINREG)
    assert path.read_text(encoding="utf-8") == starter
    assert path.with_name(path.name + ".bak").read_text(encoding="utf-8") == "my work"
    assert digest(LINREG.code_path) == original


def test_solution_is_the_reference_source() -> None:
    assert exercises.solution(LINREG, "linreg") == (
        'def linreg(X, w, b):\n    """The model: one matrix product plus the bias (broadcast to'
        ' every row)."""\n    return X @ w + b\n'
    )
    residual = WITH_EXERCISES["residual-network"]
    text = exercises.solution(residual, "residual_forward")
    assert text.startswith("def forward(self, x):\n") and "F.relu(x + y)" in text
    with pytest.raises(KeyError, match="did you mean 'sgd'"):
        exercises.solution(LINREG, "sdg")


# ----------------------------------------------------------------------------- the checker


def test_right_wrong_raising_and_silent_implementations_in_a_subprocess() -> None:
    path = write_learner(
        LINREG,
        {
            # print() in learner code, even a JSON-looking line, must not confuse the checker
            SHUFFLE: SHUFFLE + '\n    print(\'{"event": "done"}\')',
            LINREG_BODY: "    X @ w + b",  # forgot return
            LOSS_BODY: "    return (y_hat - y) ** 2 / 2 + torch.zeros(3, 5)",  # raises
            SGD_STEP: "            param += lr * param.grad / batch_size",  # wrong sign
        },
    )
    results = by_name(exercises.check_exercises(LINREG, path))

    assert results["data_iter"].status == "passed"
    assert results["data_iter"].message == "4 cases passed"

    silent = results["linreg"]
    assert silent.status == "failed"
    assert silent.message == (
        "linreg(X=randn(10, 2), w=randn(2, 1), b=randn(1)) returned None; expected a tensor "
        "of shape (10, 1) (float32). Did you forget to `return`?"
    )
    assert silent.line == line_of(path, "def linreg(")

    raising = results["squared_loss"]
    assert raising.status == "error"
    assert raising.message.startswith(
        "squared_loss(y_hat=randn(10, 1), y=randn(10, 1)) raised RuntimeError:"
    )
    assert "Traceback" not in raising.message
    assert raising.line == line_of(path, "torch.zeros(3, 5)")
    assert f"line {raising.line}: return (y_hat - y) ** 2" in raising.message

    wrong = results["sgd"]
    assert wrong.status == "failed"
    assert wrong.message.startswith(
        "sgd(params=[param(2, 1), param(1)], lr=0.03, batch_size=10) after the call, "
        "wrong values in params[0]"
    )
    assert "expected" in wrong.message and "got" in wrong.message


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [
        ({SGD_ZERO: "            pass"}, "left params[0].grad unchanged; expected all zeros"),
        (
            {
                SGD_STEP: "            param.grad.zero_()\n"
                "            param = param - lr * param.grad / batch_size",
                SGD_ZERO: "            pass",
            },
            "left params[0] unchanged; expected it to be updated in place",
        ),
        ({SGD_STEP: "            param -= lr * param.grad"}, "wrong values in params[0]"),
        (
            {NO_GRAD: "    if True:"},
            "raised RuntimeError: a leaf Variable that requires grad",
        ),
    ],
    ids=["no-zero-grad", "rebinds", "no-batch-division", "no-no-grad"],
)
def test_mutating_sgd_is_compared_on_its_arguments(
    replacements: dict[str, str], expected: str
) -> None:
    path = write_learner(LINREG, replacements)
    result = by_name(exercises.check_in_process(LINREG, path, ["sgd"]))["sgd"]
    assert result.status in ("failed", "error")
    assert expected in result.message, result.message


def test_sgd_may_return_something_when_the_reference_returns_none() -> None:
    path = write_learner(LINREG, {SGD_ZERO: SGD_ZERO + "\n    return params"})
    assert exercises.check_in_process(LINREG, path, ["sgd"])[0].status == "passed"


@pytest.mark.parametrize(
    ("replacements", "status", "expected"),
    [
        (
            {SHUFFLE: "    indices = torch.arange(num_examples)"},
            "failed",
            "did you forget to shuffle?",
        ),
        (
            {
                SHUFFLE: "    import random\n    order = list(range(num_examples))\n"
                "    random.shuffle(order)\n    indices = torch.tensor(order)"
            },
            "passed",
            "4 cases passed",
        ),
        (
            {
                YIELD: YIELD.replace(
                    "labels[batch]", "labels[torch.randperm(len(labels))[: len(batch)]]"
                )
            },
            "failed",
            "with its features and label kept together",
        ),
        (
            {
                "    for i in range(0, num_examples, batch_size):": (
                    "    for i in range(0, num_examples - batch_size + 1, batch_size):"
                )
            },
            "failed",
            "yielded 2 items; expected 3",
        ),
        (
            {YIELD: YIELD.replace("yield", "return")},
            "failed",
            "expected a generator (use `yield`)",
        ),
    ],
    ids=["no-shuffle", "random-shuffle", "unpaired-labels", "drops-last-batch", "returns"],
)
def test_data_iter_generator_comparison(
    replacements: dict[str, str], status: str, expected: str
) -> None:
    path = write_learner(LINREG, replacements)
    result = exercises.check_in_process(LINREG, path, ["data_iter"])[0]
    assert result.status == status, result.message
    assert expected in result.message, result.message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            LOSS_BODY,
            "    return (y_hat - y) ** 2 / 2",
            "returned a tensor of shape (4, 4); expected shape (4, 1)",
        ),
        (LOSS_BODY, "    return ((y_hat - y.reshape(y_hat.shape)) ** 2 / 2).sum()", "shape ()"),
        (LOSS_BODY, "    return (y_hat - y.reshape(y_hat.shape)) ** 2", "returned wrong values"),
        (
            LOSS_BODY,
            "    return y_hat.sub_(y.reshape(y_hat.shape)) ** 2 / 2",
            "changed y_hat in place",
        ),
        (
            LINREG_BODY,
            "    return (X @ w + b).double()",
            "returned a tensor of dtype float64; expected float32",
        ),
    ],
    ids=["broadcast", "summed", "no-half", "in-place", "dtype"],
)
def test_wrong_values_shapes_and_dtypes(old: str, new: str, expected: str) -> None:
    path = write_learner(LINREG, {old: new})
    results = [r for r in exercises.check_in_process(LINREG, path) if r.status != "passed"]
    assert len(results) == 1 and results[0].status == "failed"
    assert expected in results[0].message, results[0].message


def test_softmax_edge_cases_and_accuracy_without_dtype_check() -> None:
    path = write_learner(
        SOFTMAX,
        {
            "    scores = scores - scores.max(dim=1, keepdim=True).values": "    pass",
            ACCURACY: ACCURACY.replace(".sum()", ".float().sum()"),
        },
    )
    results = by_name(exercises.check_in_process(SOFTMAX, path))
    assert results["softmax"].status == "failed"
    assert results["softmax"].message.startswith(
        "softmax(scores=randn(2, 5) * 100) returned wrong values"
    )
    assert "got nan" in results["softmax"].message and "overflow" in results["softmax"].message
    assert results["accuracy"].status == "passed"  # a float count is fine: check_dtype false
    assert results["cross_entropy"].status == "passed"


def test_method_targets_are_checked_on_a_seeded_instance() -> None:
    residual = WITH_EXERCISES["residual-network"]
    path = write_learner(residual, {"        return F.relu(x + y)": "        return F.relu(y)"})
    result = exercises.check_in_process(residual, path)[0]
    assert result.status == "failed"
    assert result.message.startswith(
        "ResidualBlock(16).forward(x=randn(2, 16, 12, 12)) returned wrong values"
    )
    assert result.line == line_of(path, "def forward(self, x):\n".strip())

    inception = WITH_EXERCISES["inception"]
    path = write_learner(
        inception, {"torch.cat(self.branches(x), dim=1)": "torch.cat(self.branches(x), dim=0)"}
    )
    result = exercises.check_in_process(inception, path)[0]
    assert result.status == "error"
    assert "InceptionA(10).forward(x=randn(2, 10, 12, 12)) raised RuntimeError" in result.message
    assert result.line == line_of(path, "dim=0)")


def test_rnn_step_without_memory_fails() -> None:
    rnn = WITH_EXERCISES["rnn-cell"]
    path = write_learner(
        rnn,
        {RNN_STEP: "x @ weight_ih.T + bias_ih + bias_hh"},
    )
    assert exercises.check_in_process(rnn, path)[0].status == "failed"
    path = write_learner(
        rnn,
        {RNN_STEP: ("x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh")},
    )
    assert exercises.check_in_process(rnn, path)[0].status == "passed"  # within tolerance


def test_missing_function_and_broken_file_are_errors_with_lines() -> None:
    path = write_learner(LINREG, {"def linreg(X, w, b):": "def lin_reg(X, w, b):"})
    result = by_name(exercises.check_in_process(LINREG, path))["linreg"]
    assert result.status == "error" and "your file has no linreg" in result.message

    path = write_learner(LINREG, {LINREG_BODY: "    return X @@ w"})
    results = exercises.check_in_process(LINREG, path)
    assert {r.status for r in results} == {"error"}
    assert all(r.line == line_of(path, "X @@ w") for r in results)
    assert results[0].message.startswith("your file could not be loaded: SyntaxError")


def test_checks_are_deterministic() -> None:
    path = write_learner(LINREG, {SGD_STEP: "            param -= lr * param.grad"})
    first = exercises.check_in_process(LINREG, path)
    assert exercises.check_in_process(LINREG, path) == first


# ----------------------------------------------------------------------------- isolation


def test_an_infinite_loop_times_out_and_the_rest_is_still_checked() -> None:
    path = write_learner(LINREG, {LINREG_BODY: "    while True:\n        pass"})
    results = by_name(exercises.check_exercises(LINREG, path, timeout=3))
    assert results["linreg"] == ExerciseResult(
        "linreg", "error", "linreg took longer than 3 s (an infinite loop?)"
    )
    assert [results[n].status for n in ("data_iter", "squared_loss", "sgd")] == ["passed"] * 3


def test_a_hanging_import_and_a_killed_checker_are_errors() -> None:
    path = write_learner(LINREG, {"TRUE_B = 4.2": "TRUE_B = 4.2\nwhile True:\n    pass"})
    results = exercises.check_exercises(LINREG, path, timeout=2)
    assert {r.status for r in results} == {"error"}
    assert "importing your file took longer than 2 s" in results[0].message

    path = write_learner(
        LINREG, {LOSS_BODY: "    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)"}
    )
    results = by_name(exercises.check_exercises(LINREG, path))
    assert results["squared_loss"].status == "error"
    message = results["squared_loss"].message
    assert "was killed by SIGKILL (out of memory?) while running squared_loss" in message
    assert results["sgd"].status == "passed"  # checked in a fresh process


def test_exit_in_learner_code_is_an_error_not_a_dead_checker() -> None:
    path = write_learner(LINREG, {LINREG_BODY: "    raise SystemExit(3)"})
    result = by_name(exercises.check_in_process(LINREG, path))["linreg"]
    assert result.status == "error" and "SystemExit" in result.message


# ----------------------------------------------------------------------------- training


def test_training_with_a_wrong_sgd_does_not_converge_and_the_reference_does() -> None:
    original = digest(LINREG.code_path)
    params = LINREG.lesson.defaults()
    reference = run_lesson(LINREG, params, device="cpu", threads=1)
    assert reference.ok, reference.checks

    path = write_learner(LINREG, {SGD_STEP: "            param += lr * param.grad / batch_size"})
    wrong = run_lesson(LINREG, params, device="cpu", threads=1, code_path=path)
    assert not wrong.ok
    assert wrong.status == "diverged" or not any(c.passed for c in wrong.checks), wrong.checks
    assert digest(LINREG.code_path) == original


# ----------------------------------------------------------------------------- spec language


def test_spec_language_builds_seeded_tensors() -> None:
    import torch

    def build(spec: object, seed: int = 0) -> object:
        return exercises.build_arg(spec, torch.Generator().manual_seed(seed))

    assert torch.equal(build("randn(3, 2)"), build("randn(3, 2)"))
    assert not torch.equal(build("randn(3, 2)"), build("randn(3, 2)", seed=1))
    p = build("param(2, 1)")
    assert p.requires_grad and p.is_leaf and p.grad is not None and p.grad.shape == (2, 1)
    assert torch.allclose(build("probs(4, 5)").sum(dim=1), torch.ones(4))
    labels = build("randint(3, 50)")
    assert (
        labels.dtype == torch.int64
        and labels.shape == (50,)
        and 0 <= labels.min() <= labels.max() < 3
    )
    assert build("randn(2, dtype=float64)").dtype == torch.float64
    assert build("zeros(2) + 1").tolist() == [1.0, 1.0]
    assert build("tensor([[1, -2], [inf, 0]])").tolist() == [[1, -2], [float("inf"), 0]]
    assert build(["param(1)", 0.5, None, "'text'"])[1:] == [0.5, None, "text"]
    big = build("param(3) * 100")
    assert big.is_leaf and big.grad is not None  # scaling keeps a param a leaf with its grad


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("randnn(2)", "unknown function 'randnn'; did you mean 'randn'?"),
        ("randn(2, dtype=float8)", "unknown dtype float8"),
        ("randn(-1)", "whole numbers >= 0"),
        ("randint(0, 3)", "needs high >= 1"),
        ("__import__('os')", "unknown function"),
        ("x.shape", "Attribute is not part of the spec language"),
        ("hello", "to pass text, quote it"),
        ("randn(2", "is not valid"),
        ("randn(10000, 10000)", "more than 1,000,000 elements"),
        ({"a": 1}, "not a dict"),
        ("[" * 300 + "]" * 300, "is not valid"),  # fuzzed YAML: a SpecError, not a crash
        ("x" * 3000, "limited to 2000 characters"),
    ],
)
def test_bad_specs_are_refused(spec: object, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_spec(spec)


def _lesson_with(tmp_path: Path, exercises_yaml: str, code: str | None = None) -> Path:
    yaml = MINIMAL_YAML.format(id="ex")[: MINIMAL_YAML.format(id="ex").index("checks:")]
    code = code or "def f(a, b=1):\n    return a\n\n\ndef train(ctx):\n    pass\n"
    return write_lesson(tmp_path, "ex", yaml=yaml + textwrap.dedent(exercises_yaml), code=code)


@pytest.mark.parametrize(
    ("exercises_yaml", "field", "message"),
    [
        (
            "exercises:\n  - {name: g, target: g, task: t, cases: [[1]]}\n",
            "exercises[0].target",
            "no top-level function 'g'",
        ),
        (
            "exercises:\n  - {name: f, target: f, task: t, cases: [[1, 2, 3]]}\n",
            "exercises[0].cases",
            "case 0 has 3 arguments; f takes 1 to 2",
        ),
        (
            'exercises:\n  - {name: f, target: f, task: t, cases: [["randnn(2)"]]}\n',
            "exercises[0].cases[0][0]",
            "did you mean 'randn'",
        ),
        (
            "exercises:\n  - {name: f, target: f, task: t, cases: [[1]], init: [1]}\n",
            "exercises[0].init",  # the offending key itself
            "only applies to a Class.method",
        ),
        (
            "exercises:\n  - {name: f, target: f, task: t, cases: []}\n",
            "exercises[0].cases",
            "at least 1",
        ),
        (
            "exercises:\n  - {name: f, target: f, task: t, cases: [[1]], tolerence: 1}\n",
            "exercises[0].tolerence",
            "did you mean 'tolerance'",
        ),
        (
            "exercises:\n" + "  - {name: f, target: f, task: t, cases: [[1]]}\n" * 2,
            "exercises",
            "duplicate names ['f']",
        ),
    ],
    ids=["no-target", "arity", "bad-spec", "init-for-function", "no-cases", "typo", "duplicate"],
)
def test_exercises_are_validated_when_the_lesson_loads(
    tmp_path: Path, exercises_yaml: str, field: str, message: str
) -> None:
    path = _lesson_with(tmp_path, exercises_yaml)
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    [problem] = info.value.problems
    assert problem.field == field and message in problem.message, problem
    exercises_line = path.read_text().splitlines().index("exercises:") + 1
    # Duplicates are a problem of the list: reported at its key; the rest at the entry.
    assert problem.line == exercises_line + (field != "exercises")


def test_a_bad_case_spec_is_reported_at_its_own_line(tmp_path: Path) -> None:
    path = _lesson_with(
        tmp_path,
        """
        exercises:
          - name: f
            target: f
            task: t
            cases:
              - [1]
              - ["randn(2, dtype=float8)"]
        """,
    )
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    [problem] = info.value.problems
    assert problem.field == "exercises[0].cases[1][0]"
    assert problem.line == line_of(path, "float8")
    assert "unknown dtype float8" in problem.message


# ----------------------------------------------------------------------------- watching


def test_watch_changes_polls_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text("a = 1\n")
    edits = iter(["a = 22\n", None, "a = 333\n"])  # None: a poll that finds nothing new

    def fake_sleep(seconds: float) -> None:
        assert seconds == 0.5
        text = next(edits)
        if text is not None:
            path.write_text(text)  # a different size each time: seen whatever the mtime

    changes = exercises.watch_changes(path, sleep=fake_sleep)
    next(changes)
    assert path.read_text() == "a = 22\n"
    next(changes)  # the empty poll is skipped, the next edit is seen
    assert path.read_text() == "a = 333\n"
