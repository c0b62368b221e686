"""Choosing where tensors live. ``auto`` prefers CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

from typing import Any

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


class DeviceUnavailable(ValueError):
    pass


def pick(name: str = "auto", *, cuda: bool, mps: bool, cuda_count: int | None = None) -> str:
    """The decision alone, as a pure function so it is testable on a machine without GPUs.

    ``cuda_count`` (GPUs visible) checks the N of ``cuda:N``; None skips that check.
    """
    index = _cuda_index(name)
    if name not in DEVICE_CHOICES and index is None:
        raise DeviceUnavailable(
            f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)} or cuda:N"
        )
    if name == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if name.startswith("cuda") and not cuda:
        raise DeviceUnavailable("CUDA was asked for but no CUDA GPU is available; use --device cpu")
    if index is not None and cuda_count is not None and index >= cuda_count:
        # torch.device("cuda:7") is accepted; the failure would come later, as a traceback
        # from deep inside the first tensor moved there.
        raise DeviceUnavailable(_no_such_gpu(index, cuda_count))
    if name == "mps" and not mps:
        raise DeviceUnavailable(
            "MPS was asked for but is not available on this machine; use --device cpu"
        )
    return name


def _cuda_index(name: str) -> int | None:
    """N for ``cuda:N``, None for anything else (``cuda`` itself included)."""
    prefix, _, number = name.partition(":")
    return int(number) if prefix == "cuda" and number.isdigit() else None


def _no_such_gpu(index: int, count: int) -> str:
    visible = f"cuda:0 … cuda:{count - 1}" if count > 1 else "cuda:0"
    return f"there is no GPU cuda:{index}: this machine has {count} ({visible}); use --device cuda"


def resolve(name: str = "auto") -> Any:
    """A ``torch.device`` for ``name`` (imports torch)."""
    import torch

    mps_backend = getattr(torch.backends, "mps", None)
    mps = bool(mps_backend and mps_backend.is_available())
    cuda = torch.cuda.is_available()
    count = torch.cuda.device_count() if cuda else 0
    return torch.device(pick(name, cuda=cuda, mps=mps, cuda_count=count))


def describe(device: Any) -> str:
    """``cpu`` or ``cuda:0 (NVIDIA A100, 1.2/80.0 GiB)`` for headers and run records."""
    import torch

    if getattr(device, "type", str(device)) == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        count = torch.cuda.device_count()
        if index >= count:  # a device made elsewhere than resolve(): same clean error
            raise DeviceUnavailable(_no_such_gpu(index, count))
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
