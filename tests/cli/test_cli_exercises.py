"""``dl-tutor check / watch / exercise / hint / solution``, in-process via ``cli.main``.

The conftest points DL_TUTOR_DATA_DIR at a temporary directory, so workspaces and the
progress store are fresh in every test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor import cli, exercises
from tutor.lesson.loader import load_catalog
from tutor.progress import ProgressStore

LINREG = load_catalog().get("linear-regression-scratch")
assert LINREG is not None
LINREG_BODY = "    return X @ w + b"


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_workspace(replacements: dict[str, str] | None = None) -> Path:
    """The reference code (all exercises right) with some lines swapped, as the learner's file."""
    source = LINREG.code()
    for old, new in (replacements or {}).items():
        assert old in source
        source = source.replace(old, new)
    path = exercises.workspace_file(LINREG)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


def attempts() -> list[tuple[str, str]]:
    with ProgressStore() as store:
        return [(a.exercise, a.outcome) for a in store.attempts(LINREG.id)]


def test_check_creates_the_starter_and_reports_not_attempted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = exercises.workspace_file(LINREG)
    assert not path.exists()
    code, out, _ = run_cli(capsys, "check", "3")
    assert code == 1
    assert path.read_text(encoding="utf-8") == exercises.starter_code(LINREG)
    lines = out.splitlines()
    assert lines[0] == f"{LINREG.id}: {path}"
    assert lines[1].startswith(
        "  ○ data_iter: not written yet: replace the TODO in data_iter (line "
    )
    assert "0/4 exercises passed" in lines
    assert attempts() == []  # nothing written yet is not an attempt


def test_check_marks_each_outcome_records_attempts_and_sets_the_exit_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_workspace({LINREG_BODY: "    X @ w + b"})
    code, out, _ = run_cli(capsys, "check", LINREG.id)
    assert code == 1
    assert "  ✓ data_iter: 4 cases passed" in out
    assert "  ✗ linreg (line 34): linreg(X=randn(10, 2)" in out
    assert "Did you forget to `return`?" in out
    assert f"'dl-tutor hint {LINREG.id} NAME'" in out
    assert sorted(attempts()) == [
        ("data_iter", "passed"),
        ("linreg", "failed"),
        ("sgd", "passed"),
        ("squared_loss", "passed"),
    ]

    write_workspace()
    code, out, _ = run_cli(capsys, "check", LINREG.id)
    assert code == 0
    assert out.splitlines()[-1] == "4/4 exercises passed"


def test_check_error_mark_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    path = write_workspace({LINREG_BODY: "    return X * w + b"})
    code, out, _ = run_cli(capsys, "check", "3", "--json")
    assert code == 1
    payload = json.loads(out)
    assert payload["lesson"] == LINREG.id and payload["file"] == str(path)
    assert payload["passed"] is False
    results = {r["name"]: r for r in payload["results"]}
    assert set(results) == {"data_iter", "linreg", "squared_loss", "sgd"}
    assert results["linreg"]["status"] == "error"
    assert results["linreg"]["line"] == 36
    assert "RuntimeError" in results["linreg"]["message"]

    code, out, _ = run_cli(capsys, "check", "3")
    assert "  ! linreg (line 36): linreg(X=randn(10, 2), w=randn(2, 1), b=randn(1)) raised" in out
    assert "      line 36: return X * w + b" in out


def test_solution_only_after_a_failed_attempt(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "solution", "3", "linreg")
    assert code == 1 and out == ""
    assert "opens after a failed attempt" in err

    write_workspace({LINREG_BODY: "    return X @ w"})
    assert run_cli(capsys, "check", "3")[0] == 1
    code, out, _ = run_cli(capsys, "solution", "3", "linreg")
    assert code == 0
    assert out == (
        "# the lesson's linreg (linear_regression_scratch.py)\n"
        + exercises.solution(LINREG, "linreg")
    )
    # A passed exercise was never failed: its solution stays closed.
    assert run_cli(capsys, "solution", "3", "sgd")[0] == 1


