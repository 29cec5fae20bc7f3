"""Quick start (the ten-minute version): the course's whole MNIST pipeline on one page.

Load the data, train the course's 784-256-64-10 network (``mlp.recipe_for``: the course recipe, resized
only on the small offline set), read the test accuracy, look at six test images with their
predictions (the course's ``plot_image``), then draw your own.
"""

import random
import time

import streamlit as st

from app import classboard, ui
from lessons import mlp

PAGE = "quickstart"
SHOWN = 6  # the course's plot_image shows six images
QUICK_MODEL = "quickstart.model"  # this session's quick-start model (the shared course-recipe model)
QUICK_WAIT = "quickstart.wait"  # seconds this session waited for it (a classmate's model arrives at once)
SETTINGS = {"first": ui.Setting(0, 0, 9_999)}
REPLAY_TEXTS = {"play": "mnist.qs.replay", "pause": "mnist.qs.replay_pause", "speed": "mnist.qs.replay_speed",
                "speed_value": "descent.speed_value"}
REPLAY_SPEED = 3  # 0.25 s a frame: a run's recorded curve in about half a minute


def show_other_images(p: ui.Page, n_test: int) -> None:
    """Button callback: pick six other test images at random."""
    p["first"] = random.randrange(0, max(1, n_test - SHOWN + 1))


def seconds(value: float) -> str:
    return ui.t("mnist.qs.seconds_value", seconds=f"{value:.1f}")


def recipe_text(data, recipe: mlp.TrainConfig) -> str:
    """The recipe as the course writes it, with the numbers this page trains with."""
    head = ui.t("mnist.qs.recipe_head_fallback" if data.is_fallback else "mnist.qs.recipe_head")
    return ui.t("mnist.qs.recipe", head=head, sizes=mlp.network_text(recipe.hidden), lr=f"{recipe.lr:g}",
                momentum=f"{recipe.momentum:g}", batch=recipe.batch_size, epochs=recipe.epochs, mean=mlp.MEAN, std=mlp.STD)


def fallback_note(data, trained) -> str:
    """Why the small offline set trains with other batches and epochs than the course's."""
    course, recipe = mlp.COURSE_RECIPE, trained.config
    return ui.t("mnist.qs.fallback_steps", n_train=f"{len(data.train_images):,}", batch=recipe.batch_size,
                epochs=recipe.epochs, steps=f"{len(trained.history):,}", course_epochs=course.epochs,
                course_batch=course.batch_size, course_steps=mlp.steps_of(course, len(data.train_images)),
                mnist_steps=mlp.steps_of(course, mlp.MNIST_TRAIN_IMAGES))


def replay(p: ui.Page, play: ui.Player, history) -> None:
    """A cached run's loss as it was recorded, step by step at a readable pace; Pause stops it anywhere."""
    last = len(history) - 1
    k = play.step(last)
    button, note = st.columns([1, 3], vertical_alignment="center")
    with button:
        play.controls(last, REPLAY_TEXTS)
    note.caption(ui.t("mnist.qs.replay_note", step=f"{k + 1:,}", steps=f"{last + 1:,}", epoch=int(history["epoch"].iloc[k])))
    ui.show_loss(history.iloc[: k + 1])


def predictions(p: ui.Page, data, trained, last_first: int) -> None:
    """Step ③ and ④: the test accuracy, then six test images captioned with the model's answers."""
    waited = st.session_state.get(QUICK_WAIT, trained.seconds)
    cached = mlp.came_from_cache(waited, trained.seconds)
    if cached and len(trained.history) > 1:  # the class's model: its training, replayed from what it recorded
        st.session_state.setdefault(p.key("speed"), REPLAY_SPEED)
        st.session_state.setdefault(p.key("__replay_step"), len(trained.history) - 1)  # the whole curve until Play
        ui.player(p, replay, trained.history, step_key=p.key("__replay_step"))
    else:
        ui.show_loss(trained.history)

    st.header(ui.t("mnist.qs.step_test"))
    left, right = st.columns(2)
    left.metric(ui.t("mnist.accuracy"), f"{trained.accuracy:.1%}")
    if cached:
        right.metric(ui.t("mnist.qs.time_cached"), seconds(waited),
                     help=ui.t("mnist.qs.time_cached_help", trained=seconds(trained.seconds)))
        st.caption(ui.t("mnist.qs.from_cache", waited=seconds(waited), trained=seconds(trained.seconds)))
    else:
        right.metric(ui.t("mnist.seconds"), seconds(trained.seconds))
    st.caption(ui.t("mnist.qs.accuracy_note", n_test=f"{len(data.test_images):,}"))
    if data.is_fallback:
        st.warning(fallback_note(data, trained))
    classboard.post_run_button(PAGE, mlp.settings_from_config(trained.config), trained.accuracy, trained.seconds)

    st.header(ui.t("mnist.qs.step_predict"))
    pick, other, reset = st.columns([3, 1, 1], vertical_alignment="bottom")
    pick.number_input(ui.t("mnist.qs.first"), min_value=0, max_value=last_first, step=SHOWN, key=p.key("first"))
    other.button(ui.t("mnist.qs.other"), key=p.key("__other"), on_click=show_other_images,
                 args=(p, len(data.test_images)))
    p.reset_button(where=reset)
    images = data.test_images[p["first"] : p["first"] + SHOWN]
    labels = data.test_labels[p["first"] : p["first"] + SHOWN]
    with ui.caught():
        predicted = mlp.predict_proba(trained.model, images / 255.0).argmax(axis=1)
        ui.show_digits(images, [
            ui.t("mnist.prediction_ok" if guess == truth else "mnist.prediction_wrong", predicted=int(guess), true=int(truth))
            for guess, truth in zip(predicted, labels)
        ], width=112, labels=labels, read=predicted)
    st.caption(ui.t("mnist.qs.plot_image"))


with ui.page(PAGE, SETTINGS) as p:
    data = ui.mnist_data()
    last_first = max(0, len(data.test_images) - SHOWN)
    p["first"] = min(p["first"], last_first)  # a URL made on real MNIST may point past the small offline test set
    recipe = mlp.recipe_for(data)

    st.header(ui.t("mnist.qs.step_load"))
    ui.data_banner(data)
    ui.show_digits(data.train_images[:12], [ui.t("mnist.label", digit=int(d)) for d in data.train_labels[:12]], width=56,
                   labels=data.train_labels[:12])

    st.header(ui.t("mnist.qs.step_train", epochs=recipe.epochs))
    action, recipe_col = st.columns([1, 2])
    pressed = action.button(ui.t("mnist.qs.train"), type="primary", key=p.key("__train"), icon="▶️", width="stretch")
    recipe_col.markdown(recipe_text(data, recipe))
    if pressed:
        with ui.caught():
            start = time.perf_counter()
            st.session_state[QUICK_MODEL] = ui.train_live(recipe)
            st.session_state[QUICK_WAIT] = time.perf_counter() - start

    trained = st.session_state.get(QUICK_MODEL)
    if trained is not None and trained.source != data.source:
        trained = None  # trained on data that has since been replaced (e.g. MNIST was downloaded)
    if trained is None:
        action.info(ui.t("mnist.qs.press_train"))
    else:
        predictions(p, data, trained, last_first)

    st.header(ui.t("mnist.qs.step_draw"))
    st.page_link("pages/draw.py", label=ui.t("mnist.qs.draw"), icon="✍️")
    st.page_link("pages/mnist_data.py", label=ui.t("mnist.qs.slow"), icon="🐢")
