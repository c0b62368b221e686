"""A small convolutional network for MNIST (Liu Er's CNN).

    (N, 1, 28, 28) -conv 5x5-> (N, 10, 24, 24) -ReLU, max pool 2-> (N, 10, 12, 12)
                   -conv 5x5-> (N, 20,  8,  8) -ReLU, max pool 2-> (N, 20,  4,  4)
                   -flatten-> (N, 320) -Linear-> (N, 10)

A 5x5 kernel without padding shrinks each side by 4; a 2x2 max pool halves it.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
N_SHOWN = 8  # misclassified test digits shown after training

# Mixed precision (hyperparameter amp): autocast runs convolutions and matrix products in a
# 16-bit float type, which GPUs compute much faster, and keeps float32 where precision matters
# (the loss, sums). bf16 has float32's range; fp16 has more precision but a narrow range.
AMP_DTYPES = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def mixed_precision(ctx):
    """The autocast dtype (None: plain float32) and a GradScaler for ``ctx.params.amp``.

    With fp16, gradients smaller than ~6e-8 would round to zero, so the GradScaler multiplies
    the loss before backward() and divides the gradients again before the step. bf16 needs
    no scaler. fp16 is for CUDA GPUs; elsewhere the run says so and trains in float32.
    """
    amp = ctx.params.amp
    if amp == "fp16" and ctx.device.type != "cuda":
        ctx.log(f"amp=fp16 needs a CUDA GPU; training in float32 on {ctx.device} (try bf16)")
        amp = "off"
    scaler = torch.amp.GradScaler(ctx.device.type, enabled=amp == "fp16")
    return AMP_DTYPES[amp], scaler


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.pooling = nn.MaxPool2d(2)
        self.linear = nn.Linear(320, 10)  # 320 = 20 channels * 4 * 4

    def features(self, x):
        """The convolutional part: (N, 1, 28, 28) -> (N, 20, 4, 4)."""
        x = self.pooling(F.relu(self.conv1(x)))
        x = self.pooling(F.relu(self.conv2(x)))
        return x

    def forward(self, x):
        batch_size = x.size(0)
        x = self.features(x)
        x = x.view(batch_size, -1)  # flatten each example's feature maps into one row
        return self.linear(x)


def train_one_epoch(model, loader, criterion, optimizer, ctx, amp_dtype=None, scaler=None):
    """One pass over the training set; returns the mean training loss."""
    model.train()
    scaler = scaler or torch.amp.GradScaler(enabled=False)  # disabled: it changes nothing
    total_loss = torch.zeros((), device=ctx.device)
    for images, targets in loader:
        images, targets = images.to(ctx.device), targets.to(ctx.device)
        optimizer.zero_grad()
        # Only the forward pass and the loss run under autocast; backward follows its dtypes.
        with torch.autocast(ctx.device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            loss = criterion(model(images), targets)
        scaler.scale(loss).backward()  # without amp: loss.backward()
        scaler.step(optimizer)  # without amp: optimizer.step()
        scaler.update()  # fp16: a smaller scale after an overflow, a larger one after a while
        ctx.report_step(loss=loss)  # a tensor: no .item(), so no GPU sync per step
        total_loss += loss.detach() * len(targets)
    return total_loss.item() / len(loader.dataset)


def test(model, loader, device):
    """Fraction of ``loader``'s examples classified correctly."""
    model.eval()
    correct = torch.zeros((), dtype=torch.long, device=device)
    with torch.no_grad():
        for images, targets in loader:
            images, targets = images.to(device), targets.to(device)
            correct += (model(images).argmax(dim=1) == targets).sum()
    return correct.item() / len(loader.dataset)


def train(ctx):
    train_set, test_set = ctx.data.mnist(normalize=(MNIST_MEAN, MNIST_STD))
    ctx.record("full_mnist", len(train_set) >= 60000)
    ctx.log(f"training on {ctx.dataset}")

    train_loader = DataLoader(train_set, batch_size=ctx.params.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)

    model = Net().to(ctx.device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=ctx.params.lr, momentum=ctx.params.momentum)
    amp_dtype, scaler = mixed_precision(ctx)

    # Follow one batch through the network, for the model view and the quiz.
    images, _ = next(iter(train_loader))
    images = images.to(ctx.device)
    ctx.record_model(model, images)
    with torch.no_grad():
        ctx.record("batch_shape", images.shape)
        ctx.record("conv1_shape", model.conv1(images).shape)
        ctx.record("features_shape", model.features(images).shape)
    ctx.record("n_params", sum(p.numel() for p in model.parameters()))

    for epoch in range(1, ctx.params.epochs + 1):
        train_loss = train_one_epoch(
            model, train_loader, criterion, optimizer, ctx, amp_dtype, scaler
        )
        accuracy = test(model, test_loader, ctx.device)
        ctx.report_epoch(epoch, train_loss=train_loss, test_acc=accuracy)
        ctx.log(f"epoch {epoch:2d}  train loss {train_loss:.4f}  test accuracy {accuracy:.2%}")

    # Some test digits the network still gets wrong, with the true and predicted labels.
    model.eval()
    x_test, y_test = test_set.tensors
    with torch.no_grad():
        predicted = torch.cat([model(x.to(ctx.device)).argmax(dim=1).cpu() for x, _ in test_loader])
    wrong = (predicted != y_test).nonzero().flatten()[:N_SHOWN]
    ctx.record("n_test_errors", int((predicted != y_test).sum()))
    ctx.record("sample_images", (x_test[wrong, 0] * MNIST_STD + MNIST_MEAN).clamp(0, 1))
    ctx.record(
        "sample_captions",
        [f"true: {int(y_test[i])}\npred: {int(predicted[i])}" for i in wrong],
    )
