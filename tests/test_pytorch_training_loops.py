"""Acceptance: training code written for PyTorch runs with `import tinygrad_lite as torch` and gives PyTorch's losses.

Each loop is written once, against a module called ``torch``, and run twice: with real PyTorch and with
tinygrad_lite, both starting from the same weights (copied through state_dict) and the same data. FashionMNIST
cannot be downloaded here, so the tutorial's loops run on the 8x8 digits shipped with tinygrad_lite.
"""
import numpy as np
import torch as real_torch

import tinygrad_lite


def digits_numpy():
    images, labels = tinygrad_lite.datasets.digits()
    return images.numpy().astype(np.float32), labels.numpy().astype(np.int64)


# -------------------------------------------------------------------- PyTorch's quickstart tutorial, on digits
def quickstart(torch, images, labels, initial_weights, epochs=3):
    """The beginner tutorial's model and train/test loops, as written for PyTorch (FashionMNIST -> 8x8 digits)."""
    nn = torch.nn  # (the script's `from torch import nn`, for whichever module plays torch here)
    DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset

    training_data = TensorDataset(torch.tensor(images[:1500]), torch.tensor(labels[:1500]))
    test_data = TensorDataset(torch.tensor(images[1500:]), torch.tensor(labels[1500:]))
    train_dataloader = DataLoader(training_data, batch_size=64)
    test_dataloader = DataLoader(test_data, batch_size=64)
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(8 * 8, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits

    model = NeuralNetwork().to(device)
    model.load_state_dict({k: torch.tensor(v) for k, v in initial_weights.items()})
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)
    record = {"train_loss": [], "test_loss": [], "correct": []}

    def train(dataloader, model, loss_fn, optimizer):
        model.train()
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            record["train_loss"].append(loss.item())

    def test(dataloader, model, loss_fn):
        size = len(dataloader.dataset)
        num_batches = len(dataloader)
        model.eval()
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in dataloader:
                X, y = X.to(device), y.to(device)
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        record["test_loss"].append(test_loss / num_batches)
        record["correct"].append(correct / size)

    for _ in range(epochs):
        train(train_dataloader, model, loss_fn, optimizer)
        test(test_dataloader, model, loss_fn)
    return record


def initial_weights_for(make_model):
    real_torch.manual_seed(0)
    return {k: v.detach().numpy().copy() for k, v in make_model().state_dict().items()}


def test_quickstart_loops_give_pytorchs_losses():
    images, labels = digits_numpy()
    nn = real_torch.nn
    weights = initial_weights_for(lambda: nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 512),
                                                        nn.ReLU(), nn.Linear(512, 10)))
    weights = {f"linear_relu_stack.{k}": v for k, v in weights.items()}
    theirs = quickstart(real_torch, images, labels, weights)
    ours = quickstart(tinygrad_lite, images, labels, weights)
    assert len(ours["train_loss"]) == len(theirs["train_loss"]) == 3 * 24
    np.testing.assert_allclose(ours["train_loss"], theirs["train_loss"], rtol=2e-4, atol=1e-5)
    np.testing.assert_allclose(ours["test_loss"], theirs["test_loss"], rtol=2e-4)
    np.testing.assert_allclose(ours["correct"], theirs["correct"], atol=2 / 297)  # at most 2 borderline images
    assert theirs["correct"][-1] > 0.7, "the loop really learns (chance is 0.1)"


# -------------------------------------------------------------------- a fuller loop
def careful_loop(torch, images, labels, initial_weights, checkpoint_path, epochs=12, patience=2):
    """AdamW, ReduceLROnPlateau, gradient clipping, early stopping by hand, and a checkpoint dict."""
    nn = torch.nn  # (the script's `from torch import nn`, for whichever module plays torch here)
    DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset

    train_loader = DataLoader(TensorDataset(torch.tensor(images[:1200]), torch.tensor(labels[:1200])), batch_size=100)
    val_loader = DataLoader(TensorDataset(torch.tensor(images[1200:]), torch.tensor(labels[1200:])), batch_size=200)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))
    model.load_state_dict({k: torch.tensor(v) for k, v in initial_weights.items()})
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-2, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=0)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    best, bad_epochs, log = float("inf"), 0, []
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = sum(loss_fn(model(x), y).item() * len(y) for x, y in val_loader) / 597
        scheduler.step(val_loss)
        log.append((loss.item(), norm.item(), val_loss, optimizer.param_groups[0]["lr"]))
        if val_loss < best:
            best, bad_epochs = val_loss, 0
            torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "val_loss": val_loss}, checkpoint_path)
        else:
            bad_epochs += 1
            if bad_epochs > patience:
                break
    checkpoint = torch.load(checkpoint_path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    with torch.no_grad():
        restored = sum(loss_fn(model(x), y).item() * len(y) for x, y in val_loader) / 597
    return log, checkpoint["epoch"], checkpoint["val_loss"], restored


def test_adamw_plateau_clipping_early_stopping_and_checkpoint_loop(tmp_path):
    images, labels = digits_numpy()
    nn = real_torch.nn
    weights = initial_weights_for(lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10)))
    theirs = careful_loop(real_torch, images, labels, weights, tmp_path / "theirs.pt")
    ours = careful_loop(tinygrad_lite, images, labels, weights, tmp_path / "ours.pt")
    (log_theirs, epoch_theirs, best_theirs, restored_theirs) = theirs
    (log_ours, epoch_ours, best_ours, restored_ours) = ours
    assert len(log_ours) == len(log_theirs) and epoch_ours == epoch_theirs
    np.testing.assert_allclose(np.array(log_ours), np.array(log_theirs), rtol=5e-4, atol=1e-6)
    np.testing.assert_allclose([best_ours, restored_ours], [best_theirs, restored_theirs], rtol=5e-4)
    np.testing.assert_allclose(restored_ours, best_ours, rtol=1e-6)
    assert log_ours[-1][3] < 3e-2, "the plateau scheduler lowered the learning rate"
