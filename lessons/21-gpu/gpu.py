"""Running on a GPU: pick a device, move the model and the data there, bring results back.

Part 1 times one epoch of the same small network on the CPU and, when there is one, on a
CUDA GPU. Part 2 trains on the run's device (ctx.device) and turns the predictions into a
numpy array with .cpu().detach().numpy().
"""

import copy
import time

import torch
from torch import nn
from torch.utils.data import DataLoader


def pick_device() -> torch.device:
    """The classic one-liner: the first CUDA GPU if PyTorch can see one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_model(hidden: int) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),  # (N, 1, 28, 28) -> (N, 784)
        nn.Linear(784, hidden), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, 10),
    )


def sync(device: torch.device) -> None:
    """CUDA runs asynchronously: wait for queued GPU work before reading the clock."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def one_epoch(ctx, model, loader, device, lr, series):
    """Train `model` on `device` for one pass over `loader`; returns the seconds it took."""
    model = model.to(device)  # the parameters move to the device (in place for a Module)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.5)
    criterion = nn.CrossEntropyLoss()
    sync(device)
    start = time.perf_counter()
    for images, labels in loader:
        # Inputs must live on the same device as the weights, or PyTorch raises an error.
        images, labels = images.to(device), labels.to(device)
        loss = criterion(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ctx.report_step(**{series: loss})
    sync(device)
    return time.perf_counter() - start


def train(ctx):
    train_set, test_set = ctx.data.mnist(normalize=(0.1307, 0.3081))
    loader = DataLoader(train_set, batch_size=ctx.params.batch_size, shuffle=True)
    ctx.record("steps_per_epoch", len(loader))

    # -- Part 1: the same epoch on the CPU and on the GPU ------------------------------------------
    has_gpu = torch.cuda.is_available()
    ctx.record("has_gpu", has_gpu)
    ctx.log(f"pick_device() -> {pick_device()}; the tutor chose ctx.device = {ctx.device}")
    base = make_model(ctx.params.hidden)  # both timings start from these same weights
    ctx.record_model(base, train_set[:2][0])

    cpu_seconds = one_epoch(ctx, copy.deepcopy(base), loader, torch.device("cpu"),
                            ctx.params.lr, "cpu_loss")
    ctx.record("cpu_seconds", cpu_seconds)
    ctx.log(f"one epoch on the CPU: {cpu_seconds:.2f} s")

    gpu_seconds = None
    if has_gpu:
        gpu = torch.device("cuda")
        torch.ones(1, device=gpu).sum().item()  # wake the GPU up so start-up isn't timed
        gpu_seconds = one_epoch(ctx, copy.deepcopy(base), loader, gpu, ctx.params.lr, "gpu_loss")
        ctx.log(f"one epoch on {torch.cuda.get_device_name(gpu)}: {gpu_seconds:.2f} s "
                f"({cpu_seconds / gpu_seconds:.1f}x the CPU's speed)")
    else:
        ctx.log("No CUDA GPU on this machine: torch.cuda.is_available() is False, so only the "
                "CPU was timed. The same code runs the GPU epoch where a GPU exists.")
    ctx.record("gpu_seconds", gpu_seconds)

    # -- Part 2: train on the run's device, then bring the results back ----------------------------
    device = ctx.device
    ctx.record("device_type", device.type)
    model = copy.deepcopy(base).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=ctx.params.lr, momentum=0.5)
    criterion = nn.CrossEntropyLoss()
    # Mixed precision (amp): autocast computes the matrix products in a 16-bit float type.
    # bf16 keeps float32's range; fp16 does not, so its small gradients need a GradScaler,
    # and it is for CUDA GPUs only: elsewhere the run says so and stays in float32.
    amp = ctx.params.amp
    if amp == "fp16" and device.type != "cuda":
        ctx.log(f"amp=fp16 needs a CUDA GPU; training in float32 on {device} (try bf16)")
        amp = "off"
    amp_dtype = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]
    use_amp = amp_dtype is not None
    ctx.record("amp_used", use_amp)
    scaler = torch.amp.GradScaler(device.type, enabled=amp == "fp16")  # disabled: no-ops
    # A small training set moves to the device once; batches are then picked there by index.
    x_train, y_train = (t.to(device) for t in train_set.tensors)
    batch_size = ctx.params.batch_size
    for epoch in range(1, ctx.params.epochs + 1):
        model.train()
        order = torch.randperm(len(y_train), device=device)
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            images, labels = x_train[batch], y_train[batch]
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                loss = criterion(model(images), labels)
            optimizer.zero_grad()
            scaler.scale(loss).backward()  # without amp: loss.backward()
            scaler.step(optimizer)  # without amp: optimizer.step()
            scaler.update()
            ctx.report_step(loss=loss)  # a tensor: no .item(), so no wait for the GPU

        model.eval()
        with torch.no_grad():
            images, labels = test_set.tensors
            scores = model(images.to(device))
        # The scores live on `device`; numpy only understands CPU memory, and .detach()
        # drops the autograd history (not needed under no_grad, harmless, and the habit
        # that matters when there is a graph).
        scores_np = scores.cpu().detach().numpy()
        accuracy = float((scores_np.argmax(axis=1) == labels.numpy()).mean())
        ctx.report_epoch(epoch, test_acc=accuracy)
        ctx.log(f"epoch {epoch}  test accuracy {accuracy:.3f} on {device}"
                f"{f' (mixed precision, {amp})' if use_amp else ''}")

    ctx.record("scores_device", str(scores.device))
    ctx.record("numpy_shape", scores_np.shape)
    ctx.record("numpy_dtype", str(scores_np.dtype))
    ctx.record("is_numpy", type(scores_np).__module__ == "numpy")
    ctx.record("n_test", len(test_set))
    ctx.record("test_accuracy", accuracy)
