"""Mixed precision as a hyperparameter (amp: off | bf16 | fp16) in the GPU and CNN lessons."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from tutor.lesson.loader import load_catalog
from tutor.training.runner import load_module

CATALOG = {loaded.id: loaded for loaded in load_catalog().lessons}
CNN_FAMILY = ("cnn", "inception", "residual-network")


@pytest.mark.parametrize("lesson_id", [*CNN_FAMILY, "gpu"])
def test_amp_is_a_choice_off_by_default(lesson_id: str) -> None:
    hp = {h.name: h for h in CATALOG[lesson_id].lesson.hyperparams}["amp"]
    assert hp.type == "choice" and hp.choices == ["off", "bf16", "fp16"]
    assert hp.default == "off"


def _ctx(amp: str, device: str) -> SimpleNamespace:
    logs: list[str] = []
    return SimpleNamespace(
        params=SimpleNamespace(amp=amp), device=torch.device(device), log=logs.append, logs=logs
    )


@pytest.mark.parametrize("lesson_id", CNN_FAMILY)
def test_mixed_precision_picks_the_dtype_and_refuses_fp16_on_the_cpu(lesson_id: str) -> None:
    loaded = CATALOG[lesson_id]
    module = load_module(loaded.code_path, loaded.id)
    off = module.mixed_precision(_ctx("off", "cpu"))
    assert off[0] is None and not off[1].is_enabled()
    bf16 = module.mixed_precision(_ctx("bf16", "cpu"))
    assert bf16[0] is torch.bfloat16 and not bf16[1].is_enabled()  # bf16 needs no scaler
    ctx = _ctx("fp16", "cpu")
    dtype, scaler = module.mixed_precision(ctx)
    assert dtype is None and not scaler.is_enabled()
    assert ctx.logs == ["amp=fp16 needs a CUDA GPU; training in float32 on cpu (try bf16)"]


def test_a_bf16_training_step_runs_on_the_cpu() -> None:
    """The lesson's own loop under bf16 autocast: one small batch, a finite float32 loss."""
    loaded = CATALOG["cnn"]
    module = load_module(loaded.code_path, loaded.id)
    torch.manual_seed(0)
    model = module.Net()
    data = [(torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,)))]
    loader = _Loader(data)
    reported: list[torch.Tensor] = []
    ctx = SimpleNamespace(
        device=torch.device("cpu"), report_step=lambda loss: reported.append(loss)
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    before = model.linear.weight.detach().clone()
    loss = module.train_one_epoch(
        model, loader, torch.nn.CrossEntropyLoss(), optimizer, ctx, torch.bfloat16, None
    )
    assert reported and reported[0].dtype == torch.float32  # the loss leaves autocast in float32
    assert math.isfinite(loss) and 0 < loss < 10
    assert not torch.equal(before, model.linear.weight)  # the step happened


class _Loader(list):
    """A list of batches with the ``.dataset`` length a DataLoader has."""

    def __init__(self, batches: list) -> None:
        super().__init__(batches)
        self.dataset = [0] * sum(len(y) for _, y in batches)
