"""A complete linear regression, start to finish: data, model, training, evaluation, a plot.

50 points on the line y = 3x + 0.8 with x in [0, 1); an nn.Module holding one nn.Linear;
MSELoss and SGD with lr 1e-3 for 30,000 iterations; then model.eval(), a prediction, and
the points with the fitted line drawn in the terminal.
"""

import plotext
import torch
from torch import nn, optim

PRINT_EVERY = 20  # the loss is printed (and charted) every 20 iterations


class Lr(nn.Module):
    """y = w·x + b, written as a Module: the layer in __init__, the computation in forward."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


def should_log(i, iterations):
    """Which printed lines reach the log: 1,500 lines of loss would bury everything else, so
    the first three, then every 3,000th iteration, and the last one (the chart has them all)."""
    return i < 3 * PRINT_EVERY or (i + 1) % 3000 == 0 or i + 1 == iterations


def terminal_plot(x, y, predict, width=60, height=16):
    """The red points and the blue line of the usual matplotlib plot, as text."""
    order = x[:, 0].argsort()  # a line is drawn through its points in order of x
    fig = plotext.figure
    fig.clear()
    fig.plot_size(width, height)
    fig.theme("colorless")
    line = fig.signal(x[order, 0].tolist(), predict[order, 0].tolist())
    line.lines()
    line.label("model")
    fig.draw(line)
    points = fig.signal(x[:, 0].tolist(), y[:, 0].tolist(), marker="o")
    points.label("data")
    fig.draw(points)  # after the line, so the points stay visible on top of it
    fig.title("y = 3x + 0.8 and the fitted line")
    return str(fig.build().string(colorless=True))


def train(ctx):
    # 1. Data: 50 points exactly on the line, x uniform in [0, 1).
    x = torch.rand([50, 1])
    y = x * 3 + 0.8
    x, y = x.to(ctx.device), y.to(ctx.device)
    ctx.record("x_shape", x.shape)

    # 2. Model, loss, optimizer.
    model = Lr().to(ctx.device)
    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=ctx.params.lr)
    ctx.record("initial_w", model.linear.weight.item())
    ctx.record("initial_b", model.linear.bias.item())

    # 3. Training: every iteration sees all 50 points (full-batch gradient descent).
    iterations = ctx.params.iterations
    model.train()
    for i in range(iterations):
        out = model(x)  # 3.1 predictions
        loss = criterion(out, y)  # 3.2 loss
        optimizer.zero_grad()  # 3.3 clear old gradients
        loss.backward()  # 3.4 new gradients
        optimizer.step()  # 3.5 update w and b
        if (i + 1) % PRINT_EVERY == 0:
            # One chart point per printed line: "epoch" here is a chunk of 20 iterations.
            ctx.report_epoch((i + 1) // PRINT_EVERY, loss=loss)
            if should_log(i, iterations):
                ctx.log(f"Epoch[{i}/{iterations}], loss: {loss.item():.6f}")
        if i == 999:
            ctx.record("loss_at_1000", loss.item())
    ctx.record("final_loss", loss.item())

    # 4. Evaluation: eval mode (no dropout or batch norm here, but it is the habit), no graph.
    model.eval()
    with torch.no_grad():
        predict = model(x)
        x_new = torch.tensor([[0.5]], device=ctx.device)
        ctx.record("prediction_half", model(x_new).item())
    predict = predict.cpu().detach().numpy()  # back to the CPU, out of autograd, into numpy
    w, b = model.linear.weight.item(), model.linear.bias.item()
    ctx.record("w", w)
    ctx.record("b", b)
    ctx.log(f"learned w = {w:.4f} (true 3), b = {b:.4f} (true 0.8)")
    for row in terminal_plot(x.cpu().numpy(), y.cpu().numpy(), predict).splitlines():
        ctx.log(row.rstrip())
