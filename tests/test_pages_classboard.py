"""The class page and the board's shared widgets (app/classboard.py) in AppTest, on an SQLite
board in a temporary folder: joining, posting a run and a drawing, the leaderboard, the best run
loaded into 5c, the teacher's controls, the projector view, and a translated message (with
nothing stored) for every refusal."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile

import numpy as np
import pyarrow as pa
import pytest
from conftest import ROOT, assert_valid_vega_lite, open_page
from streamlit.testing.v1 import AppTest

from app import classboard
from app.i18n import LANGUAGES, STRINGS
from classroom import classboard as cb

pytestmark = pytest.mark.slow  # whole pages in AppTest: left out of make test-fast

TEACHER = "sesame-4711"
CJK = re.compile(r"[\u4e00-\u9fff]")


def text(key: str, lang: str = "zh", **fields) -> str:
    return STRINGS[key][lang].format(**fields)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def messages(at: AppTest, kind: str) -> list[str]:
    return [el.value for el in at.get(kind)]


def state(at: AppTest, key: str):
    """A session-state value, or None where the session has no such key."""
    try:
        return at.session_state[key]
    except KeyError:
        return None


def by_label(elements, label: str):
    found = [el for el in elements if el.label == label]
    assert found, f"no element labelled {label!r} among {[el.label for el in elements]}"
    return found[0]


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A fresh SQLite board with a teacher code, as the app will open it; returns a second,
    independent connection to the same file for the tests' own checks."""
    url = f"sqlite:///{tmp_path / 'class.sqlite3'}"
    monkeypatch.setenv("CLASS_DB_URL", url)
    monkeypatch.setenv("CLASS_TEACHER_CODE", TEACHER)
    with cb.ClassBoard(url, teacher_code=TEACHER) as check:
        yield check
    classboard.forget_reads()


def digit_one() -> np.ndarray:
    image = np.zeros((28, 28), dtype=np.float32)
    image[4:24, 13:16] = 1.0
    return image


# --------------------------------------------------------------------------- joining


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_join_by_typed_code_and_a_wrong_code_is_refused(db, lang):
    room = db.open_room(TEACHER)
    at = open_page("pages/classboard.py", lang=lang)
    no_exception(at)
    form_input = by_label(at.text_input, text("classboard.code", lang))
    form_input.input("NOPE99")  # a form's fields are sent with its button
    by_label(at.button, text("classboard.join", lang)).click().run()
    assert messages(at, "error") == [text("classboard.err.room_unknown", lang)]
    assert state(at, classboard.ROOM_KEY) is None

    # typed in lower case with spaces, as a student might: still the room
    by_label(at.text_input, text("classboard.code", lang)).input(" " + room[:3].lower() + " " + room[3:].lower())
    by_label(at.button, text("classboard.join", lang)).click().run()
    no_exception(at)
    assert at.session_state[classboard.ROOM_KEY] == room
    assert text("classboard.joined", lang, room=room) in messages(at, "success")
    assert at.query_params["room"] == room  # the URL carries it: copying it shares the class


def test_join_by_link_shows_the_leaderboard_ranked_by_each_students_best_run(db):
    room = db.open_room(TEACHER)
    posts = [("Mei", 0.91, 30.0, 0.1, "sgd"), ("Ann", 0.97, 50.0, 0.001, "adam"), ("Mei", 0.95, 20.0, 0.01, "sgd"),
             ("Bo", 0.97, 40.0, 0.003, "rmsprop"), ("'); DROP TABLE runs;--", 0.5, 5.0, 3.0, "sgd")]
    for name, accuracy, seconds, lr, optimizer in posts:
        db.post_run(room, name, {"lr": lr, "optimizer": optimizer}, accuracy, seconds)
    at = open_page("pages/classboard.py", query={"room": room})
    no_exception(at)
    assert at.session_state[classboard.ROOM_KEY] == room
    table = at.dataframe[0].value
    # each nickname's best run, best first; a tie on accuracy goes to the faster run
    assert list(table[text("classboard.col.nickname")]) == ["Bo", "Ann", "Mei", "'); DROP TABLE runs;--"]
    assert list(table[text("classboard.col.accuracy")]) == ["97.00%", "97.00%", "95.00%", "50.00%"]
    assert list(table[text("classboard.col.runs")]) == [1, 1, 2, 1]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[text("classboard.students")] == "4" and metrics[text("classboard.runs")] == "5"
    assert metrics[text("classboard.best_accuracy")] == "97.00%"
    # the chart: one dot per run, learning rate against accuracy, coloured by optimizer
    chart = at.get("vega_lite_chart")[0]
    assert '"type":"log"' in chart.proto.spec.replace(" ", "")
    assert_valid_vega_lite(json.loads(chart.proto.spec))
    (dots,) = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    assert sorted(zip(dots["nickname"], dots["lr"], dots["accuracy"])) == sorted((n, lr, a) for n, a, _, lr, _ in posts)
    assert set(dots["optimizer"]) == {text(f"mnist.train.opt_{o}") for o in ("sgd", "adam", "rmsprop")}
    assert len(db.runs(room)) == 5  # the nickname was stored as text, the table is still there


