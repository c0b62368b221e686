"""Data-parallel training with DistributedDataParallel (DDP): two processes, one model.

This one file plays two roles:

* `train(ctx)` is what the tutor calls. It launches two worker processes that run THIS
  file as a script (exactly as `torchrun --nproc_per_node=2 distributed.py` would),
  relays their losses to the charts, and compares their final weights.
* `main()` (at the bottom, under `if __name__ == "__main__":`) is one worker, a "rank".
  It joins the process group, trains its half of the data, and DDP averages the
  gradients of all ranks in every backward pass.

Workers print one JSON line per event on stdout; only the tutor-side parent touches ctx.
"""

import argparse
import json
import os
import queue
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

WORLD_SIZE = 2  # processes started by train(); torchrun decides this itself
MNIST_NORMALIZE = (0.1307, 0.3081)


class Net(nn.Module):
    """The CNN from the convolution lesson: two conv + pool blocks, then 320 -> 10."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)  # (N,1,28,28) -> (N,10,24,24)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)  # (N,10,12,12) -> (N,20,8,8)
        self.pooling = nn.MaxPool2d(2)
        self.fc = nn.Linear(320, 10)  # 20 channels * 4 * 4 after the second pool

    def forward(self, x):
        x = self.pooling(F.relu(self.conv1(x)))
        x = self.pooling(F.relu(self.conv2(x)))
        return self.fc(x.flatten(1))


def load_mnist_sets():
    """MNIST train/test sets for a worker (no ctx here): the tutor's loader, with its
    offline fallback, or plain torchvision when this file runs outside the tutor."""
    try:
        from tutor.training.data import load_mnist
    except ImportError:
        from torchvision import datasets, transforms

        tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(*MNIST_NORMALIZE)])
        train_set = datasets.MNIST("data", train=True, download=True, transform=tf)
        return train_set, datasets.MNIST("data", train=False, download=True, transform=tf)
    train_set, test_set, _info = load_mnist("mnist", normalize=MNIST_NORMALIZE)
    return train_set, test_set


def accuracy(model, dataset, device) -> float:
    images, labels = dataset.tensors
    model.eval()
    with torch.no_grad():
        predicted = model(images.to(device)).argmax(dim=1).cpu()
    model.train()
    return (predicted == labels).float().mean().item()


# -- the parent: runs inside the tutor ---------------------------------------------------------


def free_port() -> int:
    """Ask the OS for a port nobody uses: bind to port 0 and see what we got."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_workers(ctx, out_dir: Path, backend: str) -> list[subprocess.Popen]:
    """Start WORLD_SIZE copies of this file, with the environment torchrun would set."""
    port = free_port()
    args = [
        "--epochs", str(ctx.params.epochs), "--lr", str(ctx.params.lr),
        "--batch-size", str(ctx.params.batch_size), "--seed", str(ctx.params.seed),
        "--backend", backend, "--out", str(out_dir),
    ]
    import tutor  # the workers must import the same tutor package as this process

    package_root = str(Path(tutor.__file__).resolve().parent.parent)
    workers = []
    for rank in range(WORLD_SIZE):
        env = dict(os.environ)
        env.update(
            MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
            RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD_SIZE),
            OMP_NUM_THREADS="1",  # two processes share two cores: one thread each
            PYTHONPATH=os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p),
        )
        stderr = open(out_dir / f"rank{rank}.stderr.txt", "w")  # read if a worker fails
        workers.append(subprocess.Popen(
            [sys.executable, "-u", __file__, *args],
            env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
        ))
        stderr.close()  # the child has its own handle
    return workers


def relay_lines(worker: subprocess.Popen, inbox: queue.Queue) -> None:
    """Thread body: forward each JSON line a worker prints; None marks its end."""
    for line in worker.stdout:
        line = line.strip()
        if line.startswith("{"):
            inbox.put(json.loads(line))
    inbox.put(None)


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        if w.poll() is None:
            w.terminate()
    for w in workers:
        try:
            w.wait(timeout=10)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


def max_difference(state_a: dict, state_b: dict) -> float:
    """The largest absolute difference between two models' parameters."""
    return max((state_a[k] - state_b[k]).abs().max().item() for k in state_a)


