"""lessons/network.py against independent references: torch (nn.Linear, autograd) and scikit-learn."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from lessons import network as nw


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 784))
    y = nw.one_hot(rng.integers(0, 10, 32))
    return x, y


def torch_stack(layers, between=None):
    """The same layers as a torch.nn.Sequential of nn.Linear (float64)."""
    mods = []
    for i, (w, b) in enumerate(layers):
        lin = torch.nn.Linear(w.shape[1], w.shape[0]).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        mods.append(lin)
        if between and i < len(layers) - 1:
            mods.append({"relu": torch.nn.ReLU(), "sigmoid": torch.nn.Sigmoid(), "tanh": torch.nn.Tanh()}[between])
    return torch.nn.Sequential(*mods)


# ------------------------------------------------------------------ nutshell


def test_three_layer_stack_matches_torch(batch):
    x, _ = batch
    layers = nw.random_linear_layers(seed=3)
    want = torch_stack(layers)(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(nw.nutshell_predict(x, layers), want, atol=1e-10)


def test_collapsed_layer_predicts_what_three_layers_do(batch):
    x, _ = batch
    layers = nw.random_linear_layers(seed=0)
    w, b = nw.collapse_linear(layers)
    assert w.shape == (10, 784) and b.shape == (10,)
    (w1, b1), (w2, b2), (w3, b3) = layers
    np.testing.assert_allclose(w, w3 @ w2 @ w1, atol=1e-12)
    np.testing.assert_allclose(b, w3 @ (w2 @ b1 + b2) + b3, atol=1e-12)
    three = torch_stack(layers)(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(nw.one_layer_predict(x, w, b), three, atol=1e-5)
    table = nw.nutshell_comparison(x, layers)
    assert len(table) == 32 * 10 and table["difference"].abs().max() < 1e-5
    gap, same = nw.nutshell_agreement(table)
    assert gap < 1e-5 and same == 1.0


def test_with_relu_between_one_layer_no_longer_suffices(batch):
    x, _ = batch
    layers = nw.random_linear_layers(seed=0)
    with_relu = torch_stack(layers, "relu")(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(nw.nutshell_predict(x, layers, "relu"), with_relu, atol=1e-10)
    table = nw.nutshell_comparison(x, layers, between="relu")
    gap, same = nw.nutshell_agreement(table)
    assert gap > 1e-2 and gap == table["difference"].abs().max()
    single = nw.one_layer_predict(x, *nw.collapse_linear(layers))
    assert same == np.mean(with_relu.argmax(axis=1) == single.argmax(axis=1))


def test_random_layers_use_torch_linear_init_bounds():
    for (w, b), n_in in zip(nw.random_linear_layers(seed=5), nw.COURSE_SIZES[:-1]):
        bound = 1 / np.sqrt(n_in)
        assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
        assert np.abs(w).max() > 0.9 * bound  # drawn across the whole range, not a corner of it


# --------------------------------------------------------------- activations


@pytest.mark.parametrize("name", nw.ACTIVATIONS)
def test_activation_and_derivative_match_torch_autograd(name):
    z = np.concatenate([np.linspace(-30, 30, 301), [0.0, 1e-9, -1e-9]])
    zt = torch.tensor(z, requires_grad=True)
    out = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[name](zt)
    out.sum().backward()
    np.testing.assert_allclose(nw.activation(name, z), out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(nw.activation_derivative(name, z), zt.grad.numpy(), atol=1e-12)


def test_sigmoid_never_overflows_and_its_derivative_is_at_most_a_quarter():
    z = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])
    with np.errstate(over="raise", invalid="raise"):
        s = nw.activation("sigmoid", z)
    assert np.all(np.isfinite(s)) and s[0] == 0.0 and s[-1] == 1.0
    assert nw.activation_derivative("sigmoid", np.linspace(-10, 10, 1001)).max() == pytest.approx(0.25)


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="swish"):
        nw.activation("swish", np.zeros(2))


def test_activation_curves_hold_each_function_and_its_derivative():
    df = nw.activation_curves(("relu", "sigmoid"), -2, 2, 5)
    assert len(df) == 2 * 2 * 5
    relu_d = df[(df.activation == "relu") & (df.curve == "f′(z)")]["value"].tolist()
    assert relu_d == [0, 0, 0, 1, 1]
    assert df["value"].notna().all()


# ------------------------------------------------------- gradient vanishing


@pytest.mark.parametrize("name", nw.ACTIVATIONS)
def test_backprop_matches_torch_autograd(batch, name):
    x, y = batch
    layers = nw.deep_layers(4, 16, name, seed=2)
    # non-zero biases so their gradient path is checked too
    layers = [(w, b + 0.1) for w, b in layers]
    loss, gw, gb = nw.backprop(x, y, layers, name)
    net = torch_stack(layers, name)
    pred = net(torch.from_numpy(x))
    ref = ((pred - torch.from_numpy(y)) ** 2).sum() / len(x)
    ref.backward()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    for mine, lin in zip(gw, linears):
        np.testing.assert_allclose(mine, lin.weight.grad.numpy(), rtol=1e-9, atol=1e-14)
    for mine, lin in zip(gb, linears):
        np.testing.assert_allclose(mine, lin.bias.grad.numpy(), rtol=1e-9, atol=1e-14)


def test_deep_sigmoid_net_starves_its_first_layer_of_gradient(batch):
    """Depth 10: by torch.autograd, the sigmoid net's first layer gets a far smaller gradient than ReLU's."""
    x, y = batch
    first = {}
    for name in ("sigmoid", "relu"):
        layers = nw.deep_layers(10, 64, name, seed=0)
        net = torch_stack(layers, name)
        loss = ((net(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).sum() / len(x)
        loss.backward()
        first[name] = net[0].weight.grad.norm().item()
        np.testing.assert_allclose(nw.layer_gradient_norms(x, y, 10, 64, name)[0], first[name], rtol=1e-9)
    assert first["sigmoid"] < 1e-4 * first["relu"]


def test_vanishing_gets_worse_with_depth_for_sigmoid_only(batch):
    x, y = batch
    shallow = nw.vanishing_table(x, y, 2, 64)
    deep = nw.vanishing_table(x, y, 12, 64)

    def first_relative(df, name):
        return df[(df.activation == name) & (df.layer == 1)]["relative"].item()

    assert first_relative(deep, "sigmoid") < 1e-3 * first_relative(shallow, "sigmoid")
    assert 0.05 < first_relative(deep, "relu") / first_relative(shallow, "relu") < 20
    assert set(deep["layer"]) == set(range(1, 14))
    assert np.all(np.isfinite(deep["grad_norm"])) and (deep["grad_norm"] > 0).all()


# ------------------------------------------------------------------- history


def test_thin_history_keeps_short_runs_and_averages_long_ones():
    short = pd.DataFrame({"step": [1, 2, 3], "epoch": [1, 1, 1], "loss": [3.0, 2.0, 1.0]})
    pd.testing.assert_frame_equal(nw.thin_history(short), short)
    n = 1000
    long = pd.DataFrame({"step": np.arange(1, n + 1), "epoch": np.arange(n) // 250 + 1, "loss": np.arange(n, dtype=float)})
    thin = nw.thin_history(long, max_points=100)
    assert len(thin) == 100
    assert thin["loss"].iloc[0] == pytest.approx(np.mean(np.arange(10)))  # runs of 10 steps, averaged
    assert thin["step"].iloc[-1] == n and thin["epoch"].iloc[-1] == 4
    assert thin["loss"].mean() == pytest.approx(long["loss"].mean())


def test_thin_history_drops_a_blown_up_loss():
    blown = pd.DataFrame({"step": [1, 2, 3, 4], "epoch": [1] * 4, "loss": [1.0, 1e30, np.inf, np.nan]})
    thin = nw.thin_history(blown)
    assert thin["step"].tolist() == [1, 2] and np.isfinite(thin["loss"]).all()
    assert nw.thin_history(blown.iloc[2:]).empty


# ------------------------------------------------------------------- results


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=200))
def test_confusion_matrix_matches_scikit_learn(pairs):
    true, pred = map(np.array, zip(*pairs))
    np.testing.assert_array_equal(nw.confusion_matrix(true, pred), sk_confusion_matrix(true, pred, labels=range(10)))


def test_confusion_frame_shares_sum_to_one_per_seen_digit():
    m = nw.confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]))
    df = nw.confusion_frame(m)
    shares = df.groupby("true")["share"].sum()
    assert shares[0] == pytest.approx(1) and shares[5] == 0
    assert df.query("true == 0 and predicted == 1")["count"].item() == 1


def test_misclassified_lists_only_mistakes_most_confident_first():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.05, 0.95]])
    labels = np.array([0, 0, 1, 0])
    df = nw.misclassified(probs, labels)
    assert df["index"].tolist() == [3, 1]
    assert df["predicted"].tolist() == [1, 1] and df["true"].tolist() == [0, 0]
    assert df["confidence"].tolist() == [0.95, 0.8]
    assert len(nw.misclassified(probs, labels, limit=1)) == 1


def test_first_layer_weights_are_the_first_linear_rows():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 5), torch.nn.ReLU(), torch.nn.Linear(5, 10))
    images = nw.first_layer_weights(model)
    assert images.shape == (5, 28, 28)
    np.testing.assert_allclose(images[2].ravel(), model[1].weight[2].detach().numpy(), rtol=1e-6)


def test_pictures():
    signed = np.array([[[1.0, -2.0], [0.0, 0.5]]])
    rgb = nw.diverging_rgb(signed)
    assert rgb.shape == (1, 2, 2, 3) and rgb.dtype == np.uint8
    assert rgb[0, 1, 0].tolist() == [255, 255, 255]  # zero is white
    assert rgb[0, 0, 1].tolist() == [0, 77, 255]  # the most negative is full blue
    assert rgb[0, 1, 1].tolist() == [255, 191, 191]  # a quarter of the way to red (0.5 of max |2|)
    assert nw.diverging_rgb(np.zeros((1, 2, 2)))[0].min() == 255  # an all-zero image stays white, no NaN
    grid = nw.tile(np.ones((5, 3, 3), dtype=np.uint8), cols=2, pad=1, fill=0)
    assert grid.shape == (3 * 4 + 1, 2 * 4 + 1) and grid.sum() == 5 * 9
    assert nw.upscale(np.array([[1, 2]]), 3).shape == (3, 6)
    assert nw.to_uint8(np.array([-3.0, 127.6, 300.0])).tolist() == [0, 128, 255]
    x = nw.normalise(np.full((2, 28, 28), 255, dtype=np.uint8))
    assert x.shape == (2, 784) and x[0, 0] == pytest.approx((1 - 0.1307) / 0.3081)


def test_the_network_page_needs_no_torch():
    """lessons.network and the MNIST pages' shared UI import without loading torch (the 5b page stays light)."""
    code = "import sys, lessons.network, app.ui, app.charts.network\nassert 'torch' not in sys.modules, 'torch was imported'\n"
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, check=True)