def test_a_link_to_an_unknown_room_joins_nothing(db):
    at = open_page("pages/classboard.py", query={"room": "ZZZZZZ"})
    no_exception(at)
    assert state(at, classboard.ROOM_KEY) is None
    assert by_label(at.text_input, text("classboard.code"))


def test_leave_forgets_the_room(db):
    room = db.open_room(TEACHER)
    at = open_page("pages/classboard.py", query={"room": room})
    by_label(at.button, text("classboard.leave")).click().run()
    no_exception(at)
    assert state(at, classboard.ROOM_KEY) is None
    assert "room" not in at.query_params


# ------------------------------------------------------------------- the best run into 5c


def test_the_best_runs_settings_open_5c_with_them(db):
    room = db.open_room(TEACHER)
    best = {"layers": 3, "h1": 512, "h2": 128, "h3": 32, "activation": "tanh", "final": "none", "loss": "cross_entropy",
            "optimizer": "adam", "lr": 0.003, "momentum": 0.5, "schedule": "onecycle", "batch": 128, "epochs": 4,
            "seed": 7}
    db.post_run(room, "Mei", {"page": "mnist_train", **best}, 0.981, 60.0)
    db.post_run(room, "Ann", {"page": "mnist_train", **best, "lr": 0.1}, 0.9, 60.0)
    at = open_page("pages/classboard.py", query={"room": room})
    no_exception(at)
    link = next(link for link in at.get("page_link") if link.proto.label == text("classboard.load_best"))
    assert link.proto.page.endswith("mnist_train")
    query = dict(pair.split("=") for pair in link.proto.query_string.split("&"))
    assert query["room"] == room

    # 5c opened with that query holds exactly the best run's settings
    train = open_page("pages/mnist_train.py", query={k: v for k, v in query.items() if k != "lang"}, timeout=180)
    no_exception(train)
    assert {name: train.session_state[f"mnist_train.{name}"] for name in best} == best


def test_a_trainconfig_posted_as_asdict_loads_into_5c_too():
    params = classboard.train_page_params({"hidden": [256, 64], "activation": "relu", "final_activation": None,
                                      "epochs": 5, "batch_size": 256, "lr": 0.005, "optimizer": "adam",
                                      "momentum": 0.9, "loss": "cross_entropy", "seed": 0, "schedule": None,
                                      "conv": [8, 16], "augment": 1.0})
    assert params == {"layers": "2", "h1": "256", "h2": "64", "activation": "relu", "final": "none", "epochs": "5",
                      "batch": "256", "lr": "0.005", "optimizer": "adam", "momentum": "0.9", "loss": "cross_entropy",
                      "seed": "0", "schedule": "none"}


# ------------------------------------------------------------------- posting via the widgets


HOST = """
import streamlit as st
from app import classboard

def host():
    kind, args = st.session_state["test.widget"]
    (classboard.post_run_button if kind == "run" else classboard.add_drawing_button)(*args)

st.navigation([st.Page(host, title="host", default=True), st.Page(classboard.CLASS_PAGE)]).run()
"""


