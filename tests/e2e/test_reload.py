"""A phone reloads tabs all the time (a camera switch, a locked screen): in a real browser, a student
who joined with the class link keeps their class and nickname through sidebar clicks and reloads,
and a reload keeps the digits they kept for lesson 7 and 5c's runs and results; the teacher's unlock
survives a reload. In English on a desktop, in Chinese on a 390×844 phone.

The app runs on its own server here, on a throw-away SQLite board with a teacher code; the browser
work goes to the test session's own folder (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from app.i18n import STRINGS
from benchmarks import live
from classroom import classboard as cb

from .conftest import ARTIFACTS, PAGE_TIMEOUT_MS, wait_for_app
from .test_draw import CANVAS, draw_one

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TEACHER = "e2e-reload-teacher"
QUICK_RUN = "layers=1&h1=16&epochs=1"  # 5c's smallest honest run
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def text(key: str, lang: str, **fields) -> str:
    entry = STRINGS[key][lang].replace("**", "")
    return entry.format(**fields) if fields else entry


@pytest.fixture(scope="module")
def class_server(chromium, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """The app on its own server with a fresh SQLite board; yields (base URL, board URL)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('classboard') / 'class.sqlite3'}"
    with cb.ClassBoard(url, teacher_code=TEACHER):
        pass
    with mock.patch.dict(os.environ, {"CLASS_DB_URL": url, "CLASS_TEACHER_CODE": TEACHER,
                                      "BROWSER_WORK_DIR": str(tmp_path_factory.mktemp("browsers"))}), \
            live.serve_app(log_path=ARTIFACTS / "streamlit-reload.log") as base:
        yield base, url


def params(tab) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(tab.url).query).items()}


def sidebar_to(tab, url_path: str) -> None:
    """Open ``url_path`` with the sidebar's link (opening the sidebar first on a phone)."""
    link = tab.locator(f".st-key-app_nav a[href^='{url_path}?'], .st-key-app_nav a[href*='/{url_path}?']").first
    if phone(tab) and sidebar_open(tab) is False:
        tab.get_by_test_id("stExpandSidebarButton").click()
    expect(link).to_be_visible()
    link.click()
    tab.wait_for_url(re.compile(f"/{url_path}"))
    wait_for_app(tab)
    close_sidebar(tab)


def phone(tab) -> bool:
    return tab.viewport_size["width"] < 640


def sidebar_open(tab) -> bool | None:
    collapsed = tab.get_by_test_id("stSidebar").get_attribute("data-collapsed")
    return None if collapsed is None else collapsed == "false"