def train(ctx):
    # The parent loads the data first: it tells the run which dataset is used, and any
    # download lands in the cache, where the workers then find it.
    _train_set, test_set = ctx.data.mnist(normalize=MNIST_NORMALIZE)
    use_gpus = ctx.device.type == "cuda" and torch.cuda.device_count() >= WORLD_SIZE
    backend = "nccl" if use_gpus else "gloo"  # nccl: GPU to GPU; gloo: works on CPUs
    ctx.record("backend", backend)
    ctx.record("world_size", WORLD_SIZE)
    ctx.log(f"starting {WORLD_SIZE} worker processes, backend {backend}")

    out_dir = Path(ctx.cache_dir) / "ddp"
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("rank*"):
        old.unlink()

    workers = launch_workers(ctx, out_dir, backend)
    inbox: queue.Queue = queue.Queue()
    for w in workers:
        threading.Thread(target=relay_lines, args=(w, inbox), daemon=True).start()

    step_losses: dict[int, dict[str, float]] = {}  # global step -> {"rank0_loss": ...}
    finished = 0
    try:
        while finished < WORLD_SIZE:
            ctx.check_cancelled()  # Stop pressed: the finally block ends the workers
            if any(w.poll() not in (None, 0) for w in workers):
                break  # one worker crashed: the other would wait for it forever
            try:
                msg = inbox.get(timeout=0.1)
            except queue.Empty:
                continue
            if msg is None:
                finished += 1
                continue
            rank, kind = msg["rank"], msg["kind"]
            if kind == "step":
                # The ranks move in lockstep (every backward waits for the all-reduce);
                # report a step once both ranks' losses for it have arrived.
                losses = step_losses.setdefault(msg["step"], {})
                losses[f"rank{rank}_loss"] = msg["loss"]
                if len(losses) == WORLD_SIZE:
                    ctx.report_step(**step_losses.pop(msg["step"]))
            elif kind == "epoch":
                ctx.report_epoch(msg["epoch"], test_acc=msg["test_acc"])
                ctx.log(f"epoch {msg['epoch']}  test accuracy {msg['test_acc']:.4f} (rank 0)")
            elif kind == "setup":
                ctx.log(f"rank {rank}: {msg['samples']} training images, "
                        f"{msg['steps']} steps per epoch, batch shape {msg['batch_shape']}")
                if rank == 0:
                    ctx.record("samples_per_rank", msg["samples"])
                    ctx.record("steps_per_epoch", msg["steps"])
                    ctx.record("rank_batch_shape", msg["batch_shape"])
        for w in workers:
            w.wait()
    finally:
        stop_workers(workers)  # no-op when they ended on their own

    failed = [r for r, w in enumerate(workers) if w.returncode not in (0, -15)]  # -15: ours
    if failed:  # show every failed rank: the first crash often makes the others fail too
        reports = [f"rank {r} exited with code {workers[r].returncode}:\n"
                   + (out_dir / f"rank{r}.stderr.txt").read_text()[-1500:] for r in failed]
        raise RuntimeError("a DDP worker failed\n" + "\n".join(reports))

    # Each worker saved its weights before DDP touched them and after training.
    init = [torch.load(out_dir / f"rank{r}_init.pt") for r in range(WORLD_SIZE)]
    final = [torch.load(out_dir / f"rank{r}_final.pt") for r in range(WORLD_SIZE)]
    init_diff = max_difference(init[0], init[1])
    final_diff = max_difference(final[0], final[1])
    ctx.record("init_param_diff", init_diff)
    ctx.record("max_param_diff", final_diff)
    ctx.log(f"largest weight difference between rank 0 and rank 1: {init_diff:.4f} before "
            f"DDP (different seeds), {final_diff:g} after training")

    model = Net()
    model.load_state_dict(final[1])  # rank 1's replica: the same network as rank 0's
    test_acc = accuracy(model, test_set, torch.device("cpu"))
    ctx.record("test_accuracy", test_acc)
    ctx.record_model(model, test_set.tensors[0][:2])
    ctx.log(f"rank 1's final weights, evaluated here: test accuracy {test_acc:.4f}")


# -- a worker: one rank, started by train() above or by torchrun --------------------------------


def emit(rank: int, kind: str, **fields) -> None:
    """One JSON line on stdout: the parent turns it into charts and log lines."""
    print(json.dumps({"rank": rank, "kind": kind, **fields}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="one DDP worker (see train() for the launcher)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=32, help="per rank")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="nccl" if torch.cuda.is_available() else "gloo")
    parser.add_argument("--out", default="ddp_out")
    args = parser.parse_args()

    # torchrun (or train() above) tells each process who it is through the environment.
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))  # GPU index on this machine
    torch.set_num_threads(1)
    dist.init_process_group(args.backend, timeout=timedelta(seconds=120))  # reads MASTER_*
    if args.backend == "nccl":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")

    train_set, test_set = load_mnist_sets()
    # Each rank gets a different, non-overlapping share of the data (a half, for 2 ranks).
    sampler = DistributedSampler(train_set, num_replicas=world_size, rank=rank,
                                 shuffle=True, seed=args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)

    # Different seeds on purpose: DDP's constructor broadcasts rank 0's weights to all.
    torch.manual_seed(args.seed + rank)
    model = Net().to(device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, out / f"rank{rank}_init.pt")
    ddp_model = DDP(model, device_ids=[local_rank] if device.type == "cuda" else None)
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=args.lr, momentum=0.5)

    first_images = next(iter(loader))[0]
    emit(rank, "setup", samples=len(sampler), steps=len(loader),
         batch_shape=list(first_images.shape))

    step = 0
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same one on every rank
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            loss = F.cross_entropy(ddp_model(images), labels)
            optimizer.zero_grad()
            loss.backward()  # DDP all-reduces (averages) the gradients across ranks here
            optimizer.step()  # same start + same averaged gradients = same new weights
            step += 1
            emit(rank, "step", step=step, loss=loss.item())
        if rank == 0:
            emit(rank, "epoch", epoch=epoch, test_acc=accuracy(model, test_set, device))

    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, out / f"rank{rank}_final.pt")
    dist.barrier()  # nobody leaves before everybody has saved
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