@pytest.fixture
def host(tmp_path):
    """A one-page app that places a board widget, beside the real pages (its links resolve)."""
    (tmp_path / "pages").symlink_to(ROOT / "pages")
    (tmp_path / "host.py").write_text(HOST, encoding="utf-8")
    return tmp_path / "host.py"


def post_script(*args):
    return ("run", ("mnist_train", *args))


def drawing_script(*args):
    return ("drawing", ("draw", *args))


@pytest.fixture
def widget(host):
    def render(widget, *args, room=None, lang="zh") -> AppTest:
        at = AppTest.from_file(str(host), default_timeout=60)
        at.query_params["lang"] = lang
        at.session_state["test.widget"] = widget(*args)
        if room is not None:
            at.session_state[classboard.ROOM_KEY] = room
        return at.run()

    return render


def test_without_a_room_the_widgets_say_where_to_join(db, widget):
    for at in (widget(post_script, {"lr": 0.1}, 0.9, 3.0), widget(drawing_script, digit_one(), 1)):
        no_exception(at)
        assert messages(at, "caption") == ["👩‍🏫 " + text("classboard.join_hint")]
        assert not at.get("form")


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_post_a_run_once_with_the_nickname_remembered(db, widget, lang):
    room = db.open_room(TEACHER)
    settings = {"lr": 0.01, "optimizer": "sgd", "hidden": (256, 64)}  # a tuple, as TrainConfig holds it
    at = widget(post_script, settings, 0.9731, 41.5, room=room, lang=lang)
    by_label(at.text_input, text("classboard.nickname", lang)).input("  Mei  ")
    at.button[0].click().run()
    no_exception(at)
    runs = db.runs(room)
    assert list(runs["nickname"]) == ["Mei"] and math.isclose(runs["accuracy"][0], 0.9731)
    assert runs["settings"][0] == {"page": "mnist_train", "lr": 0.01, "optimizer": "sgd", "hidden": [256, 64]}
    entry = int(runs["id"][0])
    assert messages(at, "success") == [text("classboard.posted", lang, id=entry, room=room)]
    assert at.session_state[classboard.NICKNAME_KEY] == "Mei"
    at.run()  # a second look: the button is spent, nothing more is posted
    assert at.button[0].disabled and len(db.runs(room)) == 1


REFUSED_RUNS = [
    ("", {"lr": 0.1}, 0.9, 1.0, "nickname_empty"),
    ("Mei\x07", {"lr": 0.1}, 0.9, 1.0, "nickname_invalid"),
    ("M" * 30, {"lr": 0.1}, 0.9, 1.0, "nickname_too_long"),
    ("Mei", {"lr": 0.1}, 1.5, 1.0, "accuracy_out_of_range"),
    ("Mei", {"lr": 0.1}, float("nan"), 1.0, "accuracy_out_of_range"),
    ("Mei", {"lr": 0.1}, 0.9, -1.0, "seconds_out_of_range"),
    ("Mei", {"lr": float("nan")}, 0.9, 1.0, "settings_not_plain"),
    ("Mei", {"data": "x" * 5000}, 0.9, 1.0, "settings_too_large"),
]


@pytest.mark.parametrize(("nickname", "settings", "accuracy", "seconds", "code"), REFUSED_RUNS,
                         ids=[case[-1] + str(i) for i, case in enumerate(REFUSED_RUNS)])
def test_a_refused_run_is_worded_and_nothing_is_stored(db, widget, nickname, settings, accuracy, seconds, code):
    room = db.open_room(TEACHER)
    at = widget(post_script, settings, accuracy, seconds, room=room)
    at.text_input[0].set_value(nickname)
    at.button[0].click().run()
    no_exception(at)
    assert messages(at, "error") == [text(f"classboard.err.{code}")]
    assert db.runs(room).empty


