"""The course's regression code (簡單回歸實戰案例), verbatim but for indentation and names prefixed
with ``course_``: the reference that ``lessons.regression`` must equal, shared by
``tests/test_regression.py`` and ``benchmarks/bench_regression.py``.
"""

import numpy as np


def course_compute_error_for_line_given_points(b, w, points):
    totalError = 0
    for i in range(0, len(points)):
        x = points[i, 0]
        y = points[i, 1]
        totalError += (y - (w * x + b)) ** 2
    return totalError / float(len(points))


def course_step_gradient(b_current, w_current, points, learningRate):
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


def course_gradient_descent_runner(points, starting_b, starting_m, learning_rate, num_iterations):
    b = starting_b
    m = starting_m
    for i in range(num_iterations):
        b, m = course_step_gradient(b, m, np.array(points), learning_rate)
    return [b, m]


def course_run(points):
    """The course's run(), returning what it prints instead of printing it."""
    learning_rate = 0.0001
    initial_b = 0  # initial y-intercept guess
    initial_m = 0  # initial slope guess
    num_iterations = 1000
    lines = ["Starting gradient descent at b = {0}, m = {1}, error = {2}".format(
        initial_b, initial_m, course_compute_error_for_line_given_points(initial_b, initial_m, points))]
    lines.append("Running...")
    [b, m] = course_gradient_descent_runner(points, initial_b, initial_m, learning_rate, num_iterations)
    lines.append("After {0} iterations b = {1}, m = {2}, error = {3}".format(
        num_iterations, b, m, course_compute_error_for_line_given_points(b, m, points)))
    return "\n".join(lines)
