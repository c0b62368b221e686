"""Linear regression, the concise way: the same problem with PyTorch's building blocks.

Every hand-written piece of the from-scratch lesson has a ready-made counterpart:
data_iter -> DataLoader, linreg -> nn.Linear, squared_loss -> nn.MSELoss,
sgd -> torch.optim.SGD. The training loop keeps the same three moves:
zero the gradients, backward, step.
"""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

TRUE_W = [2.0, -3.4]
TRUE_B = 4.2


def synthetic_data(w, b, num_examples, generator=None):
    """Features X ~ N(0, 1) and labels y = X @ w + b + N(0, 0.01) noise, y as a column."""
    X = torch.normal(0.0, 1.0, (num_examples, len(w)), generator=generator)
    y = X @ w + b
    y += torch.normal(0.0, 0.01, y.shape, generator=generator)
    return X, y.reshape(-1, 1)


def train(ctx):
    generator = torch.Generator().manual_seed(ctx.params.seed)
    features, labels = synthetic_data(
        torch.tensor(TRUE_W), TRUE_B, ctx.params.num_examples, generator
    )

    # DataLoader does what data_iter did: shuffle every epoch, cut into minibatches.
    loader = DataLoader(
        TensorDataset(features, labels), batch_size=ctx.params.batch_size, shuffle=True
    )
    X, y = next(iter(loader))
    ctx.record("X_batch_shape", X.shape)
    ctx.record("y_batch_shape", y.shape)
    ctx.record("steps_per_epoch", len(loader))

    # A Sequential holding one Linear layer: 2 inputs -> 1 output, weight and bias inside.
    net = nn.Sequential(nn.Linear(2, 1)).to(ctx.device)
    # Same start as before: small random weights, zero bias (changed in place, so no_grad).
    with torch.no_grad():
        net[0].weight.normal_(0.0, 0.01)
        net[0].bias.fill_(0.0)
    ctx.record("weight_shape", net[0].weight.shape)
    ctx.record_model(net, X.to(ctx.device))

    loss = nn.MSELoss()  # mean of (y_hat - y)^2 over the batch: no 1/2, already averaged
    trainer = torch.optim.SGD(net.parameters(), lr=ctx.params.lr)

    features, labels = features.to(ctx.device), labels.to(ctx.device)
    for epoch in range(1, ctx.params.epochs + 1):
        for X, y in loader:
            X, y = X.to(ctx.device), y.to(ctx.device)
            batch_loss = loss(net(X), y)
            trainer.zero_grad()  # clear last step's gradients (they would add up)
            batch_loss.backward()
            trainer.step()  # param -= lr * param.grad for every parameter
            ctx.report_step(loss=batch_loss)
        with torch.no_grad():
            train_loss = loss(net(features), labels)
        ctx.report_epoch(epoch, train_loss=train_loss)
        ctx.log(f"epoch {epoch}, loss {train_loss.item():f}")

    w = net[0].weight.detach().reshape(-1)
    b = net[0].bias.item()
    ctx.record("w", w)
    ctx.record("b", b)
    ctx.record("true_w", TRUE_W)
    ctx.record("true_b", TRUE_B)
    ctx.log(f"learned w = {[round(v, 4) for v in w.tolist()]}  (true {TRUE_W})")
    ctx.log(f"learned b = {b:.4f}  (true {TRUE_B})")
