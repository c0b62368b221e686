"""Autograd: let PyTorch compute the gradient you derived by hand in lesson 1.

The model is still y = w * x on three points, but now w is a tensor with
requires_grad=True. Every operation on it is recorded in a computation graph;
loss.backward() walks that graph backwards (the chain rule) and stores
d loss / d w in w.grad. We update w one sample at a time (stochastic gradient
descent) and zero the gradient after each update.
"""

import torch

XS = [1.0, 2.0, 3.0]
YS = [2.0, 4.0, 6.0]


def forward(x, w):
    """The model: a line through the origin. w is a tensor, so the result is one too."""
    return w * x


def loss(x, y, w):
    """Squared error of one sample; building it also builds the graph back to w."""
    return (forward(x, w) - y) ** 2


def gradient_by_hand(x, y, w):
    """d loss / d w for one sample, from calculus: 2 * x * (w*x - y). Plain Python floats."""
    return 2 * x * (w * x - y)


def accumulation_demo(w_start):
    """Two backward() calls without zeroing in between: the gradients add up."""
    w = torch.tensor([w_start], requires_grad=True)
    loss(XS[0], YS[0], w).backward()
    after_one = w.grad.item()
    loss(XS[1], YS[1], w).backward()  # no w.grad.zero_() before this one
    return after_one, w.grad.item()


def train(ctx):
    lr = ctx.params.lr
    w = torch.tensor([ctx.params.w_init], device=ctx.device, requires_grad=True)

    # The very first gradient: autograd's value next to the hand formula.
    first_loss = loss(XS[0], YS[0], w)
    first_loss.backward()
    ctx.record("first_grad", w.grad.item())
    ctx.record("first_grad_by_hand", gradient_by_hand(XS[0], YS[0], ctx.params.w_init))
    ctx.log(
        f"first gradient: autograd {w.grad.item():g}, "
        f"by hand {gradient_by_hand(XS[0], YS[0], ctx.params.w_init):g}"
    )
    w.grad.zero_()  # that was a look, not a training step

    # What happens if you forget to zero: a separate w, so training is not affected.
    grad_one, grad_two = accumulation_demo(ctx.params.w_init)
    ctx.record("grad_after_one_sample", grad_one)
    ctx.record("accumulated_grad", grad_two)
    ctx.log(f"without zeroing, .grad after two samples: {grad_two:g} (sum of both gradients)")

    for epoch in range(1, ctx.params.epochs + 1):
        epoch_loss = torch.zeros((), device=ctx.device)
        for x, y in zip(XS, YS):
            sample_loss = loss(x, y, w)
            sample_loss.backward()  # fills w.grad with d loss / d w
            with torch.no_grad():  # the update must not be recorded in the graph
                w -= lr * w.grad
            if ctx.params.zero_grad:
                w.grad.zero_()  # otherwise the next backward() adds to this gradient
            ctx.report_step(loss=sample_loss)
            epoch_loss += sample_loss.detach().sum()
        mean_loss = epoch_loss.item() / len(XS)
        ctx.report_epoch(epoch, w=w.item(), epoch_loss=mean_loss)
        if epoch % max(1, ctx.params.epochs // 5) == 0:
            ctx.log(f"epoch {epoch:3d}  mean loss {mean_loss:.6f}  w {w.item():.5f}")

    ctx.record("w_final", w.item())
    with torch.no_grad():
        ctx.record("prediction_x4", forward(4.0, w).item())
