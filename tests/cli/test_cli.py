"""The ``dl-tutor`` command line: list, validate, run (text and JSON), exit codes, no torch import.

Most cases call ``main([...])`` in-process (fast); a few run ``python -m tutor`` in a
subprocess where only a fresh interpreter can tell (torch never imported, real exit codes).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from helpers import BARE_YAML, MINIMAL_YAML, write_lesson

from tutor import __version__, cli
from tutor.cli import charts as cli_charts
from tutor.cli.common import cell_width, fit
from tutor.paths import builtin_lessons_dir

REPO = Path(__file__).resolve().parents[2]
LESSON_01 = builtin_lessons_dir() / "01-gradient-descent"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DL_TUTOR_OFFLINE", "1")
    monkeypatch.setenv("DL_TUTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DL_TUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every stdout line as strict JSON (NaN/Infinity are refused)."""

    def refuse(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    return [json.loads(line, parse_constant=refuse) for line in text.splitlines()]


def lesson_dir(tmp_path: Path, lesson_id: str, code: str, yaml: str | None = None) -> Path:
    """A directory holding one test lesson (no checks or quiz unless ``yaml`` says so)."""
    root = tmp_path / "extra"
    write_lesson(root, lesson_id, yaml=yaml or BARE_YAML.format(id=lesson_id), code=code)
    return root


def copy_lesson_01(dest: Path, new_id: str | None = None) -> Path:
    shutil.copytree(LESSON_01, dest, ignore=shutil.ignore_patterns("__pycache__"))
    if new_id:
        yaml_path = dest / "lesson.yaml"
        text = yaml_path.read_text(encoding="utf-8")
        yaml_path.write_text(
            text.replace("id: gradient-descent", f"id: {new_id}"), encoding="utf-8"
        )
    return dest


# -- global options -----------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "--version") == (0, f"dl-tutor {__version__}\n", "")


def test_bad_flag_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "--nope")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "unrecognized arguments: --nope" in err


def test_bad_device_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--device", "tpu", "list")
    assert code == 2 and "invalid device 'tpu'" in err


@pytest.mark.parametrize(
    ("environ", "lang"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}, "zh"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),
        ({"LC_ALL": "", "LANG": "zh_CN"}, "zh"),
    ],
)
def test_default_lang_follows_the_locale(environ: dict[str, str], lang: str) -> None:
    assert cli.default_lang(environ) == lang


def test_no_subcommand_starts_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    started: list[tuple[Any, ...]] = []

    class FakeApp:
        ends_with: int | None = None  # Textual's return_code: None after a plain exit

        def __init__(self, lesson_dirs: list[Path], *, lang: str, device: str) -> None:
            started.append((lesson_dirs, lang, device))
            self.return_code: int | None = None
            self.owns_process = False

        def run(self) -> None:
            started.append(("ran", self.owns_process))
            self.return_code = self.ends_with

    monkeypatch.setitem(sys.modules, "tutor.ui.app", types.SimpleNamespace(TutorApp=FakeApp))
    assert cli.main(["--lessons", str(tmp_path), "--lang", "zh", "--device", "cpu"]) == 0
    assert started == [([tmp_path], "zh", "cpu"), ("ran", True)]
    started.clear()
    assert cli.main([]) == 0
    assert started[0] == ([], "en", "auto")
    FakeApp.ends_with = 143  # ended by SIGTERM: the exit code says so
    assert cli.main([]) == 143


# -- list -----------------------------------------------------------------------------------


def test_list_table_fits_80_columns(capsys: pytest.CaptureFixture[str]) -> None:
    for lang in ("en", "zh"):
        code, out, _ = run_cli(capsys, "--lang", lang, "list")
        assert code == 0
        lines = out.splitlines()
        assert lines[0].split() == ["#", "id", "title", "summary"]
        assert any(" gradient-descent " in line for line in lines)
        assert all(cell_width(line) <= 80 for line in lines), out


