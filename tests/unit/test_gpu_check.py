"""bench/gpu_check.py without a GPU: --dry-run, the CPU-only parts on a tiny case, and how
sync-debug warnings are put down to the lesson's step function."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "gpu_check.py"
needs_no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU path")


def gpu_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


@needs_no_gpu
def test_dry_run_lists_every_part_and_says_there_is_no_gpu() -> None:
    from tutor.lesson.loader import load_catalog

    proc = run_script("--dry-run")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "No CUDA GPU here" in out
    for loaded in load_catalog().lessons:
        assert f"dl-tutor run {loaded.id} --device cuda --smoke --json" in out
    assert "synchronisations per step  (skipped: no CUDA GPU)" in out
    assert "dl-tutor run gradient-descent --device cuda:0" in out
    assert "--set amp=bf16" in out


@needs_no_gpu
def test_the_cpu_only_parts_run_and_write_the_table(tmp_path: Path) -> None:
    out = tmp_path / "gpu.md"
    proc = run_script("--tiny", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = out.read_text()
    assert "no CUDA GPU (CPU-only parts)" in text
    assert "| every lesson on cuda at smoke settings | skipped: no CUDA GPU |" in text
    bad_device = [line for line in text.splitlines() if "--device cuda:0" in line]
    assert bad_device and bad_device[0].endswith("| ok |")
    assert "no CUDA GPU is available" in bad_device[0] and "Traceback" not in text
    runner = [line for line in text.splitlines() if "the app's path" in line]
    assert runner and runner[0].endswith("| ok |")
    timing = [line for line in text.splitlines() if "headless on cpu / bare on cpu" in line]
    assert timing and timing[0].count(" s") >= 2


def test_sync_warnings_are_counted_by_the_lesson_function_they_came_from(tmp_path: Path) -> None:
    module = gpu_check()
    code = tmp_path / "lesson.py"
    code.write_text(
        "import warnings\n"
        "def train_one_epoch(n):\n"
        "    for _ in range(n):\n"
        "        warnings.warn('called a synchronizing CUDA operation')\n"
        "def train():\n"
        "    train_one_epoch(3)\n"
        "    warnings.warn('called a synchronizing CUDA operation')  # an epoch end\n"
        "    warnings.warn('something else')\n"
    )
    namespace: dict[str, object] = {}
    exec(compile(code.read_text(), str(code), "exec"), namespace)
    with pytest.warns(UserWarning, match="something else"):  # other warnings still show
        with module.SyncCounter(str(code)) as counter:
            warnings.simplefilter("always")
            namespace["train"]()  # type: ignore[operator]
    assert counter.places == {"lesson:train_one_epoch:4": 3, "lesson:train:7": 1}


def test_sync_rows_name_the_lines_that_sync_every_step(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The table part_sync builds from a child's counts (the child itself needs a GPU)."""
    module = gpu_check()
    counts = {
        "cnn": {"report": 12, "lesson:train_one_epoch:54": 500, "lesson:test:70": 4},
        "gpu": {"report": 20, "lesson:one_epoch:50": 126, "lesson:train:95": 3},
    }

    def fake_child(plan: object, mode: str, lesson: str, device: str, params: str) -> dict:
        return {"status": "completed", "steps": 250, "reports": 10, "places": counts[lesson]}

    monkeypatch.setattr(module, "in_child", fake_child)
    plan = module.Plan(True, 1, "Fake GPU", False, 60.0, tmp_path)
    rows = {row[0].strip(): row for row in module.part_sync(plan)}
    cnn = rows["cnn {'epochs': 2}: lines syncing every step (250 steps in all)"]
    assert cnn[1:] == ("train_one_epoch:54 ×500", "none", "MISS")
    assert rows["cnn: other syncs (set-up, evaluation, epoch ends)"][1] == "test:70 ×4"
    assert rows["cnn: syncs in reports / reports"][1] == "12 / 10"
    gpu = rows["gpu {'epochs': 3, 'hidden': 256}: lines syncing every step (250 steps in all)"]
    assert gpu[1:] == ("none", "none", "ok")  # part 1's per-batch copies are on purpose
