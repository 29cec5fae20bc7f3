"""Lesson 5a, the MNIST data: the real count of each digit, a grid of samples per digit, the mean images."""

import io

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from app import ui
from app.charts import mnist_data as charts
from lessons import mnist
from lessons import network as nw

PAGE = "mnist_data"
SETTINGS = nw.DATA_SETTINGS
MEAN_PX = 72  # the mean images' shown width


def png(picture: np.ndarray, width: int | None = None) -> bytes:
    """A uint8 picture as PNG bytes, scaled to ``width`` as Streamlit would (bilinear).

    st.image re-encodes on every run what it must scale or convert (a grey array or PNG becomes a
    JPEG unless asked for PNG): the pages hand it PNG bytes at their shown size, made once."""
    image = Image.fromarray(picture)
    if width is not None and image.width != width:
        image = image.resize((width, round(image.height * width / image.width)), resample=Image.BILINEAR)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@st.cache_resource(show_spinner=False, max_entries=4)
def mean_pictures(source: str, split: str) -> list[bytes]:
    """The split's mean image and each digit's, ×3 then at their shown width, as PNG; once per data
    source (shared by every student)."""
    data = ui.mnist_data()
    means = [mnist.mean_image(data, split=split), *(mnist.mean_image(data, d, split=split) for d in range(10))]
    return [png(nw.upscale(nw.to_uint8(image), 3), MEAN_PX) for image in means]


PRESETS = [
    ui.Preset("mnist.data.try_test", {"split": "test", "per_digit": 20}),
    ui.Preset("mnist.data.try_one", {"split": "train", "per_digit": 1}),
]


def controls(p: ui.Page) -> None:
    """Which split to show, and how many samples of each digit."""
    columns = st.columns([2, 3, 1], vertical_alignment="bottom")
    columns[0].segmented_control(
        ui.t("mnist.data.split"),
        nw.SPLITS,
        format_func={s: ui.t(f"mnist.data.split_{s}") for s in nw.SPLITS}.get,
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
    ui.show_vega(*charts.counts_chart(data.source, ui.lang()))
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
        counts = pd.DataFrame(
            {
                ui.t("mnist.data.digit"): np.arange(10),
                ui.t("mnist.data.split_train"): train_counts,
                ui.t("mnist.data.split_test"): test_counts,
                ui.t("mnist.data.total"): total,
            }
        )
        st.dataframe(counts, hide_index=True)


@st.cache_resource(show_spinner=False, max_entries=16)
def sample_grid(source: str, split: str, per_digit: int) -> tuple[bytes, int]:
    """One row per digit, ``per_digit`` images in each, scaled ×2 (black where a digit has fewer images),
    as PNG bytes and their width: encoded once per setting for the whole class."""
    samples = mnist.samples_per_digit(ui.mnist_data(), per_digit, split)
    grid = np.zeros((10, per_digit, 28, 28), dtype=np.uint8)
    for digit, images in samples.items():
        grid[digit, : len(images)] = images
    picture = nw.upscale(nw.tile(grid.reshape(-1, 28, 28), cols=per_digit, pad=2, fill=128), 2)
    return png(picture), picture.shape[1]


def samples_section(data, split: str, per_digit: int) -> None:
    """A grid: one row per digit, ``per_digit`` images in each; never wider than its column (a phone)."""
    st.subheader(ui.t("mnist.data.samples", k=per_digit))
    grid, width = sample_grid(data.source, split, per_digit)
    # At its own width (60 px a digit and the padding): any narrower and st.image would rescale it on every run.
    st.image(grid, width=width if per_digit < 12 else "stretch", output_format="PNG",
             alt=ui.t("access.samples_grid", k=per_digit, split=ui.t(f"mnist.data.split_{split}")))
    st.caption(ui.t("mnist.data.samples_note"))


def mean_alts(split: str) -> list[str]:
    """The mean images' text alternatives: the split's, then each digit's."""
    name = ui.t(f"mnist.data.split_{split}")
    return [ui.t("access.mean_all", split=name), *(ui.t("access.mean_digit", digit=d, split=name) for d in range(10))]


def means_section(data, split: str) -> None:
    """The mean image of the split and of each digit."""
    st.subheader(ui.t("mnist.data.mean"))
    st.image(mean_pictures(data.source, split),
             caption=[ui.t("mnist.data.mean_all"), *(ui.t("mnist.label", digit=d) for d in range(10))],
             width=MEAN_PX, output_format="PNG", alt=mean_alts(split))
    st.markdown(ui.t("mnist.data.mean_note"))


@ui.fragment
def explore(p: ui.Page, data) -> None:
    """The controls, the sample grid and the mean images: a slider reruns only this part."""
    controls(p)
    with ui.caught():
        samples_section(data, p["split"], p["per_digit"])
        means_section(data, p["split"])


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    data = ui.mnist_data()
    ui.data_banner(data)
    explore(p, data)
    with ui.caught():
        counts_section(data)