def test_posting_into_a_closed_class_and_too_fast_is_refused(db, widget):
    room = db.open_room(TEACHER)
    at = widget(post_script, {"lr": 0.1}, 0.9, 1.0, room=room)
    at.text_input[0].input("Mei")
    at.button[0].click().run()
    assert len(db.runs(room)) == 1
    other = widget(drawing_script, digit_one(), 1, room=room)
    other.session_state[classboard.CLIENT_KEY] = at.session_state[classboard.CLIENT_KEY]  # the same student, a moment later
    other.get("button_group")[0].set_value(1)
    other.text_input[0].input("Mei")
    other.button[0].click().run()
    assert messages(other, "error") == [text("classboard.err.rate_limited")] and db.drawings(room).empty

    db.close_room(room, TEACHER)
    late = widget(post_script, {"lr": 0.2}, 0.8, 1.0, room=room)
    late.text_input[0].input("Bo")
    late.button[0].click().run()
    assert messages(late, "error") == [text("classboard.err.room_closed")] and len(db.runs(room)) == 1


def test_add_a_drawing_with_the_label_the_student_confirms(db, widget):
    room = db.open_room(TEACHER)
    image = digit_one()
    at = widget(drawing_script, image, 7, room=room, lang="en")
    no_exception(at)
    label = at.get("button_group")[0]
    assert label.value is None  # no default: a press never just confirms the network's guess
    assert text("classboard.label_guess", "en", digit=7) in messages(at, "caption")  # shown beside it
    label.set_value(1)  # the student picks what they wrote: a 1
    at.text_input[0].input("Mei")
    at.button[0].click().run()
    no_exception(at)
    stored = db.drawings(room)
    assert list(stored["label"]) == [1]
    np.testing.assert_array_equal(stored["image"][0], np.rint(image * 255).astype(np.uint8))
    assert messages(at, "success") == [text("classboard.added", "en", id=int(stored["id"][0]), label=1, room=room)]
    at.button[0].click().run()  # the same drawing again: not stored twice
    assert len(db.drawings(room)) == 1
    assert messages(at, "info") == [text("classboard.added_already", "en", id=int(stored["id"][0]))]


REFUSED_DRAWINGS = [
    (np.ones((27, 28)), "image_shape"),
    (np.ones((4000, 4000), dtype=np.uint8), "image_shape"),
    (np.where(digit_one() > 0, np.nan, 0.0), "image_not_finite"),
    (digit_one() * 3.0, "image_out_of_range"),
    (np.full((28, 28), "ink"), "image_not_numeric"),
]


@pytest.mark.parametrize(("image", "code"), REFUSED_DRAWINGS, ids=[c for _, c in REFUSED_DRAWINGS])
def test_a_refused_drawing_is_worded_and_nothing_is_stored(db, widget, image, code):
    room = db.open_room(TEACHER)
    at = widget(drawing_script, image, 3, room=room)
    at.get("button_group")[0].set_value(3)
    at.text_input[0].input("Mei")
    at.button[0].click().run()
    no_exception(at)
    assert messages(at, "error") == [text(f"classboard.err.{code}")]
    assert db.drawings(room).empty


def test_a_label_left_unpicked_is_refused(db, widget):
    room = db.open_room(TEACHER)
    at = widget(drawing_script, digit_one(), 1, room=room)
    at.text_input[0].input("Mei")
    at.button[0].click().run()
    assert messages(at, "warning") == [text("classboard.label_missing")] and db.drawings(room).empty


def test_an_empty_canvas_offers_nothing_to_add(db, widget):
    room = db.open_room(TEACHER)
    at = widget(drawing_script, np.zeros((28, 28)), 0, room=room)
    assert messages(at, "caption") == [text("classboard.draw_first")] and not at.button


def test_every_refusal_has_its_own_words_in_both_languages():
    for code in cb.ERROR_MESSAGES:
        zh, en = text(f"classboard.err.{code}", "zh"), text(f"classboard.err.{code}", "en")
        assert CJK.search(zh) and not CJK.search(en), code
    assert len({text(f"classboard.err.{code}") for code in cb.ERROR_MESSAGES}) == len(cb.ERROR_MESSAGES)


# ------------------------------------------------------------------------------ the teacher


def unlock(at: AppTest, code: str, lang: str = "zh") -> AppTest:
    by_label(at.text_input, text("classboard.teacher_code", lang)).input(code)
    return by_label(at.button, text("classboard.unlock", lang)).click().run()


