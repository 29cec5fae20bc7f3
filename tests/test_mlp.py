"""The course's MNIST network and its training: maths against torch/autograd, the class cache, real accuracy."""

from __future__ import annotations

import inspect
import io
import threading
import time
from dataclasses import asdict, replace

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import mnist_dir, tiny_data
from sklearn.metrics import accuracy_score

from lessons import mlp, mnist


@pytest.fixture(scope="module")
def digits() -> mnist.MnistData:
    """scikit-learn's real handwritten digits (the offline fallback): real data, trains in a second."""
    return mnist.fallback_digits()


# ------------------------------------------------------------------------ the network


def test_mlp_shapes_and_course_architecture():
    model = mlp.MLP()
    assert [(m.in_features, m.out_features) for m in model.linears()] == [(784, 256), (256, 64), (64, 10)]
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]  # the course's output stays linear
    assert model(torch.zeros(5, 28, 28)).shape == (5, 10)
    assert model(torch.zeros(5, 784)).shape == (5, 10)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_activations_and_final_relu(activation):
    model = mlp.MLP((32, 16), activation, final_activation="relu")
    expected = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}[activation]
    assert isinstance(model.layers[1], expected)
    assert isinstance(model.layers[-1], torch.nn.ReLU)  # the notes' H3 = relu(H2W3 + b3)
    out = model(torch.randn(50, 784, generator=torch.Generator().manual_seed(0)))
    assert (out >= 0).all()
    with pytest.raises(ValueError):
        mlp.MLP(activation="softsign")


def test_initialisation_is_seeded_and_matches_linear_bounds():
    a, b, c = mlp.MLP(seed=1), mlp.MLP(seed=1), mlp.MLP(seed=2)
    for la, lb, lc in zip(a.linears(), b.linears(), c.linears()):
        assert torch.equal(la.weight, lb.weight) and torch.equal(la.bias, lb.bias)
        assert not torch.equal(la.weight, lc.weight)
        bound = 1 / np.sqrt(la.in_features)
        ref = torch.nn.Linear(la.in_features, la.out_features)  # PyTorch's own init: same bound and spread
        assert la.weight.abs().max() <= bound and ref.weight.abs().max() <= bound
        assert abs(la.weight.std().item() - ref.weight.std().item()) < 0.1 * bound


# ------------------------------------------------------------------------ objective and optimisation


def test_mse_objective_is_the_courses_sum_of_squares_over_entries():
    gen = torch.Generator().manual_seed(0)
    pred = torch.randn(7, 10, generator=gen)
    labels = torch.tensor([0, 3, 9, 1, 1, 5, 2])
    onehot = np.eye(10)[labels.numpy()]
    sum_sq = ((pred.numpy() - onehot) ** 2).sum()  # the notes' objective = Σ(pred − Y)²
    assert mlp.objective(pred, labels, "mse").item() == pytest.approx(sum_sq / (7 * 10), rel=1e-6)


def test_cross_entropy_is_mean_negative_log_softmax():
    gen = torch.Generator().manual_seed(1)
    pred = torch.randn(6, 10, generator=gen, dtype=torch.float64)
    labels = torch.tensor([4, 4, 0, 8, 7, 2])
    p = pred.numpy()
    log_softmax = p - np.log(np.exp(p).sum(axis=1, keepdims=True))
    ref = -log_softmax[np.arange(6), labels.numpy()].mean()
    assert mlp.objective(pred, labels, "cross_entropy").item() == pytest.approx(ref, rel=1e-9)
    with pytest.raises(ValueError):
        mlp.objective(pred, labels, "hinge")


def test_train_defaults_are_the_course_recipe():
    params = inspect.signature(mlp.train).parameters
    recipe = asdict(mlp.COURSE_RECIPE)
    for name in ("epochs", "batch_size", "lr", "optimizer", "momentum", "loss", "seed", "schedule"):
        assert params[name].default == recipe[name], name
    assert mlp.COURSE_RECIPE == mlp.TrainConfig(
        hidden=(256, 64), activation="relu", final_activation=None, epochs=3, batch_size=512,
        lr=0.01, optimizer="sgd", momentum=0.9, loss="mse",
    )
    assert (mlp.MEAN, mlp.STD) == (0.1307, 0.3081)
    assert mlp.TrainConfig(hidden=[256, 64]) == mlp.COURSE_RECIPE  # a widget's list still keys the cache


