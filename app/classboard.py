"""The class board's shared widgets: the room this session joined, the one board per server, cached
reads, joining a class, the "post this run" / "add this drawing" controls other pages place, and the
class page's pictures of the collection and how the networks read it (made once for the class).

The room and the nickname live in the session (``ROOM_KEY``, ``NICKNAME_KEY``), in every page's URL
(``room=…&nick=…``: registered with ``app.state.keep_param``, so every page and sidebar link keeps
them) and in a cookie, so a reload finds them (``app.identity``). The teacher's unlock survives a
reload as a signed token in a cookie (never the code, never in a URL). Storage and every check are
``classroom.classboard``'s; here each refusal (``BoardError.code``) is worded in the page's language.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np
import pandas as pd
import streamlit as st

from app import identity
from app.i18n import lang, t
from app.mnist_widgets import show_digits
from app.state import keep_param, widget_key
from classroom import classboard as cb
from lessons import network as nw

CLASS_PAGE = "pages/classboard.py"
PAGE = "classboard"  # the class page's name: its URL and its widget keys
PROJECTOR = "projector"  # the class page's view=projector
TRAIN_PAGE = "pages/mnist_train.py"
ROOM_KEY = "classboard.room"  # the room this session joined
ROOM_PARAM = "room"  # ... and its URL parameter
NICKNAME_KEY = "classboard.nickname"  # remembered across pages, and in the URL and a cookie
NICKNAME_PARAM = "nick"
CLIENT_KEY = "classboard.client"  # this session's id for the board's one-entry-a-second limit
POSTED_KEY = "classboard.posted"  # what this session already posted, so a second click does not post twice
TEACHER_KEY = "classboard.teacher"  # the teacher code once it unlocked the controls (server side only)
TEACHER_UNTIL_KEY = "classboard.__teacher_until"  # when an unlock restored from the cookie ends
TEACHER_COOKIE = "dl_teacher"  # identity.sign's token: the code unlocked the controls in this browser
TEACHER_PURPOSE = "classboard-teacher"
TEACHER_HOURS = 8  # a school day: the token (and its cookie) ends after it
READ_CACHE = 64  # rooms whose latest reads are kept; each read lives one second
VIEWS_CACHE = 64  # views of recent boards (a few rooms, two languages, each new post makes a new one)
VIEWS_TTL = 600
PREDICTIONS_CACHE = 16
MODELS = ("course", "best", "robust")  # lessons.mlp.PRESETS, as the draw page offers them
GRID_COLUMNS = 10
GRID_MOST = 40  # newest drawings shown per digit; the count says how many there are
MISREAD_MOST = 30
TEACHER_SECRET = "CLASS_TEACHER_CODE"



def _clean_room(raw: str) -> str | None:
    try:
        return cb.normalise_room(raw)
    except cb.BoardError:
        return None


def _clean_nickname(raw: str) -> str | None:
    try:
        return cb.check_nickname(raw)
    except cb.BoardError:
        return None


keep_param(ROOM_PARAM, ROOM_KEY, _clean_room)  # a link from any page, and a reload, keeps the class
keep_param(NICKNAME_PARAM, NICKNAME_KEY, _clean_nickname, personal=True)  # ... and the nickname


# ------------------------------------------------------------------------------ the board


def teacher_secret() -> str:
    """The teacher code: ``CLASS_TEACHER_CODE`` in the environment, else in ``.streamlit/secrets.toml``."""
    code = os.environ.get(TEACHER_SECRET, "")
    if code:
        return code
    try:
        return str(st.secrets.get(TEACHER_SECRET, "") or "")
    except Exception:  # noqa: BLE001 - no secrets file at all: no teacher code
        return ""


@st.cache_resource(show_spinner=False, max_entries=4)
def _open_board(url: str, teacher_code: str) -> cb.ClassBoard:
    return cb.ClassBoard(url, teacher_code=teacher_code)


def class_board() -> cb.ClassBoard:
    """The server's one board (per database URL); ``BoardError("storage_unavailable")`` if unreachable."""
    return _open_board(cb.default_url(), teacher_secret())


