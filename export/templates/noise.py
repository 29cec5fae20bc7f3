"""A noisy line: make y = w·x + b + ε, then find the line again with the course's gradient descent (lesson 2 of the course)."""
# Run: python noise.py (needs only numpy)
import json
import math

import numpy as np

# The page's settings
w_true = 2.0
b_true = 1.0
noise_mean = 0.01
noise_std = 1.0
n = 100
seed = 0
learning_rate = 0.02
num_iterations = 1000


# The course's three functions, word for word
# ruff: noqa: PIE808
def compute_error_for_line_given_points(b, w, points):
    totalError = 0
    for i in range(0, len(points)):
        x = points[i, 0]
        y = points[i, 1]
        totalError += (y - (w * x + b)) ** 2
    return totalError / float(len(points))


def step_gradient(b_current, w_current, points, learningRate):
    b_gradient = 0
    w_gradient = 0
    N = float(len(points))
    for i in range(0, len(points)):
        x = points[i, 0]
        y = points[i, 1]
        b_gradient += -(2/N) * (y - ((w_current * x) + b_current))
        w_gradient += -(2/N) * x * (y - ((w_current * x) + b_current))
    new_b = b_current - (learningRate * b_gradient)
    new_m = w_current - (learningRate * w_gradient)
    return [new_b, new_m]


def gradient_descent_runner(points, starting_b, starting_m, learning_rate, num_iterations):
    b = starting_b
    m = starting_m
    for i in range(num_iterations):
        b, m = step_gradient(b, m, np.array(points), learning_rate)
    return [b, m]


# The data: x uniform between 0 and 10, noise ε ~ N(noise_mean, noise_std²); the same seed gives the same data
rng = np.random.default_rng(seed)
x = rng.uniform(0.0, 10.0, n)
epsilon = rng.normal(noise_mean, noise_std, n)
points = np.column_stack([x, w_true * x + b_true + epsilon])
print(f"Made {n} points: y = {w_true}·x + {b_true} + ε, ε ~ N({noise_mean}, {noise_std}²)")
seen_mean, seen_std = epsilon.mean(), epsilon.std()
print(f"The noise these points carry: mean {seen_mean:.3f}, standard deviation {seen_std:.3f}")

# Gradient descent from w = 0, b = 0, then compared with the least-squares solution
with np.errstate(over="ignore", invalid="ignore"):
    [b, w] = gradient_descent_runner(points, 0.0, 0.0, learning_rate, num_iterations)
    error = compute_error_for_line_given_points(b, w, points)
y = points[:, 1]
dx = x - x.mean()
best_w = float(np.dot(dx, y - y.mean()) / np.dot(dx, dx))
best_b = float(y.mean() - best_w * x.mean())
col_mean, col_sum = "mean squared error (MSE)", "sum of squared errors"
print(f"{'':<16} {'w':>12} {'b':>12} {col_mean:>14} {col_sum:>14}")
lines = [("true line", w_true, b_true), ("gradient descent", w, b), ("least squares", best_w, best_b)]
for name, line_w, line_b in lines:
    mse = compute_error_for_line_given_points(line_b, line_w, points)
    print(f"{name:<16} {line_w:>12.6f} {line_b:>12.6f} {mse:>14.6f} {n * mse:>14.6f}")
if not all(map(math.isfinite, (b, w, error))):
    print(f"Gradient descent diverged: the learning rate {learning_rate:g} is too large.")
    print(json.dumps({"w": None, "b": None, "error": None, "diverged": True}))
else:
    dw, db = abs(w - best_w), abs(b - best_b)
    print(f"Gradient descent vs least squares: w differs by {dw:.2e}, b by {db:.2e} (after {num_iterations} iterations)")
    print(json.dumps({"w": float(w), "b": float(b), "error": float(error)}))