def test_list_json_fields_and_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "list", "--json")
    assert code == 0
    lessons = json.loads(out)
    assert isinstance(lessons, list) and lessons
    for item in lessons:
        assert set(item) >= {"id", "title", "order", "summary", "path", "code", "hyperparams", "ok"}
        assert item["ok"] is True
        assert Path(item["path"]).is_file() and Path(item["code"]).is_file()
    orders = [x["order"] for x in lessons]
    assert orders == sorted(orders)
    gd = next(x for x in lessons if x["id"] == "gradient-descent")
    assert gd["title"] == "Gradient descent by hand"
    assert gd["hyperparams"]["lr"] == 0.01 and gd["hyperparams"]["epochs"] == 100


def test_lang_zh_gives_chinese_titles(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "--lang", "zh", "list", "--json")
    gd = next(x for x in json.loads(out) if x["id"] == "gradient-descent")
    assert gd["title"] == "手写梯度下降"
    _, table, _ = run_cli(capsys, "--lang", "zh", "list")
    assert "手写梯度下降" in table


def test_locale_picks_chinese(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    _, out, _ = run_cli(capsys, "list", "--json")
    assert (
        next(x for x in json.loads(out) if x["id"] == "gradient-descent")["title"] == "手写梯度下降"
    )


def test_lessons_option_adds_a_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    copy_lesson_01(tmp_path / "mine" / "gd-copy", new_id="gd-copy")
    code, out, err = run_cli(capsys, "--lessons", str(tmp_path / "mine"), "list", "--json")
    assert code == 0 and err == ""
    by_id = {x["id"]: x for x in json.loads(out)}
    assert "gradient-descent" in by_id and "gd-copy" in by_id
    assert Path(by_id["gd-copy"]["path"]).is_relative_to(tmp_path)


def test_duplicate_id_names_both_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    copy = copy_lesson_01(tmp_path / "dup" / "again")
    code, out, err = run_cli(capsys, "--lessons", str(tmp_path / "dup"), "list", "--json")
    assert code == 0
    assert [x["id"] for x in json.loads(out)].count("gradient-descent") == 1
    assert "duplicate id 'gradient-descent'" in err
    assert str((copy / "lesson.yaml").resolve()) in err
    assert str((LESSON_01 / "lesson.yaml").resolve()) in err


def test_list_keeps_stdout_clean_and_reports_broken_files_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "broken.yaml").write_text("id: broken\ntitle: [unclosed\norder: 1\n")
    for extra in ([], ["--json"]):
        code, out, err = run_cli(capsys, "--lessons", str(tmp_path), "list", *extra)
        assert code == 0
        assert "broken" not in out
        assert re.search(r"broken\.yaml:\d+: \(yaml\): ", err)
    json.loads(out)  # still one clean JSON array


