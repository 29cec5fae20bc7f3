"""The Class page: the class's training runs on a live leaderboard, accuracy against the settings,
the best run's settings one click from 5c, and the class's own handwriting as each network reads it.
The teacher's tools (start, close, hide, rename or remove a student, export) head the page once
unlocked; ``view=projector`` shows the board in large type, with the class link and its QR code.

Storage and every check: ``classroom.classboard``; the room, joining, the cached reads and pictures:
``app/classboard.py``; the teacher's controls: ``app/classboard_teacher.py``; the table and chart:
``app/charts/classboard.py``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from app import classboard, lead, ui
from app.charts import classboard as charts
from app.classboard import PAGE, PROJECTOR
from app.classboard_teacher import teacher_section
from classroom import classboard as cb
from lessons import recipes

SETTINGS = {"view": ui.Setting("board", options=("board", PROJECTOR))}
REFRESH_SECONDS = 2  # a few seconds, as a class reads a board; the reads behind it are shared for 1 s
ASKED_KEY = "classboard.__models_asked"  # this session asked the networks to read the collection
LEADERS_SHOWN = 30
PROJECTOR_LEADERS = 10


# --------------------------------------------------------------------------- reading


def optimizer_name(name: Any) -> str:
    """5c's word for an optimizer, or the name as posted."""
    return ui.t(f"mnist.train.opt_{name}") if name in recipes.OPTIMIZERS else str(name)


def describe(settings: dict) -> str:
    """A run's main settings in words (``recipes.posted_settings``): the network's sizes, optimizer, learning rate, batch, epochs."""
    s = recipes.posted_settings(settings)
    parts = []
    hidden = recipes.posted_hidden(s)
    if hidden is not None:
        parts.append(ui.t("classboard.sizes", sizes=recipes.network_text(hidden)))
    if "optimizer" in s:
        parts.append(f"{ui.t('classboard.col.optimizer')} {optimizer_name(s['optimizer'])}")
    for name, key in (("lr", "classboard.col.lr"), ("batch", "classboard.batch"), ("epochs", "classboard.epochs")):
        if isinstance(s.get(name), (int, float)):
            parts.append(f"{ui.t(key)} {s[name]:g}")
    return ui.t("classboard.list_sep").join(parts)


@st.cache_resource(max_entries=classboard.VIEWS_CACHE, ttl=classboard.VIEWS_TTL, show_spinner=False)
def board_view(key: str, lang: str, _runs: pd.DataFrame) -> tuple[pd.DataFrame, Any]:
    """The ranked runs and the chart, once per set of runs and language for the whole class
    (the chart's data and spec are the costly part of a refresh). Shared, never modified."""
    return cb.leaderboard(_runs), charts.accuracy_chart(_runs, optimizer_name)


# ------------------------------------------------------------------------------ showing


def room_banner(room: str, projector: bool) -> None:
    if projector:
        classboard.projector_join(room)
        return
    if not classboard.room_open(room):
        st.warning(classboard.error_text(cb.BoardError("room_closed")))


# The live parts below are plain st.fragment refreshers: they change no setting, so there is no URL to sync.
@st.fragment(run_every=REFRESH_SECONDS)
def live_board(room: str, projector: bool) -> None:
    """Headline numbers, the leaderboard, accuracy against the settings and the best run: refreshed every 2 s."""
    try:
        runs, drawings = classboard.runs(room), classboard.drawings(room)
    except cb.BoardError as error:
        classboard.show_read_error(error)
        return
    if projector and not classboard.room_open(room):  # refreshed here: the teacher may close it while it is shown
        st.warning(classboard.error_text(cb.BoardError("room_closed")), icon="⏹️")
    summary = cb.board_summary(runs, drawings)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(ui.t("classboard.students"), summary["students"])
    m2.metric(ui.t("classboard.runs"), summary["runs"])
    m3.metric(ui.t("classboard.drawings"), summary["drawings"])
    best = summary["best_accuracy"]
    m4.metric(ui.t("classboard.best_accuracy"), "—" if best is None else f"{best:.2%}")
    if runs.empty:
        st.info(ui.t("classboard.no_runs"))
        return
    ranked, chart = board_view(classboard.ids_key(room, runs), ui.lang(), runs)
    table_col, chart_col = st.columns([3, 2])
    with table_col:
        st.subheader(ui.t("classboard.leaderboard"))
        shown = charts.leader_table(ranked, PROJECTOR_LEADERS if projector else LEADERS_SHOWN, optimizer_name)
        if projector:  # the columns a room reads from afar
            st.table(shown.drop(columns=[ui.t("classboard.col.seconds"), ui.t("classboard.col.runs")]), hide_index=True)
        else:
            st.dataframe(shown, hide_index=True, width="stretch")
    with chart_col:
        st.subheader(ui.t("classboard.chart_title"))
        if chart is None:
            st.info(ui.t("classboard.no_lr"))
        else:
            spec, data = chart
            ui.show_vega(charts.for_projector(spec) if projector else spec, data)
            if not projector:
                st.caption(ui.t("classboard.chart_note"))
    if not projector:
        best_run_link(room, ranked.iloc[0])


