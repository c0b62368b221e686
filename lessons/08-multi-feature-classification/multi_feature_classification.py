"""Classification with many input features: stacked Linear + Sigmoid layers.

Each sample is now a row of 30 measurements of a breast tumour, and the label
says whether it is benign (1) or malignant (0). w*x becomes a matrix product,
so one call handles all samples at once. Three layers squeeze 30 features down
to 6, then 4, then the single probability.
"""

import torch
from torch import nn


class MultiFeatureModel(nn.Module):
    """30 -> hidden1 -> hidden2 -> 1, with a sigmoid after every layer."""

    def __init__(self, n_features, hidden1, hidden2):
        super().__init__()
        self.linear1 = nn.Linear(n_features, hidden1)
        self.linear2 = nn.Linear(hidden1, hidden2)
        self.linear3 = nn.Linear(hidden2, 1)
        self.sigmoid = nn.Sigmoid()  # the non-linearity between layers

    def forward(self, x):
        x = self.sigmoid(self.linear1(x))
        x = self.sigmoid(self.linear2(x))
        return self.sigmoid(self.linear3(x))  # the last sigmoid gives p(benign)


def accuracy(p, y):
    """Fraction of samples where thresholding p at 0.5 gives the label."""
    return ((p >= 0.5).float() == y).float().mean()


# The course's diabetes table has 8 columns; we keep 8 of the 30 measurements to match:
# the mean value of each of the first eight properties of the cell nuclei.
EIGHT_FEATURES = {
    0: "mean radius",
    1: "mean texture",
    2: "mean perimeter",
    3: "mean area",
    4: "mean smoothness",
    5: "mean compactness",
    6: "mean concavity",
    7: "mean concave points",
}


def train(ctx):
    # Standardised with the training split's mean and std (the test split must not leak in).
    X_train, y_train, X_test, y_test = ctx.data.breast_cancer(
        test_fraction=ctx.params.test_fraction, seed=ctx.params.seed
    )
    if ctx.params.features == "eight":
        columns = list(EIGHT_FEATURES)
        X_train, X_test = X_train[:, columns], X_test[:, columns]
        ctx.log("features: " + ", ".join(EIGHT_FEATURES.values()))
    X_train, y_train = X_train.to(ctx.device), y_train.to(ctx.device)
    X_test, y_test = X_test.to(ctx.device), y_test.to(ctx.device)
    n_features = X_train.shape[1]
    ctx.record("n_train", len(X_train))
    ctx.record("n_test", len(X_test))
    ctx.record("x_train_shape", X_train.shape)
    ctx.log(f"{len(X_train)} training and {len(X_test)} test samples, {n_features} features each")

    model = MultiFeatureModel(n_features, ctx.params.hidden1, ctx.params.hidden2).to(ctx.device)
    ctx.record_model(model, X_train[:8])
    ctx.record("linear1_weight_shape", model.linear1.weight.shape)
    ctx.record("linear2_weight_shape", model.linear2.weight.shape)
    ctx.record("linear3_weight_shape", model.linear3.weight.shape)

    criterion = nn.BCELoss()  # the mean over samples, so lr does not depend on N
    optimizer = torch.optim.SGD(model.parameters(), lr=ctx.params.lr)

    for epoch in range(1, ctx.params.epochs + 1):
        # Full batch, as in the course: all 455 rows go through in one matrix product.
        p = model(X_train)
        loss = criterion(p, y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ctx.report_step(loss=loss)

        with torch.no_grad():
            train_acc = accuracy(p, y_train)
            test_acc = accuracy(model(X_test), y_test)
        ctx.report_epoch(epoch, train_loss=loss, train_acc=train_acc, test_acc=test_acc)
        if epoch % max(1, ctx.params.epochs // 5) == 0:
            ctx.log(
                f"epoch {epoch:5d}  loss {loss.item():.4f}  "
                f"train acc {train_acc.item():.3f}  test acc {test_acc.item():.3f}"
            )

    with torch.no_grad():
        final_test_acc = accuracy(model(X_test), y_test).item()
    ctx.record("final_test_acc", final_test_acc)
    ctx.log(f"final test accuracy: {final_test_acc:.4f}")
