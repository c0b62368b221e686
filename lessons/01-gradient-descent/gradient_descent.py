"""Gradient descent by hand: fit y = w * x to three points, no autograd.

Everything here is plain Python. The gradient of the mean squared error
cost(w) = mean((w*x - y)^2) is d cost / dw = mean(2 * x * (w*x - y)),
worked out on paper and written down as a function.
"""

XS = [1.0, 2.0, 3.0]
YS = [2.0, 4.0, 6.0]


def forward(x: float, w: float) -> float:
    """The model: a line through the origin."""
    return w * x


def cost(xs: list[float], ys: list[float], w: float) -> float:
    """Mean squared error over the whole data set."""
    total = 0.0
    for x, y in zip(xs, ys):
        total += (forward(x, w) - y) ** 2
    return total / len(xs)


def gradient(xs: list[float], ys: list[float], w: float) -> float:
    """d cost / d w, derived by hand: the mean of 2 * x * (w*x - y)."""
    total = 0.0
    for x, y in zip(xs, ys):
        total += 2 * x * (forward(x, w) - y)
    return total / len(xs)


def train(ctx):
    w = ctx.params.w_init
    lr = ctx.params.lr
    ctx.record("grad_at_w1", gradient(XS, YS, 1.0))
    ctx.record("prediction_before", forward(4.0, w))
    for epoch in range(1, ctx.params.epochs + 1):
        c = cost(XS, YS, w)
        w -= lr * gradient(XS, YS, w)  # one step downhill
        ctx.report_epoch(epoch, loss=c, w=w)
        if epoch % 20 == 0:
            ctx.log(f"epoch {epoch:3d}  cost {c:.6f}  w {w:.5f}")
    ctx.record("w", w)
    ctx.record("prediction_x4", forward(4.0, w))