@pytest.mark.slow
def test_one_full_batch_step_is_gradient_descent_by_autograd():
    """One SGD step (momentum buffer still empty) on the whole set = W − lr·∂objective/∂W, by autograd."""
    data = tiny_data("synthetic-step", n=32)
    model = mlp.MLP((16, 8))
    reference = mlp.MLP((16, 8))
    x = (torch.as_tensor(data.train_images, dtype=torch.float32).reshape(32, 784) / 255 - 0.1307) / 0.3081
    y = torch.nn.functional.one_hot(torch.as_tensor(data.train_labels), 10).float()
    loss = ((reference(x) - y) ** 2).sum() / (32 * 10)
    grads = torch.autograd.grad(loss, list(reference.parameters()))
    history = mlp.train(model, data, epochs=1, batch_size=32, lr=0.05)
    assert len(history) == 1 and history.loss[0] == pytest.approx(loss.item(), rel=1e-5)
    for p, p0, g in zip(model.parameters(), reference.parameters(), grads):
        torch.testing.assert_close(p.detach(), p0.detach() - 0.05 * g, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_each_optimizer_lowers_the_loss(digits, optimizer):
    lr = {"sgd": 0.05, "adam": 0.002, "rmsprop": 0.001}[optimizer]
    model = mlp.MLP((64, 32))
    history = mlp.train(model, digits, epochs=6, batch_size=64, lr=lr, optimizer=optimizer, loss="cross_entropy")
    assert list(history.columns) == ["step", "epoch", "loss"]
    assert history.step.tolist() == list(range(1, len(history) + 1))
    assert history.epoch.iloc[-1] == 6 and history.loss.iloc[-10:].mean() < 0.5 * history.loss.iloc[:3].mean()
    assert mlp.evaluate(model, digits) > 0.85


def test_same_seed_same_history_and_weights(digits):
    config = mlp.TrainConfig(hidden=(32, 16), epochs=2, batch_size=128, lr=0.002, optimizer="adam", seed=3)
    first, second = mlp.train_config(config, digits), mlp.train_config(config, digits)
    pd.testing.assert_frame_equal(first.history, second.history)
    for p, q in zip(first.model.parameters(), second.model.parameters()):
        assert torch.equal(p, q)
    other = mlp.train_config(replace(config, seed=4), digits)
    assert not first.history.loss.equals(other.history.loss)


def test_onecycle_schedule_follows_torch(digits):
    model = mlp.MLP((16, 8))
    lrs: list[float] = []
    original = torch.optim.lr_scheduler.OneCycleLR.step

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        lrs.append(self.optimizer.param_groups[0]["lr"])

    torch.optim.lr_scheduler.OneCycleLR.step = spy
    try:
        mlp.train(model, digits, epochs=2, batch_size=256, lr=0.01, optimizer="adam", schedule="onecycle")
    finally:
        torch.optim.lr_scheduler.OneCycleLR.step = original
    steps = 2 * -(-len(digits.train_images) // 256)
    ref_opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.01)
    ref = torch.optim.lr_scheduler.OneCycleLR(ref_opt, max_lr=0.01, total_steps=steps)
    expected = [ref_opt.param_groups[0]["lr"]]
    for _ in range(steps):
        ref_opt.step()
        ref.step()
        expected.append(ref_opt.param_groups[0]["lr"])
    assert lrs == pytest.approx(expected)  # torch's one-cycle over exactly the batches trained
    used = lrs[:-1]  # the rate each batch ran with: rises towards lr, then anneals to almost nothing
    assert max(used) > 0.009 and used[0] < 0.001 and used[-1] < 1e-6


def test_progress_is_throttled_and_ends_at_one(digits, monkeypatch):
    monkeypatch.setattr(mlp, "PROGRESS_SECONDS", 0.05)
    calls: list[tuple[float, int, float]] = []
    start = time.monotonic()
    history = mlp.train(
        mlp.MLP((32,)), digits, epochs=8, batch_size=16,
        on_progress=lambda frac, hist: calls.append((frac, len(hist), time.monotonic())),
    )
    elapsed = time.monotonic() - start
    assert calls[-1][:2] == (1.0, len(history))
    assert len(calls) <= elapsed / 0.05 + 2 < len(history)  # far fewer calls than batches
    gaps = np.diff([c[2] for c in calls[:-1]])
    assert (gaps >= 0.05 * 0.99).all()
    fractions = [c[0] for c in calls]
    assert fractions == sorted(fractions) and all(0 < f <= 1 for f in fractions)


# ------------------------------------------------------------------------ prediction and files


def test_predict_proba_rows_are_softmax_for_cross_entropy_and_accept_one_image(digits):
    model = mlp.MLP((32,))
    model.loss = "cross_entropy"
    images = digits.test_images[:5] / 255.0
    proba = mlp.predict_proba(model, images)
    assert proba.shape == (5, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    x = (torch.as_tensor(images, dtype=torch.float32).reshape(5, 784) - 0.1307) / 0.3081
    np.testing.assert_allclose(proba, torch.softmax(model(x), 1).detach().numpy(), rtol=1e-5)
    one = mlp.predict_proba(model, images[0])
    assert one.shape == (1, 10)
    np.testing.assert_allclose(one[0], proba[0], rtol=1e-5)
    with pytest.raises(ValueError):
        mlp.predict_proba(model, np.zeros((5, 8, 8)))


def test_evaluate_matches_sklearn_accuracy(digits):
    model = mlp.MLP((32,))
    mlp.train(model, digits, epochs=2, batch_size=64, lr=0.002, optimizer="adam", loss="cross_entropy")
    predicted = mlp.predict_test_set(model, digits)
    assert mlp.evaluate(model, digits) == pytest.approx(accuracy_score(digits.test_labels, predicted))


def test_model_bytes_round_trip_with_weights_only(digits):
    model = mlp.MLP((48, 24), "tanh", final_activation="relu", seed=5)
    blob = mlp.model_to_bytes(model)
    saved = torch.load(io.BytesIO(blob), weights_only=True)  # plain tensors and strings only
    assert set(saved) == {"state_dict", "hidden", "conv", "activation", "final_activation", "loss"}
    back = mlp.model_from_bytes(blob)
    assert back.hidden == (48, 24) and back.activation == "tanh" and back.final_activation == "relu"
    images = digits.test_images[:20] / 255.0
    np.testing.assert_array_equal(mlp.predict_proba(back, images), mlp.predict_proba(model, images))


def test_model_from_bytes_rejects_other_files():
    buf = io.BytesIO()
    torch.save({"state_dict": {}, "hidden": [10**9], "activation": "relu", "final_activation": None}, buf)
    for blob in (b"not a model", buf.getvalue(), mlp.model_to_bytes(mlp.MLP((8,)))[:100]):
        with pytest.raises(ValueError, match="not a model saved by this app"):
            mlp.model_from_bytes(blob)


# ------------------------------------------------------------------------ a class at once


def test_identical_concurrent_requests_train_once(monkeypatch):
    data = tiny_data("synthetic-cache-same")
    config = mlp.TrainConfig(hidden=(8,), epochs=1, batch_size=16, seed=11)
    calls: list[int] = []
    real = mlp.train_config

    def counting(cfg, d, on_progress=None, **kw):
        calls.append(1)
        time.sleep(0.3)  # keep the first training running while the others arrive
        return real(cfg, d, on_progress, **kw)

    monkeypatch.setattr(mlp, "train_config", counting)
    results: list[mlp.TrainedModel] = []
    ends: list[float] = []
    barrier = threading.Barrier(12)

    def student() -> None:
        barrier.wait()
        results.append(mlp.train_cached(config, data, on_progress=lambda f, h: ends.append(f)))

    threads = [threading.Thread(target=student) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(calls) == 1 and len(results) == 12
    assert all(r is results[0] for r in results)
    assert ends.count(1.0) == 12  # everyone's progress bar finishes
    assert mlp.train_cached(config, data) is results[0] and len(calls) == 1
    assert results[0].source == "synthetic-cache-same" and results[0].config == config


def test_different_requests_do_not_wait_for_each_other(monkeypatch):
    data = tiny_data("synthetic-cache-diff")
    slow = mlp.TrainConfig(hidden=(8,), epochs=1, batch_size=16, seed=21)
    quick = replace(slow, seed=22)
    release = threading.Event()
    real = mlp.train_config

    def gated(cfg, d, on_progress=None, **kw):
        if cfg == slow:
            assert release.wait(30)
        return real(cfg, d, on_progress, **kw)

    monkeypatch.setattr(mlp, "train_config", gated)
    blocked = threading.Thread(target=mlp.train_cached, args=(slow, data))
    blocked.start()
    time.sleep(0.1)
    assert mlp.train_cached(quick, data).config == quick  # returns while the slow one is still training
    assert blocked.is_alive()
    release.set()
    blocked.join(30)
    assert not blocked.is_alive()


def test_cache_key_includes_the_data_source():
    config = mlp.TrainConfig(hidden=(8,), epochs=1, batch_size=16, seed=31)
    a = mlp.train_cached(config, tiny_data("synthetic-source-a"))
    b = mlp.train_cached(config, tiny_data("synthetic-source-b", seed=1))
    assert a is not b and (a.source, b.source) == ("synthetic-source-a", "synthetic-source-b")


def test_at_most_max_concurrent_trainings_run_at_once(monkeypatch):
    """Thirty Train clicks queue on the semaphore: never more than MAX_CONCURRENT_TRAININGS at a time."""
    active, peak, lock = [0], [0], threading.Lock()

    class CountingSlots(threading.BoundedSemaphore):
        def __enter__(self):
            super().__enter__()
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])

        def __exit__(self, *exc):
            with lock:
                active[0] -= 1
            return super().__exit__(*exc)

    monkeypatch.setattr(mlp, "_TRAINING_SLOTS", CountingSlots(2))
    real_objective = mlp.objective

    def slow_objective(*args):
        time.sleep(0.02)  # long enough that the trainings overlap
        return real_objective(*args)

    monkeypatch.setattr(mlp, "objective", slow_objective)
    data = tiny_data("synthetic-slots", n=32)
    threads = [
        threading.Thread(target=mlp.train, args=(mlp.MLP((8,)), data), kwargs={"epochs": 1, "batch_size": 8})
        for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert peak[0] == 2 and active[0] == 0


def test_thread_policy_is_applied():
    mlp.train(mlp.MLP((8,)), tiny_data("synthetic-threads"), epochs=1, batch_size=64)
    assert torch.get_num_threads() == mlp.TORCH_THREADS
    assert mlp.MAX_CONCURRENT_TRAININGS >= 1


# ------------------------------------------------------------------------ the real MNIST


@pytest.fixture(scope="module")
def real() -> mnist.MnistData:
    """The real 60k/10k MNIST from $MNIST_DIR, or skip."""
    return mnist.load_mnist(mnist_dir())


@pytest.mark.slow
@pytest.mark.mnist
def test_course_recipe_on_real_mnist(real):
    """The course's code, 3 epochs: about 0.886 test accuracy (the issue's figure), at least 0.87."""
    trained = mlp.train_config(mlp.COURSE_RECIPE, real)
    assert trained.history.epoch.max() == 3 and len(trained.history) == 3 * 118
    assert trained.accuracy >= 0.87
    assert trained.history.loss.iloc[-20:].mean() < 0.5 * trained.history.loss.iloc[:5].mean()


@pytest.mark.mnist
def test_one_epoch_reaches_the_reduced_bar_on_real_mnist(real):
    """One epoch of the same network with Adam and cross-entropy passes the issue's reduced bar of 0.85."""
    config = replace(mlp.COURSE_RECIPE, epochs=1, optimizer="adam", lr=0.001, loss="cross_entropy")
    assert mlp.train_config(config, real).accuracy >= 0.85


def test_cross_entropy_outputs_are_read_through_softmax():
    scores = np.array([[2.0, -1.0, 0.5, 3.0, 0.0, 0.0, -2.0, 1.0, 0.1, 0.2]])
    np.testing.assert_allclose(
        mlp.probabilities_from_scores(scores, "cross_entropy"),
        torch.softmax(torch.tensor(scores), dim=1).numpy(),
        rtol=1e-12,
    )


def test_mse_outputs_are_the_probabilities_themselves():
    """MSE against one-hot targets trains each output to estimate its class's probability."""
    sure = np.eye(10)[3]
    np.testing.assert_allclose(mlp.probabilities_from_scores(sure, "mse")[0], sure)  # not squashed to 23 %
    mixed = np.array([0.6, 0.3, -0.2, 0.1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(mlp.probabilities_from_scores(mixed, "mse")[0, :4], [0.6, 0.3, 0.0, 0.1])
    doubtful = -np.arange(10.0)  # nothing positive: softmax keeps the order and shows the doubt
    np.testing.assert_allclose(
        mlp.probabilities_from_scores(doubtful, "mse")[0], torch.softmax(torch.tensor(doubtful), 0).numpy()
    )
    with pytest.raises(ValueError, match="loss"):
        mlp.probabilities_from_scores(sure, "hinge")


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_predict_proba_reads_outputs_as_the_training_loss_defines_them(digits, loss):
    model = mlp.MLP((16,), seed=3)
    mlp.train(model, digits, epochs=1, batch_size=64, loss=loss)
    assert model.loss == loss
    images = digits.test_images[:20].astype(np.float32) / 255
    with torch.no_grad():
        outputs = model(mlp.normalise(images)).numpy()
    np.testing.assert_allclose(
        mlp.predict_proba(model, images), mlp.probabilities_from_scores(outputs, loss), rtol=1e-5, atol=1e-7
    )
    back = mlp.model_from_bytes(mlp.model_to_bytes(model))
    assert back.loss == loss


# ------------------------------------------------------------------------ issue 12: presets, conv front, augmentation


def test_presets_name_the_three_recipes_and_the_draw_default():
    assert mlp.PRESETS["course"] is mlp.COURSE_RECIPE and mlp.PRESETS["best"] is mlp.BEST_PRESET
    robust = mlp.PRESETS["robust"]
    assert robust.augment > 0 and robust.conv  # trained with distortions, convolutions in front
    assert mlp.DRAW_DEFAULT in mlp.PRESETS and mlp.DRAW_DEFAULT == "robust"
    assert mlp.COURSE_RECIPE.augment == 0 and mlp.COURSE_RECIPE.conv == ()
    assert mlp.TrainConfig(conv=[8, 16]).conv == (8, 16)  # hashable cache key from a widget's list
    for bad in (-0.1, float("nan"), 3.0):
        with pytest.raises(ValueError, match="augment"):
            mlp.TrainConfig(augment=bad)


def test_conv_front_is_torchs_strided_convolutions():
    """The conv front against torch.nn.functional.conv2d with the model's own weights."""
    model = mlp.MLP((64,), conv=(8, 16), seed=3)
    x = torch.randn(5, 28, 28, generator=torch.Generator().manual_seed(0))
    c1, c2 = [m for m in model.features if isinstance(m, torch.nn.Conv2d)]
    h = torch.relu(torch.nn.functional.conv2d(x.reshape(5, 1, 28, 28), c1.weight, c1.bias, stride=2, padding=2))
    h = torch.relu(torch.nn.functional.conv2d(h, c2.weight, c2.bias, stride=2, padding=1))
    assert h.shape == (5, 16, 7, 7)
    torch.testing.assert_close(model(x), model.layers(h.reshape(5, -1)))
    assert [(m.in_features, m.out_features) for m in model.linears()] == [(16 * 49, 64), (64, 10)]
    # seeded like the linears: torch's default bound 1/sqrt(fan_in), from the seed alone
    assert c1.weight.abs().max() <= 1 / 5 and c2.weight.abs().max() <= 1 / np.sqrt(8 * 9)
    torch.testing.assert_close(mlp.MLP((64,), conv=(8, 16), seed=3).state_dict(), model.state_dict())
    with pytest.raises(ValueError, match="conv"):
        mlp.MLP(conv=(8, 16, 32, 64))


def test_plain_mlp_keeps_its_parameter_names():
    """Models saved before the conv front existed still load: the plain network has no new parameters."""
    assert list(mlp.MLP().state_dict()) == [f"layers.{i}.{p}" for i in (0, 2, 4) for p in ("weight", "bias")]


def test_conv_model_round_trips_through_bytes_and_predicts(digits):
    config = replace(mlp.PRESETS["robust"], epochs=1, batch_size=64)
    trained = mlp.train_config(config, digits)
    again = mlp.model_from_bytes(mlp.model_to_bytes(trained.model))
    assert again.conv == (8, 16)
    images = digits.test_images[:20].astype(np.float32) / 255
    np.testing.assert_allclose(mlp.predict_proba(again, images), mlp.predict_proba(trained.model, images), atol=1e-6)
    assert mlp.predict_proba(again, images).sum(axis=1) == pytest.approx(np.ones(20))


def test_augmentation_distorts_half_of_each_batch_and_keeps_the_order(digits):
    x = mlp.normalise(digits.train_images[:100].astype(np.float32) / 255)
    out = mlp._augmented(x, torch.Generator().manual_seed(0), 1.0)
    k = round(100 * mlp.AUGMENTED_SHARE)
    torch.testing.assert_close(out[k:], x[k:])  # the rest as MNIST drew it
    assert (out[:k] - x[:k]).abs().mean(dim=1).min() > 0.01
    # back in [0, 1] pixels, the distorted half is a valid image with full ink
    pixels = out[:k] * mlp.STD + mlp.MEAN
    assert pixels.min() >= -1e-5 and pixels.max() <= 1 + 1e-5
    # the same seed gives the same training; augmentation draws do not change the batch order
    a = mlp.train(mlp.MLP((32,)), digits, epochs=1, batch_size=128, augment=1.0, seed=2)
    b = mlp.train(mlp.MLP((32,)), digits, epochs=1, batch_size=128, augment=1.0, seed=2)
    pd.testing.assert_frame_equal(a, b)
    plain = mlp.train(mlp.MLP((32,)), digits, epochs=1, batch_size=128, seed=2)
    assert not np.allclose(a.loss, plain.loss)


def test_train_cached_trains_the_robust_preset_with_its_augmentation(digits, monkeypatch, tmp_path):
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path))
    seen = []
    real_train = mlp.train

    def spy(model, data, **kwargs):
        seen.append((model.conv, kwargs["augment"]))
        return real_train(model, data, **kwargs)

    monkeypatch.setattr(mlp, "train", spy)
    config = replace(mlp.PRESETS["robust"], epochs=2, batch_size=32)
    trained = mlp.train_cached(config, digits)
    assert seen == [((8, 16), 1.0)]
    assert trained.model.conv == (8, 16) and trained.accuracy > 0.5
    mlp._cache.clear()
    reloaded = mlp.train_cached(config, digits)  # from the disk store, rebuilt with its conv front
    assert seen == [((8, 16), 1.0)] and reloaded.model.conv == (8, 16)


def test_preset_for_resizes_every_preset_for_the_fallback_like_the_course_recipe(digits):
    assert mlp.preset_for("course", digits) == mlp.FALLBACK_RECIPE == mlp.recipe_for(digits)
    robust = mlp.preset_for("robust", digits)
    assert robust == replace(mlp.PRESETS["robust"], batch_size=32, epochs=20)
    full = mnist.MnistData(digits.train_images, digits.train_labels, digits.test_images, digits.test_labels, source="x")
    assert not full.is_fallback and mlp.preset_for("best", full) is mlp.BEST_PRESET
    with pytest.raises(ValueError, match="preset"):
        mlp.preset_for("fastest", digits)