def close_sidebar(tab) -> None:
    """On a phone the open sidebar covers the page (and may stay open after a reload): close it."""
    if phone(tab) and sidebar_open(tab):
        tab.get_by_test_id("stSidebar").hover()
        tab.get_by_test_id("stSidebarCollapseButton").locator("button").click()
        expect(tab.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")


def reload(tab) -> None:
    tab.reload(timeout=PAGE_TIMEOUT_MS)
    wait_for_app(tab)
    close_sidebar(tab)


def goto(tab, url: str) -> None:
    tab.goto(url, timeout=PAGE_TIMEOUT_MS)
    wait_for_app(tab)
    close_sidebar(tab)


@pytest.mark.parametrize(("lang", "viewport"), [("en", DESKTOP), ("zh", PHONE)], ids=["en-desktop", "zh-phone"])
def test_join_sidebar_reload_sidebar_keeps_the_class_nickname_and_work(browser, class_server, lang, viewport):
    base, db_url = class_server
    with cb.ClassBoard(db_url, teacher_code=TEACHER) as board:
        room = board.open_room(TEACHER)
    nickname = "小美" if lang == "zh" else "Mei"
    context = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    tab = context.new_page()
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        # the class link, then page 1 from the sidebar, a reload, page 2 from the sidebar
        goto(tab, f"{base}/classboard?room={room}&lang={lang}")
        expect(tab.get_by_text(text("classboard.joined", lang, room=room))).to_be_visible()
        sidebar_to(tab, "descent")
        assert params(tab)["room"] == room
        reload(tab)
        assert params(tab)["room"] == room
        sidebar_to(tab, "regression")
        assert params(tab)["room"] == room and params(tab)["lang"] == lang
        sidebar_to(tab, "classboard")
        expect(tab.get_by_text(text("classboard.joined", lang, room=room))).to_be_visible()
        expect(tab.get_by_label(text("classboard.code", lang))).to_have_count(0)  # no join form

        # 5c opened by a typed address without the class: the cookie brings it back; train, post
        goto(tab, f"{base}/mnist_train?lang={lang}&{QUICK_RUN}")
        assert params(tab)["room"] == room
        tab.get_by_role("button", name=text("mnist.train.train", lang)).click()
        post = tab.get_by_test_id("stForm").filter(has=tab.get_by_role("button", name=text("classboard.post", lang)))
        expect(post).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        expect(post.get_by_text(room)).to_be_visible()  # 5c is in the class
        post.get_by_label(text("classboard.nickname", lang)).fill(nickname)
        post.get_by_role("button", name=text("classboard.post", lang)).click()
        expect(tab.get_by_role("link", name=text("classboard.see_board", lang))).to_be_visible()
        wait_for_app(tab)
        assert params(tab).get("nick") == nickname

        # a reload keeps 5c's results, its compare table and the nickname
        reload(tab)
        expect(tab.get_by_role("heading", name=text("mnist.train.results", lang))).to_be_visible()
        expect(tab.get_by_role("heading", name=text("mnist.train.compare", lang))).to_be_visible()
        post = tab.get_by_test_id("stForm").filter(has=tab.get_by_role("button", name=text("classboard.post", lang)))
        expect(post.get_by_label(text("classboard.nickname", lang))).to_have_value(nickname)

        # the draw page, typed without the class or the nickname: both come back; keep a digit
        goto(tab, f"{base}/draw?lang={lang}&model=course")  # the course network: the quickest to train
        assert params(tab)["room"] == room and params(tab).get("nick") == nickname and params(tab)["model"] == "course"
        keep_a_one(tab, lang, room, nickname, count=0)

        # a reload, page 2 and back from the sidebar: the kept digit is still there
        reload(tab)
        sidebar_to(tab, "regression")
        assert params(tab)["room"] == room and params(tab).get("nick") == nickname
        sidebar_to(tab, "draw")
        canvas = tab.locator(CANVAS)
        canvas.wait_for(timeout=PAGE_TIMEOUT_MS)
        canvas.scroll_into_view_if_needed()
        draw_one(tab, canvas)
        expect(tab.get_by_text(text("draw.kept_count", lang, count=1))).to_be_visible()
    except Exception:
        screenshot(tab, f"reload-{lang}")
        raise
    finally:
        context.close()


def screenshot(tab, name: str) -> None:
    """The page as it was when a step failed (this test opens its own tabs: conftest's hook misses them)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with contextlib.suppress(Exception):  # the step's own failure is what matters
        tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def keep_a_one(tab, lang: str, room: str, nickname: str, count: int) -> None:
    """Draw a 1, see the class collection's box (with the nickname), keep it for lesson 7 labelled 1."""
    canvas = tab.locator(CANVAS)
    canvas.wait_for(timeout=PAGE_TIMEOUT_MS)
    canvas.scroll_into_view_if_needed()
    draw_one(tab, canvas)
    add = tab.get_by_test_id("stForm").filter(has=tab.get_by_role("button", name=text("classboard.add", lang)))
    expect(add).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(add.get_by_label(text("classboard.nickname", lang))).to_have_value(nickname)
    expect(tab.get_by_text(text("draw.kept_count", lang, count=count))).to_be_visible()
    keep = tab.get_by_test_id("stForm").filter(has=tab.get_by_role("button", name=text("draw.keep", lang), exact=True))
    keep.get_by_role("radio", name="1", exact=True).click()
    keep.get_by_role("button", name=text("draw.keep", lang), exact=True).click()
    expect(tab.get_by_text(text("draw.kept", lang, label=1, count=count + 1))).to_be_visible()


def test_the_teacher_stays_unlocked_through_a_reload(browser, class_server):
    base, _ = class_server
    context = browser.new_context(viewport=DESKTOP)
    tab = context.new_page()
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        goto(tab, f"{base}/classboard?lang=en")
        tab.get_by_text(text("classboard.teacher", "en")).click()
        tab.get_by_label(text("classboard.teacher_code", "en")).fill(TEACHER)
        tab.get_by_role("button", name=text("classboard.unlock", "en")).click()
        expect(tab.get_by_role("button", name=text("classboard.start", "en"))).to_be_visible()
        assert TEACHER not in tab.url
        reload(tab)
        expect(tab.get_by_role("button", name=text("classboard.start", "en"))).to_be_visible()
        assert all(TEACHER not in c["value"] for c in context.cookies())
        tab.get_by_role("button", name=text("classboard.lock", "en")).click()
        expect(tab.get_by_label(text("classboard.teacher_code", "en"))).to_be_visible()
        reload(tab)
        tab.get_by_text(text("classboard.teacher", "en")).click()
        expect(tab.get_by_label(text("classboard.teacher_code", "en"))).to_be_visible()
    except Exception:
        screenshot(tab, "reload-teacher")
        raise
    finally:
        context.close()
