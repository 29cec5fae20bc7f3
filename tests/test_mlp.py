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
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score

from classroom import models
from classroom.slots import MAX_CONCURRENT_TRAININGS, TrainingSlots
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
        results.append(models.train_cached(config, data, on_progress=lambda f, h: ends.append(f)))

    threads = [threading.Thread(target=student) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(calls) == 1 and len(results) == 12
    assert all(r is results[0] for r in results)
    assert ends.count(1.0) == 12  # everyone's progress bar finishes
    assert models.train_cached(config, data) is results[0] and len(calls) == 1
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
    blocked = threading.Thread(target=models.train_cached, args=(slow, data))
    blocked.start()
    time.sleep(0.1)
    assert models.train_cached(quick, data).config == quick  # returns while the slow one is still training
    assert blocked.is_alive()
    release.set()
    blocked.join(30)
    assert not blocked.is_alive()


def test_cache_key_includes_the_data_source():
    config = mlp.TrainConfig(hidden=(8,), epochs=1, batch_size=16, seed=31)
    a = models.train_cached(config, tiny_data("synthetic-source-a"))
    b = models.train_cached(config, tiny_data("synthetic-source-b", seed=1))
    assert a is not b and (a.source, b.source) == ("synthetic-source-a", "synthetic-source-b")


def test_at_most_max_concurrent_trainings_run_at_once(monkeypatch, tmp_path):
    """Train clicks queue for the training slots: never more than the slots' number at a time."""
    monkeypatch.setenv("TRAINING_SLOTS_DIR", str(tmp_path))
    active, peak, lock = [0], [0], threading.Lock()

    class CountingSlots(TrainingSlots):
        def __enter__(self):
            super().__enter__()
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])

        def __exit__(self, *exc):
            with lock:
                active[0] -= 1
            return super().__exit__(*exc)

    slots = CountingSlots(2)
    real_objective = mlp.objective

    def slow_objective(*args):
        time.sleep(0.02)  # long enough that the trainings overlap
        return real_objective(*args)

    monkeypatch.setattr(mlp, "objective", slow_objective)
    data = tiny_data("synthetic-slots", n=32)
    threads = [
        threading.Thread(target=mlp.train, args=(mlp.MLP((8,)), data), kwargs={"epochs": 1, "batch_size": 8, "slots": slots})
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
    assert MAX_CONCURRENT_TRAININGS >= 1


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


@pytest.mark.slow
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
    config = replace(mlp.PRESETS["robust"], conv=(4, 8), hidden=(32,), epochs=1, batch_size=64)  # its shape, small
    trained = mlp.train_config(config, digits)
    again = mlp.model_from_bytes(mlp.model_to_bytes(trained.model))
    assert again.conv == config.conv and again.conv
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
    # the robust preset's recipe (conv front, augmentation) on a small network: the test is the wiring
    config = replace(mlp.PRESETS["robust"], conv=(4, 8), hidden=(32,), epochs=2, batch_size=32)
    trained = models.train_cached(config, digits)
    assert seen == [(config.conv, 1.0)] and config.conv
    assert trained.model.conv == config.conv and trained.accuracy > 0.5
    models._cache.clear()
    reloaded = models.train_cached(config, digits)  # from the disk store, rebuilt with its conv front
    assert seen == [(config.conv, 1.0)] and reloaded.model.conv == config.conv


def test_preset_for_resizes_every_preset_for_the_fallback_like_the_course_recipe(digits):
    assert mlp.preset_for("course", digits) == mlp.FALLBACK_RECIPE == mlp.recipe_for(digits)
    robust = mlp.preset_for("robust", digits)
    assert robust == replace(mlp.PRESETS["robust"], batch_size=32, epochs=20)
    full = mnist.MnistData(digits.train_images, digits.train_labels, digits.test_images, digits.test_labels, source="x")
    assert not full.is_fallback and mlp.preset_for("best", full) is mlp.BEST_PRESET
    with pytest.raises(ValueError, match="preset"):
        mlp.preset_for("fastest", digits)


# ------------------------------------------------------------------ stopping and timing a training


def test_stop_after_k_batches_returns_what_was_learnt(digits):
    per_epoch = -(-len(digits.train_images) // 64)
    asked = []

    def stop() -> bool:
        asked.append(True)
        return len(asked) > per_epoch

    progress = []
    stopped = mlp.MLP(seed=3)
    history = mlp.train(stopped, digits, epochs=3, batch_size=64, seed=3, should_stop=stop,
                        on_progress=lambda f, h: progress.append(f))
    assert len(history) == per_epoch and history.attrs["stopped"] is True
    assert progress[-1] == pytest.approx(1 / 3)
    # the weights are exactly those of a one-epoch training with the same seed
    reference = mlp.MLP(seed=3)
    full = mlp.train(reference, digits, epochs=1, batch_size=64, seed=3)
    assert full.attrs["stopped"] is False
    pd.testing.assert_frame_equal(history, full)
    for a, b in zip(stopped.state_dict().values(), reference.state_dict().values()):
        assert torch.equal(a, b)
    assert not stopped.training  # left in evaluation mode, ready to predict


def test_stop_before_the_first_batch_trains_nothing(digits):
    model = mlp.MLP(seed=0)
    before = [p.clone() for p in model.parameters()]
    history = mlp.train(model, digits, epochs=2, should_stop=lambda: True)
    assert history.empty and history.attrs["stopped"] is True
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.slow
def test_estimate_is_within_a_factor_of_two_of_a_real_training(digits, monkeypatch):
    """On a machine shared with other busy processes one comparison can land in a burst of load:
    the estimate is measured afresh and compared again, up to three times."""
    config = replace(mlp.FALLBACK_RECIPE, epochs=10)
    mlp.train(mlp.MLP(), digits, epochs=1, should_stop=lambda: True)  # the data's tensors, made once, as on a server
    ratios = []
    for _ in range(3):
        monkeypatch.setattr(mlp, "_BATCH_SECONDS", {})
        estimate = mlp.estimate_seconds(config, len(digits.train_images))
        start = time.perf_counter()
        mlp.train(mlp.MLP(config.hidden), digits, epochs=config.epochs, batch_size=config.batch_size, lr=config.lr)
        ratios.append(estimate / (time.perf_counter() - start))
        if 0.5 <= ratios[-1] <= 2:
            break
    assert 0.5 <= ratios[-1] <= 2, ratios
    again = time.perf_counter()
    twenty = mlp.estimate_seconds(replace(config, epochs=20), len(digits.train_images))
    thirty = mlp.estimate_seconds(replace(config, epochs=30), len(digits.train_images))
    assert thirty - twenty == pytest.approx(twenty - estimate)  # each epoch adds the same batches
    assert time.perf_counter() - again < 0.05  # measured once per architecture


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["fallback", "course"])
def test_a_short_runs_estimate_is_within_a_factor_of_two_of_its_training_and_evaluation(digits, monkeypatch, recipe):
    """A run of one epoch (a few dozen batches) is what the fixed costs dominate: a fresh network's
    first batch and the test-set evaluation after training are counted, so the estimate stays within
    a factor of two of ``train_config``'s whole time (the claim of "mnist.train.estimate")."""
    config = replace(mlp.FALLBACK_RECIPE if recipe == "fallback" else replace(mlp.COURSE_RECIPE, batch_size=64), epochs=1)
    mlp.train(mlp.MLP(), digits, epochs=1, should_stop=lambda: True)  # the data's tensors, made once, as on a server
    ratios = []
    for _ in range(3):  # a burst of load on a shared machine: measure afresh and compare again
        monkeypatch.setattr(mlp, "_BATCH_SECONDS", {})
        estimate = mlp.estimate_seconds(config, len(digits.train_images), test_size=len(digits.test_images))
        start = time.perf_counter()
        mlp.train_config(config, digits)
        ratios.append(estimate / (time.perf_counter() - start))
        if 0.5 <= ratios[-1] <= 2:
            break
    assert 0.5 <= ratios[-1] <= 2, ratios


def test_the_estimate_counts_the_first_batch_once_and_the_evaluation(monkeypatch):
    config = replace(mlp.COURSE_RECIPE, epochs=2, batch_size=100)
    monkeypatch.setattr(mlp, "_timings", lambda config, slots=None: (0.5, 0.01, 1e-4))
    # 2 epochs of 10 batches: the first 0.5 s, 19 more at 0.01 s; then 1,000 test images at 0.1 ms
    assert mlp.estimate_seconds(config, 1000, test_size=1000) == pytest.approx(0.5 + 19 * 0.01 + 0.1)
    assert mlp.estimate_seconds(config, 6000) == pytest.approx(0.5 + 119 * 0.01 + 1000 * 1e-4)  # MNIST's share
    assert mlp.estimate_seconds(config, 0) == 0.0


def test_remaining_time_from_progress():
    assert mlp.remaining_seconds(10.0, 0.25) == pytest.approx(30.0)
    assert mlp.remaining_seconds(0.1, 0.001, estimate=60.0) == pytest.approx(59.9)
    assert mlp.remaining_seconds(0.1, 0.001) is None
    assert mlp.remaining_seconds(5.0, 1.0) == 0.0


# ------------------------------------------------------------------------ what 5c and the quick start say


LOSS_VALUES = st.one_of(st.floats(0, 1e30), st.just(float("nan")), st.just(float("inf")))


def history_of(losses) -> pd.DataFrame:
    return pd.DataFrame({"step": np.arange(1, len(losses) + 1), "epoch": 1, "loss": np.asarray(losses, dtype=np.float64)})


@given(st.lists(LOSS_VALUES, max_size=30))
def test_loss_notes_say_what_the_history_holds(losses):
    notes = mlp.loss_notes(history_of(losses))
    finite = np.isfinite(np.asarray(losses, dtype=np.float64))
    if "no_steps" in notes:  # "no step was trained"
        assert len(losses) == 0
    if "diverged" in notes:  # "the loss blew up (to infinity or NaN)"
        assert not finite.all()
    if "no_loss" in notes:  # "the very first step's loss was not a finite number" (nor any other: nothing to draw)
        assert len(losses) and not finite[0] and not finite.any()
    if len(losses) and not finite.all():
        assert "diverged" in notes, "a blow-up is always said"


@given(st.lists(LOSS_VALUES, min_size=1, max_size=30), st.lists(st.one_of(st.floats(0, 1), st.just(float("nan"))),
                                                                  min_size=1, max_size=20), st.booleans())
def test_the_outcome_says_what_the_run_did(losses, probs, stopped):
    status = mlp.outcome(history_of(losses), np.asarray(probs), stopped=stopped)
    every_number = np.isfinite(losses).all() and np.isfinite(probs).all()
    # "diverged": a loss or an answer is no number; "stopped"/"ok": all are, and Stop ended it or did not
    assert status == ("diverged" if not every_number else "stopped" if stopped else "ok")


@given(st.lists(LOSS_VALUES, min_size=1, max_size=30))
def test_diverged_at_names_the_step_the_training_stopped_on(losses):
    at = mlp.diverged_at(history_of(losses))
    if at is not None:  # "at step {step} the loss became NaN/∞, so the training stopped itself there"
        assert at == len(losses) and not np.isfinite(losses[at - 1]) and np.isfinite(losses[: at - 1]).all()


def test_a_training_that_blows_up_stops_itself_at_that_step(digits):
    """Learning rate 3 (5c's prompt): the training ends at the first step whose loss is no number."""
    config = replace(mlp.COURSE_RECIPE, batch_size=32, epochs=5, lr=3.0)
    trained = mlp.train_config(config, digits)
    losses = trained.history["loss"].to_numpy()
    at = mlp.diverged_at(trained.history)
    assert at is not None and at == len(losses) < mlp.steps_of(config, len(digits.train_images))
    assert np.isfinite(losses[:-1]).all() and not np.isfinite(losses[-1])
    assert not trained.stopped and mlp.outcome(trained.history, mlp.predict_proba(trained.model, digits.test_images[:50] / 255.0),
                                               stopped=False) == "diverged"


@given(st.floats(0, 1e4), st.floats(1e-3, 1e4))
def test_from_cache_only_when_no_training_could_have_been_waited_for(waited, seconds):
    # a request that trains waits at least the training's own time: "from the cache" never says that of it
    if mlp.came_from_cache(waited, seconds):
        assert waited < seconds


def test_a_model_trained_now_is_not_said_to_come_from_the_cache_and_a_second_request_is(digits, monkeypatch, tmp_path):
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "store"))
    config = replace(mlp.FALLBACK_RECIPE, hidden=(24,), seed=5, epochs=3)  # any training will do: a short one
    start = time.perf_counter()
    first = models.train_cached(config, digits)
    assert not mlp.came_from_cache(time.perf_counter() - start, first.seconds)
    start = time.perf_counter()
    second = models.train_cached(config, digits)
    assert second is first and mlp.came_from_cache(time.perf_counter() - start, second.seconds)