def test_hints_come_one_level_at_a_time(capsys: pytest.CaptureFixture[str]) -> None:
    hints = [h.en for h in LINREG.lesson.exercises[3].hints]  # sgd
    outs = [run_cli(capsys, "hint", "3", "sgd")[1] for _ in range(len(hints) + 1)]
    assert outs[0] == f"hint 1/3 for sgd: {hints[0]}\n(run it again for hint 2)\n"
    assert outs[1].startswith(f"hint 2/3 for sgd: {hints[1]}")
    assert outs[2] == f"hint 3/3 for sgd: {hints[2]}\n"
    assert outs[3] == outs[2]  # the last level again

    code, out, _ = run_cli(capsys, "hint", "3", "linreg", "--level", "2")
    assert code == 0 and out.startswith("hint 2/3 for linreg:")
    code, _, err = run_cli(capsys, "hint", "3", "linreg", "--level", "4")
    assert code == 2 and "hints 1 to 3, not 4" in err
    code, out, _ = run_cli(capsys, "--lang", "zh", "hint", "3", "sgd", "--level", "1")
    assert LINREG.lesson.exercises[3].hints[0].zh in out


def test_unknown_exercise_lesson_and_lessons_without_exercises(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(capsys, "hint", "3", "squaredloss")
    assert code == 2 and "did you mean 'squared_loss'?" in err
    code, _, err = run_cli(capsys, "check", "autograd")
    assert code == 2 and "has no exercises; these do: linear-regression-scratch" in err
    code, _, err = run_cli(capsys, "check", "no-such-lesson")
    assert code == 2 and "unknown lesson" in err


def test_exercise_prints_the_tasks_path_and_resets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "exercise", "3", "--path")
    path = exercises.workspace_file(LINREG)
    assert code == 0 and out == f"{path}\n" and path.exists()

    code, out, _ = run_cli(capsys, "exercise", "3")
    assert code == 0
    assert f"your file: {path}" in out
    assert "  sgd — The update: sgd" in out

    path.write_text("my attempt\n", encoding="utf-8")
    code, out, _ = run_cli(capsys, "exercise", "3", "--reset")
    assert code == 0 and "reset" in out and ".bak" in out
    assert path.read_text(encoding="utf-8") == exercises.starter_code(LINREG)
    assert path.with_name(path.name + ".bak").read_text(encoding="utf-8") == "my attempt\n"


def test_watch_checks_again_on_every_save_and_ctrl_c_ends_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real_check = exercises.check_exercises

    def check(loaded: object, path: Path) -> list[exercises.ExerciseResult]:
        checked.append(path.read_text(encoding="utf-8"))
        return real_check(loaded, path)  # type: ignore[arg-type]

    def saves(path: Path) -> Iterator[None]:
        # Stands in for watch_changes: the learner fixes linreg and saves, then presses Ctrl+C.
        write_workspace({LINREG_BODY: "    X @ w + b"})
        yield
        write_workspace()
        yield
        raise KeyboardInterrupt

    monkeypatch.setattr(exercises, "check_exercises", check)
    monkeypatch.setattr(exercises, "watch_changes", saves)
    code, out, _ = run_cli(capsys, "watch", "3")
    assert code == 0
    assert len(checked) == 3  # the starter, then each save
    assert out.count("exercises passed") == 3
    assert "0/4 exercises passed" in out and "3/4 exercises passed" in out
    assert out.endswith("4/4 exercises passed\n\nstopped watching\n")
    assert out.count("checking again") == 2
    # Recorded: what changed from one save to the next, not every exercise every time.
    assert sorted(attempts()) == sorted(
        [
            ("data_iter", "passed"),
            ("squared_loss", "passed"),
            ("sgd", "passed"),
            ("linreg", "failed"),
            ("linreg", "passed"),
        ]
    )


def test_run_mine_trains_with_the_learners_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A wrong sgd in the learner's file visibly fails to converge; the lesson's own passes."""
    from tutor.cli import main
    from tutor.exercises import ensure_workspace
    from tutor.lesson.loader import load_catalog

    loaded = load_catalog().get("linear-regression-scratch")
    path = ensure_workspace(loaded)
    reference = loaded.code()
    # The lesson's code with sgd walking uphill: the learner's mistake.
    path.write_text(reference.replace("param -= lr * param.grad", "param += lr * param.grad"))
    assert "param += lr * param.grad" in path.read_text()
    assert path.read_text() != reference
    assert main(["run", "linear-regression-scratch", "--mine", "--json"]) == 1
    assert main(["run", "linear-regression-scratch", "--json"]) == 0
    capsys.readouterr()
