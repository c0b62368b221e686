"""Lesson packs: examples/lesson-pack built into a wheel, installed into a fresh venv, listed
and run there; its French translation of lesson 1 shows with ``--lang fr``."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "examples" / "lesson-pack"


def _run(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs  # type: ignore[call-overload]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def pack_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the example pack installed (from its wheel); returns its python."""
    tmp = tmp_path_factory.mktemp("pack")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--no-index", "-w", tmp / "dist", PACK])  # fmt: skip
    [wheel] = (tmp / "dist").glob("*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv])
    python = venv / "bin" / "python"
    # --system-site-packages reaches the base Python's packages; when the tests run in a venv,
    # its packages (torch, pydantic, ...) come through a .pth file instead of a reinstall.
    [purelib] = (venv / "lib").glob("python*/site-packages")
    (purelib / "_parent_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
          "--no-build-isolation", "--no-index", wheel])  # fmt: skip
    return python


def _tutor(python: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),  # this checkout's dl-tutor, whatever the venv has installed
        DL_TUTOR_DATA_DIR=str(tmp_path / "data"),
        DL_TUTOR_CACHE_DIR=str(tmp_path / "cache"),
        DL_TUTOR_OFFLINE="1",
    )
    return _run([python, "-m", "tutor", *args], env=env, cwd=tmp_path)


def test_an_installed_pack_is_listed_and_runs(pack_python: Path, tmp_path: Path) -> None:
    rows = json.loads(_tutor(pack_python, tmp_path, "list", "--json").stdout)
    by_id = {r["id"]: r for r in rows}
    assert by_id["hello-pack"]["pack"] == "example"
    assert by_id["gradient-descent"]["pack"] is None
    table = _tutor(pack_python, tmp_path, "list").stdout
    assert "hello-pack" in table and "[example] Hello" in table  # the title column is cut

    lines = _tutor(pack_python, tmp_path, "run", "hello-pack", "--json", "--strict").stdout
    end = json.loads(lines.splitlines()[-1])
    assert end["status"] == "completed" and end["checks"][0]["passed"]
    assert end["quiz"] == [{"id": "last-loss", "resolved": True}]


def test_a_pack_translates_a_builtin_lesson(pack_python: Path, tmp_path: Path) -> None:
    rows = json.loads(_tutor(pack_python, tmp_path, "--lang", "fr", "list", "--json").stdout)
    by_id = {r["id"]: r for r in rows}
    assert by_id["gradient-descent"]["title"] == "La descente de gradient à la main"
    assert by_id["hello-pack"]["title"] == "Hello from a pack"  # untranslated: English
    result = _tutor(pack_python, tmp_path, "validate")
    assert "0 files with problems" in result.stdout
