"""A student's place and work kept for their browser (app/identity.py, app/kept_work.py,
classroom/browser_store.py): the store on its own, the signed teacher unlock, and whole app runs in
AppTest where a "reload" is a new session whose ``st.context.cookies`` are what the first session's
cookie script set (AppTest runs no script, so the cookies are patched in).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from conftest import APP, tiny_data
from streamlit.testing.v1 import AppTest

from app import classboard, identity, kept_work
from app import mnist_session as session
from app.i18n import LANGUAGES, STRINGS
from app.mnist_widgets import SESSION_MODEL, SESSION_MODEL_STATUS
from app.runlog import RunLog
from classroom import browser_store as bs
from classroom import classboard as cb
from classroom import models
from lessons import mlp

pytestmark = pytest.mark.slow  # whole app runs in AppTest

TEACHER = "sesame-4711"
COOKIE_SCRIPT = re.compile(r"const cookies = (.*);\n")


def text(key: str, lang: str = "zh", **fields) -> str:
    return STRINGS[key][lang].format(**fields)


# ------------------------------------------------------------------------------ the store


def test_the_store_keeps_a_browsers_parts_under_a_digest_of_its_id(tmp_path):
    store = bs.BrowserStore(tmp_path)
    own, other = identity.new_browser_id(), identity.new_browser_id()
    assert store.save(own, {"a": [1, 2.5, "三"], "b": None})
    assert store.load(own) == {"a": [1, 2.5, "三"], "b": None}
    assert store.load(other) == {}
    # the id never reaches the disk, and no made-up id reaches a path
    assert all(own not in p.name for p in tmp_path.iterdir())
    for bad in ("../../etc/passwd", "A" * 32, own + "0", "", None, 7):
        assert store.load(bad) == {} and not store.save(bad, {"x": 1})
    store.forget(own)
    assert store.load(own) == {}


def test_the_store_refuses_what_is_too_large_and_forgets_what_is_old(tmp_path):
    store = bs.BrowserStore(tmp_path)
    big, old, fresh = (identity.new_browser_id() for _ in range(3))
    assert not store.save(big, {"x": "0" * (bs.MAX_BYTES + 1)})
    assert store.load(big) == {}
    assert store.save(old, {"x": 1}) and store.save(fresh, {"x": 2})
    long_ago = time.time() - (bs.MAX_AGE_DAYS + 1) * 86400
    os.utime(store.path(old), (long_ago, long_ago))
    assert store.load(old) == {}  # stale: not read even before the sweep
    assert store.prune(force=True) == 1
    assert not store.path(old).exists() and store.load(fresh) == {"x": 2}


def test_a_damaged_file_is_a_miss(tmp_path):
    store = bs.BrowserStore(tmp_path)
    own = identity.new_browser_id()
    store.save(own, {"x": 1})
    store.path(own).write_text("{not json", encoding="utf-8")
    assert store.load(own) == {}
    store.path(own).write_text(json.dumps({"format": 99, "parts": {"x": 1}}), encoding="utf-8")
    assert store.load(own) == {}


# --------------------------------------------------------------------------- whole app runs


@contextmanager
def browser(cookies: dict[str, str] | None = None):
    """Sessions opened inside see ``cookies`` as the browser sent them."""
    with mock.patch.object(type(st.context), "cookies", new_callable=mock.PropertyMock, return_value=dict(cookies or {})):
        yield


def state(at: AppTest, key: str):
    """A session-state value, or None where the session has no such key."""
    try:
        return at.session_state[key]
    except KeyError:
        return None


def open_app(path: str, *, lang: str = "zh", query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = lang
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if path != "pages/home.py":
        at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def cookies_set(at: AppTest) -> dict[str, str | None]:
    """The cookies the session's last script sets (None: deleted), as the browser would keep them."""
    scripts = [h.proto.body for h in at.get("html") if "document.cookie" in h.proto.body]
    assert scripts, "the run sent no cookie script"
    rows = json.loads(COOKIE_SCRIPT.search(scripts[-1]).group(1))
    for name, value, age in rows:
        assert age <= 31 * 86400, f"{name} is kept too long"
    return {name: value for name, value, _ in rows}


