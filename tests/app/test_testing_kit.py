"""tutor.testing, the kit outside tests use: it stays light, and an outside folder runs with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = ROOT / "examples" / "outside-tests"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_importing_the_kit_imports_neither_torch_nor_textual() -> None:
    code = "import sys, tutor.testing; print(sorted({'torch', 'textual'} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_env()
    )
    assert out.stdout.strip() == "[]"


def test_an_outside_test_folder_runs_a_lesson_and_answers_its_quiz(tmp_path: Path) -> None:
    # Its own pytest.ini makes the folder the rootdir: this repository's conftest is not used.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", tmp_path],
        cwd=OUTSIDE,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
