"""Softmax regression from scratch: ten linear scores per image, turned into probabilities.

Each 28x28 digit is flattened to 784 numbers; one matrix product with W (784, 10)
plus b gives ten scores (logits), softmax turns them into a probability for each
class, and cross-entropy punishes a low probability on the true class. As in the
linear regression lesson, the update is a hand-written minibatch SGD.
"""

import torch
from torch.utils.data import DataLoader

NUM_INPUTS = 28 * 28  # pixels per image, flattened
NUM_OUTPUTS = 10  # digits 0..9


def softmax(scores):
    """Row-wise softmax: exp of each score divided by the row's sum of exps."""
    # Subtracting each row's max changes nothing mathematically (it cancels in the
    # fraction) but keeps exp() from overflowing when scores get large.
    scores = scores - scores.max(dim=1, keepdim=True).values
    exps = torch.exp(scores)
    partition = exps.sum(dim=1, keepdim=True)  # one normaliser per row (per image)
    return exps / partition  # broadcasting divides each row by its own sum


def net(X, W, b):
    """Flatten the images to (batch, 784), score them, and return class probabilities."""
    return softmax(X.reshape(-1, W.shape[0]) @ W + b)


def cross_entropy(y_hat, y):
    """-log of the probability given to the true class, picked out by fancy indexing."""
    return -torch.log(y_hat[range(len(y_hat)), y])


def accuracy(y_hat, y):
    """How many predictions (the most probable class) are right, as a count."""
    return (y_hat.argmax(dim=1) == y).sum()


def evaluate_accuracy(loader, W, b, device):
    """Fraction of correctly classified images over a whole data set."""
    correct, total = 0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            correct += accuracy(net(X, W, b), y).item()
            total += len(y)
    return correct / total


def sgd(params, lr, batch_size):
    """Minibatch SGD on a summed loss: divide by the batch size, then clear the gradients."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def train(ctx):
    train_set, test_set = ctx.data.mnist()  # (N, 1, 28, 28) floats in [0, 1], int64 labels
    ctx.log(f"{len(train_set)} training images, {len(test_set)} test images")
    train_loader = DataLoader(train_set, batch_size=ctx.params.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)

    W = torch.normal(
        0.0, 0.01, size=(NUM_INPUTS, NUM_OUTPUTS), device=ctx.device, requires_grad=True
    )
    b = torch.zeros(NUM_OUTPUTS, device=ctx.device, requires_grad=True)
    ctx.record("W_shape", W.shape)

    # One batch, looked at before training: what goes in and what comes out.
    X, y = next(iter(train_loader))
    ctx.record("X_batch_shape", X.shape)
    ctx.record("X_flat_shape", X.reshape(-1, NUM_INPUTS).shape)
    with torch.no_grad():
        ctx.record("y_hat_shape", net(X.to(ctx.device), W, b).shape)
    ctx.record("steps_per_epoch", len(train_loader))

    for epoch in range(1, ctx.params.epochs + 1):
        loss_sum = torch.zeros((), device=ctx.device)
        correct = torch.zeros((), device=ctx.device)
        seen = 0
        for X, y in train_loader:
            X, y = X.to(ctx.device), y.to(ctx.device)
            y_hat = net(X, W, b)
            losses = cross_entropy(y_hat, y)  # one loss per image, shape (batch,)
            losses.sum().backward()
            sgd([W, b], ctx.params.lr, len(y))
            ctx.report_step(loss=losses.mean())
            loss_sum += losses.detach().sum()
            correct += accuracy(y_hat.detach(), y)
            seen += len(y)
        test_acc = evaluate_accuracy(test_loader, W, b, ctx.device)
        train_loss, train_acc = loss_sum.item() / seen, correct.item() / seen
        ctx.report_epoch(epoch, train_loss=train_loss, train_acc=train_acc, test_acc=test_acc)
        ctx.log(
            f"epoch {epoch:2d}  loss {train_loss:.4f}  train acc {train_acc:.3f}  "
            f"test acc {test_acc:.3f}"
        )

    # Predictions for the first test images, shown as pictures with their labels.
    X_test, y_test = test_set[:8]
    with torch.no_grad():
        preds = net(X_test.to(ctx.device), W, b).argmax(dim=1).cpu()
    ctx.record("first_test_pred", preds[0].item())
    ctx.record("first_test_label", y_test[0].item())
    ctx.record("sample_images", X_test.reshape(-1, 28, 28))
    ctx.record(
        "sample_captions", [f"true {t} / pred {p}" for t, p in zip(y_test.tolist(), preds.tolist())]
    )
