"""The class board: storage on SQLite and a real PostgreSQL, validation, the teacher's
controls, load, crashes, and the pure helpers the class page draws with."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from PIL import Image

from classroom import classboard as cb
from classroom.classboard import BoardError, ClassBoard
from lessons import network
from tests.pg import postgres_url  # noqa: F401  (the session fixture)

ROOT = Path(__file__).resolve().parent.parent
TEACHER = "correct horse battery staple"
SETTINGS = {"lr": 0.1, "optimizer": "adam", "hidden": [128, 64], "epochs": 3, "robust": False, "seed": None}


@pytest.fixture
def board(make_board):
    return make_board(TEACHER)


@pytest.fixture
def room(board):
    return board.open_room(TEACHER)


def stored(board, room):
    return len(board.runs(room, include_hidden=True)), len(board.drawings(room, include_hidden=True))


def digit_image(seed=0):
    return np.random.default_rng(seed).random((28, 28)).astype(np.float32)


# ------------------------------------------------------------------------------- round trips

def test_a_run_round_trips(board, room):
    before = pd.Timestamp.now(tz="UTC")
    entry = board.post_run(room, "  Mei  ", SETTINGS, 0.9731, 41.5)
    runs = board.runs(room)
    assert list(runs.columns) == ["id", "nickname", "settings", "accuracy", "seconds", "created", "hidden"]
    row = runs.iloc[0]
    assert (row["id"], row["nickname"], row["accuracy"], row["seconds"]) == (entry, "Mei", 0.9731, 41.5)
    assert row["settings"] == SETTINGS and not row["hidden"]
    assert abs(row["created"] - before) < pd.Timedelta(seconds=30)


def test_drawings_round_trip_in_every_accepted_form(board, room):
    image = digit_image()
    as_uint8 = np.rint(image.astype(np.float64) * 255).astype(np.uint8)
    ids = [
        board.add_drawing(room, "Ann", 7, image),
        board.add_drawing(room, "Ann", 3, as_uint8),
        board.add_drawing(room, "Ann", np.int64(0), Image.fromarray(as_uint8, mode="L")),
        board.add_drawing(room, "Ann", 9, as_uint8.tolist()),
    ]
    drawings = board.drawings(room)
    assert list(drawings["id"]) == ids and list(drawings["label"]) == [7, 3, 0, 9]
    for picture in drawings["image"]:
        assert picture.shape == (28, 28) and picture.dtype == np.uint8
        np.testing.assert_array_equal(picture, as_uint8)


def test_an_empty_or_unknown_room_reads_as_an_empty_board(board, room):
    for code in (room, "ZZZZZZ", "not a code", None):
        runs, drawings = board.runs(code), board.drawings(code)
        assert runs.empty and drawings.empty
        assert "accuracy" in runs.columns and "image" in drawings.columns


def test_room_codes_are_short_unambiguous_and_typed_loosely(board):
    codes = {board.open_room(TEACHER) for _ in range(20)}
    assert len(codes) == 20
    for code in codes:
        assert len(code) == 6 and set(code) <= set(cb.ROOM_ALPHABET)
        assert not set(code) & set("01OIL")
    code = codes.pop()
    loose = " " + code[:3].lower() + " " + code[3:].lower() + " "
    entry = board.post_run(loose, "Bo", {}, 0.5, 1.0)
    assert list(board.runs(code)["id"]) == [entry]
    assert board.room_exists(loose) and board.room_is_open(code)
    assert not board.room_exists("ZZZZZZ") and not board.room_exists("!!") and not board.room_is_open(None)


# ---------------------------------------------------------------------------- bad input is refused

BAD_RUNS = [
    ("nickname_too_long", {"nickname": "x" * 25}),
    ("nickname_too_long", {"nickname": "x" * 100_000}),
    ("nickname_empty", {"nickname": "   "}),
    ("nickname_invalid", {"nickname": "a\x00b"}),
    ("nickname_invalid", {"nickname": "\x1b[31mred"}),
    ("nickname_invalid", {"nickname": "evil\u202eright-to-left"}),
    ("nickname_invalid", {"nickname": "two\nlines"}),
    ("nickname_invalid", {"nickname": 42}),
    ("accuracy_out_of_range", {"accuracy": 1.01}),
    ("accuracy_out_of_range", {"accuracy": -0.1}),
    ("accuracy_out_of_range", {"accuracy": float("nan")}),
    ("accuracy_out_of_range", {"accuracy": "0.9"}),
    ("accuracy_out_of_range", {"accuracy": True}),
    ("seconds_out_of_range", {"seconds": -1.0}),
    ("seconds_out_of_range", {"seconds": float("inf")}),
    ("settings_not_plain", {"settings": {"lr": float("nan")}}),
    ("settings_not_plain", {"settings": {"model": object()}}),
    ("settings_not_plain", {"settings": {"shape": {1, 2}}}),
    ("settings_not_plain", {"settings": {1: "int key"}}),
    ("settings_not_plain", {"settings": {"a": np.int64(3)}}),  # numpy scalars: the page converts them
    ("settings_not_plain", {"settings": [1, 2]}),
    ("settings_not_plain", {"settings": {"deep": [[[[[[[[1]]]]]]]]}}),
    ("settings_too_large", {"settings": {"notes": "x" * 5000}}),
    ("settings_too_large", {"settings": {"many": list(range(1000))}}),
]


@pytest.mark.parametrize("code, change", BAD_RUNS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(BAD_RUNS)])
def test_a_bad_run_is_refused_with_its_code_and_nothing_is_stored(board, room, code, change):
    args = {"room": room, "nickname": "Mei", "settings": {"lr": 0.1}, "accuracy": 0.9, "seconds": 10.0} | change
    with pytest.raises(BoardError) as refused:
        board.post_run(**args, client="session-1")
    assert refused.value.code == code and isinstance(refused.value, ValueError)
    assert str(refused.value) == cb.ERROR_MESSAGES[code]
    assert stored(board, room) == (0, 0)
    board.post_run(room, "Mei", {"lr": 0.1}, 0.9, 10.0, client="session-1")  # a refusal spends no rate slot


def test_a_training_configs_fields_round_trip(board, room):
    @dataclasses.dataclass(frozen=True)
    class Config:  # shaped like lessons.mlp.TrainConfig, whose hidden sizes are a tuple
        hidden: tuple = (256, 64)
        lr: float = 0.005
        schedule: str | None = "onecycle"

    board.post_run(room, "Mei", dataclasses.asdict(Config()), 0.98, 60.0)
    best = cb.best_run(board.runs(room))
    assert best == {"hidden": [256, 64], "lr": 0.005, "schedule": "onecycle"}
    assert Config(**best | {"hidden": tuple(best["hidden"])}) == Config()


def test_a_cyclic_settings_dict_is_refused():
    loop: dict = {}
    loop["self"] = loop
    with pytest.raises(BoardError) as refused:
        cb.check_settings(loop)
    assert refused.value.code == "settings_not_plain"


BAD_DRAWINGS = [
    ("label_out_of_range", {"label": 10}),
    ("label_out_of_range", {"label": -1}),
    ("label_out_of_range", {"label": 7.0}),
    ("label_out_of_range", {"label": "7"}),
    ("label_out_of_range", {"label": True}),
    ("image_shape", {"image": np.zeros((28, 27))}),
    ("image_shape", {"image": np.zeros((28, 28, 3))}),
    ("image_shape", {"image": np.zeros(784)}),
    ("image_shape", {"image": Image.new("L", (56, 56))}),
    ("image_shape", {"image": [[0] * 28] * 27}),
    ("image_shape", {"image": [[[0, 0]] * 28] * 28}),
    ("image_shape", {"image": None}),
    ("image_shape", {"image": b"\x00" * 784}),
    # Bomb-sized: a 40 GB view (no memory behind it) and a million-row list; any work on them
    # (a copy, a conversion) would exhaust the machine, so refusing them proves none was done.
    ("image_shape", {"image": np.broadcast_to(np.float32(0.5), (100_000, 100_000))}),
    ("image_shape", {"image": [[0] * 28] * 1_000_000}),
    ("image_not_finite", {"image": np.full((28, 28), np.nan)}),
    ("image_not_finite", {"image": np.where(np.eye(28) > 0, np.inf, 0.0)}),
    ("image_out_of_range", {"image": np.full((28, 28), 1.5)}),
    ("image_out_of_range", {"image": np.full((28, 28), 256, dtype=np.int32)}),
    ("image_out_of_range", {"image": np.full((28, 28), -1, dtype=np.int8)}),
    ("image_not_numeric", {"image": np.full((28, 28), "x")}),
    ("image_not_numeric", {"image": [["a"] * 28] * 28}),
    ("nickname_invalid", {"nickname": "\u0007"}),
]


@pytest.mark.parametrize("code, change", BAD_DRAWINGS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(BAD_DRAWINGS)])
def test_a_bad_drawing_is_refused_with_its_code_and_nothing_is_stored(board, room, code, change):
    args = {"room": room, "nickname": "Ann", "label": 7, "image": digit_image()} | change
    with pytest.raises(BoardError) as refused:
        board.add_drawing(args["room"], args["nickname"], args["label"], args["image"], client="session-2")
    assert refused.value.code == code
    assert stored(board, room) == (0, 0)


def test_nicknames_keep_letters_of_every_script_and_emoji(board, room):
    names = ["小明", "Zoë", "Ярослав", "👩‍💻 coder", "x" * 24]
    for name in names:
        board.post_run(room, name, {}, 0.5, 1.0)
    assert list(board.runs(room)["nickname"]) == names


def test_sql_goes_only_through_bound_parameters(board, room):
    evil = "'); DROP TABLE runs;--"
    first = board.post_run(room, evil, {"note": "\"; DELETE FROM entries; --"}, 0.5, 1.0)
    board.add_drawing(room, evil[:24], 1, digit_image())
    second = board.post_run(room, "after", {}, 0.6, 1.0)
    runs = board.runs(room)
    assert list(runs["id"]) == [first, second]
    assert runs.iloc[0]["nickname"] == evil and runs.iloc[0]["settings"] == {"note": "\"; DELETE FROM entries; --"}
    assert board.drawings(room).iloc[0]["nickname"] == evil[:24]
    assert {"runs", "drawings", "entries", "rooms", "schema_version"} <= set(sa.inspect(board.engine).get_table_names())


# ------------------------------------------------------------------------------------ rooms

def test_a_closed_room_takes_nothing_new_but_stays_readable(board, room):
    entry = board.post_run(room, "Mei", {}, 0.5, 1.0)
    board.close_room(room, TEACHER)
    assert board.room_exists(room) and not board.room_is_open(room)
    for attempt in (lambda: board.post_run(room, "Mei", {}, 0.6, 1.0, client="c"),
                    lambda: board.add_drawing(room, "Mei", 1, digit_image(), client="c")):
        with pytest.raises(BoardError) as refused:
            attempt()
        assert refused.value.code == "room_closed"
    assert list(board.runs(room)["id"]) == [entry]
    board.reopen_room(room, TEACHER)
    assert board.room_is_open(room)
    board.post_run(room, "Mei", {}, 0.6, 1.0, client="c")  # the refused attempts spent no slot


def test_entries_for_an_unknown_room_are_refused(board):
    for room in ("ZZZZZZ", "??", ""):
        with pytest.raises(BoardError) as refused:
            board.post_run(room, "Mei", {}, 0.5, 1.0)
        assert refused.value.code == "room_unknown"
    for action in (lambda: board.close_room("ZZZZZZ", TEACHER), lambda: board.export("ZZZZZZ", TEACHER)):
        with pytest.raises(BoardError) as refused:
            action()
        assert refused.value.code == "room_unknown"


def test_the_teacher_lists_rooms_with_their_counts(board, room):
    other = board.open_room(TEACHER)
    board.post_run(room, "a", {}, 0.5, 1.0)
    board.add_drawing(room, "a", 2, digit_image())
    hidden = board.post_run(room, "b", {}, 0.5, 1.0)
    board.hide(room, hidden, TEACHER)
    board.close_room(other, TEACHER)
    listing = board.rooms(TEACHER).set_index("code")
    assert (listing.loc[room, "runs"], listing.loc[room, "drawings"]) == (1, 1)
    assert (listing.loc[other, "runs"], listing.loc[other, "drawings"]) == (0, 0)
    assert pd.isna(listing.loc[room, "closed"]) and not pd.isna(listing.loc[other, "closed"])


# ---------------------------------------------------------------------------------- the teacher

def test_a_wrong_teacher_code_is_refused_without_saying_what_was_wrong(board, room):
    entry = board.post_run(room, "Mei", {}, 0.5, 1.0)
    wrong_codes = ["", TEACHER[:-1], TEACHER + "x", TEACHER.upper(), " " + TEACHER, None, 12345, "秘密"]
    actions = [
        lambda code: board.open_room(code),
        lambda code: board.close_room(room, code),
        lambda code: board.hide(room, entry, code),
        lambda code: board.export(room, code),
        lambda code: board.rooms(code),
        lambda code: board.students(room, code),
        lambda code: board.rename_student(room, "Mei", "Mei2", code),
        lambda code: board.remove_student(room, "Mei", code),
    ]
    messages = set()
    for code in wrong_codes:
        assert not board.teacher_code_ok(code)
        for action in actions:
            with pytest.raises(BoardError) as refused:
                action(code)
            assert refused.value.code == "teacher_code_wrong" and refused.value.fields == {}
            messages.add(str(refused.value))
    assert messages == {cb.ERROR_MESSAGES["teacher_code_wrong"]}
    assert board.teacher_code_ok(TEACHER) and board.room_is_open(room) and len(board.runs(room)) == 1


def test_the_teacher_code_comes_from_the_environment_and_is_compared_in_constant_time(db_url, monkeypatch):
    calls = []
    real = cb.hmac.compare_digest
    monkeypatch.setattr(cb.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    monkeypatch.setenv("CLASS_TEACHER_CODE", "from-env")
    with ClassBoard(db_url) as board:
        assert board.teacher_code_ok("from-env") and not board.teacher_code_ok(TEACHER)
        assert calls and all(len(a) == len(b) for a, b in calls)  # digests: even the length stays secret
    monkeypatch.delenv("CLASS_TEACHER_CODE")
    with ClassBoard(db_url) as board:
        with pytest.raises(BoardError) as refused:
            board.open_room("")
        assert refused.value.code == "teacher_code_unset"


def test_hide_works_for_runs_and_drawings_and_can_be_undone(board, room):
    run = board.post_run(room, "Mei", {"lr": 1}, 0.99, 1.0)
    kept = board.post_run(room, "Bo", {"lr": 2}, 0.5, 1.0)
    drawing = board.add_drawing(room, "Mei", 4, digit_image())
    as_the_page_has_it = board.runs(room)["id"].iloc[0]  # numpy's int64
    assert as_the_page_has_it == run
    board.hide(room, as_the_page_has_it, TEACHER)
    board.hide(room, drawing, TEACHER)
    assert list(board.runs(room)["id"]) == [kept] and board.drawings(room).empty
    assert cb.best_run(board.runs(room)) == {"lr": 2}
    assert list(board.runs(room, include_hidden=True)["hidden"]) == [True, False]
    names = zipfile.ZipFile(io.BytesIO(board.export(room, TEACHER))).namelist()
    assert names == ["labels.csv"]
    board.hide(room, drawing, TEACHER, hidden=False)
    assert list(board.drawings(room)["id"]) == [drawing]


def test_hide_refuses_an_entry_of_another_room_or_none(board, room):
    other = board.open_room(TEACHER)
    foreign = board.post_run(other, "Mei", {}, 0.5, 1.0)
    for entry in (foreign, 10**9, "1", True):
        with pytest.raises(BoardError) as refused:
            board.hide(room, entry, TEACHER)
        assert refused.value.code == "entry_unknown"
    assert not board.runs(other, include_hidden=True)["hidden"].any()


def test_renaming_a_student_moves_every_entry_race_run_and_vote(board, room):
    other = board.open_room(TEACHER)
    run = board.post_run(room, "Mei", {"lr": 1}, 0.9, 1.0)
    drawing = board.add_drawing(room, "Mei", 4, digit_image())
    board.post_run(room, "Bo", {"lr": 2}, 0.5, 1.0)
    board.post_run(other, "Mei", {}, 0.4, 1.0)  # the same nickname in another class is another student
    board.post_descent(room, "Mei", {"x0": 3}, -5.0, 12)
    board.open_question(room, TEACHER, "descent_lowest_default")
    board.vote(room, "Mei", "descent_lowest_default", "adam")
    board.hide(room, drawing, TEACHER)
    board.rename_student(room, " Mei ", "梅 🐱", TEACHER)  # typed loosely, stored as check_nickname has it
    runs, drawings = board.runs(room, include_hidden=True), board.drawings(room, include_hidden=True)
    assert dict(zip(runs["id"], runs["nickname"], strict=True)) == {run: "梅 🐱", run + 2: "Bo"}
    assert list(drawings["nickname"]) == ["梅 🐱"] and list(drawings["hidden"]) == [True]  # still hidden
    assert list(board.descents(room)["nickname"]) == ["梅 🐱"]
    assert board.votes(room, "descent_lowest_default")["adam"] == 1
    board.vote(room, "梅 🐱", "descent_lowest_default", "sgd")  # the vote is theirs: a second one replaces it
    assert board.votes(room, "descent_lowest_default")["adam"] == 0
    assert list(board.runs(other)["nickname"]) == ["Mei"]
    assert list(board.students(room, TEACHER)["nickname"]) == ["Bo", "梅 🐱"]
    assert cb.board_summary(board.runs(room), board.drawings(room))["students"] == 2


def test_a_rename_never_merges_two_students_and_refuses_bad_input_with_a_code(board, room):
    board.post_run(room, "Mei", {}, 0.9, 1.0)
    board.add_drawing(room, "Bo", 3, digit_image())
    board.post_descent(room, "Ann", {}, 1.0, None)  # a race run alone makes a student too
    cases = [
        (("Mei", "Bo"), "nickname_taken"),
        (("Mei", "Ann"), "nickname_taken"),
        (("Nobody", "Someone"), "student_unknown"),
        (("Mei", ""), "nickname_empty"),
        (("Mei", "x" * (cb.NICKNAME_MAX + 1)), "nickname_too_long"),
        (("Mei", "a\nb"), "nickname_invalid"),
        (("Mei", None), "nickname_invalid"),
    ]
    for (old, new), code in cases:
        with pytest.raises(BoardError) as refused:
            board.rename_student(room, old, new, TEACHER)
        assert refused.value.code == code, (old, new)
    for action in (lambda: board.rename_student("ZZZZZZ", "Mei", "Meiko", TEACHER),
                   lambda: board.remove_student("ZZZZZZ", "Mei", TEACHER),
                   lambda: board.students("ZZZZZZ", TEACHER)):
        with pytest.raises(BoardError) as refused:
            action()
        assert refused.value.code == "room_unknown"
    with pytest.raises(BoardError) as refused:
        board.remove_student(room, "Ann", TEACHER)  # no run or drawing to take off the board
    assert refused.value.code == "student_unknown"
    board.rename_student(room, "Mei", "Mei", TEACHER)  # the same name: nothing to do
    assert set(board.runs(room)["nickname"]) == {"Mei"} and set(board.drawings(room)["nickname"]) == {"Bo"}
    assert list(board.descents(room)["nickname"]) == ["Ann"]


def test_a_removed_student_leaves_the_board_its_counts_and_the_export_and_can_come_back(board, room):
    board.post_run(room, "Mei", {"lr": 1}, 0.99, 1.0)
    board.post_run(room, "Mei", {"lr": 3}, 0.3, 1.0)
    board.add_drawing(room, "Mei", 7, digit_image(1))
    kept_run = board.post_run(room, "Bo", {"lr": 2}, 0.5, 1.0)
    kept_drawing = board.add_drawing(room, "Bo", 1, digit_image(2))
    before = cb.board_summary(board.runs(room), board.drawings(room))
    assert (before["students"], before["runs"], before["drawings"], before["best_accuracy"]) == (2, 3, 2, 0.99)
    board.remove_student(room, "Mei", TEACHER)
    runs, drawings = board.runs(room), board.drawings(room)
    assert list(runs["id"]) == [kept_run] and list(drawings["id"]) == [kept_drawing]
    summary = cb.board_summary(runs, drawings)
    assert (summary["students"], summary["runs"], summary["drawings"], summary["best_accuracy"]) == (1, 1, 1, 0.5)
    assert summary["per_digit"][7] == 0 and list(cb.leaderboard(runs)["nickname"]) == ["Bo"]
    listed = board.rooms(TEACHER).set_index("code").loc[room]
    assert (listed["runs"], listed["drawings"]) == (1, 1)
    labels = io.StringIO(zipfile.ZipFile(io.BytesIO(board.export(room, TEACHER))).read("labels.csv").decode())
    assert [row["nickname"] for row in csv.DictReader(labels)] == ["Bo"]
    students = board.students(room, TEACHER).set_index("nickname")
    assert students.loc["Mei", "hidden"] == students.loc["Mei", "entries"] == 3 and students.loc["Bo", "hidden"] == 0
    assert stored(board, room) == (3, 2)  # nothing deleted
    board.remove_student(room, "Mei", TEACHER, removed=False)
    assert cb.board_summary(board.runs(room), board.drawings(room)) == before


def test_export_holds_the_pngs_and_labels_csv(board, room):
    images = {}
    for k, label in enumerate([3, 1, 3]):
        picture = (np.random.default_rng(k).random((28, 28)) * 255).astype(np.uint8)
        images[board.add_drawing(room, f"kid{k}", label, picture)] = (label, picture)
    board.post_run(room, "kid0", {}, 0.5, 1.0)
    archive = zipfile.ZipFile(io.BytesIO(board.export(room, TEACHER)))
    assert archive.testzip() is None
    rows = list(csv.DictReader(io.StringIO(archive.read("labels.csv").decode("utf-8"))))
    assert len(rows) == 3 and set(archive.namelist()) == {"labels.csv"} | {r["file"] for r in rows}
    for row in rows:
        label, picture = images[int(row["id"])]
        assert int(row["label"]) == label and row["file"] == f"{label}/{row['id']}.png"
        png = Image.open(io.BytesIO(archive.read(row["file"])))
        assert png.mode == "L" and png.size == (28, 28)
        np.testing.assert_array_equal(np.asarray(png), picture)


# ---------------------------------------------------------------------------------- abuse

def test_one_entry_a_second_per_client(db_url):
    with ClassBoard(db_url, teacher_code=TEACHER, min_interval=0.5) as board:
        room = board.open_room(TEACHER)
        board.post_run(room, "Mei", {}, 0.5, 1.0, client="s1")
        for attempt in (lambda: board.post_run(room, "Mei", {}, 0.5, 1.0, client="s1"),
                        lambda: board.add_drawing(room, "Mei", 1, digit_image(), client="s1")):
            with pytest.raises(BoardError) as refused:
                attempt()
            assert refused.value.code == "rate_limited"
        board.add_drawing(room, "Mei", 1, digit_image(), client="s2")  # another session is not held up
        time.sleep(0.6)
        board.post_run(room, "Mei", {}, 0.5, 1.0, client="s1")
        assert stored(board, room) == (2, 1)


def test_the_rate_limit_holds_under_a_burst_from_one_client(board, room):
    results = []
    barrier = threading.Barrier(20)

    def burst():
        barrier.wait()
        try:
            results.append(board.post_run(room, "Mei", {}, 0.5, 1.0, client="same-session"))
        except BoardError as error:
            results.append(error.code)

    threads = [threading.Thread(target=burst) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, results)).count("rate_limited") == 19
    assert stored(board, room) == (1, 0)


# ------------------------------------------------------------------------- schema and defaults

def test_the_schema_is_versioned_and_migrated_once(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    with ClassBoard(url, teacher_code=TEACHER) as board:
        assert board.schema_version() == cb.SCHEMA_VERSION == len(cb.MIGRATIONS) == 2
        room = board.open_room(TEACHER)
        board.post_run(room, "Mei", {}, 0.5, 1.0)
    calls = []

    def add_notes(conn):
        calls.append(1)
        conn.execute(sa.text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))

    monkeypatch.setattr(cb, "MIGRATIONS", [*cb.MIGRATIONS, add_notes])
    monkeypatch.setattr(cb, "SCHEMA_VERSION", 3)
    for _ in range(2):
        with ClassBoard(url, teacher_code=TEACHER) as board:
            assert board.schema_version() == 3 and len(board.runs(room)) == 1
            assert "notes" in sa.inspect(board.engine).get_table_names()
    assert calls == [1]


def test_the_default_is_an_sqlite_file_in_wal_mode_that_git_ignores(tmp_path, monkeypatch):
    monkeypatch.delenv("CLASS_DB_URL", raising=False)
    path = tmp_path / "data" / "classboard" / "class.sqlite3"
    monkeypatch.setattr(cb, "DEFAULT_SQLITE_PATH", path)
    with ClassBoard(teacher_code=TEACHER) as board:
        board.post_run(board.open_room(TEACHER), "Mei", {}, 0.5, 1.0)
    assert path.exists()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    relative = cb.ROOT / "data" / "classboard" / "class.sqlite3"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(relative)], cwd=cb.ROOT, check=False)
    assert ignored.returncode == 0, "data/classboard/ must be git-ignored"


def test_class_db_url_chooses_the_database(tmp_path, monkeypatch):
    path = tmp_path / "elsewhere.sqlite3"
    monkeypatch.setenv("CLASS_DB_URL", f"sqlite:///{path}")
    assert cb.default_url() == f"sqlite:///{path}"
    with ClassBoard(teacher_code=TEACHER) as board:
        assert board.url == f"sqlite:///{path}"
    assert path.exists()


# ---------------------------------------------------------------------------------- load and crashes

@pytest.mark.slow
def test_sixty_students_posting_at_once_lose_nothing(board, room):
    threads_n, posts = 60, 10
    barrier = threading.Barrier(threads_n)
    errors, ids = [], []

    def student(k):
        barrier.wait()
        for i in range(posts):
            try:
                if i % 2:
                    ids.append(board.add_drawing(room, f"s{k}", i % 10, digit_image(i)))
                else:
                    ids.append(board.post_run(room, f"s{k}", {"lr": i / 10}, i / 10, float(i)))
            except Exception as error:  # noqa: BLE001 - every failure is a lost post, reported below
                errors.append(repr(error))

    threads = [threading.Thread(target=student, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    runs, drawings = board.runs(room), board.drawings(room)
    assert len(runs) + len(drawings) == len(set(ids)) == threads_n * posts
    assert set(runs["id"]) | set(drawings["id"]) == set(ids)
    assert (runs.groupby("nickname").size() == posts // 2).all() and runs["nickname"].nunique() == threads_n


CHILD_POSTER = textwrap.dedent("""
    import sys, numpy as np
    from classroom.classboard import ClassBoard
    board = ClassBoard(sys.argv[1], teacher_code="t")
    room = sys.argv[2]
    image = np.random.default_rng(0).random((28, 28))
    k = 0
    while True:
        if k % 2:
            entry = board.add_drawing(room, "child", k % 10, image)
        else:
            entry = board.post_run(room, "child", {"k": k, "pad": "x" * 500}, 0.5, 1.0)
        print(entry, flush=True)  # printed only after the commit returned
        k += 1