def test_list_reports_a_missing_lessons_dir(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(capsys, "--lessons", str(tmp_path / "nope"), "list", "--json")
    assert code == 0 and json.loads(out)
    assert err == f"{tmp_path / 'nope'}:1: (file): no such file or directory\n"


def test_fit_is_cjk_aware() -> None:
    assert cell_width("手写梯度下降") == 12
    cut = fit("手写梯度下降", 7)
    assert cut.endswith("…") and cell_width(cut) <= 7
    assert cell_width(fit("abc", 7)) == 7
    assert fit("12", 4, right=True) == "  12"


# -- validate -------------------------------------------------------------------------------


def test_validate_a_good_lesson(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "validate", str(LESSON_01))
    assert (code, err) == (0, "")
    *lines, last = out.splitlines()
    # Quiz warnings (tutor/lesson/quiz_lint.py) are printed but do not fail the lesson.
    assert last.startswith("1 lesson ok, 0 files with problems")
    assert all(": warning: " in line for line in lines)


def test_validate_defaults_to_every_known_lesson(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy_lesson_01(tmp_path / "builtin" / "gd")
    monkeypatch.setattr("tutor.paths.builtin_lessons_dir", lambda: tmp_path / "builtin")
    code, out, _ = run_cli(capsys, "validate")
    assert code == 0 and out.splitlines()[-1].startswith("1 lesson ok, 0 files with problems")
    write_lesson(tmp_path / "extra", "other-lesson")
    (tmp_path / "extra" / "broken.yaml").write_text("id: [\n")
    code, out, _ = run_cli(capsys, "--lessons", str(tmp_path / "extra"), "validate")
    assert code == 1
    assert out.splitlines()[-1].startswith("2 lessons ok, 1 file with problems")


def test_validate_broken_yaml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: broken\norder: 1\ntitle: [unclosed\nsummary: x\n")
    code, out, err = run_cli(capsys, "validate", str(bad))
    assert code == 1
    assert re.match(rf"{re.escape(str(bad))}:\d+: \(yaml\): .+", out.splitlines()[0])
    assert out.splitlines()[-1] == "0 lessons ok, 1 file with problems"
    assert "Traceback" not in out + err


def test_validate_unknown_field_suggests_the_right_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    yaml = MINIMAL_YAML.format(id="typo").replace("summary:", "summery:")
    path = write_lesson(tmp_path, "typo", yaml=yaml)
    code, out, _ = run_cli(capsys, "validate", str(path))
    assert code == 1
    line = next(x for x in out.splitlines() if "summery" in x)
    assert re.fullmatch(
        rf"{re.escape(str(path))}:5: summery: unknown field; did you mean 'summary'\?", line
    )


def test_validate_missing_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    code, out, _ = run_cli(capsys, "validate", str(missing))
    assert code == 1
    assert f"{missing}:1: (file): no such file or directory" in out


def test_validate_turns_a_loader_crash_into_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import tutor.lesson.loader

    weird = write_lesson(tmp_path, "weird")
    write_lesson(tmp_path, "fine")
    real = tutor.lesson.loader.load_lesson

    def load_lesson(file: Path) -> Any:
        if Path(file).parent.name == "weird":
            raise RuntimeError("kaboom")
        return real(file)

    monkeypatch.setattr(tutor.lesson.loader, "load_lesson", load_lesson)
    code, out, err = run_cli(capsys, "validate", str(tmp_path))
    assert code == 1
    assert f"{weird}:1: (file): unexpected error while loading: RuntimeError: kaboom" in out
    assert out.splitlines()[-1] == "1 lesson ok, 1 file with problems"
    assert "Traceback" not in out + err


# -- run: usage errors (exit 2) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "lr=abc"], "dl-tutor: lr: 'abc' is not a valid float"),
        (["--set", "lr=5"], "dl-tutor: lr: 5.0 is above the maximum 1"),
        (["--set", "lrr=0.1"], "dl-tutor: unknown hyperparameter 'lrr'; did you mean 'lr'?"),
        (["--set", "lr"], "dl-tutor: --set expects NAME=VALUE, got 'lr'"),
        (["--epochs", "0"], "dl-tutor: epochs: 0 is below the minimum 1"),
    ],
)
def test_run_bad_parameters(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, "run", "gradient-descent", *argv)
    assert (code, out, err) == (2, "", message + "\n")


def test_run_unknown_lesson_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "run", "gradient-decent")
    assert code == 2
    assert err.startswith(
        "dl-tutor: unknown lesson 'gradient-decent'; did you mean 'gradient-descent'"
    )
    code, _, err = run_cli(capsys, "run", "zzzzzz")
    assert code == 2 and "'dl-tutor list' shows the lessons" in err