def test_a_wrong_teacher_code_is_refused_and_an_unset_one_said_so(db, monkeypatch):
    at = unlock(open_page("pages/classboard.py"), TEACHER + "x")
    no_exception(at)
    assert messages(at, "error") == [text("classboard.err.teacher_code_wrong")]
    assert state(at, classboard.TEACHER_KEY) is None
    assert not [b for b in at.button if b.label == text("classboard.start")]
    assert all(TEACHER not in str(v) for v in at.query_params.values())

    monkeypatch.delenv("CLASS_TEACHER_CODE")
    at = unlock(open_page("pages/classboard.py"), TEACHER)
    assert messages(at, "error") == [text("classboard.err.teacher_code_unset")]


def test_the_teacher_starts_a_class_hides_an_entry_and_exports_the_collection(db):
    at = open_page("pages/classboard.py")
    passcode = by_label(at.text_input, text("classboard.teacher_code"))
    assert passcode.proto.type == passcode.proto.PASSWORD
    at = unlock(at, TEACHER)
    no_exception(at)
    by_label(at.button, text("classboard.start")).click().run()
    no_exception(at)
    room = at.session_state[classboard.ROOM_KEY]
    assert db.room_is_open(room)
    assert TEACHER not in str(dict(at.query_params))  # never in a URL

    run_id = db.post_run(room, "Troll", {"lr": 0.1}, 1.0, 1.0)
    keep_id = db.post_run(room, "Mei", {"lr": 0.01}, 0.9, 1.0)
    drawings = {db.add_drawing(room, "Mei", label, np.rint(digit_one() * 255).astype(np.uint8) // (label + 1))
                : label for label in (1, 7)}
    classboard.forget_reads()
    at.run()
    by_label(at.selectbox, text("classboard.entry")).set_value(run_id).run()
    by_label(at.button, text("classboard.hide")).click().run()
    no_exception(at)
    assert list(db.runs(room)["id"]) == [keep_id]
    assert list(leaderboard(at)[text("classboard.col.nickname")]) == ["Mei"]
    assert db.runs(room, include_hidden=True).set_index("id")["hidden"][run_id]

    by_label(at.button, text("classboard.export")).click().run()
    no_exception(at)
    exported_room, blob = at.session_state["classboard.__export_zip"]
    assert exported_room == room
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("labels.csv").decode())))
        assert {int(r["id"]): int(r["label"]) for r in rows} == drawings
        assert sorted(archive.namelist()) == sorted(["labels.csv", *(f"{lab}/{i}.png" for i, lab in drawings.items())])
    assert [b for b in at.get("download_button") if b.proto.label == text("classboard.download")]

    by_label(at.button, text("classboard.close")).click().run()
    assert not db.room_is_open(room)
    assert text("classboard.err.room_closed") in messages(at, "warning")


def leaderboard(at: AppTest, lang: str = "zh"):
    """The leaderboard's table (the teacher's list of classes is a table too)."""
    tables = [d.value for d in at.dataframe if text("classboard.col.nickname", lang) in d.value.columns]
    assert len(tables) == 1, [list(d.value.columns) for d in at.dataframe]
    return tables[0]


def in_order(at: AppTest) -> list:
    """The main area's elements in the order the page shows them."""
    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)
    return list(walk(at.main))


def where(elements: list, kind: str, label: str) -> int:
    found = [i for i, el in enumerate(elements) if el.type == kind
             and (getattr(el, "label", None) == label or getattr(el, "value", None) == label)]
    assert found, f"no {kind} {label!r}"
    return found[0]


def metric(at: AppTest, key: str, lang: str = "zh") -> str:
    return by_label(at.metric, text(key, lang)).value


def teacher_with_a_class(db) -> tuple[AppTest, str]:
    at = unlock(open_page("pages/classboard.py"), TEACHER)
    by_label(at.button, text("classboard.start")).click().run()
    return at, at.session_state[classboard.ROOM_KEY]


