"""Leading the class: send, follow, freeze, predict-then-reveal and the race, on SQLite and a real
PostgreSQL, across two engines and two processes; the question bank's answers against independent
references (torch.optim, scikit-learn, plain arithmetic); and the whole teacher-student loop
through the app's pages in AppTest (``slow``)."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classroom import classboard as board
from classroom import questions as bank
from classroom.classboard import BoardError, ClassBoard
from lessons import descent

ROOT = Path(__file__).resolve().parent.parent
TEACHER = "eyes-on-me-2718"
QUESTION = "descent_lowest_default"


@pytest.fixture
def class_board(make_board):
    return make_board(TEACHER, min_interval=0)


@pytest.fixture
def room(class_board):
    return class_board.open_room(TEACHER)


@pytest.fixture
def default_board(db_url, monkeypatch):
    """The module-level contract functions, on this database with this teacher code."""
    monkeypatch.setenv("CLASS_DB_URL", db_url)
    monkeypatch.setenv("CLASS_TEACHER_CODE", TEACHER)
    return board.default_board()


def refused(code: str, call, *args, **kwargs) -> None:
    with pytest.raises(BoardError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code


# --------------------------------------------------------------------------- send and freeze


def test_send_grows_the_version_and_sent_reads_the_last_one(default_board):
    room = default_board.open_room(TEACHER)
    assert board.sent(room) is None
    assert board.send(room, TEACHER, "descent", {"x0": "3", "lr": "0.2"}) == 1
    assert board.send(room, TEACHER, "regression", {"lr": "1", "normalise": "1"}) == 2
    assert board.sent(room) == {"page": "regression", "query": {"lr": "1", "normalise": "1"}, "version": 2}
    assert board.sent("NOPE99") is None and board.sent(None) is None


def test_freeze_and_unfreeze_keep_what_was_sent(default_board):
    room = default_board.open_room(TEACHER)
    assert board.frozen(room) is False
    board.freeze(room, TEACHER, True)  # before any send: the row is made, nothing is "sent"
    assert board.frozen(room) is True and board.sent(room) is None
    board.send(room, TEACHER, "descent", {"x0": "3"})
    board.freeze(room, TEACHER, False)
    assert board.frozen(room) is False and board.sent(room)["version"] == 1


@pytest.mark.parametrize("action", ["send", "freeze", "open_question", "reveal"])
@pytest.mark.parametrize("code", ["wrong", "", None, TEACHER + " "])
def test_a_wrong_teacher_code_is_refused_and_stores_nothing(class_board, room, action, code):
    class_board.open_question(room, TEACHER, QUESTION)
    before = class_board.lead_state(room)
    calls = {"send": (class_board.send, (room, code, "descent", {"x0": "3"})),
             "freeze": (class_board.freeze, (room, code, True)),
             "open_question": (class_board.open_question, (room, code, "descent_diverge_large")),
             "reveal": (class_board.reveal, (room, code, QUESTION))}
    call, args = calls[action]
    refused("teacher_code_wrong", call, *args)
    assert class_board.lead_state(room) == before


def test_without_a_teacher_code_on_the_server_nothing_is_sent(db_url):
    with ClassBoard(db_url, teacher_code="") as unset:
        refused("teacher_code_unset", unset.send, "ABCDEF", "", "descent", {})


@pytest.mark.parametrize(("page", "query", "code"), [
    ("../etc/passwd", {}, "page_unknown"), ("", {}, "page_unknown"), ("Descent", {}, "page_unknown"),
    ("descent", {"x0": 3}, "settings_not_plain"), ("descent", ["x0"], "settings_not_plain"),
    ("descent", {"x0": "9" * 5000}, "settings_too_large"),
])
def test_a_malformed_send_is_refused(class_board, room, page, query, code):
    refused(code, class_board.send, room, TEACHER, page, query)
    assert class_board.sent(room) is None


def test_send_to_an_unknown_room_is_refused(class_board):
    refused("room_unknown", class_board.send, "ABCDEF", TEACHER, "descent", {})
    refused("room_unknown", class_board.freeze, "ABCDEF", TEACHER, True)


# ------------------------------------------------------------------------ predict, then reveal


def test_votes_replace_count_and_close_at_the_reveal(default_board):
    room = default_board.open_room(TEACHER)
    refused("question_not_open", board.vote, room, "Mei", QUESTION, "adam")
    board.open_question(room, TEACHER, QUESTION)
    board.vote(room, "Mei", QUESTION, "adam")
    board.vote(room, "Mei", QUESTION, "sgd")  # a second vote replaces the first
    board.vote(room, "Bo", QUESTION, "rmsprop")
    board.vote(room, " Bo ", QUESTION, "sgd")  # the same nickname as stored
    assert board.votes(room, QUESTION) == {"sgd": 2, "momentum": 0, "rmsprop": 0, "adam": 0}
    state = default_board.lead_state(room)
    assert (state["question"], state["revealed"], state["voters"]) == (QUESTION, False, 2)
    answer = board.reveal(room, TEACHER, QUESTION)
    assert answer == bank.by_id()[QUESTION].answer()
    refused("question_revealed", board.vote, room, "Ann", QUESTION, "sgd")
    assert sum(board.votes(room, QUESTION).values()) == 2
    # the reveal sent the question's setup to every screen
    question = bank.by_id()[QUESTION]
    assert board.sent(room) == {"page": question.page, "query": question.query, "version": 1}
    assert board.reveal(room, TEACHER, QUESTION) == answer and board.sent(room)["version"] == 1  # once
    # asked again: a fresh vote
    board.open_question(room, TEACHER, QUESTION)
    assert sum(board.votes(room, QUESTION).values()) == 0
    board.vote(room, "Ann", QUESTION, "adam")


def test_a_closed_room_takes_no_votes_and_no_race_runs(class_board, room):
    class_board.open_question(room, TEACHER, QUESTION)
    class_board.close_room(room, TEACHER)
    refused("room_closed", class_board.vote, room, "Mei", QUESTION, "sgd")
    refused("room_closed", class_board.post_descent, room, "Mei", {"x0": 3.0}, -3.9, 4)
    assert sum(class_board.votes(room, QUESTION).values()) == 0 and class_board.descents(room).empty


@pytest.mark.parametrize(("nickname", "question", "choice", "code"), [
    ("Mei", QUESTION, "yes", "choice_unknown"), ("Mei", QUESTION, None, "choice_unknown"),
    ("Mei", "no_such_question", "sgd", "question_unknown"), ("Mei", 7, "sgd", "question_unknown"),
    ("", QUESTION, "sgd", "nickname_empty"), ("a\u202eb", QUESTION, "sgd", "nickname_invalid"),
])
def test_a_malformed_vote_is_refused_and_stores_nothing(class_board, room, nickname, question, choice, code):
    class_board.open_question(room, TEACHER, QUESTION)
    refused(code, class_board.vote, room, nickname, question, choice)
    assert sum(class_board.votes(room, QUESTION).values()) == 0


def test_the_rate_limit_applies_to_votes(db_url):
    with ClassBoard(db_url, teacher_code=TEACHER, min_interval=60) as limited:
        room = limited.open_room(TEACHER)
        limited.open_question(room, TEACHER, QUESTION)
        limited.vote(room, "Mei", QUESTION, "sgd", client="phone-1")
        refused("rate_limited", limited.vote, room, "Mei", QUESTION, "adam", client="phone-1")
        assert limited.votes(room, QUESTION)["sgd"] == 1
        refused("choice_unknown", limited.vote, room, "Bo", QUESTION, "nope", client="phone-2")
        limited.vote(room, "Bo", QUESTION, "adam", client="phone-2")  # a refused vote used no slot


def test_sixty_votes_within_five_seconds_are_all_counted(class_board, room):
    class_board.open_question(room, TEACHER, QUESTION)
    choices = bank.by_id()[QUESTION].choices
    errors: list[BaseException] = []
    start = threading.Barrier(60)

    def student(i: int) -> None:
        try:
            start.wait()
            class_board.vote(room, f"student{i:02d}", QUESTION, choices[i % len(choices)], client=f"phone-{i}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    began = time.perf_counter()
    threads = [threading.Thread(target=student, args=(i,)) for i in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    assert not errors, errors
    assert elapsed < 5.0, f"60 votes took {elapsed:.2f} s"
    assert class_board.votes(room, QUESTION) == {c: sum(1 for i in range(60) if choices[i % len(choices)] == c)
                                                  for c in choices}
    assert class_board.lead_state(room)["voters"] == 60


# ------------------------------------------------------------------------------- the race


def test_race_runs_are_stored_and_ranked_both_ways(default_board):
    room = default_board.open_room(TEACHER)
    posted = []
    for nickname, x0, lr, solver in [("Mei", 3.0, 0.01, "sgd"), ("Bo", -6.0, 0.05, "rmsprop"),
                                     ("Mei", -6.0, 0.05, "adam"), ("Ann", 1.0, 0.02, "momentum")]:
        values = {name: s.default for name, s in descent.SETTINGS.items()} | {"x0": x0, "lr": lr}
        settings_ = bank.descent_race_settings(values, solver)
        _, final, steps = bank.descent_race_run(settings_)
        board.post_descent(room, nickname, settings_, final, steps)
        posted.append((nickname, final, steps))
    runs = board.descents(room)
    assert list(runs["nickname"]) == [p[0] for p in posted]
    assert runs["final_loss"].tolist() == [p[1] for p in posted]
    assert [None if pd.isna(v) else int(v) for v in runs["steps_to_valley"]] == [p[2] for p in posted]
    lowest = board.race_leaderboard(runs)
    assert lowest["nickname"].tolist() == sorted({p[0] for p in posted}, key=lambda n: min(p[1] for p in posted if p[0] == n))
    assert lowest["final_loss"].is_monotonic_increasing
    fastest = board.race_leaderboard(runs, "steps_to_valley")
    assert fastest["steps_to_valley"].notna().all()
    assert fastest["steps_to_valley"].astype(int).is_monotonic_increasing
    assert board.descents(room, race="regression").empty


@pytest.mark.parametrize(("loss", "steps", "code"), [
    (math.inf, 3, "loss_not_finite"), (math.nan, 3, "loss_not_finite"), ("1.0", 3, "loss_not_finite"),
    (1.0, -1, "steps_out_of_range"), (1.0, 2.5, "steps_out_of_range"), (1.0, True, "steps_out_of_range"),
    (1.0, board.STEPS_MAX + 1, "steps_out_of_range"),
])
def test_a_malformed_race_run_is_refused(class_board, room, loss, steps, code):
    refused(code, class_board.post_descent, room, "Mei", {"x0": 3.0}, loss, steps)
    assert class_board.descents(room).empty


@settings(max_examples=60, deadline=None)
@given(x0=st.floats(*descent.X_RANGE), lr=st.sampled_from(descent.LR_OPTIONS), steps=st.integers(1, descent.MAX_STEPS),
       solver=st.sampled_from(descent.SOLVERS))
def test_steps_to_the_valley_is_where_the_path_settles_for_good(x0, lr, steps, solver):
    """Over the page's whole slider ranges: from the reported step on, every x stays within SETTLED of one
    local minimum (checked against the minima scipy-free: f' changes sign from - to + there), and the
    step before does not; None exactly when the last point is not settled."""
    values = {name: s.default for name, s in descent.SETTINGS.items()} | {"x0": x0, "lr": lr, "steps": steps}
    path, final, settled = bank.descent_race_run(bank.descent_race_settings(values, solver))
    if path.attrs["diverged"]:
        assert final == math.inf and settled is None
        return
    xs = path["x"].to_numpy()
    assert final == pytest.approx(float(xs[-1] ** 2 * np.sin(xs[-1])))
    if settled is None:
        return
    minimum = xs[-1]
    # the minimum the path settles at: the nearest point where the slope turns from downhill to uphill
    grid = np.linspace(minimum - 0.5, minimum + 0.5, 200_001)
    slope = 2 * grid * np.sin(grid) + grid**2 * np.cos(grid)
    turns = grid[1:][(slope[:-1] < 0) & (slope[1:] >= 0)]
    floor = turns[np.abs(turns - minimum).argmin()]
    assert np.all(np.abs(xs[settled:] - floor) <= descent.SETTLED + 1e-5)
    if settled > 0:
        assert abs(xs[settled - 1] - floor) > descent.SETTLED - 1e-5


# ------------------------------------------------------------------- the bank and its answers


def test_the_bank_has_eight_questions_or_more_across_pages_1_to_5c():
    found = bank.questions()
    assert len(found) >= 8
    assert {q.page for q in found} >= {"descent", "noise", "regression", "classification", "mnist_network", "mnist_train"}
    assert len({q.id for q in found}) == len(found)
    for question in found:
        assert question.text["zh"] and question.text["en"] and len(question.choices) >= 2
        assert question.answer() in question.choices


def torch_final_loss(x0: float, lr: float, steps: int, solver: str) -> float:
    """The same run with torch.optim (the independent reference); +inf once |x| passes BLOW_UP."""
    import torch

    x = torch.tensor([x0], dtype=torch.float64, requires_grad=True)
    make = {"sgd": lambda p: torch.optim.SGD(p, lr=lr), "momentum": lambda p: torch.optim.SGD(p, lr=lr, momentum=0.9),
            "rmsprop": lambda p: torch.optim.RMSprop(p, lr=lr), "adam": lambda p: torch.optim.Adam(p, lr=lr)}
    optimizer = make[solver]([x])
    for _ in range(steps):
        optimizer.zero_grad()
        (x**2 * torch.sin(x)).sum().backward()
        optimizer.step()
        if not torch.isfinite(x).all() or abs(float(x.detach())) > descent.BLOW_UP:
            return math.inf
    return float((x**2 * torch.sin(x)).detach())


@pytest.mark.parametrize("question", [q for q in bank.questions() if q.page == "descent"], ids=lambda q: q.id)
def test_descent_answers_agree_with_torch_optim(question):
    v = question.values
    ends = {s: torch_final_loss(v["x0"], v["lr"], v["steps"], s) for s in descent.SOLVERS}
    if question.kind == "lowest_solver":
        assert question.answer() == min(v["solvers"], key=ends.get)
    else:
        assert question.answer() == ("yes" if math.isinf(ends[v["focus"]]) else "no")


def plain_descent_grows(points: np.ndarray, lr: float, iters: int, standardise: bool) -> bool:
    """The course's loop written out again in numpy: does the mean squared error ever grow?"""
    x, y = points[:, 0].astype(float), points[:, 1].astype(float)
    if standardise:
        x = (x - x.mean()) / x.std()
    b = w = 0.0
    before = np.mean((y - (w * x + b)) ** 2)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            r = y - (w * x + b)
            b, w = b + lr * 2 * r.mean(), w + lr * 2 * (x * r).mean()
            after = np.mean((y - (w * x + b)) ** 2)
            if not np.isfinite(after) or after > before * (1 + 1e-9) + 1e-12:
                return True
            before = after
    return False


@pytest.mark.parametrize("question", [q for q in bank.questions() if q.kind in ("regression_diverges", "noise_diverges")],
                         ids=lambda q: q.id)
def test_regression_answers_agree_with_a_plain_loop(question):
    from lessons import regression

    v = question.values
    if question.kind == "regression_diverges":
        points = regression.load_points(bank.EXAMPLE_CSV)
        grows = plain_descent_grows(points, v["lr"], v["iters"], v["normalise"])
    else:
        points = regression.make_noisy_line(v["w"], v["b"], n=v["n"], noise_mean=v["noise_mean"],
                                            noise_std=v["noise_std"], x_range=regression.NOISE_X_RANGE, seed=v["seed"])
        grows = plain_descent_grows(points, v["lr"], v["iters"], False)
    assert question.answer() == ("yes" if grows else "no")


def test_classification_answers_agree_with_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    from lessons import classification

    for question in [q for q in bank.questions() if q.kind == "beats_guessing"]:
        v = question.values
        k = classification.dataset_classes(v["data"], v["classes"])
        X, y = classification.make_dataset(v["data"], 200, n_classes=k, noise=v["noise"], seed=v["seed"])
        Xt, yt = classification.make_dataset(v["data"], 1000, n_classes=k, noise=v["noise"], seed=v["seed"] + 1000)
        reference = LogisticRegression().fit(X, y).score(Xt, yt)
        # a straight line on XOR: both stay near chance, on the same side of GUESSING
        assert question.answer() == ("yes" if reference >= classification.GUESSING else "no")
    surer = bank.by_id()["classification_surer"]
    assert surer.answer() == "cross_entropy"  # cross-entropy keeps pushing probabilities toward 1; MSE's pull fades


def test_network_answers_agree_with_linear_algebra():
    from lessons import network

    for question in [q for q in bank.questions() if q.kind == "stack_is_one_layer"]:
        layers = network.random_linear_layers(seed=question.values["seed"])
        x = np.random.default_rng(1).normal(size=(50, 784))
        h = x
        for i, (w, b) in enumerate(layers):
            h = h @ w.T + b
            if question.values["between"] == "relu" and i < len(layers) - 1:
                h = np.maximum(h, 0)
        (w1, b1), (w2, b2), (w3, b3) = layers
        one = x @ (w3 @ w2 @ w1).T + (w3 @ (w2 @ b1 + b2) + b3)
        same = np.allclose(h, one, atol=1e-6)
        assert question.answer() == ("yes" if same else "no")
    sizes = (784, 256, 64, 10)
    count = sum(a * b + b for a, b in itertools.pairwise(sizes))
    assert count == 218_058
    assert bank.by_id()["train_parameters"].answer() == "100k_to_500k"


def test_a_teachers_own_folder_adds_questions_without_code(tmp_path, monkeypatch):
    (tmp_path / "mine.toml").write_text(textwrap.dedent("""
        [my_adam_far]
        page = "descent"
        kind = "lowest_solver"
        zh = "從 x₀ = -6、學習率 0.05 走 40 步：哪個最低？"
        en = "From x₀ = -6 with lr 0.05 for 40 steps: which ends lowest?"
        [my_adam_far.setup]
        x0 = -6.0
        lr = 0.05
        solvers = ["sgd", "rmsprop", "adam"]
    """), encoding="utf-8")
    monkeypatch.setenv(bank.EXTRA_ENV, str(tmp_path))
    mine = bank.by_id()["my_adam_far"]
    assert mine.source == "mine.toml" and mine.choices == ("sgd", "rmsprop", "adam")
    assert mine.query == {"x0": "-6", "lr": "0.05", "solvers": "sgd,rmsprop,adam"}
    assert mine.answer() == min(mine.choices, key=lambda s: torch_final_loss(-6.0, 0.05, 40, s))
    assert len(bank.questions()) == len(bank.read_bank(bank.BANK)) + 1


@pytest.mark.parametrize(("body", "says"), [
    ('[q]\npage = "descent"\nkind = "guess"\nzh = "a"\nen = "a"\n', "kind must be one of"),
    ('[q]\npage = "noise"\nkind = "lowest_solver"\nzh = "a"\nen = "a"\n', "is about page descent"),
    ('[q]\npage = "descent"\nkind = "descent_diverges"\nen = "a"\n', "zh and en"),
    ('[q]\npage = "descent"\nkind = "descent_diverges"\nzh = "a"\nen = "a"\n[q.setup]\nx0 = 99.0\n', "outside the page's range"),
    ('[q]\npage = "descent"\nkind = "descent_diverges"\nzh = "a"\nen = "a"\n[q.setup]\nspeed = 1\n', "not descent's settings"),
    # sgd and rmsprop settle on the same valley floor: no one answer
    ('[q]\npage = "descent"\nkind = "lowest_solver"\nzh = "a"\nen = "a"\n[q.setup]\nx0 = 3.0\nlr = 0.05\n', "within"),
    ('[Q-1]\npage = "descent"\nkind = "descent_diverges"\nzh = "a"\nen = "a"\n', "an id is"),
    ('[descent_lowest_default]\npage = "descent"\nkind = "descent_diverges"\nzh = "a"\nen = "a"\n', "already in course.toml"),
    ("[q\n", "bad.toml"),
])
def test_a_bad_question_file_is_refused_naming_the_file(tmp_path, monkeypatch, body, says):
    (tmp_path / "bad.toml").write_text(body, encoding="utf-8")
    monkeypatch.setenv(bank.EXTRA_ENV, str(tmp_path))
    with pytest.raises(bank.BankError, match="bad.toml|course.toml") as caught:
        bank.questions()
    assert says in str(caught.value)


# ------------------------------------------------------------ two engines, two processes


def test_two_engines_on_one_database_see_each_other(db_url):
    """Worker A (the teacher's) and worker B (a student's) each with their own engine and pool."""
    with ClassBoard(db_url, teacher_code=TEACHER) as a, ClassBoard(db_url, teacher_code=TEACHER) as b:
        room = a.open_room(TEACHER)
        a.send(room, TEACHER, "descent", {"x0": "3"})
        assert b.sent(room)["version"] == 1
        a.freeze(room, TEACHER, True)
        assert b.frozen(room)
        a.open_question(room, TEACHER, QUESTION)
        b.vote(room, "Mei", QUESTION, "adam")
        assert a.votes(room, QUESTION)["adam"] == 1
        assert a.reveal(room, TEACHER, QUESTION) == b.lead_state(room)["answer"]
        b.post_descent(room, "Mei", {"x0": 3.0, "solver": "sgd"}, -24.08, 11)
        assert a.descents(room)["nickname"].tolist() == ["Mei"]
        a.freeze(room, TEACHER, False)
        assert not b.frozen(room)


STUDENT_SCRIPT = """
import json, sys, time
from classroom.classboard import ClassBoard
url, room, question = sys.argv[1:4]
with ClassBoard(url, teacher_code="") as b:
    deadline = time.monotonic() + 30
    while b.lead_state(room)["question"] != question and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = b.lead_state(room)
    b.vote(room, "Proc", question, "momentum")
    while not b.lead_state(room)["revealed"] and time.monotonic() < deadline:
        time.sleep(0.05)
    end = b.lead_state(room)
    print(json.dumps({"frozen": seen["frozen"], "sent": b.sent(room), "answer": end["answer"],
                      "votes": b.votes(room, question)}))
"""


def test_a_push_from_one_process_reaches_a_student_in_another(class_board, room, db_url):
    student = subprocess.Popen([sys.executable, "-c", STUDENT_SCRIPT, db_url, room, QUESTION], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    class_board.send(room, TEACHER, "descent", {"x0": "3", "lr": "0.2"})
    class_board.freeze(room, TEACHER, True)
    class_board.open_question(room, TEACHER, QUESTION)
    deadline = time.monotonic() + 30
    while sum(class_board.votes(room, QUESTION).values()) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    answer = class_board.reveal(room, TEACHER, QUESTION)
    out, err = student.communicate(timeout=60)
    assert student.returncode == 0, err
    seen = json.loads(out)
    assert seen["frozen"] is True
    assert seen["answer"] == answer
    assert seen["votes"]["momentum"] == 1
    assert seen["sent"]["page"] == "descent" and seen["sent"]["version"] == 2  # the send, then the reveal's


def test_migrating_an_older_board_keeps_its_runs(tmp_path):
    """A board made before leading the class existed (schema 1) gains the new tables, keeping its entries."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        board.version_table.create(conn)
        conn.execute(board.version_table.insert().values(version=1))
        board.MIGRATIONS[0](conn)
        conn.execute(board.rooms.insert().values(code="ABCDEF", created=time.time()))
    engine.dispose()
    with ClassBoard(url, teacher_code=TEACHER) as upgraded:
        assert upgraded.schema_version() == board.SCHEMA_VERSION == 2
        assert upgraded.room_exists("ABCDEF")
        assert upgraded.send("ABCDEF", TEACHER, "descent", {}) == 1


# --------------------------------------------------- the whole loop through the app's pages


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A fresh SQLite board with a teacher code, as the app opens it, and the tests' own handle on it."""
    from app import classboard, lead

    url = f"sqlite:///{tmp_path / 'class.sqlite3'}"
    monkeypatch.setenv("CLASS_DB_URL", url)
    monkeypatch.setenv("CLASS_TEACHER_CODE", TEACHER)
    with ClassBoard(url, teacher_code=TEACHER, min_interval=0) as check:
        yield check
    classboard.forget_reads()
    lead.forget()


def words(key: str, lang: str, **fields) -> str:
    from app.i18n import STRINGS

    return STRINGS[key][lang].format(**fields)


def fresh(at):
    """Past the shared cache's life: the next run reads the row again, as a poll a moment later would."""
    from app import lead

    lead.forget()
    return at


def teacher_screen(room: str, lang: str):
    from conftest import open_page

    at = open_page("pages/classboard.py", lang=lang, query={"room": room})
    at.text_input(key="classboard.__passcode").input(TEACHER)
    next(b for b in at.button if b.label == words("classboard.unlock", lang)).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at, label: str, sidebar: bool = False):
    found = [b for b in (at.sidebar.button if sidebar else at.button) if b.label == label]
    assert found, f"no button {label!r} among {[b.label for b in at.button]}"
    return found[0]


def cookie_script(at) -> str:
    """The script of the session's last run that sets the browser's cookies."""
    return [h.proto.body for h in at.get("html") if "document.cookie" in h.proto.body][-1]


def frozen_css(at) -> bool:
    """The pointer blocked and the keyboard too: the script that makes the main area inert, set to freeze."""
    bodies = [str(getattr(el.proto, "body", "")) for el in at.get("html")]
    pointer = any("pointer-events: none" in body for body in bodies)
    keyboard = any("const frozen = true;" in body and "inert = true" in body for body in bodies)
    assert pointer == keyboard, "the pointer and the keyboard are frozen together"
    return pointer


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_send_open_follow_and_freeze_through_a_reload(app_db, lang):
    from conftest import open_page

    room = app_db.open_room(TEACHER)
    teacher = teacher_screen(room, lang)
    teacher.query_params.update({"x0": "-4", "lr": "0.2"})
    teacher.switch_page("pages/descent.py").run()
    button(teacher, words("lead.send", lang), sidebar=True).click().run()
    assert not teacher.exception
    assert app_db.sent(room) == {"page": "descent", "query": {"x0": "-4", "lr": "0.2"}, "version": 1}

    student = open_page("pages/noise.py", lang=lang, query={"room": room, "nick": "Mei"})
    where = words("lead.list_sep", lang).join([words("page.descent.title", lang), "x₀ = -4",
                                                words("lead.param.lr", lang, v="0.2")])
    assert words("lead.sent", lang, where=where) in [i.value for i in student.info]
    button(student, words("lead.open", lang)).click().run()  # the one button opens it
    assert not student.exception, [e.value for e in student.exception]
    assert student.session_state["descent.x0"] == -4.0 and student.session_state["descent.lr"] == 0.2
    assert [t.value for t in student.title] == [words("page.descent.title", lang)]

    follower = open_page("pages/noise.py", lang=lang, query={"room": room, "nick": "Bo"})
    follower.checkbox(key="lead.__follow").check().run()
    app_db.send(room, TEACHER, "regression", {"lr": "1", "normalise": "1"})
    fresh(follower).run()
    assert not follower.exception, [e.value for e in follower.exception]
    assert [t.value for t in follower.title] == [words("page.regression.title", lang)]
    assert follower.session_state["regression.lr"] == 1.0 and follower.session_state["regression.normalise"] is True
    assert follower.query_params["follow"] == "1"  # in the URL and its cookie: a reload keeps following
    assert '["dl_follow", "1", ' in cookie_script(follower)
    again = open_page("pages/noise.py", lang=lang, query={"room": room, "nick": "Bo", "follow": "1"})  # the reload
    assert again.checkbox(key="lead.__follow").value
    app_db.send(room, TEACHER, "descent", {"x0": "2"})
    fresh(again).run()
    assert [t.value for t in again.title] == [words("page.descent.title", lang)] and again.session_state["descent.x0"] == 2.0
    again.checkbox(key="lead.__follow").uncheck().run()  # stops following: out of the URL too
    assert "follow" not in again.query_params and not again.checkbox(key="lead.__follow").value
    assert '["dl_follow", null, 0]' in cookie_script(again)

    button(teacher, words("lead.freeze", lang), sidebar=True).click().run()
    assert app_db.frozen(room)
    fresh(student).run()
    assert words("lead.frozen", lang) in [w.value for w in student.warning] and frozen_css(student)
    reloaded = open_page("pages/descent.py", lang=lang, query={"room": room, "nick": "Mei"})  # a reload: a new session
    assert words("lead.frozen", lang) in [w.value for w in reloaded.warning] and frozen_css(reloaded)
    fresh(teacher).run()
    assert not frozen_css(teacher) and words("lead.frozen", lang) not in [w.value for w in teacher.warning]
    button(teacher, words("lead.unfreeze", lang), sidebar=True).click().run()
    fresh(reloaded).run()
    assert not frozen_css(reloaded) and words("lead.frozen", lang) not in [w.value for w in reloaded.warning]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_predict_then_reveal_with_the_projector_showing_only_the_count(app_db, lang):
    from conftest import open_page

    room = app_db.open_room(TEACHER)
    teacher = teacher_screen(room, lang)
    teacher.selectbox(key="lead.question").select(QUESTION)
    button(teacher, words("lead.ask", lang)).click().run()
    assert app_db.lead_state(room)["question"] == QUESTION
    question = bank.by_id()[QUESTION]

    students = [open_page("pages/descent.py", lang=lang, query={"room": room, "nick": name}) for name in ("Mei", "Bo")]
    solver = {s: words(f"descent.solver.{s}", lang) for s in descent.SOLVERS}
    for student, choice in zip(students, ("adam", "sgd"), strict=True):
        assert any(question.text[lang] in m.value for m in student.markdown)
        button(student, solver[choice]).click().run()
        assert not student.exception, [e.value for e in student.exception]
    time.sleep(board.MIN_INTERVAL)  # one entry a second per student, votes too
    button(students[0], solver["sgd"]).click().run()  # Mei changes her mind
    assert app_db.votes(room, QUESTION) == {"sgd": 2, "momentum": 0, "rmsprop": 0, "adam": 0}

    projector = open_page("pages/classboard.py", lang=lang, query={"room": room, "view": "projector"})
    assert [h.value for h in projector.header] == ["🗳️ " + question.text[lang]]
    assert [m.value for m in projector.metric if m.label == words("lead.votes_so_far", lang)] == ["2"]
    assert not projector.get("progress")  # the count, never the split, before the reveal

    fresh(teacher).run()
    button(teacher, words("lead.reveal", lang)).click().run()
    assert not teacher.exception, [e.value for e in teacher.exception]
    answer = question.answer()
    for screen in (fresh(projector), fresh(students[1])):
        screen.run()
        assert not screen.exception, [e.value for e in screen.exception]
        shown = [h.value for h in (*screen.header, *screen.subheader)]
        assert words("lead.answer", lang, choice=solver[answer]) in shown
        split = {p.proto.text: p.value for p in screen.get("progress")}
        assert split[words("lead.split_row", lang, choice=solver["sgd"] + (" ✅" if answer == "sgd" else ""),
                           count=2)] == 100
    assert app_db.sent(room)["page"] == "descent"  # the reveal sent the setup to every screen


@pytest.mark.slow
def test_sixty_paths_on_the_projector_in_one_chart(app_db):
    import pyarrow as pa
    from conftest import assert_valid_vega_lite, open_page

    room = app_db.open_room(TEACHER)
    rng = np.random.default_rng(0)
    for i in range(60):
        values = {name: s.default for name, s in descent.SETTINGS.items()}
        values |= {"x0": float(rng.uniform(-9, 9)), "lr": float(rng.choice([0.005, 0.01, 0.02])),
                   "steps": int(rng.integers(20, 300))}
        settings_ = bank.descent_race_settings(values, descent.SOLVERS[i % 4])
        _, final, steps = bank.descent_race_run(settings_)
        if math.isfinite(final):
            app_db.post_descent(room, f"s{i:02d}", settings_, final, steps)
    posted = app_db.descents(room)
    projector = open_page("pages/classboard.py", lang="en", query={"room": room, "view": "projector"})
    assert not projector.exception, [e.value for e in projector.exception]
    (chart,) = projector.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    assert_valid_vega_lite(spec)
    data = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets}
    assert data["paths"]["id"].nunique() == len(posted) >= 55
    paths = spec["layer"][1]["encoding"]
    assert paths["color"]["field"] == paths["strokeDash"]["field"] == "solver"  # the dash: a second cue
    lowest = board.race_leaderboard(posted)
    table = projector.table[0].value
    assert list(table["Nickname"])[:5] == list(lowest["nickname"])[:5]
    assert lowest["final_loss"].is_monotonic_increasing
