"""GoogLeNet's idea in miniature: an Inception module on MNIST (Liu Er's InceptionA).

Four branches look at the same input in different ways and their outputs are stacked
along the channel dimension:

    1x1 conv (16)                         -> 16 channels
    1x1 conv (16) -> 5x5 conv (24)        -> 24 channels
    1x1 conv (16) -> 3x3 (24) -> 3x3 (24) -> 24 channels
    3x3 average pool -> 1x1 conv (24)     -> 24 channels
                                   total     88 channels

Every branch keeps width and height (padding 2 for 5x5, padding 1 for 3x3, stride 1),
otherwise the outputs could not be concatenated.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

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


class InceptionA(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.branch1x1 = nn.Conv2d(in_channels, 16, kernel_size=1)

        self.branch5x5_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch5x5_2 = nn.Conv2d(16, 24, kernel_size=5, padding=2)

        self.branch3x3_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch3x3_2 = nn.Conv2d(16, 24, kernel_size=3, padding=1)
        self.branch3x3_3 = nn.Conv2d(24, 24, kernel_size=3, padding=1)

        self.branch_pool = nn.Conv2d(in_channels, 24, kernel_size=1)

    def branches(self, x):
        """The four branch outputs, each (N, C_branch, H, W) with the input's H and W."""
        branch1x1 = self.branch1x1(x)

        branch5x5 = self.branch5x5_1(x)  # 1x1 first: fewer channels for the 5x5 to work on
        branch5x5 = self.branch5x5_2(branch5x5)

        branch3x3 = self.branch3x3_1(x)
        branch3x3 = self.branch3x3_2(branch3x3)
        branch3x3 = self.branch3x3_3(branch3x3)

        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
        branch_pool = self.branch_pool(branch_pool)
        return [branch1x1, branch5x5, branch3x3, branch_pool]

    def forward(self, x):
        return torch.cat(self.branches(x), dim=1)  # dim 1 = channels: 16 + 24 + 24 + 24 = 88


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.incep1 = InceptionA(in_channels=10)
        self.conv2 = nn.Conv2d(88, 20, kernel_size=5)  # 88 = what incep1 outputs
        self.incep2 = InceptionA(in_channels=20)
        self.mp = nn.MaxPool2d(2)
        self.linear = nn.Linear(1408, 10)  # 1408 = 88 * 4 * 4

    def features(self, x):
        """(N, 1, 28, 28) -> (N, 88, 4, 4)."""
        x = F.relu(self.mp(self.conv1(x)))  # (N, 10, 12, 12)
        x = self.incep1(x)  # (N, 88, 12, 12)
        x = F.relu(self.mp(self.conv2(x)))  # (N, 20, 4, 4)
        x = self.incep2(x)  # (N, 88, 4, 4)
        return x

    def forward(self, x):
        batch_size = x.size(0)
        x = self.features(x).view(batch_size, -1)
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
        ctx.report_step(loss=loss)
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

    # One batch through the network, step by step, to see the shapes.
    images, _ = next(iter(train_loader))
    images = images.to(ctx.device)
    ctx.record_model(model, images)
    with torch.no_grad():
        x = F.relu(model.mp(model.conv1(images)))  # what incep1 receives
        branch1x1, branch5x5, branch3x3, branch_pool = model.incep1.branches(x)
        ctx.record("incep1_input_shape", x.shape)
        ctx.record("branch1x1_shape", branch1x1.shape)
        ctx.record("branch5x5_shape", branch5x5.shape)
        ctx.record("branch3x3_shape", branch3x3.shape)
        ctx.record("branch_pool_shape", branch_pool.shape)
        ctx.record("incep1_output_shape", model.incep1(x).shape)
        ctx.record("features_shape", model.features(images).shape)
    ctx.record("n_params", sum(p.numel() for p in model.parameters()))

    for epoch in range(1, ctx.params.epochs + 1):
        train_loss = train_one_epoch(
            model, train_loader, criterion, optimizer, ctx, amp_dtype, scaler
        )
        accuracy = test(model, test_loader, ctx.device)
        ctx.report_epoch(epoch, train_loss=train_loss, test_acc=accuracy)
        ctx.log(f"epoch {epoch:2d}  train loss {train_loss:.4f}  test accuracy {accuracy:.2%}")
