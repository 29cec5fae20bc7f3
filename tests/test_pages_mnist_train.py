"""Lesson 5c (pages/mnist_train.py) and the MNIST widgets it shares: a training beside the page with
an estimate, the time left and a Stop (a stopped model is never the class's), a diverged model
flagged and never handed to the draw page, this session's runs compared, the take-home program,
the class board, every setting through the URL, and the data banner that shows no server path."""

import gzip
import random
from dataclasses import asdict, replace

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import open_page
from hypothesis import given
from hypothesis import strategies as hs
from streamlit import dataframe_util

import export
from app import classboard, take_home, ui
from app import mnist_widgets as mw
from app.charts import mnist_train as charts
from app.i18n import STRINGS
from app.runlog import RunLog
from classroom import jobs, models, modelstore
from lessons import mlp, mnist
from lessons import network as nw

pytestmark = pytest.mark.slow  # whole pages in AppTest: left out of make test-fast

PAGE = "pages/mnist_train.py"
TIMEOUT = 180
TINY = {"layers": "1", "h1": "16", "epochs": "1"}


def en(key: str, **fields) -> str:
    return STRINGS[key]["en"].format(**fields)


def no_exception(at):
    assert not at.exception, [e.value for e in at.exception]


def texts(at) -> list[str]:
    return [el.value for kind in ("markdown", "caption", "success", "info", "warning", "error") for el in getattr(at, kind)]


def chart_frames(at) -> list[pd.DataFrame]:
    return [dataframe_util.convert_arrow_bytes_to_pandas_df(ds.data.data)
            for chart in at.get("vega_lite_chart") for ds in chart.proto.datasets]


@pytest.fixture
def digits(tmp_path, monkeypatch):
    """No MNIST anywhere: the page trains on scikit-learn's 1,437 digits, in a moment."""
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    monkeypatch.setattr(mnist, "DEFAULT_ROOT", tmp_path / "no-mnist-here")
    ui.mnist_data.clear()
    data = mnist.load_mnist()
    assert data.is_fallback
    yield data
    ui.mnist_data.clear()


def train(at, timeout: float = TIMEOUT):
    """Press Train, let the training thread finish, and rerun as the panel's poll would."""
    at.button(key="mnist_train.__train").click().run()
    no_exception(at)
    if "mnist_train.__job" in at.session_state:  # else it ended before the rerun that followed the click
        assert at.session_state["mnist_train.__job"].wait(timeout), "the training did not end in time"
        at.run()
    no_exception(at)
    return at.session_state["mnist_train.__last"]


# ------------------------------------------------------------------ lessons: stop and problem codes


@pytest.mark.slow
def test_a_stopped_training_is_returned_flagged_and_never_cached(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "store"))
    config = mlp.TrainConfig(hidden=(16,), epochs=2, batch_size=64, seed=11)
    per_epoch = -(-len(digits.train_images) // 64)
    asked = []
    stopped = models.train_cached(config, digits, should_stop=lambda: asked.append(1) or len(asked) > per_epoch)
    assert stopped.stopped and len(stopped.history) == per_epoch
    # the partial model is exactly a one-epoch training of the same settings
    one = mlp.train_config(replace(config, epochs=1), digits)
    assert not one.stopped
    for a, b in zip(stopped.model.state_dict().values(), one.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert stopped.accuracy == pytest.approx(one.accuracy)
    # neither the process nor the disk store kept it: the next request trains the whole run
    assert modelstore.ModelStore().load(modelstore.model_key(config, digits)) is None
    full = models.train_cached(config, digits)
    assert not full.stopped and len(full.history) == 2 * per_epoch
    assert models.train_cached(config, digits) is full  # the finished one is the class's
    assert modelstore.ModelStore().load(modelstore.model_key(config, digits)) is not None


def idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(folder, n=12):
    rng = np.random.default_rng(0)
    files = {"train-images-idx3-ubyte": rng.integers(0, 256, (n, 28, 28)), "train-labels-idx1-ubyte": rng.integers(0, 10, n),
             "t10k-images-idx3-ubyte": rng.integers(0, 256, (n, 28, 28)), "t10k-labels-idx1-ubyte": rng.integers(0, 10, n)}
    for name, array in files.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(idx(array)))
    return {name: folder / f"{name}.gz" for name in files}


@pytest.mark.parametrize("damage, code", [
    ("missing", "missing_file"), ("gzip", "bad_gzip"), ("short", "not_idx"), ("cut", "wrong_size"),
    ("swapped", "wrong_kind"), ("label", "bad_label"), ("count", "count_mismatch"), ("side", "not_28x28"),
])
def test_every_mnist_problem_has_a_code_the_page_words(tmp_path, damage, code):
    paths = write_mnist(tmp_path)
    images, labels = paths["train-images-idx3-ubyte"], paths["train-labels-idx1-ubyte"]
    if damage == "missing":
        labels.unlink()
    elif damage == "gzip":
        images.write_bytes(images.read_bytes()[:40])
    elif damage == "short":
        images.write_bytes(gzip.compress(b"\x00\x00"))
    elif damage == "cut":
        images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-5]))
    elif damage == "swapped":
        images.write_bytes(labels.read_bytes())
    elif damage == "label":
        labels.write_bytes(gzip.compress(idx(np.full(12, 11))))
    elif damage == "count":
        labels.write_bytes(gzip.compress(idx(np.zeros(5))))
    elif damage == "side":
        images.write_bytes(gzip.compress(idx(np.zeros((12, 27, 28)))))
    data = mnist.load_mnist(tmp_path)
    assert data.is_fallback and data.problem_code == code, data.problem
    assert code in mnist.PROBLEMS
    assert data.problem  # the full message stays for the server's log


