"""Property tests on the lessons: for any input in the pages' ranges, no unexpected exception,
no NaN or inf in a result, and a clear ValueError where an input is refused."""

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lessons.canvas import preprocess_canvas
from lessons.classification import sigmoid, softmax
from lessons.descent import descend
from lessons.regression import gradient_descent_runner, load_points

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
finite = st.floats(allow_nan=False, allow_infinity=False)


@PROPERTY
@given(
    x0=st.floats(-10, 10),
    log_lr=st.floats(-5, 1),
    steps=st.integers(0, 300),
    optimizer=st.sampled_from(["sgd", "momentum", "rmsprop", "adam"]),
)
def test_descend_is_always_finite(x0, log_lr, steps, optimizer):
    df = descend(x0, 10.0**log_lr, steps, optimizer=optimizer)
    assert list(df.columns[:4]) == ["step", "x", "loss", "grad"]
    assert 1 <= len(df) <= steps + 1
    assert np.isfinite(df[["x", "loss", "grad"]].to_numpy()).all()
    assert isinstance(df.attrs.get("diverged"), bool)
    if not df.attrs["diverged"]:
        assert len(df) == steps + 1


@PROPERTY
@given(
    points=arrays(np.float64, st.tuples(st.integers(2, 50), st.just(2)), elements=st.floats(-1e6, 1e6)),
    log_lr=st.floats(-8, 0),
    iterations=st.integers(0, 200),
)
def test_regression_runner_never_returns_nan_or_raises_unexpectedly(points, log_lr, iterations):
    try:
        b, m = gradient_descent_runner(points, 0.0, 0.0, 10.0**log_lr, iterations)
    except ValueError as exc:  # refusing to run on, e.g., a diverging rate is fine if it says why
        assert str(exc)
        return
    assert np.isfinite([b, m]).all()


@PROPERTY
@given(data=st.binary(max_size=2000))
def test_load_points_on_arbitrary_bytes(data):
    try:
        points = load_points(io.BytesIO(data))
    except ValueError as exc:
        assert str(exc).strip()
        return
    assert points.dtype == np.float64 and points.ndim == 2 and points.shape[1] == 2 and len(points) >= 2
    assert np.isfinite(points).all()


@PROPERTY
@given(text=st.lists(st.tuples(finite, finite), min_size=2, max_size=40))
def test_load_points_reads_back_any_finite_two_column_csv(text):
    csv = "\n".join(f"{x!r},{y!r}" for x, y in text).encode()
    points = load_points(io.BytesIO(csv))
    np.testing.assert_array_equal(points, np.array(text, dtype=np.float64))


@PROPERTY
@given(rgba=arrays(np.uint8, st.tuples(st.integers(1, 64), st.integers(1, 64), st.just(4))))
def test_preprocess_canvas_on_arbitrary_rgba(rgba):
    out = preprocess_canvas(rgba)
    if out is not None:
        assert out.shape == (28, 28) and out.dtype == np.float32
        assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("shape", [(28, 28), (10, 10, 3), (5,), (0, 0, 4)])
def test_preprocess_canvas_refuses_wrong_shapes_clearly(shape):
    with pytest.raises(ValueError, match=r"\S"):
        preprocess_canvas(np.zeros(shape, dtype=np.uint8))


@PROPERTY
@given(z=arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(1, 12)), elements=finite))
def test_softmax_rows_are_probabilities_for_any_finite_logits(z):
    p = softmax(z, axis=-1)
    assert np.isfinite(p).all() and (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-9)


@PROPERTY
@given(z=arrays(np.float64, st.integers(1, 50), elements=finite))
def test_sigmoid_stays_in_the_unit_interval_for_any_finite_input(z):
    s = sigmoid(z)
    assert np.isfinite(s).all() and (s >= 0).all() and (s <= 1).all()