def test_an_unlocked_teachers_tools_head_the_page_and_a_students_unlock_stays_below(db):
    at, room = teacher_with_a_class(db)
    db.post_run(room, "Mei", {"lr": 0.1}, 0.9, 1.0)
    db.add_drawing(room, "Mei", 1, digit_one())
    classboard.forget_reads()
    at.run()
    no_exception(at)
    shown = in_order(at)
    tools = where(shown, "expander", text("classboard.teacher"))
    assert tools < where(shown, "subheader", text("classboard.leaderboard")) < where(
        shown, "subheader", text("classboard.handwriting"))
    assert tools < where(shown, "button", text("classboard.start")) < where(shown, "metric", text("classboard.students"))

    student = open_page("pages/classboard.py", query={"room": room})
    shown = in_order(student)
    assert where(shown, "subheader", text("classboard.handwriting")) < where(shown, "expander", text("classboard.teacher"))


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_the_teacher_renames_a_student_and_removes_them_from_the_board_and_its_counts(db, lang):
    at = unlock(open_page("pages/classboard.py", lang=lang), TEACHER, lang)
    by_label(at.button, text("classboard.start", lang)).click().run()
    room = at.session_state[classboard.ROOM_KEY]
    db.post_run(room, "Mei", {"lr": 0.1}, 0.95, 1.0)
    db.add_drawing(room, "Mei", 7, digit_one())
    db.post_run(room, "Bo", {"lr": 0.2}, 0.5, 1.0)
    db.post_run(room, "Ann", {"lr": 0.3}, 0.6, 1.0)
    classboard.forget_reads()
    at.run()
    assert (metric(at, "classboard.students", lang), metric(at, "classboard.runs", lang)) == ("3", "3")
    pick = by_label(at.selectbox, text("classboard.student_pick", lang))
    assert list(pick.options) == [
        text("classboard.student_choice", lang, nickname=n, entries=k) for n, k in (("Ann", 1), ("Bo", 1), ("Mei", 2))]

    pick.set_value("Mei").run()
    by_label(at.text_input, text("classboard.new_nickname", lang)).input("Bo").run()
    by_label(at.button, text("classboard.rename", lang)).click().run()
    assert text("classboard.err.nickname_taken", lang) in messages(at, "error")
    assert set(db.runs(room)["nickname"]) == {"Mei", "Bo", "Ann"}  # nothing changed

    by_label(at.text_input, text("classboard.new_nickname", lang)).input("小美").run()
    by_label(at.button, text("classboard.rename", lang)).click().run()
    no_exception(at)
    assert set(db.runs(room)["nickname"]) == {"小美", "Bo", "Ann"} and list(db.drawings(room)["nickname"]) == ["小美"]
    assert list(leaderboard(at, lang)[text("classboard.col.nickname", lang)]) == ["小美", "Ann", "Bo"]

    by_label(at.selectbox, text("classboard.student_pick", lang)).set_value("小美").run()
    by_label(at.button, text("classboard.remove_student", lang)).click().run()
    no_exception(at)
    assert db.drawings(room).empty and set(db.runs(room)["nickname"]) == {"Bo", "Ann"}
    counts = [metric(at, f"classboard.{key}", lang) for key in ("students", "runs", "drawings", "best_accuracy")]
    assert counts == ["2", "2", "0", "60.00%"]
    assert list(leaderboard(at, lang)[text("classboard.col.nickname", lang)]) == ["Ann", "Bo"]
    pick = by_label(at.selectbox, text("classboard.student_pick", lang))
    assert pick.value == "小美" and pick.options[-1] == " · ".join((
        text("classboard.student_choice", lang, nickname="小美", entries=2), text("classboard.student_removed", lang)))

    by_label(at.button, text("classboard.restore_student", lang)).click().run()
    no_exception(at)
    assert metric(at, "classboard.students", lang) == "3" and len(db.drawings(room)) == 1


def test_students_have_no_controls_over_entries(db):
    room = db.open_room(TEACHER)
    db.post_run(room, "Mei", {"lr": 0.1}, 0.9, 1.0)
    at = open_page("pages/classboard.py", query={"room": room})
    labels = {b.label for b in at.button}
    assert labels == {text("classboard.leave"), text("classboard.ask_models"), text("classboard.unlock")}
    assert not at.selectbox


# --------------------------------------------------------------------------- the projector


