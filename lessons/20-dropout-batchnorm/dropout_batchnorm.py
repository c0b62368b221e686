"""train() vs eval(): what dropout and batch norm do differently in the two modes.

Part 1 pokes at single layers and records what happens. Part 2 puts batch norm inside a
network (after each affine layer, before the ReLU) and compares how fast it learns with the
same network without it. Part 3 trains a wide network on 1,000 digits, 30 % of them with a
wrong label, once without and once with dropout, and follows the gap between training and
test accuracy (over-fitting).
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


def make_bn_mlp(batch_norm: bool, hidden: int = 128, depth: int = 3) -> nn.Sequential:
    """depth hidden layers of Linear -> (BatchNorm1d) -> ReLU: batch norm sits after the
    affine layer and before the nonlinearity, so ReLU sees standardised inputs."""
    layers, width = [nn.Flatten()], 784
    for _ in range(depth):
        layers.append(nn.Linear(width, hidden))
        if batch_norm:
            layers.append(nn.BatchNorm1d(hidden))
        layers.append(nn.ReLU())
        width = hidden
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def copy_linears(src: nn.Sequential, dst: nn.Sequential) -> None:
    """Give dst's Linear layers src's weights, so both networks start from the same point
    (dropout and batch-norm layers are extra; the Linear layers line up in order)."""
    src_linears = [m for m in src if isinstance(m, nn.Linear)]
    dst_linears = [m for m in dst if isinstance(m, nn.Linear)]
    for a, b in zip(src_linears, dst_linears):
        b.load_state_dict(a.state_dict())


def batchnorm_in_a_network(ctx, train_set, test_set) -> None:
    """Part 2: the same network with and without batch norm, same start, same batches."""
    x_train, y_train = (t.to(ctx.device) for t in train_set.tensors)
    x_test, y_test = (t.to(ctx.device) for t in test_set.tensors)
    plain = make_bn_mlp(False).to(ctx.device)
    normed = make_bn_mlp(True).to(ctx.device)
    copy_linears(plain, normed)
    models = {"plain": plain, "bn": normed}
    lr = ctx.params.bn_lr
    optimizers = {k: torch.optim.SGD(m.parameters(), lr=lr) for k, m in models.items()}
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(1, ctx.params.bn_epochs + 1):
        sums = {k: 0.0 for k in models}
        for model in models.values():
            model.train()  # batch norm uses each batch's statistics
        for images, labels in loader:
            losses = {}
            for name, model in models.items():
                loss = criterion(model(images), labels)
                optimizers[name].zero_grad()
                loss.backward()
                optimizers[name].step()
                losses[f"bn_loss_{name}"] = loss
                sums[name] += loss.item() * len(labels)
            ctx.report_step(**losses)
        train_loss = {k: v / len(y_train) for k, v in sums.items()}
        test_acc = {k: evaluate(m, x_test, y_test)[0] for k, m in models.items()}
        if epoch == 1:
            ctx.record("bn_epoch1_loss_plain", train_loss["plain"])
            ctx.record("bn_epoch1_loss_bn", train_loss["bn"])
        ctx.log(f"batch norm, epoch {epoch}: train loss {train_loss['plain']:.3f} without, "
                f"{train_loss['bn']:.3f} with; test acc {test_acc['plain']:.3f} without, "
                f"{test_acc['bn']:.3f} with")
    ctx.record("bn_test_acc_plain", test_acc["plain"])
    ctx.record("bn_test_acc_bn", test_acc["bn"])


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


def with_wrong_labels(labels, fraction: float):
    """A copy of labels with `fraction` of them replaced by a different, wrong digit, and
    a mask of which ones. A fixed generator: every seed sees the same wrong labels."""
    generator = torch.Generator().manual_seed(1234)
    wrong = torch.rand(len(labels), generator=generator) < fraction
    shift = torch.randint(1, 10, (len(labels),), generator=generator)  # never 0: always wrong
    noisy = torch.where(wrong, (labels + shift) % 10, labels)
    return noisy, wrong


def train(ctx):
    p = ctx.params.dropout
    dropout_facts(ctx, p)
    batchnorm_facts(ctx)

    train_set, test_set = ctx.data.mnist(normalize=(0.1307, 0.3081))

    # -- Part 2: batch norm inside a network ----------------------------------------------------
    batchnorm_in_a_network(ctx, train_set, test_set)

    # -- Part 3: over-fitting a small training set, with and without dropout ---------------------
    n = ctx.params.n_train
    x_train, y_clean = (t[:n] for t in train_set.tensors)
    y_train, wrong = with_wrong_labels(y_clean, ctx.params.wrong_labels)
    x_train, y_train, wrong = x_train.to(ctx.device), y_train.to(ctx.device), wrong.to(ctx.device)
    x_test, y_test = (t.to(ctx.device) for t in test_set.tensors)
    ctx.record("n_train_used", len(y_train))
    ctx.record("n_wrong_labels", int(wrong.sum()))
    ctx.log(f"{len(y_train)} training digits, {int(wrong.sum())} of them with a wrong label")
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=ctx.params.batch_size,
                        shuffle=True)

    # Same starting weights for both.
    plain = make_mlp(ctx.params.hidden, 0.0, 0.0).to(ctx.device)
    dropped = make_mlp(ctx.params.hidden, p, ctx.params.input_dropout).to(ctx.device)
    copy_linears(plain, dropped)
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
            # Train accuracy against the labels it trained on, wrong ones included.
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

    # How many of the wrong labels did each network learn by heart?
    for name, model in models.items():
        memorised, _ = evaluate(model, x_train[wrong], y_train[wrong])
        ctx.log(f"{name}: reproduces {memorised:.1%} of the wrong labels")
        if name == "plain":
            ctx.record("memorised_plain", memorised)
        else:
            ctx.record("memorised_dropout", memorised)
    ctx.record("final_gap_plain", gap_plain)
    ctx.record("final_gap_dropout", gap_dropout)
    ctx.record("final_test_acc_plain", acc["test_acc_plain"])
    ctx.record("final_test_acc_dropout", acc["test_acc_dropout"])
    ctx.record("final_test_loss_plain", test_loss["test_loss_plain"])
    ctx.record("final_test_loss_dropout", test_loss["test_loss_dropout"])
    ctx.log(f"train-test gap: {gap_plain:.3f} without dropout, {gap_dropout:.3f} with it")
