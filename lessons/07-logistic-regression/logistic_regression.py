"""Logistic regression: from hours studied to the probability of passing.

A linear model w*x + b can output any real number, but a probability must lie
in [0, 1]. Squashing the line through the sigmoid 1 / (1 + exp(-z)) fixes that,
and binary cross-entropy (BCE) measures how surprised the model is by each label.
"""

import torch
from torch import nn

# The course's toy set: 1 and 2 hours of study fail, 3 hours pass.
SEED_HOURS = [1.0, 2.0, 3.0]
SEED_PASSED = [0.0, 0.0, 1.0]

# Twenty students, the same story with noise: around 2-3.5 hours some pass, some fail.
CLASS_HOURS = [0.50, 0.75, 1.00, 1.25, 1.50, 1.75, 1.75, 2.00, 2.25, 2.50,
               2.75, 3.00, 3.25, 3.50, 4.00, 4.25, 4.50, 4.75, 5.00, 5.50]  # fmt: skip
CLASS_PASSED = [0, 0, 0, 0, 0, 0, 1, 0, 1, 0,
                1, 0, 1, 0, 1, 1, 1, 1, 1, 1]  # fmt: skip

SPARK = " ▁▂▃▄▅▆▇█"


class LogisticModel(nn.Module):
    """One input, one output: p(pass | hours) = sigmoid(w * hours + b)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


def load_data(name):
    """Column vectors (N, 1): nn.Linear wants one row per sample, one column per feature."""
    hours, passed = (SEED_HOURS, SEED_PASSED) if name == "seed3" else (CLASS_HOURS, CLASS_PASSED)
    x = torch.tensor(hours, dtype=torch.float32).reshape(-1, 1)
    y = torch.tensor(passed, dtype=torch.float32).reshape(-1, 1)
    return x, y


def sparkline(values):
    """Probabilities in [0, 1] drawn as one line of block characters."""
    return "".join(SPARK[round(v * (len(SPARK) - 1))] for v in values)


def train(ctx):
    x, y = load_data(ctx.params.data)
    x, y = x.to(ctx.device), y.to(ctx.device)
    ctx.log(f"data: {len(x)} students, {int(y.sum().item())} passed")

    model = LogisticModel().to(ctx.device)
    criterion = nn.BCELoss()  # mean of -(y log p + (1 - y) log(1 - p))
    optimizer = torch.optim.SGD(model.parameters(), lr=ctx.params.lr)

    for epoch in range(1, ctx.params.epochs + 1):
        # The whole (tiny) data set is one batch: one step per epoch.
        p = model(x)
        loss = criterion(p, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ctx.report_step(loss=loss)

        # Accuracy: call it "pass" when p >= 0.5, and compare with the labels.
        train_acc = ((p.detach() >= 0.5).float() == y).float().mean()
        ctx.report_epoch(epoch, train_acc=train_acc)
        if epoch % max(1, ctx.params.epochs // 5) == 0:
            ctx.log(f"epoch {epoch:5d}  loss {loss.item():.4f}  train acc {train_acc.item():.2f}")

    w = model.linear.weight.item()
    b = model.linear.bias.item()
    ctx.record("w", w)
    ctx.record("b", b)
    # p = 0.5 exactly where w*x + b = 0, i.e. at x = -b / w.
    ctx.record("boundary", -b / w)

    with torch.no_grad():
        ctx.record("output_shape", model(x).shape)
        p4 = model(torch.tensor([[4.0]], device=ctx.device)).item()
        hours_grid = torch.arange(0.0, 10.5, 0.5, device=ctx.device).reshape(-1, 1)
        curve = model(hours_grid).squeeze(1).cpu().tolist()
    ctx.record("p_pass_4", p4)
    ctx.record("curve_hours", hours_grid.squeeze(1))
    ctx.record("prob_curve", curve)

    ctx.log(f"learned w = {w:.4f}, b = {b:.4f}; p = 0.5 at x = {-b / w:.3f} hours")
    ctx.log(f"p(pass | 4 hours) = {p4:.4f}")
    ctx.log("hours  p(pass)")
    for hours, prob in zip(hours_grid.squeeze(1).tolist(), curve):
        if hours == int(hours):  # whole hours keep the table short
            bar = "#" * round(prob * 20)
            ctx.log(f"{hours:5.1f}  {prob:.3f}  {bar}")
    ctx.log(f"0 h {sparkline(curve)} 10 h")