def test_the_projector_view_has_the_board_in_large_type_and_no_controls(db):
    room = db.open_room(TEACHER)
    db.post_run(room, "Mei", {"lr": 0.1, "optimizer": "sgd"}, 0.9, 1.0)
    db.add_drawing(room, "Mei", 1, digit_one())
    at = open_page("pages/classboard.py", query={"room": room, "view": "projector"})
    no_exception(at)
    assert not at.button and not at.text_input and not at.selectbox and not at.get("form")
    assert list(at.table[0].value[text("classboard.col.nickname")]) == ["Mei"]
    assert any("font-size: 4.5rem" in el.proto.body for el in at.get("html"))
    assert text("classboard.projector_room", room=room) in [el.value for el in at.title]


def test_the_projector_shows_the_class_link_beside_its_qr_code(db):
    from PIL import Image

    room = db.open_room(TEACHER)
    for lang in LANGUAGES:
        at = open_page("pages/classboard.py", lang=lang, query={"room": room, "view": "projector"})
        no_exception(at)
        link = classboard.join_link(room).replace("lang=zh", f"lang={lang}")
        assert f"room={room}" in link and f"lang={lang}" in link
        assert text("classboard.projector_join", lang, link=link) in [el.value for el in at.markdown]
        (qr,) = [el for el in in_order(at) if el.type == "image"]
        assert qr.proto.imgs[0].alt == text("classboard.qr_alt", lang, link=link)
        assert qr.proto.imgs[0].caption == text("classboard.qr_caption", lang)
    # The picture is a QR code as the standard draws one: a white quiet zone of 4 modules and the
    # three 7×7 finder squares (dark ring, light ring, dark 3×3 centre) in three corners.
    picture = np.asarray(Image.open(io.BytesIO(classboard.join_qr(link))).convert("L")) < 128
    side = picture.shape[0] // 10
    assert picture.shape == (side * 10, side * 10)
    modules = picture[5::10, 5::10]  # each module's centre
    assert not modules[:4].any() and not modules[-4:].any() and not modules[:, :4].any() and not modules[:, -4:].any()
    finder = np.ones((7, 7), bool)
    finder[1:6, 1:6] = False
    finder[2:5, 2:5] = True
    inner = modules[4:-4, 4:-4]
    for corner in (inner[:7, :7], inner[:7, -7:], inner[-7:, :7]):
        np.testing.assert_array_equal(corner, finder)
    assert not np.array_equal(inner[-7:, -7:], finder)  # the fourth corner has none


def test_the_handwriting_shows_a_grid_per_digit(db):
    room = db.open_room(TEACHER)
    for label in (1, 1, 7):
        db.add_drawing(room, "Mei", label, digit_one())
    at = open_page("pages/classboard.py", query={"room": room})
    no_exception(at)
    shown = messages(at, "markdown")
    assert text("classboard.digit", digit=1, count=2) in shown and text("classboard.digit", digit=7, count=1) in shown
    assert len(at.get("image")) == 2


# ------------------------------------------------------------------ the networks read our writing


@pytest.fixture
def small_mnist(tmp_path, monkeypatch):
    """No MNIST anywhere: the app falls back to scikit-learn's small digits, quick to train on."""
    from app import ui
    from lessons import mnist

    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    monkeypatch.setattr(mnist, "DEFAULT_ROOT", tmp_path / "no-mnist-here")
    ui.mnist_data.clear()
    yield mnist.load_mnist()
    ui.mnist_data.clear()


@pytest.mark.slow
def test_each_network_reads_the_collection_and_shows_what_it_misread(db, small_mnist):
    import torch

    from app import ui
    from lessons import mlp

    room = db.open_room(TEACHER)
    images, labels = small_mnist.test_images[:40], small_mnist.test_labels[:40]
    for k, (image, label) in enumerate(zip(images, labels, strict=True)):
        db.add_drawing(room, f"s{k % 5}", int(label), image)
    at = open_page("pages/classboard.py", query={"room": room}, timeout=600)
    by_label(at.button, text("classboard.ask_models")).click().run()
    no_exception(at)
    shown = {m.label: m.value for m in at.metric}
    for name in ("course", "best", "robust"):
        model = ui.trained_model(mlp.preset_for(name, small_mnist)).model
        with torch.no_grad():  # the reference: the network's largest output, straight from torch
            read = model(mlp.normalise(images / 255.0)).argmax(dim=1).numpy()
        wrong = int((read != labels).sum())
        assert shown[text(f"classboard.model.{name}")] == f"{1 - wrong / len(labels):.0%}", name
        assert [e for e in at.expander if e.label == text("classboard.misread", model=text(f"classboard.model.{name}"),
                                                              count=wrong)], name


