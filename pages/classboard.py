"""The Class page (issue 15): the class's training runs on a live leaderboard, accuracy against the
settings, the best run's settings one click from 5c, and the class's own handwriting as each
network reads it. The teacher's passcode unlocks starting and closing a class, hiding an entry and
exporting the collection; ``view=projector`` shows the board in large type without controls.

Storage and every check: ``lessons.classboard``; the room, the cached reads and the posting
widgets: ``app/board.py``.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any
from urllib.parse import urlencode, urlsplit

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from app import board, ui
from app.i18n import STRINGS
from lessons import classboard as cb
from lessons import network as nw

PAGE = "classboard"
PROJECTOR = "projector"
SETTINGS = {"view": ui.Setting("board", options=("board", PROJECTOR))}
REFRESH_SECONDS = 2  # the "every few seconds"; the reads behind it are shared for 1 s
MODELS = ("course", "best", "robust")  # lessons.mlp.PRESETS, as the draw page offers them
ASKED_KEY = "classboard.__models_asked"  # this session asked the networks to read the collection
EXPORT_KEY = "classboard.__export_zip"  # the zip the teacher prepared: (room, bytes)
LEADERS_SHOWN = 30
PROJECTOR_LEADERS = 10
GRID_COLUMNS = 10
GRID_MOST = 40  # newest drawings shown per digit; the count says how many there are
MISREAD_MOST = 30
PREDICTIONS_CACHE = 16
VIEWS_CACHE = 64  # views of recent boards (a few rooms, two languages, each new post makes a new one)
VIEWS_TTL = 600


# --------------------------------------------------------------------------- reading


def optimizer_name(name: Any) -> str:
    """5c's word for an optimizer, or the name as posted."""
    key = f"mnist.train.opt_{name}"
    return ui.t(key) if key in STRINGS else str(name)


def leader_table(ranked: pd.DataFrame, most: int) -> pd.DataFrame:
    """The leaderboard (``cb.leaderboard``) as shown: rank, nickname, accuracy (%), seconds, optimizer, lr, runs."""
    board_frame = ranked.head(most)
    settings = board_frame["settings"]
    return pd.DataFrame({
        ui.t("classboard.col.rank"): board_frame["rank"],
        ui.t("classboard.col.nickname"): board_frame["nickname"],
        ui.t("classboard.col.accuracy"): [f"{a:.2%}" for a in board_frame["accuracy"]],
        ui.t("classboard.col.seconds"): [ui.t("classboard.seconds", seconds=f"{s:.1f}") for s in board_frame["seconds"]],
        ui.t("classboard.col.optimizer"): [optimizer_name(s.get("optimizer", "—")) for s in settings],
        ui.t("classboard.col.lr"): [f"{s['lr']:g}" if isinstance(s.get("lr"), (int, float)) else "—" for s in settings],
        ui.t("classboard.col.runs"): board_frame["runs"],
    })


def accuracy_chart(runs: pd.DataFrame) -> alt.Chart | None:
    """Test accuracy against the learning rate (log scale), one dot per run, coloured by optimizer;
    None when no run carries a positive learning rate."""
    table = cb.settings_table(runs)
    if "lr" not in table or "optimizer" not in table:
        return None
    lr = pd.to_numeric(table["lr"], errors="coerce")
    shown = table.loc[lr.gt(0) & np.isfinite(lr), ["nickname", "accuracy", "seconds", "optimizer"]].assign(
        lr=lr[lr.gt(0) & np.isfinite(lr)])
    if shown.empty:
        return None
    shown["optimizer"] = [optimizer_name(o) for o in shown["optimizer"]]
    opt_title = ui.t("classboard.col.optimizer")
    return alt.Chart(shown).mark_circle(size=90, opacity=0.8).encode(
        x=alt.X("lr:Q", title=ui.t("classboard.col.lr"), scale=alt.Scale(type="log"),
                axis=alt.Axis(values=decades(shown["lr"]), format="~g")),
        y=alt.Y("accuracy:Q", title=ui.t("classboard.col.accuracy"), scale=alt.Scale(zero=False),
                axis=alt.Axis(format="%")),
        color=alt.Color("optimizer:N", title=opt_title, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("nickname:N", title=ui.t("classboard.col.nickname")),
                 alt.Tooltip("accuracy:Q", title=ui.t("classboard.col.accuracy"), format=".2%"),
                 alt.Tooltip("lr:Q", title=ui.t("classboard.col.lr"), format="g"),
                 alt.Tooltip("optimizer:N", title=opt_title),
                 alt.Tooltip("seconds:Q", title=ui.t("classboard.col.seconds"), format=".1f")],
    ).properties(height=320)


