"""From regression to classification: the sigmoid, softmax, and a linear classifier trained with PyTorch (lesson 4 of the course)."""
# Run: python classification.py (needs numpy and torch)
import json
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# The page's settings
w = 1.0  # w and b of the sigmoid picture (part 1)
b = 0.0
data_set = "blobs"
k = 3  # number of classes (moons and xor always have 2)
noise = 0.3
seed = 0
lr = 0.3
steps = 200
loss_name = "cross_entropy"
picked = (0.5, 0.5)  # the point picked on the page (x₁, x₂)
N_TRAIN = 200  # the training points
N_TEST = 1000  # fresh points the training never sees

# The sigmoid squashes the line z = w·x + b into [0, 1]: σ(z) = 1 / (1 + e^(−z))
if w != 0:
    half = -b / w + 0.0
    print(f"σ({w}·x + {b}) is 0.5 at x = {half:.2f}")
else:
    p = 1 / (1 + math.exp(-b))
    print(f"w = 0: σ({b}) = {p:.3f} for every x")


def make_dataset(n, seed):
    """The page's data set: n points, classes balanced; another seed is another sample of the same distribution."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % k)
    if data_set in ("blobs", "overlap"):
        radius, spread = (3.0, 0.35 + noise) if data_set == "blobs" else (2.0, 0.8 + noise)
        angle = 2 * np.pi * np.arange(k) / k + np.pi / 4
        centres = radius * np.column_stack([np.cos(angle), np.sin(angle)])
        X = centres[y] + rng.normal(0.0, spread, size=(n, 2))
    elif data_set == "moons":
        t = rng.uniform(0.0, np.pi, size=n)
        upper = np.column_stack([np.cos(t), np.sin(t)])
        lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
        X = 2.5 * (np.where(y[:, None] == 0, upper, lower) - [0.5, 0.25])
        X = X + rng.normal(0.0, 0.1 + noise, size=(n, 2))
    else:  # xor
        corner = rng.integers(0, 2, size=n)
        sx = np.where(corner == 0, 1.0, -1.0)
        sy = np.where(y == 0, sx, -sx)
        X = 2.0 * np.column_stack([sx, sy]) + rng.normal(0.0, 0.4 + noise, size=(n, 2))
    return X, y


X_train, y_train = make_dataset(N_TRAIN, seed)
X_test, y_test = make_dataset(N_TEST, seed + 1000)
print(f"Data set {data_set} ({k} classes, {N_TRAIN} training points, {N_TEST} unseen ones), loss {loss_name}, learning rate {lr}, {steps} steps")
# Standardise each feature (mean 0, spread 1), so one learning rate suits every data set
mean = X_train.mean(axis=0)
scale = X_train.std(axis=0)
scale[scale == 0] = 1.0
X = torch.from_numpy((X_train - mean) / scale)
y = torch.from_numpy(y_train).long()
X_held_out = torch.from_numpy((X_test - mean) / scale)
y_held_out = torch.from_numpy(y_test).long()

# The model: logistic regression σ(w·x + b) for two classes, softmax regression for more; full-batch gradient descent
binary = k == 2
model = nn.Linear(2, 1 if binary else k).double()
init = np.random.default_rng(seed)  # start from small random weights, as the page does
with torch.no_grad():
    if binary:
        model.weight.copy_(torch.from_numpy(init.normal(0.0, 0.01, size=(1, 2))))
    else:
        model.weight.copy_(torch.from_numpy(init.normal(0.0, 0.01, size=(2, k)).T))
    model.bias.zero_()
optimizer = torch.optim.SGD(model.parameters(), lr=lr)


def loss_fn(z, y):
    if binary and loss_name == "cross_entropy":
        return F.binary_cross_entropy_with_logits(z[:, 0], y.double())
    if binary:
        return F.mse_loss(torch.sigmoid(z[:, 0]), y.double())
    if loss_name == "cross_entropy":
        return F.cross_entropy(z, y)
    return ((F.softmax(z, dim=1) - F.one_hot(y, k).double()) ** 2).sum(dim=1).mean()


def predict(z):
    return (z[:, 0] >= 0).long() if binary else z.argmax(dim=1)


def class_probabilities(z):
    if binary:
        return torch.stack([torch.sigmoid(-z[:, 0]), torch.sigmoid(z[:, 0])], dim=1)
    return F.softmax(z, dim=1)


report = max(1, steps // 10)
for step in range(steps + 1):
    z = model(X)
    loss = loss_fn(z, y)
    if step % report == 0 or step == steps:
        value, correct = loss.item(), (predict(z) == y).double().mean().item()
        print(f"step {step}: loss = {value:.4f}, training accuracy = {correct:.1%}")
    if step == steps:
        break
    optimizer.zero_grad()
    loss.backward()  # backpropagation gives the gradient, SGD takes one step
    optimizer.step()

with torch.no_grad():
    train_accuracy = (predict(model(X)) == y).double().mean().item()
    accuracy = (predict(model(X_held_out)) == y_held_out).double().mean().item()
    point = torch.tensor([[(picked[0] - mean[0]) / scale[0], (picked[1] - mean[1]) / scale[1]]])
    z = model(point)
    probabilities = class_probabilities(z)[0]
print(f"Training accuracy {train_accuracy:.1%}; accuracy on unseen data {accuracy:.1%}")
x1, x2 = picked
for c, p in enumerate(probabilities.tolist()):
    print(f"Probability that the point ({x1}, {x2}) is class {c}: {p:.4f}")
print(json.dumps({"accuracy": accuracy, "train_accuracy": train_accuracy}))
