"""Quick start (the ten-minute version): the course's whole MNIST pipeline on one page.

Load the data, train the course's 784-256-64-10 network for 3 epochs, read the test accuracy,
look at six test images with their predictions (the course's ``plot_image``), then draw your own.
"""

import random

import streamlit as st

from lessons import mlp
from pages import ui

PAGE = "quickstart"
SHOWN = 6  # the course's plot_image shows six images
QUICK_MODEL = "quickstart.model"  # this session's quick-start model (the shared course-recipe model)
SETTINGS = {"first": ui.Setting(0, 0, 9_999)}


def show_other_images(n_test: int) -> None:
    """Button callback: pick six other test images at random."""
    ui.apply_values(PAGE, {"first": random.randrange(0, max(1, n_test - SHOWN + 1))})


ui.seed_from_url(PAGE, SETTINGS)
ui.page_header(PAGE)
data = ui.mnist_data()
n_test = len(data.test_images)
last_first = max(0, n_test - SHOWN)
# a URL made on real MNIST may point past the end of the small offline test set
ui.apply_values(PAGE, {"first": min(ui.value(PAGE, "first"), last_first)})

st.header(ui.t("mnist.qs.step_load"))
ui.data_banner(data)
ui.show_digits(data.train_images[:12], [ui.t("mnist.label", digit=int(d)) for d in data.train_labels[:12]], width=64)

st.header(ui.t("mnist.qs.step_train"))
st.markdown(ui.t("mnist.qs.recipe"))
if st.button(ui.t("mnist.qs.train"), type="primary", key="quickstart.__train", icon="▶️"):
    with ui.caught():
        st.session_state[QUICK_MODEL] = ui.train_live(mlp.recipe_for(data))

trained = st.session_state.get(QUICK_MODEL)
if trained is not None and trained.source != data.source:
    trained = None  # trained on data that has since been replaced (e.g. MNIST was downloaded)

if trained is None:
    st.info(ui.t("mnist.qs.press_train"))
else:
    ui.show_loss(trained.history)

    st.header(ui.t("mnist.qs.step_test"))
    left, right = st.columns(2)
    left.metric(ui.t("mnist.accuracy"), f"{trained.accuracy:.1%}")
    right.metric(ui.t("mnist.seconds"), f"{trained.seconds:.1f} s")
    st.caption(ui.t("mnist.qs.accuracy_note", n_test=f"{n_test:,}"))
    if data.is_fallback:
        recipe = trained.config
        st.warning(
            ui.t(
                "mnist.qs.fallback_steps",
                n_train=f"{len(data.train_images):,}",
                batch=recipe.batch_size,
                epochs=recipe.epochs,
                steps=len(trained.history),
            )
        )

    st.header(ui.t("mnist.qs.step_predict"))
    pick, other = st.columns([3, 1], vertical_alignment="bottom")
    pick.number_input(ui.t("mnist.qs.first"), min_value=0, max_value=last_first, step=SHOWN, key=ui.widget_key(PAGE, "first"))
    other.button(ui.t("mnist.qs.other"), key="quickstart.__other", on_click=show_other_images, args=(n_test,))
    first = ui.value(PAGE, "first")
    images = data.test_images[first : first + SHOWN]
    labels = data.test_labels[first : first + SHOWN]
    with ui.caught():
        predicted = mlp.predict_proba(trained.model, images / 255.0).argmax(axis=1)
        ui.show_digits(
            images,
            [
                ui.t("mnist.prediction_ok" if p == y else "mnist.prediction_wrong", predicted=int(p), true=int(y))
                for p, y in zip(predicted, labels)
            ],
            width=112,
        )
    st.caption(ui.t("mnist.qs.plot_image"))

st.header(ui.t("mnist.qs.step_draw"))
st.page_link("pages/draw.py", label=ui.t("mnist.qs.draw"), icon="✍️")
st.page_link("pages/mnist_data.py", label=ui.t("mnist.qs.slow"), icon="🐢")
ui.sync_to_url(PAGE, SETTINGS)
