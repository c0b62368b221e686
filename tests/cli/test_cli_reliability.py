"""``dl-tutor`` on the command line when things around it go wrong (#19): a stuck lesson
after a signal, a closed pipe, absurd numbers, a missing --lessons directory, lesson text
with control characters, and an output that can only encode ASCII."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from helpers import BARE_YAML, write_lesson

from tutor import cli
from tutor.cli.commands import lesson_table
from tutor.cli.common import json_text
from tutor.progress import ProgressStore
from tutor.quiz import format_value

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DL_TUTOR_OFFLINE", "1")
    monkeypatch.setenv("DL_TUTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DL_TUTOR_DATA_DIR", str(tmp_path / "data"))
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


def cli_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def lessons_with(tmp_path: Path, lesson_id: str, code: str, epochs_max: int = 100) -> Path:
    root = tmp_path / "lessons"
    yaml = BARE_YAML.format(id=lesson_id).replace("max: 100", f"max: {epochs_max}")
    write_lesson(root, lesson_id, yaml=yaml, code=code)
    return root


def python(
    *args: str, tmp_path: Path, env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.Popen[bytes]:
    environ = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DL_TUTOR_OFFLINE": "1",
        "DL_TUTOR_CACHE_DIR": str(tmp_path / "cache"),
        "DL_TUTOR_DATA_DIR": str(tmp_path / "data"),
        "OMP_NUM_THREADS": "1",
        **(env or {}),
    }
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "tutor", *args], cwd=REPO, env=environ, **kwargs
    )


def stored(lesson: str) -> list[str]:
    with ProgressStore() as store:
        return [r.status for r in store.runs(lesson)]


# -- a lesson stuck between steps, then SIGTERM or SIGHUP ------------------------------------

STUCK = """
import os

def train(ctx):
    ctx.report_epoch(1, train_loss=0.5)
    open(os.environ["STUCK_MARKER"], "w").close()
    while True:  # never reaches another step
        pass
"""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_stuck_lesson_is_ended_after_the_grace_time_and_stored(
    tmp_path: Path, signum: int, code: int
) -> None:
    lessons = lessons_with(tmp_path, "stuck", STUCK)
    marker = tmp_path / "stuck-now"
    proc = python(
        "--lessons",
        str(lessons),
        "run",
        "stuck",
        tmp_path=tmp_path,
        env={"STUCK_MARKER": str(marker)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), proc.communicate(timeout=5)
        os.kill(proc.pid, signum)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code
    assert time.monotonic() - sent < 15  # grace 2 s (+ storing); it used to spin for good
    assert b"Traceback" not in err
    if signum == signal.SIGTERM:  # after a hang-up there is nothing left to print on
        assert b"did not stop within 2 s" in err
    with ProgressStore() as store:
        [run] = store.runs("stuck")
    assert run.status == "cancelled" and run.history["train_loss"] == [(1.0, 0.5)]


# -- run --json | head -1 ----------------------------------------------------------------------

MANY_EPOCHS = """
def train(ctx):
    for epoch in range(1, ctx.params.epochs + 1):
        print("lesson output", epoch)
        ctx.report_epoch(epoch, train_loss=1.0 / epoch)
"""


@pytest.mark.parametrize("json_flag", [["--json"], []])
def test_a_closed_pipe_is_quiet_and_the_run_is_stored(
    tmp_path: Path, json_flag: list[str]
) -> None:
    lessons = lessons_with(tmp_path, "many", MANY_EPOCHS, epochs_max=100000)
    # 20,000 lines: far more than a pipe holds, so writing fails after `head -1` left.
    proc = python(
        "--lessons",
        str(lessons),
        "run",
        "many",
        "--epochs",
        "20000",
        *json_flag,
        tmp_path=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0
    assert first and b"Traceback" not in err and b"BrokenPipe" not in err, err[-2000:]
    assert stored("many") == ["completed"]


# -- absurd numbers, missing directories ---------------------------------------------------------


def test_runs_limit_is_clamped_or_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli_run(capsys, "runs", "gradient-descent", "--limit", "9" * 20)
    assert code == 0 and "no runs of gradient-descent yet" in out and err == ""
    for bad in ("0", "-3", "x"):
        code, _, err = cli_run(capsys, "runs", "gradient-descent", "--limit", bad)
        assert code == 2 and err.count("\n") == 1 and "--limit" in err


def test_a_missing_lessons_dir_is_warned_about(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nonexistent"
    code, _, err = cli_run(capsys, "--lessons", str(missing), "runs", "gradient-descent")
    assert code == 0 and f"warning: --lessons {missing}: no such directory" in err
    code, _, err = cli_run(capsys, "--lessons", str(missing), "run", "mine")
    assert code == 2
    assert f"--lessons {missing}: no such directory" in err and "unknown lesson 'mine'" in err


# -- lesson text never reaches the terminal raw ------------------------------------------------


def test_list_titles_are_inert() -> None:
    text = types.SimpleNamespace(get=lambda lang: "evil\x1b]0;pwned\x07 \x9b2J")
    lesson = types.SimpleNamespace(order=1, title=text, summary=text)
    loaded = types.SimpleNamespace(id="evil", pack="p\x1bk", lesson=lesson)
    lines = lesson_table([loaded], "en", width=200)  # type: ignore[list-item]
    assert not any(ch in "".join(lines) for ch in "\x1b\x07\x9b")
    assert "evil\\x1b]0;pwned\\x07 \\x9b2J" in lines[1] and "[p\\x1bk]" in lines[1]


def test_validate_shows_file_names_inert(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "\x1b[2Jevil.yaml").write_text("id: [unclosed\n")
    code, out, _ = cli_run(capsys, "validate", str(tmp_path))
    assert code == 1 and "\x1b" not in out and "\\x1b[2Jevil.yaml:" in out


LOUD = r"""
import sys

