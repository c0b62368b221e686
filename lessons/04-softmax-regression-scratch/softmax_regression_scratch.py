"""Softmax regression from scratch on Fashion-MNIST, built the way d2l builds it.

Each 28x28 image is flattened to 784 numbers; one matrix product with W (784, 10)
plus b gives ten scores (logits), softmax turns them into a probability for each
class, and cross-entropy punishes a low probability on the true class. Around that
model sit d2l's training tools: Accumulator, evaluate_accuracy, train_epoch_ch3,
train_ch3 and predict_ch3.
"""

import torch
from torch.utils.data import DataLoader

NUM_INPUTS = 28 * 28  # pixels per image, flattened
NUM_OUTPUTS = 10  # ten classes of clothing (or digits, offline)


def softmax(scores):
    """Row-wise softmax: exp of each score divided by the row's sum of exps."""
    # Subtracting each row's max changes nothing mathematically (it cancels in the
    # fraction) but keeps exp() from overflowing when scores get large.
    scores = scores - scores.max(dim=1, keepdim=True).values
    exps = torch.exp(scores)
    partition = exps.sum(dim=1, keepdim=True)  # one normaliser per row (per image)
    return exps / partition  # broadcasting divides each row by its own sum


def cross_entropy(y_hat, y):
    """-log of the probability given to the true class, picked out by fancy indexing."""
    return -torch.log(y_hat[range(len(y_hat)), y])


def accuracy(y_hat, y):
    """How many predictions (the most probable class) are right, as a count."""
    return (y_hat.argmax(dim=1) == y).sum()


class Accumulator:
    """n running sums, e.g. (summed loss, correct predictions, examples seen)."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def evaluate_accuracy(net, data_iter, device):
    """Fraction of correctly classified examples over a whole data set."""
    if isinstance(net, torch.nn.Module):
        net.eval()  # layers like dropout behave differently when evaluating
    metric = Accumulator(2)  # correct predictions, examples
    with torch.no_grad():
        for X, y in data_iter:
            X, y = X.to(device), y.to(device)
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def sgd(params, lr, batch_size):
    """Minibatch SGD on a summed loss: divide by the batch size, then clear the gradients."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def train_epoch_ch3(net, train_iter, loss, updater, ctx):
    """One pass over the training data; returns (mean loss, accuracy) on it.

    updater is either a torch optimizer or a function of the batch size (our sgd).
    ctx.report_step draws the minibatch loss curve and lets the Stop button work.
    """
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)  # summed loss, correct predictions, examples
    for X, y in train_iter:
        X, y = X.to(ctx.device), y.to(ctx.device)
        y_hat = net(X)
        l = loss(y_hat, y)  # one loss per example  # noqa: E741 (d2l's name)
        if isinstance(updater, torch.optim.Optimizer):
            # A torch optimizer divides nothing by the batch size: give it the mean.
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum().detach()), accuracy(y_hat, y), y.numel())
        ctx.report_step(loss=l.mean())
    return metric[0] / metric[2], metric[1] / metric[2]


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater, ctx):
    """train_epoch_ch3 num_epochs times; after each epoch, the three numbers d2l's
    Animator plots (train loss, train acc, test acc) go to the run's charts."""
    for epoch in range(1, num_epochs + 1):
        train_loss, train_acc = train_epoch_ch3(net, train_iter, loss, updater, ctx)
        test_acc = evaluate_accuracy(net, test_iter, ctx.device)
        ctx.report_epoch(epoch, train_loss=train_loss, train_acc=train_acc, test_acc=test_acc)
        ctx.log(
            f"epoch {epoch:2d}  train loss {train_loss:.4f}  train acc {train_acc:.3f}  "
            f"test acc {test_acc:.3f}"
        )
    return train_loss, train_acc, test_acc


def predict_ch3(net, test_iter, labels, ctx, n=6):
    """The first n test images with their true and predicted labels, as text."""
    X, y = next(iter(test_iter))  # d2l: for X, y in test_iter: break
    with torch.no_grad():
        preds = net(X.to(ctx.device)).argmax(dim=1).cpu()
    trues = [labels[int(i)] for i in y]
    guesses = [labels[int(i)] for i in preds]
    titles = [f"{true} / {pred}" for true, pred in zip(trues, guesses)]
    for title in titles[:n]:
        ctx.log(f"  true / predicted: {title}")
    ctx.record("sample_images", X[:n].reshape(n, 28, 28))
    ctx.record("sample_captions", titles[:n])
    return preds[:n], y[:n]