# ------------------------------------------------------------------ what the page says, checked
# Each text the 5b page picks by a result states a claim (in lessons/network.py, beside the code that picks
# it); these properties check it over the page's whole ranges whenever the text shows. The images are the
# offline digits the page falls back to (the first test images, as the page takes them).


@pytest.fixture(scope="module")
def digits():
    from lessons import mnist

    return mnist.fallback_digits()


seeds = st.integers(nw.SETTINGS["seed"].lo, nw.SETTINGS["seed"].hi)
depths = st.integers(nw.SETTINGS["depth"].lo, nw.SETTINGS["depth"].hi)
widths = st.sampled_from(nw.SETTINGS["width"].options)


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(nw.BETWEEN), seeds)
@example("none", 999)
@example("tanh", 0)
def test_nutshell_notes_hold_for_every_seed(digits, between, seed):
    """``identical``: every output of the single layer is within ``SAME`` of the three layers' (torch's);
    ``not_identical``: the stack is not linear at all, so no single linear layer equals it."""
    x = nw.normalise(digits.test_images[: nw.N_IMAGES])
    layers = nw.random_linear_layers(seed=seed)
    act = None if between == "none" else between
    gap, _ = nw.nutshell_agreement(nw.nutshell_comparison(x, layers, act))
    net = torch_stack(layers, act)
    three = net(torch.from_numpy(x)).detach().numpy()
    if nw.nutshell_note(gap) == "identical":
        assert between == "none"
        np.testing.assert_allclose(nw.one_layer_predict(x, *nw.collapse_linear(layers)), three, rtol=0, atol=nw.SAME)
    else:
        assert between != "none", "a purely linear stack always collapses"
        # An affine map sends the midpoint of two images to the midpoint of their outputs; this stack does not.
        middle = net(torch.from_numpy((x[:-1] + x[1:]) / 2)).detach().numpy()
        assert np.abs(middle - (three[:-1] + three[1:]) / 2).max() > nw.SAME