def test_the_teacher_code_may_come_from_streamlit_secrets(db, monkeypatch):
    monkeypatch.delenv("CLASS_TEACHER_CODE")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.secrets["CLASS_TEACHER_CODE"] = TEACHER
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page("pages/classboard.py").run()
    at = unlock(at, TEACHER)
    no_exception(at)
    assert state(at, classboard.TEACHER_KEY) == TEACHER
    by_label(at.button, text("classboard.start")).click().run()
    assert db.room_is_open(state(at, classboard.ROOM_KEY))


def test_runs_and_drawings_are_numbered_each_on_their_own(db, widget):
    """Runs and drawings share the board's ids; a student reads their entry's number among its kind."""
    room = db.open_room(TEACHER)
    for name in ("Ann", "Bo"):
        db.post_run(room, name, {"lr": 0.1}, 0.9, 1.0)
    at = widget(drawing_script, digit_one(), 1, room=room, lang="en")
    at.get("button_group")[0].set_value(1)
    at.text_input[0].input("Mei")
    at.button[0].click().run()
    no_exception(at)
    assert int(db.drawings(room)["id"][0]) == 3  # the board's id ...
    assert messages(at, "success") == [text("classboard.added", "en", id=1, label=1, room=room)]  # ... drawing No. 1
    run = widget(post_script, {"lr": 0.2}, 0.8, 1.0, room=room, lang="en")
    run.text_input[0].input("Mei")
    run.button[0].click().run()
    assert messages(run, "success") == [text("classboard.posted", "en", id=3, room=room)]  # the class's third run


def test_the_code_placeholder_cannot_be_a_code():
    for lang in LANGUAGES:
        with pytest.raises(cb.BoardError):
            cb.normalise_room(text("classboard.code_placeholder", lang))


def test_the_projector_says_when_the_class_is_closed(db):
    room = db.open_room(TEACHER)
    at = open_page("pages/classboard.py", query={"room": room, "view": "projector"})
    assert text("classboard.err.room_closed") not in messages(at, "warning")
    db.close_room(room, TEACHER)
    classboard.forget_reads()
    at.run()
    no_exception(at)
    assert text("classboard.err.room_closed") in messages(at, "warning")


def test_the_runs_and_the_leaderboard_export_as_csv(db):
    room = db.open_room(TEACHER)
    db.post_run(room, "小美", {"lr": 0.1}, 0.9, 3.0)
    db.post_run(room, "=HYPERLINK(1)", {"lr": 0.2}, 0.95, 2.0)
    db.post_run(room, "小美", {"lr": 0.3}, 0.97, 4.0)
    hidden = int(db.runs(room)["id"][1])
    db.hide(room, hidden, TEACHER)
    runs = db.runs(room, include_hidden=True)
    every = list(csv.DictReader(io.StringIO(classboard.runs_csv(runs).decode("utf-8-sig"))))
    assert [r["nickname"] for r in every] == ["小美", "'=HYPERLINK(1)", "小美"]  # never a formula
    assert [r["hidden"] for r in every] == ["False", "True", "False"]
    assert [json.loads(r["settings"])["lr"] for r in every] == [0.1, 0.2, 0.3]
    board = list(csv.DictReader(io.StringIO(classboard.leaderboard_csv(runs).decode("utf-8-sig"))))
    ranked = cb.leaderboard(db.runs(room))  # the board's own ranking of the visible runs
    assert [(r["rank"], r["nickname"], float(r["accuracy"]), r["runs"]) for r in board] == [
        (str(rank), name, accuracy, str(n)) for rank, name, accuracy, n in
        zip(ranked["rank"], ranked["nickname"], ranked["accuracy"], ranked["runs"], strict=True)]
    assert [r["nickname"] for r in board] == ["小美"]