def test_the_fallback_note_is_true_the_course_recipe_cannot_learn_in_nine_steps(digits):
    """"3 epochs in batches of 512 are just 9 steps, too few for the course's recipe to learn" (the quick start
    on the fallback; that the resized recipe does learn, above 0.9, is tests/test_pages_mnist_offline.py's)."""
    assert mlp.steps_of(mlp.COURSE_RECIPE, len(digits.train_images)) == 9
    assert mlp.steps_of(mlp.COURSE_RECIPE, mlp.MNIST_TRAIN_IMAGES) == 354
    assert mlp.train_config(mlp.COURSE_RECIPE, digits).accuracy < 0.5


@pytest.mark.slow
@pytest.mark.mnist
def test_5c_prompts_ask_about_what_really_happens_on_mnist(real):
    """"sigmoid instead of ReLU: how much accuracy is lost after 3 epochs?" and "Adam with cross-entropy at
    learning rate 0.001: how much higher is the test accuracy?": on MNIST the first loses, the second gains."""
    course = mlp.train_config(mlp.COURSE_RECIPE, real).accuracy
    sigmoid = mlp.train_config(replace(mlp.COURSE_RECIPE, activation="sigmoid"), real).accuracy
    adam = mlp.train_config(replace(mlp.COURSE_RECIPE, optimizer="adam", loss="cross_entropy", lr=0.001), real).accuracy
    assert sigmoid < course < adam