def describe(settings: dict) -> str:
    """A run's main settings in words: the network's sizes, optimizer, learning rate, batch, epochs."""
    parts = []
    hidden = settings.get("hidden")
    if not isinstance(hidden, list):
        layers = settings.get("layers")
        hidden = [settings.get(f"h{i + 1}") for i in range(layers)] if isinstance(layers, int) else None
    if hidden and all(isinstance(h, int) for h in hidden):
        parts.append(ui.t("classboard.sizes", sizes="-".join(map(str, (784, *hidden, 10)))))
    if "optimizer" in settings:
        parts.append(f"{ui.t('classboard.col.optimizer')} {optimizer_name(settings['optimizer'])}")
    for name, key in (("lr", "classboard.col.lr"), ("batch", "classboard.batch"), ("batch_size", "classboard.batch"),
                      ("epochs", "classboard.epochs")):
        if isinstance(settings.get(name), (int, float)):
            parts.append(f"{ui.t(key)} {settings[name]:g}")
    return ui.t("classboard.list_sep").join(parts)


def decades(values: pd.Series) -> list[float]:
    """The powers of ten spanning ``values``: the log axis's ticks (without them it draws a line at every 1-9 × 10^k)."""
    lo, hi = np.floor(np.log10(values.min())), np.ceil(np.log10(values.max()))
    return [float(10.0 ** k) for k in np.arange(lo, max(hi, lo + 1) + 1)]


def ids_key(room: str, entries: pd.DataFrame) -> str:
    """What a cached view of the board depends on: the room and which entries it shows (entries
    never change; hiding one changes the set)."""
    ids = entries["id"].to_numpy(np.int64)
    return f"{room}:{len(ids)}:{hashlib.blake2b(ids.tobytes(), digest_size=12).hexdigest()}"


@st.cache_resource(max_entries=VIEWS_CACHE, ttl=VIEWS_TTL, show_spinner=False)
def board_view(key: str, lang: str, _runs: pd.DataFrame) -> tuple[pd.DataFrame, alt.Chart | None]:
    """The ranked runs and the chart, once per set of runs and language for the whole class
    (the chart's data and spec are the costly part of a refresh). Shared, never modified."""
    return cb.leaderboard(_runs), accuracy_chart(_runs)


@st.cache_data(max_entries=VIEWS_CACHE, ttl=VIEWS_TTL, show_spinner=False)
def digit_pictures(key: str, _drawings: pd.DataFrame) -> dict[int, bytes]:
    """Each digit's newest drawings as one PNG, doubled in size with crisp pixels, encoded once."""
    newest = _drawings.groupby("label", sort=True).tail(GRID_MOST)
    pictures = {}
    for label, picture in cb.digit_grids(newest, GRID_COLUMNS).items():
        png = io.BytesIO()
        Image.fromarray(nw.upscale(picture, 2)).save(png, format="PNG")
        pictures[label] = png.getvalue()
    return pictures


