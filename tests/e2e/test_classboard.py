"""The class board in real browsers: one student posts a run from 5c, another adds a
drawing from the draw page, and a third session, already on the Class page, sees both arrive
without reloading (the board refreshes itself every 2 s).

The app runs on its own server here, on a throw-away SQLite board with a teacher code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from unittest import mock

import pytest
from playwright.sync_api import expect

from app.i18n import STRINGS
from benchmarks import live
from classroom import classboard as cb

from .conftest import ARTIFACTS, PAGE_TIMEOUT_MS, VIEWPORT, wait_for_app
from .test_draw import CANVAS, draw_one

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TEACHER = "e2e-teacher"
# 5c's smallest honest run: one small layer, one epoch (the URL seeds 5c's settings).
QUICK_RUN = "layers=1&h1=16&epochs=1"
ACE = {"layers": 2, "h1": 128, "h2": 64, "activation": "relu", "final": "none", "loss": "cross_entropy",
       "optimizer": "adam", "lr": 0.003, "batch": 256, "epochs": 7, "seed": 0}


def text(key: str, lang: str = "en", **fields) -> str:
    """The visible form of a string-table entry (markdown emphasis removed)."""
    entry = STRINGS[key][lang].replace("**", "")
    return entry.format(**fields) if fields else entry


def pattern(key: str, lang: str = "en", **fields) -> re.Pattern:
    """A string-table entry with its remaining {fields} as wildcards."""
    template = STRINGS[key][lang].replace("**", "")
    for name, value in fields.items():
        template = template.replace("{" + name + "}", str(value))
    return re.compile(re.sub(r"\\\{\w+\\\}", ".+", re.escape(template)))


@pytest.fixture(scope="module")
def class_server(chromium, tmp_path_factory) -> Iterator[tuple[str, str, str]]:
    """The app on its own server with a fresh SQLite board and a room; yields (base URL, room, board URL).
    ``CLASSBOARD_E2E_PORT`` pins the port (a shared machine's allotted range), else any free one."""
    url = f"sqlite:///{tmp_path_factory.mktemp('classboard') / 'class.sqlite3'}"
    with cb.ClassBoard(url, teacher_code=TEACHER) as board:
        room = board.open_room(TEACHER)
    port = int(os.environ.get("CLASSBOARD_E2E_PORT", "0")) or live.free_port()
    with mock.patch.dict(os.environ, {"CLASS_DB_URL": url, "CLASS_TEACHER_CODE": TEACHER}), \
            mock.patch.object(live, "free_port", return_value=port), \
            live.serve_app(log_path=ARTIFACTS / "streamlit-classboard.log") as base:
        yield base, room, url


def session(browser):
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    return context, tab


def metric(tab, key: str):
    return tab.get_by_test_id("stMetric").filter(has_text=text(key)).get_by_test_id("stMetricValue")


def test_two_students_post_and_a_third_session_sees_both(browser, class_server):
    base, room, db_url = class_server
    contexts = []
    try:
        # the projector: the class page, open before anyone posts
        context, board_tab = session(browser)
        contexts.append(context)
        board_tab.goto(f"{base}/classboard?room={room}&lang=en")
        wait_for_app(board_tab)
        expect(board_tab.get_by_text(text("classboard.joined", room=room))).to_be_visible()
        expect(metric(board_tab, "classboard.runs")).to_have_text("0")

        # student 1 trains on 5c and posts the run
        context, mei = session(browser)
        contexts.append(context)
        mei.goto(f"{base}/mnist_train?room={room}&lang=en&{QUICK_RUN}")
        wait_for_app(mei)
        mei.get_by_role("button", name=text("mnist.train.train")).click()
        post = mei.get_by_test_id("stForm").filter(has=mei.get_by_role("button", name=text("classboard.post")))
        expect(post).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        post.get_by_label(text("classboard.nickname")).fill("Mei")
        post.get_by_role("button", name=text("classboard.post")).click()
        expect(mei.get_by_text(pattern("classboard.posted", room=room))).to_be_visible()

        # a run better than Mei's arrives; from the board Mei loads its settings into 5c with one click
        with cb.ClassBoard(db_url, teacher_code=TEACHER) as board:
            board.post_run(room, "Ace", {"page": "mnist_train", **ACE}, 0.999, 99.0)
        mei.get_by_role("link", name=text("classboard.see_board")).click()
        expect(mei.get_by_text(pattern("classboard.best_run", nickname="Ace"))).to_be_visible()
        mei.get_by_role("link", name=text("classboard.load_best")).click()
        wait_for_app(mei)
        # 5c's widgets now hold Ace's settings, though this session had set its own there before
        expect(mei.get_by_role("combobox", name=text("mnist.train.optimizer"))).to_have_value(text("mnist.train.opt_adam"))
        expect(mei.get_by_text(re.compile("784-128-64-10.*7")).first).to_be_visible()
        assert "epochs=7" in mei.url and "optimizer=adam" in mei.url

        # student 2 draws a 1 and adds it to the collection, confirming the label
        context, bo = session(browser)
        contexts.append(context)
        bo.goto(f"{base}/draw?room={room}&lang=en")
        wait_for_app(bo)
        canvas = bo.locator(CANVAS)
        canvas.wait_for(timeout=PAGE_TIMEOUT_MS)
        canvas.scroll_into_view_if_needed()
        draw_one(bo, canvas)
        add = bo.get_by_test_id("stForm").filter(has=bo.get_by_role("button", name=text("classboard.add")))
        expect(add).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        one = add.get_by_role("radio", name="1", exact=True)
        if one.get_attribute("aria-checked") != "true":  # the network's guess comes pre-selected: correct it
            one.click()
        expect(one).to_have_attribute("aria-checked", "true")
        add.get_by_label(text("classboard.nickname")).fill("Bo")
        add.get_by_role("button", name=text("classboard.add")).click()
        expect(bo.get_by_text(pattern("classboard.added", label=1, room=room))).to_be_visible()

        # the class page, never reloaded, shows both within its refresh
        expect(metric(board_tab, "classboard.runs")).to_have_text("2", timeout=15_000)
        expect(metric(board_tab, "classboard.drawings")).to_have_text("1", timeout=15_000)
        expect(metric(board_tab, "classboard.students")).to_have_text("3")
        expect(board_tab.get_by_text(pattern("classboard.best_run", nickname="Ace"))).to_be_visible()
        expect(board_tab.get_by_text(text("classboard.digit", digit=1, count=1))).to_be_visible()
    finally:
        for context in contexts:
            context.close()

    with cb.ClassBoard(db_url, teacher_code=TEACHER) as board:
        runs, drawings = board.runs(room), board.drawings(room)
    assert list(runs["nickname"]) == ["Mei", "Ace"]
    assert runs["settings"][0]["h1"] == 16 and runs["settings"][0]["epochs"] == 1  # as 5c's URL set them
    assert list(drawings["nickname"]) == ["Bo"] and list(drawings["label"]) == [1]
