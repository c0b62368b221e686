"""Softmax regression the concise way: nn.Sequential, nn.CrossEntropyLoss, torch.optim.SGD.

The model is one Linear layer from 784 pixels to 10 class scores. There is no softmax in
the network: nn.CrossEntropyLoss takes the raw scores (logits) and applies log-softmax
itself, in a numerically safe way. The small training helpers follow d2l's chapter 3:
Accumulator, accuracy, evaluate_accuracy and train_epoch.
"""

import torch
from torch import nn
from torch.utils.data import DataLoader

N_SHOWN = 10  # test images shown with their true and predicted labels


class Accumulator:
    """Running sums of n quantities (e.g. total loss, correct predictions, examples seen)."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        # The values may be 0-d tensors: we add them as tensors and only turn them into
        # Python numbers when read, so the GPU is not made to wait after every batch.
        self.data = [a + b for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return float(self.data[idx])


def accuracy(y_hat, y):
    """How many predictions in the batch are right (a count, not a fraction)."""
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)  # the class with the highest score
    return (y_hat.type(y.dtype) == y).sum()


def evaluate_accuracy(net, data_iter, device):
    """The fraction of examples in ``data_iter`` that ``net`` classifies correctly."""
    net.eval()  # no effect on a Linear layer, but the right habit
    metric = Accumulator(2)  # correct predictions, examples
    with torch.no_grad():
        for X, y in data_iter:
            X, y = X.to(device), y.to(device)
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_epoch(net, train_iter, loss, updater, ctx):
    """One pass over the training data; returns (mean training loss, training accuracy)."""
    net.train()
    metric = Accumulator(3)  # sum of losses, correct predictions, examples
    for X, y in train_iter:
        X, y = X.to(ctx.device), y.to(ctx.device)
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741 -- d2l's name; the mean loss over the batch
        updater.zero_grad()
        l.backward()
        updater.step()
        ctx.report_step(loss=l)
        metric.add(l.detach() * len(y), accuracy(y_hat.detach(), y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


def init_weights(m):
    """d2l's initialisation: weights from N(0, 0.01²); the bias keeps its default."""
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=0.01)


def train(ctx):
    train_set, test_set = ctx.data.fashion_mnist()
    # Offline, fashion_mnist() falls back to MNIST digits; the dataset label says which.
    fashion = ctx.dataset.startswith("Fashion-MNIST")
    kind = "fashion-mnist" if fashion else "mnist"
    ctx.record("fashion", fashion)
    ctx.log(f"training on {ctx.dataset}")

    batch_size = ctx.params.batch_size
    train_iter = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    test_iter = DataLoader(test_set, batch_size=batch_size)

    # nn.Flatten turns each (1, 28, 28) image into a row of 784 pixels.
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    net.apply(init_weights)
    net = net.to(ctx.device)
    loss = nn.CrossEntropyLoss()  # log-softmax + negative log-likelihood in one step
    trainer = torch.optim.SGD(net.parameters(), lr=ctx.params.lr)

    X_batch, _ = next(iter(test_iter))
    X_batch = X_batch.to(ctx.device)
    ctx.record("batch_shape", X_batch.shape)
    ctx.record_model(net, X_batch)
    with torch.no_grad():
        ctx.record("output_shape", net(X_batch).shape)

    for epoch in range(1, ctx.params.epochs + 1):
        train_loss, train_acc = train_epoch(net, train_iter, loss, trainer, ctx)
        test_acc = evaluate_accuracy(net, test_iter, ctx.device)
        ctx.report_epoch(epoch, train_loss=train_loss, train_acc=train_acc, test_acc=test_acc)
        ctx.log(
            f"epoch {epoch:2d}  train loss {train_loss:.4f}  "
            f"train acc {train_acc:.3f}  test acc {test_acc:.3f}"
        )

    # Like d2l's predict_ch3: the first test images with their true and predicted labels.
    labels = ctx.data.text_labels(kind)
    X, y = test_set[:N_SHOWN]
    with torch.no_grad():
        preds = net(X.to(ctx.device)).argmax(dim=1).cpu()
    captions = [f"true: {labels[t]}\npred: {labels[p]}" for t, p in zip(y.tolist(), preds.tolist())]
    ctx.record("sample_images", X.reshape(N_SHOWN, 28, 28))
    ctx.record("sample_captions", captions)
    ctx.record("sample_labels", y)
    ctx.record("sample_preds", preds)
    ctx.record("first_pred_name", labels[int(preds[0])])
    ctx.record("n_correct_samples", int((preds == y).sum()))
    ctx.record("weight_shape", net[1].weight.shape)
