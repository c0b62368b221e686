"""The house rules, checked in CI: no import circle, a core that never reaches Textual or a
front end (tools/imports.py), and a clean type check (mypy, configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools import imports

ROOT = Path(__file__).resolve().parents[2]


def test_no_import_circle_and_a_core_without_textual(capsys: pytest.CaptureFixture[str]) -> None:
    assert imports.main([str(ROOT)]) == 0, capsys.readouterr().out


def test_the_checker_finds_a_circle_and_a_core_reaching_textual(tmp_path: Path) -> None:
    pkg = tmp_path / "tutor"
    (pkg / "lesson").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "lesson" / "__init__.py").write_text("")
    (pkg / "lesson" / "a.py").write_text("from tutor.lesson import b\n")
    (pkg / "lesson" / "b.py").write_text("def f():\n    from tutor.lesson import a\n")
    (pkg / "plot.py").write_text("import textual\n")
    graph, outside = imports.import_graph(tmp_path)
    assert imports.circles(graph) == [["tutor.lesson.a", "tutor.lesson.b"]]
    assert imports.core_violations(graph, outside) == ["tutor.plot → textual"]


def test_the_type_checker_is_clean() -> None:
    pytest.importorskip("mypy", reason="mypy comes with the [test] extra")
    done = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