@st.cache_data(ttl=1, max_entries=READ_CACHE, show_spinner=False)
def _runs(url: str, room: str, include_hidden: bool) -> pd.DataFrame:
    return class_board().runs(room, include_hidden=include_hidden)


@st.cache_data(ttl=1, max_entries=READ_CACHE, show_spinner=False)
def _drawings(url: str, room: str, include_hidden: bool) -> pd.DataFrame:
    return class_board().drawings(room, include_hidden=include_hidden)


def runs(room: str, *, include_hidden: bool = False) -> pd.DataFrame:
    """The room's runs, read at most once a second for the whole server."""
    return _runs(cb.default_url(), room, include_hidden)


def drawings(room: str, *, include_hidden: bool = False) -> pd.DataFrame:
    """The room's drawings, read at most once a second for the whole server."""
    return _drawings(cb.default_url(), room, include_hidden)


@st.cache_data(ttl=1, max_entries=READ_CACHE, show_spinner=False)
def _room_open(url: str, room: str) -> bool:
    return class_board().room_is_open(room)


def room_open(room: str) -> bool:
    """Whether the room takes entries, read at most once a second for the whole server.

    While the database cannot be reached: True. Nothing says the class closed; the board shows
    that it is unavailable, and a post is refused with its own message."""
    try:
        return _room_open(cb.default_url(), room)
    except cb.BoardError as error:
        if error.code != "storage_unavailable":
            raise
        return True


def forget_reads() -> None:
    """After a change this session made: its next read sees it at once."""
    _runs.clear()
    _drawings.clear()
    _room_open.clear()


def error_text(error: cb.BoardError) -> str:
    """A refusal in the page's language."""
    return t(f"classboard.err.{error.code}", **error.fields)


def show_read_error(error: cb.BoardError) -> None:
    """What the board shows where a read failed: the database is unreachable (the only way a read
    fails), so the board is unavailable for now; nothing was asked to be stored."""
    if error.code == "storage_unavailable":
        st.warning(t("classboard.unavailable"), icon="🔌")
    else:
        st.error(error_text(error))


def client_id() -> str:
    """This session's id for the rate limit (random, never shown)."""
    if CLIENT_KEY not in st.session_state:
        st.session_state[CLIENT_KEY] = secrets.token_hex(8)
    return st.session_state[CLIENT_KEY]


def unlock(typed: Any) -> None:
    """Keep the teacher code in this session if it is right (``teacher_code_wrong``/``_unset`` if not)."""
    if not teacher_secret():
        raise cb.BoardError("teacher_code_unset")
    if not class_board().teacher_code_ok(typed):
        raise cb.BoardError("teacher_code_wrong")
    st.session_state[TEACHER_KEY] = typed
    st.session_state.pop(TEACHER_UNTIL_KEY, None)  # typed in this session: unlocked while it lasts
    identity.set_cookie(TEACHER_COOKIE, identity.sign(typed, TEACHER_PURPOSE, TEACHER_HOURS * 3600),
                        TEACHER_HOURS * 3600)


def lock() -> None:
    st.session_state.pop(TEACHER_KEY, None)
    st.session_state.pop(TEACHER_UNTIL_KEY, None)
    identity.delete_cookie(TEACHER_COOKIE)


def restore_teacher() -> None:
    """At a session's first run: unlocked again if this browser's cookie holds a token the current
    teacher code signed that has not expired (so a reload does not ask for the code again)."""
    secret = teacher_secret()
    expires = identity.verify(identity.cookie(TEACHER_COOKIE), secret, TEACHER_PURPOSE)
    if expires is None or st.session_state.get(TEACHER_KEY):
        return
    st.session_state[TEACHER_KEY] = secret
    st.session_state[TEACHER_UNTIL_KEY] = expires