def test_run_epochs_needs_an_epochs_hyperparameter(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    yaml = BARE_YAML.format(id="no-epochs").replace(
        "  - {name: epochs, type: int, default: 2, min: 1, max: 100}\n", ""
    )
    extra = lesson_dir(tmp_path, "no-epochs", "def train(ctx):\n    pass\n", yaml=yaml)
    code, _, err = run_cli(capsys, "--lessons", str(extra), "run", "no-epochs", "--epochs", "3")
    assert code == 2 and "has no 'epochs' hyperparameter" in err


def test_run_unavailable_device(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutor.training import device

    def unavailable(name: str = "auto") -> Any:
        raise device.DeviceUnavailable(
            "CUDA was asked for but no CUDA GPU is available; use --device cpu"
        )

    monkeypatch.setattr(device, "resolve", unavailable)
    code, out, err = run_cli(capsys, "run", "gradient-descent", "--device", "cuda")
    assert (code, out) == (2, "")
    assert err == "dl-tutor: CUDA was asked for but no CUDA GPU is available; use --device cpu\n"


# -- run: real runs -----------------------------------------------------------------------------


def test_run_gradient_descent_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "run", "gradient-descent", "--device", "cpu")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "gradient-descent: Gradient descent by hand"
    assert "lr=0.01" in lines[1] and lines[2].startswith("seed 0  device cpu")
    assert re.search(r"^epoch 100/100  loss \S+  w 1\.9999  \d+\.\ds$", out, re.M)
    assert "epoch  20  cost" in out  # the lesson's own log lines
    assert "━ cost" in out and "└─" in out  # the chart, its legend naming the series label
    assert "\x1b[" not in out  # no colour codes when stdout is not a terminal
    assert "  ✓ w ends within 0.01 of 2.0: " in out and "(target ≤ 0.01)" in out
    assert "status   completed, 1/1 checks passed" in out


def test_run_json_events(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "run", "gradient-descent", "--json", "--seed", "7")
    assert code == 0
    events = json_lines(out)
    start, end = events[0], events[-1]
    assert start == {
        "event": "start",
        "lesson": "gradient-descent",
        "seed": 7,
        "device": start["device"],
        "params": {"lr": 0.01, "epochs": 100, "w_init": 1.0, "seed": 7},
    }
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == list(range(1, 101))
    assert set(epochs[0]) == {"event", "epoch", "metrics", "elapsed"}
    assert set(epochs[0]["metrics"]) == {"loss", "w"}
    assert [e["text"] for e in events if e["event"] == "log"][0].startswith("epoch  20")
    assert end["event"] == "end" and end["status"] == "completed"
    assert end["seed"] == 7 and end["error"] is None and end["hint"] is None
    assert set(end) >= {"metrics", "checks", "dataset", "device", "seconds"}
    # Recorded values are described (type, shape), never dumped.
    assert all(set(r) <= {"type", "shape"} for r in end["records"].values()), end["records"]
    [check] = end["checks"]
    assert check["passed"] is True and check["expected"] == "≤ 0.01"
    assert set(check) == {"name", "passed", "value", "expected"}


def test_run_failing_check_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "run", "gradient-descent", "--epochs", "1")
    assert code == 1
    assert "  ✗ w ends within 0.01 of 2.0: 0.906667 (target ≤ 0.01)" in out
    assert "status   completed, 0/1 checks passed" in out


def test_run_smoke_then_explicit_flags(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "run", "gradient-descent", "--smoke", "--json")
    assert json_lines(out)[0]["params"]["epochs"] == 20  # the lesson's smoke setting
    _, out, _ = run_cli(capsys, "run", "gradient-descent", "--smoke", "--epochs", "3", "--json")
    assert json_lines(out)[0]["params"]["epochs"] == 3