def reload(at: AppTest) -> dict[str, str]:
    """The cookies a reload sends after the session ``at``: the ones it set (percent-encoded as the script does)."""
    from urllib.parse import quote

    return {name: quote(value, safe="") for name, value in cookies_set(at).items() if value is not None}


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'class.sqlite3'}"
    monkeypatch.setenv("CLASS_DB_URL", url)
    monkeypatch.setenv("CLASS_TEACHER_CODE", TEACHER)
    with cb.ClassBoard(url, teacher_code=TEACHER) as check:
        yield check
    classboard.forget_reads()


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_a_reload_keeps_the_class_and_the_nickname(db, lang):
    room = db.open_room(TEACHER)
    with browser():
        first = open_app("pages/classboard.py", lang=lang, query={"room": room})
        first.session_state[classboard.NICKNAME_KEY] = "小美 Mei"
        first.run()
    sent = cookies_set(first)
    assert sent["dl_room"] == room and sent["dl_nick"] == "小美 Mei"
    assert bs.valid_id(sent["dl_browser"])
    assert first.query_params["nick"] == "小美 Mei"  # the URL carries the nickname too
    # a reload of page 1 (its URL lost the room), then the class page from the sidebar
    with browser(reload(first)):
        again = open_app("pages/descent.py", lang=lang)
        assert again.query_params["room"] == room and again.query_params["nick"] == "小美 Mei"
        links = [link for link in again.get("page_link") if "classboard" in link.proto.page]
        assert links and all(f"room={room}" in link.proto.query_string for link in links)
        again.switch_page("pages/classboard.py").run()
    assert not again.exception
    assert again.session_state[classboard.ROOM_KEY] == room
    assert text("classboard.joined", lang, room=room) in [s.value for s in again.success]
    assert again.session_state[identity.ID_KEY] == sent["dl_browser"]


def test_leaving_deletes_the_cookie_and_a_reload_stays_out(db):
    room = db.open_room(TEACHER)
    with browser():
        first = open_app("pages/classboard.py", query={"room": room})
    with browser(reload(first)):
        again = open_app("pages/classboard.py")
        assert again.session_state[classboard.ROOM_KEY] == room
        next(b for b in again.button if b.label == text("classboard.leave")).click().run()
    assert cookies_set(again)["dl_room"] is None
    with browser(reload(again)):
        out = open_app("pages/classboard.py")
    assert state(out, classboard.ROOM_KEY) is None


def test_a_forged_or_closed_room_cookie_joins_nothing(db):
    with browser({"dl_room": "ZZZZZZ", "dl_nick": "x" * 300, "dl_browser": "not-an-id"}):
        at = open_app("pages/classboard.py")
    assert state(at, classboard.ROOM_KEY) is None
    assert "nick" not in at.query_params
    assert bs.valid_id(at.session_state[identity.ID_KEY])  # a new id, not the forged one


def test_the_teacher_unlock_survives_a_reload_without_the_code_leaving_the_server(db):
    with browser():
        first = open_app("pages/classboard.py")
        next(t for t in first.text_input if t.label == text("classboard.teacher_code")).input(TEACHER)
        next(b for b in first.button if b.label == text("classboard.unlock")).click().run()
    assert first.session_state[classboard.TEACHER_KEY] == TEACHER
    sent = cookies_set(first)
    token = sent["dl_teacher"]
    assert TEACHER not in token and TEACHER not in json.dumps(sent) and TEACHER not in json.dumps(dict(first.query_params))
    with browser(reload(first)):
        again = open_app("pages/classboard.py")
    assert again.session_state[classboard.TEACHER_KEY] == TEACHER
    assert [b for b in again.button if b.label == text("classboard.start")]
    # another browser's copy of the token, a changed byte, or another teacher code: locked
    for cookies in ({**reload(first), "dl_browser": identity.new_browser_id()},
                    {**reload(first), "dl_teacher": token[:-1] + ("0" if token[-1] != "0" else "1")}):
        with browser(cookies):
            other = open_app("pages/classboard.py")
        assert not state(other, classboard.TEACHER_KEY)
    with mock.patch.dict(os.environ, {"CLASS_TEACHER_CODE": "new-code"}), browser(reload(first)):
        other = open_app("pages/classboard.py")
    assert not state(other, classboard.TEACHER_KEY)
    # locking deletes the cookie
    with browser(reload(first)):
        again = open_app("pages/classboard.py")
        next(b for b in again.button if b.label == text("classboard.lock")).click().run()
    assert cookies_set(again)["dl_teacher"] is None


def test_a_token_expires():
    at = AppTest.from_string("""
import streamlit as st
from app import identity
st.session_state[identity.ID_KEY] = "0" * 32
now = 1_000_000.0
token = identity.sign("code", "teacher", 60, now=now)
st.session_state["ok"] = identity.verify(token, "code", "teacher", now=now + 59)
st.session_state["late"] = identity.verify(token, "code", "teacher", now=now + 61)
st.session_state["other"] = identity.verify(token, "code", "other", now=now)
st.session_state["wrong"] = identity.verify(token, "cod3", "teacher", now=now)
""").run()
    assert at.session_state["ok"] == 1_000_060
    assert at.session_state["late"] is None and at.session_state["other"] is None and at.session_state["wrong"] is None