def teacher_unlocked() -> bool:
    """Whether this session holds the teacher's unlock; one restored from the cookie ends when its token does."""
    until = st.session_state.get(TEACHER_UNTIL_KEY)
    if until is not None and until <= time.time():
        lock()
    return bool(st.session_state.get(TEACHER_KEY))


identity.on_session_start(restore_teacher)


# ------------------------------------------------------------------------------- the room


def current_room() -> str | None:
    """The room this session joined, else the URL's if it names an existing room, else None."""
    room = st.session_state.get(ROOM_KEY)
    if room:
        return room
    raw = st.query_params.get(ROOM_PARAM)
    if not raw:
        return None
    try:
        code = cb.normalise_room(raw)
        if not class_board().room_exists(code):
            return None
    except cb.BoardError as error:
        # The database is unreachable (a reload mid-outage): the class in the URL is kept, not
        # checked; it is checked at the next run, and a post meanwhile is refused with a message.
        return code if error.code == "storage_unavailable" else None
    st.session_state[ROOM_KEY] = code
    return code


def join(raw: Any) -> str:
    """Join the room typed or linked (``BoardError("room_unknown")`` if there is none)."""
    code = cb.normalise_room(raw)
    if not class_board().room_exists(code):
        raise cb.BoardError("room_unknown")
    st.session_state[ROOM_KEY] = code
    st.query_params[ROOM_PARAM] = code
    return code


def leave() -> None:
    st.session_state.pop(ROOM_KEY, None)  # its cookie goes at the end of the run (the session keeps no room)
    if ROOM_PARAM in st.query_params:
        del st.query_params[ROOM_PARAM]


def join_link(room: str) -> str:
    """The class page's address with this room, for the students to open."""
    query = urlencode({ROOM_PARAM: room, "lang": lang()})
    parts = urlsplit(st.context.url or "")
    if parts.scheme in ("http", "https"):
        path = parts.path.rstrip("/").rsplit("/", 1)[0]
        return f"{parts.scheme}://{parts.netloc}{path}/{PAGE}?{query}"
    return f"/{PAGE}?{query}"


@st.cache_data(max_entries=READ_CACHE, show_spinner=False)
def join_qr(link: str) -> bytes:
    """The class link as a QR code (PNG, black on white with the standard quiet zone), for the projector."""
    import segno

    picture = io.BytesIO()
    segno.make(link, error="m").save(picture, kind="png", scale=10, border=4)
    return picture.getvalue()


def projector_join(room: str) -> None:
    """The projector's heading: the class code, the link printed in full and its QR code beside it."""
    link = join_link(room)
    words, code = st.columns([3, 1], vertical_alignment="center")
    words.title(t("classboard.projector_room", room=room))
    words.markdown(t("classboard.projector_join", link=link))
    code.image(join_qr(link), caption=t("classboard.qr_caption"), width=260, alt=t("classboard.qr_alt", link=link))


def join_section() -> str | None:
    """Join a class by its code (or the link did it): the form, or the room joined with how to share
    it and leave; returns the room, or None."""
    room = current_room()
    if room is not None:
        here, out = st.columns([4, 1], vertical_alignment="center")
        here.success(t("classboard.joined", room=room))
        out.button(t("classboard.leave"), key=widget_key(PAGE, "__leave"), on_click=leave, icon="🚪")
        with st.expander(t("classboard.share_title"), icon="🔗"):
            st.markdown(t("classboard.share_text", room=room))
            st.code(join_link(room), language=None)
            st.link_button(t("classboard.projector_open"),
                           f"?{urlencode({'view': PROJECTOR, ROOM_PARAM: room, 'lang': lang()})}", icon="📽️")
        return room
    st.markdown(t("classboard.intro"))
    with st.form(widget_key(PAGE, "__join")):
        code_col, go_col = st.columns([3, 1], vertical_alignment="bottom")
        # words, not a made-up code: a placeholder that looks like a code gets typed in
        code = code_col.text_input(t("classboard.code"), max_chars=16, placeholder=t("classboard.code_placeholder"),
                                   key=widget_key(PAGE, "__code"))
        pressed = go_col.form_submit_button(t("classboard.join"), type="primary", icon="👋")
    if pressed:
        try:
            join(code)
        except cb.BoardError as error:
            st.error(error_text(error))
            return None
        st.rerun()
    return None


