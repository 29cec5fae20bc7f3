"""The quick start's replay: a model from the class's cache arrives at once, so the page offers its
recorded loss curve played back with the shared player, at a readable pace, stoppable; a model
trained in this request shows its curve as trained, with no replay."""

from __future__ import annotations

import re

import pytest
from conftest import OneThread, open_page

from app import player, ui
from app.i18n import STRINGS
from lessons import mlp, mnist

TIMEOUT = 180
PLAY = "quickstart.__play"
STEP = "quickstart.__replay_step"


@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """No MNIST anywhere: the app trains on the small offline digits (fast, and real), on one thread
    (on a machine busy with other tests, a small network trains faster on one than on several)."""
    from classroom import models

    monkeypatch.setattr(models, "SLOTS", OneThread())
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    monkeypatch.setattr(mnist, "DEFAULT_ROOT", tmp_path / "no-mnist-here")
    ui.mnist_data.clear()
    data = mnist.load_mnist()
    assert data.is_fallback
    yield data
    ui.mnist_data.clear()


def note_steps(at) -> tuple[int, int]:
    """(step shown, steps recorded) from the replay's caption."""
    before = STRINGS["mnist.qs.replay_note"]["en"].split("{step}")[0]
    caption = next(c.value for c in at.caption if c.value.startswith(before))
    shown, total = re.search(r"step ([\d,]+) of ([\d,]+)", caption).groups()
    return int(shown.replace(",", "")), int(total.replace(",", ""))


def quickstart_with(trained, waited: float):
    at = open_page("pages/quickstart.py", lang="en", timeout=TIMEOUT)
    at.session_state["quickstart.model"] = trained
    at.session_state["quickstart.wait"] = waited
    return at.run()


def test_a_cached_model_offers_a_replay_of_its_recorded_curve_that_plays_and_stops(no_mnist):
    trained = ui.trained_model(mlp.recipe_for(no_mnist))
    steps = len(trained.history)
    assert steps > 1
    at = quickstart_with(trained, waited=0.01 * trained.seconds)  # from the cache: no training waited for
    assert not at.exception
    assert at.button(key=PLAY).label == STRINGS["mnist.qs.replay"]["en"]
    assert note_steps(at) == (steps, steps)  # the whole recorded curve until Play is pressed
    assert at.session_state["quickstart.speed"] == 3  # about half a minute for the whole run
    assert player.frame_seconds(at.session_state["quickstart.speed"]) * len(player.play_steps(steps - 1)) <= 60

    at.button(key=PLAY).click().run()  # Play: from the first step, one frame a run
    assert not at.exception
    assert at.button(key=PLAY).label == STRINGS["mnist.qs.replay_pause"]["en"]
    shown = [note_steps(at)[0]]
    for _ in range(4):
        at.run()
        shown.append(note_steps(at)[0])
    assert shown == sorted(shown) and shown[0] < shown[-1] < steps, shown
    assert all(k - 1 in set(player.play_steps(steps - 1)) for k in shown)  # the player's own frames

    at.button(key=PLAY).click().run()  # Stop: it stays where it was
    stopped = note_steps(at)[0]
    assert at.button(key=PLAY).label == STRINGS["mnist.qs.replay"]["en"]
    at.run()
    at.run()
    assert note_steps(at)[0] == stopped < steps
    assert at.session_state[STEP] == stopped - 1


def test_a_model_trained_in_this_request_shows_its_curve_without_a_replay(no_mnist):
    trained = ui.trained_model(mlp.recipe_for(no_mnist))
    at = quickstart_with(trained, waited=trained.seconds + 0.1)  # the wait was the training
    assert not at.exception
    with pytest.raises(KeyError):
        at.button(key=PLAY)
    before = STRINGS["mnist.qs.replay_note"]["en"].split("{step}")[0]
    assert not any(c.value.startswith(before) for c in at.caption)
