"""One loss, three ways: softmax + -log by hand, log_softmax + NLLLoss, CrossEntropyLoss.

The last layer of a classifier gives one raw score (a "logit") per class. Softmax
turns the scores into probabilities that sum to 1; the loss is -log of the
probability given to the right class. PyTorch offers that recipe in pieces
(log_softmax, NLLLoss) and in one call (CrossEntropyLoss); all three must agree.
"""

import numpy as np
import torch
from torch import nn

# Three samples, three classes. Row i holds the logits for sample i.
TARGETS = [2, 0, 1]  # the right class of each sample
LOGITS = {
    # z1 favours the right class in every row.
    "z1": [[0.1, 0.2, 0.9],
           [1.1, 0.1, 0.2],
           [0.2, 2.1, 0.1]],
    # z2 mostly favours the wrong ones.
    "z2": [[0.9, 0.2, 0.1],
           [0.1, 0.1, 0.5],
           [0.2, 0.1, 0.7]],
}  # fmt: skip


def softmax_numpy(z):
    """exp, then divide by the sum so the entries add up to 1."""
    e = np.exp(z)
    return e / e.sum()


def cross_entropy_by_hand(logits, targets):
    """Softmax row by row, then -log of the probability of each sample's target class."""
    exp = torch.exp(logits)
    probs = exp / exp.sum(dim=1, keepdim=True)
    picked = probs[torch.arange(len(targets)), targets]  # one probability per sample
    per_sample = -torch.log(picked)
    return per_sample.mean(), per_sample, probs


def train(ctx):
    # --- a single sample, in numpy, the way the course first writes it ---
    y_onehot = np.array([1, 0, 0])  # the right class is 0, written one-hot
    z = np.array([0.2, 0.1, -0.1])
    y_pred = softmax_numpy(z)
    single_loss = float((-y_onehot * np.log(y_pred)).sum())  # only the target term survives
    ctx.record("single_probs", y_pred)
    ctx.record("single_loss", single_loss)
    ctx.log(f"single sample: softmax{z.tolist()} = {np.round(y_pred, 4).tolist()}")
    ctx.log(f"single sample: loss = -log({y_pred[0]:.4f}) = {single_loss:.6f}")

    # --- a batch of three samples, three ways ---
    targets = torch.tensor(TARGETS, dtype=torch.long, device=ctx.device)  # class indices
    logits = torch.tensor(LOGITS[ctx.params.logits], device=ctx.device)
    ctx.record("logits_shape", logits.shape)
    ctx.record("targets_shape", targets.shape)

    # (a) by hand
    loss_manual, per_sample, probs = cross_entropy_by_hand(logits, targets)
    # (b) log_softmax, then NLLLoss picks -log_probs[i, target_i] and averages
    log_probs = torch.log_softmax(logits, dim=1)
    loss_nll = nn.NLLLoss()(log_probs, targets)
    # (c) one call on the raw logits
    loss_ce = nn.CrossEntropyLoss()(logits, targets)

    ctx.record("probs", probs)
    ctx.record("per_sample_loss", per_sample)
    ctx.record("loss_manual", loss_manual.item())
    ctx.record("loss_nll", loss_nll.item())
    ctx.record("loss_ce", loss_ce.item())
    ctx.log(f"logits {ctx.params.logits}, targets {TARGETS}")
    for i, row in enumerate(probs.tolist()):
        ctx.log(
            f"  sample {i}: softmax = [{', '.join(f'{p:.4f}' for p in row)}]  "
            f"target {TARGETS[i]}  loss {per_sample[i].item():.4f}"
        )
    ctx.log(f"(a) by hand            {loss_manual.item():.7f}")
    ctx.log(f"(b) log_softmax + NLL  {loss_nll.item():.7f}")
    ctx.log(f"(c) CrossEntropyLoss   {loss_ce.item():.7f}")

    # The course compares both logit batches: good guesses give a small loss.
    criterion = nn.CrossEntropyLoss()
    loss_z1 = criterion(torch.tensor(LOGITS["z1"]), torch.tensor(TARGETS)).item()
    loss_z2 = criterion(torch.tensor(LOGITS["z2"]), torch.tensor(TARGETS)).item()
    ctx.record("loss_ce_z1", loss_z1)
    ctx.record("loss_ce_z2", loss_z2)
    ctx.log(f"CrossEntropyLoss(z1, {TARGETS}) = {loss_z1:.4f}   (z2: {loss_z2:.4f})")

    # --- a tiny optimisation: treat the logits themselves as parameters ---
    # The gradient of the loss with respect to the logits is (softmax - one_hot) / N:
    # it raises the right class's score and lowers the others.
    free_logits = logits.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([free_logits], lr=ctx.params.lr)
    for step in range(1, ctx.params.steps + 1):
        loss = criterion(free_logits, targets)
        optimizer.zero_grad()
        loss.backward()
        if step == 1:
            ctx.record("grad_first_step", free_logits.grad)  # = (probs - one_hot) / 3
        optimizer.step()
        with torch.no_grad():
            p_right = torch.softmax(free_logits, dim=1)[torch.arange(3), targets].mean()
        ctx.report_step(loss=loss, p_target=p_right)
    ctx.record("final_loss", loss.item())
    ctx.log(f"after {ctx.params.steps} steps on the logits: loss {loss.item():.4f}, "
            f"mean p(target) {p_right.item():.3f}")
