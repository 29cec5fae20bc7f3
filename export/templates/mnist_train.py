"""Handwritten digit recognition: train a multi-layer network on MNIST, written as an nn.Module like the course's 10-minute introduction (lesson 5 of the course)."""
# Run: MNIST_DIR=folder_with_MNIST python mnist_train.py; without MNIST_DIR it downloads MNIST with torchvision
import gzip
import itertools
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim

# The page's settings
hidden = [256, 64]  # the hidden layers' sizes, from the input side
activation = "relu"
final = "none"  # an activation on the output layer too, or none
loss_name = "mse"
optimizer_name = "sgd"
learning_rate = 0.01
momentum = 0.9  # SGD's momentum (Adam and RMSprop take none)
schedule = "none"
batch_size = 512
epochs = 3
seed = 0
ACTIVATIONS = {"relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def read_idx(path):
    """Read one IDX file (gzipped or not): MNIST's own format."""
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def find_files(folder):
    found = {}
    for key, name in FILES.items():
        for candidate in (os.path.join(folder, name), os.path.join(folder, name + ".gz")):
            if os.path.isfile(candidate):
                found[key] = candidate
                break
    return found if len(found) == len(FILES) else None


def load_mnist():
    # Look for the four files in MNIST_DIR first; only without them download into mnist_data/ with torchvision
    folder = os.environ.get("MNIST_DIR", "")
    files = find_files(folder) if folder else None
    if files is None:
        import torchvision

        print("MNIST_DIR not set (or files missing): downloading MNIST with torchvision…")
        for train in (True, False):
            torchvision.datasets.MNIST("mnist_data", train=train, download=True)
        folder = os.path.join("mnist_data", "MNIST", "raw")
        files = find_files(folder)
        if files is None:
            raise SystemExit(f"MNIST files still missing after the download: {folder}")
    print(f"MNIST data set: {folder}")
    return {key: read_idx(path) for key, path in files.items()}


def normalise(images):
    # pixels to [0, 1], then standardised with the course's mean 0.1307 and std 0.3081
    x = torch.tensor(images, dtype=torch.float32).reshape(-1, 28 * 28) / 255.0
    return (x - 0.1307) / 0.3081


data = load_mnist()
x_train, y_train = normalise(data["train_images"]), torch.tensor(data["train_labels"], dtype=torch.int64)
x_test, y_test = normalise(data["test_images"]), torch.tensor(data["test_labels"], dtype=torch.int64)
steps_per_epoch = math.ceil(len(x_train) / batch_size)


class Net(nn.Module):
    # The network: layer after layer, H1 = activation(X·W1 + b1), H2 = activation(H1·W2 + b2), … the last layer outputs one score per digit

    def __init__(self):
        super().__init__()
        sizes = [28 * 28, *hidden, 10]
        self.layers = nn.ModuleList(nn.Linear(n_in, n_out) for n_in, n_out in itertools.pairwise(sizes))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = ACTIVATIONS[activation](layer(x))
        x = self.layers[-1](x)
        if final != "none":
            x = ACTIVATIONS[final](x)
        return x


def init_weights(net, seed):
    # PyTorch's default initialisation U(−1/√fan_in, 1/√fan_in), drawn from seed as the page does
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in net.layers:
            bound = 1.0 / math.sqrt(layer.in_features)
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)


net = Net()
init_weights(net, seed)
if optimizer_name == "sgd":
    optimizer = optim.SGD(net.parameters(), lr=learning_rate, momentum=momentum)
elif optimizer_name == "adam":
    optimizer = optim.Adam(net.parameters(), lr=learning_rate)
else:
    optimizer = optim.RMSprop(net.parameters(), lr=learning_rate)
if schedule == "onecycle":
    # the learning rate ramps up to learning_rate, then anneals (one-cycle)
    total_steps = max(epochs * steps_per_epoch, 1)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=learning_rate, total_steps=total_steps)
else:
    scheduler = None  # a constant learning rate, as in the course


def loss_fn(out, y):
    if loss_name == "mse":
        # the course's objective: mean squared error (MSE) between the outputs and one-hot labels
        return F.mse_loss(out, F.one_hot(y, 10).float())
    # cross-entropy: −log of the right digit's probability after softmax
    return F.cross_entropy(out, y)


print(f"The network:\n{net}")
shuffle = torch.Generator().manual_seed(seed)
for epoch in range(epochs):
    order = torch.randperm(len(x_train), generator=shuffle)  # shuffled each epoch; the same seed gives the page's order
    for batch_idx in range(steps_per_epoch):
        batch = order[batch_idx * batch_size:(batch_idx + 1) * batch_size]
        x, y = x_train[batch], y_train[batch]
        out = net(x)
        loss = loss_fn(out, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if batch_idx % 10 == 0:
            print(epoch + 1, batch_idx, loss.item())

# accuracy on the 10,000 test images
net.eval()
with torch.no_grad():
    pred = net(x_test).argmax(dim=1)
total_correct = pred.eq(y_test).sum().item()
total = len(y_test)
acc = total_correct / total
wrong = total - total_correct
print(f"Test accuracy: {acc:.2%} ({wrong} of {total} wrong)")
print(json.dumps({"test_accuracy": acc}))
