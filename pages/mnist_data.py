"""Lesson 5a, the MNIST data: the real count of each digit, a grid of samples per digit, the mean images."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app import ui
from lessons import mnist
from lessons import network as nw

PAGE = "mnist_data"
SPLITS = ("train", "test")
SETTINGS = {
    "split": ui.Setting("train", options=SPLITS),
    "per_digit": ui.Setting(10, 1, 20),
}
NOTES_PER_DIGIT = 7_000  # the notes: "every digit has 7000 images"


@st.cache_resource(show_spinner=False, max_entries=4)
def mean_pictures(source: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The split's mean image and each digit's, once per data source (shared by every student)."""
    data = ui.mnist_data()
    overall = mnist.mean_image(data, split=split)
    per_digit = np.stack([mnist.mean_image(data, d, split=split) for d in range(10)])
    return nw.to_uint8(overall), nw.to_uint8(per_digit)


PRESETS = [
    ui.Preset("mnist.data.try_test", {"split": "test", "per_digit": 20}),
    ui.Preset("mnist.data.try_one", {"split": "train", "per_digit": 1}),
]


def controls(p: ui.Page) -> None:
    """Which split to show, and how many samples of each digit."""
    columns = st.columns([2, 3, 1], vertical_alignment="bottom")
    columns[0].segmented_control(
        ui.t("mnist.data.split"),
        SPLITS,
        format_func={s: ui.t(f"mnist.data.split_{s}") for s in SPLITS}.get,
        required=True,
        key=p.key("split"),
    )
    columns[1].slider(ui.t("mnist.data.per_digit"), 1, 20, key=p.key("per_digit"))
    p.reset_button(where=columns[2])


def counts_section(data) -> None:
    """How many images of each digit the training and test sets really hold."""
    st.subheader(ui.t("mnist.data.counts"))
    train_counts = mnist.class_counts(data, "train")
    test_counts = mnist.class_counts(data, "test")
    counts = pd.DataFrame(
        {
            "digit": np.arange(10),
            ui.t("mnist.data.split_train"): train_counts,
            ui.t("mnist.data.split_test"): test_counts,
        }
    )
    long = counts.melt("digit", var_name="split", value_name="count")
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("digit:O", title=ui.t("mnist.data.digit"), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("count:Q", title=ui.t("mnist.data.count"), stack=True),
            color=alt.Color("split:N", title=None, scale=alt.Scale(range=["#d9480f", "#f59f00"])),
            order=alt.Order("split:N", sort="descending"),
            tooltip=[
                alt.Tooltip("digit:O", title=ui.t("mnist.data.digit")),
                alt.Tooltip("split:N", title=ui.t("mnist.data.split")),
                alt.Tooltip("count:Q", title=ui.t("mnist.data.count"), format=","),
            ],
        )
    )
    layers = [bars]
    if not data.is_fallback:  # the notes' 7,000 is about real MNIST; it would dwarf the small fallback
        notes = alt.Chart(pd.DataFrame({"y": [NOTES_PER_DIGIT], "label": [ui.t("mnist.data.notes_line")]}))
        layers.append(notes.mark_rule(strokeDash=[6, 4], color="#555").encode(y="y:Q", tooltip=alt.Tooltip("label:N", title=" ")))
    ui.show_chart(alt.layer(*layers).properties(height=300))
    total = train_counts + test_counts
    st.markdown(
        ui.t(
            "mnist.data.counts_note_fallback" if data.is_fallback else "mnist.data.counts_note",
            most=int(total.argmax()),
            most_n=f"{int(total.max()):,}",
            least=int(total.argmin()),
            least_n=f"{int(total.min()):,}",
            total=f"{int(total.sum()):,}",
        )
    )
    with st.expander(ui.t("mnist.data.table")):
        st.dataframe(counts.assign(**{ui.t("mnist.data.total"): total}), hide_index=True)


def samples_section(data, split: str, per_digit: int) -> None:
    """A grid: one row per digit, ``per_digit`` images in each."""
    st.subheader(ui.t("mnist.data.samples", k=per_digit))
    samples = mnist.samples_per_digit(data, per_digit, split)
    grid = np.zeros((10, per_digit, 28, 28), dtype=np.uint8)  # black where a digit has fewer images
    for digit, images in samples.items():
        grid[digit, : len(images)] = images
    st.image(nw.upscale(nw.tile(grid.reshape(-1, 28, 28), cols=per_digit, pad=2, fill=128), 2), width=min(60 * per_digit, 900), output_format="PNG")
    st.caption(ui.t("mnist.data.samples_note"))


def means_section(data, split: str) -> None:
    """The mean image of the split and of each digit."""
    st.subheader(ui.t("mnist.data.mean"))
    overall, per_digit_means = mean_pictures(data.source, split)
    ui.show_digits(
        np.concatenate([overall[None], per_digit_means]),
        [ui.t("mnist.data.mean_all"), *(ui.t("mnist.label", digit=d) for d in range(10))],
        width=72,
    )
    st.markdown(ui.t("mnist.data.mean_note"))


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    data = ui.mnist_data()
    ui.data_banner(data)
    controls(p)
    counts_section(data)
    samples_section(data, p["split"], p["per_digit"])
    means_section(data, p["split"])