def best_run_link(room: str, leader: pd.Series) -> None:
    """The best run (the leaderboard's first row, as ``cb.best_run`` picks it), and a link that opens 5c with its settings."""
    best = dict(leader["settings"])
    params = classboard.train_page_params(best)
    st.markdown(ui.t("classboard.best_run", nickname=leader["nickname"], accuracy=f"{leader['accuracy']:.2%}"))
    if not params:
        st.caption(ui.t("classboard.best_not_5c"))
        return
    st.caption(describe(best))
    st.page_link(classboard.TRAIN_PAGE, label=ui.t("classboard.load_best"), icon="🏋️",
                 query_params={**params, "lang": ui.lang(), classboard.ROOM_PARAM: room})


@st.fragment(run_every=REFRESH_SECONDS)
def handwriting(room: str, projector: bool) -> None:
    """The collection as a grid per digit and, once asked, how each network reads it."""
    try:
        drawings = classboard.drawings(room)
    except cb.BoardError as error:
        classboard.show_read_error(error)
        return
    st.subheader(ui.t("classboard.handwriting"))
    if drawings.empty:
        st.info(ui.t("classboard.no_drawings"))
        return
    key = classboard.ids_key(room, drawings)
    pictures = classboard.digit_pictures(key, drawings)
    counts = cb.board_summary(classboard.runs(room), drawings)["per_digit"]
    per_row = 5 if projector else 2
    digits = list(pictures.items())
    for start in range(0, len(digits), per_row):  # row by row, so a phone stacks them in order
        for column, (label, picture) in zip(st.columns(per_row), digits[start:start + per_row]):
            column.markdown(ui.t("classboard.digit", digit=label, count=counts[label]))
            column.image(picture, output_format="PNG", alt=ui.t("access.board_digits", digit=label, count=counts[label]))
    if st.session_state.get(ASKED_KEY):
        classboard.readings(key, drawings, projector)


def ask_models_button(room: str) -> None:
    """Train (once per server) and ask the three networks to read the collection."""
    if st.session_state.get(ASKED_KEY):
        return
    st.caption(ui.t("classboard.ask_note"))
    if st.button(ui.t("classboard.ask_models"), key=ui.widget_key(PAGE, "__ask"), icon="🧠"):
        with ui.caught(), st.spinner(ui.t("classboard.training_models")):
            classboard.the_models()
            st.session_state[ASKED_KEY] = True


with ui.page(PAGE, SETTINGS, header=False) as p:
    projector = p["view"] == PROJECTOR
    try:
        classboard.class_board()
    except cb.BoardError as error:
        p.header()
        classboard.show_read_error(error)
        st.stop()
    if projector:
        st.html(classboard.PROJECTOR_CSS)
        room = classboard.current_room()
        if room is None:
            st.title(ui.t("page.classboard.title"))
            st.info(ui.t("classboard.projector_no_room"))
        else:
            room_banner(room, projector=True)
            lead.projector_question(room)
            lead.race_section(room, projector=True)
            live_board(room, projector=True)
            handwriting(room, projector=True)
        st.markdown(f"[{ui.t('classboard.projector_exit')}](?{urlencode({classboard.ROOM_PARAM: room or '', 'lang': ui.lang()})})")
    else:
        p.header()
        room = classboard.join_section()
        teacher_first = classboard.teacher_unlocked()  # an unlocked teacher's tools come before the board
        if teacher_first:
            teacher_section(room)
        if room is not None:
            room_banner(room, projector=False)
            live_board(room, projector=False)
            lead.race_section(room, projector=False)
            ask_models_button(room)
            handwriting(room, projector=False)
        if not teacher_first:
            teacher_section(room)