def sigmoid_share(x, y, depth, width, seed) -> float:
    return float(nw.first_layer_share(nw.vanishing_table(x, y, depth, width, ("sigmoid",), seed=seed))["sigmoid"])


@settings(max_examples=8, deadline=None)
@given(depths, widths, seeds)
@example(1, 16, 0)  # one of each note
@example(3, 64, 0)
@example(30, 256, 999)
def test_vanishing_notes_hold_for_every_depth_width_and_seed(digits, depth, width, seed):
    """``vanishing_not_yet``: the sigmoid net's first layer gets at least a tenth of the last layer's gradient;
    ``vanishing_shrinking``: under a tenth, at least a hundredth, and smaller still at depth 30;
    ``vanishing_small``: under a hundredth, and the ReLU net's first layer gets over ten times that share."""
    x = nw.normalise(digits.test_images[: nw.N_BATCH])
    y = nw.one_hot(digits.test_labels[: nw.N_BATCH])
    # each net is drawn from the seed on its own, so the ReLU net, read only where the note needs it,
    # is the one the page's table shows beside the sigmoid net
    sigmoid = sigmoid_share(x, y, depth, width, seed)
    note = nw.vanishing_note(sigmoid)
    if note == "vanishing_not_yet":
        assert sigmoid >= 0.1
    elif note == "vanishing_shrinking":
        assert 0.01 <= sigmoid < 0.1
        assert sigmoid_share(x, y, nw.SETTINGS["depth"].hi, width, seed) < sigmoid
    else:
        assert note == "vanishing_small"
        relu = float(nw.first_layer_share(nw.vanishing_table(x, y, depth, width, ("relu",), seed=seed))["relu"])
        assert sigmoid < 0.01 and relu > 10 * sigmoid