@given(st.lists(st.one_of(st.floats(0.01, 100), st.just(float("nan"))), min_size=1, max_size=40))
def test_the_loss_charts_caption_says_how_the_chart_is_cut(losses):
    from lessons import clipping
    from lessons import network as nw

    history = history_of(losses)
    cut = mlp.loss_chart_cut(history)
    view, _ = nw.loss_view(history)
    values = np.asarray(losses)
    finite = values[np.isfinite(values)]
    if cut == "capped":  # "the chart stops at 3 times the untrained loss: anything higher is cut"
        cap = nw.LOSS_CAP * finite[0]
        assert finite.max() > cap and view.domain == pytest.approx(clipping.padded(finite.min(), cap, clipping.PAD))
    if cut == "blew_up":  # "a red ✕ marks the step where the loss stopped being a number; the finite losses before it"
        first_bad = int(np.flatnonzero(~np.isfinite(values))[0]) + 1
        assert finite.size and view.domain[1] >= finite.max()
        assert first_bad in view.marks["blew_up_at"].tolist()


# ------------------------------------------------------------------------ 5c's settings table and its codec


def settings_strategy():
    """Any settings 5c's widgets can hold (every option, every range)."""
    fields = {}
    for name, setting in mlp.SETTINGS.items():
        if setting.options is not None:
            fields[name] = st.sampled_from(list(setting.options))
        elif isinstance(setting.default, int):
            fields[name] = st.integers(int(setting.lo), int(setting.hi))
        else:
            fields[name] = st.floats(setting.lo, setting.hi)
    return st.fixed_dictionaries(fields)


