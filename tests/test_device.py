"""Device choice is a pure decision, testable without a GPU."""

from __future__ import annotations

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
