"""Five optimizers race on one problem: SGD, SGD with momentum, AdaGrad, RMSProp, Adam.

The problem: fit y = x^2 + noise on [-1, 1] with a small network (1 -> 20 -> 1).
Every optimizer gets its own copy (copy.deepcopy) of ONE freshly initialised network,
and all five see exactly the same minibatches in the same order, so the only
difference between the curves is the update rule.
"""

import copy
import math

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

NAMES = ["sgd", "sgd_momentum", "adagrad", "rmsprop", "adam"]  # the quiz lists them in this order


def make_data(n: int, noise: float) -> tuple[torch.Tensor, torch.Tensor]:
    """n points of a parabola with Gaussian noise, shaped (n, 1) as nn.Linear expects."""
    x = torch.linspace(-1, 1, n).unsqueeze(1)
    y = x.pow(2) + noise * torch.randn(x.shape)
    return x, y


def make_optimizer(name: str, params, lr: float, momentum: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "sgd_momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9)
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.99))


def train(ctx):
    device = ctx.device
    x, y = make_data(ctx.params.n_points, ctx.params.noise)
    loader = DataLoader(TensorDataset(x, y), batch_size=ctx.params.batch_size, shuffle=True)
    x, y = x.to(device), y.to(device)

    hidden = ctx.params.hidden
    base = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1))
    ctx.record_model(base, x[:ctx.params.batch_size])
    # Identical starting weights for everyone: five deep copies of one network.
    nets = {name: copy.deepcopy(base).to(device) for name in NAMES}
    optimizers = {
        name: make_optimizer(name, nets[name].parameters(), ctx.params.lr, ctx.params.momentum)
        for name in NAMES
    }
    criterion = nn.MSELoss()

    with torch.no_grad():
        start_loss = criterion(base.to(device)(x), y).item()
    ctx.record("start_loss", start_loss)
    ctx.log(f"all five start from the same weights: loss {start_loss:.4f}")

    for _epoch in range(ctx.params.epochs):
        for xb, yb in loader:  # one shuffle per epoch, shared by all five optimizers
            xb, yb = xb.to(device), yb.to(device)
            step_losses = {}
            for name in NAMES:
                loss = criterion(nets[name](xb), yb)
                optimizers[name].zero_grad()
                loss.backward()
                optimizers[name].step()
                step_losses[name] = loss
            ctx.report_step(**step_losses)
        ctx.check_cancelled()

    # Judge each optimizer by its loss on the whole data set, not on one noisy minibatch.
    with torch.no_grad():
        final = {name: criterion(nets[name](x), y).item() for name in NAMES}
    for name in NAMES:
        ctx.log(f"{name:12s} final loss {final[name]:.5f}")
    ctx.record("final_losses", [final[name] for name in NAMES])
    # A curve counts when its optimizer trained to a finite loss (a NaN would have ended the run).
    ctx.record("n_curves", sum(1 for name in NAMES if math.isfinite(final[name])))
    ctx.record("final_sgd", final["sgd"])
    ctx.record("final_momentum", final["sgd_momentum"])
    ctx.record("final_adagrad", final["adagrad"])
    ctx.record("final_rmsprop", final["rmsprop"])
    ctx.record("final_adam", final["adam"])
    best = min(NAMES, key=final.get)
    ctx.record("best_optimizer", best)
    ctx.log(f"lowest final loss: {best}")