def train(ctx):
    print("\x1b[2Jcleared?\tstill here")
    print("\x1b]52;c;cHduZWQ=\x07", file=sys.stderr)
    ctx.report_epoch(1, **{"loss\x1b[31m": 0.5})
    ctx.record("answer", "\x1b[2J42")
"""


def test_a_run_prints_lesson_output_and_values_inert(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    yaml = BARE_YAML.format(id="loud") + "checks:\n  - {name: answer, expr: answer, equals: 1}\n"
    write_lesson(tmp_path / "lessons", "loud", yaml=yaml, code=LOUD)
    code, out, err = cli_run(capsys, "--lessons", str(tmp_path / "lessons"), "run", "loud")
    assert code == 1
    assert "\\x1b[2Jcleared?\tstill here" in out and "\\x1b]52;c;cHduZWQ=\\x07" in err
    assert "answer: \\x1b[2J42" in out and "loss\\x1b[31m" in out
    assert "\x1b" not in out + err and "\x07" not in err
    code, out, _ = cli_run(capsys, "--lessons", str(tmp_path / "lessons"), "runs", "loud")
    assert "loss\\x1b[31m" in out and "\x1b" not in out


def test_values_and_json_never_carry_control_characters() -> None:
    assert format_value("\x1b[2J") == "\\x1b[2J"
    assert format_value(["a\x9b"]) == "[a\\x9b]"
    text = json_text({"t": "\x1b\x9b中"})
    assert "\x1b" not in text and "\x9b" not in text and "中" in text
    assert json.loads(text) == {"t": "\x1b\x9b中"}


# -- an output that can only encode ASCII ---------------------------------------------------------

ASCII_ENV = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "LANG": "zh_CN.UTF-8"}


def test_default_lang_is_english_when_the_output_cannot_show_chinese() -> None:
    assert cli.default_lang({"LANG": "zh_CN.UTF-8"}, "ascii") == "en"
    assert cli.default_lang({"LANG": "zh_CN.UTF-8"}, "utf-8") == "zh"


def test_an_ascii_terminal_gets_ascii_tables_marks_and_charts(tmp_path: Path) -> None:
    env = {**ASCII_ENV, "LC_ALL": "C"}
    done = python("list", tmp_path=tmp_path, env=env, stdout=subprocess.PIPE)
    out = done.communicate(timeout=120)[0]
    assert done.returncode == 0 and out.isascii()
    lines = out.decode().splitlines()
    assert "Gradient descent" in out.decode()  # English: LC_ALL=C, not a row of ?
    starts = {line.index(line.split()[2]) for line in lines[1:] if len(line.split()) > 2}
    assert len(starts) == 1  # the title column lines up
    assert "..." in out.decode() and "?" not in lines[1].split()[2]

    zh = python("--lang", "zh", "list", tmp_path=tmp_path, env=env, stdout=subprocess.PIPE)
    zh_lines = zh.communicate(timeout=120)[0].decode().splitlines()
    widths = {len(line) for line in zh_lines[1:4]}
    assert all(w <= 80 for w in widths)  # measured as printed: ? is one cell, not two

    run = python(
        "run", "gradient-descent", tmp_path=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert out.isascii() and "  + " in out.decode() and "?" not in out.decode()
    assert "ascii" in out.decode() and "|" in out.decode()  # the chart's ASCII tier


def test_the_app_on_an_ascii_terminal_gets_english_ascii_charts_and_same_width_text() -> None:
    import argparse
    import io

    from tutor.cli.common import cell_width

    def screen(encoding: str) -> io.TextIOWrapper:
        return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="replace")

    args = argparse.Namespace(lang="zh", lang_given=False)
    environ: dict[str, str] = {}
    ascii_screen = screen("ascii")
    assert cli.plain_terminal(args, environ, ascii_screen) == cli.ASCII_NOTE
    assert args.lang == "en" and environ == {"DL_TUTOR_CHARTS": "ascii"}
    # Textual measured this line in cells: what reaches the terminal takes the same cells.
    line = "╭─ 课程 ─╮│ ▶ Run ■ ✓ … · é ▌"
    ascii_screen.write(line)
    ascii_screen.flush()
    drawn = ascii_screen.buffer.getvalue().decode("ascii")  # type: ignore[attr-defined]
    assert drawn == "+- ???? -+| > Run # + . . e |"
    assert len(drawn) == cell_width(line)
    # --lang and DL_TUTOR_CHARTS are the learner's choice; a Unicode terminal is left alone.
    args, environ = argparse.Namespace(lang="zh", lang_given=True), {"DL_TUTOR_CHARTS": "block"}
    assert cli.plain_terminal(args, environ, screen("ascii")) == cli.ASCII_NOTE
    assert args.lang == "zh" and environ == {"DL_TUTOR_CHARTS": "block"}
    args, environ = argparse.Namespace(lang="zh", lang_given=False), {}
    assert cli.plain_terminal(args, environ, screen("utf-8")) is None
    assert args.lang == "zh" and environ == {}
