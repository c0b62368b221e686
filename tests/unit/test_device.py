"""Device choice is a pure decision, testable without a GPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.training.device import DeviceUnavailable, describe, pick, resolve


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_auto_prefers_cuda_then_mps_then_cpu(cuda: bool, mps: bool, expected: str) -> None:
    assert pick("auto", cuda=cuda, mps=mps) == expected


def test_explicit_devices() -> None:
    assert pick("cpu", cuda=True, mps=True) == "cpu"
    assert pick("cuda:1", cuda=True, mps=False) == "cuda:1"
    with pytest.raises(DeviceUnavailable, match="no CUDA GPU"):
        pick("cuda", cuda=False, mps=False)
    with pytest.raises(DeviceUnavailable, match="MPS"):
        pick("mps", cuda=False, mps=False)
    with pytest.raises(DeviceUnavailable, match="unknown device"):
        pick("tpu", cuda=False, mps=False)


def test_resolve_on_this_machine_gives_a_usable_device() -> None:
    import torch

    device = resolve("cpu")
    assert torch.zeros(2).to(device).device.type == "cpu"
    assert describe(device) == "cpu"


def test_prepare_enables_cudnn_benchmark_only_for_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    import torch

    from tutor.training.device import prepare

    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    prepare(SimpleNamespace(type="cpu"))
    assert torch.backends.cudnn.benchmark is False
    prepare(SimpleNamespace(type="cuda"))
    assert torch.backends.cudnn.benchmark is True


def test_live_description_names_a_gpu_and_its_memory_and_is_empty_on_the_cpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    import torch

    from tutor.training.device import live_description

    assert live_description(torch.device("cpu")) == ""
    props = SimpleNamespace(name="Fake GPU", total_memory=8 * 2**30)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: props)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda index: 2**30)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    gpu = SimpleNamespace(type="cuda", index=0)
    assert live_description(gpu) == "cuda:0 (Fake GPU, 1.0/8.0 GiB)"


def test_progress_carries_the_gpu_description_only_on_a_gpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    from tutor import events
    from tutor.training.context import RunContext

    seen: list[events.Progress] = []
    ctx = RunContext({"epochs": 1}, torch.device("cpu"), seen.append)
    ctx.report_step(loss=1.0)
    ctx.finish()
    assert seen and seen[-1].device_info == ""
    monkeypatch.setattr(
        "tutor.training.device.live_description", lambda device: "cuda:0 (G, 1.0/8.0 GiB)"
    )
    ctx.report_step(loss=1.0)
    ctx.finish()
    assert seen[-1].device_info == "cuda:0 (G, 1.0/8.0 GiB)"


def test_cuda_index_beyond_the_gpu_count_is_refused() -> None:
    assert pick("cuda:1", cuda=True, mps=False, cuda_count=2) == "cuda:1"
    with pytest.raises(DeviceUnavailable, match=r"no GPU cuda:2: this machine has 2"):
        pick("cuda:2", cuda=True, mps=False, cuda_count=2)
    with pytest.raises(DeviceUnavailable, match="unknown device"):
        pick("cuda:x", cuda=True, mps=False, cuda_count=2)


def test_resolve_and_describe_refuse_a_missing_gpu_index(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve("cuda:0") == torch.device("cuda:0")
    with pytest.raises(DeviceUnavailable, match=r"no GPU cuda:1: this machine has 1 \(cuda:0\)"):
        resolve("cuda:1")
    with pytest.raises(DeviceUnavailable, match="no GPU cuda:3"):
        describe(SimpleNamespace(type="cuda", index=3))


def test_a_missing_gpu_index_fails_the_run_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Through the runner (the app's path; the CLI refuses earlier): a failed run, one line."""
    import torch
    from helpers import write_lesson

    from tutor.lesson.loader import load_lesson
    from tutor.training.runner import run_lesson

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    result = run_lesson(load_lesson(write_lesson(tmp_path)), device="cuda:4")
    assert result.status == "failed"
    assert result.error is not None and "no GPU cuda:4" in result.error
    assert "Traceback" not in result.error
