"""Simple regression in practice: the course's data.csv exercise, with the course's own functions and run() (lesson 3 of the course)."""
# Run: python regression.py --data your_data.csv (needs only numpy)
import argparse
import csv
import json
import math

import numpy as np


# The course's three functions, word for word
# ruff: noqa: PIE808, UP030, UP032
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


def read_points(path):
    """Read a CSV of two numeric columns x, y; the first row may be a header, blank rows are skipped."""
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for line, row in enumerate(csv.reader(handle), 1):
                if not "".join(row).strip():
                    continue
                count = len(row)
                if count != 2:
                    raise SystemExit(f"{path}, line {line} has {count} column(s): every row needs exactly two, x and y.")
                try:
                    rows.append([float(row[0]), float(row[1])])
                except ValueError:
                    if rows:  # a first row that is not numbers is the header
                        raise SystemExit(f"{path}, line {line} is not numbers: {row}") from None
    except OSError as error:
        raise SystemExit(f"Cannot read the data file {path} ({error.strerror}). Name the CSV file with --data.") from None
    points = np.array(rows, dtype=np.float64)
    if len(points) < 2 or not np.isfinite(points).all():
        raise SystemExit(f"{path} needs at least two points, all finite numbers.")
    return points


def standardised_runner(points, starting_b, starting_m, learning_rate, num_iterations):
    # Standardise x (mean 0, spread 1), run gradient descent, then convert b and m back to the data's units
    mean, std = points[:, 0].mean(), points[:, 0].std()
    if not std > 0:
        raise SystemExit("All x values are equal: x cannot be standardised.")
    scaled = np.column_stack([(points[:, 0] - mean) / std, points[:, 1]])
    b, m = gradient_descent_runner(scaled, starting_b + starting_m * mean, starting_m * std,
                                   learning_rate, num_iterations)
    m = m / std
    return [b - m * mean, m]


DATA_FILE = "example.csv"  # the data file read when --data names none


def run():
    parser = argparse.ArgumentParser(description="Simple regression in practice: the course's data.csv exercise, with the course's own functions and run() (lesson 3 of the course).")
    parser.add_argument("--data", default=DATA_FILE, help="the CSV data file, two columns x, y")
    args = parser.parse_args()
    path = args.data
    points = read_points(path)
    n = len(points)
    print(f"Data: {path}, {n} points")
    learning_rate = 0.0001
    initial_b = 0  # initial y-intercept guess
    initial_m = 0  # initial slope guess
    num_iterations = 1000
    replay_at = 1000  # the iteration the page's replay shows
    runner = gradient_descent_runner  # the page's standardise-x switch decides which one
    print("Starting gradient descent at b = {0}, m = {1}, error = {2}".format(initial_b, initial_m, compute_error_for_line_given_points(initial_b, initial_m, points)))
    print("Running...")
    with np.errstate(over="ignore", invalid="ignore"):  # too large a learning rate makes the numbers inf or nan: this is reported below, without warnings
        [b, m] = runner(points, initial_b, initial_m, learning_rate, num_iterations)
        error = compute_error_for_line_given_points(b, m, points)
        if not all(map(math.isfinite, (b, m, error))):
            print(f"Gradient descent diverged: the learning rate {learning_rate:g} is too large for the scale of x. Lower it, or standardise x.")
            print(json.dumps({"b": None, "m": None, "error": None, "diverged": True}))
            return
        print("After {0} iterations b = {1}, m = {2}, error = {3}".format(num_iterations, b, m, error))
        if replay_at != num_iterations:
            [b_at, m_at] = runner(points, initial_b, initial_m, learning_rate, replay_at)
            error_at = compute_error_for_line_given_points(b_at, m_at, points)
            print(f"At iteration {replay_at} b = {b_at}, m = {m_at}, error = {error_at}")
    # Where gradient descent is heading: the closed-form least-squares line
    x, y = points[:, 0], points[:, 1]
    if np.ptp(x) > 0:
        dx = x - x.mean()
        best_m = float(np.dot(dx, y - y.mean()) / np.dot(dx, dx))
        best_b = float(y.mean() - best_m * x.mean())
        best_error = compute_error_for_line_given_points(best_b, best_m, points)
        print(f"Least squares: b = {best_b:.6g}, m = {best_m:.6g}, error = {best_error:.6g}")
    print(json.dumps({"b": float(b), "m": float(m), "error": float(error)}))


if __name__ == "__main__":
    run()