def join_hint() -> None:
    """What a page shows where a board control would be, while no class is joined."""
    st.caption("👩‍🏫 " + t("classboard.join_hint"))
    st.page_link(CLASS_PAGE, label=t("classboard.join_link"), icon="👩‍🏫")


def remembered_nickname() -> str:
    """The nickname this session posted with, else the URL's (a link or, after a reload, the cookie's)."""
    name = st.session_state.get(NICKNAME_KEY)
    if not name:
        raw = st.query_params.get(NICKNAME_PARAM)
        name = _clean_nickname(raw) if raw else None
        if name:
            st.session_state[NICKNAME_KEY] = name
    return name or ""


def _nickname_input(key: str) -> str:
    # No max_chars: the board counts characters as Python does, and says so when a name is too long.
    return st.text_input(t("classboard.nickname"), value=remembered_nickname(), key=key,
                         placeholder=t("classboard.nickname_placeholder"))


def _already(kind: str, page: str, payload: str) -> int | None:
    """The id of the entry this session already posted with exactly this content, if any."""
    return st.session_state.get(POSTED_KEY, {}).get((kind, page, payload))


def _remember(kind: str, page: str, payload: str, number: int, nickname: str) -> None:
    st.session_state.setdefault(POSTED_KEY, {})[(kind, page, payload)] = number
    st.session_state[NICKNAME_KEY] = nickname


def kind_number(kind: str, room: str, entry_id: int) -> int:
    """The entry's number among the room's entries of its kind (runs and drawings share the board's ids:
    a class's first drawing is its drawing No. 1, whatever was posted before). The entry id if unreadable."""
    try:
        entries = runs(room, include_hidden=True) if kind == "run" else drawings(room, include_hidden=True)
    except cb.BoardError:
        return entry_id
    return int((entries["id"].to_numpy() <= entry_id).sum()) or entry_id


# ------------------------------------------------------------------------ the CSV exports


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell that starts so


def _text_cell(value: Any) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(frame: pd.DataFrame) -> bytes:
    # UTF-8 with a byte-order mark: a spreadsheet then reads Chinese nicknames as Chinese
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def runs_csv(runs: pd.DataFrame) -> bytes:
    """Every run of a room (hidden ones marked): id, nickname, accuracy, seconds, created (UTC), hidden,
    settings (JSON). Text cells that a spreadsheet would run as a formula are quoted."""
    return _csv(pd.DataFrame({
        "id": runs["id"], "nickname": [_text_cell(n) for n in runs["nickname"]], "accuracy": runs["accuracy"],
        "seconds": runs["seconds"], "created": [c.isoformat() for c in runs["created"]], "hidden": runs["hidden"],
        "settings": [json.dumps(s, sort_keys=True, ensure_ascii=False) for s in runs["settings"]],
    }))


def leaderboard_csv(runs: pd.DataFrame) -> bytes:
    """The leaderboard of a room's visible runs (``cb.leaderboard``): rank, nickname, accuracy, seconds,
    runs, id, settings (JSON)."""
    board = cb.leaderboard(runs[~runs["hidden"]].reset_index(drop=True))
    return _csv(pd.DataFrame({
        "rank": board["rank"], "nickname": [_text_cell(n) for n in board["nickname"]], "accuracy": board["accuracy"],
        "seconds": board["seconds"], "runs": board["runs"], "id": board["id"],
        "settings": [json.dumps(s, sort_keys=True, ensure_ascii=False) for s in board["settings"]],
    }))