""")


@pytest.mark.slow
def test_a_process_killed_mid_write_leaves_the_database_consistent(db_url):
    with ClassBoard(db_url, teacher_code="t") as board:
        room = board.open_room("t")
    child = subprocess.Popen([sys.executable, "-c", CHILD_POSTER, db_url, room], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)})
    acknowledged = []
    try:
        while len(acknowledged) < 150:
            line = child.stdout.readline()
            assert line, "the child stopped posting"
            acknowledged.append(int(line))
    finally:
        child.send_signal(signal.SIGKILL)  # mid-loop, so very likely mid-transaction
        child.wait()
    acknowledged += [int(line) for line in child.stdout.read().split()]
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    with ClassBoard(db_url, teacher_code="t") as board:
        with board.engine.connect() as conn:
            def count(sql):
                return conn.execute(sa.text(sql)).scalar_one()

            # Every entry has exactly its one row of details, and nothing else exists.
            assert count("SELECT count(*) FROM entries WHERE kind = 'run'") == count("SELECT count(*) FROM runs")
            assert count("SELECT count(*) FROM entries WHERE kind = 'drawing'") == count("SELECT count(*) FROM drawings")
            assert count("SELECT count(*) FROM runs r JOIN entries e ON e.id = r.id AND e.kind = 'run'") == \
                count("SELECT count(*) FROM runs")
        runs, drawings = board.runs(room), board.drawings(room)
        assert set(acknowledged) <= set(runs["id"]) | set(drawings["id"])  # nothing committed is lost
        assert all(s["pad"] == "x" * 500 for s in runs["settings"])
        board.post_run(room, "after the crash", {}, 0.5, 1.0)
        assert len(board.runs(room)) == len(runs) + 1


CHILD_HALFWAY = textwrap.dedent("""
    import sys, time
    from classroom import classboard as cb
    board = cb.ClassBoard(sys.argv[1], teacher_code="t")

    def halfway(conn):  # the entry's row is written, its details are not: then the process dies
        conn.execute(cb.entries.insert().values(room=sys.argv[2], kind="run", nickname="halfway",
                                                created=time.time(), hidden=False))
        print("inside", flush=True)
        time.sleep(60)

    board._write(halfway)