@settings(max_examples=5, deadline=None)
@given(seeds)
def test_try_shallow_the_sigmoid_net_still_gets_its_gradient(digits, seed):
    """``try_shallow`` (2 hidden layers of 64): the sigmoid note is ``vanishing_not_yet`` for every seed."""
    x = nw.normalise(digits.test_images[: nw.N_BATCH])
    y = nw.one_hot(digits.test_labels[: nw.N_BATCH])
    assert nw.vanishing_note(sigmoid_share(x, y, 2, 64, seed)) == "vanishing_not_yet"


def test_vanishing_note_thresholds():
    assert [nw.vanishing_note(s) for s in (1.4, 0.1, 0.099, 0.01, 0.0099, 1e-19)] == [
        "vanishing_not_yet", "vanishing_not_yet", "vanishing_shrinking", "vanishing_shrinking",
        "vanishing_small", "vanishing_small"]


def test_activation_note_derivative_bounds():
    """``activations_note``: σ′ ≤ 1/4 and near 0 for large |z|; tanh′ ≤ 1, saturating too; ReLU′ is 1 for z > 0, else 0."""
    z = np.linspace(-10, 10, 2001)
    sig, tanh, relu = (nw.activation_derivative(name, z) for name in ("sigmoid", "tanh", "relu"))
    assert sig.max() == pytest.approx(0.25) and sig.max() <= 0.25 and sig[np.abs(z) >= 8].max() < 1e-3
    assert tanh.max() == pytest.approx(1.0) and tanh[np.abs(z) >= 5].max() < 1e-3
    np.testing.assert_array_equal(relu, (z > 0).astype(float))
