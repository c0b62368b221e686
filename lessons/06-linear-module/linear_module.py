"""A linear model as an nn.Module: the pattern every PyTorch model follows.

Four steps: prepare the data, design the model (a class with __init__ and
forward), pick a loss and an optimizer, then loop: forward, loss, zero_grad,
backward, step. The data are the three points of lesson 1 again, so we know
the answer: y = 2x, weight 2 and bias 0.
"""

import torch
from torch import nn

# Column vectors (3, 1): one row per sample, one column per feature.
X_DATA = [[1.0], [2.0], [3.0]]
Y_DATA = [[2.0], [4.0], [6.0]]


class LinearModel(nn.Module):
    """y_pred = weight * x + bias, with both parameters owned by an nn.Linear(1, 1)."""

    def __init__(self):
        super().__init__()  # sets up the machinery that tracks parameters and submodules
        self.linear = nn.Linear(1, 1)  # one input feature, one output

    def forward(self, x):
        # Called by model(x) through nn.Module.__call__; never call forward() yourself.
        return self.linear(x)


def train(ctx):
    x = torch.tensor(X_DATA, device=ctx.device)
    y = torch.tensor(Y_DATA, device=ctx.device)

    model = LinearModel().to(ctx.device)
    ctx.record_model(model, x)
    ctx.record("weight_shape", model.linear.weight.shape)
    ctx.log(f"initial weight {model.linear.weight.item():.4f}, bias {model.linear.bias.item():.4f}")

    # 'sum' adds the squared errors of the three points, 'mean' averages them.
    criterion = nn.MSELoss(reduction=ctx.params.reduction)
    optimizer = torch.optim.SGD(model.parameters(), lr=ctx.params.lr)

    for epoch in range(1, ctx.params.epochs + 1):
        y_pred = model(x)  # forward: all three points at once
        loss = criterion(y_pred, y)
        optimizer.zero_grad()  # clear the gradients left by the previous step
        loss.backward()  # fill weight.grad and bias.grad
        optimizer.step()  # weight -= lr * weight.grad, bias -= lr * bias.grad
        ctx.report_step(loss=loss)
        if epoch % max(1, ctx.params.epochs // 5) == 0:
            ctx.log(f"epoch {epoch:5d}  loss {loss.item():.8f}")

    weight, bias = model.linear.weight.item(), model.linear.bias.item()
    ctx.record("weight", weight)
    ctx.record("bias", bias)
    with torch.no_grad():
        prediction = model(torch.tensor([[4.0]], device=ctx.device)).item()
    ctx.record("prediction_x4", prediction)
    ctx.log(f"weight {weight:.6f}, bias {bias:.6f}, prediction for x = 4: {prediction:.6f}")