def train(ctx):
    torch.manual_seed(ctx.params.seed)

    # The note's worked example: two examples, three classes.
    y = torch.tensor([0, 2])
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    picked = y_hat[[0, 1], y]  # row 0 -> class 0, row 1 -> class 2
    ce = cross_entropy(y_hat, y)
    acc = accuracy(y_hat, y) / len(y)
    ctx.log(f"y_hat[[0, 1], y] = {[round(v, 4) for v in picked.tolist()]}")
    ctx.log(f"cross_entropy(y_hat, y) = {[round(v, 4) for v in ce.tolist()]}")
    ctx.log(f"accuracy(y_hat, y) / len(y) = {float(acc)}")
    ctx.record("picked_probs", picked)
    ctx.record("example_ce", ce)
    ctx.record("example_acc", acc)

    train_set, test_set = ctx.data.fashion_mnist()  # (N, 1, 28, 28) floats in [0, 1]
    # Without Debian's dataset-fashion-mnist (or a download), this is MNIST digits; the
    # dataset label says which, and the checks below depend on it.
    fashion = ctx.dataset.startswith("Fashion-MNIST")
    ctx.record("fashion", fashion)
    labels = ctx.data.text_labels("fashion-mnist" if fashion else "mnist")
    ctx.log(f"{len(train_set)} training images, {len(test_set)} test images")
    ctx.record("n_test", len(test_set))
    batch_size = ctx.params.batch_size
    train_iter = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    test_iter = DataLoader(test_set, batch_size=batch_size)

    W = torch.normal(
        0.0, 0.01, size=(NUM_INPUTS, NUM_OUTPUTS), device=ctx.device, requires_grad=True
    )
    b = torch.zeros(NUM_OUTPUTS, device=ctx.device, requires_grad=True)
    ctx.record("W_shape", W.shape)

    def net(X):
        return softmax(X.reshape(-1, W.shape[0]) @ W + b)

    # One batch, looked at before training: what goes in and what comes out.
    X, y = next(iter(train_iter))
    ctx.record("X_batch_shape", X.shape)
    ctx.record("X_flat_shape", X.reshape(-1, NUM_INPUTS).shape)
    with torch.no_grad():
        ctx.record("y_hat_shape", net(X.to(ctx.device)).shape)

    # Random W, zero b: every probability is about 0.1, so about one guess in ten is right.
    untrained_acc = evaluate_accuracy(net, test_iter, ctx.device)
    ctx.record("untrained_acc", untrained_acc)
    ctx.log(f"untrained test accuracy {untrained_acc:.3f}")

    # train_epoch_ch3 takes either kind of updater. One step of each from the same W and b
    # on the same batch must land on the same parameters: both take lr times the mean gradient.
    X, y = X.to(ctx.device), y.to(ctx.device)
    start = (W.detach().clone(), b.detach().clone())
    cross_entropy(net(X), y).sum().backward()
    sgd([W, b], ctx.params.lr, len(y))
    by_hand = W.detach().clone()
    with torch.no_grad():
        W.copy_(start[0])
        b.copy_(start[1])
    optimizer = torch.optim.SGD([W, b], lr=ctx.params.lr)
    optimizer.zero_grad()
    cross_entropy(net(X), y).mean().backward()
    optimizer.step()
    ctx.record("updater_gap", (W.detach() - by_hand).abs().max())
    with torch.no_grad():  # back to the start: training begins from the untrained W
        W.copy_(start[0])
        b.copy_(start[1])
    W.grad, b.grad = None, None

    def updater(batch_size):
        return sgd([W, b], ctx.params.lr, batch_size)

    train_ch3(net, train_iter, test_iter, cross_entropy, ctx.params.epochs, updater, ctx)

    preds, trues = predict_ch3(net, test_iter, labels, ctx)
    ctx.record("first_test_pred", int(preds[0]))
    ctx.record("first_test_label", int(trues[0]))
    ctx.record("sample_right", int((preds == trues).sum()))
