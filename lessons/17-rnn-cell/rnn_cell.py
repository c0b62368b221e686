"""An RNNCell learns to turn "hello" into "ohlol", one character at a time.

The four letters are numbered by IDX2CHAR and fed in as one-hot vectors. The cell's
hidden state has 4 numbers; a small Linear layer reads the 4 letter scores (logits)
off it. Without that layer the scores would be the hidden state itself, squashed by
tanh into [-1, 1]: too flat to be confident, and training often gets stuck.
"""

import torch
import torch.nn.functional as F
from torch import nn

IDX2CHAR = ["e", "h", "l", "o"]
X_DATA = [1, 0, 2, 2, 3]  # h e l l o
Y_DATA = [3, 1, 2, 3, 2]  # o h l o l


def as_text(indices) -> str:
    return "".join(IDX2CHAR[i] for i in indices)


def rnn_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One recurrent step, what nn.RNNCell computes: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    x: (batch, input_size), h: (batch, hidden_size) -> (batch, hidden_size).
    """
    # F.linear(x, W, b) is x @ W.T + b; written this way it is exactly nn.RNNCell's arithmetic.
    return torch.tanh(F.linear(x, weight_ih, bias_ih) + F.linear(h, weight_hh, bias_hh))


class StepCell(nn.RNNCell):
    """nn.RNNCell (same parameters, same initialisation) whose step is rnn_step above,
    so the formula is in plain sight and can be written by hand (the lesson's exercise)."""

    def forward(self, x, hidden):
        return rnn_step(x, hidden, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class CharCell(nn.Module):
    """One RNNCell, applied to the sequence one time step per call, and a Linear read-out."""

    def __init__(self, input_size: int, hidden_size: int, num_letters: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.rnncell = StepCell(input_size=input_size, hidden_size=hidden_size)
        # tanh keeps every hidden number in [-1, 1]; used directly as logits, the best
        # possible probability of the right letter would be e / (e + 3/e) = 0.71.
        self.readout = nn.Linear(hidden_size, num_letters)

    def forward(self, x, hidden=None):
        # x: (batch, input_size) -> new hidden: (batch, hidden_size)
        if hidden is None:
            hidden = self.init_hidden(x.shape[0], x.device)
        return self.rnncell(x, hidden)

    def init_hidden(self, batch_size: int, device) -> torch.Tensor:
        """h0: all zeros, a fresh memory at the start of every sequence."""
        return torch.zeros(batch_size, self.hidden_size, device=device)


def train(ctx):
    input_size = len(IDX2CHAR)  # one-hot vectors of length 4
    hidden_size = ctx.params.hidden_size  # the note's 4: as many as there are letters
    batch_size = 1
    seq_len = len(X_DATA)

    # Row i of the identity matrix is the one-hot vector of letter i.
    one_hot = torch.eye(input_size)[X_DATA]
    inputs = one_hot.view(seq_len, batch_size, input_size).to(ctx.device)
    labels = torch.tensor(Y_DATA).view(seq_len, 1).to(ctx.device)  # one target per step
    ctx.record("inputs_shape", inputs.shape)
    ctx.record("step_input_shape", inputs[0].shape)

    model = CharCell(input_size, hidden_size, len(IDX2CHAR)).to(ctx.device)
    ctx.record_model(model, inputs[0])
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=ctx.params.lr)

    for epoch in range(1, ctx.params.epochs + 1):
        optimizer.zero_grad()
        hidden = model.init_hidden(batch_size, ctx.device)
        loss = 0
        predicted = []
        # Walk along the sequence: the hidden state of step t is an input to step t + 1,
        # and the losses of all steps are summed so one backward() covers the whole graph.
        for x_t, y_t in zip(inputs, labels):
            hidden = model(x_t, hidden)
            scores = model.readout(hidden)  # (batch, 4): one score per letter
            loss = loss + criterion(scores, y_t)
            predicted.append(scores.argmax(dim=1).item())
        loss.backward()
        optimizer.step()

        text = as_text(predicted)
        ctx.report_epoch(epoch, loss=loss)
        ctx.log(f"epoch {epoch:2d}  predicted {text!r}  loss {loss.item():.4f}")
        if epoch == 1:
            ctx.record("epoch1_predicted", text)
            ctx.record("epoch1_first_letter", text[0])
            ctx.record("epoch1_correct", sum(p == y for p, y in zip(predicted, Y_DATA)))
            ctx.record("hidden_shape", hidden.shape)

    # The prediction of the trained cell (the loop above printed the one before each update).
    with torch.no_grad():
        hidden = model.init_hidden(batch_size, ctx.device)
        final = []
        for x_t in inputs:
            hidden = model(x_t, hidden)
            final.append(model.readout(hidden).argmax(dim=1).item())
    ctx.record("predicted", as_text(final))
    ctx.record("final_loss", loss.item())
    ctx.log(f"after training: 'hello' -> {as_text(final)!r}")
