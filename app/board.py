"""The class board's shared widgets (issue 15): the room this session joined, the one board per
server, cached reads, and the "post this run" / "add this drawing" controls other pages place.

The room lives in the session (``ROOM_KEY``) and in every page's URL (``room=K7M3QD``, kept by
``app.state.Page.sync_to_url``), so a link carries it. Storage and every check are
``lessons.classboard``'s; here each refusal (``BoardError.code``) is worded in the page's language.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app.i18n import t
from app.state import BOARD_ROOM_KEY as ROOM_KEY
from app.state import BOARD_ROOM_PARAM as ROOM_PARAM
from lessons import classboard as cb

CLASS_PAGE = "pages/classboard.py"
TRAIN_PAGE = "pages/mnist_train.py"
NICKNAME_KEY = "board.nickname"  # remembered across pages for this session
CLIENT_KEY = "board.client"  # this session's id for the board's one-entry-a-second limit
POSTED_KEY = "board.posted"  # what this session already posted, so a second click does not post twice
TEACHER_KEY = "board.teacher"  # the teacher code once it unlocked the controls (server side only)
READ_CACHE = 64  # rooms whose latest reads are kept; each read lives one second
TEACHER_SECRET = "CLASS_TEACHER_CODE"
# 5c's settings (pages/mnist_train.py SETTINGS) under the names a TrainConfig gives them.
TRAIN_CONFIG_NAMES = {"batch_size": "batch", "final_activation": "final"}
TRAIN_PAGE_NAMES = ("layers", "activation", "final", "loss", "optimizer", "lr", "momentum", "schedule",
                    "batch", "epochs", "seed")
TRAIN_MAX_LAYERS = 3


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
    """Whether the room takes entries, read at most once a second for the whole server."""
    return _room_open(cb.default_url(), room)


def forget_reads() -> None:
    """After a change this session made: its next read sees it at once."""
    _runs.clear()
    _drawings.clear()
    _room_open.clear()


def error_text(error: cb.BoardError) -> str:
    """A refusal in the page's language."""
    return t(f"board.err.{error.code}", **error.fields)


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


def lock() -> None:
    st.session_state.pop(TEACHER_KEY, None)


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
    except cb.BoardError:
        return None
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
    st.session_state.pop(ROOM_KEY, None)
    if ROOM_PARAM in st.query_params:
        del st.query_params[ROOM_PARAM]


def join_hint() -> None:
    """What a page shows where a board control would be, while no class is joined."""
    st.caption("👩‍🏫 " + t("board.join_hint"))
    st.page_link(CLASS_PAGE, label=t("board.join_link"), icon="👩‍🏫")


def _nickname_input(key: str) -> str:
    # No max_chars: the board counts characters as Python does, and says so when a name is too long.
    return st.text_input(t("board.nickname"), value=st.session_state.get(NICKNAME_KEY, ""), key=key,
                         placeholder=t("board.nickname_placeholder"))


def _already(kind: str, page: str, payload: str) -> int | None:
    """The id of the entry this session already posted with exactly this content, if any."""
    return st.session_state.get(POSTED_KEY, {}).get((kind, page, payload))


def _remember(kind: str, page: str, payload: str, entry_id: int, nickname: str) -> None:
    st.session_state.setdefault(POSTED_KEY, {})[(kind, page, payload)] = entry_id
    st.session_state[NICKNAME_KEY] = nickname


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
        st.markdown(t("board.post_title", room=room, accuracy=f"{accuracy:.2%}" if _is_number(accuracy) else "—"))
        nickname = _nickname_input(f"{page}.__board_run_nickname")
        pressed = st.form_submit_button(t("board.post"), icon="📤", type="primary", disabled=done is not None)
    if done is not None:
        st.success(t("board.posted", id=done, room=room))
        st.page_link(CLASS_PAGE, label=t("board.see_board"), icon="👩‍🏫")
        return
    if not pressed:
        return
    try:
        entry_id = class_board().post_run(room, nickname, {"page": page, **settings}, accuracy, seconds,
                                          client=client_id())
    except cb.BoardError as error:
        st.error(error_text(error))
        return
    _remember("run", page, payload, entry_id, nickname.strip())
    forget_reads()
    st.success(t("board.posted", id=entry_id, room=room))
    st.page_link(CLASS_PAGE, label=t("board.see_board"), icon="👩‍🏫")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and bool(np.isfinite(value))


# -------------------------------------------------------------------- add a drawing


def add_drawing_button(page: str, image_28x28: Any, suggested_label: int) -> None:
    """"This is a 7: add it to the class collection": the student confirms (or corrects) the digit.

    ``image_28x28``: the drawing as the network reads it (floats in [0, 1] or 0..255, ink high).
    """
    room = current_room()
    if room is None:
        join_hint()
        return
    image = np.asarray(image_28x28) if image_28x28 is not None else None
    if image is None or image.size == 0 or not np.any(image):
        st.caption(t("board.draw_first"))
        return
    digest = hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
    suggested = int(suggested_label) if isinstance(suggested_label, (int, np.integer)) and 0 <= suggested_label <= 9 else 0
    with st.form(f"{page}.__board_add_drawing", border=True):
        st.markdown(t("board.drawing_title", room=room))
        label = st.segmented_control(t("board.label"), list(range(10)), default=suggested,
                                     key=f"{page}.__board_label{suggested}", help=t("board.label_help"))
        nickname = _nickname_input(f"{page}.__board_drawing_nickname")
        pressed = st.form_submit_button(t("board.add"), icon="➕", type="primary")
    if not pressed:
        return
    payload = f"{digest}:{label}"
    done = _already("drawing", page, payload)
    if done is not None:
        st.info(t("board.added_already", id=done))
        return
    try:
        entry_id = class_board().add_drawing(room, nickname, label if label is not None else -1, image,
                                             client=client_id())
    except cb.BoardError as error:
        st.error(error_text(error))
        return
    _remember("drawing", page, payload, entry_id, nickname.strip())
    forget_reads()
    st.success(t("board.added", id=entry_id, label=label, room=room))


# --------------------------------------------------------------------- 5c's settings


def train_page_params(settings: dict) -> dict[str, str]:
    """A run's settings as 5c's URL query (its SETTINGS names): 5c's own names pass through, a
    ``TrainConfig``'s (hidden, batch_size, final_activation) are renamed; the rest is left out.
    5c checks each value itself when it reads the URL."""
    from app.state import Setting

    out: dict[str, Any] = {}
    hidden = settings.get("hidden")
    if isinstance(hidden, (list, tuple)) and hidden and len(hidden) <= TRAIN_MAX_LAYERS:
        out["layers"] = len(hidden)
        out.update({f"h{i + 1}": size for i, size in enumerate(hidden)})
    for name, value in settings.items():
        name = TRAIN_CONFIG_NAMES.get(name, name)
        if name in TRAIN_PAGE_NAMES or (name[:1] == "h" and name[1:].isdigit() and int(name[1:]) <= TRAIN_MAX_LAYERS):
            out.setdefault(name, value)
    for name in ("final", "schedule"):
        if name in out and out[name] is None:
            out[name] = "none"  # 5c's word for no output activation / a constant learning rate
    return {name: Setting.encode(value) for name, value in out.items()
            if isinstance(value, (str, int, float, bool, list, tuple))}
