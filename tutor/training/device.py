"""Choosing where tensors live. ``auto`` prefers CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

from typing import Any

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


class DeviceUnavailable(ValueError):
    pass


def pick(name: str = "auto", *, cuda: bool, mps: bool) -> str:
    """The decision alone, as a pure function so it is testable on a machine without GPUs."""
    if name not in DEVICE_CHOICES and not name.startswith("cuda:"):
        raise DeviceUnavailable(
            f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)}"
        )
    if name == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if name.startswith("cuda") and not cuda:
        raise DeviceUnavailable("CUDA was asked for but no CUDA GPU is available; use --device cpu")
    if name == "mps" and not mps:
        raise DeviceUnavailable(
            "MPS was asked for but is not available on this machine; use --device cpu"
        )
    return name


def resolve(name: str = "auto") -> Any:
    """A ``torch.device`` for ``name`` (imports torch)."""
    import torch

    mps_backend = getattr(torch.backends, "mps", None)
    mps = bool(mps_backend and mps_backend.is_available())
    return torch.device(pick(name, cuda=torch.cuda.is_available(), mps=mps))


def describe(device: Any) -> str:
    """``cpu`` or ``cuda:0 (NVIDIA A100, 1.2/80.0 GiB)`` for headers and run records."""
    import torch

    if getattr(device, "type", str(device)) == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        used = torch.cuda.memory_allocated(index) / 2**30
        return f"cuda:{index} ({props.name}, {used:.1f}/{props.total_memory / 2**30:.1f} GiB)"
    return str(device)


def live_description(device: Any) -> str:
    """``describe(device)`` for a GPU, whose memory in use changes during a run; "" for the
    CPU (nothing worth repeating). Cheap: no device synchronisation."""
    if getattr(device, "type", str(device)) != "cuda":
        return ""
    return describe(device)


def prepare(device: Any) -> None:
    """Per-device settings before training. On CUDA, let cuDNN pick the fastest convolution
    algorithms for the (fixed) input shapes lessons use; a no-op elsewhere."""
    import torch

    if getattr(device, "type", str(device)) == "cuda":
        torch.backends.cudnn.benchmark = True
