"""Handwritten digits with a fully connected network: 784 -> 512 -> 256 -> 128 -> 64 -> 10.

Each 28x28 image is standardised with MNIST's pixel mean and standard deviation
(0.1307, 0.3081), flattened to 784 numbers with view(-1, 784), and pushed through five
Linear layers with ReLU in between. The last layer gives 10 raw scores (no activation):
CrossEntropyLoss applies the softmax itself.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # over all pixels of the 60,000 training images
N_SHOWN = 8  # misclassified test digits shown after training


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(784, 512)
        self.l2 = nn.Linear(512, 256)
        self.l3 = nn.Linear(256, 128)
        self.l4 = nn.Linear(128, 64)
        self.l5 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(-1, 784)  # (N, 1, 28, 28) -> (N, 784): one row of pixels per image
        x = F.relu(self.l1(x))
        x = F.relu(self.l2(x))
        x = F.relu(self.l3(x))
        x = F.relu(self.l4(x))
        return self.l5(x)  # logits: no ReLU or softmax on the last layer


def train_one_epoch(model, loader, criterion, optimizer, ctx):
    """One pass over the training set; returns the mean training loss."""
    model.train()
    total_loss = torch.zeros((), device=ctx.device)
    for images, targets in loader:
        images, targets = images.to(ctx.device), targets.to(ctx.device)
        optimizer.zero_grad()
        loss = criterion(model(images), targets)
        loss.backward()
        optimizer.step()
        ctx.report_step(loss=loss)
        total_loss += loss.detach() * len(targets)  # stays a tensor: no sync per step
    return total_loss.item() / len(loader.dataset)


def test(model, loader, device):
    """Accuracy on ``loader``: the predicted class is the index of the largest score."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, targets in loader:
            images, targets = images.to(device), targets.to(device)
            predicted = model(images).argmax(dim=1)
            correct += (predicted == targets).sum().item()
    return correct / len(loader.dataset)


def train(ctx):
    train_set, test_set = ctx.data.mnist(normalize=(MNIST_MEAN, MNIST_STD))
    n_train = len(train_set)
    ctx.record("n_train", n_train)
    ctx.record("full_mnist", n_train >= 60000)
    ctx.log(f"training on {ctx.dataset}")

    train_loader = DataLoader(train_set, batch_size=ctx.params.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)

    model = Net().to(ctx.device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=ctx.params.lr, momentum=ctx.params.momentum)

    images, _ = next(iter(train_loader))
    images = images.to(ctx.device)
    ctx.record("batch_shape", images.shape)
    ctx.record("flat_shape", images.view(-1, 784).shape)
    ctx.record("pixel_mean_after_normalize", train_set.tensors[0].mean())
    ctx.record_model(model, images)

    for epoch in range(1, ctx.params.epochs + 1):
        train_loss = train_one_epoch(model, train_loader, criterion, optimizer, ctx)
        accuracy = test(model, test_loader, ctx.device)
        ctx.report_epoch(epoch, train_loss=train_loss, test_acc=accuracy)
        ctx.log(f"epoch {epoch:2d}  train loss {train_loss:.4f}  test accuracy {accuracy:.2%}")

    # Some test digits the network got wrong, shown as pictures with both labels.
    x_test, y_test = test_set.tensors
    with torch.no_grad():
        predicted = model(x_test.to(ctx.device)).argmax(dim=1).cpu()
    wrong = (predicted != y_test).nonzero().flatten()[:N_SHOWN]
    pictures = x_test[wrong].reshape(-1, 28, 28) * MNIST_STD + MNIST_MEAN  # undo Normalize
    ctx.record("n_test_errors", int((predicted != y_test).sum()))
    ctx.record("sample_images", pictures.clamp(0, 1))
    ctx.record(
        "sample_captions",
        [f"true: {int(y_test[i])}\npred: {int(predicted[i])}" for i in wrong],
    )
