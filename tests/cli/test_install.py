"""A non-editable install ships every built-in lesson.

The checkout's ``lessons/`` reach the wheel only through hatch's ``force-include``
(as ``tutor/_lessons``), which an editable install never exercises. So: build the
wheel, look inside, install it into a bare target directory and list the lessons
from there, with the repository nowhere on the path.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LESSONS = REPO / "lessons"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hatchling") is None,
    reason="building the wheel needs hatchling in this environment: pip install hatchling",
)


def _pip(*args: str, cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--no-index", "--disable-pip-version-check", "-q"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def _shipped_files() -> list[str]:
    """Every file under lessons/ that must be in the wheel (bytecode caches are not source)."""
    return sorted(
        p.relative_to(LESSONS).as_posix()
        for p in LESSONS.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def _expected_ids() -> set[str]:
    """Ids of the lessons that load from the checkout (a lesson being written may not yet)."""
    from tutor.lesson.loader import load_catalog

    return {x.id for x in load_catalog([LESSONS], builtin=False).lessons}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(REPO), cwd=out)
    [built] = out.glob("dl_tutor-*.whl")
    return built


def test_wheel_contains_every_lesson_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    lesson_dirs = sorted(p.parent.name for p in LESSONS.glob("*/lesson.yaml"))
    assert lesson_dirs, "no lessons in the checkout?"
    for name in lesson_dirs:
        assert f"tutor/_lessons/{name}/lesson.yaml" in names
    missing = [f for f in _shipped_files() if f"tutor/_lessons/{f}" not in names]
    assert not missing, f"lesson files left out of the wheel: {missing}"
    assert "tutor/cli/__init__.py" in names and "tutor/__main__.py" in names


def test_installed_wheel_lists_the_builtin_lessons(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    _pip("install", "--no-deps", "--target", str(target), str(wheel), cwd=tmp_path)
    outside = tmp_path / "elsewhere"  # a cwd outside the checkout: no accidental `import tutor`
    outside.mkdir()
    probe = (
        "import json, sys, tutor, tutor.cli; "
        "print(json.dumps({'tutor': tutor.__file__})); "
        "raise SystemExit(tutor.cli.main(['list', '--json']))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(target),
        "DL_TUTOR_OFFLINE": "1",
        "DL_TUTOR_CACHE_DIR": str(tmp_path / "cache"),
        "DL_TUTOR_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    first, _, rest = done.stdout.partition("\n")
    site = target.resolve()
    assert Path(json.loads(first)["tutor"]).resolve().is_relative_to(site)
    lessons = json.loads(rest)
    assert {x["id"] for x in lessons} == _expected_ids()
    for x in lessons:
        assert Path(x["path"]).resolve().is_relative_to(site / "tutor" / "_lessons")
        assert Path(x["code"]).resolve().is_relative_to(site / "tutor" / "_lessons")


def test_installed_wheel_has_a_valid_shipped_index(wheel: Path, tmp_path: Path) -> None:
    # The first start after installing has no cache: its first screen comes from the index
    # shipped in tutor/_lessons, which must match the lessons installed beside it.
    target = tmp_path / "site"
    _pip("install", "--no-deps", "--target", str(target), str(wheel), cwd=tmp_path)
    probe = (
        "import tutor.lesson.index as ix; "
        "assert ix.read_index() is None; "
        "shipped = ix.read_shipped_index(); "
        "assert shipped is not None and str(ix.shipped_index_path()).startswith(sys.argv[1]); "
        "print(len(shipped.lessons))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(target),
        "DL_TUTOR_CACHE_DIR": str(tmp_path / "cache"),
        "DL_TUTOR_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; {probe}", str(target.resolve())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(_expected_ids())
