"""The on-disk model store shared by worker processes, and the host-wide training slots."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_data

from classroom import models, modelstore
from classroom.slots import TrainingSlots
from lessons import mlp

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def store_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "models"
    monkeypatch.setenv("MODEL_CACHE_DIR", str(folder))
    return folder


def test_key_is_settings_plus_data_identity():
    config = mlp.TrainConfig(hidden=(8,), epochs=1)
    a = tiny_data("src-a")
    assert modelstore.model_key(config, a) == modelstore.model_key(config, tiny_data("src-a"))  # equal content
    assert modelstore.model_key(config, a) != modelstore.model_key(replace(config, seed=1), a)
    assert modelstore.model_key(config, a) != modelstore.model_key(config, tiny_data("src-b"))  # another source
    assert modelstore.model_key(config, a) != modelstore.model_key(config, tiny_data("src-a", seed=3))  # other bytes


def test_round_trip_is_atomic_and_weights_only(store_dir):
    store = modelstore.ModelStore()
    assert store.root == store_dir and store.load("k") is None
    assert store.save("k", {"w": torch.arange(3.0), "name": "x"})
    got = store.load("k")
    assert torch.equal(got["w"], torch.arange(3.0)) and got["name"] == "x"
    assert [p.name for p in store_dir.iterdir() if p.suffix == ".tmp"] == []  # the temporary file was renamed


def test_a_damaged_or_foreign_file_is_a_miss(store_dir):
    store = modelstore.ModelStore()
    store_dir.mkdir(parents=True)
    store.path("bad").write_bytes(b"not a torch file")
    assert store.load("bad") is None

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    torch.save({"format": modelstore.FORMAT, "x": Evil()}, store.path("evil"))
    assert store.load("evil") is None  # weights_only refuses arbitrary objects


def test_an_unwritable_folder_does_not_fail_the_training(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv("MODEL_CACHE_DIR", str(blocker / "models"))
    config = mlp.TrainConfig(hidden=(8,), epochs=1, batch_size=16, seed=91)
    trained = models.train_cached(config, tiny_data("unwritable"))
    assert trained.config == config and np.isfinite(trained.accuracy)


def test_a_restart_finds_the_model_trained(store_dir, monkeypatch):
    data = tiny_data("restart")
    config = mlp.TrainConfig(hidden=(8,), epochs=2, batch_size=16, seed=41)
    first = models.train_cached(config, data)
    monkeypatch.setattr(models, "_cache", type(models._cache)())  # a fresh process: nothing in memory
    calls: list[int] = []
    monkeypatch.setattr(mlp, "train_config", lambda *a, **k: calls.append(1))
    ends: list[float] = []
    again = models.train_cached(config, data, on_progress=lambda f, h: ends.append(f))
    assert calls == [] and ends == [1.0] and again is not first
    for p, q in zip(first.model.parameters(), again.model.parameters()):
        assert torch.equal(p, q)
    assert again.accuracy == first.accuracy and again.model.loss == first.model.loss
    pd_equal = (again.history.to_numpy() == first.history.to_numpy()).all()
    assert pd_equal and list(again.history.columns) == list(first.history.columns)


STUDENT = textwrap.dedent(
    """
    import hashlib, sys, time
    from pathlib import Path
    import numpy as np
    from classroom import models
    from lessons import mlp, mnist

    go = Path(sys.argv[1])
    real = mlp.train_config

    def slow(*args, **kwargs):
        print("TRAINED", flush=True)
        time.sleep(1.0)  # hold the lock while the other process arrives
        return real(*args, **kwargs)

    mlp.train_config = slow
    rng = np.random.default_rng(0)
    data = mnist.MnistData(
        rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), rng.integers(0, 10, 64).astype(np.int64),
        rng.integers(0, 256, (16, 28, 28), dtype=np.uint8), rng.integers(0, 10, 16).astype(np.int64),
        source="two-processes",
    )
    while not go.exists():
        time.sleep(0.01)
    trained = models.train_cached(mlp.TrainConfig(hidden=(8,), epochs=1, batch_size=16, seed=51), data)
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in trained.model.parameters()))
    print("WEIGHTS", digest.hexdigest(), flush=True)
    """
)


@pytest.mark.slow
def test_two_processes_train_one_configuration_once(store_dir, tmp_path):
    go = tmp_path / "go"
    env = {**os.environ, "MODEL_CACHE_DIR": str(store_dir), "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", STUDENT, str(go)], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    time.sleep(4)  # both have imported torch and wait at the start line
    go.touch()
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sum(o.count("TRAINED") for o in outs) == 1, outs
    weights = [line for o in outs for line in o.splitlines() if line.startswith("WEIGHTS")]
    assert len(weights) == 2 and weights[0] == weights[1]
    assert len(list(store_dir.glob("*.pt"))) == 1


# ------------------------------------------------------------------------ training slots


def test_a_lone_training_uses_every_core_and_two_share_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINING_SLOTS_DIR", str(tmp_path))
    slots = TrainingSlots(2)
    with slots:
        assert torch.get_num_threads() == mlp.CORES
    # another process holds a slot: a flock from another open file conflicts as a process's would
    other = os.open(tmp_path / "slot-0", os.O_RDWR)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        with slots:
            assert torch.get_num_threads() == max(1, mlp.CORES // 2)
    finally:
        os.close(other)
    assert torch.get_num_threads() == mlp.TORCH_THREADS


def test_a_training_waits_while_every_slot_on_the_host_is_taken(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINING_SLOTS_DIR", str(tmp_path))
    slots = TrainingSlots(1)
    with slots:
        pass  # creates the slot file
    other = os.open(tmp_path / "slot-0", os.O_RDWR)
    fcntl.flock(other, fcntl.LOCK_EX)
    entered = threading.Event()

    def train() -> None:
        with slots:
            entered.set()

    t = threading.Thread(target=train)
    t.start()
    assert not entered.wait(0.5)  # queued behind the other process
    os.close(other)  # the other process ends (or dies): its slot frees itself
    assert entered.wait(10)
    t.join(10)


def test_shared_array_is_built_once_then_mapped_from_disk(tmp_path):
    built = []

    def make():
        built.append(1)
        return np.arange(12, dtype=np.float32).reshape(3, 4) / 7

    first = modelstore.shared_array("x", make, root=tmp_path)
    second = modelstore.shared_array("x", make, root=tmp_path)
    assert len(built) == 1, "a second reader must map the file, not rebuild the array"
    assert isinstance(second, np.memmap)
    np.testing.assert_array_equal(first, make())
    np.testing.assert_array_equal(second, make())
    second[0, 0] = 99  # copy-on-write: a reader's write never reaches the shared file
    np.testing.assert_array_equal(modelstore.shared_array("x", make, root=tmp_path), make())


def test_shared_array_rebuilds_a_damaged_file_and_survives_an_unwritable_folder(tmp_path):
    make = lambda: np.ones((5, 2), dtype=np.float32)
    (tmp_path / "y.f32").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00garbage")
    np.testing.assert_array_equal(modelstore.shared_array("y", make, root=tmp_path), make())
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    np.testing.assert_array_equal(modelstore.shared_array("z", make, root=blocked), make())


def test_a_trained_data_sets_images_are_mapped_from_one_shared_file(store_dir):
    """What a class trains on is normalised once per host: the training's tensors are the store's file,
    mapped, and equal to the course's normalisation done in memory."""
    data = tiny_data("shared-images")
    models.train_cached(mlp.TrainConfig(hidden=(8,), epochs=1, batch_size=16, seed=61), data)
    stem = f"images-{modelstore.data_identity(data)}"
    assert sorted(p.name for p in store_dir.glob("*.f32")) == [f"{stem}-test.f32", f"{stem}-train.f32"]
    x_train, _, x_test, _ = mlp._tensors(data)
    mapped = modelstore.shared_array(f"{stem}-train", lambda: pytest.fail("the file must be mapped, not rebuilt"))
    assert isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(x_train.numpy(), mapped)
    torch.testing.assert_close(x_train, mlp.normalise(data.train_images / 255.0), rtol=0, atol=1e-6)
    torch.testing.assert_close(x_test, mlp.normalise(data.test_images / 255.0), rtol=0, atol=1e-6)