def test_run_uses_the_global_device(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(
        capsys, "--device", "cpu", "run", "gradient-descent", "--epochs", "1", "--json"
    )
    assert json_lines(out)[0]["device"] == "cpu"


def test_run_by_order_number(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "run", "1", "--epochs", "1", "--json")
    assert json_lines(out)[0]["lesson"] == "gradient-descent"


def test_fast_epochs_are_throttled_but_the_last_is_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(
        capsys, "run", "gradient-descent", "--epochs", "5000", "--set", "lr=0.05"
    )
    assert code == 0
    progress = re.findall(r"^epoch\s+(\d+)/5000", out, re.M)
    assert progress[0] == "1" and progress[-1] == "5000"
    assert len(progress) < 50  # 5000 epochs take well under a second: ~10 lines a second


def test_run_diverged(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = """
def train(ctx):
    for epoch in range(1, ctx.params.epochs + 1):
        ctx.report_epoch(epoch, train_loss=float("nan") if epoch == 3 else 1.0 / epoch)
"""
    extra = lesson_dir(tmp_path, "cli-nan", code)
    rc, out, _ = run_cli(capsys, "--lessons", str(extra), "run", "cli-nan", "--epochs", "5")
    assert rc == 1
    assert "status   diverged" in out and "hint: The loss became NaN" in out
    assert "epoch 2/5" in out and "epoch 3/5" not in out


def test_run_diverged_json_is_strict(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = """
def train(ctx):
    ctx.report_step(loss=float("nan"))
"""
    extra = lesson_dir(tmp_path, "cli-nan-step", code)
    rc, out, _ = run_cli(capsys, "--lessons", str(extra), "run", "cli-nan-step", "--json")
    assert rc == 1
    end = json_lines(out)[-1]
    assert end["status"] == "diverged" and end["hint"]
    assert end["metrics"] == {"loss": None}  # NaN is not JSON


def test_run_failed_shows_the_lesson_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = """
def train(ctx):
    ctx.report_epoch(1, train_loss=0.5)
    raise ValueError("shapes do not match")
"""
    extra = lesson_dir(tmp_path, "cli-raises", code)
    rc, out, err = run_cli(capsys, "--lessons", str(extra), "run", "cli-raises")
    assert rc == 1
    code_file = extra / "cli-raises" / "code.py"
    assert f'File "{code_file.resolve()}", line 4, in train' in out
    assert "ValueError: shapes do not match" in out
    assert "status   failed" in out and "Traceback" not in err
    rc, out, _ = run_cli(capsys, "--lessons", str(extra), "run", "cli-raises", "--json")
    end = json_lines(out)[-1]
    assert rc == 1 and end["status"] == "failed" and "line 4" in end["error"]


def test_ctrl_c_cancels_and_still_summarises(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = """
import signal

def train(ctx):
    for epoch in range(1, ctx.params.epochs + 1):
        if epoch == 3:
            signal.raise_signal(signal.SIGINT)  # the learner presses Ctrl+C
        ctx.report_epoch(epoch, train_loss=1.0 / epoch)
"""
    extra = lesson_dir(tmp_path, "cli-ctrl-c", code)
    before = signal.getsignal(signal.SIGINT)
    rc, out, err = run_cli(capsys, "--lessons", str(extra), "run", "cli-ctrl-c", "--epochs", "50")
    assert rc == 1
    assert "status   cancelled" in out
    assert re.findall(r"^epoch\s+(\d+)/50", out, re.M) == ["1", "2"]
    assert "Ctrl+C again" in err
    assert signal.getsignal(signal.SIGINT) is before


def test_sigterm_cancels_stores_the_run_and_exits_143(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tutor.progress import ProgressStore

    code = """
import signal

def train(ctx):
    for epoch in range(1, ctx.params.epochs + 1):
        if epoch == 3:
            signal.raise_signal(signal.SIGTERM)  # `kill PID` while it trains
        ctx.report_epoch(epoch, train_loss=1.0 / epoch)
"""
    extra = lesson_dir(tmp_path, "cli-term", code)
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    rc, out, _ = run_cli(capsys, "--lessons", str(extra), "run", "cli-term", "--epochs", "50")
    assert rc == 143
    assert "status   cancelled" in out
    assert re.findall(r"^epoch\s+(\d+)/50", out, re.M) == ["1", "2"]
    with ProgressStore() as store:
        assert [run.status for run in store.runs("cli-term")] == ["cancelled"]
    assert {s: signal.getsignal(s) for s in before} == before


def test_json_stdout_stays_clean_when_the_lesson_prints(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = """
def train(ctx):
    print("hello from the lesson")
    ctx.log("a log line")
    ctx.report_epoch(1, train_loss=0.5)
"""
    extra = lesson_dir(tmp_path, "cli-prints", code)
    rc, out, err = run_cli(capsys, "--lessons", str(extra), "run", "cli-prints", "--json")
    assert rc == 0
    events = json_lines(out)
    assert [e["event"] for e in events] == ["start", "log", "epoch", "end"]
    assert "hello from the lesson" in err and "hello" not in out


def test_run_shows_sample_images(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("tutor.imageview")
    code = """
def train(ctx):
    ctx.report_epoch(1, train_loss=0.5)
    ctx.record("sample_images", [[[0.0, 1.0], [1.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]]])
    ctx.record("sample_captions", ["seven", "two"])
"""
    extra = lesson_dir(tmp_path, "cli-images", code)
    rc, out, _ = run_cli(capsys, "--lessons", str(extra), "run", "cli-images")
    assert rc == 0
    assert re.search(r"seven\s+two", out)


def test_chart_groups_keep_every_series_per_step_and_per_epoch() -> None:
    from tutor.lesson.loader import load_lesson

    loaded = load_lesson(LESSON_01 / "lesson.yaml")
    history = {
        "loss": [(1.0, 2.0), (2.0, 1.0)],
        "w": [(1.0, 1.0), (2.0, 1.5)],
        "step_loss": [(1.0, 3.0), (2.0, 2.0)],
        "test_acc": [(1.0, 0.5), (2.0, 0.7)],
    }
    groups = cli_charts.chart_groups(history, loaded, {"loss", "w", "test_acc"}, "en")
    assert [(t, [(c.label, c.per) for c in curves]) for t, curves in groups] == [
        ("loss", [("step_loss", "step"), ("cost", "epoch")]),  # per-step first, then the epochs
        ("accuracy", [("test_acc", "epoch")]),  # kind guessed from the name
    ]
    text = cli_charts.render_charts(
        history, loaded, {"loss", "w", "test_acc"}, "en", width=60, color=False
    )[0]
    assert "step_loss" in text and "cost" in text and "\x1b" not in text


# -- in a fresh interpreter ---------------------------------------------------------------------

PROBE = (
    "import sys; from tutor.cli import main; rc = main(sys.argv[1:]); "
    "print('TORCH', 'torch' in sys.modules, file=sys.stderr); raise SystemExit(rc)"
)


def _python(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DL_TUTOR_OFFLINE": "1",
        "DL_TUTOR_CACHE_DIR": str(tmp_path / "cache"),
        "DL_TUTOR_DATA_DIR": str(tmp_path / "data"),
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "argv", [["list"], ["list", "--json"], ["validate", str(LESSON_01)], ["--version"]]
)
def test_never_imports_torch(argv: list[str], tmp_path: Path) -> None:
    done = _python("-c", PROBE, *argv, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "TORCH False" in done.stderr  # main() returns even for --version: the probe runs


def test_python_m_tutor_exit_codes(tmp_path: Path) -> None:
    listed = _python("-m", "tutor", "list", tmp_path=tmp_path)
    assert listed.returncode == 0 and "gradient-descent" in listed.stdout
    unknown = _python("-m", "tutor", "run", "no-such-lesson", tmp_path=tmp_path)
    assert unknown.returncode == 2 and unknown.stderr.startswith("dl-tutor: unknown lesson")
    usage = _python("-m", "tutor", "--bogus", tmp_path=tmp_path)
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1
    failing = _python("-m", "tutor", "run", "gradient-descent", "--epochs", "1", tmp_path=tmp_path)
    assert failing.returncode == 1 and "✗" in failing.stdout


def test_list_is_fast(capsys: pytest.CaptureFixture[str]) -> None:
    import time

    cli.main(["list"])  # warm: the first call pays for imports
    start = time.perf_counter()
    cli.main(["list"])
    capsys.readouterr()
    # Generous for a shared CI machine; today it takes ~0.2 s (YAML parsing dominates).
    assert time.perf_counter() - start < 1.5