def test_no_mnist_at_all_is_not_found(tmp_path):
    assert mnist.load_mnist(tmp_path / "nowhere").problem_code == "not_found"
    assert mnist.load_mnist(tmp_path / "nowhere").problem_code in mnist.PROBLEMS


def test_every_problem_code_is_worded_in_both_languages():
    for code in mnist.PROBLEMS:
        assert {"zh", "en"} <= set(STRINGS[f"mnist.problem.{code}"])


# ------------------------------------------------------------------ the data banner


def test_the_banner_names_no_server_path_and_words_the_reason(digits):
    at = open_page(PAGE, lang="zh", timeout=TIMEOUT)
    no_exception(at)
    body = " ".join(texts(at))
    assert str(mnist.DEFAULT_ROOT.parent) not in body and "/" not in "".join(w.value for w in at.warning)
    reason = STRINGS[f"mnist.problem.{digits.problem_code}"]["zh"]
    assert STRINGS["mnist.source_problem"]["zh"].format(problem=reason) in body
    assert digits.problem not in body  # the English message with its folder stays in the server's log


def test_real_mnist_banner_has_no_folder(monkeypatch):
    from conftest import mnist_dir

    monkeypatch.setenv("MNIST_DIR", str(mnist_dir()))
    ui.mnist_data.clear()
    try:
        at = open_page(PAGE, lang="en", timeout=TIMEOUT)
        no_exception(at)
        assert "✅ " + en("mnist.source_real", n_train="60,000", n_test="10,000") in texts(at)
        assert str(mnist_dir()) not in " ".join(texts(at))
    finally:
        ui.mnist_data.clear()


# ------------------------------------------------------------------ the page: first screen and URL


