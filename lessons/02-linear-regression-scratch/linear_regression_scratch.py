"""Linear regression from scratch: only tensors and autograd, no nn, no optim.

We make our own data from a known line, y = X @ true_w + true_b + noise, so
after training we can compare what the model learned with the truth. Every
piece a framework would hide -- reading minibatches, the model, the loss, the
update rule -- is a short function written out below.
"""

import math

import torch

TRUE_W = [2.0, -3.4]
TRUE_B = 4.2


def synthetic_data(w, b, num_examples, generator=None):
    """Features X ~ N(0, 1) and labels y = X @ w + b + N(0, 0.01) noise, y as a column."""
    X = torch.normal(0.0, 1.0, (num_examples, len(w)), generator=generator)
    y = X @ w + b
    y += torch.normal(0.0, 0.01, y.shape, generator=generator)
    return X, y.reshape(-1, 1)


def data_iter(batch_size, features, labels):
    """Yield shuffled minibatches; the last one is smaller if batch_size does not divide N."""
    num_examples = len(features)
    indices = torch.randperm(num_examples)  # a new random order every epoch
    for i in range(0, num_examples, batch_size):
        batch = indices[i : i + batch_size]
        yield features[batch], labels[batch]


def linreg(X, w, b):
    """The model: one matrix product plus the bias (broadcast to every row)."""
    return X @ w + b


def squared_loss(y_hat, y):
    """Half the squared error of each sample; the 1/2 cancels the 2 of the derivative."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """One minibatch SGD step. The loss was summed over the batch, so divide by its size."""
    with torch.no_grad():  # the update itself must not become part of the graph
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()  # backward() adds to .grad; start the next batch from zero


def scatter_plot(xs, ys, width=60, height=15):
    """The data as a scatter plot in text, the terminal's version of plt.scatter."""
    import plotext  # text plots for the terminal; only this picture needs it

    fig = plotext.figure
    fig.clear()
    fig.plot_size(width, height)
    fig.theme("colorless")
    points = fig.signal(xs, ys, marker="·")
    fig.draw(points)
    fig.title("labels against features[:, 1]")
    return str(fig.build().string(colorless=True))


def train(ctx):
    lr, batch_size = ctx.params.lr, ctx.params.batch_size

    # The data: a fixed generator makes the same data set for the same seed.
    generator = torch.Generator().manual_seed(ctx.params.seed)
    true_w = torch.tensor(TRUE_W)
    features, labels = synthetic_data(true_w, TRUE_B, ctx.params.num_examples, generator)
    features, labels = features.to(ctx.device), labels.to(ctx.device)
    ctx.log(f"first example: x = {features[0].tolist()}, y = {labels[0].item():.4f}")
    # y against the second feature: a clear line with slope about -3.4.
    for row in scatter_plot(features[:, 1].tolist(), labels[:, 0].tolist()).splitlines():
        ctx.log(row.rstrip())

    # Look at one minibatch before training, the way you would in a notebook.
    X, y = next(data_iter(batch_size, features, labels))
    ctx.record("X_batch_shape", X.shape)
    ctx.record("y_batch_shape", y.shape)

    # The parameters: small random weights, zero bias; autograd will track both.
    w = torch.normal(0.0, 0.01, size=(2, 1), device=ctx.device, requires_grad=True)
    b = torch.zeros(1, device=ctx.device, requires_grad=True)
    ctx.record("w_shape", w.shape)

    steps_per_epoch = math.ceil(len(features) / batch_size)
    ctx.record("steps_per_epoch", steps_per_epoch)

    for epoch in range(1, ctx.params.epochs + 1):
        for X, y in data_iter(batch_size, features, labels):
            losses = squared_loss(linreg(X, w, b), y)  # shape (batch, 1): one per sample
            losses.sum().backward()  # a scalar to differentiate: the sum over the batch
            sgd([w, b], lr, len(X))  # len(X), not batch_size: the last batch may be smaller
            ctx.report_step(loss=losses.mean())
        with torch.no_grad():
            train_loss = squared_loss(linreg(features, w, b), labels).mean()
        ctx.report_epoch(epoch, train_loss=train_loss)
        ctx.log(f"epoch {epoch}, loss {train_loss.item():f}")

    learned_w = w.detach().reshape(-1)
    learned_b = b.item()
    ctx.record("w", learned_w)
    ctx.record("b", learned_b)
    ctx.record("true_w", TRUE_W)
    ctx.record("true_b", TRUE_B)
    ctx.log(f"learned w = {[round(v, 4) for v in learned_w.tolist()]}  (true {TRUE_W})")
    ctx.log(f"learned b = {learned_b:.4f}  (true {TRUE_B})")
    w_error = (learned_w.cpu() - true_w).tolist()
    ctx.log(f"error in w: {[f'{e:.1e}' for e in w_error]}, in b: {learned_b - TRUE_B:.1e}")
