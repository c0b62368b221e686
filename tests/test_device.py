"""Device choice is a pure decision, testable without a GPU."""

from __future__ import annotations

import pytest

from tutor.device import DeviceUnavailable, describe, pick, resolve


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

    from tutor.device import prepare

    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    prepare(SimpleNamespace(type="cpu"))
    assert torch.backends.cudnn.benchmark is False
    prepare(SimpleNamespace(type="cuda"))
    assert torch.backends.cudnn.benchmark is True