def digit(seed: int) -> tuple[np.ndarray, int, str]:
    image = np.random.default_rng(seed).random((28, 28)).astype(np.float32)
    return image, seed % 10, hashlib.sha256(image.tobytes()).hexdigest()


def test_a_reload_keeps_the_kept_digits_and_5cs_runs():
    kept = [digit(i) for i in range(5)]
    log = RunLog()
    curve = pd.DataFrame({"step": np.arange(20), "loss": np.r_[np.linspace(2, 0.5, 18), np.nan, np.inf]})
    log.add({"network": "784-16-10", "lr": 3.0}, results={"accuracy": np.nan, "status": "diverged"}, seconds=2.0,
            curve=curve)
    log.add({"network": "784-32-10", "lr": 0.1}, results={"accuracy": 0.91, "status": "finished"}, seconds=3.5,
            curve=curve.iloc[:10])
    with browser():
        first = open_app("pages/home.py")
        first.session_state[kept_work.KEPT_KEY] = kept
        first.session_state[session.RUNS_KEY] = log
        first.run()
    with browser(reload(first)):
        again = open_app("pages/handwriting.py")
    back = again.session_state[kept_work.KEPT_KEY]
    assert [(label, d) for _, label, d in back] == [(label, d) for _, label, d in kept]
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(back, kept, strict=True))
    runs = again.session_state[session.RUNS_KEY]
    assert runs.table().equals(log.table()) or runs.table().to_dict() == log.table().to_dict()
    pd.testing.assert_frame_equal(runs.curves(), log.curves())
    assert runs._count == 2  # the numbering goes on after a reload


def test_a_tampered_digit_is_dropped():
    kept = [digit(1), digit(2)]
    with browser():
        first = open_app("pages/home.py")
        first.session_state[kept_work.KEPT_KEY] = kept
        first.run()
    path = bs.BrowserStore().path(cookies_set(first)["dl_browser"])
    saved = json.loads(path.read_text())
    saved["parts"]["kept_digits"]["labels"][0] = 11
    path.write_text(json.dumps(saved))
    with browser(reload(first)):
        again = open_app("pages/home.py")
    assert [d for _, _, d in again.session_state[kept_work.KEPT_KEY]] == [kept[1][2]]


@pytest.mark.parametrize("stopped", [False, True])
def test_a_reload_keeps_the_students_own_network_for_the_draw_page(stopped, monkeypatch):
    data = tiny_data(f"tiny-own-{stopped}")
    monkeypatch.setattr("app.training.mnist_data", lambda: data)
    config = mlp.TrainConfig(hidden=(8,), epochs=1, batch_size=16, seed=3)
    trained = models.train_cached(config, data, should_stop=(lambda: True) if stopped else None)
    assert trained.stopped is stopped
    with browser():
        first = open_app("pages/home.py")
        # as app.mnist_session.finish hands a finished run on
        first.session_state[session.LAST_KEY] = {"trained": trained, "diverged": False,
                                                 "accuracy": trained.accuracy, "wall": 1.5}
        first.session_state[SESSION_MODEL] = trained
        first.run()
    with browser(reload(first)):
        again = open_app("pages/home.py")
    own = again.session_state[SESSION_MODEL]
    assert own.config == config and own.stopped is stopped and own.accuracy == trained.accuracy
    for a, b in zip(own.model.state_dict().values(), trained.model.state_dict().values(), strict=True):
        assert np.array_equal(a.numpy(), b.numpy())
    status = again.session_state[SESSION_MODEL_STATUS]
    assert status["diverged"] is False and status["stopped"] is stopped and status["config"] == config
    assert again.session_state[session.LAST_KEY]["wall"] == 1.5


def test_without_cookies_each_session_is_new_and_works():
    with browser():
        first = open_app("pages/home.py")
        first.session_state[kept_work.KEPT_KEY] = [digit(4)]
        first.run()
        again = open_app("pages/handwriting.py")  # the browser refused the cookie: sends none
    assert again.session_state[identity.ID_KEY] != first.session_state[identity.ID_KEY]
    assert not state(again, kept_work.KEPT_KEY)


def test_a_link_with_a_classmates_nickname_does_not_rename_this_browser(db):
    room = db.open_room(TEACHER)
    with browser({"dl_nick": "Mei", "dl_browser": identity.new_browser_id()}):
        at = open_app("pages/classboard.py", query={"room": room, "nick": "Bo"})
    assert at.query_params["nick"] == "Mei" and at.query_params["room"] == room
    assert cookies_set(at)["dl_nick"] == "Mei"
