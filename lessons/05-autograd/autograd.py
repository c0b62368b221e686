"""Autograd: let PyTorch compute the gradient you derived by hand in lesson 1.

The model is still y = w * x on three points, but now w is a tensor with
requires_grad=True. Every operation on it is recorded in a computation graph;
loss.backward() walks that graph backwards (the chain rule) and stores
d loss / d w in w.grad. We update w one sample at a time (stochastic gradient
descent) and zero the gradient after each update.
"""

import math

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


def two_layers_by_hand(x, y, w1, b1, w2, b2):
    """Forward and backward through a two-layer network by the chain rule, in plain floats.

    z = w1·x + b1, a = sigmoid(z), y_hat = w2·a + b2, loss = (y_hat − y)².
    Backward goes from the loss to the input, one local derivative per step.
    """
    z = w1 * x + b1
    a = 1 / (1 + math.exp(-z))
    y_hat = w2 * a + b2
    loss_value = (y_hat - y) ** 2
    d_y_hat = 2 * (y_hat - y)  # d loss / d y_hat
    d_w2 = d_y_hat * a  # y_hat = w2·a + b2
    d_b2 = d_y_hat
    d_a = d_y_hat * w2
    d_z = d_a * a * (1 - a)  # sigmoid'(z) = a·(1 − a)
    d_w1 = d_z * x  # z = w1·x + b1
    d_b1 = d_z
    return loss_value, {"w1": d_w1, "b1": d_b1, "w2": d_w2, "b2": d_b2}


def two_layers_autograd(x, y, w1, b1, w2, b2):
    """The same network with tensors: backward() fills in every .grad."""
    params = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
              for name, value in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2))}
    a = torch.sigmoid(params["w1"] * x + params["b1"])
    loss_value = (params["w2"] * a + params["b2"] - y) ** 2
    loss_value.backward()
    return loss_value.item(), {name: t.grad.item() for name, t in params.items()}


def train(ctx):
    lr = ctx.params.lr

    # Backpropagation through two layers, by hand and by autograd, on one example.
    example = {"x": 2.0, "y": 4.0, "w1": 0.5, "b1": 0.1, "w2": 1.5, "b2": -0.2}
    loss_hand, grads_hand = two_layers_by_hand(**example)
    loss_auto, grads_auto = two_layers_autograd(**example)
    ctx.log(f"two layers, x = 2, y = 4: loss {loss_hand:.6f} by hand, {loss_auto:.6f} by autograd")
    for name in grads_hand:
        ctx.log(f"  d loss / d {name}: {grads_hand[name]:+.6f} by hand, "
                f"{grads_auto[name]:+.6f} by autograd")
    ctx.record("two_layer_grads_by_hand", [grads_hand[k] for k in ("w1", "b1", "w2", "b2")])
    ctx.record("two_layer_grads_autograd", [grads_auto[k] for k in ("w1", "b1", "w2", "b2")])
    ctx.record("two_layer_max_diff", max(abs(grads_hand[k] - grads_auto[k]) for k in grads_hand))

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
