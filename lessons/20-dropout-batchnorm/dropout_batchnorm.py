"""train() vs eval(): what dropout and batch norm do differently in the two modes.

Part 1 pokes at single layers and records what happens. Part 2 trains a wide network on
only a few hundred MNIST digits, once without and once with dropout, and follows the
gap between training and test accuracy (over-fitting).
"""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def dropout_facts(ctx, p: float) -> None:
    """Dropout: random in train mode, the identity in eval mode."""
    drop = nn.Dropout(p)
    x = torch.ones(1, 1000)

    drop.train()
    first, second = drop(x), drop(x)
    zeroed = (first == 0).float().mean()
    ctx.record("train_passes_differ", not torch.equal(first, second))
    ctx.record("zeroed_fraction", zeroed)
    ctx.record("kept_value", first.max())  # the survivors, scaled by 1 / (1 - p)
    ctx.record("train_output_mean", first.mean())  # stays close to the input's mean, 1.0

    drop.eval()
    third, fourth = drop(x), drop(x)
    ctx.record("eval_passes_equal", torch.equal(third, fourth))
    ctx.record("eval_is_identity", torch.equal(third, x))
    ctx.log(f"dropout p={p}, train mode: {zeroed.item():.1%} zeroed, survivors became "
            f"{first.max().item():.3f}, mean {first.mean().item():.3f}; eval mode: x unchanged")


def batchnorm_facts(ctx) -> None:
    """BatchNorm: train mode normalises with the batch's own statistics and updates the
    running averages; eval mode normalises with the running averages and leaves them alone."""
    bn = nn.BatchNorm1d(3)  # momentum 0.1: running = 0.9 * running + 0.1 * batch mean
    batch = torch.randn(64, 3) * 2.0 + torch.tensor([5.0, -3.0, 10.0])
    before = bn.running_mean.clone()

    bn.train()
    out = bn(batch)
    after_train = bn.running_mean.clone()

    bn.eval()
    bn(batch)
    after_eval = bn.running_mean.clone()

    ctx.record("bn_batch_mean", batch.mean(dim=0))
    ctx.record("bn_mean_before", before)
    ctx.record("bn_mean_after_train", after_train)
    ctx.record("bn_mean_after_eval", after_eval)
    ctx.record("bn_train_output_mean", out.mean(dim=0))  # ~0: normalised with this batch
    ctx.record("bn_changed_in_train", not torch.equal(before, after_train))
    ctx.record("bn_changed_in_eval", not torch.equal(after_train, after_eval))
    ctx.log(f"batch norm running_mean: {before.tolist()} -> train step -> "
            f"{[round(v, 3) for v in after_train.tolist()]} -> eval step -> unchanged")


def make_mlp(hidden: int, p: float, p_input: float) -> nn.Sequential:
    """A wide two-hidden-layer network. Dropout as in the original paper: a little on the
    input pixels (p_input), more on the hidden units (p). Zero means no dropout layer."""
    layers = [nn.Flatten()]
    if p_input > 0:
        layers.append(nn.Dropout(p_input))
    layers += [nn.Linear(784, hidden), nn.ReLU()]
    if p > 0:
        layers.append(nn.Dropout(p))
    layers += [nn.Linear(hidden, hidden), nn.ReLU()]
    if p > 0:
        layers.append(nn.Dropout(p))
    layers.append(nn.Linear(hidden, 10))
    return nn.Sequential(*layers)


def evaluate(model, images, labels) -> tuple[float, float]:
    """Accuracy and mean cross-entropy with dropout switched off (eval mode)."""
    model.eval()  # the whole network, deterministically
    with torch.no_grad():
        scores = model(images)
        correct = (scores.argmax(dim=1) == labels).float().mean().item()
        loss = nn.functional.cross_entropy(scores, labels).item()
    model.train()
    return correct, loss


def train(ctx):
    p = ctx.params.dropout
    dropout_facts(ctx, p)
    batchnorm_facts(ctx)

    # -- Part 2: over-fitting a small training set, with and without dropout ---------------------
    train_set, test_set = ctx.data.mnist(normalize=(0.1307, 0.3081))
    n = ctx.params.n_train
    x_train, y_train = (t[:n].to(ctx.device) for t in train_set.tensors)
    x_test, y_test = (t.to(ctx.device) for t in test_set.tensors)
    ctx.record("n_train_used", len(y_train))
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=ctx.params.batch_size,
                        shuffle=True)

    # Same starting weights for both: build once, copy the weights into the dropout model
    # (dropout layers have no parameters, so the two state dicts line up by position).
    plain = make_mlp(ctx.params.hidden, 0.0, 0.0).to(ctx.device)
    dropped = make_mlp(ctx.params.hidden, p, ctx.params.input_dropout).to(ctx.device)
    plain_linears = [m for m in plain if isinstance(m, nn.Linear)]
    for src, dst in zip(plain_linears, [m for m in dropped if isinstance(m, nn.Linear)]):
        dst.load_state_dict(src.state_dict())
    ctx.record_model(dropped, x_train[:2])

    models = {"plain": plain, "dropout": dropped}
    optimizers = {k: torch.optim.Adam(m.parameters(), lr=ctx.params.lr) for k, m in models.items()}
    criterion = nn.CrossEntropyLoss()

    for epoch in range(1, ctx.params.epochs + 1):
        for model in models.values():
            model.train()  # dropout on
        for images, labels in loader:  # both models see the same minibatches
            losses = {}
            for name, model in models.items():
                loss = criterion(model(images), labels)
                optimizers[name].zero_grad()
                loss.backward()
                optimizers[name].step()
                losses[f"loss_{name}"] = loss
            ctx.report_step(**losses)

        acc, test_loss = {}, {}
        for name, model in models.items():
            acc[f"train_acc_{name}"], _ = evaluate(model, x_train, y_train)
            acc[f"test_acc_{name}"], test_loss[f"test_loss_{name}"] = evaluate(
                model, x_test, y_test)
        gap_plain = acc["train_acc_plain"] - acc["test_acc_plain"]
        gap_dropout = acc["train_acc_dropout"] - acc["test_acc_dropout"]
        ctx.report_epoch(epoch, **acc, **test_loss, gap_plain=gap_plain, gap_dropout=gap_dropout)
        if epoch % 5 == 0 or epoch == ctx.params.epochs:
            ctx.log(f"epoch {epoch:2d}  no dropout: train {acc['train_acc_plain']:.3f} "
                    f"test {acc['test_acc_plain']:.3f} | dropout: train "
                    f"{acc['train_acc_dropout']:.3f} test {acc['test_acc_dropout']:.3f}")

    ctx.record("final_gap_plain", gap_plain)
    ctx.record("final_gap_dropout", gap_dropout)
    ctx.record("final_test_acc_plain", acc["test_acc_plain"])
    ctx.record("final_test_acc_dropout", acc["test_acc_dropout"])
    ctx.record("final_test_loss_plain", test_loss["test_loss_plain"])
    ctx.record("final_test_loss_dropout", test_loss["test_loss_dropout"])
    ctx.log(f"train-test gap: {gap_plain:.3f} without dropout, {gap_dropout:.3f} with it")
