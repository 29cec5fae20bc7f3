"""Where the regression page's points come from: the project's example, the course's data.csv (where this
server has it) or a student's upload, read carefully and kept while good."""

import os
from pathlib import Path

import streamlit as st

from app import uploads
from app.errors import caught
from app.i18n import t
from app.state import Page
from lessons import regression

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "example.csv"
UPLOADED = "regression.uploaded"  # the last file that read well: {"name", "id", "points"}
UPLOAD_SEEN = "regression.upload_seen"  # file id of the last upload handled, so each is read once
UPLOAD_ERROR = "regression.upload_error"  # the last upload's problem: {"name", "code", "fields"}
SOURCE_WORDS = {"example": "regression.data_example", "course": "regression.data_course", "upload": "regression.data_upload"}


@st.cache_data(max_entries=1, ttl=24 * 3600, show_spinner=False)
def example_points():
    """The project's example data (data/example.csv), read once per server."""
    return regression.load_points(EXAMPLE)


@st.cache_data(max_entries=2, ttl=3600, show_spinner=False)
def course_points(path: str, modified: float):
    """The course's data.csv where this server has it, read once per version of the file."""
    return regression.load_points(Path(path))


def upload(p: Page):
    """The student's file: read once when it arrives, kept while good; its problem said in words.
    Returns (points, id, name) of the last good upload, or None."""
    uploaded = uploads.file_uploader(t("regression.upload_label"), key=p.key("__file"), help=t("regression.upload_help"))
    if uploaded is not None and st.session_state.get(UPLOAD_SEEN) != uploaded.file_id:
        st.session_state[UPLOAD_SEEN] = uploaded.file_id
        try:
            points = regression.load_points(uploaded)
        except regression.PointsFileError as exc:
            st.session_state[UPLOAD_ERROR] = {"name": uploaded.name, "code": exc.code, "fields": exc.fields}
        else:
            st.session_state[UPLOADED] = {"name": uploaded.name, "id": uploaded.file_id, "points": points}
            st.session_state[UPLOAD_ERROR] = None
    if problem := st.session_state.get(UPLOAD_ERROR):
        st.error(t("regression.err_title", name=problem["name"]) + " "
                 + t(f"regression.err.{problem['code']}", **problem["fields"]))
    if kept := st.session_state.get(UPLOADED):
        st.success(t("regression.using_upload", name=kept["name"], n=f"{len(kept['points']):,}"))
        return kept["points"], kept["id"], kept["name"]
    st.info(t("regression.upload_waiting"))
    return None


def choose(p: Page):
    """The example data, the course's data.csv (where the server has it) or the student's upload:
    (points, an id that changes when the data does, the file's name for the take-home program)."""
    course_file = regression.course_data_path()
    sources = [s for s in regression.SOURCES if s != "course" or course_file]
    if p["data"] not in sources:
        p["data"] = "example"  # a link to the course's file, on a server without it
    words = {s: t(SOURCE_WORDS[s]) for s in sources}
    st.radio(t("regression.data_source"), options=sources, horizontal=True, key=p.key("data"), format_func=words.__getitem__)
    chosen = None
    with caught():
        if p["data"] == "course":
            try:
                chosen = course_points(course_file, os.path.getmtime(course_file)), "course", "data.csv"
                st.caption(t("regression.using_course", n=len(chosen[0])))
            except (OSError, regression.PointsFileError):
                st.error(t("regression.course_unreadable"))
        elif p["data"] == "upload":
            chosen = upload(p)
    if chosen is not None:
        return chosen
    if p["data"] == "example":
        st.caption(t("regression.using_example", n=len(example_points())))
        st.download_button(t("regression.download_example"), EXAMPLE.read_bytes(), file_name="example.csv",
                           mime="text/csv", key=p.key("__download"))
    return example_points(), "example", None
