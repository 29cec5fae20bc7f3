"""Gradient descent: torch.optim's solvers look for the minimum of loss = x²·sin(x) (lesson 1 of the course)."""
# Run: python descent.py (needs torch)
import json
import math

import torch

# The page's settings
x0 = 3.0
lr = 0.05
steps = 40
solvers = ["sgd", "rmsprop", "adam"]
focus = "sgd"  # the step table lists this solver's first steps
stepwise = False  # True: the table lists every step, not only the first 8
momentum = 0.9
alpha = 0.99
betas = (0.9, 0.999)
eps = 1e-8
BLOW_UP = 1e6  # |x| beyond this counts as diverged: the run stops, as on the page
TABLE_ROWS = 8
NAMES = {
    "sgd": "SGD (the course's x′ = x − lr·f′(x))",
    "momentum": "SGD + momentum",
    "rmsprop": "RMSprop",
    "adam": "Adam",
}


def loss_fn(x):
    # loss = x²·sin(x)
    return x * x * torch.sin(x)


def hand_grad(x):
    # the course's derivative by hand, f'(x) = 2x·sin(x) + x²·cos(x)
    return 2 * x * math.sin(x) + x * x * math.cos(x)


def make_optimizer(name, params):
    # the course's three solvers sgd, rmsprop and adam, plus SGD with momentum
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=alpha, eps=eps)
    return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps)


def descend(name):
    """Take steps steps from x0; return the x visited, each step's numbers, and the step that diverged (None if none did)."""
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer(name, [x])
    path, rows = [x0], []
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = loss_fn(x)
        loss.backward()  # backpropagation: x.grad is f'(x)
        old_x, grad = x.item(), x.grad.item()
        optimizer.step()
        new_x = x.item()
        if not math.isfinite(new_x) or abs(new_x) > BLOW_UP:
            return path, rows, step
        path.append(new_x)
        rows.append((step, old_x, grad, new_x))
    return path, rows, None


print("Gradient descent on loss = x²·sin(x)")
start = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
loss_fn(start).backward()  # PyTorch's autograd computes the same derivative
hand, auto = hand_grad(x0), start.grad.item()
print(f"x = {x0}: f'(x) by hand = {hand:.15g}, by autograd = {auto:.15g}")
final_x, diverged_step = {}, {}
for name in solvers:
    path, rows, blew_up = descend(name)
    final_x[name], diverged_step[name] = path[-1], blew_up
    label, taken, x = NAMES[name], len(path) - 1, path[-1]
    loss = x * x * math.sin(x)
    if blew_up is None:
        print(f"{label}: after {taken} steps x = {x:.10f}, loss = {loss:.10f}")
    else:
        print(f"{label}: diverged at step {blew_up} (learning rate {lr:g} is too large); the last x before that = {x:.6g}")
    if name == focus:
        shown = rows if stepwise else rows[:TABLE_ROWS]
        count = len(shown)
        print(f"The first {count} steps of {label}:")
        print(f"{'step':>5} {'x':>14} {'f′(x)':>14} {'new x':>14}")
        for step, old_x, grad, new_x in shown:
            print(f"{step:>5} {old_x:>14.6f} {grad:>14.6f} {new_x:>14.6f}")
print(json.dumps({"final_x": final_x, "diverged_step": diverged_step}))