# ------------------------------------------------------------------------ post a run


def post_run_button(page: str, settings: dict, accuracy: float, seconds: float) -> None:
    """"Post this run to the class board": nickname, the room, one confirming button.

    ``settings``: the run's settings as 5c names them in its URL (layers, h1, optimizer, lr, ...),
    or ``dataclasses.asdict`` of its ``TrainConfig``; the class page loads the best run into 5c
    from them. ``accuracy`` is the test accuracy in [0, 1], ``seconds`` the training time.
    """
    room = current_room()
    if room is None:
        join_hint()
        return
    try:
        payload = json.dumps({"page": page, **settings, "accuracy": accuracy, "seconds": seconds},
                             sort_keys=True, default=str)
    except (TypeError, ValueError):
        payload = repr((page, settings, accuracy, seconds))
    done = _already("run", page, payload)
    with st.form(f"{page}.__board_post_run", border=True):
        st.markdown(t("classboard.post_title", room=room, accuracy=f"{accuracy:.2%}" if _is_number(accuracy) else "—"))
        nickname = _nickname_input(f"{page}.__board_run_nickname")
        pressed = st.form_submit_button(t("classboard.post"), icon="📤", type="primary", disabled=done is not None)
    if done is not None:
        st.success(t("classboard.posted", id=done, room=room))
        st.page_link(CLASS_PAGE, label=t("classboard.see_board"), icon="👩‍🏫")
        return
    if not pressed:
        return
    try:
        entry_id = class_board().post_run(room, nickname, {"page": page, **settings}, accuracy, seconds,
                                          client=client_id())
    except cb.BoardError as error:
        st.error(error_text(error))
        return
    forget_reads()
    number = kind_number("run", room, entry_id)
    _remember("run", page, payload, number, nickname.strip())
    st.success(t("classboard.posted", id=number, room=room))
    st.page_link(CLASS_PAGE, label=t("classboard.see_board"), icon="👩‍🏫")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and bool(np.isfinite(value))


# -------------------------------------------------------------------- add a drawing


def add_drawing_button(page: str, image_28x28: Any, guess: int | None = None) -> None:
    """"This is a 7: add it to the class collection": the student picks the digit (no default, so a
    press never just confirms the network); the network's ``guess`` is shown beside it.

    ``image_28x28``: the drawing as the network reads it (floats in [0, 1] or 0..255, ink high).
    """
    room = current_room()
    if room is None:
        join_hint()
        return
    image = np.asarray(image_28x28) if image_28x28 is not None else None
    if image is None or image.size == 0 or not np.any(image):
        st.caption(t("classboard.draw_first"))
        return
    digest = hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
    with st.form(f"{page}.__board_add_drawing", border=True):
        st.markdown(t("classboard.drawing_title", room=room))
        # the drawing in the key: a new drawing starts with no label picked
        label = st.segmented_control(t("classboard.label"), list(range(10)), default=None,
                                     key=f"{page}.__board_label{digest[:12]}", help=t("classboard.label_help"))
        if isinstance(guess, (int, np.integer)) and 0 <= guess <= 9:
            st.caption(t("classboard.label_guess", digit=int(guess)))
        nickname = _nickname_input(f"{page}.__board_drawing_nickname")
        pressed = st.form_submit_button(t("classboard.add"), icon="➕", type="primary")
    if not pressed:
        return
    if label is None:
        st.warning(t("classboard.label_missing"))
        return
    payload = f"{digest}:{label}"
    done = _already("drawing", page, payload)
    if done is not None:
        st.info(t("classboard.added_already", id=done))
        return
    try:
        entry_id = class_board().add_drawing(room, nickname, label, image, client=client_id())
    except cb.BoardError as error:
        st.error(error_text(error))
        return
    forget_reads()
    number = kind_number("drawing", room, entry_id)
    _remember("drawing", page, payload, number, nickname.strip())
    st.success(t("classboard.added", id=number, label=label, room=room))