""")


@pytest.mark.slow
def test_a_process_killed_inside_a_transaction_leaves_no_trace(db_url):
    with ClassBoard(db_url, teacher_code="t") as board:
        room = board.open_room("t")
        before = board.post_run(room, "before", {}, 0.5, 1.0)
        child = subprocess.Popen([sys.executable, "-c", CHILD_HALFWAY, db_url, room], cwd=ROOT,
                                 stdout=subprocess.PIPE, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)})
        try:
            assert child.stdout.readline().strip() == "inside"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        if db_url.startswith("sqlite"):
            with sqlite3.connect(db_url.removeprefix("sqlite:///")) as raw:
                assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with board.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(cb.entries)
                                .where(cb.entries.c.nickname == "halfway")).scalar_one() == 0
        after = board.post_run(room, "after", {}, 0.5, 1.0)  # the dead writer's lock is gone
        assert list(board.runs(room)["id"]) == [before, after]


CHILD_PEER = textwrap.dedent("""
    import sys, time
    from classroom.classboard import ClassBoard
    board = ClassBoard(sys.argv[1], teacher_code="t")
    room = sys.argv[2]
    print(board.post_run(room, "from the other process", {"pid": 2}, 0.8, 2.0), flush=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if "from the first process" in set(board.runs(room)["nickname"]):
            print("seen", flush=True)
            break
        time.sleep(0.1)
""")


@pytest.mark.postgres
@pytest.mark.slow
def test_two_processes_sharing_postgresql_see_each_others_posts(postgres_url):  # noqa: F811
    with ClassBoard(postgres_url, teacher_code="t") as board:
        room = board.open_room("t")
        peer = subprocess.Popen([sys.executable, "-c", CHILD_PEER, postgres_url, room], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)})
        try:
            theirs = int(peer.stdout.readline())
            runs = board.runs(room)
            assert list(runs["id"]) == [theirs] and runs.iloc[0]["settings"] == {"pid": 2}
            board.post_run(room, "from the first process", {"pid": 1}, 0.9, 1.0)
            assert peer.stdout.readline().strip() == "seen"
        finally:
            peer.kill()
            peer.wait()


# ------------------------------------------------------------------------ the class page's helpers

def runs_frame(rows):
    return pd.DataFrame([
        {"id": i, "nickname": n, "settings": s, "accuracy": a, "seconds": t,
         "created": pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(seconds=i), "hidden": False}
        for i, (n, s, a, t) in enumerate(rows, start=1)])


def test_leaderboard_is_each_nicknames_best_run_best_first():
    rng = np.random.default_rng(5)
    names = ["Ann", "Bo", "Cy", "Di", "Ed"]
    rows = [(str(rng.choice(names)), {"k": k}, float(rng.choice([0.5, 0.7, 0.9, 0.95])), float(rng.integers(1, 5)))
            for k in range(60)]
    board = cb.leaderboard(runs_frame(rows))
    # Independently: for each name, the run with the highest accuracy, then fewest seconds, then the earliest.
    best = {}
    for k, (name, settings, accuracy, seconds) in enumerate(rows, start=1):
        key = (-accuracy, seconds, k)
        if name not in best or key < best[name][0]:
            best[name] = (key, k)
    expected = sorted(best.items(), key=lambda item: item[1][0])
    assert list(board["nickname"]) == [name for name, _ in expected]
    assert list(board["id"]) == [k for _, (_, k) in expected]
    assert list(board["rank"]) == list(range(1, len(expected) + 1))
    assert list(board["runs"]) == [sum(r[0] == name for r in rows) for name, _ in expected]
    assert cb.best_run(runs_frame(rows)) == rows[expected[0][1][1] - 1][1]


def test_leaderboard_and_best_run_of_an_empty_board():
    runs = runs_frame([]).reindex(columns=["id", "nickname", "settings", "accuracy", "seconds", "created", "hidden"])
    assert cb.leaderboard(runs).empty and cb.best_run(runs) is None
    summary = cb.board_summary(runs, pd.DataFrame({"nickname": [], "label": []}))
    assert summary == {"runs": 0, "drawings": 0, "students": 0, "best_accuracy": None, "per_digit": [0] * 10}


def test_settings_table_spreads_the_settings_into_columns():
    runs = runs_frame([("Ann", {"lr": 0.1, "optimizer": "adam", "accuracy": "x"}, 0.9, 1.0),
                       ("Bo", {"lr": 0.01, "optimizer": "sgd", "net": {"hidden": 64}}, 0.8, 2.0)])
    table = cb.settings_table(runs)
    assert list(table["lr"]) == [0.1, 0.01] and list(table["optimizer"]) == ["adam", "sgd"]
    assert list(table["accuracy"]) == [0.9, 0.8] and table.loc[0, "setting.accuracy"] == "x"
    assert table.loc[1, "net.hidden"] == 64 and pd.isna(table.loc[0, "net.hidden"])


def test_board_summary_counts_against_plain_python(board, room):
    labels = [3, 3, 7, 0, 9, 9, 9]
    for k, label in enumerate(labels):
        board.add_drawing(room, f"d{k % 3}", label, digit_image(k))
    for k, accuracy in enumerate([0.5, 0.91, 0.7]):
        board.post_run(room, f"r{k}" if k else "d0", {}, accuracy, 1.0)
    summary = cb.board_summary(board.runs(room), board.drawings(room))
    assert summary == {"runs": 3, "drawings": 7, "students": 5, "best_accuracy": 0.91,
                       "per_digit": [labels.count(d) for d in range(10)]}


def test_accuracy_by_model_scores_each_models_reading(board, room):
    labels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 7]
    ids = [board.add_drawing(room, "kid", label, np.full((28, 28), label / 9.0)) for label in labels]
    seen = []

    def perfect(images):  # reads the digit back from the grey level it was drawn with
        seen.append((images.shape, images.dtype, float(images.min()), float(images.max())))
        return np.rint(images[:, 0, 0] * 9).astype(int)

    def always_seven(images):
        return np.full(len(images), 7)

    def scores(images):  # an (n, 10) array of scores: right except on the 9s, read as 4
        digits = np.rint(images[:, 0, 0] * 9).astype(int)
        digits[digits == 9] = 4
        return np.eye(10)[digits] * 5.0 - 1.0

    table = cb.accuracy_by_model(board.drawings(room), {"course": perfect, "sevens": always_seven, "robust": scores})
    assert seen == [((12, 28, 28), np.float32, 0.0, 1.0)]
    by_model = table.set_index("model")
    assert by_model.loc["course", "correct"] == 12 and by_model.loc["course", "misread"] == []
    assert by_model.loc["sevens", "accuracy"] == pytest.approx(3 / 12)
    assert by_model.loc["sevens", "misread"] == [i for i, label in zip(ids, labels) if label != 7]
    assert by_model.loc["robust", "misread"] == [ids[9]] and by_model.loc["robust", "drawings"] == 12
    reading = cb.predictions(board.drawings(room), {"sevens": always_seven})
    assert list(reading.columns) == ["id", "label", "sevens"] and list(reading["id"]) == ids
    empty = cb.accuracy_by_model(board.drawings("ZZZZZZ"), {"course": perfect})
    assert empty.loc[0, "drawings"] == 0 and empty.loc[0, "accuracy"] is None


def test_a_model_answering_the_wrong_shape_is_reported():
    drawings = pd.DataFrame({"id": [1, 2], "label": [1, 2], "image": [np.zeros((28, 28), np.uint8)] * 2})
    with pytest.raises(ValueError, match="shape"):
        cb.predictions(drawings, {"bad": lambda images: np.zeros(3)})


def test_montage_places_each_image_in_its_cell():
    images = [np.full((28, 28), 10 * (k + 1), dtype=np.uint8) for k in range(7)]
    picture = network.montage(images, columns=3, gap=2)
    assert picture.shape == (3 * 30 - 2, 3 * 30 - 2) and picture.dtype == np.uint8
    for k in range(7):
        r, c = divmod(k, 3)
        assert (picture[r * 30:r * 30 + 28, c * 30:c * 30 + 28] == 10 * (k + 1)).all()
    assert (picture[28:30, :] == 0).all() and (picture[60:, 30:] == 0).all()  # gaps, and the empty cells
    assert network.montage([], 5).shape == (0, 0)
    np.testing.assert_array_equal(network.montage([np.ones((28, 28))], 4), np.full((28, 28), 255, np.uint8))


def test_digit_grids_group_the_collection_by_label():
    drawings = pd.DataFrame({"id": [1, 2, 3], "label": [4, 1, 4],
                             "image": [np.full((28, 28), v, np.uint8) for v in (40, 10, 41)]})
    grids = cb.digit_grids(drawings, columns=5)
    assert sorted(grids) == [1, 4]
    assert grids[1].shape == (28, 28) and grids[4].shape == (28, 58)
    assert grids[4][0, 0] == 40 and grids[4][0, 30] == 41


def test_the_json_is_canonical():
    assert cb.check_settings({"b": 1, "a": [1.5, None, True], "c": "中"}) == \
        json.dumps({"a": [1.5, None, True], "b": 1, "c": "中"}, ensure_ascii=False)
