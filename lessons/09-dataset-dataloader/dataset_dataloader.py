"""Dataset and DataLoader: read a CSV file, then feed it to the model in minibatches.

A Dataset answers two questions: how many samples are there (__len__) and what is
sample number i (__getitem__). A DataLoader asks it for samples, groups them into
batches, optionally shuffles the order every epoch, and can use worker processes.
"""

import math
import multiprocessing
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split


def write_breast_cancer_csv(path):
    """Write scikit-learn's breast cancer table as CSV: 30 feature columns, then the label."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    table = np.column_stack([bunch.data, bunch.target])
    header = ",".join(list(bunch.feature_names) + ["label (1 = benign)"])
    np.savetxt(path, table, delimiter=",", fmt="%.6g", header=header)  # header starts with '#'


class CsvDataset(Dataset):
    """Rows of a CSV file: every column but the last is a feature, the last is a 0/1 label."""

    def __init__(self, filepath):
        try:
            table = np.loadtxt(filepath, delimiter=",", dtype=np.float32)
        except ValueError:  # a first line of column names that does not start with '#'
            table = np.loadtxt(filepath, delimiter=",", dtype=np.float32, skiprows=1)
        table = np.atleast_2d(table)
        features, labels = table[:, :-1], table[:, [-1]]  # [-1] in a list keeps shape (N, 1)
        if not np.isin(labels, (0.0, 1.0)).all():
            raise ValueError(f"{filepath}: the last column must hold 0/1 labels")
        self.x_data = torch.from_numpy(features)  # raw values; standardise() rescales them
        self.y_data = torch.from_numpy(labels)
        self.len = table.shape[0]

    def standardise(self, mean, std):
        """Rescale every row with the given column statistics, once, instead of in every
        __getitem__ call. Pass the TRAINING rows' statistics: the test rows stand for data
        not seen yet, so they must not shape the preprocessing either."""
        std = torch.where(std == 0, torch.ones_like(std), std)  # a constant column stays put
        self.x_data = (self.x_data - mean) / std

    def __getitem__(self, index):
        return self.x_data[index], self.y_data[index]

    def __len__(self):
        return self.len


class Classifier(nn.Module):
    """The previous lesson's stack: n_features -> 6 -> 4 -> 1 with sigmoids."""

    def __init__(self, n_features):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, 6), nn.Sigmoid(),
            nn.Linear(6, 4), nn.Sigmoid(),
            nn.Linear(4, 1), nn.Sigmoid(),
        )  # fmt: skip

    def forward(self, x):
        return self.layers(x)


def make_loader(dataset, batch_size, shuffle, num_workers):
    """A DataLoader; with workers, each one is a separate process that calls __getitem__."""
    extra = {}
    if num_workers > 0:
        extra["persistent_workers"] = True  # start the processes once, not every epoch
        if "fork" in multiprocessing.get_all_start_methods():
            # Forked workers inherit this module; freshly spawned ones would have to re-import
            # it by name, which fails for code loaded from a file like this one.
            extra["multiprocessing_context"] = "fork"
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers, **extra
    )


def train(ctx):
    csv_path = ctx.params.csv_path
    if not csv_path:
        ctx.cache_dir.mkdir(parents=True, exist_ok=True)
        csv_path = ctx.cache_dir / "breast_cancer.csv"
        write_breast_cancer_csv(csv_path)
        ctx.use_dataset("Breast cancer Wisconsin (scikit-learn, written as CSV)")
    else:
        ctx.use_dataset(f"your CSV file {Path(csv_path).name}")
    ctx.log(f"reading {csv_path}")

    dataset = CsvDataset(csv_path)
    n_features = dataset.x_data.shape[1]
    ctx.record("n_samples", len(dataset))
    ctx.log(f"len(dataset) = {len(dataset)} rows, {n_features} features")

    # Hold back a fifth of the rows for testing; a seeded generator makes the split repeatable.
    n_test = len(dataset) // 5
    generator = torch.Generator().manual_seed(ctx.params.seed)
    train_set, test_set = random_split(dataset, [len(dataset) - n_test, n_test], generator)
    n_train = len(train_set)
    ctx.record("n_train", n_train)
    ctx.record("n_test", n_test)

    # Column means and standard deviations from the training rows only, applied to all rows.
    train_rows = dataset.x_data[train_set.indices]
    dataset.standardise(train_rows.mean(dim=0), train_rows.std(dim=0))
    # Exactly 0 (up to rounding) on the training rows; the test rows' means come out near 0
    # but not at 0, because they did not take part.
    ctx.record("train_mean_after", dataset.x_data[train_set.indices].mean(dim=0).abs().max())
    ctx.record("test_mean_after", dataset.x_data[test_set.indices].mean(dim=0).abs().max())

    batch_size = ctx.params.batch_size
    ctx.record("batch_size", batch_size)
    train_loader = make_loader(train_set, batch_size, ctx.params.shuffle, ctx.params.num_workers)
    test_loader = DataLoader(test_set, batch_size=256)  # evaluation: order does not matter

    model = Classifier(n_features).to(ctx.device)
    criterion = nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=ctx.params.lr)

    for epoch in range(1, ctx.params.epochs + 1):
        iterations = 0
        total_loss, correct = 0.0, 0.0
        for i, (x, y) in enumerate(train_loader):
            if epoch == 1 and i == 0:
                ctx.record("first_batch_x_shape", x.shape)
                ctx.record("first_batch_y_shape", y.shape)
                ctx.record_model(model, x.to(ctx.device))
            x, y = x.to(ctx.device), y.to(ctx.device)
            p = model(x)
            loss = criterion(p, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            ctx.report_step(loss=loss)
            iterations += 1
            last_batch_size = len(x)
            # Sums, weighted by batch size, so the small last batch counts for what it is.
            total_loss += loss.detach() * len(x)
            correct += ((p.detach() >= 0.5).float() == y).sum()

        test_acc = evaluate(model, test_loader, ctx.device)
        ctx.report_epoch(
            epoch,
            train_loss=total_loss / n_train,
            train_acc=correct / n_train,
            test_acc=test_acc,
        )
        if epoch == 1 or epoch % max(1, ctx.params.epochs // 5) == 0:
            ctx.log(
                f"epoch {epoch:3d}: {iterations} iterations  "
                f"train loss {float(total_loss) / n_train:.4f}  test acc {test_acc:.3f}"
            )

    ctx.record("iterations_per_epoch", iterations)
    ctx.record("last_batch_size", last_batch_size)
    ctx.record("final_test_acc", test_acc)
    ctx.log(
        f"{n_train} training rows / batch size {batch_size} -> "
        f"ceil({n_train}/{batch_size}) = {math.ceil(n_train / batch_size)} iterations per epoch, "
        f"last batch {last_batch_size} rows"
    )


def evaluate(model, loader, device):
    """Accuracy over a whole loader, batch by batch."""
    correct, total = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += ((model(x) >= 0.5).float() == y).sum().item()
            total += len(y)
    return correct / max(total, 1)