# --------------------------------------------------------------------- 5c's settings


def train_page_params(settings: dict) -> dict[str, str]:
    """A posted run's settings as 5c's URL query (``lessons.recipes.posted_settings``: 5c's own names,
    or a ``TrainConfig``'s renamed); the rest is left out. 5c checks each value itself when it reads the URL."""
    from app.state import Setting
    from lessons.recipes import posted_settings

    return {name: Setting.encode(value) for name, value in posted_settings(settings).items()
            if isinstance(value, (str, int, float, bool, list, tuple))}


# ------------------------------------------------------- the class's pictures and readings, made once


def ids_key(room: str, entries: pd.DataFrame) -> str:
    """What a cached view of the board depends on: the room, which entries it shows (hiding one
    changes the set) and their nicknames (a student can be renamed); nothing else of an entry changes."""
    ids = entries["id"].to_numpy(np.int64)
    digest = hashlib.blake2b(ids.tobytes(), digest_size=12)
    digest.update("\0".join(map(str, entries["nickname"])).encode("utf-8"))
    return f"{room}:{len(ids)}:{digest.hexdigest()}"


@st.cache_data(max_entries=VIEWS_CACHE, ttl=VIEWS_TTL, show_spinner=False)
def digit_pictures(key: str, _drawings: pd.DataFrame) -> dict[int, bytes]:
    """Each digit's newest drawings as one PNG, doubled in size with crisp pixels, encoded once."""
    from PIL import Image

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
    from app.training import mnist_data, trained_model
    from lessons import mlp

    data = mnist_data()
    return {name: trained_model(mlp.preset_for(name, data)) for name in MODELS}


def predictors(models: dict[str, Any]) -> dict[str, Any]:
    from lessons import mlp

    return {name: (lambda images, model=trained.model: mlp.predict_proba(model, images)) for name, trained in models.items()}


def readings(key: str, drawings: pd.DataFrame, projector: bool) -> None:
    """Each network's accuracy on the class's handwriting, and the drawings it misread (the class page's
    last section, once asked: the networks may train first)."""
    models = the_models()
    accuracy, predicted = model_readings(f"{key}|{[m.source for m in models.values()]}", drawings, predictors(models))
    st.subheader(t("classboard.models_title"))
    names = {"course": t("classboard.model.course"), "best": t("classboard.model.best"),
             "robust": t("classboard.model.robust")}
    for col, row in zip(st.columns(len(MODELS)), accuracy.itertuples(), strict=True):
        col.metric(names[row.model], f"{row.accuracy:.0%}",
                   help=t("classboard.model_help", correct=row.correct, drawings=row.drawings))
    if projector:
        return
    images = dict(zip(drawings["id"].to_numpy(np.int64), drawings["image"], strict=True))
    for row in accuracy.itertuples():
        wrong = predicted.set_index("id").loc[row.misread[:MISREAD_MOST]] if row.misread else None
        with st.expander(t("classboard.misread", model=names[row.model], count=len(row.misread))):
            if wrong is None:
                st.success(t("classboard.none_misread"))
                continue
            show_digits([images[i] for i in wrong.index],
                        [t("classboard.read_as", label=int(r.label), read=int(getattr(r, row.model)))
                         for r in wrong.itertuples()],
                        labels=wrong["label"].to_numpy(), read=wrong[row.model].to_numpy())


# The projector view: no sidebar or header, type read from the back of the room.
PROJECTOR_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {display: none;}
h1 {font-size: 4.5rem !important; letter-spacing: .08em;}
[data-testid="stTable"] td, [data-testid="stTable"] th {font-size: 1.9rem; padding: .3rem .8rem; white-space: nowrap;}
[data-testid="stMarkdownContainer"] p {font-size: 1.5rem;}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] p {font-size: 3.5rem;}
[data-testid="stMetricLabel"] p {font-size: 1.6rem;}
h2, h3 {font-size: 2.6rem !important;}
</style>"""
