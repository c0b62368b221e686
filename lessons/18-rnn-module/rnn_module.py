"""nn.RNN runs the whole sequence in one call: "hello" -> "ohlol" again, two ways.

1. One-hot letters into nn.RNN with hidden_size 4, the hidden states read as letter scores.
2. An Embedding (learned dense letter vectors) -> a 2-layer nn.RNN -> a Linear layer to 4 scores.

Both models are trained side by side in the same loop, so their loss curves share a chart.
"""

import torch
from torch import nn

IDX2CHAR = ["e", "h", "l", "o"]
X_DATA = [1, 0, 2, 2, 3]  # h e l l o
Y_DATA = [3, 1, 2, 3, 2]  # o h l o l
NUM_CLASS = len(IDX2CHAR)


def as_text(indices) -> str:
    return "".join(IDX2CHAR[i] for i in indices)


class OneHotRNN(nn.Module):
    """nn.RNN over one-hot vectors (hidden size 4, as many as letters), then a Linear
    read-out: tanh bounds the hidden state to [-1, 1], too flat to use as the scores."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1) -> None:
        super().__init__()
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.rnn = nn.RNN(input_size, hidden_size, num_layers)
        self.readout = nn.Linear(hidden_size, NUM_CLASS)

    def forward(self, x):
        # x: (seq_len, batch, input_size); h0: (num_layers, batch, hidden_size)
        h0 = torch.zeros(self.num_layers, x.shape[1], self.hidden_size, device=x.device)
        out, _hn = self.rnn(x, h0)  # out: (seq_len, batch, hidden_size)
        return self.readout(out).reshape(-1, NUM_CLASS)  # one row of scores per (step, sample)


class EmbeddingRNN(nn.Module):
    """Letter indices -> learned vectors -> RNN -> Linear -> scores for the 4 letters."""

    def __init__(self, num_chars: int, embedding_size: int, hidden_size: int, num_layers: int):
        super().__init__()
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.emb = nn.Embedding(num_chars, embedding_size)
        self.rnn = nn.RNN(embedding_size, hidden_size, num_layers)
        self.fc = nn.Linear(hidden_size, num_chars)

    def forward(self, x):
        # x: (seq_len, batch) of letter indices (int64), no one-hot needed
        h0 = torch.zeros(self.num_layers, x.shape[1], self.hidden_size, device=x.device)
        vectors = self.emb(x)  # (seq_len, batch, embedding_size)
        out, _hn = self.rnn(vectors, h0)  # (seq_len, batch, hidden_size)
        return self.fc(out).reshape(-1, NUM_CLASS)  # (seq_len * batch, num_chars)


def train(ctx):
    seq_len, batch_size, input_size = len(X_DATA), 1, NUM_CLASS
    device = ctx.device

    # Inputs for the two models: one-hot vectors, and the plain letter indices.
    onehot_inputs = torch.eye(input_size)[X_DATA].view(seq_len, batch_size, input_size).to(device)
    index_inputs = torch.tensor(X_DATA).view(seq_len, batch_size).to(device)
    labels = torch.tensor(Y_DATA).to(device)  # (seq_len * batch,)

    onehot_model = OneHotRNN(input_size, hidden_size=NUM_CLASS).to(device)
    emb_model = EmbeddingRNN(
        NUM_CLASS, ctx.params.embedding_size, ctx.params.hidden_size, ctx.params.num_layers
    ).to(device)
    ctx.record_model(emb_model, index_inputs)

    # Look at the shapes nn.RNN works with, from real tensors.
    with torch.no_grad():
        h0 = torch.zeros(1, batch_size, NUM_CLASS, device=device)
        out, hn = onehot_model.rnn(onehot_inputs, h0)
    ctx.record("input_shape", onehot_inputs.shape)
    ctx.record("h0_shape", h0.shape)
    ctx.record("output_shape", out.shape)
    ctx.record("hn_shape", hn.shape)
    ctx.record("last_output_equals_hn", bool(torch.equal(out[-1], hn[-1])))
    ctx.record("embedding_weight_shape", emb_model.emb.weight.shape)
    with torch.no_grad():
        _out, emb_hn = emb_model.rnn(emb_model.emb(index_inputs))
    ctx.record("embedding_hn_shape", emb_hn.shape)

    criterion = nn.CrossEntropyLoss()  # the mean over the 5 steps
    models = {"onehot": (onehot_model, onehot_inputs), "embedding": (emb_model, index_inputs)}
    optimizers = {name: torch.optim.Adam(m.parameters(), lr=ctx.params.lr)
                  for name, (m, _x) in models.items()}

    for epoch in range(1, ctx.params.epochs + 1):
        losses, texts = {}, {}
        for name, (model, inputs) in models.items():
            optimizers[name].zero_grad()
            scores = model(inputs)  # the whole sequence in one call
            loss = criterion(scores, labels)
            loss.backward()
            optimizers[name].step()
            losses[name] = loss
            texts[name] = as_text(scores.argmax(dim=1).tolist())
        ctx.report_epoch(epoch, onehot_loss=losses["onehot"], embedding_loss=losses["embedding"])
        ctx.log(f"epoch {epoch:2d}  one-hot {texts['onehot']!r} {losses['onehot'].item():.4f}"
                f"  embedding {texts['embedding']!r} {losses['embedding'].item():.4f}")

    with torch.no_grad():
        onehot_text = as_text(onehot_model(onehot_inputs).argmax(dim=1).tolist())
        emb_text = as_text(emb_model(index_inputs).argmax(dim=1).tolist())
    ctx.record("onehot_predicted", onehot_text)
    ctx.record("embedding_predicted", emb_text)
    ctx.log(f"after training: one-hot RNN {onehot_text!r}, embedding RNN {emb_text!r}")