@st.cache_data(max_entries=PREDICTIONS_CACHE, ttl=VIEWS_TTL, show_spinner=False)
def model_readings(key: str, _drawings: pd.DataFrame, _predict: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(accuracy per model, each drawing's reading per model), once per collection and set of models."""
    return cb.accuracy_by_model(_drawings, _predict), cb.predictions(_drawings, _predict)


def the_models() -> dict[str, Any]:
    """The course, best and robust networks (trained once per server, shared with the draw page)."""
    from lessons import mlp

    data = ui.mnist_data()
    return {name: ui.trained_model(mlp.preset_for(name, data)) for name in MODELS}


def predictors(models: dict[str, Any]) -> dict[str, Any]:
    from lessons import mlp

    return {name: (lambda images, model=trained.model: mlp.predict_proba(model, images)) for name, trained in models.items()}


# ------------------------------------------------------------------------------ showing


def room_banner(room: str, projector: bool) -> None:
    if projector:
        st.title(ui.t("classboard.projector_room", room=room))
        st.markdown(ui.t("classboard.projector_join", link=join_link(room)))
        return
    if not board.room_open(room):
        st.warning(board.error_text(cb.BoardError("room_closed")))


def join_link(room: str) -> str:
    """The class page's address with this room, for the students to open."""
    query = urlencode({board.ROOM_PARAM: room, "lang": ui.lang()})
    parts = urlsplit(st.context.url or "")
    if parts.scheme in ("http", "https"):
        path = parts.path.rstrip("/").rsplit("/", 1)[0]
        return f"{parts.scheme}://{parts.netloc}{path}/{PAGE}?{query}"
    return f"/{PAGE}?{query}"


@st.fragment(run_every=REFRESH_SECONDS)
def live_board(room: str, projector: bool) -> None:
    """Headline numbers, the leaderboard, accuracy against the settings and the best run: refreshed every 2 s."""
    try:
        runs, drawings = board.runs(room), board.drawings(room)
    except cb.BoardError as error:
        st.error(board.error_text(error))
        return
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
    ranked, chart = board_view(ids_key(room, runs), ui.lang(), runs)
    table_col, chart_col = st.columns([3, 2])
    with table_col:
        st.subheader(ui.t("classboard.leaderboard"))
        shown = leader_table(ranked, PROJECTOR_LEADERS if projector else LEADERS_SHOWN)
        if projector:  # the columns a room reads from afar
            st.table(shown.drop(columns=[ui.t("classboard.col.seconds"), ui.t("classboard.col.runs")]), hide_index=True)
        else:
            st.dataframe(shown, hide_index=True, width="stretch")
    with chart_col:
        st.subheader(ui.t("classboard.chart_title"))
        if chart is None:
            st.info(ui.t("classboard.no_lr"))
        else:
            ui.show_chart(chart.configure_axis(labelFontSize=18, titleFontSize=20).configure_legend(
                labelFontSize=18, titleFontSize=20) if projector else chart)
            if not projector:
                st.caption(ui.t("classboard.chart_note"))
    if not projector:
        best_run_link(room, ranked.iloc[0])


def best_run_link(room: str, leader: pd.Series) -> None:
    """The best run (the leaderboard's first row, as ``cb.best_run`` picks it), and a link that opens 5c with its settings."""
    best = dict(leader["settings"])
    params = board.train_page_params(best)
    st.markdown(ui.t("classboard.best_run", nickname=leader["nickname"], accuracy=f"{leader['accuracy']:.2%}"))
    if not params:
        st.caption(ui.t("classboard.best_not_5c"))
        return
    st.caption(describe(best))
    st.page_link(board.TRAIN_PAGE, label=ui.t("classboard.load_best"), icon="🏋️",
                 query_params={**params, "lang": ui.lang(), board.ROOM_PARAM: room})


@st.fragment(run_every=REFRESH_SECONDS)
def handwriting(room: str, projector: bool) -> None:
    """The collection as a grid per digit and, once asked, how each network reads it."""
    try:
        drawings = board.drawings(room)
    except cb.BoardError as error:
        st.error(board.error_text(error))
        return
    st.subheader(ui.t("classboard.handwriting"))
    if drawings.empty:
        st.info(ui.t("classboard.no_drawings"))
        return
    key = ids_key(room, drawings)
    pictures = digit_pictures(key, drawings)
    counts = cb.board_summary(board.runs(room), drawings)["per_digit"]
    per_row = 5 if projector else 2
    digits = list(pictures.items())
    for start in range(0, len(digits), per_row):  # row by row, so a phone stacks them in order
        for column, (label, picture) in zip(st.columns(per_row), digits[start:start + per_row]):
            column.markdown(ui.t("classboard.digit", digit=label, count=counts[label]))
            column.image(picture, output_format="PNG")
    if st.session_state.get(ASKED_KEY):
        readings(key, drawings, projector)


def readings(key: str, drawings: pd.DataFrame, projector: bool) -> None:
    """Each network's accuracy on the class's handwriting, and the drawings it misread."""
    models = the_models()
    accuracy, predicted = model_readings(f"{key}|{[m.source for m in models.values()]}", drawings, predictors(models))
    st.subheader(ui.t("classboard.models_title"))
    names = {"course": ui.t("classboard.model.course"), "best": ui.t("classboard.model.best"),
             "robust": ui.t("classboard.model.robust")}
    cols = st.columns(len(MODELS))
    for col, row in zip(cols, accuracy.itertuples(), strict=True):
        col.metric(names[row.model], f"{row.accuracy:.0%}",
                   help=ui.t("classboard.model_help", correct=row.correct, drawings=row.drawings))
    if projector:
        return
    images = dict(zip(drawings["id"].to_numpy(np.int64), drawings["image"], strict=True))
    for row in accuracy.itertuples():
        wrong = predicted.set_index("id").loc[row.misread[:MISREAD_MOST]] if row.misread else None
        with st.expander(ui.t("classboard.misread", model=names[row.model], count=len(row.misread))):
            if wrong is None:
                st.success(ui.t("classboard.none_misread"))
                continue
            ui.show_digits([images[i] for i in wrong.index],
                           [ui.t("classboard.read_as", label=int(r.label), read=int(getattr(r, row.model)))
                            for r in wrong.itertuples()])


# ------------------------------------------------------------------------------ controls


def join_section() -> str | None:
    """Join a class by its code (or the link did it); returns the room, or None."""
    room = board.current_room()
    if room is not None:
        here, out = st.columns([4, 1], vertical_alignment="center")
        here.success(ui.t("classboard.joined", room=room))
        out.button(ui.t("classboard.leave"), key=ui.widget_key(PAGE, "__leave"), on_click=board.leave, icon="🚪")
        with st.expander(ui.t("classboard.share_title"), icon="🔗"):
            st.markdown(ui.t("classboard.share_text", room=room))
            st.code(join_link(room), language=None)
            st.link_button(ui.t("classboard.projector_open"), f"?{urlencode({'view': PROJECTOR, board.ROOM_PARAM: room, 'lang': ui.lang()})}",
                           icon="📽️")
        return room
    st.markdown(ui.t("classboard.intro"))
    with st.form(ui.widget_key(PAGE, "__join")):
        code_col, go_col = st.columns([3, 1], vertical_alignment="bottom")
        code = code_col.text_input(ui.t("classboard.code"), max_chars=16, placeholder="K7M3QD",
                                   key=ui.widget_key(PAGE, "__code"))
        pressed = go_col.form_submit_button(ui.t("classboard.join"), type="primary", icon="👋")
    if pressed:
        try:
            room = board.join(code)
        except cb.BoardError as error:
            st.error(board.error_text(error))
            return None
        st.rerun()
    return None


def ask_models_button(room: str) -> None:
    """Train (once per server) and ask the three networks to read the collection."""
    if st.session_state.get(ASKED_KEY):
        return
    st.caption(ui.t("classboard.ask_note"))
    if st.button(ui.t("classboard.ask_models"), key=ui.widget_key(PAGE, "__ask"), icon="🧠"):
        with ui.caught(), st.spinner(ui.t("classboard.training_models")):
            the_models()
            st.session_state[ASKED_KEY] = True


def teacher_section(room: str | None) -> None:
    """Passcode, then: start or close a class, hide an entry, export the collection."""
    with st.expander(ui.t("classboard.teacher"), icon="👩‍🏫", expanded=bool(st.session_state.get(board.TEACHER_KEY))):
        code = st.session_state.get(board.TEACHER_KEY)
        if not code:
            with st.form(ui.widget_key(PAGE, "__unlock")):
                typed = st.text_input(ui.t("classboard.teacher_code"), type="password", key=ui.widget_key(PAGE, "__passcode"))
                pressed = st.form_submit_button(ui.t("classboard.unlock"), icon="🔓")
            if pressed:
                try:
                    board.unlock(typed)
                except cb.BoardError as error:
                    st.error(board.error_text(error))
                    return
                st.rerun()
            return
        teacher_controls(code, room)


def teacher_controls(code: str, room: str | None) -> None:
    start, lock = st.columns(2)
    if start.button(ui.t("classboard.start"), key=ui.widget_key(PAGE, "__start"), type="primary", icon="🚀"):
        try:
            new = board.class_board().open_room(code)
            board.join(new)
        except cb.BoardError as error:
            st.error(board.error_text(error))
        else:
            st.rerun()
    lock.button(ui.t("classboard.lock"), key=ui.widget_key(PAGE, "__lock"), on_click=board.lock, icon="🔒")
    try:
        rooms = board.class_board().rooms(code)
    except cb.BoardError as error:
        st.error(board.error_text(error))
        return
    if not rooms.empty:
        st.dataframe(pd.DataFrame({
            ui.t("classboard.col.room"): rooms["code"],
            ui.t("classboard.col.state"): [ui.t("classboard.closed") if pd.notna(c) else ui.t("classboard.open")
                                           for c in rooms["closed"]],
            ui.t("classboard.runs"): rooms["runs"],
            ui.t("classboard.drawings"): rooms["drawings"],
        }), hide_index=True, width="stretch")
    if room is None:
        st.caption(ui.t("classboard.teacher_no_room"))
        return
    st.markdown(ui.t("classboard.this_room", room=room))
    close_col, export_col = st.columns(2)
    is_open = board.room_open(room)
    if close_col.button(ui.t("classboard.close" if is_open else "classboard.reopen"), key=ui.widget_key(PAGE, "__close"),
                        icon="⏹️" if is_open else "▶️"):
        try:
            (board.class_board().close_room if is_open else board.class_board().reopen_room)(room, code)
        except cb.BoardError as error:
            st.error(board.error_text(error))
        else:
            board.forget_reads()
            st.rerun()
    export_section(export_col, code, room)
    hide_section(code, room)


def export_section(where: Any, code: str, room: str) -> None:
    """Prepare the zip of the room's drawings on request, then offer it for download."""
    if where.button(ui.t("classboard.export"), key=ui.widget_key(PAGE, "__export"), icon="📦"):
        try:
            st.session_state[EXPORT_KEY] = (room, board.class_board().export(room, code))
        except cb.BoardError as error:
            st.error(board.error_text(error))
    ready = st.session_state.get(EXPORT_KEY)
    if ready and ready[0] == room:
        where.download_button(ui.t("classboard.download"), data=ready[1], file_name=f"class-{room}-handwriting.zip",
                              mime="application/zip", key=ui.widget_key(PAGE, "__download"), on_click="ignore", icon="⬇️")


def entry_label(kind: str, row: Any) -> str:
    what = (ui.t("classboard.entry_run", accuracy=f"{row.accuracy:.2%}") if kind == "run"
            else ui.t("classboard.entry_drawing", label=int(row.label)))
    hidden = " · " + ui.t("classboard.hidden") if row.hidden else ""
    return f"#{row.id} · {row.nickname} · {what}{hidden}"


def hide_section(code: str, room: str) -> None:
    """Hide an entry from the board and the export (or show it again); nothing is deleted."""
    try:
        runs, drawings = board.runs(room, include_hidden=True), board.drawings(room, include_hidden=True)
    except cb.BoardError as error:
        st.error(board.error_text(error))
        return
    choices = {row.id: entry_label("run", row) for row in runs.itertuples()}
    choices |= {row.id: entry_label("drawing", row) for row in drawings.itertuples()}
    if not choices:
        return
    hidden = set(runs["id"][runs["hidden"]]) | set(drawings["id"][drawings["hidden"]])
    pick_col, act_col = st.columns([3, 1], vertical_alignment="bottom")
    entry = pick_col.selectbox(ui.t("classboard.entry"), sorted(choices, reverse=True), format_func=choices.get,
                               key=ui.widget_key(PAGE, "__entry"))
    showing = entry in hidden
    if act_col.button(ui.t("classboard.show" if showing else "classboard.hide"), key=ui.widget_key(PAGE, "__hide"),
                      icon="👁️" if showing else "🙈"):
        try:
            board.class_board().hide(room, int(entry), code, hidden=not showing)
        except cb.BoardError as error:
            st.error(board.error_text(error))
        else:
            board.forget_reads()
            st.rerun()


PROJECTOR_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {display: none;}
h1 {font-size: 4.5rem !important; letter-spacing: .08em;}
[data-testid="stTable"] td, [data-testid="stTable"] th {font-size: 1.9rem; padding: .3rem .8rem; white-space: nowrap;}
[data-testid="stMarkdownContainer"] p {font-size: 1.5rem;}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] p {font-size: 3.5rem;}
[data-testid="stMetricLabel"] p {font-size: 1.6rem;}
h2, h3 {font-size: 2.6rem !important;}
</style>"""


with ui.page(PAGE, SETTINGS, header=False) as p:
    projector = p["view"] == PROJECTOR
    try:
        board.class_board()
    except cb.BoardError as error:
        p.header()
        st.error(board.error_text(error))
        st.stop()
    if projector:
        st.html(PROJECTOR_CSS)
        room = board.current_room()
        if room is None:
            st.title(ui.t("page.classboard.title"))
            st.info(ui.t("classboard.projector_no_room"))
        else:
            room_banner(room, projector=True)
            live_board(room, projector=True)
            handwriting(room, projector=True)
        st.markdown(f"[{ui.t('classboard.projector_exit')}](?{urlencode({board.ROOM_PARAM: room or '', 'lang': ui.lang()})})")
    else:
        p.header()
        room = join_section()
        if room is not None:
            room_banner(room, projector=False)
            live_board(room, projector=False)
            ask_models_button(room)
            handwriting(room, projector=False)
        teacher_section(room)
