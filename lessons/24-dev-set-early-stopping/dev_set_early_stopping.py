"""Train, dev and test sets: watch a network over-fit, and let the dev set pick the epoch.

The breast cancer table is split three ways. The training rows are few on purpose, so a
wide network can memorise them. After every epoch the dev (validation) loss is measured;
the weights of the epoch with the lowest dev loss are kept. The test rows are used once,
at the very end, to report how the chosen model does on data nothing was tuned on.
"""

import copy

import torch
from torch import nn


def three_way_split(n_rows, n_train, n_dev, generator):
    """Shuffled row indices for train, dev and test (the rest)."""
    order = torch.randperm(n_rows, generator=generator)
    return order[:n_train], order[n_train:n_train + n_dev], order[n_train + n_dev:]


def accuracy(scores, y):
    """Fraction right when a score above 0 (probability above 0.5) means class 1."""
    return ((scores > 0).float() == y).float().mean().item()


def train(ctx):
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    X = torch.tensor(bunch.data, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.float32).reshape(-1, 1)
    ctx.use_dataset("Breast cancer Wisconsin (scikit-learn)")

    generator = torch.Generator().manual_seed(ctx.params.seed)
    train_idx, dev_idx, test_idx = three_way_split(
        len(X), ctx.params.n_train, ctx.params.n_dev, generator
    )
    # Statistics from the training rows only: dev and test stand for data not seen yet.
    mean, std = X[train_idx].mean(dim=0), X[train_idx].std(dim=0)
    X = (X - mean) / std
    X, y = X.to(ctx.device), y.to(ctx.device)
    sets = {"train": train_idx, "dev": dev_idx, "test": test_idx}
    ctx.record("n_train", len(train_idx))
    ctx.record("n_dev", len(dev_idx))
    ctx.record("n_test", len(test_idx))
    ctx.log(f"{len(train_idx)} training rows, {len(dev_idx)} dev rows, {len(test_idx)} test rows")

    hidden = ctx.params.hidden
    model = nn.Sequential(
        nn.Linear(X.shape[1], hidden), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, 1),
    ).to(ctx.device)  # fmt: skip
    criterion = nn.BCEWithLogitsLoss()  # sigmoid + binary cross-entropy in one stable step
    optimizer = torch.optim.Adam(model.parameters(), lr=ctx.params.lr)

    best = {"dev_loss": float("inf"), "epoch": 0, "weights": None}
    for epoch in range(1, ctx.params.epochs + 1):
        model.train()
        loss = criterion(model(X[train_idx]), y[train_idx])  # full batch: all training rows
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        model.eval()
        with torch.no_grad():
            dev_scores = model(X[dev_idx])
            dev_loss = criterion(dev_scores, y[dev_idx]).item()
            dev_acc = accuracy(dev_scores, y[dev_idx])
        ctx.report_epoch(epoch, train_loss=loss, dev_loss=dev_loss, dev_acc=dev_acc)
        if dev_loss < best["dev_loss"]:  # the dev set decides; the test set is not looked at
            best = {"dev_loss": dev_loss, "epoch": epoch, "weights": copy.deepcopy(
                model.state_dict())}
        if epoch % max(1, ctx.params.epochs // 10) == 0:
            ctx.log(f"epoch {epoch:4d}  train loss {loss.item():.4f}  dev loss {dev_loss:.4f}"
                    f"  dev acc {dev_acc:.3f}")

    with torch.no_grad():
        final = {name: criterion(model(X[idx]), y[idx]).item() for name, idx in sets.items()}
        final_test_acc = accuracy(model(X[test_idx]), y[test_idx])
        model.load_state_dict(best["weights"])  # back to the epoch the dev set chose
        chosen_test_loss = criterion(model(X[test_idx]), y[test_idx]).item()
        chosen_test_acc = accuracy(model(X[test_idx]), y[test_idx])
    ctx.record("best_epoch", best["epoch"])
    ctx.record("best_dev_loss", best["dev_loss"])
    ctx.record("final_train_loss", final["train"])
    ctx.record("final_dev_loss", final["dev"])
    ctx.record("final_test_loss", final["test"])
    ctx.record("final_test_acc", final_test_acc)
    ctx.record("chosen_test_loss", chosen_test_loss)
    ctx.record("chosen_test_acc", chosen_test_acc)
    ctx.log(f"lowest dev loss {best['dev_loss']:.4f} at epoch {best['epoch']}; "
            f"at the end: train {final['train']:.4f}, dev {final['dev']:.4f}")
    ctx.log(f"test, used once: chosen epoch loss {chosen_test_loss:.4f} acc {chosen_test_acc:.3f}; "
            f"last epoch loss {final['test']:.4f} acc {final_test_acc:.3f}")