@given(settings_strategy())
def test_settings_and_configs_round_trip(settings):
    config = mlp.config_from_settings(settings)
    assert config.hidden == tuple(settings[f"h{i + 1}"] for i in range(settings["layers"]))
    back = mlp.settings_from_config(config)
    used = {k: v for k, v in settings.items() if not (k.startswith("h") and int(k[1:]) > settings["layers"])}
    assert {k: v for k, v in back.items() if k in used} == used
    assert mlp.config_from_settings(back) == config
    # a run posted by 5c, or by the quick start as asdict(config), reads back as the same settings
    assert mlp.config_from_settings(mlp.posted_settings(settings)) == config
    assert mlp.config_from_settings(mlp.posted_settings(asdict(config))) == config


def test_the_settings_tables_defaults_are_the_course_recipe():
    assert mlp.config_from_settings({}) == mlp.COURSE_RECIPE
    assert {name: s.default for name, s in mlp.SETTINGS.items()} == mlp.COURSE_SETTINGS
    best = mlp.settings_from_config(mlp.BEST_PRESET)
    assert all(best[name] in (s.options or [best[name]]) for name, s in mlp.SETTINGS.items()), "the best preset is offered"


@pytest.mark.slow
@pytest.mark.mnist
def test_the_best_recipe_reaches_what_its_button_says(real):
    """"Adam, cross-entropy, a one-cycle learning rate, 5 epochs: ≥ 98% on MNIST" (5c's best-recipe button)."""
    assert mlp.train_config(mlp.BEST_PRESET, real).accuracy >= 0.98