def test_the_page_opens_with_the_train_button_beside_its_settings_and_an_empty_chart(digits):
    at = open_page(PAGE, lang="en", timeout=TIMEOUT)
    no_exception(at)
    assert en("mnist.train.press_train") in [i.value for i in at.info]
    assert at.button(key="mnist_train.__train").disabled is False
    frames = chart_frames(at)
    assert frames and frames[0]["note"].tolist() == [en("mnist.train.chart_here")]
    captions = [c.value for c in at.caption]
    steps = 3 * -(-len(digits.train_images) // 512)
    assert any(c in captions for c in (en("mnist.train.estimating", steps=f"{steps:,}"),)) or any(
        c.endswith(f"({steps:,} steps)") for c in captions)


OPTIONS = {
    "layers": [1, 2, 3], "h1": [16, 1024], "h2": [32, 512], "h3": [16, 128], "activation": list(mlp.ACTIVATIONS),
    "final": ["none", *mlp.ACTIVATIONS], "loss": list(mlp.LOSSES), "optimizer": list(mlp.OPTIMIZERS),
    "lr": [0.0001, 0.0003, 3.0], "momentum": [0.0, 0.35, 0.99], "schedule": ["none", "onecycle"],
    "batch": [32, 2048], "epochs": [1, 20], "seed": [0, 9999],
}


@pytest.mark.parametrize("seed", [0, 1])
def test_every_setting_round_trips_through_the_url(digits, seed):
    """Set every setting on one page, read the URL it writes, and open a fresh page from that URL."""
    assert set(OPTIONS) == set(export.SETTINGS["mnist_train"])  # every one of 5c's settings
    rng = random.Random(seed)
    chosen = {name: rng.choice([v for v in values if v != export.defaults("mnist_train")[name]] or values)
              for name, values in OPTIONS.items()}
    at = open_page(PAGE, lang="en", timeout=TIMEOUT)
    for name, value in chosen.items():
        at.session_state[f"mnist_train.{name}"] = value
    at.run()
    no_exception(at)
    url = {k: v for k, v in at.query_params.items() if k != "lang"}
    url = {k: v[0] if isinstance(v, list) else v for k, v in url.items()}
    assert set(url) == set(chosen), "every non-default setting is in the URL"
    fresh = open_page(PAGE, lang="en", query=url, timeout=TIMEOUT)
    no_exception(fresh)
    assert {name: fresh.session_state[f"mnist_train.{name}"] for name in chosen} == chosen


def test_the_class_boards_best_run_link_loads_exactly_its_settings(digits):
    """The class page links to 5c with ``classboard.train_page_params`` of a posted run: 5c trains that config."""
    config = mlp.TrainConfig(hidden=(512, 32), activation="tanh", final_activation="sigmoid", epochs=7, batch_size=2048,
                             lr=0.0003, optimizer="rmsprop", momentum=0.5, loss="cross_entropy", seed=42, schedule="onecycle")
    for settings in (asdict(config),):
        at = open_page(PAGE, lang="zh", query=classboard.train_page_params(settings), timeout=TIMEOUT)
        no_exception(at)
        got = {name: at.session_state[f"mnist_train.{name}"] for name in OPTIONS}
        hidden = tuple(got[f"h{i + 1}"] for i in range(got["layers"]))
        assert hidden == config.hidden and got["batch"] == config.batch_size and got["lr"] == config.lr
        assert (got["final"], got["schedule"], got["optimizer"]) == ("sigmoid", "onecycle", "rmsprop")
        assert (got["momentum"], got["epochs"], got["seed"], got["loss"]) == (0.5, 7, 42, "cross_entropy")


# ------------------------------------------------------------------ training, stopping, diverging


def test_training_shows_results_logs_the_run_and_hands_the_model_on(digits):
    at = open_page(PAGE, lang="en", query=TINY, timeout=TIMEOUT)
    last = train(at)
    trained = last["trained"]
    assert trained.config == mlp.TrainConfig(hidden=(16,), epochs=1) and not trained.stopped
    assert at.session_state[ui.SESSION_MODEL] is trained
    status = at.session_state[mw.SESSION_MODEL_STATUS]
    assert status == {"diverged": False, "stopped": False, "accuracy": trained.accuracy, "config": trained.config}
    probs = mlp.predict_proba(trained.model, digits.test_images / 255.0)
    assert trained.accuracy == pytest.approx(float((probs.argmax(1) == digits.test_labels).mean()))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[en("mnist.accuracy")] == f"{trained.accuracy:.2%}"
    assert trained.seconds < 10 and metrics[en("mnist.seconds")] == en("mnist.duration_s", s=f"{max(trained.seconds, 0.1):.1f}")
    # the loss chart: whole-number steps, the first to the last trained
    loss = next(f for f in chart_frames(at) if "epoch" in f and "loss" in f)
    assert loss["step"].dtype.kind == "i" and loss["step"].max() == len(trained.history)
    # the comparison table has the run; a second run with other settings adds a row and a curve
    assert len(at.dataframe[0].value) == 1
    at.select_slider(key="mnist_train.lr").set_value(0.1).run()
    train(at)
    table = at.dataframe[0].value
    assert len(table) == 2 and table[en("mnist.train.col.lr")].tolist() == ["0.1", "0.01"]  # newest first
    overlay = next(f for f in chart_frames(at) if "run" in f)
    assert set(overlay["run"]) == {1, 2} and np.isfinite(overlay["value"]).all()
    # the mistakes' captions are short: "true → predicted · confidence"
    captions = [img.caption for el in at.get("image") for img in el.proto.imgs if " → " in img.caption]
    assert captions and all(len(c) <= 12 for c in captions)
    at.button(key="mnist_train.__clear_runs").click().run()
    assert not at.dataframe


def test_a_stopped_run_shows_what_it_has_flagged(digits, monkeypatch):
    """Stop pressed while the training runs: the model learnt so far is shown, marked as stopped,
    and not offered to the class board."""
    at = open_page(PAGE, lang="en", query={**TINY, "epochs": "20", "batch": "32"}, timeout=TIMEOUT)
    at.button(key="mnist_train.__train").click().run()
    job = at.session_state["mnist_train.__job"]
    while job.history is None or len(job.history) < 5:
        assert not job.done, "the training ended before it could be stopped"
        job.wait(0.05)
    assert en("mnist.train.stop") in [b.label for b in at.button]
    at.run()  # the panel's poll: the Stop button is there
    at.button(key="mnist_train.__stop").click().run()
    assert job.wait(TIMEOUT)
    at.run()
    no_exception(at)
    last = at.session_state["mnist_train.__last"]
    steps = 20 * -(-len(digits.train_images) // 32)
    assert last["trained"].stopped and 5 <= len(last["trained"].history) < steps
    assert at.session_state[mw.SESSION_MODEL_STATUS]["stopped"] is True
    assert en("mnist.train.stopped_note", done=f"{len(last['trained'].history):,}", steps=f"{steps:,}") in [
        w.value for w in at.warning]
    assert en("mnist.train.post_finished_only") in texts(at)
    assert at.dataframe[0].value[en("mnist.train.col.status")].tolist() == [en("mnist.train.status_stopped")]


@pytest.mark.slow
def test_the_big_lr_preset_diverges_is_flagged_and_never_handed_to_the_draw_page(digits):
    at = open_page(PAGE, lang="zh", timeout=TIMEOUT)
    at.button(key="mnist_train.__preset2").click().run()  # "learning rate 3"
    assert at.select_slider(key="mnist_train.lr").value == 3.0
    at.session_state[ui.SESSION_MODEL] = "an earlier, usable model"
    last = train(at)
    assert last["diverged"] and last["accuracy"] is None
    assert not np.isfinite(last["trained"].history["loss"]).all()
    assert ui.SESSION_MODEL not in at.session_state, "a diverged model is never left for the draw page"
    status = at.session_state[mw.SESSION_MODEL_STATUS]
    assert status["diverged"] is True and status["accuracy"] is None
    zh = {key: STRINGS[key]["zh"] for key in ("mnist.diverged", "mnist.train.broken_model")}
    assert zh["mnist.diverged"] in [e.value for e in at.error]
    assert zh["mnist.train.broken_model"] in [w.value for w in at.warning]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[STRINGS["mnist.accuracy"]["zh"]] == "—"
    assert not at.get("image")  # no pictures made of NaN weights
    assert all(np.isfinite(f.select_dtypes("number").to_numpy(dtype=float)).all() for f in chart_frames(at))
    table = at.dataframe[0].value
    assert table[STRINGS["mnist.train.col.accuracy"]["zh"]].tolist() == ["—"]


def test_the_loss_chart_marks_a_blow_up_and_ticks_whole_steps():
    history = pd.DataFrame({"step": np.arange(1, 41), "epoch": np.repeat([1, 2], 20),
                            "loss": np.r_[np.linspace(2.3, 1.5, 30), [1e3, 1e6], [np.nan] * 8]})
    chart = mw.loss_chart(history).to_dict()
    layers = chart["layer"]
    x = layers[0]["encoding"]["x"]
    assert x["axis"]["format"] == "d" and x["scale"]["domain"] == [1, 40]
    y = layers[0]["encoding"]["y"]
    view, _ = nw.loss_view(history)
    assert y["scale"]["domain"] == list(view.domain) and y["scale"]["nice"] is False
    marks = pd.DataFrame(chart["datasets"][layers[2]["data"]["name"]])
    assert marks["blew_up_at"].tolist() == [33]


# ------------------------------------------------------------------ take it home


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_take_home_is_the_course_code_for_the_settings_on_screen(digits, lang):
    at = open_page(PAGE, lang=lang, query={"optimizer": "adam", "lr": "0.001"}, timeout=TIMEOUT)
    no_exception(at)
    at.session_state["mnist_train.__home"] = True  # the program is written only while its expander is open
    at.run()
    settings = {**export.defaults("mnist_train"), "optimizer": "adam", "lr": 0.001}
    code = export.course_code("mnist_train", settings, lang=lang)
    assert code.strip() in [c.value.strip() for c in at.code]
    download = at.get("download_button")[0]
    assert "mnist_train.py" in download.proto.label
    assert take_home.run_hint("mnist_train", lang) in texts(at)


# ------------------------------------------------------------------ the estimate


def test_the_estimate_is_measured_once_and_then_read_at_once(digits):
    config = mlp.TrainConfig(hidden=(16,), epochs=1, batch_size=64)
    first = None
    for _ in range(20):
        first = jobs.estimate_seconds(config, len(digits.train_images))
        if first is not None:
            break
    assert first is not None and first > 0
    assert jobs.estimate_seconds(replace(config, epochs=2), len(digits.train_images)) == pytest.approx(
        models.estimate_seconds(replace(config, epochs=2), len(digits.train_images)))


def test_the_estimate_shown_learns_what_this_servers_whole_trainings_took(monkeypatch):
    """Finished trainings that took twice their timed estimate (a live page and classmates share the CPU
    the timed batches had alone) make the next estimate twice as long; cached, stopped and blown-up
    runs teach nothing, and one odd run moves the median little."""
    from collections import deque
    from types import SimpleNamespace

    from app import mnist_session as session

    monkeypatch.setattr(session, "_ratios", deque(maxlen=session.RATIOS_KEPT))
    monkeypatch.setattr(jobs, "estimate_seconds", lambda config, size, **wait: 8.0)
    data = SimpleNamespace(train_images=np.zeros((10, 28, 28)))
    assert session.estimate(None, data) == pytest.approx(8.0)  # nothing learnt yet
    session.learn_from(8.0, 30.0, whole=False)  # a cached, stopped or diverged run
    session.learn_from(None, 30.0, whole=True)  # no estimate was made
    assert session.scale() == 1.0
    for wall in (16.0, 15.0, 17.0):
        session.learn_from(8.0, wall, whole=True)
    session.learn_from(8.0, 500.0, whole=True)  # one run that waited long for a slot: clipped, and a median
    assert session.scale() == pytest.approx(2.0, rel=0.07)
    assert session.estimate(None, data) == pytest.approx(16.0, rel=0.07)
    for _ in range(2 * session.RATIOS_KEPT):
        session.learn_from(8.0, 8.0, whole=True)
    assert session.scale() == 1.0 and len(session._ratios) == session.RATIOS_KEPT  # bounded, and it follows the server


def test_durations_are_worded_in_the_page_language():
    assert mw.seconds_text(8.24) == STRINGS["mnist.duration_s"]["zh"].format(s="8.2")
    assert mw.seconds_text(200) == STRINGS["mnist.duration_min"]["zh"].format(m=3, s=20)


# ------------------------------------------------------------------ the comparison chart


@given(hs.lists(hs.floats(0.01, 3.0), min_size=2, max_size=30), hs.integers(1, 20), hs.floats(10, 1e30), hs.booleans())
def test_the_comparison_never_draws_a_blow_ups_values(tame, rise, peak, with_tame):
    """A run that blows up (to 1.5e26, then NaN, as lr 3 does) is cut at 3 times its first loss, as the main
    chart cuts it, and marked: it never stretches the y-axis so the other runs lie flat."""
    log = RunLog()
    if with_tame:
        log.add({"lr": 0.01}, results={"status": "ok"}, curve=pd.DataFrame({"step": np.arange(1, len(tame) + 1), "loss": tame}))
    blow = np.r_[np.geomspace(2.3, peak, rise + 1), np.nan]
    blown = log.add({"lr": 3.0}, results={"status": "diverged"},
                    curve=pd.DataFrame({"step": np.arange(1, len(blow) + 1), "loss": blow}))
    view = charts.runs_view(log)
    lows = [*tame, 2.3] if with_tame else [2.3]
    top = max(([min(max(tame), nw.LOSS_CAP * tame[0])] if with_tame else []) + [min(peak, nw.LOSS_CAP * 2.3)])
    assert view.domain[1] <= top + 0.1 * (top - min(lows))  # the caps, and the padding only
    assert np.isfinite(view.frame["value"]).all() and (view.frame["value"] <= view.domain[1]).all()
    marks = view.marks[view.marks["series"] == blown]
    assert len(marks) and marks["shown"].le(view.domain[1]).all()  # the blow-up is marked where it left
